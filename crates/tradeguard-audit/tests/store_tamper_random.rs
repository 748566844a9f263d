//! Tampering with a stored log: 1,000 random modifications of the SQLite database behind the
//! log (a changed byte, a deleted, inserted, swapped or truncated entry, a rewritten
//! checkpoint, and a changed tree node) are all detected by `verify_store` (what `tradeguard
//! audit verify --data-dir` runs), and it names the right entry, checkpoint or node.
//!
//! Each case edits the database with plain SQL, as someone with the file would, verifies,
//! then restores the pristine rows. `TAMPER_SEED=<u64>` replays another sequence.
//!
//! Not covered, because nothing can detect it: removing entries after the last checkpoint
//! together with their tree rows and the head (the state before they were appended). An
//! auditor who fetched a later checkpoint, or frequent checkpoints, close that window.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::Map;
use sqlx::{Connection, Executor, SqliteConnection};
use tradeguard_audit::clock::ManualClock;
use tradeguard_audit::entry::Entry;
use tradeguard_audit::event::{AuditEvent, EventKind, Redactor};
use tradeguard_audit::keys::{LogKey, LogSigner};
use tradeguard_audit::log::AuditLog;
use tradeguard_audit::merkle::{empty_root, leaf_hash};
use tradeguard_audit::store_verify::verify_store;
use tradeguard_audit::verify::Finding;
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_store::Store;

const ENTRIES: u64 = 120;
/// Checkpoints are made at these sizes; the 10 entries after the last are not yet signed, as
/// in a live log between two checkpoints.
const CHECKPOINTS: [u64; 3] = [40, 97, 110];
const MODIFICATIONS: usize = 1000;
const TABLES: [&str; 4] = [
    "audit_entries",
    "audit_nodes",
    "audit_checkpoints",
    "audit_head",
];

#[derive(Debug)]
enum Expect {
    /// The finding names this entry.
    Entry(u64),
    /// The finding names an inserted line among these (a copy of a neighbour cannot be told
    /// from the neighbour itself).
    Line(Vec<u64>),
    /// The finding is about a checkpoint.
    Checkpoint,
    /// The finding names this tree node.
    Node(u8, u64),
}

fn named_right(finding: &Finding, expect: &Expect) -> bool {
    match (expect, finding) {
        (Expect::Checkpoint, f) => matches!(f, Finding::CheckpointInvalid { .. }),
        (Expect::Line(ok), Finding::Inserted { line, .. } | Finding::Unsigned { line, .. }) => {
            ok.contains(line)
        }
        (Expect::Line(_), _) => false,
        (Expect::Node(l, i), Finding::NodeMismatch { level, index, .. }) => {
            (l, i) == (level, index)
        }
        (Expect::Node(..), _) => false,
        (Expect::Entry(seq), f) => f.seq() == Some(*seq),
    }
}

struct Db {
    _dir: tempfile::TempDir,
    store: Store,
    raw: SqliteConnection,
    keys: Vec<LogKey>,
    entries: Vec<Vec<u8>>,
}

async fn build() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tradeguard.db");
    let store = Store::open_sqlite(&path).await.unwrap();
    store.migrate().await.unwrap();
    let signer = LogSigner::new(
        "tradeguard.test/audit",
        Ed25519SigningKey::from_seed(&[11; 32]).unwrap(),
    )
    .unwrap();
    let redactor = Redactor::new(SecretBytes::new(vec![12; 32])).unwrap();
    let clock = Arc::new(ManualClock::at(1_795_395_723_456));
    let log = AuditLog::open(store.clone(), signer, redactor, clock.clone())
        .await
        .unwrap();
    let kinds = ["auth.success", "order.submitted", "order.filled", "halt"];
    for i in 0..ENTRIES {
        let event = AuditEvent::of(kinds[i as usize % kinds.len()])
            .unwrap()
            .field("qty", format!("0.{i}"))
            .unwrap()
            .sensitive("api_key_id", &format!("key-{}", i % 5))
            .unwrap();
        log.append(&event).await.unwrap();
        clock.advance(750);
        if CHECKPOINTS.contains(&(i + 1)) {
            log.checkpoint().await.unwrap();
        }
    }
    let entries = store
        .audit_entries(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry)
        .collect();
    let mut raw = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    for t in TABLES {
        raw.execute(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE pristine_{t} AS SELECT * FROM {t}"
        )))
        .await
        .unwrap();
    }
    Db {
        _dir: dir,
        keys: log.public_keys(),
        store,
        raw,
        entries,
    }
}

