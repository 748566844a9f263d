//! Offline verification of a log in a database (a data dir's SQLite file, or PostgreSQL):
//! everything [`crate::verify`] checks on an export, over every stored checkpoint, plus the
//! stored head and every stored tree node against the recomputed tree (proofs are served
//! from those nodes, so they must be right too).

use tradeguard_store::Store;

use crate::AuditError;
use crate::keys::LogKey;
use crate::log::SCAN_CHUNK;
use crate::merkle::{MemoryTree, NodeId, NodeSource};
use crate::verify::{Finding, Tail, VerifyReport, verify_log};

/// Verifies the log stored in `store`. The outer error means the store could not be read;
/// the inner one is the first defect found in the log.
pub async fn verify_store(
    store: &Store,
    keys: &[LogKey],
) -> Result<Result<VerifyReport, Finding>, AuditError> {
    let entries = read_entries(store).await?;
    let notes: Vec<String> = store
        .audit_checkpoints()
        .await?
        .into_iter()
        .map(|c| c.note)
        .collect();
    let entry_refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    let note_refs: Vec<&[u8]> = notes.iter().map(String::as_bytes).collect();
    let (report, tree) = match verify_log(&entry_refs, &note_refs, keys, Tail::Allow) {
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
            signed_size: head,
        }));
    }
    if let Some(bad) = check_nodes(store, &tree).await? {
        return Ok(Err(bad));
    }
    Ok(Ok(report))
}

async fn read_entries(store: &Store) -> Result<Vec<Vec<u8>>, AuditError> {
    let mut out = Vec::new();
    let mut next = 0;
    loop {
        let rows = store.audit_entries(next, SCAN_CHUNK).await?;
        let Some(last) = rows.last() else { break };
        next = last.seq + 1;
        out.extend(rows.into_iter().map(|r| r.entry));
    }
    Ok(out)
}

/// Every stored node must equal the recomputed one, and every complete subtree must be stored.
async fn check_nodes(store: &Store, tree: &MemoryTree) -> Result<Option<Finding>, AuditError> {
    let n = tree.size();
    for level in 0..64u8 {
        let expected = n >> level;
        if expected == 0 {
            break;
        }
        let mut index = 0;
        while index < expected {
            let rows = store.audit_nodes_range(level, index, SCAN_CHUNK).await?;
            for row in &rows {
                let id = NodeId::new(level, row.index);
                let mismatch = || Finding::NodeMismatch {
                    level,
                    index: row.index,
                    start: id.start(),
                    end: id.end(),
                };
                if row.index != index || row.index >= expected {
                    let missing = NodeId::new(level, index);
                    return Ok(Some(Finding::NodeMismatch {
                        level,
                        index,
                        start: missing.start(),
                        end: missing.end(),
                    }));
                }
                if tree.node(id).map(|h| *h.as_bytes()) != Ok(row.hash) {
                    return Ok(Some(mismatch()));
                }
                index += 1;
            }
            if rows.is_empty() {
                let missing = NodeId::new(level, index);
                return Ok(Some(Finding::NodeMismatch {
                    level,
                    index,
                    start: missing.start(),
                    end: missing.end(),
                }));
            }
        }
    }
    Ok(None)
}
