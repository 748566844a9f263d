//! The order ledger: every order is recorded under its client order id *before* it is sent,
//! and moves through `new → sent → acknowledged | rejected | unknown → filled | cancelled`.
//!
//! - [`OrderLedger`]: the storage trait: [`InMemoryLedger`] for tests and dry runs,
//!   [`SqlLedger`] durable in the gateway's database (SQLite or PostgreSQL). Transitions are checked by [`OrderState::can_become`], the same rule for
//!   every implementation.
//! - [`OrderPlacer`]: places orders through the ledger; an ambiguous failure leaves the order
//!   `unknown`, resolved by querying the exchange by client id — never by sending it again.
//! - [`OrderPlacer::reconcile`]: start-up reconciliation of the ledger with the exchange's
//!   open orders and fills.

mod memory;
mod placer;
mod reconcile;
mod sql;

use std::fmt;

use async_trait::async_trait;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use memory::InMemoryLedger;
pub use placer::{OrderError, OrderPlacer, Placement, Resolution};
pub use reconcile::ReconcileReport;
pub use sql::SqlLedger;

use crate::model::{
    AccountId, ClientOrderId, ExchangeId, ExchangeOrderId, Fill, OrderRequest, OrderStatus,
    UnixMillis,
};

/// Where an order stands in the gateway's own books.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Recorded, not yet sent.
    New,
    /// About to be sent or in flight.
    Sent,
    /// The exchange has it (open or partly filled).
    Acknowledged,
    /// Its fate is unknown (timeout, dropped connection, 5xx): must be resolved by query.
    Unknown,
    /// Not placed: refused by the exchange, never sent, or proven never to have arrived.
    Rejected,
    /// Completely filled.
    Filled,
    /// Cancelled or expired (possibly after partial fills).
    Cancelled,
}

impl OrderState {
    /// Every state, for storage mappings.
    pub const ALL: [OrderState; 7] = [
        OrderState::New,
        OrderState::Sent,
        OrderState::Acknowledged,
        OrderState::Unknown,
        OrderState::Rejected,
        OrderState::Filled,
        OrderState::Cancelled,
    ];

    /// The stable lowercase name (also the storage form).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::New => "new",
            OrderState::Sent => "sent",
            OrderState::Acknowledged => "acknowledged",
            OrderState::Unknown => "unknown",
            OrderState::Rejected => "rejected",
            OrderState::Filled => "filled",
            OrderState::Cancelled => "cancelled",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// True when nothing can change any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderState::Rejected | OrderState::Filled | OrderState::Cancelled
        )
    }

    /// The transition rule shared by every ledger implementation. Staying in a non-final state
    /// is allowed (to record progress such as fills).
    pub fn can_become(self, next: OrderState) -> bool {
        use OrderState::*;
        match (self, next) {
            (a, b) if a == b => !a.is_final(),
            (New, Sent | Rejected) => true,
            (Sent | Unknown, Acknowledged | Unknown | Rejected | Filled | Cancelled) => true,
            (Acknowledged, Filled | Cancelled) => true,
            _ => false,
        }
    }

    /// The ledger state for an order the exchange reports in `status`.
    pub fn from_status(status: OrderStatus) -> Self {
        match status {
            OrderStatus::Pending | OrderStatus::Open | OrderStatus::PartiallyFilled => {
                OrderState::Acknowledged
            }
            OrderStatus::Filled => OrderState::Filled,
            OrderStatus::Cancelled | OrderStatus::Expired => OrderState::Cancelled,
            OrderStatus::Rejected => OrderState::Rejected,
        }
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One order in the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The exchange account.
    pub account: AccountId,
    /// The exchange.
    pub exchange: ExchangeId,
    /// The order as requested (its client id is the key).
    pub request: OrderRequest,
    /// Where it stands.
    pub state: OrderState,
    /// The exchange's id, once known.
    pub exchange_order_id: Option<ExchangeOrderId>,
    /// Filled quantity as last reported by the exchange.
    pub filled_quantity: Decimal,
    /// When the intent was recorded.
    pub created_at: UnixMillis,
    /// When it was (last) handed to the exchange.
    pub sent_at: Option<UnixMillis>,
    /// Last change.
    pub updated_at: UnixMillis,
    /// Why it was rejected or is unknown (exchange code and message, never secrets).
    pub last_error: Option<String>,
}

impl LedgerEntry {
    /// The client order id.
    pub fn client_order_id(&self) -> &ClientOrderId {
        self.request.client_order_id()
    }
}

