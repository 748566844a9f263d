//! Per-profile backtest metrics: largest concentration, rebalances, turnover, fees, refusals,
//! breaker trips and how predictable the rebalances were.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::engine::Counts;
use super::predictability::Predictability;
use crate::ids::{Asset, ProfileId, Timestamp};
use crate::market::Valuation;
use crate::profile::{Profile, ProfileType, TradingState};

/// What happened to one profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileReport {
    /// The profile.
    pub profile: ProfileId,
    /// Its type.
    pub kind: ProfileType,
    /// Its strategy's name.
    pub strategy: &'static str,
    /// Value at the start.
    pub initial_value: Decimal,
    /// Value at the end.
    pub final_value: Decimal,
    /// Largest weight any asset reached at any step (drift between rebalances included).
    pub max_concentration: Decimal,
    /// The asset that reached it.
    pub max_concentration_asset: Option<Asset>,
    /// Largest fall of the value from a peak, as a fraction.
    pub max_drawdown: f64,
    /// Rebalances that traded.
    pub rebalances: usize,
    /// Orders filled.
    pub orders: u64,
    /// Notional traded, in the quote asset.
    pub turnover: Decimal,
    /// Turnover over the average value.
    pub turnover_ratio: f64,
    /// Fees paid.
    pub fees: Decimal,
    /// Orders refused, by rejection code.
    pub refusals: Counts,
    /// Planned trades skipped, by reason code.
    pub skipped: Counts,
    /// Times the profile left ACTIVE because a breaker tripped.
    pub breaker_trips: u64,
    /// Steps spent REDUCING.
    pub reducing_steps: u64,
    /// Steps spent HALTED.
    pub halted_steps: u64,
    /// Mean time between rebalances, in hours.
    pub mean_interval_hours: Option<f64>,
    /// Predictability of the intervals between rebalances.
    pub intervals: Predictability,
    /// Predictability of the rebalance sizes (notional over value).
    pub sizes: Predictability,
}

/// Accumulates a profile's metrics during a run.
#[derive(Debug, Default)]
pub(super) struct Metrics {
    max_concentration: Decimal,
    max_concentration_asset: Option<Asset>,
    peak: f64,
    max_drawdown: f64,
    value_sum: f64,
    steps: u64,
    last_value: Decimal,
    times: Vec<Timestamp>,
    sizes: Vec<f64>,
    orders: u64,
    turnover: Decimal,
    fees: Decimal,
    pub refusals: Counts,
    pub skipped: Counts,
    pub breaker_trips: u64,
    reducing_steps: u64,
    halted_steps: u64,
}

impl Metrics {
    /// Counts a step spent in `state`.
    pub fn in_state(&mut self, state: TradingState) {
        match state {
            TradingState::Active => {}
            TradingState::Reducing => self.reducing_steps += 1,
            TradingState::Halted => self.halted_steps += 1,
        }
    }

    /// Records the valuation at one step.
    pub fn observe(&mut self, v: &Valuation<'_>, _now: Timestamp) {
        for asset in v.values.keys() {
            let w = v.weight(asset);
            if w > self.max_concentration {
                self.max_concentration = w;
                self.max_concentration_asset = Some((*asset).clone());
            }
        }
        let value = v.total.to_f64().unwrap_or(0.0);
        self.peak = self.peak.max(value);
        if self.peak > 0.0 {
            self.max_drawdown = self.max_drawdown.max((self.peak - value) / self.peak);
        }
        self.value_sum += value;
        self.steps += 1;
        self.last_value = v.total;
    }

    /// Records one fill.
    pub fn filled(&mut self, notional: Decimal, fee: Decimal) {
        self.orders += 1;
        self.turnover += notional;
        self.fees += fee;
    }

    /// Records a rebalance that traded `notional` of a profile worth `value`.
    pub fn rebalanced(&mut self, at: Timestamp, notional: Decimal, value: Decimal) {
        self.times.push(at);
        let size = if value > Decimal::ZERO {
            (notional / value).to_f64().unwrap_or(0.0)
        } else {
            0.0
        };
        self.sizes.push(size);
    }

    /// The final report.
    pub fn report(self, profile: &Profile, initial_value: Decimal) -> ProfileReport {
        let hours: Vec<f64> = self
            .times
            .windows(2)
            .map(|w| (w[1].as_millis() - w[0].as_millis()) as f64 / 3_600_000.0)
            .collect();
        let mean_interval_hours =
            (!hours.is_empty()).then(|| hours.iter().sum::<f64>() / hours.len() as f64);
        let avg_value = if self.steps > 0 {
            self.value_sum / self.steps as f64
        } else {
            0.0
        };
        let turnover_ratio = if avg_value > 0.0 {
            self.turnover.to_f64().unwrap_or(0.0) / avg_value
        } else {
            0.0
        };
        // The first rebalance buys the whole portfolio from cash; it says nothing about
        // predictability, so sizes are measured from the second one on.
        let sizes = self.sizes.get(1..).unwrap_or_default();
        ProfileReport {
            profile: profile.id.clone(),
            kind: profile.kind,
            strategy: profile.strategy.name(),
            initial_value,
            final_value: self.last_value,
            max_concentration: self.max_concentration,
            max_concentration_asset: self.max_concentration_asset,
            max_drawdown: self.max_drawdown,
            rebalances: self.times.len(),
            orders: self.orders,
            turnover: self.turnover,
            turnover_ratio,
            fees: self.fees,
            refusals: self.refusals,
            skipped: self.skipped,
            breaker_trips: self.breaker_trips,
            reducing_steps: self.reducing_steps,
            halted_steps: self.halted_steps,
            mean_interval_hours,
            intervals: Predictability::of(&hours),
            sizes: Predictability::of(sizes),
        }
    }
}
