//! Coinbase Advanced Trade rate limits: private endpoints, requests per second per key, as a
//! token bucket; the `x-ratelimit-remaining` / `x-ratelimit-reset` headers, when sent,
//! empty the bucket early.
//!
//! The official figure is not in the stored sources; secondary sources give 30 requests per
//! second for private endpoints (exchanges.md section 3.4, "unverified"). See:
//! <https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/rate-limits>.

use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::model::{ExchangeId, UnixMillis};
use crate::ratelimit::models::TokenBucket;
use crate::ratelimit::{Denied, Gate, Limits};

/// Private requests per second (unverified; see the module docs).
pub const PRIVATE_PER_SEC: f64 = 30.0;

#[derive(Debug)]
struct Inner {
    private: TokenBucket,
    gate: Gate,
}

/// Coinbase Advanced Trade limits for one key.
#[derive(Debug)]
pub struct CoinbaseLimits {
    headroom: f64,
    inner: Mutex<Inner>,
}

impl CoinbaseLimits {
    /// The published rate, used up to `headroom`.
    pub fn new(headroom: f64) -> Self {
        Self {
            headroom,
            inner: Mutex::new(Inner {
                private: TokenBucket::new(PRIVATE_PER_SEC, PRIVATE_PER_SEC),
                gate: Gate::default(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reads `x-ratelimit-reset`: an epoch time in seconds, or seconds from now when small.
fn reset_after(now: UnixMillis, headers: &HeaderMap) -> Option<Duration> {
    let v: f64 = headers
        .get("x-ratelimit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    let secs = if v > 1e9 {
        v - now.0 as f64 / 1000.0
    } else {
        v
    };
    Some(Duration::from_secs_f64(secs.clamp(0.0, 60.0)))
}

impl Limits for CoinbaseLimits {
    type Cost = u32;

    fn exchange(&self) -> ExchangeId {
        ExchangeId::Coinbase
    }

    fn try_acquire(&self, now: UnixMillis, cost: &u32) -> Result<(), Denied> {
        let mut g = self.lock();
        let fraction = g.gate.check(now)? * self.headroom;
        if *cost == 0 {
            return Ok(());
        }
        g.private
            .try_take(now, f64::from(*cost), fraction)
            .map_err(Denied::Wait)
    }

    fn observe(&self, now: UnixMillis, _cost: &u32, _status: u16, headers: &HeaderMap) {
        let remaining = headers
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok());
        if remaining.is_some_and(|r| r <= 0.0) {
            let mut g = self.lock();
            g.private.drain(now);
            if let Some(d) = reset_after(now, headers) {
                g.gate.throttled(now, Some(d));
            }
        }
    }

    fn throttled(&self, now: UnixMillis, retry_after: Option<Duration>) {
        self.lock().gate.throttled(now, retry_after);
    }

    fn banned(&self, now: UnixMillis, until: UnixMillis) {
        self.lock().gate.banned(now, until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_zero_pauses_until_reset() {
        let l = CoinbaseLimits::new(1.0);
        let t = UnixMillis(1_795_386_067_000);
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        h.insert("x-ratelimit-reset", "1795386069".parse().unwrap());
        l.observe(t, &1, 200, &h);
        assert_eq!(
            l.try_acquire(t, &1),
            Err(Denied::Wait(Duration::from_secs(2)))
        );
    }

    #[test]
    fn bucket_allows_a_second_of_burst() {
        let l = CoinbaseLimits::new(0.95);
        let t = UnixMillis(0);
        let n = (0..100)
            .take_while(|_| l.try_acquire(t, &1).is_ok())
            .count();
        assert_eq!(n, 28, "30 * 0.95 = 28.5");
    }
}
