//! Start-up reconciliation: bring the ledger in line with what the exchange says, and report
//! what the ledger does not know.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::placer::{OrderError, OrderPlacer, Resolution};
use super::{LedgerEntry, OrderState, Transition};
use crate::model::{ClientOrderId, Order, Symbol, UnixMillis};

/// What reconciliation did and found.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ReconcileReport {
    /// Orders recorded but never sent (the process stopped in between): now rejected.
    pub never_sent: usize,
    /// `sent`/`unknown` orders resolved (found, or proven never placed).
    pub resolved: usize,
    /// Orders still unknown (not conclusive yet, or the exchange did not answer).
    pub still_unknown: Vec<ClientOrderId>,
    /// Acknowledged orders whose state or filled quantity changed.
    pub updated: usize,
    /// Open orders on the exchange that the ledger does not know (placed elsewhere).
    pub foreign_orders: Vec<Order>,
    /// Fills recorded now for the first time.
    pub new_fills: usize,
    /// Of those, fills of orders the ledger does not know.
    pub foreign_fills: usize,
    /// Exchange failures met on the way (the affected orders are left as they were).
    pub errors: Vec<String>,
}

impl OrderPlacer {
    /// Reconciles the ledger of this account with the exchange: resolves orders whose fate is
    /// unknown, updates acknowledged ones, lists foreign open orders, and records fills of
    /// `symbols` (plus every pair with an open ledger order) since `fills_since`.
    pub async fn reconcile(
        &self,
        symbols: &[Symbol],
        fills_since: UnixMillis,
    ) -> Result<ReconcileReport, OrderError> {
        let mut report = ReconcileReport::default();
        let entries = self.ledger.open_entries(&self.account).await?;
        let mut pairs: BTreeSet<Symbol> = symbols.iter().cloned().collect();
        pairs.extend(entries.iter().map(|e| e.request.symbol().clone()));

        let open = match self.exchange.open_orders(None).await {
            Ok(o) => o,
            Err(e) => {
                report.errors.push(format!("open orders: {e}"));
                Vec::new()
            }
        };
        let by_cid: HashMap<&ClientOrderId, &Order> = open
            .iter()
            .filter_map(|o| o.client_order_id.as_ref().map(|c| (c, o)))
            .collect();

        for entry in &entries {
            self.reconcile_entry(
                entry,
                by_cid.get(entry.client_order_id()).copied(),
                &mut report,
            )
            .await?;
        }
        for o in &open {
            let known = match &o.client_order_id {
                Some(c) => self.ledger.get(&self.account, c).await?.is_some(),
                None => false,
            };
            if !known {
                report.foreign_orders.push(o.clone());
            }
        }
        for sym in &pairs {
            match self.exchange.fills_since(sym, fills_since).await {
                Ok(fills) => {
                    for f in &fills {
                        let r = self.ledger.record_fill(&self.account, f).await?;
                        if r.new {
                            report.new_fills += 1;
                            report.foreign_fills += usize::from(r.client_order_id.is_none());
                        }
                    }
                }
                Err(e) => report.errors.push(format!("fills of {sym}: {e}")),
            }
        }
        Ok(report)
    }

    async fn reconcile_entry(
        &self,
        entry: &LedgerEntry,
        open: Option<&Order>,
        report: &mut ReconcileReport,
    ) -> Result<(), OrderError> {
        let id = entry.client_order_id();
        let now = self.clock.now();
        match (entry.state, open) {
            (OrderState::New, _) => {
                let t = Transition::to(OrderState::Rejected, now)
                    .because("never sent: the gateway stopped between recording and sending it");
                self.apply(id, t).await?;
                report.never_sent += 1;
            }
            (OrderState::Sent | OrderState::Unknown, Some(o))
            | (OrderState::Acknowledged, Some(o)) => {
                let t = Transition {
                    to: OrderState::from_status(o.status),
                    at: now,
                    exchange_order_id: Some(o.exchange_order_id.clone()),
                    filled_quantity: Some(o.filled_quantity),
                    error: None,
                };
                let changed = entry.state != t.to || entry.filled_quantity != o.filled_quantity;
                self.apply(id, t).await?;
                match entry.state {
                    OrderState::Acknowledged => report.updated += usize::from(changed),
                    _ => report.resolved += 1,
                }
            }
            (OrderState::Sent | OrderState::Unknown, None) => match self.resolve(id).await? {
                Resolution::Found(_) | Resolution::NotPlaced(_) => report.resolved += 1,
                Resolution::Pending { .. } => report.still_unknown.push(id.clone()),
            },
            (OrderState::Acknowledged, None) => match self.refresh(entry).await {
                Ok(after) => {
                    report.updated += usize::from(
                        after.state != entry.state
                            || after.filled_quantity != entry.filled_quantity,
                    )
                }
                Err(OrderError::Exchange(e)) => report.errors.push(format!("order {id}: {e}")),
                Err(e) => return Err(e),
            },
            _ => {}
        }
        Ok(())
    }
}
