//! A log held in memory: the same entries, tree and checkpoints as the stored log, without a
//! database. Used for exports built offline, tests and benchmarks.

use std::sync::Arc;

use crate::AuditError;
use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::clock::Clock;
use crate::entry::Entry;
use crate::event::{AuditEvent, Redactor};
use crate::export::write_export;
use crate::keys::LogSigner;
use crate::merkle::{Hash, MemoryTree, empty_root, leaf_hash};

/// The next entry of a log whose last leaf hash is `prev`: canonical bytes and leaf hash.
pub fn next_entry(
    seq: u64,
    prev: Hash,
    time_ms: i64,
    event: &AuditEvent,
    redactor: &Redactor,
) -> Result<(Vec<u8>, Hash), AuditError> {
    let entry = Entry {
        seq,
        time_ms,
        kind: event.kind().clone(),
        prev,
        fields: redactor.protect(event),
    };
    let bytes = entry.encode()?;
    let leaf = leaf_hash(&bytes);
    Ok((bytes, leaf))
}

/// An append-only log in memory.
pub struct MemoryLog {
    redactor: Redactor,
    clock: Arc<dyn Clock>,
    tree: MemoryTree,
    entries: Vec<Vec<u8>>,
}

impl std::fmt::Debug for MemoryLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLog")
            .field("size", &self.tree.size())
            .finish_non_exhaustive()
    }
}

impl MemoryLog {
    /// An empty log.
    pub fn new(redactor: Redactor, clock: Arc<dyn Clock>) -> Self {
        Self {
            redactor,
            clock,
            tree: MemoryTree::new(),
            entries: Vec::new(),
        }
    }

    /// Appends an event; returns its sequence number.
    pub fn append(&mut self, event: &AuditEvent) -> Result<u64, AuditError> {
        let seq = self.tree.size();
        let prev = seq
            .checked_sub(1)
            .map_or(Ok(empty_root()), |p| self.tree.leaf(p))?;
        let (bytes, leaf) = next_entry(seq, prev, self.clock.now_ms(), event, &self.redactor)?;
        self.tree.push_leaf_hash(leaf)?;
        self.entries.push(bytes);
        Ok(seq)
    }

    /// The entries' bytes, in order.
    pub fn entries(&self) -> &[Vec<u8>] {
        &self.entries
    }

    /// The tree.
    pub fn tree(&self) -> &MemoryTree {
        &self.tree
    }

    /// A checkpoint of the current tree head, signed by `signer`.
    pub fn checkpoint(&self, signer: &LogSigner) -> Result<SignedCheckpoint, AuditError> {
        let cp = Checkpoint::new(signer.origin(), self.tree.size(), self.tree.root())?;
        Ok(signer.sign(&cp)?)
    }

    /// The whole log in export form, with a fresh checkpoint.
    pub fn export(&self, signer: &LogSigner) -> Result<Vec<u8>, AuditError> {
        let mut out = Vec::new();
        let cp = self.checkpoint(signer)?;
        write_export(&mut out, self.entries.iter().map(Vec::as_slice), &cp)?;
        Ok(out)
    }
}
