//! [`EquitySeries`]: portfolio values over time with external flows, and its [`EquityReport`].
//!
//! Values and flows stay `Decimal` until the period returns are formed; profit and loss and
//! net flows are reported exactly, ratios as `f64`.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::returns::{ReturnMetrics, ReturnSeries, return_metrics};
use crate::{AnalyticsError, Conventions, ConventionsStatement, Timestamp};

/// One observation: the portfolio value in the base currency at `time`, measured right after
/// the external `flow` at that time (deposit positive, withdrawal negative, 0 if none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquityPoint {
    /// When the value was measured.
    pub time: Timestamp,
    /// Portfolio value in the base currency, at least 0.
    #[serde(with = "rust_decimal::serde::str")]
    pub value: Decimal,
    /// Net external flow since the previous point, booked at `time`.
    #[serde(with = "rust_decimal::serde::str")]
    pub flow: Decimal,
}

/// An equity history: times strictly increasing, values at least 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EquitySeries(Vec<EquityPoint>);

impl EquitySeries {
    /// Checks the order of times and the sign of values (a negative zero becomes 0).
    pub fn new(mut points: Vec<EquityPoint>) -> Result<Self, AnalyticsError> {
        for p in &mut points {
            for d in [&mut p.value, &mut p.flow] {
                if d.is_zero() {
                    *d = Decimal::ZERO;
                }
            }
        }
        for (index, p) in points.iter().enumerate() {
            if p.value.is_sign_negative() && !p.value.is_zero() {
                return Err(AnalyticsError::InvalidEquity {
                    index,
                    reason: "negative portfolio value",
                });
            }
            if index > 0 && points[index - 1].time >= p.time {
                return Err(AnalyticsError::InvalidEquity {
                    index,
                    reason: "time is not after the previous point's time",
                });
            }
        }
        Ok(Self(points))
    }

    /// The points, oldest first.
    pub fn points(&self) -> &[EquityPoint] {
        &self.0
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Flow-adjusted period returns `r_i = (V_i - F_i) / V_(i-1) - 1`, computed in `Decimal`
    /// and converted to `f64`. A period that starts from 0 has return 0 if it also ends at 0
    /// net of flows, and is an error otherwise.
    pub fn period_returns(&self) -> Result<ReturnSeries, AnalyticsError> {
        let rs = self
            .0
            .windows(2)
            .map(|w| period_return(&w[0], &w[1]))
            .collect::<Result<Vec<f64>, _>>()?;
        ReturnSeries::new(rs).map_err(|e| match e {
            AnalyticsError::InvalidReturn { index, reason } => AnalyticsError::InvalidEquity {
                index: index + 1,
                reason,
            },
            other => other,
        })
    }
}

fn period_return(prev: &EquityPoint, cur: &EquityPoint) -> Result<f64, AnalyticsError> {
    let overflow = AnalyticsError::Overflow {
        what: "a period return",
    };
    let end = cur.value.checked_sub(cur.flow).ok_or(overflow.clone())?;
    if prev.value.is_zero() {
        return if end.is_zero() {
            Ok(0.0)
        } else {
            Err(AnalyticsError::UndefinedReturn { time: cur.time })
        };
    }
    let growth = end.checked_div(prev.value).ok_or(overflow.clone())?;
    let r = growth.checked_sub(Decimal::ONE).ok_or(overflow.clone())?;
    r.to_f64().ok_or(overflow)
}

/// The metrics of one equity history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EquityReport {
    /// How the figures were computed.
    pub conventions: ConventionsStatement,
    /// Number of points read.
    pub observations: usize,
    /// Time of the first point.
    pub start: Option<Timestamp>,
    /// Time of the last point.
    pub end: Option<Timestamp>,
    /// Value at the first point (initial capital; its flow is part of it).
    #[serde(with = "rust_decimal::serde::str_option")]
    pub start_value: Option<Decimal>,
    /// Value at the last point.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub end_value: Option<Decimal>,
    /// Sum of the flows after the first point (deposits minus withdrawals).
    #[serde(with = "rust_decimal::serde::str")]
    pub net_flows: Decimal,
    /// Total return in the base currency: `end_value - start_value - net_flows`.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub profit_and_loss: Option<Decimal>,
    /// Percentage return on capital (Modified Dietz): `pnl / (V_0 + sum(w_i F_i))` with
    /// `w_i = (t_end - t_i) / (t_end - t_start)`. `None` with one point or a denominator <= 0.
    pub modified_dietz_return: Option<f64>,
    /// The return-series metrics (time-weighted: flows removed).
    pub metrics: ReturnMetrics,
    /// Dates of the maximum drawdown.
    pub drawdown_dates: DrawdownDates,
}

/// The dates of a maximum drawdown, from the positions in [`crate::Drawdown`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawdownDates {
    /// When the index stood at the high it then fell from.
    pub peak: Option<Timestamp>,
    /// The lowest point.
    pub trough: Option<Timestamp>,
    /// When it was back at the high; `None` if it has not recovered.
    pub recovery: Option<Timestamp>,
}

/// Computes the [`EquityReport`] of `series`. Errors only when a period return is undefined.
pub fn analyze_equity(
    series: &EquitySeries,
    conventions: &Conventions,
) -> Result<EquityReport, AnalyticsError> {
    let pts = series.points();
    let metrics = return_metrics(&series.period_returns()?, conventions);
    let at = |i: Option<usize>| i.and_then(|i| pts.get(i)).map(|p| p.time);
    let dd = metrics.max_drawdown;
    let net_flows = pts
        .iter()
        .skip(1)
        .try_fold(Decimal::ZERO, |acc, p| acc.checked_add(p.flow))
        .ok_or(AnalyticsError::Overflow { what: "net flows" })?;
    let pnl = profit_and_loss(pts, net_flows)?;
    Ok(EquityReport {
        conventions: conventions.statement(),
        observations: pts.len(),
        start: pts.first().map(|p| p.time),
        end: pts.last().map(|p| p.time),
        start_value: pts.first().map(|p| p.value),
        end_value: pts.last().map(|p| p.value),
        net_flows,
        profit_and_loss: pnl,
        modified_dietz_return: pnl.and_then(|pnl| modified_dietz(pts, pnl)),
        drawdown_dates: DrawdownDates {
            peak: at(dd.peak),
            trough: at(dd.trough),
            recovery: at(dd.recovery),
        },
        metrics,
    })
}

fn profit_and_loss(
    pts: &[EquityPoint],
    net_flows: Decimal,
) -> Result<Option<Decimal>, AnalyticsError> {
    let (Some(first), Some(last)) = (pts.first(), pts.last()) else {
        return Ok(None);
    };
    last.value
        .checked_sub(first.value)
        .and_then(|d| d.checked_sub(net_flows))
        .map(Some)
        .ok_or(AnalyticsError::Overflow {
            what: "profit and loss",
        })
}

fn modified_dietz(pts: &[EquityPoint], pnl: Decimal) -> Option<f64> {
    let (first, last) = (pts.first()?, pts.last()?);
    let span = last.time.seconds_since(&first.time);
    if pts.len() < 2 || span <= 0.0 {
        return None;
    }
    let weighted: f64 = crate::stats::sum(pts.iter().skip(1).map(|p| {
        let w = last.time.seconds_since(&p.time) / span;
        w * p.flow.to_f64().unwrap_or(f64::NAN)
    }));
    let capital = first.value.to_f64()? + weighted;
    let r = pnl.to_f64()? / capital;
    (capital > 0.0 && r.is_finite()).then_some(r)
}
