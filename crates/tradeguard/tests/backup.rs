//! `tradeguard backup` and `tradeguard restore`: a backup taken while the demo's gateway trades
//! restores into a data dir whose audit log verifies and whose vault holds the same sealed
//! credentials; the vault of a restored dir unlocks with the same passphrase; a damaged
//! archive, a path that leaves the data dir and a non-empty target are refused with nothing
//! written; a PostgreSQL-backed data dir is refused naming pg_dump.

mod support;
use support::*;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Exit code 2 and the stderr line.
fn refused(out: &Output, what: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    err
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn backup(dir: &Path, out: &Path) -> String {
    ok(
        &tg(&["backup", "--data-dir", s(dir), "--out", s(out)], None),
        "backup",
    )
}

fn restore(archive: &Path, dir: &Path) -> Output {
    tg(&["restore", s(archive), "--data-dir", s(dir)], None)
}

fn credentials(dir: &Path) -> Value {
    let out = ok(
        &tg(
            &["credentials", "--data-dir", s(dir), "list", "--json"],
            None,
        ),
        "credentials list",
    );
    serde_json::from_str(&out).unwrap()
}

fn audit_verify(dir: &Path) -> String {
    let out = ok(
        &tg(&["audit", "verify", "--data-dir", s(dir)], None),
        "audit verify",
    );
    assert!(out.starts_with("ok:"), "{out}");
    out
}

/// Event kinds of a data dir's audit log (`audit export`).
fn audit_kinds(dir: &Path, out: &Path) -> Vec<String> {
    let args = ["audit", "export", "--data-dir", s(dir), "--out", s(out)];
    if !tg(&args, None).status.success() {
        return Vec::new();
    }
    let text = std::fs::read_to_string(out).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| {
            let kind = v.get("kind").or_else(|| v.pointer("/entry/kind"))?;
            kind.as_str().map(str::to_owned)
        })
        .collect()
}

/// The demo, killed if the test fails before it ends.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn restores_a_backup_taken_mid_demo_and_verifies_the_audit_log_and_the_credentials() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let mut child = Command::new(BIN)
        .args(["demo", "--duration", "20", "--seed", "7", "--keep"])
        .arg("--data-dir")
        .arg(&dir)
        .env_remove("TRADEGUARD_DATA")
        .env_remove("TRADEGUARD_PASSPHRASE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the demo");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let drain = |r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let lines = BufReader::new(r).lines().map_while(Result::ok);
            lines.collect::<Vec<_>>().join("\n")
        })
    };
    let (out_text, err_text) = (drain(Box::new(stdout)), drain(Box::new(stderr)));
    let mut demo = Demo(child);

    // Wait until the gateway runs (its TLS certificate) and a trader's order is in the log.
    let poll = tmp.path().join("poll.jsonl");
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let started = dir.join("tls/cert.pem").is_file();
        if started && audit_kinds(&dir, &poll).iter().any(|k| k == "order.submit") {
            break;
        }
        assert!(
            demo.0.try_wait().unwrap().is_none(),
            "the demo ended before trading"
        );
        assert!(Instant::now() < deadline, "the demo never started trading");
        std::thread::sleep(Duration::from_millis(500));
    }

    let archive = tmp.path().join("mid-demo.tar");
    let said = backup(&dir, &archive);
    assert!(said.contains("VACUUM INTO"), "{said}");
    assert!(
        demo.0.try_wait().unwrap().is_none(),
        "the backup must be taken while the gateway runs"
    );
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(".mid-demo.tar"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    let status = demo.0.wait().unwrap();
    let (out_text, err_text) = (out_text.join().unwrap(), err_text.join().unwrap());
    assert!(status.success(), "demo failed: {out_text}\n{err_text}");

    let restored = tmp.path().join("restored");
    ok(&restore(&archive, &restored), "restore");
    audit_verify(&restored);
    let kinds = audit_kinds(&restored, &tmp.path().join("restored.jsonl"));
    assert!(kinds.iter().any(|k| k == "order.submit"), "{kinds:?}");

    let creds = credentials(&restored);
    let rows = creds.as_array().unwrap();
    assert!(!rows.is_empty(), "no credentials restored");
    assert_eq!(creds, credentials(&dir), "the demo's credentials");
    let text = creds.to_string();
    for exchange in ["binance", "coinbase", "kraken"] {
        assert!(text.contains(exchange), "no {exchange} credential: {text}");
    }
    assert_modes(&restored);
}

