//! The signed report's performance figures from the equity history ([`super::equity`]): each
//! scope's value, return (profit and loss, Modified Dietz, time-weighted with flows removed),
//! annualized volatility, maximum drawdown with its dates, Sharpe, Sortino, Calmar and
//! concentration over time, computed by `tradeguard_analytics::analyze_equity`, and the
//! correlation of the profiles' period returns and of the assets' price returns.
//!
//! - A profile: its own snapshots.
//! - An exchange: the sum of its accounts' snapshots, at the poll times when every one of its
//!   accounts was valued (the recorder stamps all snapshots of one poll with the same time);
//!   overall: the same over every account. An account added later makes the aggregate start
//!   at its first snapshot.
//! - Only snapshots in the report's base currency count; a scope valued in another quote asset
//!   is left out of the report rather than mixed.
//!
//! Conventions (`[analytics]`, [`AnalyticsConfig`]): a return period is one poll interval
//! (`period = "poll"`, `periods_per_year` a year of 365.25 days over the interval: 105,192 at
//! 300 s) or one UTC day (`period = "day"`: the last snapshot of each day, flows of the day
//! summed into it, 365 periods per year); `periods_per_year` and the annual `risk_free_rate`
//! (converted geometrically per period) can be set; standard deviations use ddof = 1. The
//! report states them. With fewer than two snapshots a scope's returns are `null` (its
//! `observations` says how many there were), with fewer than three its volatility and ratios
//! are. Concentration over time is thinned to at most [`MAX_CONCENTRATION_POINTS`] per scope;
//! rebalances per year are counted over the span of the profile's history.
//!
//! The asset correlation pairs the period returns of each asset's price in the base currency
//! (the marks the snapshots were valued at, migration 0007, resampled like the snapshots); a
//! pair with fewer than [`MIN_COMMON_RETURNS`] common returns is `null`, and an asset with
//! fewer returns of its own is not listed.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;
use tradeguard_analytics::ledger::{Asset, ExchangeId, ProfileId};
use tradeguard_analytics::{
    ActivityStats, AnalyticsError, CRYPTO_PERIODS_PER_YEAR, ConcentrationPoint, Conventions,
    ConventionsStatement, EquityPoint, EquitySeries, LedgerReport, RebalanceStats,
    SECONDS_PER_YEAR, Scope, ScopeReport, Timestamp, analyze_equity, concentration_at,
    correlation_matrix,
};
use tradeguard_store::equity::{EquityRow, EquityScope};
use tradeguard_store::prices::PriceMarkRow;

/// At most this many concentration points per scope (evenly spread in time, first and last
/// kept), so the report stays small however long the history.
pub const MAX_CONCENTRATION_POINTS: usize = 500;

/// An asset pair is correlated over at least this many common period returns.
pub const MIN_COMMON_RETURNS: usize = 3;

const DAY_MS: i64 = 86_400_000;

/// What one return period is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// One poll interval: every snapshot.
    #[default]
    Poll,
    /// One UTC day: the last snapshot of each day.
    Day,
}

/// `[analytics]`: the conventions of the signed report.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyticsConfig {
    /// `"poll"` (default) or `"day"`.
    pub period: Period,
    /// Return periods per year; default 365 for `day`, 365.25 days over the poll interval for
    /// `poll`.
    pub periods_per_year: Option<u32>,
    /// The annual risk-free rate (0.04 for 4 %, default 0), converted geometrically per period.
    pub risk_free_rate: f64,
    /// Aggregated-only mode: keep daily totals of fills and drop each fill once its order is
    /// final ([`super::fill_fold`]); `order.filled` withholds the trade. Default false.
    pub aggregated_only: bool,
}

impl AnalyticsConfig {
    /// The report's conventions when accounts are polled every `interval_secs`; an error names
    /// the value analytics refuses.
    pub fn conventions(&self, interval_secs: u64) -> Result<Conventions, AnalyticsError> {
        let per_year = match (self.periods_per_year, self.period) {
            (Some(n), _) => n,
            (None, Period::Day) => CRYPTO_PERIODS_PER_YEAR,
            (None, Period::Poll) => {
                let n = (SECONDS_PER_YEAR / interval_secs.max(1) as f64).round();
                n.clamp(1.0, f64::from(u32::MAX)) as u32
            }
        };
        Conventions::new(per_year, self.risk_free_rate)
    }

    /// The conventions as the report states them, with what a period is.
    pub fn statement(&self, conventions: &Conventions) -> ConventionsStatement {
        let mut s = conventions.statement();
        s.definitions.push_str(match self.period {
            Period::Poll => "; a period is one poll interval (every equity snapshot)",
            Period::Day => {
                "; a period is one UTC day (the last equity snapshot of each day, the flows of \
                 the day summed into it)"
            }
        });
        s
    }
}

