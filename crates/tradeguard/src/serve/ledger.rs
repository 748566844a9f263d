//! Where `serve` keeps its order books: the durable order ledger and the poller's snapshots,
//! both in the gateway's database (tradeguard-store, migration 0004), so an order recorded
//! before a stop or a crash is found again and reconciled at the next start.

use std::sync::Arc;

use async_trait::async_trait;
use tradeguard_exchange::ledger::{OrderLedger, SqlLedger};
use tradeguard_exchange::model::{AccountId, Balance, Fill, Order, Symbol, UnixMillis};
use tradeguard_exchange::poller::{ConnectivityStatus, PollStore, SqlPollStore};
use tradeguard_store::Store;

use super::risk::LiveRisk;

/// The order ledger in `store`.
pub fn open(store: &Store) -> Arc<dyn OrderLedger> {
    Arc::new(SqlLedger::new(store.clone()))
}

/// The poller's store: every snapshot and fill is written to the database first, then fed to
/// the risk gate; fill cursors come from the database, so polling resumes where it stopped.
pub struct Persisted {
    sql: SqlPollStore,
    live: Arc<LiveRisk>,
}

impl Persisted {
    /// Over `store`, feeding `live`.
    pub fn new(store: &Store, live: Arc<LiveRisk>) -> Self {
        Self {
            sql: SqlPollStore::new(store.clone()),
            live,
        }
    }

    /// Feeds the risk gate the balances stored before the last stop, if any.
    pub async fn restore(&self, account: &AccountId) {
        match self.sql.balances(account).await {
            Ok(Some((_, b))) => self.live.set_balances(account.as_str(), b),
            Ok(None) => {}
            Err(e) => tracing::warn!(%account, error = %e, "stored balances unreadable"),
        }
    }
}

#[async_trait]
impl PollStore for Persisted {
    async fn save_balances(
        &self,
        account: &AccountId,
        at: UnixMillis,
        balances: &[Balance],
    ) -> Result<(), String> {
        let stored = self.sql.save_balances(account, at, balances).await;
        self.live.save_balances(account, at, balances).await?;
        stored
    }

    async fn save_open_orders(
        &self,
        account: &AccountId,
        at: UnixMillis,
        orders: &[Order],
    ) -> Result<(), String> {
        let stored = self.sql.save_open_orders(account, at, orders).await;
        self.live.save_open_orders(account, at, orders).await?;
        stored
    }

    async fn save_fills(&self, account: &AccountId, fills: &[Fill]) -> Result<(), String> {
        let stored = self.sql.save_fills(account, fills).await;
        self.live.save_fills(account, fills).await?;
        stored
    }

    async fn save_status(&self, status: &ConnectivityStatus) -> Result<(), String> {
        let stored = self.sql.save_status(status).await;
        self.live.save_status(status).await?;
        stored
    }

    async fn fill_cursor(
        &self,
        account: &AccountId,
        symbol: &Symbol,
    ) -> Result<Option<UnixMillis>, String> {
        self.sql.fill_cursor(account, symbol).await
    }
}