/// Directories 0700, files 0600, as `init` makes them.
fn assert_modes(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{}", dir.display());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_modes(&path);
        } else {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", path.display());
        }
    }
}

/// An initialised data dir holding one sealed credential; returns it and the passphrase file.
fn data_dir_with_a_credential(tmp: &Path) -> (PathBuf, PathBuf) {
    let dir = tmp.join("data");
    let pass = tmp.join("passphrase");
    std::fs::write(&pass, PASSPHRASE).unwrap();
    let init = ["init", "--data-dir", s(&dir), "--passphrase-file", s(&pass)];
    ok(&tg(&init, None), "init");
    let doc = json!({"exchange": "kraken", "api_key": "backup-test-key",
        "api_secret": "c2VjcmV0LWJ5dGVzLWZvci1hLWJhY2t1cC10ZXN0", "passphrase": null,
        "label": "backup test"});
    let seal = ["seal", "--recipient", s(&dir)];
    let envelope = ok(&tg(&seal, Some(&doc.to_string())), "seal");
    let env_file = tmp.join("kraken.envelope");
    std::fs::write(&env_file, envelope).unwrap();
    let import = [
        "credentials",
        "--data-dir",
        s(&dir),
        "import",
        "--envelope",
        s(&env_file),
        "--profile",
        "core",
        "--passphrase-file",
        s(&pass),
    ];
    ok(&tg(&import, None), "import");
    (dir, pass)
}

#[test]
fn restored_vault_unlocks_with_the_same_passphrase_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, pass) = data_dir_with_a_credential(tmp.path());
    let archive = tmp.path().join("b.tar");
    backup(&dir, &archive);
    let restored = tmp.path().join("nested/restored");
    ok(&restore(&archive, &restored), "restore");
    assert_eq!(credentials(&restored), credentials(&dir));
    assert_modes(&restored);

    let wrong = tmp.path().join("wrong");
    std::fs::write(&wrong, "not the passphrase at all").unwrap();
    let rotate = |p: &Path| {
        let args = ["credentials", "--data-dir", s(&restored), "rotate-kek"];
        tg(&[&args[..], &["--passphrase-file", s(p)]].concat(), None)
    };
    let err = refused(&rotate(&wrong), "wrong passphrase");
    assert!(err.contains("wrong passphrase"), "{err}");
    let out = ok(&rotate(&pass), "rotate-kek with the same passphrase");
    assert!(out.contains("1 data key(s) re-wrapped"), "{out}");
    audit_verify(&restored);
}

#[test]
fn a_changed_byte_in_the_archive_is_refused_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = data_dir_with_a_credential(tmp.path());
    let archive = tmp.path().join("b.tar");
    backup(&dir, &archive);
    let key = std::fs::read(dir.join("controller.key")).unwrap();
    let mut bytes = std::fs::read(&archive).unwrap();
    let at = bytes
        .windows(key.len())
        .position(|w| w == key)
        .expect("the key's bytes in the archive")
        + key.len() / 2;
    bytes[at] ^= 0x01;
    let damaged = tmp.path().join("damaged.tar");
    std::fs::write(&damaged, &bytes).unwrap();

    let target = tmp.path().join("restored");
    let err = refused(&restore(&damaged, &target), "damaged archive");
    assert!(
        err.contains("`controller.key` does not match its SHA-256"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert!(!target.exists(), "nothing may be written");
    assert_no_staging(tmp.path());

    // Cut short inside the database's bytes: refused as well.
    let original = std::fs::read(&archive).unwrap();
    std::fs::write(&damaged, &original[..original.len() / 2]).unwrap();
    let err = refused(&restore(&damaged, &target), "truncated archive");
    assert!(err.contains("nothing was written"), "{err}");
    assert!(!target.exists(), "nothing may be written");
    assert_no_staging(tmp.path());
}

fn assert_no_staging(parent: &Path) {
    let staging: Vec<_> = std::fs::read_dir(parent)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains(".restoring-"))
        .collect();
    assert!(staging.is_empty(), "staging left behind: {staging:?}");
}