/// One valuation as the report reads it.
#[derive(Clone, Debug, PartialEq)]
struct Point {
    time_ms: i64,
    value: Decimal,
    flow: Decimal,
    assets: BTreeMap<Asset, Decimal>,
}

impl Point {
    fn parse(r: &EquityRow) -> Option<Self> {
        let assets: BTreeMap<String, Decimal> = serde_json::from_str(&r.assets).ok()?;
        Some(Self {
            time_ms: r.time_ms,
            value: r.value.parse().ok()?,
            flow: r.flow.parse().ok()?,
            assets: assets
                .into_iter()
                .map(|(a, v)| Some((Asset::new(a).ok()?, v)))
                .collect::<Option<_>>()?,
        })
    }

    fn add(&mut self, o: &Point) -> Option<()> {
        self.value = self.value.checked_add(o.value)?;
        self.flow = self.flow.checked_add(o.flow)?;
        for (a, v) in &o.assets {
            let slot = self.assets.entry(a.clone()).or_default();
            *slot = slot.checked_add(*v)?;
        }
        Some(())
    }
}

/// The equity history of every scope of a report.
#[derive(Debug, Default)]
pub struct Histories {
    profiles: BTreeMap<ProfileId, Vec<Point>>,
    exchanges: BTreeMap<ExchangeId, Vec<Point>>,
    overall: Vec<Point>,
    /// Each asset's price in the base currency, oldest first.
    prices: BTreeMap<Asset, Vec<(i64, Decimal)>>,
}

