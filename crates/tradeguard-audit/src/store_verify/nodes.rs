//! The stored tree nodes against the tree recomputed from the entries: every node must equal
//! the recomputed one, every complete subtree must be stored, and no node may lie beyond the
//! log. One sequential scan of the node table (reading by key costs a random row lookup per
//! node), with a presence bit per expected node; the first defect by (level, index) is named.

use tradeguard_store::Store;
use tradeguard_store::audit::AuditNode;

use crate::AuditError;
use crate::merkle::{MemoryTree, NodeId, NodeSource};
use crate::verify::Finding;

/// The log's size and its signed prefix.
#[derive(Clone, Copy)]
struct Extent {
    n: u64,
    signed_size: u64,
}

/// What the scan saw at one level.
#[derive(Default)]
struct Level {
    /// Nodes the tree has at this level.
    expected: u64,
    /// One bit per expected node: stored.
    present: Vec<u64>,
    /// Smallest index whose stored hash differs.
    changed: Option<u64>,
    /// Smallest index beyond `expected`, and how many such rows.
    extra: Option<(u64, u64)>,
}

/// Checks every stored node of `store` against `tree`.
pub(super) async fn check_nodes(
    store: &Store,
    tree: &MemoryTree,
    signed_size: u64,
) -> Result<Option<Finding>, AuditError> {
    let at = Extent {
        n: tree.size(),
        signed_size,
    };
    let mut levels: Vec<Level> = Vec::new();
    store
        .audit_scan_nodes(|node| visit(&mut levels, tree, node))
        .await?;
    Ok(first_defect(&levels, at))
}

fn visit(levels: &mut Vec<Level>, tree: &MemoryTree, node: AuditNode) {
    let n = tree.size();
    while levels.len() <= usize::from(node.level) {
        let expected = n.checked_shr(levels.len() as u32).unwrap_or(0);
        levels.push(Level {
            expected,
            present: vec![0; expected.div_ceil(64) as usize],
            ..Level::default()
        });
    }
    let level = &mut levels[usize::from(node.level)];
    let index = node.index;
    if index >= level.expected {
        let (first, count) = level.extra.unwrap_or((index, 0));
        level.extra = Some((first.min(index), count + 1));
        return;
    }
    level.present[(index / 64) as usize] |= 1 << (index % 64);
    let recomputed = tree.node(NodeId::new(node.level, index));
    if recomputed.map(|h| *h.as_bytes()) != Ok(node.hash) {
        level.changed = Some(level.changed.map_or(index, |c| c.min(index)));
    }
}

/// The first defect by level, then index: a missing or changed node, else nodes beyond the
/// log at that level.
fn first_defect(levels: &[Level], at: Extent) -> Option<Finding> {
    for l in 0..64u8 {
        let expected = at.n.checked_shr(u32::from(l)).unwrap_or(0);
        let Some(level) = levels.get(usize::from(l)) else {
            // Nothing stored at this level or above: every expected node is missing.
            return (expected > 0).then(|| missing_node(l, 0, at));
        };
        let missing = first_missing(level);
        match (missing, level.changed) {
            (Some(m), Some(c)) if c < m => return Some(changed_node(l, c, at)),
            (Some(m), _) => return Some(missing_node(l, m, at)),
            (None, Some(c)) => return Some(changed_node(l, c, at)),
            (None, None) => {}
        }
        if let Some((index, count)) = level.extra {
            return Some(extra_node(l, index, count, at));
        }
    }
    None
}

fn first_missing(level: &Level) -> Option<u64> {
    let (word, bits) = level
        .present
        .iter()
        .enumerate()
        .find(|(_, w)| **w != u64::MAX)?;
    let index = word as u64 * 64 + u64::from(bits.trailing_ones());
    (index < level.expected).then_some(index)
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
