//! The order ledger `serve` places through.
//!
//! Interim: tradeguard-store's durable order ledger (migration 0004) has not landed yet, so
//! the ledger lives in memory and a restart forgets it: orders placed before a restart are
//! then seen as foreign by reconciliation (listed, never re-sent). `open` becomes the store's
//! ledger as soon as it exists; nothing else in `serve` changes.

use std::sync::Arc;

use tradeguard_exchange::ledger::{InMemoryLedger, OrderLedger};
use tradeguard_store::Store;

/// The ledger for `store`.
pub async fn open(_store: &Store) -> anyhow::Result<Arc<dyn OrderLedger>> {
    tracing::warn!(
        "the order ledger is in memory until the store's ledger lands: a restart forgets it"
    );
    Ok(Arc::new(InMemoryLedger::new()))
}
