//! [`AuditLog`]: the append-only log stored through `tradeguard-store` (SQLite or PostgreSQL).
//!
//! - **Durable, fail closed.** [`AuditLog::append`] returns only after the transaction that
//!   holds the entry and its tree nodes has committed. Any error means the event may not be
//!   recorded: the caller must refuse the action that caused it.
//! - **One writer at a time, group commit.** Appends in this process are serialised, and the
//!   ones that arrive during a commit share the next transaction (one fsync for many callers);
//!   across replicas the head row's compare-and-set refuses a stale writer, which reloads the
//!   head and retries.
//! - **O(log n) proofs.** Every complete subtree hash is stored; a proof reads O(log n) nodes
//!   in one query. The tree head is kept incrementally (the frontier), never recomputed.

mod group;
mod head;
mod proofs;

use std::sync::Arc;

use tokio::sync::Mutex;
use tradeguard_store::Store;

pub use proofs::{ConsistencyProof, InclusionProof, consistency_proof, inclusion_proof, tree_head};

use crate::AuditError;
use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::clock::Clock;
use crate::event::{AuditEvent, Redactor};
use crate::keys::{LogKey, LogSigner};
use head::Head;

/// How many times an append reloads the head after another writer moved it.
const APPEND_ATTEMPTS: usize = 5;

/// What an append recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendReceipt {
    /// Sequence number of the first entry written.
    pub first_seq: u64,
    /// Number of entries written.
    pub count: u64,
    /// Tree size after the append.
    pub tree_size: u64,
}

/// The stored audit log.
pub struct AuditLog {
    store: Store,
    signer: LogSigner,
    redactor: Redactor,
    clock: Arc<dyn Clock>,
    head: Mutex<Head>,
    queue: std::sync::Mutex<Vec<group::Pending>>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("origin", &self.signer.origin())
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens the log in a migrated store, loading its head (O(log n) node reads).
    pub async fn open(
        store: Store,
        signer: LogSigner,
        redactor: Redactor,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuditError> {
        let head = Head::load(&store).await?;
        Ok(Self {
            store,
            signer,
            redactor,
            clock,
            head: Mutex::new(head),
            queue: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Appends one event durably; see the module documentation.
    pub async fn append(&self, event: &AuditEvent) -> Result<AppendReceipt, AuditError> {
        self.append_batch(std::slice::from_ref(event)).await
    }

    /// Appends events durably, in order and contiguously; returns after the transaction that
    /// holds them committed. Concurrent appends share transactions (see [`group`]).
    pub async fn append_batch(&self, events: &[AuditEvent]) -> Result<AppendReceipt, AuditError> {
        self.append_grouped(events).await
    }

    /// The number of entries (as of this process's last append or reload).
    pub async fn size(&self) -> u64 {
        self.head.lock().await.size()
    }

    /// Signs and stores a checkpoint of the current tree head, and returns it.
    pub async fn checkpoint(&self) -> Result<SignedCheckpoint, AuditError> {
        let mut head = self.head.lock().await;
        if self.store.audit_size().await? != head.size() {
            *head = Head::load(&self.store).await?;
        }
        let body = Checkpoint::new(self.signer.origin(), head.size(), head.root())?;
        let signed = self.signer.sign(&body)?;
        let size = head.size();
        self.store
            .audit_insert_checkpoint(size, &signed.to_text(), self.clock.now_ms())
            .await?;
        // The first checkpoint stored for a size wins; return that one.
        latest_at(&self.store, size)
            .await?
            .ok_or_else(|| AuditError::Corrupt("checkpoint vanished".into()))
    }

    /// The most recent stored checkpoint.
    pub async fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, AuditError> {
        latest_checkpoint(&self.store).await
    }

    /// The keys that verify this log's checkpoints.
    pub fn public_keys(&self) -> Vec<LogKey> {
        self.signer.public_keys()
    }

    /// The log's origin (checkpoint first line and key name).
    pub fn origin(&self) -> &str {
        self.signer.origin()
    }

    /// The redactor, to compute the logged form of a sensitive value for searching.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// The store the log lives in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Signs a fresh checkpoint, then writes every entry it covers and it in export form.
    pub async fn export<W: std::io::Write>(
        &self,
        out: &mut W,
    ) -> Result<SignedCheckpoint, AuditError> {
        let cp = self.checkpoint().await?;
        export_entries(&self.store, out, &cp).await?;
        Ok(cp)
    }
}

/// The most recent checkpoint stored in `store`.
pub async fn latest_checkpoint(store: &Store) -> Result<Option<SignedCheckpoint>, AuditError> {
    match store.audit_latest_checkpoint().await? {
        Some(row) => Ok(Some(SignedCheckpoint::parse(row.note.as_bytes())?)),
        None => Ok(None),
    }
}

async fn latest_at(store: &Store, size: u64) -> Result<Option<SignedCheckpoint>, AuditError> {
    match store.audit_checkpoint_at(size).await? {
        Some(row) => Ok(Some(SignedCheckpoint::parse(row.note.as_bytes())?)),
        None => Ok(None),
    }
}

/// Entries read per query when scanning the log.
pub(crate) const SCAN_CHUNK: u32 = 10_000;

/// Writes the entries `[0, cp.size)` of `store` and then `cp` in export form (no key needed:
/// this exports the latest checkpoint a data dir holds).
pub async fn export_entries<W: std::io::Write>(
    store: &Store,
    out: &mut W,
    cp: &SignedCheckpoint,
) -> Result<(), AuditError> {
    let size = cp.unverified().size();
    let mut next = 0u64;
    while next < size {
        let rows = store.audit_entries(next, SCAN_CHUNK).await?;
        if rows.is_empty() {
            break;
        }
        for row in rows.iter().take_while(|r| r.seq < size) {
            out.write_all(&row.entry)?;
            out.write_all(b"\n")?;
            next = row.seq + 1;
        }
        if rows.last().is_some_and(|r| r.seq + 1 >= size) {
            break;
        }
    }
    out.write_all(crate::export::checkpoint_line(cp)?.as_bytes())?;
    out.write_all(b"\n")?;
    Ok(())
}
