//! The polling service: on an interval (default 5 minutes) it syncs balances, open orders and
//! fills of every configured account into a [`PollStore`], resolves orders whose outcome is
//! unknown, and keeps a connectivity status per account.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::error::ExchangeError;
use crate::exchange::Exchange;
use crate::ledger::OrderPlacer;
use crate::model::{AccountId, Balance, ExchangeId, Fill, Order, Symbol, TradeId, UnixMillis};

mod memory;
mod sql;

pub use memory::MemoryPollStore;
pub use sql::SqlPollStore;

/// Where polled data goes: [`SqlPollStore`] persists it in the gateway's database,
/// [`MemoryPollStore`] keeps it in memory.
#[async_trait]
pub trait PollStore: Send + Sync {
    /// The latest balances of an account.
    async fn save_balances(
        &self,
        account: &AccountId,
        at: UnixMillis,
        balances: &[Balance],
    ) -> Result<(), String>;
    /// The latest open orders of an account.
    async fn save_open_orders(
        &self,
        account: &AccountId,
        at: UnixMillis,
        orders: &[Order],
    ) -> Result<(), String>;
    /// New fills (each trade id is given once per process; stores should ignore repeats).
    async fn save_fills(&self, account: &AccountId, fills: &[Fill]) -> Result<(), String>;
    /// A connectivity status change or refresh.
    async fn save_status(&self, status: &ConnectivityStatus) -> Result<(), String>;
    /// The time of the newest fill of `symbol` stored for `account`, to resume after a restart.
    async fn fill_cursor(
        &self,
        account: &AccountId,
        symbol: &Symbol,
    ) -> Result<Option<UnixMillis>, String>;
}

/// How an account's exchange answered the last poll.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Connectivity {
    /// Not polled yet.
    Unknown,
    /// Every call succeeded.
    Connected,
    /// Some calls failed.
    Degraded {
        /// The first failure.
        reason: String,
    },
    /// Every call failed.
    Down {
        /// The first failure.
        reason: String,
    },
    /// The exchange banned this IP until `until`.
    Banned {
        /// When the ban ends.
        until: UnixMillis,
    },
}

/// One account's connectivity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectivityStatus {
    /// The exchange.
    pub exchange: ExchangeId,
    /// The account.
    pub account: AccountId,
    /// The state.
    pub state: Connectivity,
    /// The last poll in which every call succeeded.
    pub last_success: Option<UnixMillis>,
    /// The last poll.
    pub last_attempt: Option<UnixMillis>,
    /// Polls in a row with a failure.
    pub consecutive_failures: u32,
}

/// One account to poll.
pub struct PolledAccount {
    /// The account.
    pub account: AccountId,
    /// Its connector.
    pub exchange: Arc<dyn Exchange>,
    /// Pairs whose fills are synced (Binance needs a symbol per fills query).
    pub symbols: Vec<Symbol>,
    /// When set, unknown orders are resolved and fills are recorded in its ledger.
    pub placer: Option<Arc<OrderPlacer>>,
}

/// Poller settings.
#[derive(Clone, Copy, Debug)]
pub struct PollerConfig {
    /// Time between polls.
    pub interval: Duration,
    /// How far back the first fills query reaches when the store has no cursor.
    pub initial_lookback: Duration,
}

impl Default for PollerConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(300),
            initial_lookback: Duration::from_secs(86_400),
        }
    }
}

struct Cursor {
    since: UnixMillis,
    seen_at_since: HashSet<TradeId>,
}

/// The polling service.
pub struct Poller {
    accounts: Vec<PolledAccount>,
    store: Arc<dyn PollStore>,
    clock: Arc<dyn Clock>,
    config: PollerConfig,
    cursors: tokio::sync::Mutex<HashMap<(AccountId, Symbol), Cursor>>,
    status: Mutex<HashMap<AccountId, ConnectivityStatus>>,
}

impl Poller {
    /// A poller over `accounts`, saving into `store`.
    pub fn new(
        accounts: Vec<PolledAccount>,
        store: Arc<dyn PollStore>,
        clock: Arc<dyn Clock>,
        config: PollerConfig,
    ) -> Self {
        let status = accounts
            .iter()
            .map(|a| {
                let s = ConnectivityStatus {
                    exchange: a.exchange.id(),
                    account: a.account.clone(),
                    state: Connectivity::Unknown,
                    last_success: None,
                    last_attempt: None,
                    consecutive_failures: 0,
                };
                (a.account.clone(), s)
            })
            .collect();
        Self {
            accounts,
            store,
            clock,
            config,
            cursors: tokio::sync::Mutex::new(HashMap::new()),
            status: Mutex::new(status),
        }
    }

    /// The connectivity of every account.
    pub fn status(&self) -> Vec<ConnectivityStatus> {
        let s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<_> = s.values().cloned().collect();
        v.sort_by(|a, b| a.account.cmp(&b.account));
        v
    }

