//! Valuing holdings and flows in the base currency, and building a scope's equity history.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ledger::{Asset, ExchangeId, ExternalFlow, HoldingsSnapshot, PriceQuote, ProfileId};
use crate::{AnalyticsError, EquityPoint, EquitySeries, Timestamp};

/// Which records a figure covers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Scope {
    /// Every profile on every exchange.
    Overall,
    /// One profile, on every exchange.
    Profile(ProfileId),
    /// One exchange, every profile.
    Exchange(ExchangeId),
}

impl Scope {
    /// Whether records of `profile` on `exchange` belong to this scope.
    pub fn contains(&self, profile: &ProfileId, exchange: &ExchangeId) -> bool {
        match self {
            Scope::Overall => true,
            Scope::Profile(p) => p == profile,
            Scope::Exchange(e) => e == exchange,
        }
    }
}

/// Prices per asset, oldest first; the base currency is always worth 1.
#[derive(Clone, Debug)]
pub struct PriceBook {
    base: Asset,
    prices: BTreeMap<Asset, Vec<(Timestamp, Decimal)>>,
}

impl PriceBook {
    /// Indexes `quotes` (a later quote at the same time replaces an earlier one).
    pub fn new(base: Asset, quotes: &[PriceQuote]) -> Self {
        let mut book = Self {
            base,
            prices: BTreeMap::new(),
        };
        for q in quotes {
            book.insert(q);
        }
        book
    }

    /// Adds one quote, replacing any quote of the same asset at the same time.
    pub fn insert(&mut self, q: &PriceQuote) {
        let v = self.prices.entry(q.asset.clone()).or_default();
        match v.binary_search_by_key(&q.time, |(t, _)| *t) {
            Ok(i) => v[i].1 = q.price,
            Err(i) => v.insert(i, (q.time, q.price)),
        }
    }

    /// The base currency.
    pub fn base(&self) -> &Asset {
        &self.base
    }

    /// Assets with at least one quote, except the base currency.
    pub fn assets(&self) -> impl Iterator<Item = &Asset> {
        self.prices.keys().filter(|a| **a != self.base)
    }

    /// The latest price of `asset` at or before `time`; `None` if it has none yet.
    pub fn lookup(&self, asset: &Asset, time: Timestamp) -> Option<Decimal> {
        if *asset == self.base {
            return Some(Decimal::ONE);
        }
        let v = self.prices.get(asset)?;
        let n = v.partition_point(|(t, _)| *t <= time);
        n.checked_sub(1).map(|i| v[i].1)
    }

    /// As [`Self::lookup`], but a missing price is an error naming the asset.
    pub fn price(&self, asset: &Asset, time: Timestamp) -> Result<Decimal, AnalyticsError> {
        self.lookup(asset, time)
            .ok_or_else(|| AnalyticsError::MissingPrice {
                asset: asset.to_string(),
                time,
            })
    }

    /// `amount` of `asset` in the base currency at `time`.
    pub fn value(
        &self,
        asset: &Asset,
        amount: Decimal,
        time: Timestamp,
    ) -> Result<Decimal, AnalyticsError> {
        amount
            .checked_mul(self.price(asset, time)?)
            .ok_or(AnalyticsError::Overflow { what: "a value" })
    }
}

/// Holdings per asset of a scope at one time, valued.
pub(crate) type AssetValues = BTreeMap<Asset, Decimal>;

/// Market data of a scope: snapshots and flows, and the times they are valued at.
pub(crate) struct ScopeData<'a> {
    snapshots: Vec<&'a HoldingsSnapshot>,
    flows: Vec<&'a ExternalFlow>,
    /// Distinct snapshot times, oldest first.
    pub grid: Vec<Timestamp>,
}

impl<'a> ScopeData<'a> {
    pub fn new(
        scope: &Scope,
        snapshots: &'a [HoldingsSnapshot],
        flows: &'a [ExternalFlow],
    ) -> Self {
        let mut snaps: Vec<&HoldingsSnapshot> = snapshots
            .iter()
            .filter(|s| scope.contains(&s.profile, &s.exchange))
            .collect();
        snaps.sort_by_key(|s| s.time);
        let mut grid: Vec<Timestamp> = snaps.iter().map(|s| s.time).collect();
        grid.dedup();
        let flows = flows
            .iter()
            .filter(|f| scope.contains(&f.profile, &f.exchange))
            .collect();
        Self {
            snapshots: snaps,
            flows,
            grid,
        }
    }

