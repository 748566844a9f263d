//! The SQL store on both backends: migrations, meta, transactions, error classification.
//! PostgreSQL cases skip (SKIPPED line) when the server is absent, unless
//! TRADEGUARD_REQUIRE_SERVICES=1.

use tradeguard_store::testing::{self, execute, execute_in};
use tradeguard_store::{
    Backend, ConstraintKind, ErrorClass, MetaKey, Store, StoreError, StoreOptions,
};

fn key(k: &str) -> MetaKey {
    MetaKey::new(k).expect("valid test key")
}

async fn unmigrated(backend: Backend) -> Option<Store> {
    match backend {
        Backend::Sqlite => Some(testing::sqlite_unmigrated().await),
        Backend::Postgres => testing::postgres_unmigrated().await,
    }
}

async fn migrations_idempotent(backend: Backend) {
    let Some(store) = unmigrated(backend).await else {
        return;
    };
    assert_eq!(store.backend(), backend);
    store.migrate().await.expect("first migrate");
    store.migrate().await.expect("second migrate is a no-op");
    let applied = store.applied_migrations().await.expect("list applied");
    assert_eq!(applied, Store::known_migrations());
    assert_eq!(applied.first(), Some(&1));
}

#[tokio::test]
async fn migrations_idempotent_sqlite() {
    migrations_idempotent(Backend::Sqlite).await;
}

#[tokio::test]
async fn migrations_idempotent_postgres() {
    migrations_idempotent(Backend::Postgres).await;
}

async fn concurrent_migrations(backend: Backend) {
    let Some(store) = unmigrated(backend).await else {
        return;
    };
    let (a, b) = tokio::join!(store.migrate(), store.migrate());
    a.expect("first concurrent migrate");
    b.expect("second concurrent migrate");
    assert_eq!(
        store.applied_migrations().await.unwrap(),
        Store::known_migrations()
    );
}

#[tokio::test]
async fn concurrent_migrations_sqlite() {
    concurrent_migrations(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_migrations_postgres() {
    concurrent_migrations(Backend::Postgres).await;
}

tradeguard_store::backend_tests! {
    async fn meta_get_put_insert(store) {
        let k = key("report.format");
        assert_eq!(store.meta_get(&k).await.unwrap(), None);
        store.meta_put(&k, "1").await.unwrap();
        store.meta_put(&k, "2").await.unwrap();
        assert_eq!(store.meta_get(&k).await.unwrap().as_deref(), Some("2"));
        store.meta_insert(&key("other"), "").await.unwrap();
        assert_eq!(store.meta_get(&key("other")).await.unwrap().as_deref(), Some(""));
    }

    async fn installation_id_is_created_once(store) {
        let first = store.installation_id().await.unwrap();
        assert_eq!(first.len(), 32);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(store.installation_id().await.unwrap(), first);
        let (a, b) = tokio::join!(store.installation_id(), store.installation_id());
        assert_eq!((a.unwrap(), b.unwrap()), (first.clone(), first));
    }

    async fn tx_commit_is_visible(store) {
        let mut tx = store.begin().await.unwrap();
        tx.meta_put(&key("k"), "committed").await.unwrap();
        assert_eq!(tx.meta_get(&key("k")).await.unwrap().as_deref(), Some("committed"));
        tx.commit().await.unwrap();
        assert_eq!(store.meta_get(&key("k")).await.unwrap().as_deref(), Some("committed"));
    }

    async fn tx_dropped_rolls_back(store) {
        store.meta_put(&key("k"), "before").await.unwrap();
        {
            let mut tx = store.begin().await.unwrap();
            tx.meta_put(&key("k"), "during").await.unwrap();
            tx.meta_put(&key("new"), "x").await.unwrap();
        }
        assert_eq!(store.meta_get(&key("k")).await.unwrap().as_deref(), Some("before"));
        assert_eq!(store.meta_get(&key("new")).await.unwrap(), None);
        // The connection went back to the pool clean: a new transaction works.
        let mut tx = store.begin().await.unwrap();
        tx.meta_put(&key("k"), "after").await.unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(store.meta_get(&key("k")).await.unwrap().as_deref(), Some("before"));
    }

    async fn fail_unique_violation_is_definitive_with_constraint(store) {
        store.meta_insert(&key("dup"), "a").await.unwrap();
        let err = store.meta_insert(&key("dup"), "b").await.unwrap_err();
        assert!(err.is_unique_violation(), "{err}");
        assert_eq!(err.class(), ErrorClass::Definitive);
        let StoreError::Constraint { kind, constraint } = &err else {
            panic!("expected a constraint error, got {err}");
        };
        assert_eq!(*kind, ConstraintKind::Unique);
        let want = match store.backend() {
            Backend::Postgres => "meta_pkey",
            Backend::Sqlite => "meta.key",
        };
        assert_eq!(constraint, want);
        assert!(!err.to_string().contains("\"b\""), "value leaked: {err}");
        // The first value survived.
        assert_eq!(store.meta_get(&key("dup")).await.unwrap().as_deref(), Some("a"));
    }

    async fn fail_unique_violation_inside_tx(store) {
        store.meta_insert(&key("dup"), "a").await.unwrap();
        let mut tx = store.begin().await.unwrap();
        let err = tx.meta_insert(&key("dup"), "b").await.unwrap_err();
        assert!(err.is_unique_violation(), "{err}");
        drop(tx);
        assert_eq!(store.meta_get(&key("dup")).await.unwrap().as_deref(), Some("a"));
    }

    async fn fail_check_violation_names_constraint(store) {
        let err = execute(&store, "INSERT INTO meta (key, value) VALUES ('', 'v')")
            .await
            .unwrap_err();
        let StoreError::Constraint { kind, constraint } = &err else {
            panic!("expected a constraint error, got {err}");
        };
        assert_eq!((*kind, constraint.as_str()), (ConstraintKind::Check, "meta_key_length"));
    }

    async fn fail_not_null_violation(store) {
        let err = execute(&store, "INSERT INTO meta (key, value) VALUES ('k', NULL)")
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Constraint { kind: ConstraintKind::NotNull, .. }),
            "{err}"
        );
    }

    async fn fail_corrupt_row_names_table_column_key_not_value(store) {
        store.meta_put(&key("victim"), "canary-SECRET-4242").await.unwrap();
        // SQLite: a blob in the TEXT column. PostgreSQL: the column retyped under us.
        let corrupt = match store.backend() {
            Backend::Sqlite => {
                "UPDATE meta SET value = x'63616e6172792d5345435245542d34323432' WHERE key = 'victim'"
            }
            Backend::Postgres => {
                "ALTER TABLE meta ALTER COLUMN value TYPE BYTEA USING convert_to(value, 'UTF8')"
            }
        };
        execute(&store, corrupt).await.unwrap();
        let err = store.meta_get(&key("victim")).await.unwrap_err();
        let StoreError::CorruptRow { table, column, key: row_key, reason } = &err else {
            panic!("expected a corrupt-row error, got {err}");
        };
        assert_eq!((table.as_str(), column.as_str(), row_key.as_str()), ("meta", "value", "victim"));
        assert!(reason.contains("expected TEXT"), "{reason}");
        assert_eq!(err.class(), ErrorClass::Definitive);
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("canary") && !shown.contains("99, 97"), "value leaked: {shown}");
    }
}

