//! The background work of a running gateway: polling the exchanges (market data, balances,
//! open orders, fills, unknown orders), following acknowledged orders that closed at the
//! exchange (so their end reaches the audit log) and, while HALTED, cancelling any order that
//! shows up late; rotating the vault's key-encryption key when it is due.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tradeguard_audit::event::AuditEvent;
use tradeguard_audit::log::AuditLog;
use tradeguard_exchange::ledger::{LedgerEntry, OrderState, Transition};
use tradeguard_exchange::model::{OrderStatus, Symbol, UnixMillis};
use tradeguard_exchange::poller::Poller;
use tradeguard_gateway::trading::{TradingMode, TradingState};
use tradeguard_gateway::venue::OrderCanceller;
use tradeguard_vault::UnlockedVault;

use super::market::PublicMarkets;
use super::order_events::Cause;
use super::risk::LiveRisk;
use super::venues::{Account, KeyCheck, Venues, check_key};

/// One account's market-data source and the pairs its profiles trade.
pub struct MarketFeed {
    /// `[accounts.<name>]`.
    pub account: String,
    /// Its public market data.
    pub source: PublicMarkets,
    /// The pairs.
    pub symbols: Vec<Symbol>,
}

/// Polls every account on an interval.
pub struct PollLoop {
    /// Balances, open orders, fills and pending orders of every account.
    pub poller: Poller,
    /// Market data per account.
    pub markets: Vec<MarketFeed>,
    /// Where market data goes (the poller saves the rest there itself).
    pub risk: Arc<LiveRisk>,
    /// Cancels stragglers while HALTED.
    pub venues: Arc<Venues>,
    /// ACTIVE / REDUCING / HALTED.
    pub trading: TradingState,
    /// The audit log.
    pub audit: AuditLog,
    /// Values the profiles and accounts after each poll.
    pub equity: super::equity::EquityRecorder,
    /// Aggregated-only mode: folds final orders' fills into daily totals after each poll.
    pub folder: Option<super::fill_fold::FillFolder>,
}

impl PollLoop {
    /// One round: keys not confirmed yet, market data, then the poller, the equity history and
    /// (aggregated-only mode) the folding of fills; while HALTED, any open order is cancelled.
    pub async fn once(&self) {
        let started = super::equity::now();
        self.recheck_keys().await;
        for m in &self.markets {
            match m.source.fetch(&m.symbols).await {
                Ok(q) => self.risk.set_quotes(&m.account, q),
                Err(e) => {
                    tracing::warn!(account = %m.account, error = %e, "market data unavailable")
                }
            }
        }
        self.poller.poll_once().await;
        self.equity.record(|a| self.risk.marks(a), started).await;
        self.follow_closed().await;
        if self.trading.mode() == TradingMode::Halted && self.risk.open_order_count() > 0 {
            self.sweep().await;
        }
        if let Some(f) = &self.folder {
            f.fold_all(super::equity::now().0).await;
        }
    }

    /// Asks again about keys whose exchange was unreachable at start.
    async fn recheck_keys(&self) {
        for a in self.venues.accounts().values() {
            if a.key_checked.load(std::sync::atomic::Ordering::SeqCst) {
                continue;
            }
            match check_key(a).await {
                Ok(checked) => {
                    if let Err(e) = record_key_check(&self.audit, a, &checked).await {
                        tracing::error!(error = %e, "key check not audited");
                    }
                }
                Err(e) => tracing::error!(error = %e, "key refused; the account stays closed"),
            }
        }
    }

    /// Acknowledged orders missing from the exchange's open orders at this poll (filled,
    /// cancelled or expired there) are looked up and recorded; the ledger logs the
    /// cancellation (fills come with the poller's fills).
    async fn follow_closed(&self) {
        for a in self.venues.accounts().values() {
            let Some(open) = self.risk.open_orders(&a.name) else {
                continue;
            };
            let entries = match a.ledger.open_entries(&a.id).await {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(account = %a.name, error = %e, "ledger unreadable");
                    continue;
                }
            };
            for e in entries {
                let listed = open.iter().any(|o| {
                    o.client_order_id.as_ref() == Some(e.client_order_id())
                        || e.exchange_order_id.as_ref() == Some(&o.exchange_order_id)
                });
                if e.state == OrderState::Acknowledged && !listed {
                    close(a, &e).await;
                }
            }
        }
    }

    /// Cancels orders found open while HALTED (an order whose placement outcome was unknown
    /// at the halt and that reached the exchange afterwards).
    async fn sweep(&self) {
        let reports = self.venues.cancel_all().await;
        let cancelled: usize = reports.iter().map(|r| r.cancelled.len()).sum();
        let failed: usize = reports.iter().map(|r| r.failed.len()).sum();
        tracing::warn!(
            cancelled,
            failed,
            "orders found open while HALTED were cancelled"
        );
        let event = AuditEvent::of("trading.halt_sweep")
            .and_then(|e| e.field("cancelled", cancelled))
            .and_then(|e| e.field("failed", failed));
        if let Err(e) = super::audit::record(&self.audit, event).await {
            tracing::error!(error = %e, "halt sweep not audited");
        }
    }

    /// Polls every `interval` until `stop`.
    pub async fn run(self, interval: Duration, mut stop: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            tokio::select! {
                _ = self.once() => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }
}

