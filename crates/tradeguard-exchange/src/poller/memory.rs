//! [`MemoryPollStore`]: the latest snapshots and every fill, in memory.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{ConnectivityStatus, PollStore};
use crate::model::{AccountId, Balance, Fill, Order, Symbol, UnixMillis};

/// A [`PollStore`] in memory: the latest snapshot per account and every fill, for tests and
/// the simulator demo.
#[derive(Default)]
pub struct MemoryPollStore {
    inner: Mutex<MemoryInner>,
}

#[derive(Default)]
struct MemoryInner {
    balances: HashMap<AccountId, Vec<Balance>>,
    open_orders: HashMap<AccountId, Vec<Order>>,
    fills: HashMap<AccountId, Vec<Fill>>,
    status: HashMap<AccountId, ConnectivityStatus>,
}

impl MemoryPollStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Latest balances.
    pub fn balances(&self, a: &AccountId) -> Vec<Balance> {
        self.lock().balances.get(a).cloned().unwrap_or_default()
    }

    /// Latest open orders.
    pub fn open_orders(&self, a: &AccountId) -> Vec<Order> {
        self.lock().open_orders.get(a).cloned().unwrap_or_default()
    }

    /// All fills stored, in arrival order.
    pub fn fills(&self, a: &AccountId) -> Vec<Fill> {
        self.lock().fills.get(a).cloned().unwrap_or_default()
    }

    /// Latest status.
    pub fn status(&self, a: &AccountId) -> Option<ConnectivityStatus> {
        self.lock().status.get(a).cloned()
    }
}

#[async_trait]
impl PollStore for MemoryPollStore {
    async fn save_balances(
        &self,
        account: &AccountId,
        _at: UnixMillis,
        balances: &[Balance],
    ) -> Result<(), String> {
        self.lock()
            .balances
            .insert(account.clone(), balances.to_vec());
        Ok(())
    }

    async fn save_open_orders(
        &self,
        account: &AccountId,
        _at: UnixMillis,
        orders: &[Order],
    ) -> Result<(), String> {
        self.lock()
            .open_orders
            .insert(account.clone(), orders.to_vec());
        Ok(())
    }

    async fn save_fills(&self, account: &AccountId, fills: &[Fill]) -> Result<(), String> {
        let mut g = self.lock();
        let list = g.fills.entry(account.clone()).or_default();
        for f in fills {
            if !list.iter().any(|x| x.trade_id == f.trade_id) {
                list.push(f.clone());
            }
        }
        Ok(())
    }

    async fn save_status(&self, status: &ConnectivityStatus) -> Result<(), String> {
        self.lock()
            .status
            .insert(status.account.clone(), status.clone());
        Ok(())
    }

    async fn fill_cursor(
        &self,
        account: &AccountId,
        symbol: &Symbol,
    ) -> Result<Option<UnixMillis>, String> {
        let g = self.lock();
        Ok(g.fills.get(account).and_then(|f| {
            f.iter()
                .filter(|x| &x.symbol == symbol)
                .map(|x| x.time)
                .max()
        }))
    }
}