/// Invalid UTF-8 in a TEXT column fails while the row is fetched, before any decoder.
#[tokio::test]
async fn fail_invalid_utf8_text_is_corrupt_row_sqlite() {
    let store = testing::sqlite().await;
    execute(
        &store,
        "INSERT INTO meta (key, value) VALUES ('bad', CAST(x'ff00fe' AS TEXT))",
    )
    .await
    .unwrap();
    let err = store.meta_get(&key("bad")).await.unwrap_err();
    let StoreError::CorruptRow { table, key, .. } = &err else {
        panic!("expected a corrupt-row error, got {err}");
    };
    assert_eq!((table.as_str(), key.as_str()), ("meta", "bad"));
}

#[tokio::test]
async fn sqlite_busy_is_transient_contention() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.db");
    let holder = Store::open_sqlite(&path).await.unwrap();
    holder.migrate().await.unwrap();
    let impatient = Store::open_sqlite_with(
        &path,
        StoreOptions {
            sqlite_busy_timeout: std::time::Duration::from_millis(50),
            ..StoreOptions::default()
        },
    )
    .await
    .unwrap();
    let held = holder.begin().await.unwrap();
    let err = impatient.begin().await.unwrap_err();
    assert!(matches!(err, StoreError::Contention { .. }), "{err}");
    assert!(err.is_transient());
    drop(held);
    impatient
        .begin()
        .await
        .expect("free after the holder rolled back");
}

#[tokio::test]
async fn postgres_lock_timeout_is_transient_contention() {
    let Some(store) = testing::postgres().await else {
        return;
    };
    store.meta_put(&key("k"), "0").await.unwrap();
    let mut holder = store.begin().await.unwrap();
    holder.meta_put(&key("k"), "1").await.unwrap();
    let mut waiter = store.begin().await.unwrap();
    execute_in(&mut waiter, "SET LOCAL lock_timeout = '100ms'")
        .await
        .unwrap();
    let err = waiter.meta_put(&key("k"), "2").await.unwrap_err();
    assert!(
        matches!(err, StoreError::Contention { ref code } if code == "55P03"),
        "{err}"
    );
    assert!(err.is_transient());
    waiter.rollback().await.unwrap();
    holder.rollback().await.unwrap();
}

#[tokio::test]
async fn sqlite_file_settings_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new/../settings.db");
    std::fs::create_dir(dir.path().join("new")).unwrap();
    let store = Store::open_sqlite(&path).await.unwrap();
    assert!(dir.path().join("settings.db").exists(), "file created");
    store.migrate().await.unwrap();
    // PRAGMA values read back through the public surface: WAL leaves a -wal file on write.
    store.meta_put(&key("k"), "v").await.unwrap();
    assert!(
        dir.path().join("settings.db-wal").exists(),
        "WAL journal in use"
    );
    drop(store);
    // Reopening keeps data and installation id.
    let again = Store::open_sqlite(&path).await.unwrap();
    again.migrate().await.unwrap();
    assert_eq!(
        again.meta_get(&key("k")).await.unwrap().as_deref(),
        Some("v")
    );
}

#[tokio::test]
async fn fail_unreachable_postgres_is_transient() {
    // Port 1 on localhost: nothing listens there.
    let options = StoreOptions {
        acquire_timeout: std::time::Duration::from_secs(2),
        ..StoreOptions::default()
    };
    let err = Store::connect_with("postgres://root@127.0.0.1:1/test", options)
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert!(err.to_string().contains("postgres unavailable"), "{err}");
}

#[tokio::test]
async fn fail_bad_urls_are_config_errors() {
    let cases = [
        "mysql://x/y",
        "nonsense",
        "sqlite::memory:",
        "sqlite://x.db?mode=memory",
    ];
    for (i, url) in cases.iter().enumerate() {
        let err = Store::connect(url).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Config { .. }),
            "TC{} failed: {err}",
            i + 1
        );
    }
}
