//! A pure backtest engine: runs a configuration's profiles over a price history (parsed from
//! CSV or simulated from a seed) with fees, and reports per profile the largest concentration
//! reached, the rebalances, turnover, fees, refusals and how predictable the rebalances were,
//! with or without randomization.
//!
//! ```
//! use tradeguard_risk::backtest::{run, BacktestOptions, Simulation};
//! use tradeguard_risk::config::{check, DEMO_CONFIG};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = check(DEMO_CONFIG)?;
//! let history = Simulation::hourly(&config.assets(), &config.limits, 0.02, 42).run()?; // about a week
//! let report = run(&config, &history, &BacktestOptions::new(42, true)?, &mut |_, _| {})?;
//! assert_eq!(report.profiles.len(), config.profiles.len());
//! assert!(report.profiles.iter().all(|p| p.rebalances >= 1));
//! # Ok(())
//! # }
//! ```

mod engine;
pub mod history;
pub mod predictability;
mod report;
pub mod simulate;

pub use engine::{BacktestOptions, BacktestReport, Counts, run};
pub use history::{PriceHistory, parse_csv};
pub use predictability::Predictability;
pub use report::ProfileReport;
pub use simulate::{AssetModel, Simulation};

#[cfg(test)]
mod tests;
