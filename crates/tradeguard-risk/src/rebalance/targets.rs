//! Target weights: what each strategy aims for, randomized by up to the profile's factor,
//! then clipped to the portfolio limits.

use std::collections::BTreeMap;

use rand::{CryptoRng, Rng};
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::ids::Asset;
use crate::limits::PortfolioLimits;
use crate::profile::{Profile, Strategy};
use crate::stats::MarketStats;

/// Target weights per asset, as fractions of the profile's value; the rest is cash.
pub type Targets = BTreeMap<Asset, Decimal>;

/// Decimal places target weights are kept to.
const WEIGHT_DP: u32 = 8;
/// Smallest volatility used when dividing by volatility (avoids infinite weights).
const MIN_VOL: f64 = 1e-4;
/// Smallest multiplier momentum may apply to a target (keeps every asset in the set).
const MIN_TILT: f64 = 0.1;

/// Which model produced the targets of a plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TargetModel {
    /// The configured targets (threshold and time-based strategies).
    Configured,
    /// Inverse volatility and correlation scaling.
    RiskAdjusted,
    /// The invested fraction was scaled by `scale` (at most 1) to meet the volatility target.
    VolatilityTarget {
        /// The scale applied to every configured target.
        scale: f64,
    },
    /// Tilted towards momentum.
    Momentum,
    /// The strategy needs statistics that were missing or too short: configured targets used.
    FallbackNoStats,
}

fn to_weight(x: f64) -> Decimal {
    Decimal::from_f64(x.max(0.0)).map_or(Decimal::ZERO, |d| {
        d.round_dp_with_strategy(WEIGHT_DP, RoundingStrategy::ToZero)
    })
}

fn configured_f64(profile: &Profile) -> Vec<(Asset, f64)> {
    profile
        .targets
        .iter()
        .map(|(a, w)| (a.clone(), w.to_f64().unwrap_or(0.0)))
        .collect()
}

/// Rescales `raw` so its sum equals the configured invested fraction, as decimals.
fn renormalize(profile: &Profile, raw: Vec<(Asset, f64)>) -> Targets {
    let invested: f64 = configured_f64(profile).iter().map(|(_, w)| w).sum();
    let sum: f64 = raw.iter().map(|(_, w)| w).sum();
    if !(sum.is_finite() && sum > 0.0) {
        return profile.targets.clone();
    }
    raw.into_iter()
        .map(|(a, w)| (a, to_weight(w * invested / sum)))
        .collect()
}

/// The targets `profile`'s strategy aims for, before randomization and clipping.
pub fn model_targets(profile: &Profile, stats: Option<&MarketStats>) -> (Targets, TargetModel) {
    let base = configured_f64(profile);
    let result =
        match (profile.strategy, stats) {
            (Strategy::Threshold | Strategy::TimeBased { .. }, _) => {
                return (profile.targets.clone(), TargetModel::Configured);
            }
            (_, None) => None,
            (Strategy::RiskAdjusted { .. }, Some(s)) => risk_adjusted(&base, s)
                .map(|raw| (renormalize(profile, raw), TargetModel::RiskAdjusted)),
            (Strategy::VolatilityTarget { target, .. }, Some(s)) => vol_target(&base, s, target)
                .map(|(raw, scale)| {
                    (
                        raw.into_iter().map(|(a, w)| (a, to_weight(w))).collect(),
                        TargetModel::VolatilityTarget { scale },
                    )
                }),
            (Strategy::Momentum { tilt, .. }, Some(s)) => momentum(&base, s, tilt)
                .map(|raw| (renormalize(profile, raw), TargetModel::Momentum)),
        };
    result.unwrap_or_else(|| (profile.targets.clone(), TargetModel::FallbackNoStats))
}

/// `w / (vol * (1 + mean positive correlation with the other assets))`.
fn risk_adjusted(base: &[(Asset, f64)], s: &MarketStats) -> Option<Vec<(Asset, f64)>> {
    let others = (base.len().max(2) - 1) as f64;
    base.iter()
        .map(|(a, w)| {
            let vol = s.volatility(a)?.max(MIN_VOL);
            let corr_sum: f64 = base
                .iter()
                .filter(|(b, _)| b != a)
                .map(|(b, _)| s.correlation(a, b))
                .sum::<Option<f64>>()?;
            let avg_corr = (corr_sum / others).max(0.0);
            Some((a.clone(), w / (vol * (1.0 + avg_corr))))
        })
        .collect()
}

