//! The frontier of a growing tree: one complete subtree per set bit of its size.
//!
//! Appending a leaf costs one leaf hash plus one node hash per carried level (amortised two
//! hashes); the tree head is the right fold of at most 64 hashes. Each append reports the
//! complete subtrees it created, which is what a store keeps for O(log n) proofs.

use super::node::{NodeId, fold_right, range_nodes};
use super::{Hash, ProofError, empty_root, node_hash};

/// The right edge of a tree of `size` entries, enough to append and to compute the root.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Roots of the complete subtrees of `[0, size)`, largest (leftmost) first.
    nodes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a frontier from the hashes of [`Frontier::node_ids`]`(size)`, in that order.
    pub fn from_nodes(size: u64, nodes: Vec<Hash>) -> Result<Self, ProofError> {
        let want = size.count_ones() as usize;
        if nodes.len() != want {
            return Err(ProofError::ProofLength {
                got: nodes.len(),
                want,
            });
        }
        Ok(Self { size, nodes })
    }

    /// The complete subtrees whose hashes make up the frontier of a tree of `size` entries.
    pub fn node_ids(size: u64) -> Vec<NodeId> {
        range_nodes(0, size)
    }

    /// The number of entries.
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// The frontier hashes, largest subtree first.
    pub fn nodes(&self) -> &[Hash] {
        &self.nodes
    }

    /// Appends a leaf hash. Returns the complete subtrees this created, the leaf first,
    /// each with its hash (`1 + trailing_zeros(new size)` of them).
    pub fn append(&mut self, leaf: Hash) -> Result<Vec<(NodeId, Hash)>, ProofError> {
        let index = self.size;
        let new_size = index.checked_add(1).ok_or(ProofError::TreeFull)?;
        let mut created = vec![(NodeId::leaf(index), leaf)];
        let mut hash = leaf;
        let mut level = 0u8;
        // Each trailing one of the old size is a complete subtree of the same height to merge.
        while (index >> level) & 1 == 1 {
            let left = self.nodes.pop().ok_or(ProofError::TreeFull)?;
            hash = node_hash(&left, &hash);
            level += 1;
            created.push((NodeId::new(level, index >> level), hash));
        }
        self.nodes.push(hash);
        self.size = new_size;
        Ok(created)
    }

    /// The tree head, `MTH(D[0..size])`.
    pub fn root(&self) -> Hash {
        fold_right(&self.nodes).unwrap_or_else(empty_root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::leaf_hash;

    #[test]
    fn append_reports_created_nodes() {
        let mut f = Frontier::new();
        let mut counts = Vec::new();
        for i in 0..8u8 {
            counts.push(f.append(leaf_hash(&[i])).unwrap().len());
        }
        assert_eq!(counts, [1, 2, 1, 3, 1, 2, 1, 4]);
        assert_eq!(f.nodes().len(), 1);
    }

    #[test]
    fn fail_frontier_with_wrong_node_count() {
        let h = leaf_hash(b"");
        assert!(Frontier::from_nodes(3, vec![h]).is_err());
        assert!(Frontier::from_nodes(3, vec![h, h]).is_ok());
    }
}
