//! When a profile rebalances: the first time at once, then when a weight drifts past the
//! (randomized) threshold from the last plan's reference targets, or, for the time-based
//! strategy, when the (randomized) period has passed.

use std::time::Duration;

use rand::{CryptoRng, Rng};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};

use super::targets::Targets;
use crate::ids::{Asset, Timestamp};
use crate::limits::PortfolioLimits;
use crate::market::Valuation;
use crate::profile::{Profile, Strategy};

/// Why a rebalance is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// The profile never rebalanced.
    First,
    /// An asset drifted from its reference target by more than the threshold.
    Drift {
        /// The asset that drifted most.
        asset: Asset,
        /// Its absolute deviation from the reference target.
        deviation: Decimal,
    },
    /// The time-based period passed.
    Period,
    /// An asset drifted above the concentration cap.
    OverConcentration {
        /// The asset.
        asset: Asset,
        /// Its weight.
        weight: Decimal,
    },
    /// A category drifted above its cap.
    OverCategoryCap {
        /// The category.
        category: String,
        /// Its combined weight.
        weight: Decimal,
    },
}

/// A profile's rebalancing schedule. The caller keeps one per profile and calls
/// [`Self::record`] after each rebalance that traded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebalanceSchedule {
    last: Option<Timestamp>,
    reference: Targets,
    threshold: Decimal,
    period: Option<Duration>,
}

/// `value * (1 + factor * u)`, `u` uniform in [-1, 1].
fn jitter<R: Rng + CryptoRng + ?Sized>(factor: Decimal, rng: &mut R) -> f64 {
    let f = factor.to_f64().unwrap_or(0.0).clamp(0.0, 1.0);
    if f == 0.0 {
        1.0
    } else {
        1.0 + f * rng.random_range(-1.0..=1.0)
    }
}

impl RebalanceSchedule {
    /// A schedule that is due at once.
    pub fn new() -> Self {
        Self {
            last: None,
            reference: Targets::new(),
            threshold: Decimal::ZERO,
            period: None,
        }
    }

    /// When the last recorded rebalance happened.
    pub fn last(&self) -> Option<Timestamp> {
        self.last
    }

    /// The drift threshold in force until the next rebalance.
    pub fn threshold(&self) -> Decimal {
        self.threshold
    }

    /// The period in force until the next rebalance (time-based strategy only).
    pub fn period(&self) -> Option<Duration> {
        self.period
    }

    /// Whether `profile`, valued as `valuation`, should rebalance at `now`. A weight that
    /// drifted above a cap triggers a rebalance whatever the strategy, so the portfolio never
    /// stays over-concentrated.
    pub fn due(
        &self,
        profile: &Profile,
        limits: &PortfolioLimits,
        valuation: &Valuation<'_>,
        now: Timestamp,
    ) -> Option<Trigger> {
        let Some(last) = self.last else {
            return Some(Trigger::First);
        };
        if let Some(trigger) = over_cap(profile, limits, valuation) {
            return Some(trigger);
        }
        if let Strategy::TimeBased { .. } = profile.strategy {
            let period = self.period.unwrap_or(Duration::ZERO);
            return (now.since(last) >= period).then_some(Trigger::Period);
        }
        let (asset, deviation) = self
            .reference
            .iter()
            .map(|(a, t)| (a, (valuation.weight(a) - *t).abs()))
            .max_by_key(|(_, dev)| *dev)?;
        (deviation > self.threshold).then(|| Trigger::Drift {
            asset: asset.clone(),
            deviation,
        })
    }

    /// Records a rebalance at `now` towards `reference` (the plan's targets before
    /// randomization) and draws the next threshold and period, each moved by up to
    /// `randomization` (0 for none).
    pub fn record<R: Rng + CryptoRng + ?Sized>(
        &mut self,
        profile: &Profile,
        reference: Targets,
        now: Timestamp,
        randomization: Decimal,
        rng: &mut R,
    ) {
        self.last = Some(now);
        self.reference = reference;
        let t = Decimal::from_f64(jitter(randomization, rng)).unwrap_or(Decimal::ONE);
        self.threshold = (profile.rebalance_threshold * t).round_dp(8);
        self.period = match profile.strategy {
            Strategy::TimeBased { period } => {
                Some(period.mul_f64(jitter(randomization, rng).max(0.0)))
            }
            _ => None,
        };
    }
}

