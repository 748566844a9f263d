//! The halt's "cancel every open order on every exchange" ([`OrderCanceller`] for
//! [`Venues`]): venues in parallel, each retried until its open orders are confirmed gone or
//! its time is up; orders whose placement outcome is unknown are resolved every round so one
//! arriving late is cancelled too; what is left is reported by id (and the poller keeps
//! cancelling while HALTED).

use std::time::Duration;

use async_trait::async_trait;
use tradeguard_exchange::RejectKind;
use tradeguard_exchange::ledger::OrderState;
use tradeguard_exchange::model::OrderRef;
use tradeguard_gateway::venue::{OrderCanceller, VenueCancel};

use super::order_events::Cause;
use super::venues::{Account, Venues};

/// The API id of an exchange order: `<account>:<client id>`, or the exchange's id for an
/// order placed outside the gateway.
fn api_id(account: &str, o: &tradeguard_exchange::model::Order) -> String {
    match &o.client_order_id {
        Some(c) => format!("{account}:{c}"),
        None => o.exchange_order_id.as_str().to_owned(),
    }
}

/// One account's part of the halt: cancel every open order, list again, repeat until none is
/// left or the attempts run out; orders whose placement outcome is unknown are resolved each
/// round so that one arriving late is cancelled too. The ledger then records what happened.
async fn cancel_account(a: Account, attempts: u32, backoff: Duration) -> VenueCancel {
    let mut report = VenueCancel {
        venue: a.name.clone(),
        ..VenueCancel::default()
    };
    let started = std::time::Instant::now();
    let mut last_error = String::from("open orders could not be listed");
    let mut clear = false;
    for attempt in 0..attempts {
        if started.elapsed() >= HALT_VENUE_DEADLINE {
            last_error = "not confirmed within the halt's time limit; the poller keeps cancelling while halted".into();
            break;
        }
        if attempt > 0 {
            tokio::time::sleep(backoff).await;
        }
        if let Err(e) = a.placer.resolve_pending().await {
            last_error = e.to_string();
        }
        let open = match a.exchange.open_orders(None).await {
            Ok(open) => open,
            Err(e) => {
                last_error = e.to_string();
                continue;
            }
        };
        if open.is_empty() {
            clear = true;
            break;
        }
        for o in open {
            let id = api_id(&a.name, &o);
            let target = OrderRef::Exchange(o.exchange_order_id.clone());
            match a.exchange.cancel_order(&o.symbol, &target).await {
                Ok(()) => report.cancelled.push(id),
                Err(e) if e.reject_kind() == Some(RejectKind::UnknownOrder) => {
                    report.cancelled.push(id)
                }
                Err(e) => last_error = e.to_string(),
            }
        }
    }
    report.cancelled.sort();
    report.cancelled.dedup();
    if !clear {
        match a.exchange.open_orders(None).await {
            Ok(still) => {
                for o in still {
                    let id = api_id(&a.name, &o);
                    report.cancelled.retain(|c| *c != id);
                    report.failed.push((id, last_error.clone()));
                }
            }
            Err(e) => report.failed.push(("*".into(), e.to_string())),
        }
    }
    let rounds = started.elapsed();
    record_outcomes(&a, &mut report).await;
    tracing::info!(
        venue = %a.name,
        cancelled = report.cancelled.len(),
        failed = report.failed.len(),
        rounds_ms = rounds.as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "halt: venue done"
    );
    report
}

/// How long the halt works on one venue before reporting what is left (the poller then keeps
/// cancelling while HALTED).
const HALT_VENUE_DEADLINE: Duration = Duration::from_secs(20);

/// Brings the ledger in line for the orders just cancelled, and reports orders still of
/// unknown outcome. Other open entries are left to the poller.
async fn record_outcomes(a: &Account, report: &mut VenueCancel) {
    let entries = match a.ledger.open_entries(&a.id).await {
        Ok(e) => e,
        Err(e) => {
            report.failed.push(("*".into(), format!("ledger: {e}")));
            return;
        }
    };
    for e in entries {
        let id = format!("{}:{}", a.name, e.client_order_id());
        let unknown = matches!(e.state, OrderState::Sent | OrderState::Unknown);
        if !unknown && !report.cancelled.contains(&id) {
            continue;
        }
        let after = a.placer.refresh(&e).await.unwrap_or(e);
        if matches!(after.state, OrderState::Sent | OrderState::Unknown) {
            report.failed.push((
                format!("{}:{}", a.name, after.client_order_id()),
                "placement outcome unknown; the poller cancels it if it appears while halted"
                    .into(),
            ));
        }
    }
}

#[async_trait]
impl OrderCanceller for Venues {
    async fn cancel_all(&self) -> Vec<VenueCancel> {
        let mut set = tokio::task::JoinSet::new();
        for (i, a) in self.accounts().values().enumerate() {
            let (a, n, pause) = (a.clone(), self.cancel_attempts, self.cancel_backoff);
            let work = async move { (i, cancel_account(a, n, pause).await) };
            set.spawn(Cause::HALT.scope(work));
        }
        let mut out: Vec<(usize, VenueCancel)> = Vec::new();
        while let Some(done) = set.join_next().await {
            match done {
                Ok(r) => out.push(r),
                Err(e) => tracing::error!(error = %e, "a venue's cancel task failed"),
            }
        }
        for (i, name) in self.accounts().keys().enumerate() {
            if !out.iter().any(|(j, _)| *j == i) {
                let failed = vec![("*".into(), "cancel task failed".into())];
                out.push((
                    i,
                    VenueCancel {
                        venue: name.clone(),
                        failed,
                        ..VenueCancel::default()
                    },
                ));
            }
        }
        out.sort_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, r)| r).collect()
    }
}
