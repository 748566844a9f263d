//! [`SqlPollStore`]: the poller's snapshots and fills in the gateway's database
//! (`tradeguard-store`, migration 0004), so balances, open orders, connectivity and the fill
//! cursors survive a restart. Fills share the order ledger's table: a fill is stored once,
//! whichever saw it first.

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use tradeguard_store::Store;
use tradeguard_store::orders::{FillRow, SnapshotKind};

use super::{ConnectivityStatus, PollStore};
use crate::model::{AccountId, Balance, Fill, Order, Symbol, UnixMillis};

/// The poller's store in the gateway's database.
#[derive(Clone)]
pub struct SqlPollStore {
    store: Store,
}

impl SqlPollStore {
    /// A poll store in `store` (migrated: migration 0004).
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    async fn put<T: serde::Serialize + ?Sized>(
        &self,
        account: &AccountId,
        kind: SnapshotKind,
        at: UnixMillis,
        value: &T,
    ) -> Result<(), String> {
        let body = serde_json::to_string(value).map_err(|e| e.to_string())?;
        self.store
            .snapshot_put(account.as_str(), kind, at.0, &body)
            .await
            .map_err(|e| e.to_string())
    }

    async fn read<T: DeserializeOwned>(
        &self,
        account: &AccountId,
        kind: SnapshotKind,
    ) -> Result<Option<(UnixMillis, T)>, String> {
        let Some((at, body)) = self
            .store
            .snapshot_get(account.as_str(), kind)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let value = serde_json::from_str(&body)
            .map_err(|_| format!("stored {kind:?} snapshot of {account} is unreadable"))?;
        Ok(Some((UnixMillis(at), value)))
    }

    /// The latest balances of `account` and when they were read.
    pub async fn balances(
        &self,
        account: &AccountId,
    ) -> Result<Option<(UnixMillis, Vec<Balance>)>, String> {
        self.read(account, SnapshotKind::Balances).await
    }

    /// The latest open orders of `account` and when they were read.
    pub async fn open_orders(
        &self,
        account: &AccountId,
    ) -> Result<Option<(UnixMillis, Vec<Order>)>, String> {
        self.read(account, SnapshotKind::OpenOrders).await
    }

    /// The latest connectivity status of `account`.
    pub async fn status(&self, account: &AccountId) -> Result<Option<ConnectivityStatus>, String> {
        Ok(self
            .read(account, SnapshotKind::Status)
            .await?
            .map(|(_, s)| s))
    }
}

#[async_trait]
impl PollStore for SqlPollStore {
    async fn save_balances(
        &self,
        account: &AccountId,
        at: UnixMillis,
        balances: &[Balance],
    ) -> Result<(), String> {
        self.put(account, SnapshotKind::Balances, at, balances)
            .await
    }

    async fn save_open_orders(
        &self,
        account: &AccountId,
        at: UnixMillis,
        orders: &[Order],
    ) -> Result<(), String> {
        self.put(account, SnapshotKind::OpenOrders, at, orders)
            .await
    }

    async fn save_fills(&self, account: &AccountId, fills: &[Fill]) -> Result<(), String> {
        for f in fills {
            let row = FillRow {
                account: account.to_string(),
                trade_id: f.trade_id.to_string(),
                symbol: f.symbol.to_string(),
                exchange_order_id: f.exchange_order_id.to_string(),
                client_order_id: f.client_order_id.as_ref().map(|c| c.to_string()),
                time_ms: f.time.0,
                fill: serde_json::to_string(f).map_err(|e| e.to_string())?,
            };
            self.store
                .fill_insert(&row)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    async fn save_status(&self, status: &ConnectivityStatus) -> Result<(), String> {
        let at = status.last_attempt.unwrap_or(UnixMillis(0));
        self.put(&status.account, SnapshotKind::Status, at, status)
            .await
    }

    async fn fill_cursor(
        &self,
        account: &AccountId,
        symbol: &Symbol,
    ) -> Result<Option<UnixMillis>, String> {
        self.store
            .fills_latest_time(account.as_str(), &symbol.to_string())
            .await
            .map(|t| t.map(UnixMillis))
            .map_err(|e| e.to_string())
    }
}