/// Looks `e` up at the exchange and records where it stands; one that was cancelled or expired
/// there is logged as the exchange's doing. Failures wait for the next poll.
async fn close(a: &Account, e: &LedgerEntry) {
    let id = e.client_order_id();
    let order = match a.exchange.order_by_client_id(e.request.symbol(), id).await {
        Ok(Some(o)) => o,
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(account = %a.name, client_order_id = %id, error = %err, "order lookup failed");
            return;
        }
    };
    let cause = match order.status {
        OrderStatus::Expired => Cause {
            by: "exchange",
            reason: "expired",
        },
        _ => Cause {
            by: "exchange",
            reason: "cancelled at the exchange",
        },
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default();
    let t = Transition {
        to: OrderState::from_status(order.status),
        at: UnixMillis(now),
        exchange_order_id: Some(order.exchange_order_id),
        filled_quantity: Some(order.filled_quantity),
        error: None,
    };
    if let Err(err) = cause.scope(a.ledger.transition(&a.id, id, t)).await {
        tracing::warn!(account = %a.name, client_order_id = %id, error = %err, "closed order not recorded; retried at the next poll");
    }
}

/// Records a key check: `serve.key_checked` (with the exchange's verdict) or
/// `serve.key_unchecked` (exchange unreachable: the account is closed until a check passes).
pub async fn record_key_check(log: &AuditLog, a: &Account, c: &KeyCheck) -> anyhow::Result<()> {
    let e = match c {
        KeyCheck::Passed(r) => AuditEvent::of("serve.key_checked")
            .and_then(|e| e.field("account", a.name.as_str()))
            .and_then(|e| e.field("verified", r.permissions.is_some()))
            .and_then(|e| e.field("warnings", r.warnings.len())),
        KeyCheck::Unreachable(reason) => {
            tracing::warn!(account = %a.name, %reason, "key not checked: exchange unreachable; account closed until a poll checks it");
            AuditEvent::of("serve.key_unchecked")
                .and_then(|e| e.field("account", a.name.as_str()))
                .and_then(|e| e.field("reason", reason.as_str()))
        }
    };
    super::audit::record(log, e).await
}

/// How often the rotation schedule is looked at: a quarter of the interval, at most hourly.
pub fn rotation_check_period(interval: Duration) -> Duration {
    (interval / 4).clamp(Duration::from_secs(1), Duration::from_secs(3600))
}

/// Rotates the key-encryption key whenever the vault says it is due, until `stop`. The vault
/// records each rotation in the audit log itself (and refuses it if the log does not).
pub async fn rotate_keys(
    vault: Arc<UnlockedVault>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or_default();
        match vault.rotation_due(now).await {
            Ok(true) => match vault.rotate_kek().await {
                Ok(r) => tracing::info!(report = ?r, "key-encryption key rotated"),
                Err(e) => {
                    tracing::error!(error = %e, "key-encryption key rotation failed; retrying")
                }
            },
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the rotation schedule"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Appends the due `auth.failure_suppressed` summary every `[gateway]
/// auth_failure_summary_every`, so the end of a flood of refused requests is reported even
/// when no request follows it; until `stop`.
pub async fn report_suppressed_failures(
    state: tradeguard_gateway::state::AppState,
    mut stop: watch::Receiver<bool>,
) {
    let every = state
        .config
        .auth_failure_summary_every
        .max(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        state.auth_trail.flush_suppressed(&state).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_is_checked_often_enough_and_not_too_often() {
        let cases = [(86_400, 3600), (3600, 900), (2, 1)];
        for (i, (interval, want)) in cases.iter().enumerate() {
            let got = rotation_check_period(Duration::from_secs(*interval));
            assert_eq!(got, Duration::from_secs(*want), "TC{i} failed");
        }
    }
}
