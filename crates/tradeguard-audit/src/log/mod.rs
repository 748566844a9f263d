//! [`AuditLog`]: the append-only log stored through `tradeguard-store` (SQLite or PostgreSQL).
//!
//! - **Durable, fail closed.** [`AuditLog::append`] returns an [`AppendReceipt`] only after the
//!   transaction that holds the entry and its tree nodes has committed (SQLite WAL with
//!   `synchronous=FULL`, or a PostgreSQL commit). Any error means the event may not be
//!   recorded: the caller must refuse the action that caused it. The receipt cannot be made
//!   outside this crate, so code that must not act unrecorded can demand one:
//!
//!   ```ignore
//!   let receipt = audit.append(&event).await?; // an error refuses the order
//!   router.send(approved_order, &receipt).await
//!   ```
//!
//!   An error whose [`AuditError::class`] is `UnknownOutcome` (a commit whose fate is unknown)
//!   may have recorded the event: the log then says more happened than did, never less.
//! - **One writer at a time, group commit.** Appends in this process are serialised, and the
//!   ones that arrive during a commit share the next transaction (one fsync for many callers,
//!   each still waiting for its own commit); across replicas the head row's compare-and-set
//!   refuses a stale writer, which reloads the head and retries. Writes run in their own task:
//!   a caller that stops waiting (a dropped request) never abandons a transaction that holds
//!   other callers' events, though its own events may still be written.
//! - **O(log n) proofs.** Every complete subtree hash is stored; a proof reads O(log n) nodes
//!   in one query. The tree head is kept incrementally (the frontier), never recomputed.

mod group;
mod head;
mod proofs;
mod published;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Mutex;
use tradeguard_store::Store;

pub use proofs::{ConsistencyProof, InclusionProof, consistency_proof, inclusion_proof, tree_head};
pub use published::{STORED_KEYS_META, stored_public_keys};

use crate::AuditError;
use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::clock::Clock;
use crate::event::{AuditEvent, Redactor};
use crate::keys::{LogKey, LogSigner};
use head::Head;

/// How many times an append reloads the head after another writer moved it.
const APPEND_ATTEMPTS: usize = 5;

/// Proof that an append committed: only this crate makes one, after the commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendReceipt {
    first_seq: u64,
    count: u64,
    tree_size: u64,
}

impl AppendReceipt {
    pub(crate) fn new(first_seq: u64, count: u64, tree_size: u64) -> Self {
        Self {
            first_seq,
            count,
            tree_size,
        }
    }

    /// Sequence number of the first entry written.
    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// Number of entries written.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Tree size right after this append (an inclusion proof at this size or later proves
    /// the entries).
    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }
}

/// The stored audit log. Cloning is cheap and gives another handle on the same writer.
#[derive(Clone)]
pub struct AuditLog {
    store: Store,
    signer: Arc<LogSigner>,
    redactor: Redactor,
    clock: Arc<dyn Clock>,
    head: Arc<Mutex<Head>>,
    queue: Arc<std::sync::Mutex<Vec<group::Pending>>>,
    commits: Arc<AtomicU64>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("origin", &self.signer.origin())
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens the log in a migrated store, loading its head (O(log n) node reads), and records
    /// the signer's public keys beside the checkpoints (see [`stored_public_keys`]).
    pub async fn open(
        store: Store,
        signer: LogSigner,
        redactor: Redactor,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuditError> {
        let head = Head::load(&store).await?;
        published::record_public_keys(&store, &signer.public_keys()).await?;
        Ok(Self {
            store,
            signer: Arc::new(signer),
            redactor,
            clock,
            head: Arc::new(Mutex::new(head)),
            queue: Arc::default(),
            commits: Arc::default(),
        })
    }

    /// Appends one event durably; see the module documentation.
    pub async fn append(&self, event: &AuditEvent) -> Result<AppendReceipt, AuditError> {
        self.append_batch(std::slice::from_ref(event)).await
    }

    /// Appends events durably, in order and contiguously; returns after the transaction that
    /// holds them committed. Concurrent appends share transactions (see the module docs).
    pub async fn append_batch(&self, events: &[AuditEvent]) -> Result<AppendReceipt, AuditError> {
        self.append_grouped(events).await
    }

    /// The number of entries (as of this process's last append or reload).
    pub async fn size(&self) -> u64 {
        self.head.lock().await.size()
    }

    /// Transactions this handle's writer has committed (group commit puts many appends in
    /// one).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
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
