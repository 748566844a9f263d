//! Tampering with the database itself (SQLite file edited behind the gateway's back): each
//! edit is found by `verify_store`, which names the entry, node or checkpoint.

use std::sync::Arc;

use sqlx::{Connection, Executor, SqliteConnection};
use tradeguard_audit::clock::ManualClock;
use tradeguard_audit::entry::Entry;
use tradeguard_audit::event::{AuditEvent, EventKind, Redactor};
use tradeguard_audit::keys::{LogKey, LogSigner};
use tradeguard_audit::log::AuditLog;
use tradeguard_audit::merkle::leaf_hash;
use tradeguard_audit::store_verify::{verify_store, verify_store_with};
use tradeguard_audit::verify::Finding;
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_store::Store;

struct Db {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    store: Store,
    keys: Vec<LogKey>,
}

/// A 60-entry log with checkpoints at 30 and 60.
async fn fresh() -> Db {
    fresh_with_tail(0).await
}

/// [`fresh`] plus `tail` entries appended after the last checkpoint (not yet signed).
async fn fresh_with_tail(tail: u64) -> Db {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tradeguard.db");
    let store = Store::open_sqlite(&path).await.unwrap();
    store.migrate().await.unwrap();
    let signer = LogSigner::new(
        "tradeguard.test/audit",
        Ed25519SigningKey::from_seed(&[8; 32]).unwrap(),
    )
    .unwrap();
    let redactor = Redactor::new(SecretBytes::new(vec![2; 32])).unwrap();
    let log = AuditLog::open(
        store.clone(),
        signer,
        redactor,
        Arc::new(ManualClock::at(0)),
    )
    .await
    .unwrap();
    let events: Vec<AuditEvent> = (0..60 + tail)
        .map(|i| {
            AuditEvent::of("order.submitted")
                .unwrap()
                .field("n", i)
                .unwrap()
        })
        .collect();
    log.append_batch(&events[..30]).await.unwrap();
    log.checkpoint().await.unwrap();
    log.append_batch(&events[30..60]).await.unwrap();
    log.checkpoint().await.unwrap();
    if tail > 0 {
        log.append_batch(&events[60..]).await.unwrap();
    }
    let keys = log.public_keys();
    Db {
        _dir: dir,
        path,
        store,
        keys,
    }
}

async fn raw(db: &Db) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}", db.path.display()))
        .await
        .unwrap()
}

async fn entry(db: &Db, seq: u64) -> Vec<u8> {
    db.store
        .audit_entries(seq, 1)
        .await
        .unwrap()
        .remove(0)
        .entry
}

async fn set_entry(conn: &mut SqliteConnection, seq: i64, bytes: &[u8]) {
    sqlx::query("UPDATE audit_entries SET entry = $1 WHERE seq = $2")
        .bind(bytes)
        .bind(seq)
        .execute(conn)
        .await
        .unwrap();
}

async fn finding(db: &Db) -> Finding {
    verify_store(&db.store, &db.keys)
        .await
        .unwrap()
        .expect_err("tampering was not detected")
}

#[tokio::test]
async fn pristine_store_verifies() {
    let db = fresh().await;
    let report = verify_store(&db.store, &db.keys).await.unwrap().unwrap();
    assert_eq!(
        (report.entries, report.checkpoints, report.signed_size),
        (60, 2, 60)
    );
}

#[tokio::test]
async fn fail_changed_entry_is_named() {
    let db = fresh().await;
    let changed = String::from_utf8(entry(&db, 17).await)
        .unwrap()
        .replace("\"n\":17", "\"n\":18");
    set_entry(&mut raw(&db).await, 17, changed.as_bytes()).await;
    assert_eq!(finding(&db).await.seq(), Some(17));
}

#[tokio::test]
async fn fail_deleted_entry_is_named() {
    let db = fresh().await;
    raw(&db)
        .await
        .execute("DELETE FROM audit_entries WHERE seq = 17")
        .await
        .unwrap();
    assert!(matches!(
        finding(&db).await,
        Finding::Removed { seq: 17, .. }
    ));
}

