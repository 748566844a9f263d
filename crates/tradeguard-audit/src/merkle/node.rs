//! Complete subtrees ("nodes") and how any tree hash is assembled from them.
//!
//! A log stores the hash of every complete subtree: node `(level, index)` is
//! `MTH(D[index·2^level .. (index+1)·2^level])`. Every hash a proof or tree head needs is
//! either such a node or the hash of a range `[start, end)` that is an RFC 6962 subtree
//! (`start` a multiple of the smallest power of two ≥ `end − start`); such a range splits into
//! at most 64 complete subtrees of decreasing size, and its hash is their right fold.
//! So a proof of a tree of `n` entries costs O(log n) node reads.

use std::collections::HashMap;

use super::{Hash, ProofError, empty_root, node_hash};

/// A complete subtree: the `index`-th run of `2^level` entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves (0 for a leaf).
    pub level: u8,
    /// Position among the nodes of this level, from the left.
    pub index: u64,
}

impl NodeId {
    /// A node id.
    pub const fn new(level: u8, index: u64) -> Self {
        Self { level, index }
    }

    /// The leaf at `index`.
    pub const fn leaf(index: u64) -> Self {
        Self { level: 0, index }
    }

    /// The first entry the node covers.
    pub const fn start(&self) -> u64 {
        self.index << self.level
    }

    /// One past the last entry the node covers.
    pub const fn end(&self) -> u64 {
        (self.index + 1) << self.level
    }
}

/// Where node hashes come from: a memory tree, or a map filled from SQL in one query.
pub trait NodeSource {
    /// The source's failure.
    type Error: From<ProofError>;

    /// The hash of a complete subtree.
    fn node(&self, id: NodeId) -> Result<Hash, Self::Error>;
}

impl NodeSource for HashMap<NodeId, Hash> {
    type Error = ProofError;

    fn node(&self, id: NodeId) -> Result<Hash, ProofError> {
        self.get(&id).copied().ok_or(ProofError::MissingNode {
            level: id.level,
            index: id.index,
        })
    }
}

/// The complete subtrees that make up `[start, end)`, left to right.
///
/// For an RFC 6962 subtree range they have decreasing sizes; for `[0, n)` they are the
/// "frontier" of a tree of size `n` (one node per set bit of `n`).
pub fn range_nodes(start: u64, end: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let align = if at == 0 { 63 } else { at.trailing_zeros() };
        let fit = 63 - (end - at).leading_zeros();
        let level = align.min(fit);
        out.push(NodeId::new(level as u8, at >> level));
        at += 1 << level;
    }
    out
}

/// `MTH(D[start..end])` of an RFC 6962 subtree range, from its complete subtrees.
pub fn range_hash<S: NodeSource>(source: &S, start: u64, end: u64) -> Result<Hash, S::Error> {
    let nodes = range_nodes(start, end);
    let mut hashes = Vec::with_capacity(nodes.len());
    for id in nodes {
        hashes.push(source.node(id)?);
    }
    Ok(fold_right(&hashes).unwrap_or_else(empty_root))
}

/// `h0 ∘ (h1 ∘ (… ∘ hk))`: the hash of a range from its decreasing complete subtrees.
pub fn fold_right(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)))
}

/// The largest power of two strictly smaller than `n` (`n ≥ 2`).
pub(crate) fn split_point(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Case = (u64, u64, &'static [(u8, u64)]);

    #[test]
    fn range_nodes_table() {
        let cases: [Case; 6] = [
            (0, 0, &[]),
            (0, 1, &[(0, 0)]),
            (0, 7, &[(2, 0), (1, 2), (0, 6)]),
            (8, 13, &[(2, 2), (0, 12)]),
            (4, 8, &[(2, 1)]),
            (0, 1 << 20, &[(20, 0)]),
        ];
        for (i, (start, end, want)) in cases.iter().enumerate() {
            let got: Vec<(u8, u64)> = range_nodes(*start, *end)
                .iter()
                .map(|n| (n.level, n.index))
                .collect();
            assert_eq!(got, *want, "TC{i} failed");
        }
    }

    #[test]
    fn split_point_table() {
        let cases = [
            (2u64, 1u64),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (u64::MAX, 1 << 63),
        ];
        for (i, (n, k)) in cases.iter().enumerate() {
            assert_eq!(split_point(*n), *k, "TC{i} failed");
        }
    }
}
