//! Kraken limits: a decaying REST call counter per API key, and the trading-engine counter per
//! key and pair whose cancel cost depends on how long the order rested.
//!
//! See: https://docs.kraken.com/api/docs/guides/spot-rest-ratelimits and
//! https://docs.kraken.com/api/docs/guides/spot-ratelimits/ ; exchanges.md §2.5.

use std::collections::HashMap;

use crate::ratelimit::DecayCounter;

/// Kraken's limits for one verification tier.
#[derive(Clone, Debug, PartialEq)]
pub struct KrakenLimits {
    /// Maximum of the REST call counter (Starter 15, Intermediate 20, Pro 20).
    pub max_counter: f64,
    /// Decay of the REST counter per second (Starter 0.33, Intermediate 0.5, Pro 1).
    pub decay_per_s: f64,
    /// Threshold of the trading counter per pair (Starter 60, Intermediate 125, Pro 180).
    pub trading_max: f64,
    /// Decay of the trading counter per second (Starter 1, Intermediate 2.34, Pro 3.75).
    pub trading_decay_per_s: f64,
}

impl KrakenLimits {
    /// The Starter tier.
    pub fn starter() -> Self {
        Self {
            max_counter: 15.0,
            decay_per_s: 0.33,
            trading_max: 60.0,
            trading_decay_per_s: 1.0,
        }
    }
    /// The Intermediate tier.
    pub fn intermediate() -> Self {
        Self {
            max_counter: 20.0,
            decay_per_s: 0.5,
            trading_max: 125.0,
            trading_decay_per_s: 2.34,
        }
    }
    /// The Pro tier.
    pub fn pro() -> Self {
        Self {
            max_counter: 20.0,
            decay_per_s: 1.0,
            trading_max: 180.0,
            trading_decay_per_s: 3.75,
        }
    }
}

impl Default for KrakenLimits {
    fn default() -> Self {
        Self::starter()
    }
}

/// REST counter cost of a private method (AddOrder/CancelOrder use the trading counter).
pub(crate) fn rest_cost(method: &str) -> f64 {
    match method {
        "AddOrder" | "CancelOrder" => 0.0,
        "TradesHistory" | "QueryTrades" | "Ledgers" | "QueryLedgers" => 2.0,
        _ => 1.0,
    }
}

/// Trading-counter cost of cancelling an order that rested `age_ms`.
pub(crate) fn cancel_cost(age_ms: u64) -> f64 {
    match age_ms {
        0..5_000 => 8.0,
        5_000..10_000 => 6.0,
        10_000..15_000 => 5.0,
        15_000..45_000 => 4.0,
        45_000..90_000 => 2.0,
        90_000..300_000 => 1.0,
        _ => 0.0,
    }
}

/// Live counters.
pub(crate) struct KrakenLimiter {
    cfg: KrakenLimits,
    rest: HashMap<String, DecayCounter>,
    trading: HashMap<(String, String), DecayCounter>,
}

impl KrakenLimiter {
    pub(crate) fn new(cfg: KrakenLimits) -> Self {
        Self {
            cfg,
            rest: HashMap::new(),
            trading: HashMap::new(),
        }
    }

    /// Charges a REST call to `key`; false means `EAPI:Rate limit exceeded`.
    pub(crate) fn rest(&mut self, key: &str, cost: f64, now: u64) -> bool {
        let (max, decay) = (self.cfg.max_counter, self.cfg.decay_per_s);
        let c = self
            .rest
            .entry(key.to_owned())
            .or_insert_with(|| DecayCounter::new(max, decay, now));
        cost == 0.0 || c.add(cost, now).is_ok()
    }

    /// Charges the trading counter of `key` on `pair`; false means `EOrder:Rate limit exceeded`.
    pub(crate) fn trading(&mut self, key: &str, pair: &str, cost: f64, now: u64) -> bool {
        let (max, decay) = (self.cfg.trading_max, self.cfg.trading_decay_per_s);
        let c = self
            .trading
            .entry((key.to_owned(), pair.to_owned()))
            .or_insert_with(|| DecayCounter::new(max, decay, now));
        cost == 0.0 || c.add(cost, now).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_counter_allows_15_then_refuses_until_decay() {
        let mut l = KrakenLimiter::new(KrakenLimits::starter());
        assert!((0..15).all(|_| l.rest("k", 1.0, 0)));
        assert!(!l.rest("k", 1.0, 0));
        assert!(l.rest("other", 1.0, 0), "per key");
        assert!(!l.rest("k", 2.0, 4_000), "4 s decays 1.32 only");
        assert!(l.rest("k", 1.0, 4_000));
    }

    #[test]
    fn cancel_cost_table() {
        let cases = [
            (0, 8.0),
            (4_999, 8.0),
            (5_000, 6.0),
            (44_000, 4.0),
            (89_000, 2.0),
            (299_999, 1.0),
            (300_000, 0.0),
        ];
        for (i, (age, cost)) in cases.into_iter().enumerate() {
            assert_eq!(cancel_cost(age), cost, "TC{} failed", i + 1);
        }
    }
}
