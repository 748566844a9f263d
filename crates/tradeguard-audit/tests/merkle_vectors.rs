//! The Merkle core against the RFC 6962 8-leaf set and every transparency-dev/merkle probe.
//!
//! Sources: `tests/vectors/rfc6962-merkle/README.md` (transparency-dev/merkle at
//! 417fb0c314750d94e53942e9f92e79b6d35915db; RFC 6962 §2.1, RFC 9162 §2.1,
//! draft-ietf-plants-merkle-tree-certs "Subtrees").

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use tradeguard_audit::merkle::{
    Hash, MemoryTree, ProofError, verify_consistency, verify_inclusion, verify_subtree_consistency,
    verify_subtree_inclusion,
};
use tradeguard_crypto::digest::sha256_parts;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/rfc6962-merkle")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

fn b64(v: &Value) -> Vec<u8> {
    STANDARD.decode(v.as_str().unwrap_or("")).unwrap()
}

/// A root: a real hash, or a placeholder mapped to a hash no real tree has (see README).
fn root(v: &Value) -> Hash {
    let bytes = b64(v);
    Hash::from_slice(&bytes)
        .unwrap_or_else(|_| Hash::new(sha256_parts(&[b"tradeguard-test-placeholder", &bytes])))
}

fn hash(v: &Value) -> Result<Hash, ProofError> {
    Hash::from_slice(&b64(v))
}

fn proof(v: &Value) -> Result<Vec<Hash>, ProofError> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.iter().map(hash).collect(),
        other => panic!("proof is {other}"),
    }
}

fn u(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} missing"))
}

fn check_inclusion(p: &Value) -> Result<(), ProofError> {
    verify_inclusion(
        u(p, "leafIdx"),
        u(p, "treeSize"),
        &hash(&p["leafHash"])?,
        &proof(&p["proof"])?,
        &root(&p["root"]),
    )
}

fn check_consistency(p: &Value) -> Result<(), ProofError> {
    verify_consistency(
        u(p, "size1"),
        u(p, "size2"),
        &proof(&p["proof"])?,
        &root(&p["root1"]),
        &root(&p["root2"]),
    )
}

fn check_subtree_inclusion(p: &Value) -> Result<(), ProofError> {
    let (s, e) = (u(p, "start"), u(p, "end"));
    verify_subtree_inclusion(
        u(p, "leafIdx"),
        s,
        e,
        &hash(&p["leafHash"])?,
        &proof(&p["proof"])?,
        &root(&p["root"]),
    )
}

fn check_subtree_consistency(p: &Value) -> Result<(), ProofError> {
    let (s, e, n) = (u(p, "start"), u(p, "end"), u(p, "size"));
    verify_subtree_consistency(
        s,
        e,
        n,
        &proof(&p["proof"])?,
        &root(&p["root1"]),
        &root(&p["root2"]),
    )
}