/// The first asset (then category) of `profile` whose weight is above its cap.
fn over_cap(profile: &Profile, limits: &PortfolioLimits, v: &Valuation) -> Option<Trigger> {
    let weights = profile.targets.keys().map(|a| (a, v.weight(a)));
    if let Some((asset, weight)) = weights.clone().find(|(_, w)| *w > limits.max_concentration) {
        return Some(Trigger::OverConcentration {
            asset: asset.clone(),
            weight,
        });
    }
    limits
        .category_weights(weights)
        .into_iter()
        .find_map(|(category, weight)| {
            let cap = limits.category_caps.get(category)?;
            (weight > *cap).then(|| Trigger::OverCategoryCap {
                category: category.to_owned(),
                weight,
            })
        })
}

impl Default for RebalanceSchedule {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{a, d, market, portfolio, profile};
    use rand::SeedableRng;

    #[test]
    fn drift_and_period_triggers() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let port = portfolio();
        let v = port.value(&market()).unwrap(); // BTC 20%, ETH 15%, SOL 10%, USDC 5%
        let l = PortfolioLimits::default();
        let mut p = profile();
        let mut s = RebalanceSchedule::new();
        let t0 = Timestamp::from_secs(1_000_000);
        assert_eq!(s.due(&p, &l, &v, t0), Some(Trigger::First));
        s.record(&p, p.targets.clone(), t0, Decimal::ZERO, &mut rng);
        // USDC is 20 points under its 25% target; moderate threshold is 5%.
        assert_eq!(
            s.due(&p, &l, &v, t0),
            Some(Trigger::Drift {
                asset: a("USDC"),
                deviation: d("0.20")
            })
        );
        let close: Targets = [
            ("BTC", "0.2"),
            ("ETH", "0.15"),
            ("SOL", "0.1"),
            ("USDC", "0.06"),
        ]
        .iter()
        .map(|(k, w)| (a(k), d(w)))
        .collect();
        s.record(&p, close, t0, Decimal::ZERO, &mut rng);
        assert_eq!(s.due(&p, &l, &v, t0), None);

        p.strategy = Strategy::TimeBased {
            period: Duration::from_secs(3600),
        };
        s.record(&p, p.targets.clone(), t0, Decimal::ZERO, &mut rng);
        assert_eq!(s.due(&p, &l, &v, t0.plus(Duration::from_secs(3599))), None);
        assert_eq!(
            s.due(&p, &l, &v, t0.plus(Duration::from_secs(3600))),
            Some(Trigger::Period)
        );

        let tight = PortfolioLimits {
            max_concentration: d("0.19"),
            ..PortfolioLimits::default()
        };
        let want = Trigger::OverConcentration {
            asset: a("BTC"),
            weight: d("0.2"),
        };
        assert_eq!(
            s.due(&p, &tight, &v, t0),
            Some(want),
            "over the cap, even before the period"
        );
        let mut caps = PortfolioLimits::default();
        caps.category_caps.insert("large_cap".into(), d("0.3"));
        let want = Trigger::OverCategoryCap {
            category: "large_cap".into(),
            weight: d("0.35"),
        };
        assert_eq!(s.due(&p, &caps, &v, t0), Some(want));
    }

    #[test]
    fn randomized_periods_vary_within_the_factor() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(4);
        let mut p = profile();
        p.strategy = Strategy::TimeBased {
            period: Duration::from_secs(1000),
        };
        let mut s = RebalanceSchedule::new();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..100 {
            s.record(
                &p,
                p.targets.clone(),
                Timestamp::from_secs(0),
                d("0.2"),
                &mut rng,
            );
            let secs = s.period().unwrap().as_secs_f64();
            assert!((800.0..=1200.0).contains(&secs), "{secs}");
            assert!(s.threshold() >= d("0.04") && s.threshold() <= d("0.06"));
            seen.insert(secs as u64);
        }
        assert!(seen.len() > 50);
    }
}
