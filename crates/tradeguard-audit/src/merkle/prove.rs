//! Proof generation (RFC 9162 §2.1.3.1 `PATH`, §2.1.4.1 `PROOF`, and the subtree proofs of
//! draft-ietf-plants-merkle-tree-certs) as plans: the tree ranges a proof is made of, then the
//! node reads that fill them in.
//!
//! A store with async I/O asks the plan for [`ProofPlan::node_ids`], reads them in one query
//! into a `HashMap<NodeId, Hash>` (a [`NodeSource`]) and calls [`ProofPlan::assemble`].

use std::collections::BTreeSet;

use super::node::{NodeId, NodeSource, range_hash, range_nodes, split_point};
use super::{Hash, ProofError};

/// The ranges `[start, end)` whose hashes, in order, form a proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofPlan {
    ranges: Vec<(u64, u64)>,
}

impl ProofPlan {
    /// The audit path of entry `index` in a tree of `size` entries, bottom-up.
    pub fn inclusion(index: u64, size: u64) -> Result<Self, ProofError> {
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        let (mut lo, mut hi) = (0, size);
        let mut ranges = Vec::new();
        while hi - lo > 1 {
            let k = split_point(hi - lo);
            if index < lo + k {
                ranges.push((lo + k, hi));
                hi = lo + k;
            } else {
                ranges.push((lo, lo + k));
                lo += k;
            }
        }
        ranges.reverse();
        Ok(Self { ranges })
    }

    /// The consistency proof from size `size1` to size `size2` (`0 < size1 ≤ size2`).
    pub fn consistency(size1: u64, size2: u64) -> Result<Self, ProofError> {
        check_consistency_sizes(size1, size2)?;
        if size1 == size2 {
            return Ok(Self { ranges: Vec::new() });
        }
        Ok(Self {
            ranges: subproof(0, size1, size2, true),
        })
    }

    /// The subtree consistency proof of `[start, end)` in a tree of `size` entries
    /// (draft-ietf-plants-merkle-tree-certs, "Generating a Subtree Consistency Proof").
    pub fn subtree_consistency(start: u64, end: u64, size: u64) -> Result<Self, ProofError> {
        super::subtree::check_subtree(start, end)?;
        if end > size {
            return Err(ProofError::SizeOrder {
                size1: end,
                size2: size,
            });
        }
        if start == end {
            return Ok(Self { ranges: Vec::new() });
        }
        Ok(Self {
            ranges: subproof(start, end, size, true),
        })
    }

    /// The number of hashes in the proof.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// True for an empty proof.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The ranges, in proof order.
    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }

    /// Every complete subtree the proof needs, sorted, without duplicates (O(log n) of them).
    pub fn node_ids(&self) -> Vec<NodeId> {
        let set: BTreeSet<NodeId> = self
            .ranges
            .iter()
            .flat_map(|(s, e)| range_nodes(*s, *e))
            .collect();
        set.into_iter().collect()
    }

    /// The proof hashes, read from `source`.
    pub fn assemble<S: NodeSource>(&self, source: &S) -> Result<Vec<Hash>, S::Error> {
        self.ranges
            .iter()
            .map(|(s, e)| range_hash(source, *s, *e))
            .collect()
    }
}

/// The checks shared by consistency proof generation and verification.
pub(crate) fn check_consistency_sizes(size1: u64, size2: u64) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizeOrder { size1, size2 });
    }
    if size1 == 0 {
        return Err(ProofError::EmptyTreeConsistency);
    }
    Ok(())
}

