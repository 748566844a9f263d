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

mod nodes;

use crate::AuditError;
use crate::checkpoint::SignedCheckpoint;
use crate::keys::LogKey;
use crate::log::SCAN_CHUNK;
use crate::merkle::Hash;
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
    if let Some(bad) = nodes::check_nodes(store, &tree, report.signed_size).await? {
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
