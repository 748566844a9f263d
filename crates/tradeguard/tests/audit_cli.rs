//! `tradeguard audit` as an auditor runs it: on a data dir and on an export, pristine and
//! tampered (the database file edited byte-wise behind the gateway's back, an exported line
//! changed), with the exit status and the one line that names the entry.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use tradeguard_audit::clock::ManualClock;
use tradeguard_audit::event::{AuditEvent, Redactor};
use tradeguard_audit::keys::LogSigner;
use tradeguard_audit::log::AuditLog;
use tradeguard_crypto::did::encode_ed25519_did;
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_store::Store;

const ORIGIN: &str = "tradeguard.test/audit";

/// A data dir whose log has 30 entries (`{"n":i}`), checkpointed at 30; returns the key's
/// did:key.
fn data_dir(dir: &Path) -> String {
    data_dir_of(dir, 30)
}

/// [`data_dir`] with `n` entries.
fn data_dir_of(dir: &Path, n: u64) -> String {
    let key = Ed25519SigningKey::from_seed(&[7; 32]).unwrap();
    let did = encode_ed25519_did(&key.verifying_key());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open_sqlite(&dir.join("tradeguard.db"))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let signer = LogSigner::new(ORIGIN, key).unwrap();
        let redactor = Redactor::new(SecretBytes::new(vec![6; 32])).unwrap();
        let clock = Arc::new(ManualClock::at(1_795_395_723_456));
        let log = AuditLog::open(store.clone(), signer, redactor, clock)
            .await
            .unwrap();
        let events: Vec<AuditEvent> = (0..n)
            .map(|i| {
                AuditEvent::of("order.filled")
                    .unwrap()
                    .field("n", i)
                    .unwrap()
            })
            .collect();
        log.append_batch(&events).await.unwrap();
        log.checkpoint().await.unwrap();
        store.close().await;
    });
    did
}

fn audit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradeguard"))
        .arg("audit")
        .args(args)
        .env_remove("TRADEGUARD_DATA")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Replaces every occurrence of `from` in the file with `to` (same length): SQLite may keep
/// a stale copy of a page besides the live one.
fn edit_bytes(path: &Path, from: &str, to: &str) {
    let mut bytes = std::fs::read(path).unwrap();
    let hits: Vec<usize> = bytes
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from.as_bytes())
        .map(|(i, _)| i)
        .collect();
    assert!(!hits.is_empty(), "{from} not found in {}", path.display());
    for at in hits {
        bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn pristine_data_dir_and_export_verify() {
    let dir = tempfile::tempdir().unwrap();
    let did = data_dir(dir.path());
    let d = dir.path().to_str().unwrap();

    let out = audit(&["verify", "--data-dir", d, "--key", &did]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with(
        "ok: 30 entries, 1 checkpoint(s) signed by tradeguard.test/audit (latest: tree size 30"
    ));

    // No --key: the keys stored with the log, and a warning that says what that proves.
    let out = audit(&["verify", "--data-dir", d, "--json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr)
            .starts_with("warning: no --key given; trusting the keys stored in the data dir")
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["ok"].as_bool(), report["entries"].as_u64()),
        (Some(true), Some(30))
    );
    assert_eq!(report["key_source"], "audit.vkeys");

    let out = audit(&["checkpoint", "--data-dir", d]);
    assert!(text(&out.stdout).starts_with(&format!("{ORIGIN}\n30\n")));

    let out = audit(&["proof", "--data-dir", d, "--seq", "3"]);
    let proof: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (proof["type"].as_str(), proof["tree_size"].as_u64()),
        (Some("inclusion"), Some(30))
    );
    let out = audit(&["proof", "--data-dir", d, "--from", "7", "--to", "30"]);
    let proof: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(proof["type"], "consistency");

    let export = dir.path().join("audit.jsonl");
    let out = audit(&["export", "--data-dir", d, "--out", export.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = audit(&["verify", "--log", export.to_str().unwrap(), "--key", &did]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn fail_tampered_database_names_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let did = data_dir(dir.path());
    let db = dir.path().join("tradeguard.db");
    edit_bytes(&db, "{\"n\":12}", "{\"n\":21}");
    let out = audit(&[
        "verify",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--key",
        &did,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: audit log does not verify: entry 12 was changed (its hash no longer matches the prev link of the entry after it)\n"
    );
}

#[test]
fn fail_tampered_export_names_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let did = data_dir(dir.path());
    let export = dir.path().join("audit.jsonl");
    let e = export.to_str().unwrap();
    audit(&[
        "export",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--out",
        e,
    ]);
    let lines: Vec<String> = std::fs::read_to_string(&export)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let mut swapped = lines.clone();
    swapped.swap(4, 5);
    std::fs::write(&export, swapped.join("\n") + "\n").unwrap();
    let out = audit(&["verify", "--log", e, "--key", &did]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: audit log does not verify: entry 4 was reordered: found at line 5\n"
    );
    // An export cannot vouch for itself: --key is required.
    let out = audit(&["verify", "--log", e]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--log needs --key"));
}

#[test]
fn fail_missing_data_dir_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let out = audit(&["verify", "--data-dir", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("tradeguard.db not found; pass --data-dir DIR"));
    assert!(!missing.exists());
}

#[test]
fn fail_rolled_back_log_is_found_with_a_kept_checkpoint() {
    // An auditor kept the checkpoint at 30; later the operator serves a log of 25 entries,
    // validly signed (the same key re-signed a shorter history).
    let (kept_dir, rolled_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let did = data_dir(kept_dir.path());
    data_dir_of(rolled_dir.path(), 25);
    let kept = kept_dir.path().join("kept.note");
    let out = audit(&[
        "checkpoint",
        "--data-dir",
        kept_dir.path().to_str().unwrap(),
    ]);
    std::fs::write(&kept, &out.stdout).unwrap();
    let export = rolled_dir.path().join("audit.jsonl");
    let e = export.to_str().unwrap();
    audit(&[
        "export",
        "--data-dir",
        rolled_dir.path().to_str().unwrap(),
        "--out",
        e,
    ]);

    let alone = audit(&["verify", "--log", e, "--key", &did]);
    assert_eq!(
        alone.status.code(),
        Some(0),
        "alone, the shorter log is self-consistent"
    );
    let out = audit(&[
        "verify",
        "--log",
        e,
        "--key",
        &did,
        "--checkpoint",
        kept.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: audit log does not verify: entries from 25 on were removed: the log has 25 entries but checkpoint signs 30\n"
    );
}
