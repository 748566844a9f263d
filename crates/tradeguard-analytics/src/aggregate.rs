//! Aggregated-only mode: fills and order outcomes are folded into per-account totals as they
//! arrive and then dropped, for users whose compliance rules forbid keeping trade-level
//! records. The report is the same as the one from the raw records (tested).
//!
//! What is kept: per (profile, exchange) account, the trade count, volume and fees in the base
//! currency (valued when each fill arrived), order counts per outcome, and the first and last
//! fill time. Holdings snapshots, prices, flows and rebalances are kept as they are: they are
//! not trade records and the performance metrics need them.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::activity::{ActivityStats, OrderCounts, fill_in_base};
use crate::ledger::{
    Asset, ExchangeId, ExternalFlow, Fill, HoldingsSnapshot, Ledger, OrderRecord, PriceQuote,
    ProfileId, RebalanceEvent, validate_market_data,
};
use crate::portfolio::{LedgerReport, Market, build_report};
use crate::valuation::{PriceBook, Scope};
use crate::{AnalyticsError, Conventions, Timestamp};

/// Totals of one (profile, exchange) account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAggregate {
    /// The profile.
    pub profile: ProfileId,
    /// The exchange.
    pub exchange: ExchangeId,
    /// Number of fills.
    pub trade_count: u64,
    /// Volume in the base currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub volume: Decimal,
    /// Fees in the base currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub fees: Decimal,
    /// Orders per outcome.
    pub orders: OrderCounts,
    /// Time of the earliest fill.
    pub first_fill: Option<Timestamp>,
    /// Time of the latest fill.
    pub last_fill: Option<Timestamp>,
}

/// Per-account totals, updated one record at a time (order does not matter).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FillAggregates {
    accounts: BTreeMap<String, AccountAggregate>,
}

fn key(p: &ProfileId, e: &ExchangeId) -> String {
    // Names contain no whitespace (see the newtypes), so a space separates them unambiguously.
    format!("{p} {e}")
}

impl FillAggregates {
    /// Folds in one fill, valued with `book` at the fill's time. On error nothing changes.
    pub fn record_fill(&mut self, fill: &Fill, book: &PriceBook) -> Result<(), AnalyticsError> {
        fill.validate(0)?;
        let (volume, fee) = fill_in_base(fill, book)?;
        let acc = self.account(&fill.profile, &fill.exchange);
        let overflow = AnalyticsError::Overflow { what: "volume" };
        let new_volume = acc.volume.checked_add(volume).ok_or(overflow.clone())?;
        let new_fees = acc.fees.checked_add(fee).ok_or(overflow)?;
        acc.volume = new_volume;
        acc.fees = new_fees;
        acc.trade_count = acc.trade_count.saturating_add(1);
        acc.first_fill = Some(acc.first_fill.map_or(fill.time, |t| t.min(fill.time)));
        acc.last_fill = Some(acc.last_fill.map_or(fill.time, |t| t.max(fill.time)));
        Ok(())
    }

    /// Adds totals kept elsewhere (a gateway keeps them per day in its database) to the
    /// account's. On error nothing changes.
    pub fn absorb(&mut self, totals: &AccountAggregate) -> Result<(), AnalyticsError> {
        let acc = self.account(&totals.profile, &totals.exchange);
        let overflow = AnalyticsError::Overflow { what: "volume" };
        let new_volume = acc
            .volume
            .checked_add(totals.volume)
            .ok_or(overflow.clone())?;
        let new_fees = acc.fees.checked_add(totals.fees).ok_or(overflow)?;
        acc.volume = new_volume;
        acc.fees = new_fees;
        acc.trade_count = acc.trade_count.saturating_add(totals.trade_count);
        acc.orders.merge(&totals.orders);
        let earlier = |a: Option<Timestamp>, b: Option<Timestamp>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let later = |a: Option<Timestamp>, b: Option<Timestamp>| match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        acc.first_fill = earlier(acc.first_fill, totals.first_fill);
        acc.last_fill = later(acc.last_fill, totals.last_fill);
        Ok(())
    }

    /// Folds in one order outcome.
    pub fn record_order(&mut self, order: &OrderRecord) {
        self.account(&order.profile, &order.exchange)
            .orders
            .record(order.outcome);
    }

    fn account(&mut self, p: &ProfileId, e: &ExchangeId) -> &mut AccountAggregate {
        self.accounts
            .entry(key(p, e))
            .or_insert_with(|| AccountAggregate {
                profile: p.clone(),
                exchange: e.clone(),
                trade_count: 0,
                volume: Decimal::ZERO,
                fees: Decimal::ZERO,
                orders: OrderCounts::default(),
                first_fill: None,
                last_fill: None,
            })
    }