    /// Polls every account once and returns the new statuses.
    pub async fn poll_once(&self) -> Vec<ConnectivityStatus> {
        for a in &self.accounts {
            let errors = self.poll_account(a).await;
            let status = self.update_status(a, errors);
            if let Err(e) = self.store.save_status(&status).await {
                tracing::warn!(account = %a.account, error = %e, "could not save connectivity status");
            }
        }
        self.status()
    }

    /// Polls until `shutdown` turns true, every `interval`.
    pub async fn run(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        loop {
            self.poll_once().await;
            tokio::select! {
                _ = self.clock.sleep(self.config.interval) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    }

    async fn poll_account(&self, a: &PolledAccount) -> Vec<ExchangeError> {
        let mut errors = Vec::new();
        let now = self.clock.now();
        match a.exchange.balances().await {
            Ok(b) => self.save(a, self.store.save_balances(&a.account, now, &b).await),
            Err(e) => errors.push(e),
        }
        match a.exchange.open_orders(None).await {
            Ok(o) => self.save(a, self.store.save_open_orders(&a.account, now, &o).await),
            Err(e) => errors.push(e),
        }
        for sym in &a.symbols {
            if let Err(e) = self.poll_fills(a, sym).await {
                errors.push(e);
            }
        }
        if let Some(p) = &a.placer
            && let Err(e) = p.resolve_pending().await
        {
            tracing::warn!(account = %a.account, error = %e, "resolving pending orders failed");
        }
        errors
    }

    async fn poll_fills(&self, a: &PolledAccount, sym: &Symbol) -> Result<(), ExchangeError> {
        let mut cursors = self.cursors.lock().await;
        let key = (a.account.clone(), sym.clone());
        if !cursors.contains_key(&key) {
            let stored = self
                .store
                .fill_cursor(&a.account, sym)
                .await
                .unwrap_or(None);
            let since = stored.unwrap_or_else(|| {
                UnixMillis(self.clock.now().0 - self.config.initial_lookback.as_millis() as i64)
            });
            cursors.insert(
                key.clone(),
                Cursor {
                    since,
                    seen_at_since: HashSet::new(),
                },
            );
        }
        let Some(cursor) = cursors.get_mut(&key) else {
            return Ok(());
        };
        let fills = a.exchange.fills_since(sym, cursor.since).await?;
        let mut new: Vec<Fill> = fills
            .into_iter()
            .filter(|f| !(f.time == cursor.since && cursor.seen_at_since.contains(&f.trade_id)))
            .collect();
        // Oldest first, and the cursor passes only fills the ledger took: a fill it could not
        // record (its audit entry refused, say) is fetched again by the next poll, and the
        // cursor stored for a restart (the newest recorded fill) stays before it too.
        new.sort_by_key(|f| f.time);
        if let Some(p) = &a.placer {
            for (i, f) in new.iter().enumerate() {
                if let Err(e) = p.record_fill(f).await {
                    tracing::warn!(account = %a.account, error = %e, "could not record fill in the ledger; fetched again at the next poll");
                    new.truncate(i);
                    break;
                }
            }
        }
        if new.is_empty() {
            return Ok(());
        }
        self.save(a, self.store.save_fills(&a.account, &new).await);
        let newest = new.iter().map(|f| f.time).max().unwrap_or(cursor.since);
        if newest > cursor.since {
            cursor.since = newest;
            cursor.seen_at_since.clear();
        }
        cursor.seen_at_since.extend(
            new.iter()
                .filter(|f| f.time == newest)
                .map(|f| f.trade_id.clone()),
        );
        Ok(())
    }

    fn save(&self, a: &PolledAccount, r: Result<(), String>) {
        if let Err(e) = r {
            tracing::warn!(account = %a.account, error = %e, "poll store failed");
        }
    }

    fn update_status(&self, a: &PolledAccount, errors: Vec<ExchangeError>) -> ConnectivityStatus {
        let now = self.clock.now();
        let calls = 2 + a.symbols.len();
        let mut all = self.status.lock().unwrap_or_else(|p| p.into_inner());
        let s = all
            .entry(a.account.clone())
            .or_insert_with(|| ConnectivityStatus {
                exchange: a.exchange.id(),
                account: a.account.clone(),
                state: Connectivity::Unknown,
                last_success: None,
                last_attempt: None,
                consecutive_failures: 0,
            });
        s.last_attempt = Some(now);
        let banned = errors.iter().find_map(|e| match e {
            ExchangeError::Banned { until, .. } => Some(*until),
            _ => None,
        });
        s.state = match (banned, errors.first()) {
            (Some(until), _) => Connectivity::Banned { until },
            (None, None) => Connectivity::Connected,
            (None, Some(e)) if errors.len() >= calls => Connectivity::Down {
                reason: e.to_string(),
            },
            (None, Some(e)) => Connectivity::Degraded {
                reason: e.to_string(),
            },
        };
        if errors.is_empty() {
            s.last_success = Some(now);
            s.consecutive_failures = 0;
        } else {
            s.consecutive_failures += 1;
        }
        s.clone()
    }
}
