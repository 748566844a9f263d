//! Idempotent order placement through the ledger, and resolution of unknown outcomes.

use std::sync::Arc;

use super::{LedgerEntry, LedgerError, OrderLedger, OrderState, Transition};
use crate::clock::Clock;
use crate::error::{ExchangeError, Reaction, RejectKind};
use crate::exchange::Exchange;
use crate::model::{AccountId, ClientOrderId, Order, OrderRef, OrderRequest, UnixMillis};

/// When a resolution lookup itself failed, try again this much later.
const LOOKUP_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// What happened to a new order.
#[derive(Debug, Clone)]
pub enum Placement {
    /// The exchange has it (open, or already filled or cancelled).
    Placed(LedgerEntry),
    /// It was not placed. A new attempt needs a new client order id.
    Rejected {
        /// The ledger record (state `rejected`).
        entry: LedgerEntry,
        /// Why.
        error: ExchangeError,
    },
    /// Its fate is unknown and could not be resolved yet: it must not be sent again; call
    /// [`OrderPlacer::resolve`] later (after `retry_at`).
    Unknown {
        /// The ledger record (state `unknown`).
        entry: LedgerEntry,
        /// When a "not found" answer becomes conclusive.
        retry_at: UnixMillis,
    },
    /// This client order id was already in the ledger: nothing was sent.
    AlreadyRecorded(LedgerEntry),
}

/// The outcome of resolving an order by its client id.
#[derive(Debug, Clone)]
pub enum Resolution {
    /// The exchange has the order; the ledger now follows it.
    Found(LedgerEntry),
    /// The exchange does not have it and can no longer accept it: recorded as rejected.
    NotPlaced(LedgerEntry),
    /// Not conclusive yet (not found within the validity window, or the lookup failed).
    Pending {
        /// The ledger record.
        entry: LedgerEntry,
        /// When to try again.
        retry_at: UnixMillis,
    },
}

/// A placement or resolution failure.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum OrderError {
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The exchange failed (for cancels and lookups).
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
}

/// Places, resolves and cancels orders of one account through the ledger.
pub struct OrderPlacer {
    pub(super) exchange: Arc<dyn Exchange>,
    pub(super) ledger: Arc<dyn OrderLedger>,
    pub(super) account: AccountId,
    pub(super) clock: Arc<dyn Clock>,
}

/// True when a transition to `wanted` was refused only because another resolver (the poller,
/// a second gateway replica) already recorded the same or later knowledge: the order stays as
/// recorded. Contradictions (an order recorded as never placed that is now found, or the
/// reverse) are not covered and stay errors.
fn superseded(current: OrderState, wanted: OrderState) -> bool {
    use OrderState::*;
    matches!(
        (current, wanted),
        (Filled | Cancelled, Acknowledged | Unknown)
            | (Acknowledged, Unknown)
            | (Rejected, Unknown)
            | (Filled, Filled)
            | (Cancelled, Cancelled)
            | (Rejected, Rejected)
    )
}

fn found(order: &Order, at: UnixMillis) -> Transition {
    Transition {
        to: OrderState::from_status(order.status),
        at,
        exchange_order_id: Some(order.exchange_order_id.clone()),
        filled_quantity: Some(order.filled_quantity),
        error: None,
    }
}

impl OrderPlacer {
    /// Applies `t`, or keeps the record when a concurrent resolver got there first (see
    /// [`superseded`]).
    pub(super) async fn apply(
        &self,
        id: &ClientOrderId,
        t: Transition,
    ) -> Result<LedgerEntry, OrderError> {
        match self.ledger.transition(&self.account, id, t).await {
            Err(LedgerError::InvalidTransition { from, to, .. }) if superseded(from, to) => {
                tracing::debug!(client_order_id = %id, %from, %to, "already recorded by another resolver");
                Ok(self
                    .ledger
                    .get(&self.account, id)
                    .await?
                    .ok_or_else(|| LedgerError::NotFound(id.clone()))?)
            }
            r => Ok(r?),
        }
    }

