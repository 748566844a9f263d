//! [`LedgerReport`]: metrics per profile, per exchange and overall, from a [`Ledger`] (raw
//! fills) or an [`crate::AggregatedLedger`] (aggregates only); both give the same report.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::activity::{ActivityStats, activity_from_records};
use crate::ledger::{
    Asset, ExchangeId, ExternalFlow, HoldingsSnapshot, Ledger, ProfileId, RebalanceEvent,
};
use crate::valuation::{PriceBook, Scope, ScopeData, sum};
use crate::{
    AnalyticsError, Conventions, ConventionsStatement, CorrelationMatrix, EquityReport,
    SECONDS_PER_YEAR, Timestamp, analyze_equity, correlation_matrix,
};

/// Weights of the holdings at one time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConcentrationPoint {
    /// When.
    pub time: Timestamp,
    /// Herfindahl-Hirschman index `sum(w_a^2)` of the asset weights, in (0, 1]; 1 is a single
    /// asset. `None` when the scope held nothing.
    pub hhi: Option<f64>,
    /// The largest holding, and its weight.
    pub top_asset: Option<Asset>,
    /// Weight of `top_asset` in [0, 1].
    pub top_weight: Option<f64>,
}

/// How often a profile (or all of them) rebalanced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RebalanceStats {
    /// Number of rebalances.
    pub count: u64,
    /// `count` per 365.25-day year over the scope's valuation span; `None` if it spans no time.
    pub per_year: Option<f64>,
    /// Mean days between consecutive rebalances; `None` below two.
    pub mean_days_between: Option<f64>,
}

/// Everything reported for one scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScopeReport {
    /// The records covered.
    pub scope: Scope,
    /// Trades, volume, fees, orders.
    pub activity: ActivityStats,
    /// Value in the base currency at the last valuation time.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub portfolio_value: Option<Decimal>,
    /// Returns, risk and drawdown of the scope's equity history (valued at every snapshot time).
    pub performance: EquityReport,
    /// Rebalancing (`None` for an exchange scope: rebalances belong to profiles).
    pub rebalancing: Option<RebalanceStats>,
    /// Concentration at every valuation time.
    pub concentration: Vec<ConcentrationPoint>,
}

/// The full analytics report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LedgerReport {
    /// How the figures were computed.
    pub conventions: ConventionsStatement,
    /// The currency of every value.
    pub base_currency: Asset,
    /// Every profile on every exchange.
    pub overall: ScopeReport,
    /// Per profile, by name.
    pub by_profile: BTreeMap<String, ScopeReport>,
    /// Per exchange, by name.
    pub by_exchange: BTreeMap<String, ScopeReport>,
    /// Correlation of asset price returns between consecutive overall valuation times.
    pub asset_correlation: CorrelationMatrix,
    /// Correlation of profiles' time-weighted period returns on the overall valuation times.
    pub profile_correlation: CorrelationMatrix,
}

/// Market-side inputs shared by both report paths.
pub(crate) struct Market<'a> {
    pub book: &'a PriceBook,
    pub snapshots: &'a [HoldingsSnapshot],
    pub flows: &'a [ExternalFlow],
    pub rebalances: &'a [RebalanceEvent],
}

/// The report from raw records. Validates the ledger first.
pub fn analyze_ledger(
    ledger: &Ledger,
    conventions: &Conventions,
) -> Result<LedgerReport, AnalyticsError> {
    ledger.validate()?;
    let book = PriceBook::new(ledger.base_currency.clone(), &ledger.prices);
    let market = Market {
        book: &book,
        snapshots: &ledger.snapshots,
        flows: &ledger.flows,
        rebalances: &ledger.rebalances,
    };
    let cells = ledger
        .fills
        .iter()
        .map(|f| (f.profile.clone(), f.exchange.clone()))
        .chain(
            ledger
                .orders
                .iter()
                .map(|o| (o.profile.clone(), o.exchange.clone())),
        );
    build_report(&market, cells.collect(), conventions, |scope| {
        activity_from_records(scope, &ledger.fills, &ledger.orders, &book)
    })
}

/// Assembles the report; `activity` gives each scope's trading activity.
pub(crate) fn build_report(
    m: &Market<'_>,
    activity_cells: BTreeSet<(ProfileId, ExchangeId)>,
    conventions: &Conventions,
    activity: impl Fn(&Scope) -> Result<ActivityStats, AnalyticsError>,
) -> Result<LedgerReport, AnalyticsError> {
    let mut cells = activity_cells;
    cells.extend(
        m.snapshots
            .iter()
            .map(|s| (s.profile.clone(), s.exchange.clone())),
    );
    cells.extend(
        m.flows
            .iter()
            .map(|f| (f.profile.clone(), f.exchange.clone())),
    );
    let profiles: BTreeSet<ProfileId> = cells
        .iter()
        .map(|(p, _)| p.clone())
        .chain(m.rebalances.iter().map(|r| r.profile.clone()))
        .collect();
    let exchanges: BTreeSet<ExchangeId> = cells.iter().map(|(_, e)| e.clone()).collect();
    let scope_report = |scope: Scope| scope_report(m, scope, conventions, &activity);
    let by_profile = profiles
        .iter()
        .map(|p| Ok((p.to_string(), scope_report(Scope::Profile(p.clone()))?)))
        .collect::<Result<_, AnalyticsError>>()?;
    let by_exchange = exchanges
        .iter()
        .map(|e| Ok((e.to_string(), scope_report(Scope::Exchange(e.clone()))?)))
        .collect::<Result<_, AnalyticsError>>()?;
    let overall_grid = ScopeData::new(&Scope::Overall, m.snapshots, m.flows).grid;
    Ok(LedgerReport {
        conventions: conventions.statement(),
        base_currency: m.book.base().clone(),
        overall: scope_report(Scope::Overall)?,
        by_profile,
        by_exchange,
        asset_correlation: asset_correlation(m.book, &overall_grid),
        profile_correlation: profile_correlation(m, &profiles, &overall_grid)?,
    })
}

