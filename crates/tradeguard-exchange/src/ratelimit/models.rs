//! The three counter shapes exchanges use: a fixed window (Binance weight per minute), a
//! decaying counter (Kraken), and a token bucket (Coinbase). Pure: time is passed in.

use std::time::Duration;

use crate::model::UnixMillis;

/// Whole milliseconds, rounded up (the clocks count milliseconds).
fn ms(d: f64) -> Duration {
    Duration::from_millis(d.max(0.0).ceil() as u64)
}

/// A counter that resets at each multiple of `interval` (Binance's `REQUEST_WEIGHT` per
/// `1M`, `ORDERS` per `10S`/`1D`). Synchronised from the server's own count when known.
#[derive(Clone, Debug)]
pub struct FixedWindow {
    interval_ms: i64,
    limit: u32,
    used: u32,
    window_start: i64,
}

impl FixedWindow {
    /// A window of `limit` units per `interval`.
    pub fn new(limit: u32, interval: Duration) -> Self {
        Self {
            interval_ms: i64::try_from(interval.as_millis())
                .unwrap_or(i64::MAX)
                .max(1),
            limit,
            used: 0,
            window_start: 0,
        }
    }

    fn roll(&mut self, now: UnixMillis) {
        let start = now.0 - now.0.rem_euclid(self.interval_ms);
        if start != self.window_start {
            self.window_start = start;
            self.used = 0;
        }
    }

    /// Checks whether `cost` fits within `limit * fraction` now, without taking it; else the
    /// wait until the window resets. A single call heavier than the capped budget still fits
    /// an empty window.
    pub fn check(&mut self, now: UnixMillis, cost: u32, fraction: f64) -> Result<(), Duration> {
        self.roll(now);
        let cap = (f64::from(self.limit) * fraction).floor() as u32;
        let fits = self.used.saturating_add(cost) <= cap;
        if fits || (self.used == 0 && cost <= self.limit) {
            return Ok(());
        }
        Err(Duration::from_millis(
            u64::try_from(self.window_start + self.interval_ms - now.0)
                .unwrap_or(0)
                .max(1),
        ))
    }

    /// Counts `cost` in the current window (after a successful [`Self::check`]).
    pub fn add(&mut self, cost: u32) {
        self.used = self.used.saturating_add(cost);
    }

    /// [`Self::check`] then [`Self::add`].
    pub fn try_take(&mut self, now: UnixMillis, cost: u32, fraction: f64) -> Result<(), Duration> {
        self.check(now, cost, fraction)?;
        self.add(cost);
        Ok(())
    }

    /// The server reported `used` units in the current window: never count less than that.
    pub fn sync(&mut self, now: UnixMillis, used: u32) {
        self.roll(now);
        self.used = self.used.max(used);
    }

    /// Units used in the current window.
    pub fn used(&mut self, now: UnixMillis) -> u32 {
        self.roll(now);
        self.used
    }

    /// The published limit.
    pub fn limit(&self) -> u32 {
        self.limit
    }
}

/// A counter that grows by each call's cost and decays linearly (Kraken's REST counter and
/// its per-pair trading counter).
#[derive(Clone, Debug)]
pub struct DecayingCounter {
    max: f64,
    decay_per_sec: f64,
    value: f64,
    last: i64,
}

impl DecayingCounter {
    /// A counter that may reach `max` and loses `decay_per_sec` each second.
    pub fn new(max: f64, decay_per_sec: f64) -> Self {
        Self {
            max,
            decay_per_sec: decay_per_sec.max(1e-6),
            value: 0.0,
            last: i64::MIN,
        }
    }

    fn decay(&mut self, now: UnixMillis) {
        if self.last != i64::MIN && now.0 > self.last {
            let secs = (now.0 - self.last) as f64 / 1000.0;
            self.value = (self.value - secs * self.decay_per_sec).max(0.0);
        }
        if self.last == i64::MIN || now.0 > self.last {
            self.last = now.0;
        }
    }