/// `SUBTREE_SUBPROOF(start, end, D[0..size], b)`, iteratively; with `start = 0` it is RFC 9162
/// `SUBPROOF(end, D[0..size], b)`. Requires `start < end ≤ size` and a valid subtree.
fn subproof(mut start: u64, end: u64, size: u64, mut known: bool) -> Vec<(u64, u64)> {
    let (mut lo, mut hi) = (0u64, size);
    let mut outer = Vec::new();
    let mut base = None;
    loop {
        if start == lo && end == hi {
            if !known {
                base = Some((lo, hi));
            }
            break;
        }
        let k = split_point(hi - lo);
        if end <= lo + k {
            outer.push((lo + k, hi));
            hi = lo + k;
        } else if lo + k <= start {
            outer.push((lo, lo + k));
            lo += k;
        } else {
            // start == lo < lo + k < end: continue in the right child with [lo + k, end).
            outer.push((lo, lo + k));
            lo += k;
            start = lo;
            known = false;
        }
    }
    base.into_iter().chain(outer.into_iter().rev()).collect()
}

/// The inclusion proof of entry `index` in the tree of `size` entries held by `source`.
pub fn inclusion_proof<S: NodeSource>(
    source: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, S::Error> {
    ProofPlan::inclusion(index, size)?.assemble(source)
}

/// The consistency proof between sizes `size1` and `size2` of the tree held by `source`.
pub fn consistency_proof<S: NodeSource>(
    source: &S,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash>, S::Error> {
    ProofPlan::consistency(size1, size2)?.assemble(source)
}

/// The tree head of the first `size` entries of the tree held by `source`.
pub fn tree_head<S: NodeSource>(source: &S, size: u64) -> Result<Hash, S::Error> {
    range_hash(source, 0, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Ranges = &'static [(u64, u64)];

    #[test]
    fn inclusion_plan_table() {
        // RFC 9162 §2.1.5 example tree of 7 leaves.
        let cases: [(u64, u64, Ranges); 4] = [
            (0, 7, &[(1, 2), (2, 4), (4, 7)]),
            (3, 7, &[(2, 3), (0, 2), (4, 7)]),
            (4, 7, &[(5, 6), (6, 7), (0, 4)]),
            (6, 7, &[(4, 6), (0, 4)]),
        ];
        for (i, (index, size, want)) in cases.iter().enumerate() {
            let plan = ProofPlan::inclusion(*index, *size).unwrap();
            assert_eq!(plan.ranges(), *want, "TC{i} failed");
        }
    }

    #[test]
    fn consistency_plan_table() {
        // RFC 9162 §2.1.5: proofs for sizes 3, 4 and 6 against size 7.
        let cases: [(u64, u64, Ranges); 4] = [
            (3, 7, &[(2, 3), (3, 4), (0, 2), (4, 7)]),
            (4, 7, &[(4, 7)]),
            (6, 7, &[(4, 6), (6, 7), (0, 4)]),
            (7, 7, &[]),
        ];
        for (i, (m, n, want)) in cases.iter().enumerate() {
            let plan = ProofPlan::consistency(*m, *n).unwrap();
            assert_eq!(plan.ranges(), *want, "TC{i} failed");
        }
    }

    #[test]
    fn subtree_consistency_plan_matches_the_draft_examples() {
        let cases: [(u64, u64, u64, Ranges); 2] = [
            (4, 8, 14, &[(0, 4), (8, 14)]),
            (8, 13, 14, &[(12, 13), (13, 14), (8, 12), (0, 8)]),
        ];
        for (i, (s, e, n, want)) in cases.iter().enumerate() {
            let plan = ProofPlan::subtree_consistency(*s, *e, *n).unwrap();
            assert_eq!(plan.ranges(), *want, "TC{i} failed");
        }
    }

    #[test]
    fn fail_plans_for_impossible_sizes() {
        assert!(ProofPlan::inclusion(0, 0).is_err());
        assert!(ProofPlan::inclusion(7, 7).is_err());
        assert!(ProofPlan::consistency(0, 5).is_err());
        assert!(ProofPlan::consistency(6, 5).is_err());
        assert!(ProofPlan::subtree_consistency(2, 5, 8).is_err());
        assert!(ProofPlan::subtree_consistency(0, 9, 8).is_err());
    }
}