/// Runs every probe of `kind` whose `wantErr` is `want_err` and returns how many ran.
fn run_probes(kind: &str, want_err: bool, check: fn(&Value) -> Result<(), ProofError>) -> usize {
    let mut files = Vec::new();
    json_files(&vectors().join("testdata").join(kind), &mut files);
    let mut failures = Vec::new();
    let mut ran = 0;
    for file in &files {
        let name = file.strip_prefix(vectors()).unwrap().display().to_string();
        let probe: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        let wants_error = probe["wantErr"].as_bool().unwrap();
        let is_fail_named = file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("fail_");
        assert_eq!(
            is_fail_named, wants_error,
            "{name}: fail_ prefix and wantErr disagree"
        );
        if wants_error != want_err {
            continue;
        }
        ran += 1;
        let got = check(&probe);
        if got.is_err() != want_err {
            failures.push(format!("TC {name} ({}) failed: got {got:?}", probe["desc"]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran}:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{kind}: {ran} probes with wantErr={want_err} passed");
    ran
}

#[test]
fn inclusion_probes() {
    assert_eq!(run_probes("inclusion", false, check_inclusion), 6);
}

#[test]
fn fail_inclusion_probes() {
    assert_eq!(run_probes("inclusion", true, check_inclusion), 92);
}

#[test]
fn consistency_probes() {
    assert_eq!(run_probes("consistency", false, check_consistency), 6);
}

#[test]
fn fail_consistency_probes() {
    assert_eq!(run_probes("consistency", true, check_consistency), 92);
}

#[test]
fn subtree_inclusion_probes() {
    assert_eq!(
        run_probes("subtreeinclusion", false, check_subtree_inclusion),
        12
    );
}

#[test]
fn fail_subtree_inclusion_probes() {
    assert_eq!(
        run_probes("subtreeinclusion", true, check_subtree_inclusion),
        192
    );
}

#[test]
fn subtree_consistency_probes() {
    assert_eq!(
        run_probes("subtreeconsistency", false, check_subtree_consistency),
        12
    );
}

#[test]
fn fail_subtree_consistency_probes() {
    assert_eq!(
        run_probes("subtreeconsistency", true, check_subtree_consistency),
        106
    );
}

fn eight_leaf() -> Value {
    serde_json::from_slice(&std::fs::read(vectors().join("merkle-8leaf.json")).unwrap()).unwrap()
}

fn hex_hash(v: &Value) -> Hash {
    Hash::from_slice(&hex::decode(v.as_str().unwrap()).unwrap()).unwrap()
}

fn eight_leaf_tree(v: &Value) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for leaf in v["leaves"].as_array().unwrap() {
        tree.push(&hex::decode(leaf.as_str().unwrap()).unwrap())
            .unwrap();
    }
    tree
}

#[test]
fn eight_leaf_tree_heads_and_nodes() {
    let v = eight_leaf();
    let tree = eight_leaf_tree(&v);
    for (size, want) in v["root_hashes_by_tree_size"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(
            tree.root_at(size as u64).unwrap(),
            hex_hash(want),
            "TC{size} failed: root"
        );
    }
    for (i, want) in v["leaf_hashes"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            tree.leaf(i as u64).unwrap(),
            hex_hash(want),
            "TC{i} failed: leaf"
        );
    }
    for (level, nodes) in v["node_hashes_by_level"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        for (i, want) in nodes.as_array().unwrap().iter().enumerate() {
            let span = 1u64 << level;
            let got = tree
                .subtree_hash(i as u64 * span, (i as u64 + 1) * span)
                .unwrap();
            assert_eq!(got, hex_hash(want), "TC{level}/{i} failed: node");
        }
    }
}

#[test]
fn eight_leaf_inclusion_proofs_generate_and_verify() {
    let v = eight_leaf();
    let tree = eight_leaf_tree(&v);
    let mut checked = 0;
    for (i, case) in v["inclusion_proofs"].as_array().unwrap().iter().enumerate() {
        let size = u(case, "tree_size");
        let Some(index) = case["leaf_index"].as_u64() else {
            assert!(
                tree.inclusion_proof(0, size).is_err(),
                "TC{i} failed: (0,0) must be refused"
            );
            continue;
        };
        let want: Vec<Hash> = case["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(hex_hash)
            .collect();
        assert_eq!(
            tree.inclusion_proof(index, size).unwrap(),
            want,
            "TC{i} failed: proof"
        );
        verify_inclusion(
            index,
            size,
            &hex_hash(&case["leaf_hash"]),
            &want,
            &hex_hash(&case["root"]),
        )
        .unwrap_or_else(|e| panic!("TC{i} failed: {e}"));
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[test]
fn eight_leaf_consistency_proofs_generate_and_verify() {
    let v = eight_leaf();
    let tree = eight_leaf_tree(&v);
    let cases = v["consistency_proofs"].as_array().unwrap();
    for (i, case) in cases.iter().enumerate() {
        let (m, n) = (u(case, "size1"), u(case, "size2"));
        let want: Vec<Hash> = case["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(hex_hash)
            .collect();
        assert_eq!(
            tree.consistency_proof(m, n).unwrap(),
            want,
            "TC{i} failed: proof"
        );
        verify_consistency(
            m,
            n,
            &want,
            &hex_hash(&case["root1"]),
            &hex_hash(&case["root2"]),
        )
        .unwrap_or_else(|e| panic!("TC{i} failed: {e}"));
    }
    assert_eq!(cases.len(), 5);
}