#[tokio::test]
async fn fail_swapped_entries_are_named() {
    let db = fresh().await;
    let (a, b) = (entry(&db, 20).await, entry(&db, 21).await);
    let mut conn = raw(&db).await;
    set_entry(&mut conn, 20, &b).await;
    set_entry(&mut conn, 21, &a).await;
    assert!(matches!(
        finding(&db).await,
        Finding::Reordered { seq: 20, .. }
    ));
}

#[tokio::test]
async fn fail_inserted_entry_is_named() {
    let db = fresh().await;
    let prev = leaf_hash(&entry(&db, 39).await);
    let forged = Entry {
        seq: 40,
        time_ms: 0,
        kind: EventKind::new("order.submitted").unwrap(),
        prev,
        fields: Default::default(),
    };
    let mut conn = raw(&db).await;
    conn.execute("UPDATE audit_entries SET seq = seq + 1000 WHERE seq >= 40")
        .await
        .unwrap();
    conn.execute("UPDATE audit_entries SET seq = seq - 999 WHERE seq >= 1000")
        .await
        .unwrap();
    sqlx::query("INSERT INTO audit_entries (seq, entry) VALUES (40, $1)")
        .bind(forged.encode().unwrap())
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(matches!(
        finding(&db).await,
        Finding::Inserted { line: 40, .. }
    ));
}

#[tokio::test]
async fn fail_truncated_log_is_named() {
    let db = fresh().await;
    raw(&db)
        .await
        .execute("DELETE FROM audit_entries WHERE seq >= 55")
        .await
        .unwrap();
    assert!(matches!(
        finding(&db).await,
        Finding::Truncated {
            first_missing: 55,
            signed_size: 60
        }
    ));
}

#[tokio::test]
async fn fail_rewritten_checkpoint_is_named() {
    let db = fresh().await;
    raw(&db).await.execute("UPDATE audit_checkpoints SET note = replace(note, '\n30\n', '\n29\n') WHERE tree_size = 30").await.unwrap();
    assert!(matches!(
        finding(&db).await,
        Finding::CheckpointInvalid { index: 0, .. }
    ));
}

#[tokio::test]
async fn fail_altered_tree_node_is_named() {
    let db = fresh().await;
    raw(&db)
        .await
        .execute("UPDATE audit_nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 3")
        .await
        .unwrap();
    assert_eq!(
        finding(&db).await,
        Finding::NodeMismatch {
            level: 2,
            index: 3,
            start: 12,
            end: 16
        }
    );
}

// After the last checkpoint nothing is signed yet; the leaf rows written with each entry, and
// each entry's link to the one before it, still name the entry. Regression tests for cases
// the random tamper test (tests/store_tamper_random.rs) once named wrongly.

async fn shift_up_from(conn: &mut SqliteConnection, seq: u64) {
    conn.execute(sqlx::AssertSqlSafe(format!(
        "UPDATE audit_entries SET seq = seq + 1000 WHERE seq >= {seq}"
    )))
    .await
    .unwrap();
    conn.execute("UPDATE audit_entries SET seq = seq - 999 WHERE seq >= 1000")
        .await
        .unwrap();
}

#[tokio::test]
async fn fail_forged_entry_before_the_last_unsigned_entry_is_named() {
    let db = fresh_with_tail(10).await;
    let forged = Entry {
        seq: 69,
        time_ms: 0,
        kind: EventKind::new("order.submitted").unwrap(),
        prev: leaf_hash(&entry(&db, 68).await),
        fields: Default::default(),
    };
    let mut conn = raw(&db).await;
    shift_up_from(&mut conn, 69).await;
    sqlx::query("INSERT INTO audit_entries (seq, entry) VALUES (69, $1)")
        .bind(forged.encode().unwrap())
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(matches!(
        finding(&db).await,
        Finding::Inserted { line: 69, .. }
    ));
}

