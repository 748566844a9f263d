//! Kraken rate limits: a decaying REST call counter per API key (size and decay by tier;
//! ledger and trade-history calls cost 2, others 1, orders 0), and a decaying trading-engine
//! counter per pair (add +1, cancel +8 down to 0 with the order's age).
//!
//! See: <https://docs.kraken.com/api/docs/guides/spot-rest-ratelimits> and
//! <https://docs.kraken.com/api/docs/guides/spot-ratelimits/>; exchanges.md section 2.5.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::config::KrakenTier;
use crate::model::{ExchangeId, UnixMillis};
use crate::ratelimit::models::DecayingCounter;
use crate::ratelimit::{Denied, Gate, Limits};

/// REST counter (max, decay per second) for a tier.
pub fn rest_counter(tier: KrakenTier) -> (f64, f64) {
    match tier {
        KrakenTier::Starter => (15.0, 0.33),
        KrakenTier::Intermediate => (20.0, 0.5),
        KrakenTier::Pro => (20.0, 1.0),
    }
}

/// Trading-engine counter per pair (threshold, decay per second) for a tier.
pub fn trading_counter(tier: KrakenTier) -> (f64, f64) {
    match tier {
        KrakenTier::Starter => (60.0, 1.0),
        KrakenTier::Intermediate => (125.0, 2.34),
        KrakenTier::Pro => (180.0, 3.75),
    }
}

/// Points a cancel adds to the pair's trading counter, by how long the order rested
/// (`None`: unknown, charged as the worst case).
pub fn cancel_points(age: Option<Duration>) -> u32 {
    let Some(age) = age else { return 8 };
    match age.as_secs() {
        0..5 => 8,
        5..10 => 6,
        10..15 => 5,
        15..45 => 4,
        45..90 => 2,
        90..300 => 1,
        _ => 0,
    }
}

/// What one Kraken request costs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KrakenCost {
    /// A REST call adding this much to the key's counter (public calls: 0).
    Rest(u32),
    /// An order action adding `points` to the counter of `pair`.
    Trading {
        /// The pair, as sent.
        pair: String,
        /// Points added.
        points: u32,
    },
}

#[derive(Debug)]
struct Inner {
    rest: DecayingCounter,
    trading: HashMap<String, DecayingCounter>,
    gate: Gate,
}

/// Kraken limits for one API key.
#[derive(Debug)]
pub struct KrakenLimits {
    tier: KrakenTier,
    headroom: f64,
    inner: Mutex<Inner>,
}

impl KrakenLimits {
    /// Limits of `tier`, used up to `headroom` of each.
    pub fn new(tier: KrakenTier, headroom: f64) -> Self {
        let (max, decay) = rest_counter(tier);
        Self {
            tier,
            headroom,
            inner: Mutex::new(Inner {
                rest: DecayingCounter::new(max, decay),
                trading: HashMap::new(),
                gate: Gate::default(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Limits for KrakenLimits {
    type Cost = KrakenCost;

    fn exchange(&self) -> ExchangeId {
        ExchangeId::Kraken
    }

    fn try_acquire(&self, now: UnixMillis, cost: &KrakenCost) -> Result<(), Denied> {
        let mut g = self.lock();
        let fraction = g.gate.check(now)? * self.headroom;
        match cost {
            KrakenCost::Rest(0) => Ok(()),
            KrakenCost::Rest(n) => g
                .rest
                .try_take(now, f64::from(*n), fraction)
                .map_err(Denied::Wait),
            KrakenCost::Trading { pair, points } => {
                let (max, decay) = trading_counter(self.tier);
                g.trading
                    .entry(pair.clone())
                    .or_insert_with(|| DecayingCounter::new(max, decay))
                    .try_take(now, f64::from(*points), fraction)
                    .map_err(Denied::Wait)
            }
        }
    }

    fn observe(&self, _now: UnixMillis, _cost: &KrakenCost, _status: u16, _headers: &HeaderMap) {
        // Kraken sends no counter headers; errors in the body reach `throttled`.
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
    fn cancel_points_table() {
        let cases = [
            (None, 8),
            (Some(0), 8),
            (Some(7), 6),
            (Some(14), 5),
            (Some(44), 4),
            (Some(60), 2),
            (Some(299), 1),
            (Some(300), 0),
        ];
        for (i, (age, want)) in cases.iter().enumerate() {
            assert_eq!(
                cancel_points(age.map(Duration::from_secs)),
                *want,
                "TC{i} failed"
            );
        }
    }

    #[test]
    fn starter_rest_counter_allows_14_calls_then_paces_at_decay_rate() {
        let l = KrakenLimits::new(KrakenTier::Starter, 0.95);
        let t = UnixMillis(0);
        let mut n = 0;
        while l.try_acquire(t, &KrakenCost::Rest(1)).is_ok() {
            n += 1;
        }
        assert_eq!(n, 14, "15 * 0.95 = 14.25");
        let Err(Denied::Wait(w)) = l.try_acquire(t, &KrakenCost::Rest(2)) else {
            panic!()
        };
        assert!(
            (w.as_secs_f64() - (16.0 - 14.25) / 0.33).abs() < 0.01,
            "{w:?}"
        );
    }

    #[test]
    fn trading_counters_are_per_pair_and_orders_skip_the_rest_counter() {
        let l = KrakenLimits::new(KrakenTier::Starter, 1.0);
        let t = UnixMillis(0);
        let cancel = |pair: &str| KrakenCost::Trading {
            pair: pair.into(),
            points: 8,
        };
        for _ in 0..7 {
            l.try_acquire(t, &cancel("XBTUSD")).unwrap();
        }
        assert!(l.try_acquire(t, &cancel("XBTUSD")).is_err(), "56 + 8 > 60");
        assert!(l.try_acquire(t, &cancel("ETHUSD")).is_ok(), "another pair");
        for _ in 0..15 {
            l.try_acquire(t, &KrakenCost::Rest(1)).unwrap();
        }
    }
}
