//! Portfolio profiles: their type and defaults, their limits and their rebalancing strategy.

use std::collections::BTreeMap;
use std::time::Duration;

use rust_decimal::Decimal;

use crate::ids::{AccountId, Asset, ProfileId};

/// A profile's risk appetite. Each type brings defaults; every one can be overridden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileType {
    /// Small positions, tight rebalancing.
    Conservative,
    /// Medium positions.
    Moderate,
    /// Large positions, loose rebalancing.
    Aggressive,
    /// Large, quick positions with a tight rebalancing band.
    Arbitrage,
}

/// The defaults a [`ProfileType`] brings (fractions are of the profile's value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeDefaults {
    /// Largest single order, as a fraction of the profile's value.
    pub max_position_size: Decimal,
    /// Deviation from target that triggers a threshold rebalance.
    pub rebalance_threshold: Decimal,
    /// Loss since the start of the UTC day that trips the daily loss breaker.
    pub daily_loss_limit: Decimal,
    /// Fall from the peak value that trips the drawdown breaker.
    pub max_drawdown: Decimal,
    /// Largest deviation of a limit price from the last price (fat-finger band).
    pub price_band: Decimal,
    /// Orders allowed per rolling minute.
    pub max_orders_per_minute: u32,
}

const fn pct(n: i64) -> Decimal {
    Decimal::from_parts(n as u32, 0, 0, false, 2)
}

impl ProfileType {
    /// This type's defaults: conservative 5% / 3%, moderate 10% / 5%, aggressive 15% / 8%,
    /// arbitrage 20% / 2% (max position / rebalancing threshold).
    pub const fn defaults(self) -> TypeDefaults {
        let (pos, thr, day, dd, band, rate) = match self {
            Self::Conservative => (5, 3, 5, 25, 2, 10),
            Self::Moderate => (10, 5, 8, 35, 5, 20),
            Self::Aggressive => (15, 8, 12, 50, 5, 30),
            Self::Arbitrage => (20, 2, 3, 15, 1, 120),
        };
        TypeDefaults {
            max_position_size: pct(pos),
            rebalance_threshold: pct(thr),
            daily_loss_limit: pct(day),
            max_drawdown: pct(dd),
            price_band: pct(band),
            max_orders_per_minute: rate,
        }
    }
}

/// Whether a profile may trade.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum TradingState {
    /// Every order that passes the other checks is allowed.
    Active,
    /// Only orders that reduce exposure (sells) are allowed.
    Reducing,
    /// No order is allowed.
    Halted,
}

/// The state a breaker moves a profile to when it trips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BreachAction {
    /// Allow only exposure-reducing orders.
    Reducing,
    /// Allow no order.
    Halted,
}

impl BreachAction {
    /// The trading state this action moves the profile to.
    pub const fn state(self) -> TradingState {
        match self {
            Self::Reducing => TradingState::Reducing,
            Self::Halted => TradingState::Halted,
        }
    }
}

/// How a profile decides when to rebalance and to which targets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    /// Rebalance to the configured targets when a weight drifts past the threshold.
    Threshold,
    /// Rebalance to the configured targets every `period`.
    TimeBased {
        /// Time between rebalances (before randomization).
        period: Duration,
    },
    /// Scale targets by inverse volatility and by how little each asset correlates with the
    /// others; triggered by the threshold.
    RiskAdjusted {
        /// Number of price observations used for volatility and correlation.
        lookback: usize,
    },
    /// Scale the invested fraction so the portfolio's volatility stays at or below `target`
    /// (annualized; no leverage); triggered by the threshold.
    VolatilityTarget {
        /// Annualized volatility to aim for, such as 0.40.
        target: f64,
        /// Number of price observations used for volatility and correlation.
        lookback: usize,
    },
    /// Tilt targets towards assets with the strongest return over `lookback`; triggered by the
    /// threshold.
    Momentum {
        /// Number of price observations the return is measured over.
        lookback: usize,
        /// Strength of the tilt per standard deviation of momentum, such as 0.5.
        tilt: f64,
    },
}

