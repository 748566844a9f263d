//! [`ReturnSeries`] and the metrics of one: compounded and annualized return, volatility,
//! Sharpe, Sortino, Calmar and maximum drawdown.

use serde::{Deserialize, Serialize};

use crate::drawdown::{Drawdown, max_drawdown};
use crate::{AnalyticsError, Conventions, stats};

/// Simple period returns (0.01 for +1 %), each finite and at least -1.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReturnSeries(Vec<f64>);

impl ReturnSeries {
    /// Checks every return: finite and not below -1 (a loss cannot exceed the capital).
    pub fn new(returns: Vec<f64>) -> Result<Self, AnalyticsError> {
        for (index, r) in returns.iter().enumerate() {
            if !r.is_finite() {
                return Err(AnalyticsError::InvalidReturn {
                    index,
                    reason: "not a finite number",
                });
            }
            if *r < -1.0 {
                return Err(AnalyticsError::InvalidReturn {
                    index,
                    reason: "below -1: the period lost more than its starting value",
                });
            }
        }
        Ok(Self(returns))
    }

    /// The returns.
    pub fn as_slice(&self) -> &[f64] {
        &self.0
    }

    /// Number of periods.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no periods.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The metrics of a return series under stated [`Conventions`]. `None` means undefined for
/// this input (too few periods, or a zero denominator); see each field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReturnMetrics {
    /// Number of return periods N.
    pub periods: usize,
    /// `prod(1 + r_i) - 1`: the time-weighted return. `None` when N = 0.
    pub time_weighted_return: Option<f64>,
    /// `(1 + twr)^(periods_per_year / N) - 1`. `None` when N = 0.
    pub annualized_return: Option<f64>,
    /// `std(r, ddof=1) * sqrt(periods_per_year)`. `None` when N < 2.
    pub annualized_volatility: Option<f64>,
    /// `mean(r - rf_p) / std(r - rf_p, ddof=1) * sqrt(periods_per_year)`. `None` when N < 2 or
    /// every return is equal.
    pub sharpe: Option<f64>,
    /// `mean(r - rf_p) / downside_deviation * sqrt(periods_per_year)`, the downside deviation
    /// being `sqrt(sum(min(r - rf_p, 0)^2) / N)`. `None` when N < 2 or no return is below
    /// `rf_p`.
    pub sortino: Option<f64>,
    /// `annualized_return / max_drawdown`. `None` when there was no drawdown.
    pub calmar: Option<f64>,
    /// The maximum drawdown with its positions.
    pub max_drawdown: Drawdown,
}

/// Computes [`ReturnMetrics`] of `series` under `conventions`. Never panics.
pub fn return_metrics(series: &ReturnSeries, conventions: &Conventions) -> ReturnMetrics {
    let r = series.as_slice();
    let n = r.len();
    let ppy = f64::from(conventions.periods_per_year());
    let rf = conventions.risk_free_rate_per_period();
    let twr = compounded(r);
    let annualized = twr.map(|t| (1.0 + t).powf(ppy / n as f64) - 1.0);
    let dd = max_drawdown(r);
    let excess: Vec<f64> = r.iter().map(|x| x - rf).collect();
    ReturnMetrics {
        periods: n,
        time_weighted_return: twr,
        annualized_return: annualized,
        annualized_volatility: stats::sample_std(r).map(|s| s * ppy.sqrt()),
        sharpe: sharpe(&excess, ppy),
        sortino: sortino(&excess, ppy),
        calmar: calmar(annualized, dd.depth),
        max_drawdown: dd,
    }
}

/// `prod(1 + r_i) - 1`, `None` for an empty series.
pub fn compounded(r: &[f64]) -> Option<f64> {
    (!r.is_empty()).then(|| r.iter().fold(1.0, |w, x| w * (1.0 + x)) - 1.0)
}

fn sharpe(excess: &[f64], ppy: f64) -> Option<f64> {
    let sd = stats::sample_std(excess)?;
    finite_ratio(stats::mean(excess)?, sd).map(|s| s * ppy.sqrt())
}

fn sortino(excess: &[f64], ppy: f64) -> Option<f64> {
    if excess.len() < 2 {
        return None;
    }
    let dd = stats::downside_deviation(excess, 0.0)?;
    finite_ratio(stats::mean(excess)?, dd).map(|s| s * ppy.sqrt())
}

fn calmar(annualized: Option<f64>, depth: Option<f64>) -> Option<f64> {
    finite_ratio(annualized?, depth?)
}

/// `num / den` when `den` is non-zero and the result is finite.
fn finite_ratio(num: f64, den: f64) -> Option<f64> {
    if den == 0.0 {
        return None;
    }
    let q = num / den;
    q.is_finite().then_some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(r: &[f64]) -> ReturnMetrics {
        return_metrics(
            &ReturnSeries::new(r.to_vec()).unwrap(),
            &Conventions::default(),
        )
    }

    #[test]
    fn degenerate_series_give_none_not_nan() {
        let empty = metrics(&[]);
        assert_eq!(empty.time_weighted_return, None);
        assert_eq!(empty.annualized_return, None);
        assert_eq!(empty.sharpe, None);
        assert_eq!(empty.max_drawdown.depth, None);
        let one = metrics(&[0.01]);
        assert_eq!(one.annualized_volatility, None);
        assert_eq!(one.sharpe, None);
        assert_eq!(one.sortino, None);
        assert!(one.time_weighted_return.is_some());
        let flat = metrics(&[0.001, 0.001, 0.001]);
        assert_eq!(flat.annualized_volatility, Some(0.0));
        assert_eq!(flat.sharpe, None, "zero volatility");
        assert_eq!(flat.sortino, None, "no downside");
        assert_eq!(flat.calmar, None, "no drawdown");
    }

    #[test]
    fn known_values_against_hand_computation() {
        let m = metrics(&[0.1, -0.05]);
        let twr = 1.1 * 0.95 - 1.0;
        assert_eq!(m.time_weighted_return, Some(twr));
        let ann = (1.0 + twr).powf(365.0 / 2.0) - 1.0;
        assert_eq!(m.annualized_return, Some(ann));
        // std([0.1, -0.05], ddof=1) = 0.15 / sqrt(2)
        let sd = 0.15 / 2f64.sqrt();
        let vol = m.annualized_volatility.unwrap();
        assert!((vol - sd * 365f64.sqrt()).abs() < 1e-12);
        let sharpe = m.sharpe.unwrap();
        assert!((sharpe - 0.025 / sd * 365f64.sqrt()).abs() < 1e-9);
        // downside deviation sqrt(0.05^2 / 2)
        let sortino = m.sortino.unwrap();
        assert!((sortino - 0.025 / (0.0025f64 / 2.0).sqrt() * 365f64.sqrt()).abs() < 1e-9);
        assert!((m.max_drawdown.depth.unwrap() - 0.05).abs() < 1e-15);
    }

    #[test]
    fn fail_invalid_returns() {
        let cases = [vec![f64::NAN], vec![0.0, f64::INFINITY], vec![-1.5]];
        for (i, c) in cases.into_iter().enumerate() {
            assert!(ReturnSeries::new(c).is_err(), "TC{i} failed");
        }
    }
}