impl Histories {
    /// Groups `rows` (oldest first) into scopes, keeping those valued in `base`. Rows that do
    /// not parse are left out with a warning.
    pub fn new(rows: &[EquityRow], base: &Asset) -> Self {
        let mut out = Self::default();
        // Account snapshots per poll time: (account, exchange) -> point.
        let mut polls: BTreeMap<i64, BTreeMap<(String, ExchangeId), Point>> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.quote == base.as_str()) {
            let (Some(p), Ok(exchange)) = (Point::parse(r), ExchangeId::new(r.exchange.as_str()))
            else {
                tracing::warn!(scope = %r.scope, time_ms = r.time_ms, "equity snapshot unreadable; left out of the report");
                continue;
            };
            match r.kind {
                EquityScope::Profile => match ProfileId::new(r.scope.as_str()) {
                    Ok(id) => out.profiles.entry(id).or_default().push(p),
                    Err(_) => continue,
                },
                EquityScope::Account => {
                    polls
                        .entry(r.time_ms)
                        .or_default()
                        .insert((r.scope.clone(), exchange), p);
                }
            }
        }
        let accounts: BTreeSet<(String, ExchangeId)> =
            polls.values().flat_map(|m| m.keys().cloned()).collect();
        let exchanges: BTreeSet<&ExchangeId> = accounts.iter().map(|(_, e)| e).collect();
        for e in exchanges {
            let members = accounts.iter().filter(|(_, x)| x == e).collect();
            out.exchanges.insert(e.clone(), aggregate(&polls, &members));
        }
        out.overall = aggregate(&polls, &accounts.iter().collect());
        out
    }

    /// The same histories with `marks` (oldest first) as the assets' prices, keeping those
    /// priced in `base`. Marks that do not parse are left out.
    pub fn with_prices(mut self, marks: &[PriceMarkRow], base: &Asset) -> Self {
        for m in marks.iter().filter(|m| m.quote == base.as_str()) {
            let (Ok(asset), Ok(price)) = (Asset::new(m.asset.as_str()), m.price.parse()) else {
                tracing::warn!(asset = %m.asset, time_ms = m.time_ms, "price mark unreadable; left out of the report");
                continue;
            };
            self.prices
                .entry(asset)
                .or_default()
                .push((m.time_ms, price));
        }
        self
    }

    /// The same histories with one point per period: unchanged for [`Period::Poll`], the last
    /// snapshot of each UTC day for [`Period::Day`].
    pub fn resampled(self, period: Period) -> Self {
        match period {
            Period::Poll => self,
            Period::Day => Self {
                profiles: self
                    .profiles
                    .into_iter()
                    .map(|(k, v)| (k, daily(v)))
                    .collect(),
                exchanges: self
                    .exchanges
                    .into_iter()
                    .map(|(k, v)| (k, daily(v)))
                    .collect(),
                overall: daily(self.overall),
                prices: self
                    .prices
                    .into_iter()
                    .map(|(k, v)| (k, daily_prices(v)))
                    .collect(),
            },
        }
    }

    /// Puts each scope's performance into `report`, adding the profiles and exchanges that
    /// have a history but no trading activity.
    pub fn apply(
        &self,
        report: &mut LedgerReport,
        conventions: &Conventions,
    ) -> Result<(), AnalyticsError> {
        for (id, points) in &self.profiles {
            let scope = Scope::Profile(id.clone());
            let entry = entry(&mut report.by_profile, id.to_string(), scope)?;
            fill(entry, points, conventions)?;
        }
        for (id, points) in &self.exchanges {
            let scope = Scope::Exchange(id.clone());
            let entry = entry(&mut report.by_exchange, id.to_string(), scope)?;
            fill(entry, points, conventions)?;
        }
        fill(&mut report.overall, &self.overall, conventions)?;
        report.profile_correlation = self.profile_correlation();
        report.asset_correlation = self.asset_correlation();
        Ok(())
    }

    /// Pearson correlation of the assets' price returns, pairwise over the periods (between
    /// consecutive times of any asset's prices) where both have a return; see the module
    /// documentation for the pairs left out.
    fn asset_correlation(&self) -> tradeguard_analytics::CorrelationMatrix {
        let grid: BTreeSet<i64> = self
            .prices
            .values()
            .flat_map(|v| v.iter().map(|(t, _)| *t))
            .collect();
        let grid: Vec<i64> = grid.into_iter().collect();
        let (labels, series): (Vec<String>, Vec<Vec<Option<f64>>>) = self
            .prices
            .iter()
            .map(|(asset, prices)| {
                let at: BTreeMap<i64, Decimal> = prices.iter().copied().collect();
                let returns = grid
                    .windows(2)
                    .map(|w| price_return(*at.get(&w[0])?, *at.get(&w[1])?))
                    .collect();
                (asset.to_string(), returns)
            })
            .filter(|(_, r): &(String, Vec<Option<f64>>)| {
                r.iter().flatten().count() >= MIN_COMMON_RETURNS
            })
            .unzip();
        let mut m = correlation_matrix(labels, &series);
        for (i, row) in m.values.iter_mut().enumerate() {
            for (j, c) in row.iter_mut().enumerate() {
                let common = series[i]
                    .iter()
                    .zip(&series[j])
                    .filter(|(x, y)| x.is_some() && y.is_some())
                    .count();
                if common < MIN_COMMON_RETURNS {
                    *c = None;
                }
            }
        }
        m
    }

    /// Pearson correlation of the profiles' period returns, pairwise over the periods (between
    /// consecutive times of any profile's history) where both have a return.
    fn profile_correlation(&self) -> tradeguard_analytics::CorrelationMatrix {
        let grid: BTreeSet<i64> = self
            .profiles
            .values()
            .flat_map(|v| v.iter().map(|p| p.time_ms))
            .collect();
        let grid: Vec<i64> = grid.into_iter().collect();
        let series: Vec<Vec<Option<f64>>> = self
            .profiles
            .values()
            .map(|points| {
                let at: BTreeMap<i64, &Point> = points.iter().map(|p| (p.time_ms, p)).collect();
                grid.windows(2)
                    .map(|w| period_return(at.get(&w[0])?, at.get(&w[1])?))
                    .collect()
            })
            .collect();
        let labels = self.profiles.keys().map(|p| p.to_string()).collect();
        correlation_matrix(labels, &series)
    }
}

/// `(V1 - F1) / V0 - 1`; `None` when `V0` is 0.
fn period_return(start: &Point, end: &Point) -> Option<f64> {
    if start.value.is_zero() {
        return None;
    }
    let grown = end.value.checked_sub(end.flow)?.checked_div(start.value)?;
    (grown - Decimal::ONE).to_f64()
}

/// `P1 / P0 - 1`; `None` when `P0` is 0.
fn price_return(start: Decimal, end: Decimal) -> Option<f64> {
    end.checked_div(start)?.checked_sub(Decimal::ONE)?.to_f64()
}

/// The last price of each UTC day.
fn daily_prices(prices: Vec<(i64, Decimal)>) -> Vec<(i64, Decimal)> {
    let mut out: Vec<(i64, Decimal)> = Vec::new();
    for p in prices {
        match out.last_mut() {
            Some(last) if last.0.div_euclid(DAY_MS) == p.0.div_euclid(DAY_MS) => *last = p,
            _ => out.push(p),
        }
    }
    out
}

