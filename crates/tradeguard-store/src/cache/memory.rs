//! In-memory backends for one process. Time is `tokio::time::Instant`, so tests can pause and
//! advance the clock (`tokio::time::pause`).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::gcra::{self, Quota, RateDecision};
use super::{RateLimiter, ReplayCache, check_key, check_ttl};
use crate::{Result, StoreError};

/// Keys with an expiry and a value, bounded: when full of live entries it refuses new keys.
struct ExpiringMap<V> {
    entries: HashMap<String, (Instant, V)>,
    capacity: usize,
    /// Size at which the next sweep of expired entries runs (amortised O(1) per insert).
    sweep_at: usize,
}

impl<V> ExpiringMap<V> {
    fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            capacity: capacity.max(1),
            sweep_at: 1024.min(capacity.max(1)),
        }
    }

    /// The live value of `key`, if any.
    fn live(&self, key: &str, now: Instant) -> Option<&V> {
        self.entries
            .get(key)
            .and_then(|(exp, v)| (*exp > now).then_some(v))
    }

    /// Inserts or replaces `key`; fails when a new key would exceed the capacity.
    fn put(&mut self, key: &str, expiry: Instant, value: V, now: Instant) -> Result<(), usize> {
        if let Some(slot) = self.entries.get_mut(key) {
            *slot = (expiry, value);
            return Ok(());
        }
        if self.entries.len() >= self.sweep_at {
            self.entries.retain(|_, (exp, _)| *exp > now);
            self.sweep_at = (self.entries.len() * 2).clamp(1024.min(self.capacity), self.capacity);
        }
        if self.entries.len() >= self.capacity {
            return Err(self.capacity);
        }
        self.entries.insert(key.to_owned(), (expiry, value));
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the map half-updated (single inserts).
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Replay cache in process memory, bounded to `capacity` live keys.
pub struct MemoryReplayCache {
    map: Mutex<ExpiringMap<()>>,
}

impl MemoryReplayCache {
    /// A cache holding at most `capacity` live keys; beyond that
    /// [`StoreError::CacheFull`] (never eviction: an evicted nonce could be replayed).
    pub fn new(capacity: usize) -> Self {
        Self {
            map: Mutex::new(ExpiringMap::new(capacity)),
        }
    }
}

#[async_trait]
impl ReplayCache for MemoryReplayCache {
    async fn check_and_insert(&self, key: &str, ttl: Duration) -> Result<bool> {
        check_key(key)?;
        check_ttl(ttl)?;
        let now = Instant::now();
        let mut map = lock(&self.map);
        if map.live(key, now).is_some() {
            return Ok(false);
        }
        map.put(key, now + ttl, (), now)
            .map_err(|capacity| StoreError::CacheFull {
                cache: "replay cache",
                capacity,
            })?;
        Ok(true)
    }
}

/// GCRA rate limiter in process memory, bounded to `capacity` active keys.
pub struct MemoryRateLimiter {
    epoch: Instant,
    map: Mutex<ExpiringMap<u64>>,
}

impl MemoryRateLimiter {
    /// A limiter tracking at most `capacity` keys that are not back to a full burst; beyond
    /// that, requests on new keys fail with [`StoreError::CacheFull`] (refuse, don't guess).
    pub fn new(capacity: usize) -> Self {
        Self {
            epoch: Instant::now(),
            map: Mutex::new(ExpiringMap::new(capacity)),
        }
    }

    fn micros_since_epoch(&self, now: Instant) -> u64 {
        u64::try_from(now.duration_since(self.epoch).as_micros()).unwrap_or(u64::MAX)
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn acquire(&self, key: &str, quota: &Quota, cost: u32) -> Result<RateDecision> {
        check_key(key)?;
        quota.check_cost(cost)?;
        let now = Instant::now();
        let now_us = self.micros_since_epoch(now);
        let mut map = lock(&self.map);
        let tat = map.live(key, now).copied();
        let (decision, new_tat) = gcra::decide(tat, now_us, quota, cost);
        if let Some(new_tat) = new_tat {
            // The state matters only until the key is back to a full burst (TAT <= now).
            let expiry = now + Duration::from_micros(new_tat.saturating_sub(now_us));
            map.put(key, expiry, new_tat, now)
                .map_err(|capacity| StoreError::CacheFull {
                    cache: "rate limiter",
                    capacity,
                })?;
        }
        Ok(decision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(10);

    #[tokio::test(start_paused = true)]
    async fn replay_key_expires_after_ttl() {
        let cache = MemoryReplayCache::new(10);
        assert!(cache.check_and_insert("n1", TTL).await.unwrap());
        assert!(!cache.check_and_insert("n1", TTL).await.unwrap());
        tokio::time::advance(TTL - Duration::from_millis(1)).await;
        assert!(!cache.check_and_insert("n1", TTL).await.unwrap());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(cache.check_and_insert("n1", TTL).await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn fail_full_replay_cache_refuses_rather_than_evicts() {
        let cache = MemoryReplayCache::new(2);
        assert!(cache.check_and_insert("a", TTL).await.unwrap());
        assert!(cache.check_and_insert("b", TTL).await.unwrap());
        let err = cache.check_and_insert("c", TTL).await.unwrap_err();
        assert!(
            matches!(err, StoreError::CacheFull { capacity: 2, .. }),
            "{err}"
        );
        assert!(err.is_transient());
        // "a" is still remembered: a replay of it is still caught.
        assert!(!cache.check_and_insert("a", TTL).await.unwrap());
        tokio::time::advance(TTL).await;
        assert!(
            cache.check_and_insert("c", TTL).await.unwrap(),
            "expired entries swept"
        );
    }

    #[tokio::test]
    async fn fail_bad_keys_and_ttls() {
        let cache = MemoryReplayCache::new(10);
        let long = "k".repeat(513);
        let cases = [
            ("", TTL),
            (long.as_str(), TTL),
            ("k", Duration::ZERO),
            ("k", Duration::from_secs(86_401)),
        ];
        for (i, (key, ttl)) in cases.into_iter().enumerate() {
            let err = cache.check_and_insert(key, ttl).await.unwrap_err();
            assert!(
                matches!(err, StoreError::InvalidInput { .. }),
                "TC{} failed: {err}",
                i + 1
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limiter_bursts_then_refills_per_key() {
        let limiter = MemoryRateLimiter::new(10);
        let quota = Quota::new(2, Duration::from_secs(1), 2).unwrap();
        assert!(limiter.acquire("a", &quota, 1).await.unwrap().is_allowed());
        assert!(limiter.acquire("a", &quota, 1).await.unwrap().is_allowed());
        let limited = limiter.acquire("a", &quota, 1).await.unwrap();
        assert_eq!(
            limited,
            RateDecision::Limited {
                retry_after: Duration::from_millis(500)
            }
        );
        assert!(
            limiter.acquire("b", &quota, 2).await.unwrap().is_allowed(),
            "keys independent"
        );
        tokio::time::advance(Duration::from_millis(500)).await;
        assert!(limiter.acquire("a", &quota, 1).await.unwrap().is_allowed());
    }
}
