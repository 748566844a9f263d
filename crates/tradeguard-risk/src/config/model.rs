//! The configuration file as written (TOML), before any check. Every table refuses unknown
//! keys, so a typo is an error rather than a silently ignored limit.
//!
//! Fractions (`0.05`) may be written as TOML floats or strings; a float is read through its
//! shortest decimal form, so `0.05` is exactly 0.05. Durations are whole seconds.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::ids::Exchange;
use crate::profile::{BreachAction, ProfileType};

/// The whole file: `[security]`, `[portfolio]`, `[categories]`, `[rebalancing]` and one
/// `[profiles.<name>]` table per profile.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Gateway security settings.
    #[serde(default)]
    pub security: RawSecurity,
    /// Portfolio limits shared by every profile.
    #[serde(default)]
    pub portfolio: RawPortfolio,
    /// Asset code to category name; adds to or overrides the built-in table.
    #[serde(default)]
    pub categories: BTreeMap<String, String>,
    /// Rebalancing switches and the concentration cap.
    #[serde(default)]
    pub rebalancing: RawRebalancing,
    /// Profiles by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, RawProfile>,
}

/// `[security]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSecurity {
    /// Must stay `true`: credentials are always sealed.
    pub encryption_enabled: bool,
    /// Seconds between key-encryption-key rotations.
    pub key_rotation_interval: u64,
    /// Failed authentications before a principal is locked out.
    pub max_failed_attempts: u32,
    /// Seconds a session lives.
    pub session_timeout: u64,
}

impl Default for RawSecurity {
    fn default() -> Self {
        Self {
            encryption_enabled: true,
            key_rotation_interval: 86_400,
            max_failed_attempts: 3,
            session_timeout: 3_600,
        }
    }
}

/// `[portfolio]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPortfolio {
    /// Fewest assets a profile may target (default 3).
    pub min_assets: Option<u32>,
    /// Assets no profile may trade (default USDT, BUSD, DAI); replaces the default list.
    pub excluded_assets: Option<Vec<String>>,
    /// Category name to cap; adds to or overrides large_cap 0.40, mid_cap 0.20, stablecoin 0.30.
    pub category_caps: BTreeMap<String, Decimal>,
}

/// `[rebalancing]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawRebalancing {
    /// Whether plans are computed at all.
    pub enabled: bool,
    /// Whether targets, thresholds and periods are randomized.
    pub randomization_enabled: bool,
    /// Default and largest randomization factor of any profile.
    pub randomization_factor: Decimal,
    /// Largest weight of one asset in a profile (default 0.25).
    pub max_concentration: Decimal,
}

impl Default for RawRebalancing {
    fn default() -> Self {
        Self {
            enabled: true,
            randomization_enabled: true,
            randomization_factor: Decimal::new(10, 2),
            max_concentration: Decimal::new(25, 2),
        }
    }
}

/// The strategy names accepted in `profiles.<name>.strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    /// Rebalance when a weight drifts past the threshold.
    Threshold,
    /// Rebalance every `rebalance_period` seconds.
    TimeBased,
    /// Inverse volatility and correlation weights.
    RiskAdjusted,
    /// Keep portfolio volatility at or under `target_volatility`.
    VolatilityTarget,
    /// Tilt towards momentum by `momentum_tilt`.
    Momentum,
}

/// `[profiles.<name>]`. Unset limits take the defaults of the profile's `type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    /// The exchange.
    pub exchange: Exchange,
    /// The profile type.
    #[serde(rename = "type")]
    pub kind: ProfileType,
    /// The vault credential it trades with (default `default`); profiles with the same
    /// exchange and credential share an account.
    pub credential: Option<String>,
    /// The asset it trades against and keeps as cash (default `USD`).
    pub quote_asset: Option<String>,
    /// Largest single order as a fraction of the profile's value.
    pub max_position_size: Option<Decimal>,
    /// Largest single order notional in the quote asset (default 50000).
    pub max_order_notional: Option<Decimal>,
    /// Drift that triggers a threshold rebalance.
    pub rebalance_threshold: Option<Decimal>,
    /// Randomization factor (default `rebalancing.randomization_factor`).
    pub randomization_factor: Option<Decimal>,
    /// Asset code to target weight.
    #[serde(default)]
    pub target_allocation: BTreeMap<String, Decimal>,
    /// Rebalancing strategy (default threshold).
    pub strategy: Option<StrategyKind>,
    /// Seconds between rebalances (time_based only).
    pub rebalance_period: Option<u64>,
    /// Price observations for statistics (risk_adjusted, volatility_target, momentum).
    pub lookback: Option<u32>,
    /// Annualized volatility target (volatility_target only).
    pub target_volatility: Option<Decimal>,
    /// Momentum tilt per standard deviation (momentum only).
    pub momentum_tilt: Option<Decimal>,
    /// Fat-finger band around the last price.
    pub price_band: Option<Decimal>,
    /// Orders per rolling minute.
    pub max_orders_per_minute: Option<u32>,
    /// Daily loss breaker.
    pub daily_loss_limit: Option<Decimal>,
    /// Drawdown breaker.
    pub max_drawdown: Option<Decimal>,
    /// State the daily loss breaker moves to (default reducing).
    pub on_daily_loss: Option<BreachAction>,
    /// State the drawdown breaker moves to (default halted).
    pub on_max_drawdown: Option<BreachAction>,
}
