//! GCRA (generic cell rate algorithm), the pure core shared by the in-memory limiter and,
//! line for line, by the Redis Lua script in `redis.rs`.
//!
//! State per key is one number, the theoretical arrival time (TAT). With emission interval
//! `T = period / count` and tolerance `τ = burst · T`, a request of cost `n` at time `now` is
//! allowed when `max(TAT, now) + n·T − τ ≤ now`, and then TAT becomes `max(TAT, now) + n·T`.
//! So `burst` requests pass at once, then one per `T`. A refused request changes nothing.

use std::time::Duration;

use crate::{Result, StoreError};

/// A rate limit: `burst` units at once, refilled at `count` per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    emission_us: u64,
    burst: u32,
}

impl Quota {
    /// `count` units per `period`, up to `burst` at once. The emission interval
    /// `period / count` must be at least 1 µs (the Redis backend's resolution).
    pub fn new(count: u32, period: Duration, burst: u32) -> Result<Self> {
        if count == 0 || burst == 0 {
            return Err(invalid("count and burst must be at least 1"));
        }
        let emission_us = period.as_micros() / u128::from(count);
        let emission_us = u64::try_from(emission_us).map_err(|_| invalid("period too long"))?;
        if emission_us == 0 {
            return Err(invalid("period / count must be at least 1 microsecond"));
        }
        Ok(Self { emission_us, burst })
    }

    /// `n` per second, burst `n`.
    pub fn per_second(n: u32) -> Result<Self> {
        Self::new(n, Duration::from_secs(1), n)
    }

    /// `n` per minute, burst `n`.
    pub fn per_minute(n: u32) -> Result<Self> {
        Self::new(n, Duration::from_secs(60), n)
    }

    /// Time to earn back one unit.
    pub fn emission_interval(&self) -> Duration {
        Duration::from_micros(self.emission_us)
    }

    /// Units allowed at once.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    pub(crate) fn emission_us(&self) -> u64 {
        self.emission_us
    }

    /// Checks a request's cost against this quota.
    pub(crate) fn check_cost(&self, cost: u32) -> Result<()> {
        if cost == 0 || cost > self.burst {
            Err(invalid("cost must be between 1 and the quota's burst"))
        } else {
            Ok(())
        }
    }
}

fn invalid(rule: &'static str) -> StoreError {
    StoreError::InvalidInput {
        what: "rate-limit quota or cost",
        rule,
    }
}

/// The answer to one rate-limited request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Go ahead; `remaining` more units would pass right now.
    Allowed {
        /// Units still available at this instant.
        remaining: u32,
    },
    /// Refused; the same request passes after `retry_after` (if nothing else is spent).
    Limited {
        /// How long to wait.
        retry_after: Duration,
    },
}

impl RateDecision {
    /// True for [`RateDecision::Allowed`].
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed { .. })
    }
}

/// One GCRA step in microseconds: the decision and, when allowed, the new TAT.
pub(crate) fn decide(
    tat: Option<u64>,
    now: u64,
    quota: &Quota,
    cost: u32,
) -> (RateDecision, Option<u64>) {
    let emission = quota.emission_us;
    let tolerance = emission.saturating_mul(u64::from(quota.burst));
    let start = tat.map_or(now, |t| t.max(now));
    let new_tat = start.saturating_add(emission.saturating_mul(u64::from(cost)));
    let allow_at = new_tat.saturating_sub(tolerance);
    if now < allow_at {
        let retry_after = Duration::from_micros(allow_at - now);
        return (RateDecision::Limited { retry_after }, None);
    }
    let slack = now.saturating_add(tolerance).saturating_sub(new_tat);
    let remaining = u32::try_from(slack / emission).unwrap_or(u32::MAX);
    (RateDecision::Allowed { remaining }, Some(new_tat))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn quota(per_unit_us: u64, burst: u32) -> Quota {
        Quota {
            emission_us: per_unit_us,
            burst,
        }
    }

    #[test]
    fn burst_then_one_per_interval() {
        let q = quota(100, 3);
        let mut tat = None;
        for want_remaining in [2, 1, 0] {
            let (d, t) = decide(tat, 1_000, &q, 1);
            assert_eq!(
                d,
                RateDecision::Allowed {
                    remaining: want_remaining
                }
            );
            tat = t;
        }
        let (d, t) = decide(tat, 1_000, &q, 1);
        assert_eq!(
            d,
            RateDecision::Limited {
                retry_after: Duration::from_micros(100)
            }
        );
        assert_eq!(t, None);
        assert!(
            decide(tat, 1_099, &q, 1).0
                == RateDecision::Limited {
                    retry_after: Duration::from_micros(1)
                }
        );
        assert_eq!(
            decide(tat, 1_100, &q, 1).0,
            RateDecision::Allowed { remaining: 0 }
        );
    }

    #[test]
    fn fail_bad_quotas_and_costs() {
        let cases = [
            Quota::new(0, Duration::from_secs(1), 1).is_err(),
            Quota::new(1, Duration::from_secs(1), 0).is_err(),
            Quota::new(2_000_000, Duration::from_secs(1), 1).is_err(),
            Quota::per_second(10).unwrap().check_cost(0).is_err(),
            Quota::per_second(10).unwrap().check_cost(11).is_err(),
            Quota::per_second(10).unwrap().check_cost(10).is_ok(),
        ];
        for (i, ok) in cases.iter().enumerate() {
            assert!(ok, "TC{} failed", i + 1);
        }
    }

    proptest! {
        /// Over any run of requests, the units allowed never exceed burst + elapsed / T, and a
        /// refused request passes exactly at `now + retry_after`.
        #[test]
        fn never_exceeds_rate_and_retry_after_is_exact(
            per_unit in 1u64..1_000,
            burst in 1u32..20,
            steps in proptest::collection::vec((0u64..2_000, 1u32..20), 1..200),
        ) {
            let q = quota(per_unit, burst);
            let (mut tat, mut now, start) = (None, 10_000u64, 10_000u64);
            let mut allowed_units = 0u64;
            for (gap, cost) in steps {
                now += gap;
                let cost = cost.min(burst);
                match decide(tat, now, &q, cost) {
                    (RateDecision::Allowed { .. }, new_tat) => {
                        allowed_units += u64::from(cost);
                        tat = new_tat;
                    }
                    (RateDecision::Limited { retry_after }, None) => {
                        let at = now + u64::try_from(retry_after.as_micros()).unwrap();
                        prop_assert!(decide(tat, at, &q, cost).0.is_allowed());
                        prop_assert!(!decide(tat, at - 1, &q, cost).0.is_allowed());
                    }
                    (RateDecision::Limited { .. }, Some(_)) => prop_assert!(false, "refusal changed state"),
                }
                let bound = u64::from(burst) + (now - start) / per_unit;
                prop_assert!(allowed_units <= bound, "{allowed_units} > {bound}");
            }
        }

        /// An idle key is back to a full burst.
        #[test]
        fn idle_key_refills(per_unit in 1u64..1_000, burst in 1u32..20, used in 1u32..20) {
            let q = quota(per_unit, burst);
            let used = used.min(burst);
            let (_, tat) = decide(None, 0, &q, used);
            let later = per_unit * u64::from(burst) + 1;
            prop_assert_eq!(decide(tat, later, &q, 1).0, RateDecision::Allowed { remaining: burst - 1 });
        }
    }
}
