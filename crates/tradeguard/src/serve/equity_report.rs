//! The signed report's performance figures from the equity history ([`super::equity`]): each
//! scope's value, return (profit and loss, Modified Dietz, time-weighted with flows removed),
//! annualized volatility, maximum drawdown with its dates, Sharpe, Sortino, Calmar and
//! concentration over time, computed by `tradeguard_analytics::analyze_equity`.
//!
//! - A profile: its own snapshots.
//! - An exchange: the sum of its accounts' snapshots, at the poll times when every one of its
//!   accounts was valued (the recorder stamps all snapshots of one poll with the same time);
//!   overall: the same over every account. An account added later makes the aggregate start
//!   at its first snapshot.
//! - Only snapshots in the report's base currency count; a scope valued in another quote asset
//!   is left out of the report rather than mixed.
//!
//! Conventions: one return period per poll interval, so `periods_per_year` is a year of
//! 365.25 days over the poll interval (105,192 at 300 s), the risk-free rate is 0 and standard
//! deviations use ddof = 1; the report states them. With fewer than two snapshots a scope's
//! returns are `null` (its `observations` says how many there were), with fewer than three its
//! volatility and ratios are.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use tradeguard_analytics::ledger::{Asset, ExchangeId, ProfileId};
use tradeguard_analytics::{
    ActivityStats, AnalyticsError, Conventions, EquityPoint, EquitySeries, LedgerReport,
    RebalanceStats, SECONDS_PER_YEAR, Scope, ScopeReport, Timestamp, analyze_equity,
    concentration_at,
};
use tradeguard_store::equity::{EquityRow, EquityScope};

/// The conventions of a report whose periods are `interval_secs` apart.
pub fn conventions(interval_secs: u64) -> Conventions {
    let per_year = (SECONDS_PER_YEAR / interval_secs.max(1) as f64).round();
    Conventions::new(per_year.clamp(1.0, f64::from(u32::MAX)) as u32, 0.0).unwrap_or_default()
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
        fill(&mut report.overall, &self.overall, conventions)
    }
}

/// The summed history of `members` at the poll times when all of them were valued.
fn aggregate(
    polls: &BTreeMap<i64, BTreeMap<(String, ExchangeId), Point>>,
    members: &BTreeSet<&(String, ExchangeId)>,
) -> Vec<Point> {
    let mut out = Vec::new();
    for (t, at) in polls {
        if !members.iter().all(|m| at.contains_key(*m)) {
            continue;
        }
        let mut sum = Point {
            time_ms: *t,
            value: Decimal::ZERO,
            flow: Decimal::ZERO,
            assets: BTreeMap::new(),
        };
        let complete = members.iter().all(|m| sum.add(&at[*m]).is_some());
        if complete {
            out.push(sum);
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
    scope.concentration = series
        .iter()
        .map(|(e, p)| concentration_at(e.time, &p.assets))
        .collect();
    Ok(())
}

#[cfg(test)]
mod tests {
    use tradeguard_analytics::CorrelationMatrix;

    use super::*;

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
            // k2 missed this poll (a price was missing): kraken and overall skip it.
            row(Account, "k1", "kraken", 2_000, 110),
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
}