/// Configured weights scaled by `min(1, target / portfolio volatility)`.
fn vol_target(
    base: &[(Asset, f64)],
    s: &MarketStats,
    target: f64,
) -> Option<(Vec<(Asset, f64)>, f64)> {
    let vol = s.portfolio_volatility(base)?;
    let scale = if vol > target && vol > 0.0 {
        (target / vol).clamp(0.0, 1.0)
    } else {
        1.0
    };
    Some((
        base.iter().map(|(a, w)| (a.clone(), w * scale)).collect(),
        scale,
    ))
}

/// Configured weights times `max(0.1, 1 + tilt * z)`, z the momentum z-score.
fn momentum(base: &[(Asset, f64)], s: &MarketStats, tilt: f64) -> Option<Vec<(Asset, f64)>> {
    let m: Vec<f64> = base
        .iter()
        .map(|(a, _)| s.momentum(a))
        .collect::<Option<_>>()?;
    let mean = m.iter().sum::<f64>() / m.len().max(1) as f64;
    let sd = (m.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / m.len().max(1) as f64).sqrt();
    Some(
        base.iter()
            .zip(&m)
            .map(|((a, w), mi)| {
                let z = if sd > f64::EPSILON {
                    (mi - mean) / sd
                } else {
                    0.0
                };
                (a.clone(), w * (1.0 + tilt * z).max(MIN_TILT))
            })
            .collect(),
    )
}

/// Multiplies each target by `1 + factor * u`, `u` uniform in [-1, 1], drawn from `rng` (a
/// CSPRNG: the operating system's in production, a seeded ChaCha in backtests).
pub fn randomize<R: Rng + CryptoRng + ?Sized>(
    targets: &Targets,
    factor: Decimal,
    rng: &mut R,
) -> Targets {
    let f = factor.to_f64().unwrap_or(0.0).clamp(0.0, 1.0);
    if f == 0.0 {
        return targets.clone();
    }
    targets
        .iter()
        .map(|(a, w)| {
            let u: f64 = rng.random_range(-1.0..=1.0);
            let m = Decimal::from_f64(1.0 + f * u).unwrap_or(Decimal::ONE);
            (
                a.clone(),
                (*w * m).round_dp_with_strategy(WEIGHT_DP, RoundingStrategy::ToZero),
            )
        })
        .collect()
}

/// Clips targets to the limits, each cap first multiplied by `1 - margin`: excluded assets get
/// nothing, each asset at most the concentration cap, each category at most its cap (scaled
/// down in proportion), the total at most 1. Weights only ever shrink, and scaled weights are
/// rounded down, so the result never exceeds a limit. What is cut stays in cash.
pub fn clip_to_limits(targets: &Targets, limits: &PortfolioLimits, margin: Decimal) -> Targets {
    let keep = (Decimal::ONE - margin.clamp(Decimal::ZERO, Decimal::ONE)).max(Decimal::ZERO);
    let cap = limits.max_concentration * keep;
    let mut out: Targets = targets
        .iter()
        .map(|(a, w)| {
            let w = if limits.is_excluded(a) {
                Decimal::ZERO
            } else {
                (*w).clamp(Decimal::ZERO, cap)
            };
            (a.clone(), w)
        })
        .collect();
    let sums: Vec<(String, Decimal)> = limits
        .category_weights(out.iter().map(|(a, w)| (a, *w)))
        .into_iter()
        .map(|(c, s)| (c.to_owned(), s))
        .collect();
    for (category, sum) in sums {
        let cat_cap = limits
            .category_caps
            .get(&category)
            .copied()
            .unwrap_or(Decimal::ONE)
            * keep;
        if sum > cat_cap {
            for (a, w) in out.iter_mut() {
                if limits
                    .capped_category(a)
                    .is_some_and(|(c, _)| c == category)
                {
                    *w = scale_down(*w, cat_cap, sum);
                }
            }
        }
    }
    let total: Decimal = out.values().copied().sum();
    if total > Decimal::ONE {
        out.values_mut()
            .for_each(|w| *w = scale_down(*w, Decimal::ONE, total));
    }
    out
}

