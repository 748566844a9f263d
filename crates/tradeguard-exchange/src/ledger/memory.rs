//! An in-memory [`OrderLedger`] for tests, the simulator demo and single-process dry runs.
//! It forgets everything on restart: production uses the store crate's durable ledger.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use rust_decimal::Decimal;

use super::{FillRecord, LedgerEntry, LedgerError, OrderLedger, OrderState, Transition};
use crate::model::{
    AccountId, ClientOrderId, ExchangeId, ExchangeOrderId, Fill, OrderRequest, TradeId, UnixMillis,
};

#[derive(Default)]
struct Book {
    orders: BTreeMap<ClientOrderId, LedgerEntry>,
    by_exchange_id: HashMap<ExchangeOrderId, ClientOrderId>,
    fills: BTreeMap<TradeId, Fill>,
}

/// A ledger in a mutex-protected map per account.
#[derive(Default)]
pub struct InMemoryLedger {
    books: Mutex<HashMap<AccountId, Book>>,
}

impl InMemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, account: &AccountId, f: impl FnOnce(&mut Book) -> T) -> T {
        let mut books = self.books.lock().unwrap_or_else(|p| p.into_inner());
        f(books.entry(account.clone()).or_default())
    }

    /// Every order of `account`, in client id order (for tests and reports).
    pub fn entries(&self, account: &AccountId) -> Vec<LedgerEntry> {
        self.with(account, |b| b.orders.values().cloned().collect())
    }
}

/// Applies `t` to `entry` after checking the state machine.
pub(crate) fn apply(entry: &mut LedgerEntry, t: Transition) -> Result<(), LedgerError> {
    if !entry.state.can_become(t.to) {
        return Err(LedgerError::InvalidTransition {
            client_order_id: entry.client_order_id().clone(),
            from: entry.state,
            to: t.to,
        });
    }
    if t.to == OrderState::Sent {
        entry.sent_at = Some(t.at);
    }
    entry.state = t.to;
    entry.updated_at = t.at;
    if let Some(id) = t.exchange_order_id {
        entry.exchange_order_id = Some(id);
    }
    if let Some(q) = t.filled_quantity {
        entry.filled_quantity = entry.filled_quantity.max(q);
    }
    if t.error.is_some() {
        entry.last_error = t.error;
    }
    Ok(())
}

#[async_trait]
impl OrderLedger for InMemoryLedger {
    async fn record_intent(
        &self,
        account: &AccountId,
        exchange: ExchangeId,
        request: &OrderRequest,
        at: UnixMillis,
    ) -> Result<LedgerEntry, LedgerError> {
        self.with(account, |b| {
            if let Some(e) = b.orders.get(request.client_order_id()) {
                return Err(LedgerError::Duplicate {
                    client_order_id: e.client_order_id().clone(),
                    state: e.state,
                });
            }
            let entry = LedgerEntry {
                account: account.clone(),
                exchange,
                request: request.clone(),
                state: OrderState::New,
                exchange_order_id: None,
                filled_quantity: Decimal::ZERO,
                created_at: at,
                sent_at: None,
                updated_at: at,
                last_error: None,
            };
            b.orders
                .insert(request.client_order_id().clone(), entry.clone());
            Ok(entry)
        })
    }

    async fn transition(
        &self,
        account: &AccountId,
        id: &ClientOrderId,
        transition: Transition,
    ) -> Result<LedgerEntry, LedgerError> {
        self.with(account, |b| {
            let entry = b
                .orders
                .get_mut(id)
                .ok_or_else(|| LedgerError::NotFound(id.clone()))?;
            apply(entry, transition)?;
            let entry = entry.clone();
            if let Some(x) = &entry.exchange_order_id {
                b.by_exchange_id.insert(x.clone(), id.clone());
            }
            Ok(entry)
        })
    }

    async fn get(
        &self,
        account: &AccountId,
        id: &ClientOrderId,
    ) -> Result<Option<LedgerEntry>, LedgerError> {
        Ok(self.with(account, |b| b.orders.get(id).cloned()))
    }

    async fn open_entries(&self, account: &AccountId) -> Result<Vec<LedgerEntry>, LedgerError> {
        Ok(self.with(account, |b| {
            b.orders
                .values()
                .filter(|e| !e.state.is_final())
                .cloned()
                .collect()
        }))
    }

    async fn all_entries(&self, account: &AccountId) -> Result<Vec<LedgerEntry>, LedgerError> {
        let mut all: Vec<LedgerEntry> =
            self.with(account, |b| b.orders.values().cloned().collect());
        all.sort_by(|a, b| {
            (a.created_at, a.client_order_id()).cmp(&(b.created_at, b.client_order_id()))
        });
        Ok(all)
    }

    async fn record_fill(
        &self,
        account: &AccountId,
        fill: &Fill,
    ) -> Result<FillRecord, LedgerError> {
        self.with(account, |b| {
            let owner = b.by_exchange_id.get(&fill.exchange_order_id).cloned();
            if b.fills.contains_key(&fill.trade_id) {
                return Ok(FillRecord {
                    new: false,
                    client_order_id: owner,
                });
            }
            let mut stored = fill.clone();
            if stored.client_order_id.is_none() {
                stored.client_order_id = owner.clone();
            }
            b.fills.insert(fill.trade_id.clone(), stored);
            Ok(FillRecord {
                new: true,
                client_order_id: owner,
            })
        })
    }

    async fn fills(&self, account: &AccountId) -> Result<Vec<Fill>, LedgerError> {
        let mut all: Vec<Fill> = self.with(account, |b| b.fills.values().cloned().collect());
        all.sort_by(|a, b| (a.time, &a.trade_id).cmp(&(b.time, &b.trade_id)));
        Ok(all)
    }
}
