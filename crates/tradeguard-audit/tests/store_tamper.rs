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
use tradeguard_audit::store_verify::verify_store;
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
    let events: Vec<AuditEvent> = (0..60u64)
        .map(|i| {
            AuditEvent::of("order.submitted")
                .unwrap()
                .field("n", i)
                .unwrap()
        })
        .collect();
    log.append_batch(&events[..30]).await.unwrap();
    log.checkpoint().await.unwrap();
    log.append_batch(&events[30..]).await.unwrap();
    log.checkpoint().await.unwrap();
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
