//! [`SqlLedger`]: the durable [`OrderLedger`] on `tradeguard-store` (SQLite or PostgreSQL),
//! so a gateway that crashes between recording an order and learning its fate finds it again
//! on restart and reconciles it ([`super::OrderPlacer::reconcile`]).
//!
//! Every write is its own committed statement: the intent is durable before the order is
//! sent. Transitions read the row, check [`OrderState::can_become`], and write back with a
//! compare-and-set on the row's version; a writer that lost the race reads again, so the
//! state machine holds across processes and replicas.

use async_trait::async_trait;
use rust_decimal::Decimal;
use tradeguard_store::Store;
use tradeguard_store::orders::{FillRow, OrderRow};

use super::memory::apply;
use super::{FillRecord, LedgerEntry, LedgerError, OrderLedger, OrderState, Transition};
use crate::model::{
    AccountId, ClientOrderId, ExchangeId, ExchangeOrderId, Fill, OrderRequest, UnixMillis,
};

/// Compare-and-set attempts before a transition gives up (each loss means another writer
/// changed the order in between).
const CAS_ATTEMPTS: usize = 16;

/// The order ledger in the gateway's database.
#[derive(Clone)]
pub struct SqlLedger {
    store: Store,
}

impl SqlLedger {
    /// A ledger in `store` (migrated: migration 0004).
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

fn storage(e: impl std::fmt::Display) -> LedgerError {
    LedgerError::Storage(e.to_string())
}

fn corrupt(what: &str, id: &str) -> LedgerError {
    LedgerError::Storage(format!("stored order {id}: unreadable {what}"))
}

fn to_row(e: &LedgerEntry, version: i64) -> Result<OrderRow, LedgerError> {
    Ok(OrderRow {
        account: e.account.to_string(),
        client_order_id: e.client_order_id().to_string(),
        exchange: e.exchange.as_str().to_owned(),
        request: serde_json::to_string(&e.request).map_err(storage)?,
        state: e.state.as_str().to_owned(),
        exchange_order_id: e.exchange_order_id.as_ref().map(|x| x.to_string()),
        filled_quantity: e.filled_quantity.to_string(),
        created_ms: e.created_at.0,
        sent_ms: e.sent_at.map(|t| t.0),
        updated_ms: e.updated_at.0,
        last_error: e.last_error.clone(),
        version,
    })
}

fn from_row(r: &OrderRow) -> Result<LedgerEntry, LedgerError> {
    let id = r.client_order_id.as_str();
    let request: OrderRequest =
        serde_json::from_str(&r.request).map_err(|_| corrupt("request", id))?;
    Ok(LedgerEntry {
        account: AccountId::parse(&r.account).map_err(|_| corrupt("account", id))?,
        exchange: ExchangeId::parse(&r.exchange).map_err(|_| corrupt("exchange", id))?,
        request,
        state: OrderState::parse(&r.state).ok_or_else(|| corrupt("state", id))?,
        exchange_order_id: r
            .exchange_order_id
            .as_deref()
            .map(ExchangeOrderId::parse)
            .transpose()
            .map_err(|_| corrupt("exchange_order_id", id))?,
        filled_quantity: r
            .filled_quantity
            .parse::<Decimal>()
            .map_err(|_| corrupt("filled_quantity", id))?,
        created_at: UnixMillis(r.created_ms),
        sent_at: r.sent_ms.map(UnixMillis),
        updated_at: UnixMillis(r.updated_ms),
        last_error: r.last_error.clone(),
    })
}

impl SqlLedger {
    async fn row(
        &self,
        account: &AccountId,
        id: &ClientOrderId,
    ) -> Result<Option<OrderRow>, LedgerError> {
        self.store
            .order_get(account.as_str(), id.as_str())
            .await
            .map_err(storage)
    }
}

#[async_trait]
impl OrderLedger for SqlLedger {
    async fn record_intent(
        &self,
        account: &AccountId,
        exchange: ExchangeId,
        request: &OrderRequest,
        at: UnixMillis,
    ) -> Result<LedgerEntry, LedgerError> {
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
        let inserted = self
            .store
            .order_insert(&to_row(&entry, 1)?)
            .await
            .map_err(storage)?;
        if inserted {
            return Ok(entry);
        }
        let id = request.client_order_id();
        let existing = self
            .row(account, id)
            .await?
            .ok_or_else(|| LedgerError::NotFound(id.clone()))?;
        Err(LedgerError::Duplicate {
            client_order_id: id.clone(),
            state: from_row(&existing)?.state,
        })
    }

    async fn transition(
        &self,
        account: &AccountId,
        id: &ClientOrderId,
        transition: Transition,
    ) -> Result<LedgerEntry, LedgerError> {
        for _ in 0..CAS_ATTEMPTS {
            let row = self
                .row(account, id)
                .await?
                .ok_or_else(|| LedgerError::NotFound(id.clone()))?;
            let mut entry = from_row(&row)?;
            apply(&mut entry, transition.clone())?;
            let written = self
                .store
                .order_update(&to_row(&entry, row.version)?)
                .await
                .map_err(storage)?;
            if written {
                return Ok(entry);
            }
        }
        Err(LedgerError::Storage(format!(
            "order {id} kept changing under {CAS_ATTEMPTS} concurrent writes"
        )))
    }

    async fn get(
        &self,
        account: &AccountId,
        id: &ClientOrderId,
    ) -> Result<Option<LedgerEntry>, LedgerError> {
        self.row(account, id)
            .await?
            .as_ref()
            .map(from_row)
            .transpose()
    }

    async fn open_entries(&self, account: &AccountId) -> Result<Vec<LedgerEntry>, LedgerError> {
        let rows = self
            .store
            .orders_open(account.as_str())
            .await
            .map_err(storage)?;
        rows.iter().map(from_row).collect()
    }

    async fn all_entries(&self, account: &AccountId) -> Result<Vec<LedgerEntry>, LedgerError> {
        let rows = self
            .store
            .orders_all(account.as_str())
            .await
            .map_err(storage)?;
        rows.iter().map(from_row).collect()
    }

    async fn record_fill(
        &self,
        account: &AccountId,
        fill: &Fill,
    ) -> Result<FillRecord, LedgerError> {
        let owner = self
            .store
            .order_client_id(account.as_str(), fill.exchange_order_id.as_str())
            .await
            .map_err(storage)?
            .map(|c| ClientOrderId::parse(&c))
            .transpose()
            .map_err(|_| corrupt("client_order_id", fill.exchange_order_id.as_str()))?;
        let mut stored = fill.clone();
        if stored.client_order_id.is_none() {
            stored.client_order_id = owner.clone();
        }
        let row = FillRow {
            account: account.to_string(),
            trade_id: fill.trade_id.to_string(),
            symbol: fill.symbol.to_string(),
            exchange_order_id: fill.exchange_order_id.to_string(),
            client_order_id: stored.client_order_id.as_ref().map(|c| c.to_string()),
            time_ms: fill.time.0,
            fill: serde_json::to_string(&stored).map_err(storage)?,
        };
        let new = self.store.fill_insert(&row).await.map_err(storage)?;
        Ok(FillRecord {
            new,
            client_order_id: owner,
        })
    }

    async fn fills(&self, account: &AccountId) -> Result<Vec<Fill>, LedgerError> {
        let rows = self
            .store
            .fills_all(account.as_str())
            .await
            .map_err(storage)?;
        rows.iter()
            .map(|r| serde_json::from_str(&r.fill).map_err(|_| corrupt("fill", &r.trade_id)))
            .collect()
    }
}