    /// The accounts, by `"profile exchange"`.
    pub fn accounts(&self) -> impl Iterator<Item = &AccountAggregate> {
        self.accounts.values()
    }

    /// The activity of `scope`, rolled up from the accounts it contains.
    pub fn activity(&self, scope: &Scope) -> Result<ActivityStats, AnalyticsError> {
        let mut s = ActivityStats::default();
        let overflow = AnalyticsError::Overflow { what: "volume" };
        for a in self.accounts.values() {
            if !scope.contains(&a.profile, &a.exchange) {
                continue;
            }
            s.trade_count = s.trade_count.saturating_add(a.trade_count);
            s.volume = s.volume.checked_add(a.volume).ok_or(overflow.clone())?;
            s.fees = s.fees.checked_add(a.fees).ok_or(overflow.clone())?;
            s.orders.merge(&a.orders);
        }
        s.order_success_rate = s.orders.success_rate();
        Ok(s)
    }
}

/// A ledger that keeps aggregates instead of fills and orders.
#[derive(Clone, Debug)]
pub struct AggregatedLedger {
    book: PriceBook,
    aggregates: FillAggregates,
    snapshots: Vec<HoldingsSnapshot>,
    flows: Vec<ExternalFlow>,
    rebalances: Vec<RebalanceEvent>,
}

impl AggregatedLedger {
    /// An empty ledger reporting in `base_currency`.
    pub fn new(base_currency: Asset) -> Self {
        Self {
            book: PriceBook::new(base_currency, &[]),
            aggregates: FillAggregates::default(),
            snapshots: Vec::new(),
            flows: Vec::new(),
            rebalances: Vec::new(),
        }
    }

    /// Converts a raw ledger, dropping its fills and orders once folded in.
    pub fn from_ledger(ledger: Ledger) -> Result<Self, AnalyticsError> {
        let mut agg = Self::new(ledger.base_currency);
        for p in &ledger.prices {
            agg.record_price(p)?;
        }
        for f in &ledger.fills {
            agg.record_fill(f)?;
        }
        for o in &ledger.orders {
            agg.record_order(o);
        }
        for s in ledger.snapshots {
            agg.record_snapshot(s)?;
        }
        agg.flows = ledger.flows;
        agg.rebalances = ledger.rebalances;
        Ok(agg)
    }

    /// Adds a price; record prices before the fills they value.
    pub fn record_price(&mut self, q: &PriceQuote) -> Result<(), AnalyticsError> {
        validate_market_data(&[], std::slice::from_ref(q))?;
        self.book.insert(q);
        Ok(())
    }

    /// Folds a fill into the aggregates; the fill itself is not kept.
    pub fn record_fill(&mut self, fill: &Fill) -> Result<(), AnalyticsError> {
        self.aggregates.record_fill(fill, &self.book)
    }

    /// Folds an order outcome into the aggregates; the record itself is not kept.
    pub fn record_order(&mut self, order: &OrderRecord) {
        self.aggregates.record_order(order);
    }

    /// Keeps a holdings snapshot.
    pub fn record_snapshot(&mut self, s: HoldingsSnapshot) -> Result<(), AnalyticsError> {
        validate_market_data(std::slice::from_ref(&s), &[])?;
        self.snapshots.push(s);
        Ok(())
    }

    /// Keeps a deposit or withdrawal.
    pub fn record_flow(&mut self, f: ExternalFlow) {
        self.flows.push(f);
    }

    /// Keeps a rebalance event.
    pub fn record_rebalance(&mut self, r: RebalanceEvent) {
        self.rebalances.push(r);
    }

    /// Adds totals of fills folded earlier (see [`FillAggregates::absorb`]).
    pub fn absorb(&mut self, totals: &AccountAggregate) -> Result<(), AnalyticsError> {
        self.aggregates.absorb(totals)
    }

    /// The aggregates kept in place of fills.
    pub fn aggregates(&self) -> &FillAggregates {
        &self.aggregates
    }

    /// The report, identical to [`crate::analyze_ledger`] on the raw records.
    pub fn report(&self, conventions: &Conventions) -> Result<LedgerReport, AnalyticsError> {
        let market = Market {
            book: &self.book,
            snapshots: &self.snapshots,
            flows: &self.flows,
            rebalances: &self.rebalances,
        };
        let cells: BTreeSet<(ProfileId, ExchangeId)> = self
            .aggregates
            .accounts()
            .map(|a| (a.profile.clone(), a.exchange.clone()))
            .collect();
        build_report(&market, cells, conventions, |scope| {
            self.aggregates.activity(scope)
        })
    }
}
