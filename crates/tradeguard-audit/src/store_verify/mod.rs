//! Offline verification of a log in a database (a data dir's SQLite file, or PostgreSQL):
//! everything [`crate::verify`] checks on an export, over every stored checkpoint, plus the
//! stored head and every stored tree node against the recomputed tree (proofs are served
//! from those nodes, so they must be right too).
//!
//! Entries after the last checkpoint are signed by nothing yet, but each append wrote its
//! entry's leaf hash in the same transaction: an entry there without its leaf row was
//! inserted behind the log's back, and one whose leaf row differs was changed (or the row
//! was).

use tradeguard_store::Store;

use crate::AuditError;
use crate::checkpoint::SignedCheckpoint;
use crate::keys::LogKey;
use crate::log::SCAN_CHUNK;
use crate::merkle::{Hash, MemoryTree, NodeId, NodeSource};
use crate::verify::{
    Finding, ParsedEntries, RecordedLeaves, Tail, VerifyReport, sort_by_claimed_size, verify_parsed,
};

/// Verifies the log stored in `store`. The outer error means the store could not be read;
/// the inner one is the first defect found in the log.
pub async fn verify_store(
    store: &Store,
    keys: &[LogKey],
) -> Result<Result<VerifyReport, Finding>, AuditError> {
    verify_store_with(store, keys, &[]).await
}

/// [`verify_store`], also requiring the log to be consistent with `held`: checkpoints an
/// auditor fetched earlier (so a deleted newest checkpoint, or a log rewritten and re-signed
/// after it, is found).
pub async fn verify_store_with(
    store: &Store,
    keys: &[LogKey],
    held: &[String],
) -> Result<Result<VerifyReport, Finding>, AuditError> {
    let entries = read_entries(store).await?;
    let mut notes: Vec<String> = store
        .audit_checkpoints()
        .await?
        .into_iter()
        .map(|c| c.note)
        .collect();
    notes.extend_from_slice(held);
    sort_by_claimed_size(&mut notes);
    let note_refs: Vec<&[u8]> = notes.iter().map(String::as_bytes).collect();
    let recorded = tail_leaves(store, &notes).await?;
    let verified = verify_parsed(entries, &note_refs, keys, Tail::Allow, &recorded);
    let (report, tree) = match verified {
        Ok(ok) => ok,
        Err(finding) => return Ok(Err(finding)),
    };
    let head = store.audit_size().await?;
    if head > tree.size() {
        return Ok(Err(Finding::Truncated {
            first_missing: tree.size(),
            signed_size: head,
        }));
    }
    if head < tree.size() {
        return Ok(Err(Finding::Unsigned {
            line: head,
            signed_size: report.signed_size,
        }));
    }
    if let Some(bad) = check_nodes(store, &tree, report.signed_size).await? {
        return Ok(Err(bad));
    }
    Ok(Ok(report))
}

/// The leaf rows after the largest checkpoint (by its claimed size: only a tie-breaker).
async fn tail_leaves(store: &Store, notes: &[String]) -> Result<RecordedLeaves, AuditError> {
    let from = notes
        .iter()
        .filter_map(|n| SignedCheckpoint::parse(n.as_bytes()).ok())
        .map(|c| c.unverified().size())
        .max()
        .unwrap_or(0);
    let mut out = RecordedLeaves::new();
    let mut next = from;
    loop {
        let rows = store.audit_nodes_range(0, next, SCAN_CHUNK).await?;
        let Some(last) = rows.last() else { break };
        next = last.index + 1;
        out.extend(rows.iter().map(|r| (r.index, Hash::new(r.hash))));
    }
    Ok(out)
}

/// Reads and parses every entry in seq order, a chunk at a time.
async fn read_entries(store: &Store) -> Result<ParsedEntries, AuditError> {
    let mut out = ParsedEntries::default();
    let mut next = 0;
    loop {
        let rows = store.audit_entries(next, SCAN_CHUNK).await?;
        let Some(last) = rows.last() else { break };
        next = last.seq + 1;
        for row in &rows {
            out.push(&row.entry);
        }
    }
    Ok(out)
}

/// Every stored node must equal the recomputed one, every complete subtree must be stored,
/// and no leaf may be stored beyond the last entry.
async fn check_nodes(
    store: &Store,
    tree: &MemoryTree,
    signed_size: u64,
) -> Result<Option<Finding>, AuditError> {
    let at = Extent {
        n: tree.size(),
        signed_size,
    };
    for level in 0..64u8 {
        if let Some(bad) = check_level(store, tree, level, at).await? {
            return Ok(Some(bad));
        }
        if at.n >> level == 0 {
            break;
        }
    }
    Ok(None)
}

/// The log's size and its signed prefix.
#[derive(Clone, Copy)]
struct Extent {
    n: u64,
    signed_size: u64,
}

async fn check_level(
    store: &Store,
    tree: &MemoryTree,
    level: u8,
    at: Extent,
) -> Result<Option<Finding>, AuditError> {
    let expected = at.n >> level;
    let mut index = 0;
    loop {
        let rows = store.audit_nodes_range(level, index, SCAN_CHUNK).await?;
        for row in &rows {
            if index < expected && row.index != index {
                return Ok(Some(missing_node(level, index, at)));
            }
            if row.index >= expected {
                let extra = rows.iter().filter(|r| r.index >= expected).count();
                return Ok(Some(extra_node(level, row.index, extra as u64, at)));
            }
            let id = NodeId::new(level, row.index);
            if tree.node(id).map(|h| *h.as_bytes()) != Ok(row.hash) {
                return Ok(Some(changed_node(level, index, at)));
            }
            index += 1;
        }
        if rows.len() < SCAN_CHUNK as usize {
            break;
        }
    }
    Ok((index < expected).then(|| missing_node(level, index, at)))
}

fn node_mismatch(level: u8, index: u64) -> Finding {
    let id = NodeId::new(level, index);
    Finding::NodeMismatch {
        level,
        index,
        start: id.start(),
        end: id.end(),
    }
}

/// Each append writes its entry's leaf row in the same transaction: an entry after the last
/// checkpoint without one was inserted behind the log's back.
fn missing_node(level: u8, index: u64, at: Extent) -> Finding {
    if level == 0 && index >= at.signed_size {
        return Finding::Unsigned {
            line: index,
            signed_size: at.signed_size,
        };
    }
    node_mismatch(level, index)
}

/// Leaf rows beyond the last entry: entries were removed from the end (head moved back).
fn extra_node(level: u8, index: u64, count: u64, at: Extent) -> Finding {
    if level == 0 {
        return Finding::Removed { seq: at.n, count };
    }
    node_mismatch(level, index)
}

/// A leaf row that differs from its entry. Below the last checkpoint the entries are proven,
/// so the row was altered; after it, the next entry's `prev` link vouches for the entry, so
/// only the last entry's case is open: the entry or its row was altered.
fn changed_node(level: u8, index: u64, at: Extent) -> Finding {
    if level == 0 && index >= at.signed_size && index + 1 == at.n {
        return Finding::Changed {
            seq: index,
            detail: "its hash differs from the leaf hash stored when it was appended (the entry or that row was altered)",
        };
    }
    node_mismatch(level, index)
}
