//! tradeguard's performance analytics. No I/O: records and values in, reports out.
//!
//! - [`returns`]: metrics of a return series (time-weighted and annualized return, volatility,
//!   Sharpe, Sortino, Calmar, maximum drawdown) under stated [`Conventions`].
//! - [`equity`]: an equity history with external flows ([`EquitySeries`]) and its
//!   [`EquityReport`]; [`csv`] reads one from the strict `timestamp,value[,flow]` format.
//! - [`ledger`] records (fills, orders, holdings snapshots, prices, flows, rebalances) give a
//!   [`LedgerReport`] per profile, per exchange and overall ([`analyze_ledger`]): returns and
//!   risk, volume, trades, fees, order success rate, portfolio value, concentration over time,
//!   rebalancing frequency and correlation matrices between assets and between profiles.
//! - [`AggregatedLedger`]: the same report from aggregates only, raw fills dropped.
//! - [`signed`]: reports as RFC 8785 canonical JSON with a detached Ed25519 signature, bound
//!   to an audit checkpoint ([`sign_report`], [`verify_report`]).
//!
//! Money stays `rust_decimal::Decimal` up to the period returns; metrics are `f64`.
//! Undefined metrics (too few periods, zero volatility, no drawdown) are `None` (JSON `null`),
//! never NaN, and no input makes these functions panic.
//!
//! ```
//! use tradeguard_analytics::{Conventions, analyze_equity, parse_equity_csv};
//!
//! let csv = "timestamp,value,flow\n2024-01-01,1000,1000\n2024-01-02,1100,0\n2024-01-03,1540,500\n";
//! let series = parse_equity_csv(csv).unwrap();
//! let report = analyze_equity(&series, &Conventions::default()).unwrap();
//! // +10 %, then +(1540 - 500) / 1100 - 1: the deposit is not a gain.
//! let twr = report.metrics.time_weighted_return.unwrap();
//! assert!((twr - (1.1 * (1040.0 / 1100.0) - 1.0)).abs() < 1e-12);
//! assert_eq!(report.profit_and_loss.unwrap().to_string(), "40");
//! ```

#![deny(missing_docs)]

mod activity;
mod aggregate;
mod conventions;
pub mod correlation;
pub mod csv;
mod drawdown;
pub mod equity;
mod error;
pub mod ledger;
mod portfolio;
pub mod returns;
pub mod signed;
mod stats;
mod strict_json;
mod timestamp;
mod valuation;

pub use activity::{ActivityStats, OrderCounts, fill_in_base};
pub use aggregate::{AccountAggregate, AggregatedLedger, FillAggregates};
pub use conventions::{CRYPTO_PERIODS_PER_YEAR, Conventions, ConventionsStatement};
pub use correlation::{CorrelationMatrix, correlation_matrix};
pub use csv::parse_equity_csv;
pub use drawdown::{Drawdown, max_drawdown, wealth_index};
pub use equity::{DrawdownDates, EquityPoint, EquityReport, EquitySeries, analyze_equity};
pub use error::AnalyticsError;
pub use portfolio::{
    ConcentrationPoint, LedgerReport, RebalanceStats, ScopeReport, analyze_ledger, concentration_at,
};
pub use returns::{ReturnMetrics, ReturnSeries, return_metrics};
pub use signed::{
    CheckpointRef, REPORT_FORMAT, Report, ReportBody, ReportError, ReportFormat, SignedReport,
    sign_report, verify_report,
};
pub use timestamp::{SECONDS_PER_YEAR, Timestamp};
pub use valuation::{PriceBook, Scope};