    /// Adds `cost` if the counter stays within `max * fraction`; else the wait until it would.
    pub fn try_take(&mut self, now: UnixMillis, cost: f64, fraction: f64) -> Result<(), Duration> {
        self.decay(now);
        let cap = self.max * fraction;
        if self.value + cost <= cap {
            self.value += cost;
            return Ok(());
        }
        let excess = self.value + cost - cap;
        Err(ms(excess / self.decay_per_sec * 1000.0).max(Duration::from_millis(1)))
    }

    /// Adds `cost` unconditionally (a penalty the exchange charged anyway).
    pub fn charge(&mut self, now: UnixMillis, cost: f64) {
        self.decay(now);
        self.value += cost;
    }

    /// The current value.
    pub fn value(&mut self, now: UnixMillis) -> f64 {
        self.decay(now);
        self.value
    }
}

/// A lazily refilled token bucket (Coinbase: `rate` requests per second, bursts to `burst`).
#[derive(Clone, Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: i64,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate_per_sec: f64, burst: f64) -> Self {
        Self {
            rate: rate_per_sec.max(1e-6),
            burst,
            tokens: burst,
            last: i64::MIN,
        }
    }

    fn refill(&mut self, now: UnixMillis, fraction: f64) {
        if self.last != i64::MIN && now.0 > self.last {
            let secs = (now.0 - self.last) as f64 / 1000.0;
            self.tokens += secs * self.rate * fraction;
        }
        self.tokens = self.tokens.min(self.burst * fraction);
        if self.last == i64::MIN || now.0 > self.last {
            self.last = now.0;
        }
    }

    /// Takes `cost` tokens, refilling at `rate * fraction`; else the wait until enough refill.
    pub fn try_take(&mut self, now: UnixMillis, cost: f64, fraction: f64) -> Result<(), Duration> {
        self.refill(now, fraction);
        if self.tokens >= cost {
            self.tokens -= cost;
            return Ok(());
        }
        let missing = cost - self.tokens;
        Err(ms(missing / (self.rate * fraction) * 1000.0).max(Duration::from_millis(1)))
    }

    /// Gives back `cost` tokens taken by a request that was not sent after all.
    pub fn refund(&mut self, cost: f64) {
        self.tokens = (self.tokens + cost).min(self.burst);
    }

    /// Empties the bucket (the server said nothing is left).
    pub fn drain(&mut self, now: UnixMillis) {
        self.refill(now, 1.0);
        self.tokens = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window_caps_and_resets_on_the_boundary() {
        let mut w = FixedWindow::new(100, Duration::from_secs(60));
        let t = UnixMillis(60_000 * 10 + 5_000);
        assert!(w.try_take(t, 90, 0.95).is_ok());
        assert_eq!(w.try_take(t, 10, 0.95), Err(Duration::from_millis(55_000)));
        assert!(w.try_take(UnixMillis(60_000 * 11), 10, 0.95).is_ok());
    }

    #[test]
    fn fixed_window_sync_never_lowers() {
        let mut w = FixedWindow::new(6_000, Duration::from_secs(60));
        let t = UnixMillis(0);
        w.try_take(t, 20, 1.0).unwrap();
        w.sync(t, 5_000);
        assert_eq!(w.used(t), 5_000);
        w.sync(t, 10);
        assert_eq!(w.used(t), 5_000);
    }

    #[test]
    fn decaying_counter_waits_for_decay() {
        let mut c = DecayingCounter::new(15.0, 0.33);
        let t = UnixMillis(0);
        for _ in 0..15 {
            c.try_take(t, 1.0, 1.0).unwrap();
        }
        let wait = c.try_take(t, 2.0, 1.0).unwrap_err();
        let expected = 2.0 / 0.33;
        assert!((wait.as_secs_f64() - expected).abs() < 0.01, "{wait:?}");
        assert!(c.try_take(t.plus(wait), 2.0, 1.0).is_ok());
    }

    #[test]
    fn token_bucket_bursts_then_paces() {
        let mut b = TokenBucket::new(15.0, 30.0);
        let t = UnixMillis(0);
        for i in 0..30 {
            assert!(b.try_take(t, 1.0, 1.0).is_ok(), "burst {i}");
        }
        let wait = b.try_take(t, 1.0, 1.0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(67), "1/15 s rounded up");
    }
}