fn scale_down(w: Decimal, to: Decimal, from: Decimal) -> Decimal {
    (w * to / from).round_dp_with_strategy(WEIGHT_DP, RoundingStrategy::ToZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{a, d, profile};
    use rand::SeedableRng;

    fn targets(pairs: &[(&str, &str)]) -> Targets {
        pairs.iter().map(|(k, v)| (a(k), d(v))).collect()
    }

    #[test]
    fn clipping_respects_every_cap() {
        let limits = PortfolioLimits::default();
        let cases = [
            (
                targets(&[("BTC", "0.40"), ("ETH", "0.30"), ("USDC", "0.30")]),
                targets(&[("BTC", "0.2"), ("ETH", "0.2"), ("USDC", "0.25")]),
            ),
            (
                targets(&[("SOL", "0.2"), ("ADA", "0.2"), ("ARB", "0.1")]),
                targets(&[("SOL", "0.1"), ("ADA", "0.1"), ("ARB", "0.1")]),
            ),
            (
                targets(&[("USDT", "0.2"), ("ARB", "0.25"), ("OP", "0.25")]),
                targets(&[("USDT", "0"), ("ARB", "0.25"), ("OP", "0.25")]),
            ),
            (
                targets(&[
                    ("A", "0.25"),
                    ("B", "0.25"),
                    ("C", "0.25"),
                    ("D", "0.25"),
                    ("E", "0.25"),
                ]),
                targets(&[
                    ("A", "0.2"),
                    ("B", "0.2"),
                    ("C", "0.2"),
                    ("D", "0.2"),
                    ("E", "0.2"),
                ]),
            ),
        ];
        for (i, (input, want)) in cases.iter().enumerate() {
            assert_eq!(
                clip_to_limits(input, &limits, Decimal::ZERO),
                *want,
                "TC{i} failed"
            );
        }
        let margin = clip_to_limits(&cases[0].0, &limits, d("0.01"));
        assert_eq!(margin[&a("USDC")], d("0.2475"));
    }

    #[test]
    fn randomization_stays_within_the_factor() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let base = targets(&[("BTC", "0.2"), ("ETH", "0.2"), ("SOL", "0.1")]);
        let mut moved = false;
        for _ in 0..200 {
            let r = randomize(&base, d("0.1"), &mut rng);
            for (asset, w) in &r {
                let b = base[asset];
                assert!(
                    *w >= b * d("0.9") - d("0.00000001") && *w <= b * d("1.1"),
                    "{asset}: {w}"
                );
                moved |= *w != b;
            }
        }
        assert!(moved);
        assert_eq!(randomize(&base, Decimal::ZERO, &mut rng), base);
    }

    #[test]
    fn strategies_without_stats_fall_back() {
        let mut p = profile();
        p.strategy = Strategy::Momentum {
            lookback: 10,
            tilt: 0.5,
        };
        assert_eq!(
            model_targets(&p, None),
            (p.targets.clone(), TargetModel::FallbackNoStats)
        );
        p.strategy = Strategy::Threshold;
        assert_eq!(model_targets(&p, None).1, TargetModel::Configured);
    }

    fn stats() -> MarketStats {
        // BTC calm, ETH twice as volatile, SOL trending up, USDC flat.
        let n = 40;
        let btc: Vec<f64> = (0..n)
            .map(|i| 100.0 * if i % 2 == 0 { 1.0 } else { 1.01 })
            .collect();
        let eth: Vec<f64> = (0..n)
            .map(|i| 100.0 * if i % 2 == 0 { 1.0 } else { 1.0201 })
            .collect();
        let sol: Vec<f64> = (0..n)
            .map(|i| 100.0 * 1.01f64.powi(i) * if i % 2 == 0 { 1.0 } else { 1.01 })
            .collect();
        let usdc = vec![1.0; n as usize];
        MarketStats::from_prices(
            vec![a("BTC"), a("ETH"), a("SOL"), a("USDC")],
            &[btc, eth, sol, usdc],
            8760.0,
        )
        .unwrap()
    }

    #[test]
    fn risk_models_move_weights_the_right_way() {
        let mut p = profile();
        let s = stats();
        p.strategy = Strategy::RiskAdjusted { lookback: 40 };
        let (t, m) = model_targets(&p, Some(&s));
        assert_eq!(m, TargetModel::RiskAdjusted);
        assert!(t[&a("BTC")] > t[&a("ETH")], "calmer asset gets more: {t:?}");
        let invested: Decimal = t.values().copied().sum();
        assert!((invested - d("0.75")).abs() < d("0.0001"));

        p.strategy = Strategy::Momentum {
            lookback: 40,
            tilt: 0.5,
        };
        let (t, _) = model_targets(&p, Some(&s));
        assert!(t[&a("SOL")] > d("0.10"), "trending asset gets more: {t:?}");

        p.strategy = Strategy::VolatilityTarget {
            target: 0.01,
            lookback: 40,
        };
        let (t, m) = model_targets(&p, Some(&s));
        let TargetModel::VolatilityTarget { scale } = m else {
            panic!("{m:?}")
        };
        assert!(scale < 1.0 && t[&a("BTC")] < d("0.20"));
    }
}