async fn restore(raw: &mut SqliteConnection) {
    let mut sql = String::from("BEGIN;");
    for t in TABLES {
        sql.push_str(&format!(
            "DELETE FROM {t}; INSERT INTO {t} SELECT * FROM pristine_{t};"
        ));
    }
    sql.push_str("COMMIT;");
    raw.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
}

async fn set_entry(raw: &mut SqliteConnection, seq: u64, bytes: &[u8]) {
    sqlx::query("UPDATE audit_entries SET entry = $1 WHERE seq = $2")
        .bind(bytes)
        .bind(seq as i64)
        .execute(raw)
        .await
        .unwrap();
}

async fn exec(raw: &mut SqliteConnection, sql: String) {
    raw.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
}

/// A well-formed entry the log never wrote, placed as entry `seq` after `prev`.
fn forged(seq: u64, prev: tradeguard_audit::merkle::Hash, rng: &mut ChaCha20Rng) -> Vec<u8> {
    let mut fields = Map::new();
    fields.insert(
        "qty".into(),
        format!("{}", rng.random_range(1..1000)).into(),
    );
    Entry {
        seq,
        time_ms: 1_795_395_800_000,
        kind: EventKind::new("order.submitted").unwrap(),
        prev,
        fields,
    }
    .encode()
    .unwrap()
}

/// Applies one random modification; returns what it was and what verify must name.
async fn tamper(db: &mut Db, rng: &mut ChaCha20Rng) -> (&'static str, Expect) {
    let n = ENTRIES;
    let raw = &mut db.raw;
    match rng.random_range(0..7) {
        0 => {
            let p = rng.random_range(0..n);
            let mut bytes = db.entries[p as usize].clone();
            let at = rng.random_range(0..bytes.len());
            bytes[at] ^= rng.random_range(1..=255u8);
            set_entry(raw, p, &bytes).await;
            ("changed byte", Expect::Entry(p))
        }
        1 => {
            let p = rng.random_range(0..n);
            exec(raw, format!("DELETE FROM audit_entries WHERE seq = {p}")).await;
            ("deleted entry", Expect::Entry(p))
        }
        2 => {
            let p = rng.random_range(0..=n);
            let line = if rng.random_bool(0.5) {
                let prev = p
                    .checked_sub(1)
                    .map_or_else(empty_root, |q| leaf_hash(&db.entries[q as usize]));
                forged(p, prev, rng)
            } else {
                db.entries[rng.random_range(0..n) as usize].clone()
            };
            let same: Vec<u64> = (0..n).filter(|&q| db.entries[q as usize] == line).collect();
            exec(
                raw,
                format!("UPDATE audit_entries SET seq = seq + 100000 WHERE seq >= {p}"),
            )
            .await;
            exec(
                raw,
                "UPDATE audit_entries SET seq = seq - 99999 WHERE seq >= 100000".into(),
            )
            .await;
            sqlx::query("INSERT INTO audit_entries (seq, entry) VALUES ($1, $2)")
                .bind(p as i64)
                .bind(line)
                .execute(&mut *raw)
                .await
                .unwrap();
            if rng.random_bool(0.5) {
                // A careful forger also moves the head.
                exec(
                    raw,
                    "UPDATE audit_head SET tree_size = tree_size + 1".into(),
                )
                .await;
            }
            let mut ok = vec![p];
            ok.extend(same.iter().filter(|&&q| q + 1 == p));
            ok.extend(same.iter().filter(|&&q| q == p).map(|q| q + 1));
            ("inserted entry", Expect::Line(ok))
        }
        3 => {
            let p = rng.random_range(0..n - 1);
            let (a, b) = (&db.entries[p as usize], &db.entries[p as usize + 1]);
            set_entry(raw, p, b).await;
            set_entry(raw, p + 1, a).await;
            ("swapped entries", Expect::Entry(p))
        }
        4 => {
            let m = rng.random_range(1..=5);
            exec(
                raw,
                format!("DELETE FROM audit_entries WHERE seq >= {}", n - m),
            )
            .await;
            if rng.random_bool(0.5) {
                exec(raw, format!("UPDATE audit_head SET tree_size = {}", n - m)).await;
            }
            ("truncated log", Expect::Entry(n - m))
        }
        5 => {
            let size = CHECKPOINTS[rng.random_range(0..CHECKPOINTS.len())];
            let note: String =
                sqlx::query_scalar("SELECT note FROM audit_checkpoints WHERE tree_size = $1")
                    .bind(size as i64)
                    .fetch_one(&mut *raw)
                    .await
                    .unwrap();
            let rewritten = rewrite_checkpoint(&note, size, rng);
            sqlx::query("UPDATE audit_checkpoints SET note = $1 WHERE tree_size = $2")
                .bind(rewritten)
                .bind(size as i64)
                .execute(&mut *raw)
                .await
                .unwrap();
            ("rewritten checkpoint", Expect::Checkpoint)
        }
        _ => {
            let level = rng.random_range(0..7u8);
            let index = rng.random_range(0..n >> level);
            let hash: [u8; 32] = rng.random();
            sqlx::query("UPDATE audit_nodes SET hash = $1 WHERE level = $2 AND idx = $3")
                .bind(hash.as_slice())
                .bind(i64::from(level))
                .bind(index as i64)
                .execute(&mut *raw)
                .await
                .unwrap();
            // The last entry's leaf row is all that vouches for an unsigned last entry: a
            // change to either is named as a change to the entry.
            let expect = if (level, index) == (0, n - 1) {
                Expect::Entry(index)
            } else {
                Expect::Node(level, index)
            };
            ("changed tree node", expect)
        }
    }
}