#[tokio::test]
async fn fail_changed_second_to_last_unsigned_entry_is_named() {
    let db = fresh_with_tail(10).await;
    let changed = String::from_utf8(entry(&db, 68).await)
        .unwrap()
        .replace("\"n\":68", "\"n\":86");
    set_entry(&mut raw(&db).await, 68, changed.as_bytes()).await;
    assert_eq!(finding(&db).await.seq(), Some(68));
}

#[tokio::test]
async fn fail_copy_of_an_entry_inserted_in_the_unsigned_tail_is_named() {
    let db = fresh_with_tail(10).await;
    let copy = entry(&db, 62).await;
    let mut conn = raw(&db).await;
    shift_up_from(&mut conn, 66).await;
    sqlx::query("INSERT INTO audit_entries (seq, entry) VALUES (66, $1)")
        .bind(copy)
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(matches!(
        finding(&db).await,
        Finding::Inserted { line: 66, .. }
    ));
}

#[tokio::test]
async fn fail_entry_appended_behind_the_logs_back_is_named() {
    let db = fresh_with_tail(10).await;
    let forged = Entry {
        seq: 70,
        time_ms: 0,
        kind: EventKind::new("order.submitted").unwrap(),
        prev: leaf_hash(&entry(&db, 69).await),
        fields: Default::default(),
    };
    let mut conn = raw(&db).await;
    sqlx::query("INSERT INTO audit_entries (seq, entry) VALUES (70, $1)")
        .bind(forged.encode().unwrap())
        .execute(&mut conn)
        .await
        .unwrap();
    conn.execute("UPDATE audit_head SET tree_size = 71")
        .await
        .unwrap();
    assert!(matches!(
        finding(&db).await,
        Finding::Unsigned {
            line: 70,
            signed_size: 60
        }
    ));
}

#[tokio::test]
async fn fail_unsigned_tail_removed_with_the_head_moved_back_is_named() {
    let db = fresh_with_tail(10).await;
    let mut conn = raw(&db).await;
    conn.execute("DELETE FROM audit_entries WHERE seq >= 67")
        .await
        .unwrap();
    conn.execute("UPDATE audit_head SET tree_size = 67")
        .await
        .unwrap();
    assert_eq!(finding(&db).await, Finding::Removed { seq: 67, count: 3 });
}

#[tokio::test]
async fn fail_changed_leaf_row_of_an_unsigned_entry_is_named() {
    let db = fresh_with_tail(10).await;
    raw(&db)
        .await
        .execute("UPDATE audit_nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 64")
        .await
        .unwrap();
    // Entry 65 vouches for entry 64, so the row was altered.
    assert!(matches!(
        finding(&db).await,
        Finding::NodeMismatch {
            level: 0,
            index: 64,
            ..
        }
    ));
}

#[tokio::test]
async fn fail_rollback_past_the_newest_checkpoint_is_found_with_a_held_checkpoint() {
    let db = fresh().await;
    let held = db
        .store
        .audit_checkpoint_at(60)
        .await
        .unwrap()
        .unwrap()
        .note;
    let mut conn = raw(&db).await;
    for sql in [
        "DELETE FROM audit_checkpoints WHERE tree_size = 60",
        "DELETE FROM audit_entries WHERE seq >= 45",
        "DELETE FROM audit_nodes WHERE (idx + 1) * (1 << level) > 45",
        "UPDATE audit_head SET tree_size = 45",
    ] {
        conn.execute(sql).await.unwrap();
    }
    // Alone, the database is a consistent log of 45 entries signed up to 30: nothing in it
    // can show what was removed.
    let alone = verify_store(&db.store, &db.keys).await.unwrap().unwrap();
    assert_eq!((alone.entries, alone.signed_size), (45, 30));
    // The checkpoint an auditor kept shows it.
    let with_held = verify_store_with(&db.store, &db.keys, &[held])
        .await
        .unwrap()
        .expect_err("rollback not detected");
    assert_eq!(
        with_held,
        Finding::Truncated {
            first_missing: 45,
            signed_size: 60
        }
    );
}
