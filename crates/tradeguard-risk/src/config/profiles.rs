//! Checks of one `[profiles.<name>]` table against itself and the shared limits.

use std::collections::BTreeMap;
use std::time::Duration;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::checker::{Checker, Range, pct};
use super::model::{RawConfig, RawProfile, StrategyKind};
use crate::ids::{AccountId, Asset, ProfileId};
use crate::limits::PortfolioLimits;
use crate::profile::{BreachAction, DEFAULT_MAX_ORDER_NOTIONAL, Profile, Strategy};

/// Default number of observations for strategies that use statistics.
const DEFAULT_LOOKBACK: u32 = 168;
/// Default momentum tilt.
const DEFAULT_TILT: Decimal = Decimal::from_parts(5, 0, 0, false, 1);
/// Shortest time-based period accepted.
const MIN_PERIOD_SECS: u64 = 60;

/// Checks one profile and builds it (leaving out target assets whose code is invalid, so that
/// the cross-profile checks still see the rest); `None` if its name or quote asset is unusable.
/// The conflicts say why.
pub(super) fn build_profile(
    name: &str,
    rp: &RawProfile,
    raw: &RawConfig,
    limits: &PortfolioLimits,
    c: &mut Checker,
) -> Option<Profile> {
    let key = |field: &str| format!("profiles.{name}.{field}");
    let id = ProfileId::new(name).ok();
    if id.is_none() {
        c.conflict(
            &[&format!("profiles.{name:?}")],
            "profile name must be 1 to 64 letters, digits, `_` or `-`",
        );
    }
    let defaults = rp.kind.defaults();
    let quote = c.asset(
        &key("quote_asset"),
        rp.quote_asset.as_deref().unwrap_or("USD"),
    );
    let credential = rp
        .credential
        .clone()
        .unwrap_or_else(|| "default".to_owned());
    if ProfileId::new(&credential).is_err() {
        c.conflict(
            &[&key("credential")],
            "credential name must be 1 to 64 letters, digits, `_` or `-`",
        );
    }
    let fractions = [
        (
            "max_position_size",
            rp.max_position_size.unwrap_or(defaults.max_position_size),
            Range::AboveZero,
        ),
        (
            "rebalance_threshold",
            rp.rebalance_threshold
                .unwrap_or(defaults.rebalance_threshold),
            Range::AboveZero,
        ),
        (
            "price_band",
            rp.price_band.unwrap_or(defaults.price_band),
            Range::AboveZero,
        ),
        (
            "daily_loss_limit",
            rp.daily_loss_limit.unwrap_or(defaults.daily_loss_limit),
            Range::AboveZero,
        ),
        (
            "max_drawdown",
            rp.max_drawdown.unwrap_or(defaults.max_drawdown),
            Range::AboveZero,
        ),
        (
            "randomization_factor",
            rp.randomization_factor
                .unwrap_or(raw.rebalancing.randomization_factor),
            Range::BelowOne,
        ),
    ];
    for (field, value, range) in fractions {
        c.fraction(&key(field), value, range);
    }
    let randomization = fractions[5].1;
    if randomization > raw.rebalancing.randomization_factor {
        c.conflict(
            &[&key("randomization_factor"), "rebalancing.randomization_factor"],
            format!(
                "profile factor {} is above the global maximum {}; lower the profile's or raise the global one",
                randomization, raw.rebalancing.randomization_factor
            ),
        );
    }
    let notional = rp
        .max_order_notional
        .unwrap_or(Decimal::new(DEFAULT_MAX_ORDER_NOTIONAL, 0));
    if notional <= Decimal::ZERO {
        c.conflict(
            &[&key("max_order_notional")],
            "must be above 0 (in the quote asset)",
        );
    }
    let rate = rp
        .max_orders_per_minute
        .unwrap_or(defaults.max_orders_per_minute);
    if rate == 0 {
        c.conflict(&[&key("max_orders_per_minute")], "must be at least 1");
    }
    let targets = targets(name, rp, raw, limits, quote.as_ref(), c);
    let strategy = strategy(name, rp, c);
    Some(Profile {
        id: id?,
        account: AccountId {
            exchange: rp.exchange,
            credential,
        },
        kind: rp.kind,
        quote: quote?,
        targets,
        max_position_size: fractions[0].1,
        max_order_notional: notional,
        rebalance_threshold: fractions[1].1,
        randomization_factor: randomization,
        strategy,
        price_band: fractions[2].1,
        max_orders_per_minute: rate,
        daily_loss_limit: fractions[3].1,
        max_drawdown: fractions[4].1,
        on_daily_loss: rp.on_daily_loss.unwrap_or(BreachAction::Reducing),
        on_max_drawdown: rp.on_max_drawdown.unwrap_or(BreachAction::Halted),
    })
}