/// A tar entry written with its raw name bytes (the tar crate's own path setters refuse `..`).
fn raw_entry(tar: &mut tar::Builder<Vec<u8>>, name: &str, kind: tar::EntryType, data: &[u8]) {
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o600);
    if kind == tar::EntryType::Symlink {
        h.set_link_name("/etc").unwrap();
    }
    h.set_cksum();
    tar.append(&h, data).unwrap();
}

fn sha256_hex(data: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn paths_leaving_the_data_dir_and_odd_entries_are_refused() {
    let cases = [
        ("data/../../evil", tar::EntryType::Regular, "path traversal"),
        (
            "data/tls/../../evil",
            tar::EntryType::Regular,
            "path traversal",
        ),
        ("/tmp/evil", tar::EntryType::Regular, "outside `data/`"),
        ("evil", tar::EntryType::Regular, "outside `data/`"),
        ("data/tls", tar::EntryType::Symlink, "not a regular file"),
        ("data/tradeguard.db-wal", tar::EntryType::Regular, "journal"),
    ];
    for (i, (name, kind, want)) in cases.iter().enumerate() {
        let tmp = tempfile::tempdir().unwrap();
        let db = b"not really a database";
        let evil = b"planted";
        let rel = name.strip_prefix("data/").unwrap_or(name);
        let manifest = json!({
            "format": "tradeguard-backup", "version": 1, "created_ms": 0,
            "created": "1970-01-01T00:00:00Z", "tradeguard_version": "0",
            "source": {"data_dir": "x", "database": "sqlite VACUUM INTO"},
            "files": [
                {"path": "tradeguard.db", "size": db.len(), "sha256": sha256_hex(db)},
                {"path": rel, "size": evil.len(), "sha256": sha256_hex(evil)},
            ]
        })
        .to_string();
        let mut tar = tar::Builder::new(Vec::new());
        raw_entry(&mut tar, "data/tradeguard.db", tar::EntryType::Regular, db);
        raw_entry(&mut tar, name, *kind, evil);
        raw_entry(
            &mut tar,
            "manifest.json",
            tar::EntryType::Regular,
            manifest.as_bytes(),
        );
        let archive = tmp.path().join("hostile.tar");
        std::fs::write(&archive, tar.into_inner().unwrap()).unwrap();
        let target = tmp.path().join("a/b/restored");
        let err = refused(&restore(&archive, &target), name);
        assert!(err.contains(want), "TC{} failed: {name}: {err}", i + 1);
        assert!(!tmp.path().join("evil").exists(), "TC{} wrote", i + 1);
        assert!(!tmp.path().join("a").exists(), "TC{} wrote", i + 1);
    }
}

#[test]
fn a_non_empty_target_is_refused_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = data_dir_with_a_credential(tmp.path());
    let archive = tmp.path().join("b.tar");
    backup(&dir, &archive);
    let target = tmp.path().join("busy");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("notes.txt"), "mine").unwrap();
    let err = refused(&restore(&archive, &target), "non-empty target");
    assert!(err.contains("is not empty"), "{err}");
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 1);
    assert_eq!(
        std::fs::read_to_string(target.join("notes.txt")).unwrap(),
        "mine"
    );
    // An empty directory (a mount point, say) is fine, and becomes owner-only.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::set_permissions(&empty, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    ok(&restore(&archive, &empty), "restore into an empty dir");
    assert_modes(&empty);
    assert_no_staging(&empty);
    assert_eq!(credentials(&empty), credentials(&dir));
    audit_verify(&empty);
}

#[test]
fn backup_refuses_a_postgres_data_dir_and_an_output_inside_the_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = data_dir_with_a_credential(tmp.path());
    let inside = dir.join("b.tar");
    let args = ["backup", "--data-dir", s(&dir), "--out", s(&inside)];
    let err = refused(&tg(&args, None), "output inside");
    assert!(err.contains("inside the data dir"), "{err}");
    assert!(!inside.exists());

    let config = tmp.path().join("pg.toml");
    std::fs::write(&config, "[store]\nurl = \"postgres://u:pw@db/tg\"\n").unwrap();
    let out = tmp.path().join("b.tar");
    let args = [
        "backup",
        "--data-dir",
        s(&dir),
        "--out",
        s(&out),
        "--config",
        s(&config),
    ];
    let err = refused(&tg(&args, None), "postgres");
    assert!(err.contains("pg_dump"), "{err}");
    assert!(!err.contains("pw@"), "the URL is not echoed: {err}");
    assert!(!out.exists());
}
