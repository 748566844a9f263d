//! C2SP signed-note and tlog-checkpoint against the published examples.
//!
//! Sources: `tests/vectors/c2sp-signed-note/README.md` (C2SP/C2SP 5ba5ee8, signed-note.md and
//! tlog-checkpoint.md; golang/mod fe2ec04, sumdb/note/note.go).

use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::Value;
use tradeguard_audit::checkpoint::{Checkpoint, SignedCheckpoint};
use tradeguard_audit::merkle::leaf_hash;
use tradeguard_audit::note::{
    Ed25519NoteSigner, Ed25519NoteVerifier, MlDsa65NoteSigner, MlDsa65NoteVerifier, Note,
    NoteError, NoteSigner, NoteVerifier,
};
use tradeguard_crypto::sign::{Ed25519SigningKey, MlDsa65SigningKey};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/c2sp-signed-note")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap()
}

fn example(id: &str) -> Value {
    let all: Value = serde_json::from_slice(&read("examples.json")).unwrap();
    all["examples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap()
        .clone()
}

/// Parsing gives the text and signature lines `examples.json` lists, and re-serializes exactly.
fn check_parse(file: &str, id: &str) -> Note {
    let bytes = read(file);
    let note = Note::parse(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
    let ex = example(id);
    assert_eq!(note.text(), ex["text"].as_str().unwrap(), "{file}: text");
    let sigs = ex["signatures"].as_array().unwrap();
    assert_eq!(
        note.signatures().len(),
        sigs.len(),
        "{file}: signature count"
    );
    for (i, (got, want)) in note.signatures().iter().zip(sigs).enumerate() {
        assert_eq!(
            got.name,
            want["key_name"].as_str().unwrap(),
            "{file} TC{i}: name"
        );
        assert_eq!(
            format!("{:08x}", got.key_id),
            want["key_id"].as_str().unwrap(),
            "{file} TC{i}: id"
        );
        assert_eq!(
            got.signature.len() as u64,
            want["signature_len"].as_u64().unwrap(),
            "{file} TC{i}"
        );
    }
    assert_eq!(
        note.to_text().as_bytes(),
        bytes.as_slice(),
        "{file}: round trip"
    );
    note
}

#[test]
fn vkey_example_verifies() {
    let note = check_parse("signed-note-vkey-example.note", "signed-note-vkey-example");
    let v = Ed25519NoteVerifier::from_vkey(
        example("signed-note-vkey-example")["vkey"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(note.verify(&[&v]).unwrap(), ["example.com/foo"]);
    assert_eq!(
        v.to_vkey(),
        example("signed-note-vkey-example")["vkey"]
            .as_str()
            .unwrap()
    );
}

#[test]
fn go_example_verifies_and_re_signing_reproduces_it() {
    let ex = example("go-sumdb-note-PeterNeumann");
    let note = check_parse("go-sumdb-PeterNeumann.note", "go-sumdb-note-PeterNeumann");
    let signer = Ed25519NoteSigner::from_skey(ex["skey"].as_str().unwrap()).unwrap();
    assert_eq!(signer.key_id(), 0xc74f_20a3);
    assert_eq!(signer.verifier().to_vkey(), ex["vkey"].as_str().unwrap());
    let v = Ed25519NoteVerifier::from_vkey(ex["vkey"].as_str().unwrap()).unwrap();
    note.verify(&[&v]).unwrap();
    let resigned = Note::sign(note.text(), &[&signer]).unwrap();
    assert_eq!(
        resigned.to_text().as_bytes(),
        read("go-sumdb-PeterNeumann.note").as_slice()
    );
}

#[test]
fn unkeyed_examples_parse() {
    check_parse("signed-note-intro.note", "signed-note-intro");
    let bytes = read("tlog-checkpoint-intro.note");
    check_parse("tlog-checkpoint-intro.note", "tlog-checkpoint-intro");
    let cp = SignedCheckpoint::parse(&bytes).unwrap();
    let want = &example("tlog-checkpoint-intro")["checkpoint"];
    assert_eq!(cp.unverified().origin(), want["origin"].as_str().unwrap());
    assert_eq!(cp.unverified().size(), want["tree_size"].as_u64().unwrap());
    assert_eq!(
        cp.unverified().root().to_hex(),
        want["root_hash_hex"].as_str().unwrap()
    );
}

#[test]
fn fail_altered_notes() {
    let ex = example("go-sumdb-note-PeterNeumann");
    let v = Ed25519NoteVerifier::from_vkey(ex["vkey"].as_str().unwrap()).unwrap();
    let good = String::from_utf8(read("go-sumdb-PeterNeumann.note")).unwrap();
    let cases = [
        good.replace("cryptography", "Cryptography"),
        good.replace("6KE6RyyBwJnAM=", "6KE6RyyBwJnAA="),
        good.replace("If you think", "If you thinkk"),
    ];
    for (i, text) in cases.iter().enumerate() {
        let got = Note::parse(text.as_bytes()).and_then(|n| n.verify(&[&v]).map(|_| ()));
        assert!(
            matches!(got, Err(NoteError::BadSignature { .. })),
            "TC{i} failed: {got:?}"
        );
    }
    // A different key under another name is ignored, so nothing trusted signed.
    let other = Ed25519NoteSigner::new("other", Ed25519SigningKey::generate().unwrap()).unwrap();
    let got = Note::parse(good.as_bytes())
        .unwrap()
        .verify(&[&other.verifier()]);
    assert_eq!(got, Err(NoteError::NoTrustedSignature { checked: 1 }));
}

#[test]
fn fail_bad_vkeys_and_skeys() {
    let cases = [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
        "PeterNeumann+c74f20a3",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ];
    for (i, vkey) in cases.iter().enumerate() {
        assert!(
            Ed25519NoteVerifier::from_vkey(vkey).is_err(),
            "TC{i} failed: {vkey}"
        );
    }
    assert!(
        Ed25519NoteSigner::from_skey(
            "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
        )
        .is_err()
    );
}

/// A verifier that shares name and key ID with the signer but holds another key.
struct Impostor(u32);

impl NoteVerifier for Impostor {
    fn name(&self) -> &str {
        "log.example/a"
    }
    fn key_id(&self) -> u32 {
        self.0
    }
    fn verify(&self, _: &[u8], _: &[u8]) -> bool {
        false
    }
}

#[test]
fn checkpoint_with_ed25519_and_mldsa_lines() {
    let origin = "log.example/a";
    let ed = Ed25519NoteSigner::new(origin, Ed25519SigningKey::generate().unwrap()).unwrap();
    let pq = MlDsa65NoteSigner::new(origin, MlDsa65SigningKey::generate().unwrap()).unwrap();
    let cp = Checkpoint::new(origin, 3, leaf_hash(b"x")).unwrap();
    let signed = cp.sign(&[&ed, &pq]).unwrap();
    let wire = signed.to_text();
    let parsed = SignedCheckpoint::parse(wire.as_bytes()).unwrap();
    assert_eq!(parsed.unverified(), &cp);
    // Ed25519 alone (the ML-DSA line is an unknown key, ignored), ML-DSA alone, and both.
    let (edv, pqv) = (ed.verifier(), pq.verifier());
    assert_eq!(parsed.clone().verify(&[&edv]).unwrap().signers(), [origin]);
    assert_eq!(parsed.clone().verify(&[&pqv]).unwrap().signers(), [origin]);
    assert_eq!(
        parsed
            .clone()
            .verify(&[&edv, &pqv])
            .unwrap()
            .signers()
            .len(),
        2
    );
    assert_eq!(MlDsa65NoteVerifier::from_vkey(&pqv.to_vkey()).unwrap(), pqv);
    assert_ne!(edv.key_id(), pqv.key_id());
    // A known name and ID whose signature fails rejects the whole note.
    let got = parsed.verify(&[&edv, &Impostor(pqv.key_id())]);
    assert!(matches!(got, Err(NoteError::BadSignature { .. })));
}

proptest! {
    #[test]
    fn note_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Note::parse(&bytes);
        let _ = SignedCheckpoint::parse(&bytes);
    }

    #[test]
    fn signed_notes_round_trip(lines in prop::collection::vec("[a-zA-Z0-9 /.+:_-]{1,40}", 1..6)) {
        let text = lines.join("\n") + "\n";
        let signer = Ed25519NoteSigner::from_skey(
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        ).unwrap();
        let note = Note::sign(&text, &[&signer]).unwrap();
        let parsed = Note::parse(note.to_text().as_bytes()).unwrap();
        prop_assert_eq!(&parsed, &note);
        prop_assert!(parsed.verify(&[&signer.verifier()]).is_ok());
    }
}