/// The last point of each UTC day, with the flows of the day summed into it.
fn daily(points: Vec<Point>) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::new();
    for p in points {
        match out.last_mut() {
            Some(last) if last.time_ms.div_euclid(DAY_MS) == p.time_ms.div_euclid(DAY_MS) => {
                let flow = last.flow.checked_add(p.flow).unwrap_or(p.flow);
                *last = Point { flow, ..p };
            }
            _ => out.push(p),
        }
    }
    out
}

/// At most `max` of `points` (oldest first), evenly spread in time: of the points falling in
/// one of `max` equal time slots the first stays, and the last point always does.
fn thin(points: Vec<ConcentrationPoint>, max: usize) -> Vec<ConcentrationPoint> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return points;
    };
    if points.len() <= max || max < 2 {
        return points;
    }
    let t0 = i128::from(first.time.unix_seconds());
    let span = (i128::from(last.time.unix_seconds()) - t0).max(1);
    let slots = (max - 1) as i128;
    let n = points.len();
    let mut out: Vec<ConcentrationPoint> = Vec::with_capacity(max);
    let mut taken = None;
    for (i, p) in points.into_iter().enumerate() {
        let slot = ((i128::from(p.time.unix_seconds()) - t0) * slots / span).min(slots);
        if i + 1 == n {
            if taken == Some(slot) && out.len() > 1 {
                out.pop();
            }
            out.push(p);
        } else if taken != Some(slot) {
            out.push(p);
            taken = Some(slot);
        }
    }
    out
}

/// The summed history of `members` at the poll times when all of them were valued. The
/// flows of a member's snapshots at the times left out are carried into the next point, so a
/// deposit is not lost because another account missed that poll.
fn aggregate(
    polls: &BTreeMap<i64, BTreeMap<(String, ExchangeId), Point>>,
    members: &BTreeSet<&(String, ExchangeId)>,
) -> Vec<Point> {
    let mut out = Vec::new();
    let mut carried: BTreeMap<&(String, ExchangeId), Decimal> = BTreeMap::new();
    for (t, at) in polls {
        let complete = members.iter().all(|m| at.contains_key(*m));
        if !complete {
            for m in members {
                if let Some(p) = at.get(*m) {
                    let c = carried.entry(*m).or_default();
                    *c = c.checked_add(p.flow).unwrap_or(*c);
                }
            }
            continue;
        }
        let mut sum = Point {
            time_ms: *t,
            value: Decimal::ZERO,
            flow: Decimal::ZERO,
            assets: BTreeMap::new(),
        };
        let added = members.iter().all(|m| sum.add(&at[*m]).is_some());
        let carry = carried
            .values()
            .try_fold(Decimal::ZERO, |a, c| a.checked_add(*c));
        if let (true, Some(flow)) = (added, carry.and_then(|c| sum.flow.checked_add(c))) {
            sum.flow = flow;
            out.push(sum);
            carried.clear();
        }
    }
    out
}

/// The scope's report, added without activity if it has none.
fn entry(
    map: &mut BTreeMap<String, ScopeReport>,
    name: String,
    scope: Scope,
) -> Result<&mut ScopeReport, AnalyticsError> {
    Ok(match map.entry(name) {
        Entry::Occupied(o) => o.into_mut(),
        Entry::Vacant(v) => v.insert(ScopeReport {
            rebalancing: match scope {
                Scope::Exchange(_) => None,
                _ => Some(RebalanceStats {
                    count: 0,
                    per_year: None,
                    mean_days_between: None,
                }),
            },
            scope,
            activity: ActivityStats::default(),
            portfolio_value: None,
            performance: analyze_equity(&EquitySeries::default(), &Conventions::default())?,
            concentration: Vec::new(),
        }),
    })
}