impl Strategy {
    /// The strategy's configuration name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Threshold => "threshold",
            Self::TimeBased { .. } => "time_based",
            Self::RiskAdjusted { .. } => "risk_adjusted",
            Self::VolatilityTarget { .. } => "volatility_target",
            Self::Momentum { .. } => "momentum",
        }
    }

    /// The number of observations this strategy needs, if it uses market statistics.
    pub fn lookback(&self) -> Option<usize> {
        match *self {
            Self::Threshold | Self::TimeBased { .. } => None,
            Self::RiskAdjusted { lookback }
            | Self::VolatilityTarget { lookback, .. }
            | Self::Momentum { lookback, .. } => Some(lookback),
        }
    }
}

/// A profile's validated settings. Built by [`crate::config::check`]; the checks handle any
/// values without panicking, but only a checked configuration guarantees they agree.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The profile's id.
    pub id: ProfileId,
    /// The exchange account it trades through.
    pub account: AccountId,
    /// Its risk appetite.
    pub kind: ProfileType,
    /// The asset it prices in and trades against (its cash).
    pub quote: Asset,
    /// Target weight of each asset it trades; the rest of its value stays in cash.
    pub targets: BTreeMap<Asset, Decimal>,
    /// Largest single order, as a fraction of the profile's value.
    pub max_position_size: Decimal,
    /// Largest single order notional, in the quote asset.
    pub max_order_notional: Decimal,
    /// Deviation from target that triggers a threshold rebalance.
    pub rebalance_threshold: Decimal,
    /// Targets, thresholds and periods move by up to this fraction at random.
    pub randomization_factor: Decimal,
    /// When and to what it rebalances.
    pub strategy: Strategy,
    /// Largest deviation of a limit price from the last price.
    pub price_band: Decimal,
    /// Orders allowed per rolling minute.
    pub max_orders_per_minute: u32,
    /// Loss since the start of the UTC day that trips the daily loss breaker.
    pub daily_loss_limit: Decimal,
    /// Fall from the peak value that trips the drawdown breaker.
    pub max_drawdown: Decimal,
    /// Where the daily loss breaker moves the profile.
    pub on_daily_loss: BreachAction,
    /// Where the drawdown breaker moves the profile.
    pub on_max_drawdown: BreachAction,
}

impl Profile {
    /// A profile with the defaults of `kind`, the given targets, quoted in `quote`, with no
    /// randomization and the threshold strategy.
    pub fn with_defaults(
        id: ProfileId,
        account: AccountId,
        kind: ProfileType,
        quote: Asset,
        targets: BTreeMap<Asset, Decimal>,
    ) -> Self {
        let d = kind.defaults();
        Self {
            id,
            account,
            kind,
            quote,
            targets,
            max_position_size: d.max_position_size,
            max_order_notional: Decimal::new(DEFAULT_MAX_ORDER_NOTIONAL, 0),
            rebalance_threshold: d.rebalance_threshold,
            randomization_factor: Decimal::ZERO,
            strategy: Strategy::Threshold,
            price_band: d.price_band,
            max_orders_per_minute: d.max_orders_per_minute,
            daily_loss_limit: d.daily_loss_limit,
            max_drawdown: d.max_drawdown,
            on_daily_loss: BreachAction::Reducing,
            on_max_drawdown: BreachAction::Halted,
        }
    }

    /// `true` when `asset` is in this profile's asset set.
    pub fn trades(&self, asset: &Asset) -> bool {
        self.targets.contains_key(asset)
    }
}

/// Default largest order notional, in the quote asset.
pub const DEFAULT_MAX_ORDER_NOTIONAL: i64 = 50_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_defaults_match_the_issue() {
        let cases = [
            (ProfileType::Conservative, "0.05", "0.03"),
            (ProfileType::Moderate, "0.10", "0.05"),
            (ProfileType::Aggressive, "0.15", "0.08"),
            (ProfileType::Arbitrage, "0.20", "0.02"),
        ];
        for (i, (kind, pos, thr)) in cases.iter().enumerate() {
            let d = kind.defaults();
            assert_eq!(
                d.max_position_size,
                pos.parse::<Decimal>().unwrap(),
                "TC{i} failed: position"
            );
            assert_eq!(
                d.rebalance_threshold,
                thr.parse::<Decimal>().unwrap(),
                "TC{i} failed: threshold"
            );
        }
    }

    #[test]
    fn trading_states_are_ordered_by_severity() {
        assert!(TradingState::Active < TradingState::Reducing);
        assert!(TradingState::Reducing < TradingState::Halted);
    }
}