    /// Per-asset values at `time`: each (profile, exchange) account at its latest snapshot.
    pub fn asset_values(
        &self,
        book: &PriceBook,
        time: Timestamp,
    ) -> Result<AssetValues, AnalyticsError> {
        let mut latest: BTreeMap<(&ProfileId, &ExchangeId), &HoldingsSnapshot> = BTreeMap::new();
        for s in self.snapshots.iter().take_while(|s| s.time <= time) {
            latest.insert((&s.profile, &s.exchange), s);
        }
        let mut out = AssetValues::new();
        for s in latest.values() {
            for (asset, amount) in &s.holdings {
                let v = book.value(asset, *amount, time)?;
                let slot = out.entry(asset.clone()).or_default();
                *slot = slot
                    .checked_add(v)
                    .ok_or(AnalyticsError::Overflow { what: "holdings" })?;
            }
        }
        Ok(out)
    }

    /// Net flows in the base currency with `after < time <= until`, valued when they happened.
    pub fn flows_between(
        &self,
        book: &PriceBook,
        after: Timestamp,
        until: Timestamp,
    ) -> Result<Decimal, AnalyticsError> {
        self.flows
            .iter()
            .filter(|f| f.time > after && f.time <= until)
            .try_fold(Decimal::ZERO, |acc, f| {
                let v = book.value(&f.asset, f.amount, f.time)?;
                acc.checked_add(v)
                    .ok_or(AnalyticsError::Overflow { what: "flows" })
            })
    }

    /// The equity history on `grid`: value at each time, flows of the period ending there.
    /// Flows at or before the first time are initial capital; after the last, not yet seen.
    pub fn equity_on(
        &self,
        book: &PriceBook,
        grid: &[Timestamp],
    ) -> Result<EquitySeries, AnalyticsError> {
        let mut points = Vec::with_capacity(grid.len());
        for (i, t) in grid.iter().enumerate() {
            let value = sum(self.asset_values(book, *t)?.values().copied())?;
            let flow = match i.checked_sub(1) {
                Some(p) => self.flows_between(book, grid[p], *t)?,
                None => value,
            };
            points.push(EquityPoint {
                time: *t,
                value,
                flow,
            });
        }
        EquitySeries::new(points)
    }
}

/// Exact sum of decimals.
pub(crate) fn sum(xs: impl IntoIterator<Item = Decimal>) -> Result<Decimal, AnalyticsError> {
    xs.into_iter()
        .try_fold(Decimal::ZERO, |a, x| a.checked_add(x))
        .ok_or(AnalyticsError::Overflow { what: "a sum" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn price_lookup_takes_the_latest_at_or_before() {
        let btc = Asset::new("BTC").unwrap();
        let usd = Asset::new("USD").unwrap();
        let q = |d: &str, p: i64| PriceQuote {
            time: t(d),
            asset: btc.clone(),
            price: Decimal::from(p),
        };
        let book = PriceBook::new(
            usd.clone(),
            &[
                q("2024-01-03", 30),
                q("2024-01-01", 10),
                q("2024-01-01", 11),
            ],
        );
        assert_eq!(book.lookup(&btc, t("2023-12-31")), None);
        assert_eq!(book.lookup(&btc, t("2024-01-01")), Some(Decimal::from(11)));
        assert_eq!(book.lookup(&btc, t("2024-01-02")), Some(Decimal::from(11)));
        assert_eq!(book.lookup(&btc, t("2024-01-09")), Some(Decimal::from(30)));
        assert_eq!(book.lookup(&usd, t("2000-01-01")), Some(Decimal::ONE));
        assert!(matches!(
            book.price(&btc, t("2023-01-01")),
            Err(AnalyticsError::MissingPrice { .. })
        ));
    }
}
