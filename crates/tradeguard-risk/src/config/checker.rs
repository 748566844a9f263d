//! The configuration checker: every rule, every conflict, keys named on both sides.

use std::collections::BTreeMap;
use std::time::Duration;

use rust_decimal::Decimal;

use super::model::RawConfig;
use super::profiles::build_profile;
use super::{ConfigError, Conflict, RebalancingSettings, RiskConfig, SecurityConfig};
use crate::ids::Asset;
use crate::limits::PortfolioLimits;
use crate::profile::Profile;
use crate::separation::shared_account_overlaps;

/// Which ends of 0..1 a fraction may take.
#[derive(Debug, Clone, Copy)]
pub(super) enum Range {
    /// 0 < x <= 1
    AboveZero,
    /// 0 <= x < 1
    BelowOne,
    /// 0 <= x <= 1
    Closed,
}

/// Collects conflicts.
#[derive(Default)]
pub(super) struct Checker {
    pub conflicts: Vec<Conflict>,
}

/// A fraction as a percentage for messages (0.4 -> "40").
pub(super) fn pct(x: Decimal) -> String {
    (x * Decimal::ONE_HUNDRED).normalize().to_string()
}

impl Checker {
    pub fn conflict(&mut self, keys: &[&str], message: impl Into<String>) {
        self.conflicts.push(Conflict {
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            message: message.into(),
        });
    }

    pub fn fraction(&mut self, key: &str, x: Decimal, range: Range) {
        let (ok, want) = match range {
            Range::AboveZero => (
                x > Decimal::ZERO && x <= Decimal::ONE,
                "above 0 and at most 1",
            ),
            Range::BelowOne => (
                x >= Decimal::ZERO && x < Decimal::ONE,
                "at least 0 and below 1",
            ),
            Range::Closed => (x >= Decimal::ZERO && x <= Decimal::ONE, "between 0 and 1"),
        };
        if !ok {
            self.conflict(&[key], format!("must be a fraction {want} (0.05 means 5%)"));
        }
    }

    pub fn asset(&mut self, key: &str, code: &str) -> Option<Asset> {
        let asset = Asset::new(code).ok();
        if asset.is_none() {
            self.conflict(
                &[key],
                "is not an asset code: use 1 to 20 upper-case letters or digits, such as BTC",
            );
        }
        asset
    }
}

/// Checks a parsed configuration: every rule, every conflict at once.
pub fn validate(raw: &RawConfig) -> Result<RiskConfig, ConfigError> {
    let mut c = Checker::default();
    let security = security(raw, &mut c);
    let rebalancing = rebalancing(raw, &mut c);
    let limits = limits(raw, &mut c);
    let profiles: Vec<Profile> = raw
        .profiles
        .iter()
        .filter_map(|(name, rp)| build_profile(name, rp, raw, &limits, &mut c))
        .collect();
    cross_profile(&profiles, &mut c);
    if c.conflicts.is_empty() {
        Ok(RiskConfig {
            security,
            rebalancing,
            limits,
            profiles,
        })
    } else {
        Err(ConfigError::Conflicts(c.conflicts))
    }
}

fn security(raw: &RawConfig, c: &mut Checker) -> SecurityConfig {
    let s = &raw.security;
    if !s.encryption_enabled {
        c.conflict(
            &["security.encryption_enabled"],
            "credentials are always sealed at rest; remove the key or set it to true",
        );
    }
    for (key, value) in [
        ("security.key_rotation_interval", s.key_rotation_interval),
        ("security.session_timeout", s.session_timeout),
        (
            "security.max_failed_attempts",
            u64::from(s.max_failed_attempts),
        ),
    ] {
        if value == 0 {
            c.conflict(&[key], "must be at least 1");
        }
    }
    SecurityConfig {
        key_rotation_interval: Duration::from_secs(s.key_rotation_interval),
        max_failed_attempts: s.max_failed_attempts,
        session_timeout: Duration::from_secs(s.session_timeout),
    }
}

fn rebalancing(raw: &RawConfig, c: &mut Checker) -> RebalancingSettings {
    let r = &raw.rebalancing;
    c.fraction(
        "rebalancing.randomization_factor",
        r.randomization_factor,
        Range::BelowOne,
    );
    c.fraction(
        "rebalancing.max_concentration",
        r.max_concentration,
        Range::AboveZero,
    );
    RebalancingSettings {
        enabled: r.enabled,
        randomization_enabled: r.randomization_enabled,
        randomization_factor: r.randomization_factor,
    }
}

fn limits(raw: &RawConfig, c: &mut Checker) -> PortfolioLimits {
    let mut limits = PortfolioLimits {
        max_concentration: raw.rebalancing.max_concentration,
        ..Default::default()
    };
    let p = &raw.portfolio;
    if let Some(n) = p.min_assets {
        if n == 0 {
            c.conflict(&["portfolio.min_assets"], "must be at least 1");
        }
        limits.min_assets = n as usize;
    }
    if let Some(list) = &p.excluded_assets {
        limits.excluded = list
            .iter()
            .filter_map(|code| c.asset("portfolio.excluded_assets", code))
            .collect();
    }
    for (code, category) in &raw.categories {
        let key = format!("categories.{code}");
        if let Some(asset) = c.asset(&key, code) {
            limits.categories.insert(asset, category.clone());
        }
    }
    for (category, cap) in &p.category_caps {
        c.fraction(
            &format!("portfolio.category_caps.{category}"),
            *cap,
            Range::AboveZero,
        );
        limits.category_caps.insert(category.clone(), *cap);
    }
    limits
}

fn cross_profile(profiles: &[Profile], c: &mut Checker) {
    let target = |p: &Profile, a: &Asset| format!("profiles.{}.target_allocation.{a}", p.id);
    let by_id: BTreeMap<_, _> = profiles.iter().map(|p| (&p.id, p)).collect();
    for o in shared_account_overlaps(profiles) {
        let (Some(p), Some(q)) = (by_id.get(&o.first), by_id.get(&o.second)) else {
            continue;
        };
        let account = format!(
            "both trade on {} (same `exchange` and `credential`), so one could undo the other's trades; \
             give each profile its own assets or its own credential",
            o.account
        );
        for a in &o.shared_assets {
            c.conflict(
                &[&target(p, a), &target(q, a)],
                format!("{a} is in both profiles' asset sets: {account}"),
            );
        }
        for a in &o.cash_conflicts {
            let (trader, holder) = if p.quote == *a { (q, p) } else { (p, q) };
            let quote_key = format!("profiles.{}.quote_asset", holder.id);
            c.conflict(
                &[&target(trader, a), &quote_key],
                format!("{a} is one profile's target and the other's cash: {account}"),
            );
        }
    }
    let mut tags: BTreeMap<u32, &Profile> = BTreeMap::new();
    for p in profiles {
        if let Some(q) = tags.insert(p.id.tag(), p) {
            c.conflict(
                &[&format!("profiles.{}", q.id), &format!("profiles.{}", p.id)],
                "these profile names give the same client-order-id tag, so their order ids could collide; rename one",
            );
        }
    }
}
