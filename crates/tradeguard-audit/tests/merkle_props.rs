//! Property tests: the tree, its proofs and its verifiers against a direct transcription of
//! the recursive definitions of RFC 9162 §2.1 (MTH, PATH, PROOF), and every single mutation of
//! a valid proof refused.

use std::collections::HashMap;

use proptest::prelude::*;
use tradeguard_audit::merkle::{
    Hash, MemoryTree, NodeSource, ProofPlan, empty_root, leaf_hash, node_hash, verify_consistency,
    verify_inclusion, verify_subtree_consistency,
};

/// RFC 9162 §2.1.1 MTH, recursively.
fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => empty_root(),
        1 => d[0],
        n => {
            let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// RFC 9162 §2.1.3.1 PATH(m, D[n]).
fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

/// RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b).
fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { Vec::new() } else { vec![mth(d)] };
    }
    let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

fn leaves(n: usize, salt: u64) -> Vec<Hash> {
    (0..n as u64)
        .map(|i| leaf_hash(&[i.to_be_bytes(), salt.to_be_bytes()].concat()))
        .collect()
}

fn tree(d: &[Hash]) -> MemoryTree {
    MemoryTree::from_leaf_hashes(d.iter().copied()).unwrap()
}

/// Every single mutation of `proof`: each bit of each hash's first byte flipped, each hash
/// dropped, a hash duplicated, neighbours swapped, a zero hash appended.
fn mutations(proof: &[Hash]) -> Vec<Vec<Hash>> {
    let mut out = Vec::new();
    for i in 0..proof.len() {
        for bit in [0u8, 3, 7] {
            let mut p = proof.to_vec();
            let mut bytes = *p[i].as_bytes();
            bytes[i % 32] ^= 1 << bit;
            p[i] = Hash::new(bytes);
            out.push(p);
        }
        let mut p = proof.to_vec();
        p.remove(i);
        out.push(p);
        let mut p = proof.to_vec();
        p.insert(i, proof[i]);
        out.push(p);
        if i + 1 < proof.len() && proof[i] != proof[i + 1] {
            let mut p = proof.to_vec();
            p.swap(i, i + 1);
            out.push(p);
        }
    }
    let mut p = proof.to_vec();
    p.push(Hash::new([0; 32]));
    out.push(p);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn tree_heads_match_the_definition(n in 0usize..130, salt in any::<u64>()) {
        let d = leaves(n, salt);
        let t = tree(&d);
        for m in 0..=n {
            prop_assert_eq!(t.root_at(m as u64).unwrap(), mth(&d[..m]), "size {}", m);
        }
    }

    #[test]
    fn inclusion_proofs_match_path_and_refuse_mutations(
        n in 1usize..130, i in any::<prop::sample::Index>(), salt in any::<u64>(),
    ) {
        let d = leaves(n, salt);
        let t = tree(&d);
        let m = i.index(n);
        let (size, index) = (n as u64, m as u64);
        let proof = t.inclusion_proof(index, size).unwrap();
        prop_assert_eq!(&proof, &path(m, &d));
        let root = t.root();
        prop_assert!(verify_inclusion(index, size, &d[m], &proof, &root).is_ok());
        for (j, bad) in mutations(&proof).iter().enumerate() {
            prop_assert!(verify_inclusion(index, size, &d[m], bad, &root).is_err(), "mutation {}", j);
        }
        let other = (m + 1) % n;
        if other != m {
            prop_assert!(verify_inclusion(other as u64, size, &d[m], &proof, &root).is_err());
            prop_assert!(verify_inclusion(index, size, &d[other], &proof, &root).is_err());
        }
    }

    #[test]
    fn consistency_proofs_match_proof_and_refuse_mutations(
        n in 1usize..130, a in any::<prop::sample::Index>(), salt in any::<u64>(),
    ) {
        let d = leaves(n, salt);
        let t = tree(&d);
        let m = a.index(n) + 1;
        let proof = t.consistency_proof(m as u64, n as u64).unwrap();
        let want = if m == n { Vec::new() } else { subproof(m, &d, true) };
        prop_assert_eq!(&proof, &want);
        let (r1, r2) = (mth(&d[..m]), mth(&d));
        prop_assert!(verify_consistency(m as u64, n as u64, &proof, &r1, &r2).is_ok());
        for (j, bad) in mutations(&proof).iter().enumerate() {
            prop_assert!(verify_consistency(m as u64, n as u64, bad, &r1, &r2).is_err(), "mutation {}", j);
        }
        if m < n {
            let r_other = mth(&d[..m - 1]);
            prop_assert!(verify_consistency(m as u64, n as u64, &proof, &r_other, &r2).is_err());
        }
    }

    #[test]
    fn subtree_consistency_proofs_verify_and_refuse_mutations(
        n in 1usize..130, a in any::<prop::sample::Index>(), w in 0u32..7, salt in any::<u64>(),
    ) {
        let d = leaves(n, salt);
        let t = tree(&d);
        let width = 1usize << w;
        let start = (a.index(n) / width) * width;
        let end = (start + width).min(n);
        let (s, e, size) = (start as u64, end as u64, n as u64);
        let proof = t.subtree_consistency_proof(s, e, size).unwrap();
        let sub = mth(&d[start..end]);
        prop_assert!(verify_subtree_consistency(s, e, size, &proof, &sub, &t.root()).is_ok());
        for (j, bad) in mutations(&proof).iter().enumerate() {
            prop_assert!(verify_subtree_consistency(s, e, size, bad, &sub, &t.root()).is_err(), "mutation {}", j);
        }
    }

    /// The path a SQL store takes: read the planned nodes into a map, assemble from it.
    #[test]
    fn planned_node_reads_give_the_same_proofs(n in 1usize..300, a in any::<prop::sample::Index>(), salt in any::<u64>()) {
        let d = leaves(n, salt);
        let t = tree(&d);
        let m = a.index(n) as u64;
        for plan in [ProofPlan::inclusion(m, n as u64).unwrap(), ProofPlan::consistency(m + 1, n as u64).unwrap()] {
            let ids = plan.node_ids();
            prop_assert!(ids.len() <= 2 * 64);
            let map: HashMap<_, _> = ids.iter().map(|id| (*id, t.node(*id).unwrap())).collect();
            prop_assert_eq!(plan.assemble(&map).unwrap(), plan.assemble(&t).unwrap());
        }
    }
}

#[test]
fn fail_missing_node_is_reported() {
    let plan = ProofPlan::inclusion(3, 9).unwrap();
    let empty: HashMap<_, Hash> = HashMap::new();
    assert!(plan.assemble(&empty).is_err());
}
