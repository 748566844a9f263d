//! Where `serve` keeps its order books: the durable order ledger and the poller's snapshots,
//! both in the gateway's database (tradeguard-store, migration 0004), so an order recorded
//! before a stop or a crash is found again and reconciled at the next start. The ledger
//! writes each order's lifecycle to the audit log first ([`super::order_events`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use tradeguard_audit::event::Redactor;
use tradeguard_audit::sink::AuditSink;
use tradeguard_exchange::ledger::OrderLedger;
use tradeguard_exchange::model::{AccountId, Balance, Fill, Order, Symbol, UnixMillis};
use tradeguard_exchange::poller::{ConnectivityStatus, PollStore, SqlPollStore};
use tradeguard_store::Store;

use super::config::{AccountSection, ServeConfig};
use super::evidence::{report_base, report_profile};
use super::fill_fold::{FillFolder, FoldAccount};
use super::flows::FlowTracker;
use super::order_events::{AccountNames, AuditedLedger};
use super::risk::LiveRisk;

/// The order ledger in `store`, appending each order's lifecycle to `log` before recording it;
/// orders are named by their account's profile (from `risk`) and exchange. Folded fills are
/// recognised by their HMAC under `redactor` (the log's); with `withhold`, `order.filled`
/// withholds the trade (aggregated-only mode, [`super::fill_fold`]).
pub fn open(
    store: &Store,
    log: Arc<dyn AuditSink>,
    redactor: &Redactor,
    withhold: bool,
    risk: &LiveRisk,
    accounts: &BTreeMap<String, AccountSection>,
) -> Arc<dyn OrderLedger> {
    let names = accounts
        .iter()
        .map(|(name, a)| {
            let profile = match risk.profiles_of(name).as_slice() {
                [one] => one.as_str().to_owned(),
                _ => String::new(),
            };
            let exchange = a.connector.exchange.as_str().to_owned();
            (name.clone(), AccountNames { profile, exchange })
        })
        .collect();
    let ledger = AuditedLedger::new(store.clone(), log, names).with_tombstones(redactor.clone());
    Arc::new(if withhold {
        ledger.withholding_trades()
    } else {
        ledger
    })
}

/// The fill folder of aggregated-only mode, when `[analytics] aggregated_only` is on: every
/// account's fills, named and valued as the signed report names and values them.
pub fn folder(
    store: &Store,
    redactor: &Redactor,
    risk: &LiveRisk,
    config: &ServeConfig,
) -> anyhow::Result<Option<FillFolder>> {
    if !config.analytics.aggregated_only {
        return Ok(None);
    }
    let accounts = config
        .accounts
        .iter()
        .map(|(name, a)| FoldAccount {
            account: name.clone(),
            profile: report_profile(risk, name),
            exchange: a.connector.exchange.as_str().to_owned(),
        })
        .collect();
    let base = report_base(config);
    // Two poll intervals: the equity history's flows read a fill until the next snapshot.
    let hold_ms =
        i64::try_from(config.polling.interval_secs.saturating_mul(2000)).unwrap_or(i64::MAX);
    Ok(Some(FillFolder::new(
        store.clone(),
        redactor.clone(),
        base,
        accounts,
        hold_ms,
    )?))
}

/// The poller's store: every snapshot is written to the database first, then fed to the risk
/// gate. Fills reach it only once the order ledger recorded them (audited, in the same
/// database), and fill cursors come from there, so polling resumes after the newest fill the
/// log holds.
pub struct Persisted {
    sql: SqlPollStore,
    live: Arc<LiveRisk>,
    flows: Arc<FlowTracker>,
}

impl Persisted {
    /// Over `store`, feeding `live`, and new fills to `flows`.
    pub fn new(store: &Store, live: Arc<LiveRisk>, flows: Arc<FlowTracker>) -> Self {
        Self {
            sql: SqlPollStore::new(store.clone()),
            live,
            flows,
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
        // Already stored by the order ledger, after the audit log took them.
        self.flows.fills(account.as_str(), fills);
        self.live.save_fills(account, fills).await
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
