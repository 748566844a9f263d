//! Subtrees `[start, end)` of a Merkle tree and their proofs, as defined in
//! draft-ietf-plants-merkle-tree-certs §"Subtrees" (Merkle Tree Certificates). The log uses
//! them to prove a range of entries (for example one day) against a checkpoint.

use super::verify::{matches, root_from_inclusion};
use super::{Hash, ProofError, empty_root, node_hash};

/// Checks that `[start, end)` is a subtree: `start ≤ end` and `start` is a multiple of the
/// smallest power of two ≥ `end − start`.
pub fn check_subtree(start: u64, end: u64) -> Result<(), ProofError> {
    let invalid = ProofError::InvalidSubtree { start, end };
    if start > end {
        return Err(invalid);
    }
    let width = (end - start)
        .max(1)
        .checked_next_power_of_two()
        .ok_or(invalid.clone())?;
    if start.is_multiple_of(width) {
        Ok(())
    } else {
        Err(invalid)
    }
}

/// Checks that the leaf `leaf` is entry `index` of the subtree `[start, end)` with hash
/// `subtree` ("Verifying a Subtree Inclusion Proof").
pub fn verify_subtree_inclusion(
    index: u64,
    start: u64,
    end: u64,
    leaf: &Hash,
    proof: &[Hash],
    subtree: &Hash,
) -> Result<(), ProofError> {
    check_subtree(start, end)?;
    if index < start || index >= end {
        return Err(ProofError::IndexOutOfRange { index, size: end });
    }
    let computed = root_from_inclusion(index - start, end - start, leaf, proof)?;
    matches(end - start, &computed, subtree)
}

/// Checks that the subtree `[start, end)` with hash `subtree` is part of the tree of `size`
/// entries with head `root` ("Verifying a Subtree Consistency Proof").
pub fn verify_subtree_consistency(
    start: u64,
    end: u64,
    size: u64,
    proof: &[Hash],
    subtree: &Hash,
    root: &Hash,
) -> Result<(), ProofError> {
    check_subtree(start, end)?;
    if end > size {
        return Err(ProofError::SizeOrder {
            size1: end,
            size2: size,
        });
    }
    let want = super::ProofPlan::subtree_consistency(start, end, size)?.len();
    if proof.len() != want {
        return Err(ProofError::ProofLength {
            got: proof.len(),
            want,
        });
    }
    if start == end {
        return matches(0, subtree, &empty_root());
    }
    let (fr, sr) = walk(start, end, size, proof, subtree)?;
    matches(end - start, &fr, subtree)?;
    matches(size, &sr, root)
}

/// Steps 3–8 of the draft's procedure: the subtree and tree hashes the proof leads to.
fn walk(
    start: u64,
    end: u64,
    size: u64,
    proof: &[Hash],
    subtree: &Hash,
) -> Result<(Hash, Hash), ProofError> {
    let (mut fnode, mut snode, mut tnode) = (start, end - 1, size - 1);
    let bad_len = || ProofError::ProofLength {
        got: proof.len(),
        want: proof.len() + 1,
    };
    if snode == tnode {
        while fnode != snode {
            (fnode, snode, tnode) = (fnode >> 1, snode >> 1, tnode >> 1);
        }
    } else {
        while fnode != snode && snode & 1 == 1 {
            (fnode, snode, tnode) = (fnode >> 1, snode >> 1, tnode >> 1);
        }
    }
    let (seed, rest) = if fnode == snode {
        (subtree, proof)
    } else {
        proof.split_first().ok_or_else(bad_len)?
    };
    let (mut fr, mut sr) = (*seed, *seed);
    for c in rest {
        if tnode == 0 {
            return Err(bad_len());
        }
        if snode & 1 == 1 || snode == tnode {
            if fnode < snode {
                fr = node_hash(c, &fr);
            }
            sr = node_hash(c, &sr);
            while snode & 1 == 0 && snode != 0 {
                (fnode, snode, tnode) = (fnode >> 1, snode >> 1, tnode >> 1);
            }
        } else {
            sr = node_hash(&sr, c);
        }
        (fnode, snode, tnode) = (fnode >> 1, snode >> 1, tnode >> 1);
    }
    if tnode != 0 {
        return Err(bad_len());
    }
    Ok((fr, sr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtree_validity_table() {
        let cases: [(u64, u64, bool); 9] = [
            (0, 0, true),
            (1, 1, true),
            (0, 13, true),
            (4, 8, true),
            (8, 13, true),
            (3, 5, false),
            (1, 3, false),
            (2, 1, false),
            (1, 9_223_372_036_854_775_810, false),
        ];
        for (i, (s, e, ok)) in cases.iter().enumerate() {
            assert_eq!(check_subtree(*s, *e).is_ok(), *ok, "TC{i} failed");
        }
    }
}
