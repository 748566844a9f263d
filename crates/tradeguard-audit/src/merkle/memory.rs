//! A Merkle tree held in memory: every complete subtree hash, level by level.
//!
//! Used by the offline verifier (which rebuilds the tree from an exported log), by tests, and
//! as the reference the SQL-backed tree is checked against. A million entries take about
//! 64 MiB (two hashes per entry).

use super::node::{NodeId, NodeSource};
use super::{Frontier, Hash, ProofError, ProofPlan, leaf_hash};

/// An append-only Merkle tree in memory.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is node `(l, i)`.
    levels: Vec<Vec<Hash>>,
    frontier: Frontier,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree of the given leaf hashes.
    pub fn from_leaf_hashes<I: IntoIterator<Item = Hash>>(leaves: I) -> Result<Self, ProofError> {
        let mut t = Self::new();
        for h in leaves {
            t.push_leaf_hash(h)?;
        }
        Ok(t)
    }

    /// Appends an entry (hashed as a leaf). Returns its index.
    pub fn push(&mut self, data: &[u8]) -> Result<u64, ProofError> {
        self.push_leaf_hash(leaf_hash(data))
    }

    /// Appends a leaf hash. Returns its index.
    pub fn push_leaf_hash(&mut self, leaf: Hash) -> Result<u64, ProofError> {
        let index = self.frontier.size();
        for (id, hash) in self.frontier.append(leaf)? {
            let level = usize::from(id.level);
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
        }
        Ok(index)
    }

    /// The number of entries.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The current tree head.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The tree head at an earlier size.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        super::tree_head(self, size)
    }

    /// The leaf hash of entry `index`.
    pub fn leaf(&self, index: u64) -> Result<Hash, ProofError> {
        self.node(NodeId::leaf(index))
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        ProofPlan::inclusion(index, size)?.assemble(self)
    }

    /// The consistency proof between sizes `size1` and `size2`.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size2)?;
        ProofPlan::consistency(size1, size2)?.assemble(self)
    }

    /// The subtree consistency proof of `[start, end)` in the tree of `size` entries.
    pub fn subtree_consistency_proof(
        &self,
        start: u64,
        end: u64,
        size: u64,
    ) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        ProofPlan::subtree_consistency(start, end, size)?.assemble(self)
    }

    /// The hash of the subtree `[start, end)`.
    pub fn subtree_hash(&self, start: u64, end: u64) -> Result<Hash, ProofError> {
        super::subtree::check_subtree(start, end)?;
        self.check_size(end)?;
        super::node::range_hash(self, start, end)
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        if size > self.size() {
            return Err(ProofError::SizeOrder {
                size1: size,
                size2: self.size(),
            });
        }
        Ok(())
    }
}

impl NodeSource for MemoryTree {
    type Error = ProofError;

    fn node(&self, id: NodeId) -> Result<Hash, ProofError> {
        let missing = ProofError::MissingNode {
            level: id.level,
            index: id.index,
        };
        let level = self
            .levels
            .get(usize::from(id.level))
            .ok_or(missing.clone())?;
        let index = usize::try_from(id.index).map_err(|_| missing.clone())?;
        level.get(index).copied().ok_or(missing)
    }
}
