//! [`ExchangeCanceller`]: the halt's "cancel every open order on every exchange" over
//! `tradeguard-exchange` connectors. Venues run concurrently; each is retried until its open
//! orders are gone or the attempts run out, and whatever is still open is reported by id.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tradeguard_exchange::model::OrderRef;
use tradeguard_exchange::{Exchange, RejectKind};

use crate::venue::{OrderCanceller, VenueCancel};

/// Cancels everything on a set of exchange accounts.
pub struct ExchangeCanceller {
    venues: Vec<(String, Arc<dyn Exchange>)>,
    attempts: u32,
    backoff: Duration,
}

impl ExchangeCanceller {
    /// Over `venues` (label, connector), 10 attempts each, 200 ms apart.
    pub fn new(venues: Vec<(String, Arc<dyn Exchange>)>) -> Self {
        Self {
            venues,
            attempts: 10,
            backoff: Duration::from_millis(200),
        }
    }

    /// Sets the attempts per venue and the pause between them.
    pub fn with_retries(mut self, attempts: u32, backoff: Duration) -> Self {
        self.attempts = attempts.max(1);
        self.backoff = backoff;
        self
    }
}

async fn cancel_venue(
    label: String,
    ex: Arc<dyn Exchange>,
    attempts: u32,
    backoff: Duration,
) -> VenueCancel {
    let mut report = VenueCancel {
        venue: label,
        ..VenueCancel::default()
    };
    let mut last_error = String::from("open orders could not be listed");
    for attempt in 0..attempts {
        if attempt > 0 {
            tokio::time::sleep(backoff).await;
        }
        let open = match ex.open_orders(None).await {
            Ok(open) => open,
            Err(e) => {
                last_error = e.to_string();
                continue;
            }
        };
        if open.is_empty() {
            return report;
        }
        for o in open {
            let id = o.exchange_order_id.as_str().to_owned();
            let r = OrderRef::Exchange(o.exchange_order_id.clone());
            match ex.cancel_order(&o.symbol, &r).await {
                // Cancelled now, or already closed: either way no longer open.
                Ok(()) => report.cancelled.push(id),
                Err(e) if e.reject_kind() == Some(RejectKind::UnknownOrder) => {
                    report.cancelled.push(id)
                }
                Err(e) => last_error = e.to_string(),
            }
        }
    }
    match ex.open_orders(None).await {
        Ok(still) => {
            for o in still {
                let id = o.exchange_order_id.as_str().to_owned();
                report.cancelled.retain(|c| c != &id);
                report.failed.push((id, last_error.clone()));
            }
        }
        Err(e) => report.failed.push(("*".into(), e.to_string())),
    }
    report
}

#[async_trait]
impl OrderCanceller for ExchangeCanceller {
    async fn cancel_all(&self) -> Vec<VenueCancel> {
        let tasks: Vec<_> = self
            .venues
            .iter()
            .map(|(label, ex)| {
                tokio::spawn(cancel_venue(
                    label.clone(),
                    ex.clone(),
                    self.attempts,
                    self.backoff,
                ))
            })
            .collect();
        let mut out = Vec::with_capacity(tasks.len());
        for (t, (label, _)) in tasks.into_iter().zip(&self.venues) {
            out.push(t.await.unwrap_or_else(|_| VenueCancel {
                venue: label.clone(),
                failed: vec![("*".into(), "cancel task panicked".into())],
                ..VenueCancel::default()
            }));
        }
        out
    }
}
