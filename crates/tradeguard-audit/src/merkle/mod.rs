//! The Merkle tree core: RFC 6962 / RFC 9162 §2.1 hashing, tree heads of any size, inclusion
//! and consistency proofs (generation from a [`NodeSource`] and verification), and the
//! subtree proofs of draft-ietf-plants-merkle-tree-certs. Pure: no I/O, no clock.
//!
//! ```
//! use tradeguard_audit::merkle::{MemoryTree, leaf_hash, verify_consistency, verify_inclusion};
//!
//! let mut tree = MemoryTree::new();
//! for entry in [&b"a"[..], b"b", b"c", b"d", b"e"] {
//!     tree.push(entry).unwrap();
//! }
//! let proof = tree.inclusion_proof(2, 5).unwrap();
//! verify_inclusion(2, 5, &leaf_hash(b"c"), &proof, &tree.root()).unwrap();
//!
//! let old = tree.root_at(3).unwrap();
//! let proof = tree.consistency_proof(3, 5).unwrap();
//! verify_consistency(3, 5, &proof, &old, &tree.root()).unwrap();
//! ```

mod frontier;
mod hash;
mod memory;
mod node;
mod prove;
mod subtree;
mod verify;

pub use frontier::Frontier;
pub use hash::{Hash, empty_root, leaf_hash, node_hash};
pub use memory::MemoryTree;
pub use node::{NodeId, NodeSource, fold_right, range_hash, range_nodes};
pub use prove::{ProofPlan, consistency_proof, inclusion_proof, tree_head};
pub use subtree::{check_subtree, verify_subtree_consistency, verify_subtree_inclusion};
pub use verify::{root_from_inclusion, verify_consistency, verify_inclusion};

/// Why a proof, a hash or a tree operation was refused. All are definitive: the input is wrong
/// and retrying will not help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// A hash was not 32 bytes.
    #[error("a tree hash must be 32 bytes, got {got}; the proof or checkpoint is corrupt")]
    HashLength {
        /// The length found.
        got: usize,
    },
    /// A hash was not valid base64.
    #[error("a tree hash is not valid base64; the proof or checkpoint is corrupt")]
    HashEncoding,
    /// An entry index is not inside the tree.
    #[error("entry {index} is not in a tree of {size} entries; ask for an index below the size")]
    IndexOutOfRange {
        /// The entry asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The first size is larger than the second (or than the tree).
    #[error("size {size1} is larger than size {size2}; give the older, smaller size first")]
    SizeOrder {
        /// The size that should be the smaller.
        size1: u64,
        /// The size that should be the larger.
        size2: u64,
    },
    /// A consistency proof from the empty tree was asked for or given; it proves nothing.
    #[error("a consistency proof from the empty tree proves nothing; start from size 1 or more")]
    EmptyTreeConsistency,
    /// The proof has the wrong number of hashes for its sizes.
    #[error(
        "the proof has {got} hashes where its sizes call for {want}; it was altered or is for other sizes"
    )]
    ProofLength {
        /// Hashes given.
        got: usize,
        /// Hashes expected.
        want: usize,
    },
    /// The recomputed tree head does not match the expected one.
    #[error(
        "the tree head recomputed at size {size} does not match the expected one; the proof, the entry or the tree head was altered"
    )]
    RootMismatch {
        /// The tree size whose head did not match.
        size: u64,
    },
    /// `[start, end)` is not a subtree.
    #[error(
        "[{start}, {end}) is not a subtree: start must be a multiple of the smallest power of two at least end - start"
    )]
    InvalidSubtree {
        /// Start of the range.
        start: u64,
        /// End of the range.
        end: u64,
    },
    /// A node the proof needs is not in the node source.
    #[error(
        "tree node (level {level}, index {index}) is missing from storage; the tree is incomplete or corrupt"
    )]
    MissingNode {
        /// Node level.
        level: u8,
        /// Node index.
        index: u64,
    },
    /// The tree reached 2^64 entries.
    #[error("the tree is full (2^64 entries)")]
    TreeFull,
}
