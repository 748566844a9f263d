//! Rate-limit primitives shared by the venues' `limits.rs`: a lazily refilled token bucket
//! (Coinbase) and a decaying counter (Kraken). Time is passed in, in ms. [`RateStats`] counts
//! what a venue's limiter decided, so tests can measure a client's pacing on the server side.

use std::collections::BTreeMap;

use serde::Serialize;

/// What one venue's rate limiter decided since the simulator started. Injected faults (a
/// drawn 429 or 418) are not counted here; see [`crate::FaultStats`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RateStats {
    /// Requests the limiter let through.
    pub admitted: u64,
    /// Requests refused with the venue's "too many requests" answer (HTTP 429 or the venue's
    /// own error, e.g. Kraken's `EAPI:Rate limit exceeded`).
    pub limited: u64,
    /// Requests refused because the IP is banned (Binance HTTP 418).
    pub banned: u64,
    /// Binance: the highest `REQUEST_WEIGHT` any IP had used in each minute (key: minutes
    /// since the Unix epoch), as reported in `X-MBX-USED-WEIGHT-1M`.
    pub weight_per_minute: BTreeMap<u64, u32>,
}

impl RateStats {
    /// Records a request let through.
    pub(crate) fn admit(&mut self) {
        self.admitted += 1;
    }

    /// Records a "too many requests" refusal.
    pub(crate) fn limit(&mut self) {
        self.limited += 1;
    }

    /// Records a ban answer.
    pub(crate) fn ban(&mut self) {
        self.banned += 1;
    }

    /// Records the weight an IP has used in the minute of `now_ms`.
    pub(crate) fn weight(&mut self, now_ms: u64, used: u32) {
        let w = self.weight_per_minute.entry(now_ms / 60_000).or_default();
        *w = (*w).max(used);
    }
}

/// A token bucket refilled continuously at `rate` tokens per second up to `burst`.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last_ms: u64,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate_per_s: f64, burst: f64, now_ms: u64) -> Self {
        Self {
            rate: rate_per_s,
            burst,
            tokens: burst,
            last_ms: now_ms,
        }
    }

    /// Takes one token, or returns how many ms until one is available.
    pub fn take(&mut self, now_ms: u64) -> Result<(), u64> {
        self.refill(now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let wait = ((1.0 - self.tokens) / self.rate.max(f64::MIN_POSITIVE) * 1000.0).ceil();
        Err(wait as u64)
    }

    /// Tokens left (after refilling to `now_ms`), rounded down.
    pub fn remaining(&mut self, now_ms: u64) -> u64 {
        self.refill(now_ms);
        self.tokens.floor() as u64
    }

    fn refill(&mut self, now_ms: u64) {
        let dt = now_ms.saturating_sub(self.last_ms) as f64 / 1000.0;
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        self.last_ms = self.last_ms.max(now_ms);
    }
}

/// A counter that decays by `decay` per second and refuses additions past `max`.
#[derive(Clone, Debug)]
pub struct DecayCounter {
    max: f64,
    decay: f64,
    value: f64,
    last_ms: u64,
}

impl DecayCounter {
    /// A counter at zero.
    pub fn new(max: f64, decay_per_s: f64, now_ms: u64) -> Self {
        Self {
            max,
            decay: decay_per_s,
            value: 0.0,
            last_ms: now_ms,
        }
    }

    /// Adds `cost` unless that would pass the maximum; on refusal returns the ms to wait.
    pub fn add(&mut self, cost: f64, now_ms: u64) -> Result<(), u64> {
        self.decay_to(now_ms);
        if self.value + cost > self.max {
            let excess = self.value + cost - self.max;
            return Err((excess / self.decay.max(f64::MIN_POSITIVE) * 1000.0).ceil() as u64);
        }
        self.value += cost;
        Ok(())
    }

    /// The counter's value now.
    pub fn value(&mut self, now_ms: u64) -> f64 {
        self.decay_to(now_ms);
        self.value
    }

    fn decay_to(&mut self, now_ms: u64) {
        let dt = now_ms.saturating_sub(self.last_ms) as f64 / 1000.0;
        self.value = (self.value - dt * self.decay).max(0.0);
        self.last_ms = self.last_ms.max(now_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refills() {
        let mut b = TokenBucket::new(10.0, 3.0, 0);
        assert!((0..3).all(|_| b.take(0).is_ok()));
        assert_eq!(b.take(0), Err(100));
        assert!(b.take(100).is_ok());
    }

    #[test]
    fn counter_decays() {
        let mut c = DecayCounter::new(15.0, 0.33, 0);
        assert!((0..15).all(|_| c.add(1.0, 0).is_ok()));
        assert!(c.add(1.0, 0).is_err());
        assert!(c.add(1.0, 3_100).is_ok(), "3.1 s x 0.33/s > 1");
    }
}
