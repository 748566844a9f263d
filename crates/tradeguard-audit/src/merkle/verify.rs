//! Proof verification, RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency).
//!
//! Every proof is first checked to have exactly the length its sizes call for, so a proof
//! with a component added, removed or moved is refused before any hashing; then the root(s)
//! are recomputed and compared. A consistency proof from the empty tree proves nothing and is
//! refused, as transparency-dev/merkle's probes require.

use super::prove::{ProofPlan, check_consistency_sizes};
use super::{Hash, ProofError, node_hash};

/// Checks that the leaf with hash `leaf` is entry `index` of the tree of `size` entries whose
/// head is `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let computed = root_from_inclusion(index, size, leaf, proof)?;
    matches(size, &computed, root)
}

/// The tree head an inclusion proof leads to (RFC 9162 §2.1.3.2, steps 1–5).
pub fn root_from_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    let want = ProofPlan::inclusion(index, size)?.len();
    check_len(proof, want)?;
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::ProofLength {
                got: proof.len(),
                want,
            });
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::ProofLength {
            got: proof.len(),
            want,
        });
    }
    Ok(r)
}

/// Checks that the tree of `size2` entries with head `root2` extends the tree of `size1`
/// entries with head `root1` (`0 < size1 ≤ size2`).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), ProofError> {
    check_consistency_sizes(size1, size2)?;
    let want = ProofPlan::consistency(size1, size2)?.len();
    check_len(proof, want)?;
    if size1 == size2 {
        return matches(size2, root1, root2);
    }
    let (fr, sr) = roots_from_consistency(size1, size2, proof, root1)?;
    matches(size1, &fr, root1)?;
    matches(size2, &sr, root2)
}

/// RFC 9162 §2.1.4.2 steps 2–7: the two roots a consistency proof leads to.
fn roots_from_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
) -> Result<(Hash, Hash), ProofError> {
    let too_short = || ProofError::ProofLength {
        got: proof.len(),
        want: proof.len() + 1,
    };
    // If size1 is a power of two its root is the first node of the path; the proof omits it.
    let (seed, rest) = if size1.is_power_of_two() {
        (root1, proof)
    } else {
        proof.split_first().ok_or_else(too_short)?
    };
    let (mut fnode, mut snode) = (size1 - 1, size2 - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*seed, *seed);
    for c in rest {
        if snode == 0 {
            return Err(ProofError::ProofLength {
                got: proof.len(),
                want: proof.len() - 1,
            });
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(too_short());
    }
    Ok((fr, sr))
}

fn check_len(proof: &[Hash], want: usize) -> Result<(), ProofError> {
    if proof.len() == want {
        Ok(())
    } else {
        Err(ProofError::ProofLength {
            got: proof.len(),
            want,
        })
    }
}

pub(crate) fn matches(size: u64, computed: &Hash, expected: &Hash) -> Result<(), ProofError> {
    if computed == expected {
        Ok(())
    } else {
        Err(ProofError::RootMismatch { size })
    }
}