    /// A placer for `account` on `exchange`, recording in `ledger`.
    pub fn new(
        exchange: Arc<dyn Exchange>,
        ledger: Arc<dyn OrderLedger>,
        account: AccountId,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            exchange,
            ledger,
            account,
            clock,
        }
    }

    /// Records the order, then sends it once. Never re-sends: an ambiguous failure is
    /// resolved by querying the client order id.
    pub async fn place(&self, request: &OrderRequest) -> Result<Placement, OrderError> {
        let id = request.client_order_id();
        let recorded = self
            .ledger
            .record_intent(&self.account, self.exchange.id(), request, self.clock.now())
            .await;
        match recorded {
            Ok(_) => {}
            Err(LedgerError::Duplicate { .. }) => {
                let entry = self
                    .ledger
                    .get(&self.account, id)
                    .await?
                    .ok_or_else(|| LedgerError::NotFound(id.clone()))?;
                return Ok(Placement::AlreadyRecorded(entry));
            }
            Err(e) => return Err(e.into()),
        }
        self.ledger
            .transition(
                &self.account,
                id,
                Transition::to(OrderState::Sent, self.clock.now()),
            )
            .await?;
        match self.exchange.place_order(request).await {
            Ok(ack) => {
                let t = Transition {
                    to: OrderState::from_status(ack.status),
                    at: self.clock.now(),
                    exchange_order_id: Some(ack.exchange_order_id),
                    filled_quantity: Some(ack.filled_quantity),
                    error: None,
                };
                Ok(Placement::Placed(self.apply(id, t).await?))
            }
            // An exchange saying "duplicate" for our own fresh id means it already has it.
            Err(e)
                if e.reaction() == Reaction::Resolve
                    || e.reject_kind() == Some(RejectKind::DuplicateOrder) =>
            {
                let t =
                    Transition::to(OrderState::Unknown, self.clock.now()).because(e.to_string());
                self.apply(id, t).await?;
                Ok(match self.resolve(id).await? {
                    Resolution::Found(entry) => Placement::Placed(entry),
                    Resolution::NotPlaced(entry) => Placement::Rejected { entry, error: e },
                    Resolution::Pending { entry, retry_at } => {
                        Placement::Unknown { entry, retry_at }
                    }
                })
            }
            Err(e) => {
                let t =
                    Transition::to(OrderState::Rejected, self.clock.now()).because(e.to_string());
                let entry = self.apply(id, t).await?;
                Ok(Placement::Rejected { entry, error: e })
            }
        }
    }

    /// Resolves an order in state `sent` or `unknown` by asking the exchange for its client
    /// order id. "Not found" is conclusive only once the order's signature has expired
    /// ([`Exchange::order_validity`] after it was sent); before that it stays unknown.
    pub async fn resolve(&self, id: &ClientOrderId) -> Result<Resolution, OrderError> {
        let entry = self
            .ledger
            .get(&self.account, id)
            .await?
            .ok_or_else(|| LedgerError::NotFound(id.clone()))?;
        match entry.state {
            OrderState::Sent | OrderState::Unknown => {}
            OrderState::Rejected => return Ok(Resolution::NotPlaced(entry)),
            _ => return Ok(Resolution::Found(entry)),
        }
        let sent = entry.sent_at.unwrap_or(entry.created_at);
        let conclusive_at = sent.plus(self.exchange.order_validity());
        let lookup = self
            .exchange
            .order_by_client_id(entry.request.symbol(), id)
            .await;
        let now = self.clock.now();
        match lookup {
            Ok(Some(order)) => Ok(Resolution::Found(self.apply(id, found(&order, now)).await?)),
            Ok(None) if now >= conclusive_at => {
                let t = Transition::to(OrderState::Rejected, now).because(
                    "not found on the exchange after its signature expired: it was never placed",
                );
                Ok(Resolution::NotPlaced(self.apply(id, t).await?))
            }
            Ok(None) => Ok(Resolution::Pending {
                entry,
                retry_at: conclusive_at,
            }),
            Err(e) => {
                tracing::warn!(exchange = %self.exchange.id(), client_order_id = %id, error = %e, "resolution lookup failed");
                Ok(Resolution::Pending {
                    entry,
                    retry_at: now.plus(LOOKUP_RETRY),
                })
            }
        }
    }

    /// Resolves every `sent` or `unknown` order of the account once.
    pub async fn resolve_pending(&self) -> Result<Vec<Resolution>, OrderError> {
        let mut out = Vec::new();
        for e in self.ledger.open_entries(&self.account).await? {
            if matches!(e.state, OrderState::Sent | OrderState::Unknown) {
                out.push(self.resolve(e.client_order_id()).await?);
            }
        }
        Ok(out)
    }

    /// Cancels an order known to the ledger, then records its final state from the exchange.
    pub async fn cancel(&self, id: &ClientOrderId) -> Result<LedgerEntry, OrderError> {
        let entry = self
            .ledger
            .get(&self.account, id)
            .await?
            .ok_or_else(|| LedgerError::NotFound(id.clone()))?;
        if entry.state.is_final() {
            return Ok(entry);
        }
        let target = match &entry.exchange_order_id {
            Some(x) => OrderRef::Exchange(x.clone()),
            None => OrderRef::Client(id.clone()),
        };
        match self
            .exchange
            .cancel_order(entry.request.symbol(), &target)
            .await
        {
            Ok(()) => {}
            // Already closed (filled, or cancelled elsewhere): the lookup below tells which.
            Err(e) if e.reject_kind() == Some(RejectKind::UnknownOrder) => {}
            Err(e) => return Err(e.into()),
        }
        self.refresh(&entry).await
    }

    /// Records a fill of this account in the ledger (once per trade id).
    pub async fn record_fill(
        &self,
        fill: &crate::model::Fill,
    ) -> Result<super::FillRecord, LedgerError> {
        self.ledger.record_fill(&self.account, fill).await
    }

    /// Re-reads an order from the exchange and records what it says.
    pub async fn refresh(&self, entry: &LedgerEntry) -> Result<LedgerEntry, OrderError> {
        let id = entry.client_order_id();
        match self
            .exchange
            .order_by_client_id(entry.request.symbol(), id)
            .await?
        {
            Some(order) => self.apply(id, found(&order, self.clock.now())).await,
            None if matches!(entry.state, OrderState::Sent | OrderState::Unknown) => {
                match self.resolve(id).await? {
                    Resolution::Found(e)
                    | Resolution::NotPlaced(e)
                    | Resolution::Pending { entry: e, .. } => Ok(e),
                }
            }
            None => Ok(entry.clone()),
        }
    }
}