/// A state change, with what was learned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The new state.
    pub to: OrderState,
    /// When.
    pub at: UnixMillis,
    /// The exchange's id, if learned now.
    pub exchange_order_id: Option<ExchangeOrderId>,
    /// Filled quantity, if learned now.
    pub filled_quantity: Option<Decimal>,
    /// Why (for rejected or unknown).
    pub error: Option<String>,
}

impl Transition {
    /// A bare move to `to` at `at`.
    pub fn to(to: OrderState, at: UnixMillis) -> Self {
        Self {
            to,
            at,
            exchange_order_id: None,
            filled_quantity: None,
            error: None,
        }
    }

    /// With the reason.
    pub fn because(mut self, error: impl Into<String>) -> Self {
        self.error = Some(error.into());
        self
    }
}

/// A ledger failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The client order id is already in the ledger: the order was not sent again.
    #[error(
        "client order id {client_order_id} is already recorded (state {state}); it was not sent again"
    )]
    Duplicate {
        /// The id.
        client_order_id: ClientOrderId,
        /// Its recorded state.
        state: OrderState,
    },
    /// No order with this client id.
    #[error("no order with client order id {0} in the ledger")]
    NotFound(ClientOrderId),
    /// The change breaks the state machine (a bug, or a concurrent writer won).
    #[error("order {client_order_id} cannot go from {from} to {to}")]
    InvalidTransition {
        /// The id.
        client_order_id: ClientOrderId,
        /// Current state.
        from: OrderState,
        /// Refused state.
        to: OrderState,
    },
    /// The storage failed; the order's record may be stale.
    #[error("order ledger storage failed: {0}; check the database before sending more orders")]
    Storage(String),
}

/// A fill as recorded: whether it was new, and which ledger order it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FillRecord {
    /// False when this trade id was already recorded.
    pub new: bool,
    /// The ledger order it belongs to, if any (otherwise placed outside the gateway).
    pub client_order_id: Option<ClientOrderId>,
}

/// Storage of the order ledger. Implementations must make [`OrderLedger::record_intent`]
/// atomic (a second intent with the same account and client id fails) and must check every
/// transition with [`OrderState::can_become`] atomically with the write.
#[async_trait]
pub trait OrderLedger: Send + Sync {
    /// Records a new order in state `new`. Fails with [`LedgerError::Duplicate`] if the
    /// account already has this client order id.
    async fn record_intent(
        &self,
        account: &AccountId,
        exchange: ExchangeId,
        request: &OrderRequest,
        at: UnixMillis,
    ) -> Result<LedgerEntry, LedgerError>;

    /// Applies `transition` to the order, if the state machine allows it.
    async fn transition(
        &self,
        account: &AccountId,
        id: &ClientOrderId,
        transition: Transition,
    ) -> Result<LedgerEntry, LedgerError>;

    /// One order.
    async fn get(
        &self,
        account: &AccountId,
        id: &ClientOrderId,
    ) -> Result<Option<LedgerEntry>, LedgerError>;

    /// Orders of `account` not yet in a final state.
    async fn open_entries(&self, account: &AccountId) -> Result<Vec<LedgerEntry>, LedgerError>;

    /// Every order of `account`, open and final, oldest first (reports count outcomes).
    async fn all_entries(&self, account: &AccountId) -> Result<Vec<LedgerEntry>, LedgerError>;

    /// Records a fill once (keyed by trade id), linked to the ledger order with the same
    /// exchange order id when there is one.
    async fn record_fill(
        &self,
        account: &AccountId,
        fill: &Fill,
    ) -> Result<FillRecord, LedgerError>;

    /// Every fill recorded for `account`, oldest first.
    async fn fills(&self, account: &AccountId) -> Result<Vec<Fill>, LedgerError>;
}

#[cfg(test)]
mod tests {
    use super::OrderState::*;
    use super::*;

    #[test]
    fn transition_table() {
        let cases = [
            (New, Sent, true),
            (New, Rejected, true),
            (New, Acknowledged, false),
            (Sent, Unknown, true),
            (Sent, Filled, true),
            (Unknown, Acknowledged, true),
            (Unknown, Rejected, true),
            (Unknown, Unknown, true),
            (Acknowledged, Acknowledged, true),
            (Acknowledged, Cancelled, true),
            (Acknowledged, Rejected, false),
            (Acknowledged, Sent, false),
            (Filled, Cancelled, false),
            (Rejected, Sent, false),
            (Filled, Filled, false),
        ];
        for (i, (from, to, ok)) in cases.iter().enumerate() {
            assert_eq!(from.can_become(*to), *ok, "TC{i} failed: {from} -> {to}");
        }
    }

    #[test]
    fn names_round_trip() {
        for s in OrderState::ALL {
            assert_eq!(OrderState::parse(s.as_str()), Some(s));
        }
    }
}