/// A checkpoint with its size, its root or a signature byte changed.
fn rewrite_checkpoint(note: &str, size: u64, rng: &mut ChaCha20Rng) -> String {
    match rng.random_range(0..3) {
        0 => note.replacen(
            &format!("\n{size}\n"),
            &format!("\n{}\n", size + rng.random_range(1..50)),
            1,
        ),
        1 => {
            let root = note.split('\n').nth(2).unwrap();
            let other = leaf_hash(&rng.random::<[u8; 8]>()).to_base64();
            note.replacen(root, &other, 1)
        }
        _ => {
            let sig_at = note.rfind(' ').unwrap() + 10;
            let mut b = note.as_bytes().to_vec();
            b[sig_at] = if b[sig_at] == b'A' { b'B' } else { b'A' };
            String::from_utf8(b).unwrap()
        }
    }
}

#[tokio::test]
async fn a_thousand_random_modifications_of_a_stored_log_are_detected_and_named() {
    let mut db = build().await;
    let report = verify_store(&db.store, &db.keys).await.unwrap().unwrap();
    assert_eq!(
        (report.entries, report.checkpoints),
        (ENTRIES, CHECKPOINTS.len())
    );

    let seed = std::env::var("TAMPER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0a0d);
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (mut detected, mut named) = (0, 0);
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    let mut wrong = Vec::new();
    for case in 0..MODIFICATIONS {
        let (what, expect) = tamper(&mut db, &mut rng).await;
        *kinds.entry(what).or_default() += 1;
        match verify_store(&db.store, &db.keys).await.unwrap() {
            Ok(_) => wrong.push(format!("TC{case} ({what}): not detected")),
            Err(finding) => {
                detected += 1;
                if named_right(&finding, &expect) {
                    named += 1;
                } else {
                    wrong.push(format!(
                        "TC{case} ({what}): expected {expect:?}, got `{finding}`"
                    ));
                }
            }
        }
        restore(&mut db.raw).await;
    }
    println!(
        "stored-log tampering (seed {seed:#x}): {detected}/{MODIFICATIONS} modifications detected, \
         {named}/{MODIFICATIONS} named the right entry, checkpoint or node; by kind: {kinds:?}"
    );
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    verify_store(&db.store, &db.keys)
        .await
        .unwrap()
        .expect("restored log verifies");
}
