//! The writer's view of the log's end: the tree frontier and the last leaf hash.

use std::collections::HashMap;

use tradeguard_store::audit::AuditNode;
use tradeguard_store::{Store, StoreError};

use crate::AuditError;
use crate::event::{AuditEvent, Redactor};
use crate::memory_log::next_entry;
use crate::merkle::{Frontier, Hash, NodeId, empty_root};

/// The end of the log as this writer knows it.
#[derive(Clone, Debug)]
pub(crate) struct Head {
    frontier: Frontier,
    /// Leaf hash of the last entry (empty-tree hash when empty): the next entry's `prev`.
    last_leaf: Hash,
}

/// The rows an append writes.
pub(crate) struct Batch {
    pub entries: Vec<Vec<u8>>,
    pub nodes: Vec<AuditNode>,
}

/// True when an append failed because the head row moved (another writer appended).
pub(crate) fn moved_by_another_writer(e: &StoreError) -> bool {
    matches!(e, StoreError::Constraint { constraint, .. } if constraint == "audit_head")
        || e.is_unique_violation()
}

impl Head {
    /// Reads the head from the store: its size, the frontier nodes and the last leaf.
    pub async fn load(store: &Store) -> Result<Self, AuditError> {
        let size = store.audit_size().await?;
        let mut ids = Frontier::node_ids(size);
        if let Some(last) = size.checked_sub(1) {
            ids.push(NodeId::leaf(last));
        }
        let wanted: Vec<(u8, u64)> = ids.iter().map(|n| (n.level, n.index)).collect();
        let found: HashMap<(u8, u64), Hash> = store
            .audit_nodes(&wanted)
            .await?
            .into_iter()
            .map(|n| ((n.level, n.index), Hash::new(n.hash)))
            .collect();
        let get = |id: &(u8, u64)| {
            found.get(id).copied().ok_or_else(|| {
                AuditError::Corrupt(format!(
                    "tree node (level {}, index {}) is missing for size {size}",
                    id.0, id.1
                ))
            })
        };
        let frontier_nodes = wanted[..Frontier::node_ids(size).len()]
            .iter()
            .map(get)
            .collect::<Result<_, _>>()?;
        let frontier = Frontier::from_nodes(size, frontier_nodes)?;
        let last_leaf = match size.checked_sub(1) {
            Some(last) => get(&(0, last))?,
            None => empty_root(),
        };
        Ok(Self {
            frontier,
            last_leaf,
        })
    }

    /// The number of entries.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The tree head.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The head after appending `events` at `time_ms`, and the rows that append writes.
    /// Pure: nothing changes until the caller stores the batch and adopts the new head.
    pub fn extend(
        &self,
        events: &[AuditEvent],
        time_ms: i64,
        redactor: &Redactor,
    ) -> Result<(Self, Batch), AuditError> {
        let mut next = self.clone();
        let mut batch = Batch {
            entries: Vec::with_capacity(events.len()),
            nodes: Vec::new(),
        };
        for event in events {
            let seq = next.size();
            let (bytes, leaf) = next_entry(seq, next.last_leaf, time_ms, event, redactor)?;
            for (id, hash) in next.frontier.append(leaf)? {
                batch.nodes.push(AuditNode {
                    level: id.level,
                    index: id.index,
                    hash: *hash.as_bytes(),
                });
            }
            next.last_leaf = leaf;
            batch.entries.push(bytes);
        }
        Ok((next, batch))
    }
}