fn scope_report(
    m: &Market<'_>,
    scope: Scope,
    conventions: &Conventions,
    activity: &impl Fn(&Scope) -> Result<ActivityStats, AnalyticsError>,
) -> Result<ScopeReport, AnalyticsError> {
    let data = ScopeData::new(&scope, m.snapshots, m.flows);
    let equity = data.equity_on(m.book, &data.grid)?;
    let concentration = data
        .grid
        .iter()
        .map(|t| Ok(concentration_at(*t, &data.asset_values(m.book, *t)?)))
        .collect::<Result<Vec<_>, AnalyticsError>>()?;
    let rebalancing = match &scope {
        Scope::Exchange(_) => None,
        Scope::Overall => Some(rebalance_stats(m.rebalances.iter(), &data.grid)),
        Scope::Profile(p) => Some(rebalance_stats(
            m.rebalances.iter().filter(|r| r.profile == *p),
            &data.grid,
        )),
    };
    Ok(ScopeReport {
        activity: activity(&scope)?,
        portfolio_value: equity.points().last().map(|p| p.value),
        performance: analyze_equity(&equity, conventions)?,
        rebalancing,
        concentration,
        scope,
    })
}

/// The concentration of holdings worth `values` (in the base currency) at `time`.
pub fn concentration_at(time: Timestamp, values: &BTreeMap<Asset, Decimal>) -> ConcentrationPoint {
    let total = sum(values.values().copied()).ok().and_then(|t| t.to_f64());
    let weights: Vec<(&Asset, f64)> = match total {
        Some(total) if total > 0.0 => values
            .iter()
            .map(|(a, v)| (a, v.to_f64().unwrap_or(0.0) / total))
            .collect(),
        _ => Vec::new(),
    };
    let top = weights
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)));
    ConcentrationPoint {
        time,
        hhi: (!weights.is_empty()).then(|| crate::stats::sum(weights.iter().map(|(_, w)| w * w))),
        top_asset: top.map(|(a, _)| (*a).clone()),
        top_weight: top.map(|(_, w)| *w),
    }
}

fn rebalance_stats<'a>(
    events: impl Iterator<Item = &'a RebalanceEvent>,
    grid: &[Timestamp],
) -> RebalanceStats {
    let mut times: Vec<Timestamp> = events.map(|e| e.time).collect();
    times.sort();
    let count = times.len() as u64;
    let span = match (grid.first(), grid.last()) {
        (Some(a), Some(b)) => b.seconds_since(a),
        _ => 0.0,
    };
    let between = match (times.first(), times.last()) {
        (Some(a), Some(b)) if times.len() >= 2 => {
            Some(b.seconds_since(a) / 86_400.0 / (times.len() - 1) as f64)
        }
        _ => None,
    };
    RebalanceStats {
        count,
        per_year: (span > 0.0).then(|| count as f64 / (span / SECONDS_PER_YEAR)),
        mean_days_between: between,
    }
}

fn asset_correlation(book: &PriceBook, grid: &[Timestamp]) -> CorrelationMatrix {
    let assets: Vec<&Asset> = book.assets().collect();
    let series: Vec<Vec<Option<f64>>> = assets
        .iter()
        .map(|a| {
            grid.windows(2)
                .map(|w| {
                    let (p0, p1) = (book.lookup(a, w[0])?, book.lookup(a, w[1])?);
                    (p1 / p0 - Decimal::ONE).to_f64()
                })
                .collect()
        })
        .collect();
    correlation_matrix(assets.iter().map(|a| a.to_string()).collect(), &series)
}

fn profile_correlation(
    m: &Market<'_>,
    profiles: &BTreeSet<ProfileId>,
    grid: &[Timestamp],
) -> Result<CorrelationMatrix, AnalyticsError> {
    let mut series = Vec::with_capacity(profiles.len());
    for p in profiles {
        let data = ScopeData::new(&Scope::Profile(p.clone()), m.snapshots, m.flows);
        let eq = data.equity_on(m.book, grid)?;
        let rs = eq
            .points()
            .windows(2)
            .map(|w| {
                if w[0].value.is_zero() {
                    return None;
                }
                let end = w[1].value.checked_sub(w[1].flow)?;
                (end.checked_div(w[0].value)? - Decimal::ONE).to_f64()
            })
            .collect();
        series.push(rs);
    }
    Ok(correlation_matrix(
        profiles.iter().map(|p| p.to_string()).collect(),
        &series,
    ))
}