/// Checks the target allocation against the caps, the exclusions, the quote asset, the
/// minimum number of assets and the total.
fn targets(
    name: &str,
    rp: &RawProfile,
    raw: &RawConfig,
    limits: &PortfolioLimits,
    quote: Option<&Asset>,
    c: &mut Checker,
) -> BTreeMap<Asset, Decimal> {
    let tkey = |code: &str| format!("profiles.{name}.target_allocation.{code}");
    let quote_key = format!("profiles.{name}.quote_asset");
    let mut out = BTreeMap::new();
    for (code, w) in &rp.target_allocation {
        c.fraction(&tkey(code), *w, Range::Closed);
        let Some(asset) = c.asset(&tkey(code), code) else {
            continue;
        };
        if *w > limits.max_concentration {
            c.conflict(
                &[&tkey(code), "rebalancing.max_concentration"],
                format!(
                    "target {}% is above the {}% concentration cap",
                    pct(*w),
                    pct(limits.max_concentration)
                ),
            );
        }
        if limits.is_excluded(&asset) {
            c.conflict(
                &[&tkey(code), "portfolio.excluded_assets"],
                format!("{asset} is an excluded asset"),
            );
        }
        if Some(&asset) == quote {
            c.conflict(
                &[&quote_key, &tkey(code)],
                format!("{asset} is the profile's cash (quote asset) and cannot also be a target"),
            );
        }
        out.insert(asset, *w);
    }
    if let Some(q) = quote.filter(|q| limits.is_excluded(q)) {
        c.conflict(
            &[&quote_key, "portfolio.excluded_assets"],
            format!("quote asset {q} is an excluded asset"),
        );
    }
    let held = out.values().filter(|w| **w > Decimal::ZERO).count();
    if held < limits.min_assets {
        c.conflict(
            &[
                &format!("profiles.{name}.target_allocation"),
                "portfolio.min_assets",
            ],
            format!(
                "targets {held} asset(s) but at least {} are required",
                limits.min_assets
            ),
        );
    }
    let total: Decimal = out.values().copied().sum();
    if total > Decimal::ONE {
        c.conflict(
            &[&format!("profiles.{name}.target_allocation")],
            format!("targets add up to {}%, above 100%", pct(total)),
        );
    }
    category_caps(&out, raw, limits, &tkey, c);
    out
}

fn category_caps(
    targets: &BTreeMap<Asset, Decimal>,
    raw: &RawConfig,
    limits: &PortfolioLimits,
    tkey: &dyn Fn(&str) -> String,
    c: &mut Checker,
) {
    let mut members: BTreeMap<&str, Vec<&Asset>> = BTreeMap::new();
    for asset in targets.keys() {
        if let Some((cat, _)) = limits.capped_category(asset) {
            members.entry(cat).or_default().push(asset);
        }
    }
    for (cat, assets) in members {
        let sum: Decimal = assets.iter().map(|a| targets[*a]).sum();
        let Some((_, cap)) = limits.capped_category(assets[0]) else {
            continue;
        };
        if sum <= cap {
            continue;
        }
        let cap_key = format!("portfolio.category_caps.{cat}");
        let source = if raw.portfolio.category_caps.contains_key(cat) {
            ""
        } else {
            " (default)"
        };
        let mut keys: Vec<String> = assets.iter().map(|a| tkey(a.as_str())).collect();
        keys.push(cap_key);
        let names: Vec<&str> = assets.iter().map(|a| a.as_str()).collect();
        let keys_ref: Vec<&str> = keys.iter().map(String::as_str).collect();
        c.conflict(
            &keys_ref,
            format!(
                "{} are {cat} and together target {}%, above the {cat} cap of {}%{source}",
                names.join(" + "),
                pct(sum),
                pct(cap)
            ),
        );
    }
}

/// Checks the strategy and that each strategy parameter is set exactly where it is used.
fn strategy(name: &str, rp: &RawProfile, c: &mut Checker) -> Strategy {
    let key = |field: &str| format!("profiles.{name}.{field}");
    let kind = rp.strategy.unwrap_or(StrategyKind::Threshold);
    let params: [(&str, bool, &[StrategyKind]); 4] = [
        (
            "rebalance_period",
            rp.rebalance_period.is_some(),
            &[StrategyKind::TimeBased],
        ),
        (
            "lookback",
            rp.lookback.is_some(),
            &[
                StrategyKind::RiskAdjusted,
                StrategyKind::VolatilityTarget,
                StrategyKind::Momentum,
            ],
        ),
        (
            "target_volatility",
            rp.target_volatility.is_some(),
            &[StrategyKind::VolatilityTarget],
        ),
        (
            "momentum_tilt",
            rp.momentum_tilt.is_some(),
            &[StrategyKind::Momentum],
        ),
    ];
    for (field, set, used_by) in params {
        if set && !used_by.contains(&kind) {
            c.conflict(
                &[&key(field), &key("strategy")],
                format!(
                    "{field} is not used by strategy {kind:?}; remove it or change the strategy"
                ),
            );
        }
    }
    let lookback = rp.lookback.unwrap_or(DEFAULT_LOOKBACK);
    if lookback < 3 {
        c.conflict(&[&key("lookback")], "needs at least 3 price observations");
    }
    let lookback = lookback as usize;
    match kind {
        StrategyKind::Threshold => Strategy::Threshold,
        StrategyKind::TimeBased => {
            let secs = rp.rebalance_period.unwrap_or(0);
            if secs < MIN_PERIOD_SECS {
                c.conflict(&[&key("strategy"), &key("rebalance_period")], format!("strategy time_based needs rebalance_period of at least {MIN_PERIOD_SECS} seconds"));
            }
            Strategy::TimeBased {
                period: Duration::from_secs(secs),
            }
        }
        StrategyKind::RiskAdjusted => Strategy::RiskAdjusted { lookback },
        StrategyKind::VolatilityTarget => {
            let target = rp.target_volatility.unwrap_or_default();
            if target <= Decimal::ZERO || target > Decimal::from(5) {
                c.conflict(&[&key("strategy"), &key("target_volatility")], "strategy volatility_target needs target_volatility above 0 and at most 5 (0.4 means 40% a year)");
            }
            Strategy::VolatilityTarget {
                target: target.to_f64().unwrap_or(0.0),
                lookback,
            }
        }
        StrategyKind::Momentum => {
            let tilt = rp.momentum_tilt.unwrap_or(DEFAULT_TILT);
            if tilt < Decimal::ZERO || tilt > Decimal::from(5) {
                c.conflict(&[&key("momentum_tilt")], "must be between 0 and 5");
            }
            Strategy::Momentum {
                lookback,
                tilt: tilt.to_f64().unwrap_or(0.0),
            }
        }
    }
}
