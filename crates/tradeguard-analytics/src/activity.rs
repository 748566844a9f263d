//! Trading activity of a scope: trade count, volume and fees in the base currency, order
//! outcomes and success rate, computed from raw fills and orders.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::AnalyticsError;
use crate::ledger::{Fill, OrderOutcome, OrderRecord};
use crate::valuation::{PriceBook, Scope};

/// Orders per final outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCounts {
    /// Executed in full.
    pub filled: u64,
    /// Executed in part.
    pub partially_filled: u64,
    /// Cancelled with nothing executed.
    pub cancelled: u64,
    /// Refused by the risk checks.
    pub refused: u64,
    /// Rejected by the exchange.
    pub rejected: u64,
    /// Failed or unknown.
    pub failed: u64,
}

impl OrderCounts {
    /// Counts one more order with `outcome`.
    pub fn record(&mut self, outcome: OrderOutcome) {
        let slot = match outcome {
            OrderOutcome::Filled => &mut self.filled,
            OrderOutcome::PartiallyFilled => &mut self.partially_filled,
            OrderOutcome::Cancelled => &mut self.cancelled,
            OrderOutcome::Refused => &mut self.refused,
            OrderOutcome::Rejected => &mut self.rejected,
            OrderOutcome::Failed => &mut self.failed,
        };
        *slot = slot.saturating_add(1);
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, o: &OrderCounts) {
        self.filled = self.filled.saturating_add(o.filled);
        self.partially_filled = self.partially_filled.saturating_add(o.partially_filled);
        self.cancelled = self.cancelled.saturating_add(o.cancelled);
        self.refused = self.refused.saturating_add(o.refused);
        self.rejected = self.rejected.saturating_add(o.rejected);
        self.failed = self.failed.saturating_add(o.failed);
    }

    /// All orders.
    pub fn total(&self) -> u64 {
        [
            self.filled,
            self.partially_filled,
            self.cancelled,
            self.refused,
            self.rejected,
            self.failed,
        ]
        .iter()
        .fold(0u64, |a, x| a.saturating_add(*x))
    }

    /// `(filled + partially_filled) / total`: the share of orders that executed at all.
    /// `None` with no orders.
    pub fn success_rate(&self) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| (self.filled + self.partially_filled) as f64 / total as f64)
    }
}

/// Activity of one scope.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActivityStats {
    /// Number of fills.
    pub trade_count: u64,
    /// Sum of `quantity * price` over fills, in the base currency at each fill's time.
    #[serde(with = "rust_decimal::serde::str")]
    pub volume: Decimal,
    /// Sum of fees, in the base currency at each fill's time.
    #[serde(with = "rust_decimal::serde::str")]
    pub fees: Decimal,
    /// Orders per outcome.
    pub orders: OrderCounts,
    /// See [`OrderCounts::success_rate`].
    pub order_success_rate: Option<f64>,
}

/// A fill's notional and fee in the base currency, valued at the fill's time.
pub fn fill_in_base(fill: &Fill, book: &PriceBook) -> Result<(Decimal, Decimal), AnalyticsError> {
    let overflow = AnalyticsError::Overflow {
        what: "fill volume",
    };
    let notional = fill
        .quantity
        .checked_mul(fill.price)
        .ok_or(overflow.clone())?;
    let volume = book.value(&fill.quote, notional, fill.time)?;
    let fee = book.value(&fill.fee_asset, fill.fee, fill.time)?;
    Ok((volume, fee))
}

/// The activity of `scope` straight from the raw records.
pub fn activity_from_records(
    scope: &Scope,
    fills: &[Fill],
    orders: &[OrderRecord],
    book: &PriceBook,
) -> Result<ActivityStats, AnalyticsError> {
    let mut stats = ActivityStats::default();
    let overflow = AnalyticsError::Overflow { what: "volume" };
    for f in fills
        .iter()
        .filter(|f| scope.contains(&f.profile, &f.exchange))
    {
        let (v, fee) = fill_in_base(f, book)?;
        stats.trade_count += 1;
        stats.volume = stats.volume.checked_add(v).ok_or(overflow.clone())?;
        stats.fees = stats.fees.checked_add(fee).ok_or(overflow.clone())?;
    }
    for o in orders
        .iter()
        .filter(|o| scope.contains(&o.profile, &o.exchange))
    {
        stats.orders.record(o.outcome);
    }
    stats.order_success_rate = stats.orders.success_rate();
    Ok(stats)
}
