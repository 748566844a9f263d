//! Fuzzes the proof verifiers an auditor runs on proofs from the gateway
//! (`GET /v1/audit/proof/*`, `tradeguard audit proof`): inclusion and consistency proofs with
//! any sizes, index and hashes. No input panics; proofs the tree itself makes (of a tree
//! whose leaves come from the input) verify, and one with a changed hash does not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeguard_audit::merkle::{
    Hash, MemoryTree, root_from_inclusion, verify_consistency, verify_inclusion,
};

fn u64_at(data: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    for (i, x) in b.iter_mut().enumerate() {
        *x = data.get(at + i).copied().unwrap_or(0);
    }
    u64::from_le_bytes(b)
}

fuzz_target!(|data: &[u8]| {
    let (a, b) = (u64_at(data, 0), u64_at(data, 8));
    let rest = data.get(16..).unwrap_or_default();
    let hashes: Vec<Hash> = rest
        .chunks_exact(32)
        .map(|c| Hash::from_slice(c).expect("32 bytes"))
        .collect();
    let zero = Hash::from_slice(&[0; 32]).expect("32 bytes");
    let first = hashes.first().copied().unwrap_or(zero);
    let last = hashes.last().copied().unwrap_or(zero);
    let _ = root_from_inclusion(a, b, &first, &hashes);
    let _ = verify_inclusion(a, b, &first, &hashes, &last);
    let _ = verify_consistency(a, b, &hashes, &first, &last);

    // Honest proofs of a small tree built from the input.
    let n = (a % 70) + 1;
    let mut tree = MemoryTree::new();
    for i in 0..n {
        let leaf = [rest, &i.to_le_bytes()].concat();
        tree.push(&leaf).expect("push");
    }
    let (i, m) = (b % n, (b >> 32) % n + 1);
    let root = tree.root();
    let path = tree.inclusion_proof(i, n).expect("inclusion proof");
    let leaf = tree.leaf(i).expect("leaf");
    verify_inclusion(i, n, &leaf, &path, &root).expect("an honest inclusion proof verifies");
    let old = tree.root_at(m).expect("old root");
    let cons = tree.consistency_proof(m, n).expect("consistency proof");
    verify_consistency(m, n, &cons, &old, &root).expect("an honest consistency proof verifies");
    if let Some(h) = path.first() {
        let mut bad = path.clone();
        let mut bytes = *h.as_bytes();
        bytes[usize::from(data.first().copied().unwrap_or(0)) % 32] ^= 1;
        bad[0] = Hash::from_slice(&bytes).expect("32 bytes");
        assert!(verify_inclusion(i, n, &leaf, &bad, &root).is_err());
    }
});