/// The scope's value, performance and concentration from `points`.
fn fill(
    scope: &mut ScopeReport,
    points: &[Point],
    conventions: &Conventions,
) -> Result<(), AnalyticsError> {
    // Analytics times are whole seconds: of two snapshots in one second, the later stays.
    let mut series: Vec<(EquityPoint, &Point)> = Vec::with_capacity(points.len());
    for p in points {
        let Some(time) = Timestamp::from_unix_seconds(p.time_ms.div_euclid(1000)) else {
            continue;
        };
        let e = EquityPoint {
            time,
            value: p.value,
            flow: p.flow,
        };
        match series.last_mut() {
            Some(last) if last.0.time == time => *last = (e, p),
            _ => series.push((e, p)),
        }
    }
    let equity = EquitySeries::new(series.iter().map(|(e, _)| *e).collect())?;
    scope.performance = analyze_equity(&equity, conventions)?;
    scope.portfolio_value = equity.points().last().map(|p| p.value);
    let concentration = series
        .iter()
        .map(|(e, p)| concentration_at(e.time, &p.assets))
        .collect();
    scope.concentration = thin(concentration, MAX_CONCENTRATION_POINTS);
    // Rebalances per year over the span of the scope's history.
    if let (Some(r), Some(first), Some(last)) =
        (scope.rebalancing.as_mut(), points.first(), points.last())
    {
        let span = (last.time_ms - first.time_ms) as f64 / 1000.0;
        r.per_year = (span > 0.0).then(|| r.count as f64 / (span / SECONDS_PER_YEAR));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tradeguard_analytics::CorrelationMatrix;

    use super::*;

    fn conventions(interval_secs: u64) -> Conventions {
        AnalyticsConfig::default()
            .conventions(interval_secs)
            .unwrap()
    }

    fn row(kind: EquityScope, scope: &str, exchange: &str, t: i64, usd: i64) -> EquityRow {
        EquityRow {
            kind,
            scope: scope.into(),
            time_ms: t,
            exchange: exchange.into(),
            quote: "USD".into(),
            value: usd.to_string(),
            flow: "0".into(),
            assets: format!(r#"{{"USD":"{usd}"}}"#),
            holdings: None,
        }
    }

    fn values(points: &[Point]) -> Vec<(i64, i64)> {
        let int = |d: Decimal| i64::try_from(d).unwrap();
        points.iter().map(|p| (p.time_ms, int(p.value))).collect()
    }

    #[test]
    fn aggregates_sum_the_accounts_valued_at_the_same_poll() {
        use EquityScope::{Account, Profile};
        let rows = [
            row(Account, "k1", "kraken", 1_000, 100),
            row(Account, "k2", "kraken", 1_000, 50),
            row(Account, "b", "binance", 1_000, 10),
            row(Profile, "core", "kraken", 1_000, 90),
            // k2 missed this poll (a price was missing): kraken and overall skip it, and k1's
            // deposit then comes with the next poll.
            EquityRow {
                flow: "7".into(),
                ..row(Account, "k1", "kraken", 2_000, 110)
            },
            row(Account, "b", "binance", 2_000, 11),
            row(Account, "k1", "kraken", 3_000, 120),
            row(Account, "k2", "kraken", 3_000, 40),
            row(Account, "b", "binance", 3_000, 12),
            row(Profile, "core", "kraken", 3_000, 99),
            EquityRow {
                quote: "USDT".into(),
                ..row(Profile, "other", "binance", 3_000, 5)
            },
        ];
        let h = Histories::new(&rows, &Asset::new("USD").unwrap());
        let kraken = &h.exchanges[&ExchangeId::new("kraken").unwrap()];
        assert_eq!(values(kraken), [(1_000, 150), (3_000, 160)]);
        let flows: Vec<Decimal> = kraken.iter().map(|p| p.flow).collect();
        assert_eq!(
            flows,
            [Decimal::ZERO, Decimal::from(7)],
            "k1's flow at 2,000 carried"
        );
        let overall: Vec<Decimal> = h.overall.iter().map(|p| p.flow).collect();
        assert_eq!(overall, [Decimal::ZERO, Decimal::from(7)]);
        let binance = &h.exchanges[&ExchangeId::new("binance").unwrap()];
        assert_eq!(values(binance), [(1_000, 10), (2_000, 11), (3_000, 12)]);
        assert_eq!(values(&h.overall), [(1_000, 160), (3_000, 172)]);
        assert_eq!(
            h.overall[1].assets[&Asset::new("USD").unwrap()],
            Decimal::from(172)
        );
        let profiles: Vec<&str> = h.profiles.keys().map(|p| p.as_str()).collect();
        assert_eq!(profiles, ["core"], "a profile valued in USDT is left out");
    }

    #[test]
    fn fills_the_report_and_adds_scopes_without_activity() {
        let rows = [
            row(EquityScope::Profile, "core", "kraken", 1_000, 100),
            row(EquityScope::Profile, "core", "kraken", 1_500, 101),
            row(EquityScope::Profile, "core", "kraken", 6_000, 90),
            row(EquityScope::Profile, "core", "kraken", 11_000, 99),
            row(EquityScope::Account, "k", "kraken", 11_000, 99),
        ];
        let h = Histories::new(&rows, &Asset::new("USD").unwrap());
        let c = conventions(5);
        let empty = ScopeReport {
            scope: Scope::Overall,
            activity: ActivityStats::default(),
            portfolio_value: None,
            performance: analyze_equity(&EquitySeries::default(), &c).unwrap(),
            rebalancing: None,
            concentration: Vec::new(),
        };
        let mut report = LedgerReport {
            conventions: c.statement(),
            base_currency: Asset::new("USD").unwrap(),
            overall: empty,
            by_profile: BTreeMap::new(),
            by_exchange: BTreeMap::new(),
            asset_correlation: CorrelationMatrix::default(),
            profile_correlation: CorrelationMatrix::default(),
        };
        h.apply(&mut report, &c).unwrap();
        let core = &report.by_profile["core"];
        // 1.0 s and 1.5 s are one analytics second: the later value stays.
        assert_eq!(core.performance.observations, 3);
        assert_eq!(core.performance.profit_and_loss, Some(Decimal::from(-2)));
        let dd = core.performance.metrics.max_drawdown.depth.unwrap();
        assert!((dd - (1.0 - 90.0 / 101.0)).abs() < 1e-12, "{dd}");
        assert_eq!(
            core.performance
                .drawdown_dates
                .trough
                .unwrap()
                .unix_seconds(),
            6
        );
        assert!(core.performance.metrics.annualized_volatility.is_some());
        assert_eq!(core.portfolio_value, Some(Decimal::from(99)));
        assert_eq!(core.concentration.len(), 3);
        let kraken = &report.by_exchange["kraken"];
        assert_eq!(kraken.performance.observations, 1);
        assert_eq!(
            kraken.performance.metrics.time_weighted_return, None,
            "one snapshot"
        );
        assert_eq!(report.overall.portfolio_value, Some(Decimal::from(99)));
        assert_eq!(c.periods_per_year(), 6_311_520);
        assert_eq!(conventions(300).periods_per_year(), 105_192);
    }

    #[test]
    fn profiles_correlate_over_their_common_periods() {
        use EquityScope::Profile;
        // a: +10 %, -10 %, +20 %; b: twice a's returns; c: the opposite of a's; d starts late.
        let a = [1000, 1100, 990, 1188];
        let b = [1000, 1200, 960, 1344];
        let c = [1000, 900, 990, 792];
        let mut rows = Vec::new();
        for (i, t) in [1_000, 2_000, 3_000, 4_000].into_iter().enumerate() {
            rows.push(row(Profile, "a", "kraken", t, a[i]));
            rows.push(row(Profile, "b", "kraken", t, b[i]));
            rows.push(row(Profile, "c", "kraken", t, c[i]));
        }
        rows.push(row(Profile, "d", "kraken", 4_000, 50));
        let h = Histories::new(&rows, &Asset::new("USD").unwrap());
        let m = h.profile_correlation();
        assert_eq!(m.labels, ["a", "b", "c", "d"]);
        let ab = m.values[0][1].unwrap();
        let ac = m.values[0][2].unwrap();
        assert!((ab - 1.0).abs() < 1e-9, "{ab}");
        assert!((ac + 1.0).abs() < 1e-9, "{ac}");
        assert_eq!(m.values[0][3], None, "d has no return");
        assert_eq!(m.values[1][0], m.values[0][1]);
    }

    fn empty_report() -> LedgerReport {
        let c = conventions(5);
        LedgerReport {
            conventions: c.statement(),
            base_currency: Asset::new("USD").unwrap(),
            overall: ScopeReport {
                scope: Scope::Overall,
                activity: ActivityStats::default(),
                portfolio_value: None,
                performance: analyze_equity(&EquitySeries::default(), &c).unwrap(),
                rebalancing: None,
                concentration: Vec::new(),
            },
            by_profile: BTreeMap::new(),
            by_exchange: BTreeMap::new(),
            asset_correlation: CorrelationMatrix::default(),
            profile_correlation: CorrelationMatrix::default(),
        }
    }

    fn mark(asset: &str, t: i64, price: i64) -> PriceMarkRow {
        PriceMarkRow {
            quote: "USD".into(),
            asset: asset.into(),
            time_ms: t,
            price: price.to_string(),
        }
    }

    #[test]
    fn assets_correlate_over_at_least_three_common_returns() {
        // BTC: +10 %, -10 %, +20 %; ETH: twice BTC's returns; SOL: the opposite of BTC's;
        // XRP misses the second poll (two returns of its own: not listed); ADA has three
        // returns but only two in common with BTC (times 1 and 2 only, then 5 to 7).
        let btc = [1000, 1100, 990, 1188];
        let eth = [1000, 1200, 960, 1344];
        let sol = [1000, 900, 990, 792];
        let xrp = [Some(10), None, Some(12), Some(11)];
        let mut marks = Vec::new();
        for (i, t) in [1_000, 2_000, 3_000, 4_000].into_iter().enumerate() {
            marks.push(mark("BTC", t, btc[i]));
            marks.push(mark("ETH", t, eth[i]));
            marks.push(mark("SOL", t, sol[i]));
            marks.extend(xrp[i].map(|p| mark("XRP", t, p)));
        }
        for (t, p) in [(1_000, 5), (2_000, 6), (5_000, 7), (6_000, 5), (7_000, 6)] {
            marks.push(mark("ADA", t, p));
        }
        // A price in another quote asset is not mixed in.
        marks.push(PriceMarkRow {
            quote: "USDT".into(),
            ..mark("BTC", 5_000, 1)
        });
        let usd = Asset::new("USD").unwrap();
        let h = Histories::new(&[], &usd).with_prices(&marks, &usd);
        let m = h.asset_correlation();
        assert_eq!(m.labels, ["ADA", "BTC", "ETH", "SOL"]);
        let at = |i: usize, j: usize| m.values[i][j];
        assert!((at(1, 2).unwrap() - 1.0).abs() < 1e-9, "{:?}", at(1, 2));
        assert!((at(1, 3).unwrap() + 1.0).abs() < 1e-9, "{:?}", at(1, 3));
        assert_eq!(at(2, 1), at(1, 2), "symmetric");
        assert!((at(1, 1).unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(at(0, 1), None, "ADA and BTC share two returns");
        assert!(at(0, 0).is_some(), "ADA has three returns of its own");
        let mut report = empty_report();
        h.apply(&mut report, &conventions(5)).unwrap();
        assert_eq!(report.asset_correlation, m, "the report carries it");
    }

    #[test]
    fn asset_prices_resample_to_the_last_of_each_utc_day() {
        // Within each day the price swings, but the last price of the day is what counts:
        // BTC's daily closes 100, 110, 99, 118.8 and ETH's 100, 120, 96, 134.4 (twice BTC's).
        let btc = [(100, 100), (110, 50), (99, 500), (1188, 7)];
        let eth = [(100, 300), (120, 10), (96, 1), (1344, 2)];
        let mut marks = Vec::new();
        for (day, (b, e)) in btc.iter().zip(&eth).enumerate() {
            let noon = day as i64 * DAY_MS + DAY_MS / 2;
            marks.push(mark("BTC", noon - 1_000, b.1));
            marks.push(mark("ETH", noon - 1_000, e.1));
            let scale = if day == 3 { 10 } else { 1 };
            marks.push(mark("BTC", noon, b.0 * 10 / scale));
            marks.push(mark("ETH", noon, e.0 * 10 / scale));
        }
        let usd = Asset::new("USD").unwrap();
        let poll = Histories::new(&[], &usd).with_prices(&marks, &usd);
        let c = poll.asset_correlation().values[0][1].unwrap();
        assert!(
            (c - 1.0).abs() > 1e-3,
            "every poll: not perfectly correlated ({c})"
        );
        let day = poll.resampled(Period::Day);
        let closes: Vec<i64> = day.prices[&Asset::new("BTC").unwrap()]
            .iter()
            .map(|(_, p)| i64::try_from(*p).unwrap())
            .collect();
        assert_eq!(closes, [1000, 1100, 990, 1188]);
        let c = day.asset_correlation().values[0][1].unwrap();
        assert!((c - 1.0).abs() < 1e-9, "daily closes: {c}");
    }

    #[test]
    fn daily_periods_keep_the_last_snapshot_of_each_utc_day() {
        let point = |t: i64, v: i64, f: i64| Point {
            time_ms: t,
            value: Decimal::from(v),
            flow: Decimal::from(f),
            assets: BTreeMap::new(),
        };
        let points = vec![
            point(DAY_MS - 1, 100, 0),
            point(DAY_MS, 101, 5),
            point(DAY_MS + 3_600_000, 102, 0),
            point(2 * DAY_MS - 1, 103, 7),
            point(5 * DAY_MS + 1, 104, 0),
        ];
        let got: Vec<(i64, Decimal, Decimal)> = daily(points)
            .into_iter()
            .map(|p| (p.time_ms, p.value, p.flow))
            .collect();
        assert_eq!(
            got,
            [
                (DAY_MS - 1, Decimal::from(100), Decimal::ZERO),
                (2 * DAY_MS - 1, Decimal::from(103), Decimal::from(12)),
                (5 * DAY_MS + 1, Decimal::from(104), Decimal::ZERO),
            ]
        );
        let rows = [
            row(EquityScope::Profile, "core", "kraken", 1_000, 100),
            row(EquityScope::Profile, "core", "kraken", 2_000, 110),
            row(EquityScope::Account, "k", "kraken", 1_000, 100),
            row(EquityScope::Account, "k", "kraken", DAY_MS, 120),
        ];
        let h = Histories::new(&rows, &Asset::new("USD").unwrap()).resampled(Period::Day);
        assert_eq!(
            values(&h.profiles[&ProfileId::new("core").unwrap()]),
            [(2_000, 110)]
        );
        assert_eq!(values(&h.overall), [(1_000, 100), (DAY_MS, 120)]);
    }

    #[test]
    fn analytics_section_sets_the_conventions() {
        let parse = |t: &str| toml::from_str::<AnalyticsConfig>(t);
        let c = parse("").unwrap().conventions(300).unwrap();
        assert_eq!(
            (c.periods_per_year(), c.risk_free_rate_annual()),
            (105_192, 0.0)
        );
        let day = parse("period = \"day\"\nrisk_free_rate = 0.04").unwrap();
        let c = day.conventions(300).unwrap();
        assert_eq!(c.periods_per_year(), 365);
        let per = c.risk_free_rate_per_period();
        assert!(((1.0 + per).powi(365) - 1.04).abs() < 1e-12, "{per}");
        let s = day.statement(&c);
        assert!(
            s.definitions.ends_with("summed into it)"),
            "{}",
            s.definitions
        );
        assert_eq!(s.risk_free_rate_annual, 0.04);
        let c = parse("periods_per_year = 8760")
            .unwrap()
            .conventions(5)
            .unwrap();
        assert_eq!(c.periods_per_year(), 8760);
        let cases = [
            "period = \"week\"",
            "risk_free = 0.01",
            "periods_per_year = 0",
            "risk_free_rate = -1.5",
        ];
        for (i, t) in cases.iter().enumerate() {
            let refused = match parse(t) {
                Ok(a) => a.conventions(300).is_err(),
                Err(_) => true,
            };
            assert!(refused, "TC{i} failed: {t}");
        }
    }

    #[test]
    fn thinning_spreads_points_in_time_and_keeps_the_ends() {
        let at =
            |s: i64| concentration_at(Timestamp::from_unix_seconds(s).unwrap(), &BTreeMap::new());
        let points: Vec<ConcentrationPoint> = (0..2_000).map(|i| at(i * 7)).collect();
        let got = thin(points.clone(), 500);
        assert!(got.len() <= 500 && got.len() >= 490, "{}", got.len());
        assert_eq!(got.first(), points.first());
        assert_eq!(got.last(), points.last());
        assert!(got.windows(2).all(|w| w[0].time < w[1].time));
        // Uneven times: a burst at the start does not crowd out the rest.
        let mut burst: Vec<ConcentrationPoint> = (0..1_000).map(at).collect();
        burst.extend((1..=10).map(|i| at(1_000_000 * i)));
        let got = thin(burst.clone(), 20);
        assert!(got.len() <= 20, "{}", got.len());
        assert_eq!(got.last(), burst.last());
        assert_eq!(
            got.iter()
                .filter(|p| p.time.unix_seconds() >= 1_000_000)
                .count(),
            10
        );
        let few: Vec<ConcentrationPoint> = (0..3).map(at).collect();
        assert_eq!(thin(few.clone(), 500), few);
    }

    #[test]
    fn rebalances_per_year_span_the_profile_history() {
        let rows = [
            row(EquityScope::Profile, "core", "kraken", 0, 100),
            row(EquityScope::Profile, "core", "kraken", DAY_MS, 101),
        ];
        let h = Histories::new(&rows, &Asset::new("USD").unwrap());
        let c = conventions(5);
        let empty = |scope, rebalancing| ScopeReport {
            scope,
            activity: ActivityStats::default(),
            portfolio_value: None,
            performance: analyze_equity(&EquitySeries::default(), &c).unwrap(),
            rebalancing,
            concentration: Vec::new(),
        };
        let core = ProfileId::new("core").unwrap();
        let stats = RebalanceStats {
            count: 3,
            per_year: None,
            mean_days_between: Some(0.25),
        };
        let mut report = LedgerReport {
            conventions: c.statement(),
            base_currency: Asset::new("USD").unwrap(),
            overall: empty(Scope::Overall, None),
            by_profile: BTreeMap::from([(
                "core".to_owned(),
                empty(Scope::Profile(core), Some(stats)),
            )]),
            by_exchange: BTreeMap::new(),
            asset_correlation: Default::default(),
            profile_correlation: Default::default(),
        };
        h.apply(&mut report, &c).unwrap();
        let r = report.by_profile["core"].rebalancing.as_ref().unwrap();
        assert_eq!(r.count, 3);
        let per_year = r.per_year.unwrap();
        assert!((per_year - 3.0 * 365.25).abs() < 1e-9, "{per_year}");
        assert_eq!(r.mean_days_between, Some(0.25));
    }
}
