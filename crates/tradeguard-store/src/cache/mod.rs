//! Shared caches: the replay (nonce) cache, per-key rate limits and the event bus that carries
//! the halt broadcast. Each has an in-memory backend (one process) and a Redis backend (all
//! replicas share it). The gateway holds them as `Arc<dyn ...>` and picks the backend from
//! its configuration.
//!
//! ```
//! # async fn demo() -> Result<(), tradeguard_store::StoreError> {
//! use std::time::Duration;
//! use tradeguard_store::cache::{MemoryRateLimiter, MemoryReplayCache, Quota, RateLimiter, ReplayCache};
//!
//! let replay = MemoryReplayCache::new(1_000_000);
//! assert!(replay.check_and_insert("keyid:nonce-1", Duration::from_secs(300)).await?);
//! assert!(!replay.check_and_insert("keyid:nonce-1", Duration::from_secs(300)).await?); // replay
//!
//! let limits = MemoryRateLimiter::new(100_000);
//! let decision = limits.acquire("binance:ip", &Quota::per_second(10)?, 1).await?;
//! assert!(decision.is_allowed());
//! # Ok(()) }
//! ```

mod bus;
mod gcra;
mod memory;
mod redis;

use std::time::Duration;

use async_trait::async_trait;

use crate::{Result, StoreError};

pub use bus::{BusEvent, EventBus, MemoryEventBus, Subscription};
pub use gcra::{Quota, RateDecision};
pub use memory::{MemoryRateLimiter, MemoryReplayCache};
pub use redis::{RedisCaches, RedisEventBus, RedisRateLimiter, RedisReplayCache};

/// Longest key accepted by the caches, in bytes (hash long client values before using them).
pub const MAX_KEY_LEN: usize = 512;

/// Remembers keys (request nonces) for a while, so a replayed request is recognised.
#[async_trait]
pub trait ReplayCache: Send + Sync {
    /// Atomically records `key` for `ttl`. `Ok(true)`: first sighting, accept the request.
    /// `Ok(false)`: seen within its ttl, reject it as a replay. On error, reject the request
    /// (fail closed): without the cache, a replay cannot be ruled out.
    async fn check_and_insert(&self, key: &str, ttl: Duration) -> Result<bool>;
}

/// Per-key rate limits (GCRA), e.g. one budget per exchange account shared by all bots.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Spends `cost` units (1..=burst) of `key`'s `quota` if available. A refused request
    /// spends nothing. Use the same quota for a key everywhere.
    async fn acquire(&self, key: &str, quota: &Quota, cost: u32) -> Result<RateDecision>;
}

/// Checks a cache key: 1 to [`MAX_KEY_LEN`] bytes.
pub(crate) fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        Err(StoreError::InvalidInput {
            what: "cache key",
            rule: "must be 1 to 512 bytes",
        })
    } else {
        Ok(())
    }
}

/// Checks a replay ttl: at least 1 ms (the Redis resolution), at most a day.
pub(crate) fn check_ttl(ttl: Duration) -> Result<()> {
    if ttl < Duration::from_millis(1) || ttl > Duration::from_secs(86_400) {
        Err(StoreError::InvalidInput {
            what: "replay ttl",
            rule: "must be between 1 ms and 24 h",
        })
    } else {
        Ok(())
    }
}
