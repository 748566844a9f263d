//! [`Store::snapshot_to`]: a consistent copy of a live SQLite database in one file.
//!
//! A file copy of a database in WAL mode is not a backup: the recent commits live in the
//! `-wal` file, and a copy taken while the gateway writes can tear. SQLite's `VACUUM INTO`
//! reads the database inside one read transaction (which in WAL mode never blocks the writers
//! nor waits for them) and writes a compacted, self-contained copy of that state.

use std::path::Path;

use crate::{Backend, Result, Store, StoreError};

impl Store {
    /// Writes a consistent snapshot of this SQLite database (every transaction committed when
    /// the snapshot started, nothing later) to `path`, which must not exist or be empty; the
    /// caller creates it first to choose its mode. The copy holds no `-wal` file of its own.
    ///
    /// PostgreSQL is refused with [`StoreError::Config`]: take its snapshot with `pg_dump`,
    /// which reads every table in one transaction.
    pub async fn snapshot_to(&self, path: &Path) -> Result<()> {
        if self.backend() == Backend::Postgres {
            return Err(StoreError::Config {
                reason: "a PostgreSQL database is not snapshotted by tradeguard; back it up with `pg_dump` (one consistent transaction) and restore it with `pg_restore`".into(),
            });
        }
        let target = path.to_str().ok_or(StoreError::InvalidInput {
            what: "snapshot path",
            rule: "must be valid UTF-8",
        })?;
        let mut conn = self.acquire().await?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::MetaKey;

    use super::*;

    async fn meta(store: &Store, key: &str) -> Option<String> {
        store.meta_get(&MetaKey::new(key).unwrap()).await.unwrap()
    }

    /// The snapshot holds what was committed, not a write still in flight, and taking it
    /// does not wait for the writer (WAL readers never block).
    #[tokio::test]
    async fn snapshot_holds_committed_rows_only_while_a_write_is_open() {
        let store = crate::testing::sqlite().await;
        store
            .meta_put(&MetaKey::new("committed").unwrap(), "yes")
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.meta_put(&MetaKey::new("in_flight").unwrap(), "no")
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snap.db");
        store.snapshot_to(&path).await.unwrap();
        tx.commit().await.unwrap();

        let snap = Store::open_sqlite(&path).await.unwrap();
        assert_eq!(meta(&snap, "committed").await.as_deref(), Some("yes"));
        assert_eq!(meta(&snap, "in_flight").await, None);
        assert_eq!(meta(&store, "in_flight").await.as_deref(), Some("no"));
    }

    #[tokio::test]
    async fn snapshot_refuses_an_existing_database_file() {
        let store = crate::testing::sqlite().await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snap.db");
        store.snapshot_to(&path).await.unwrap();
        let err = store.snapshot_to(&path).await.unwrap_err();
        assert!(matches!(err, StoreError::Database { .. }), "{err}");
    }

    #[tokio::test]
    async fn postgres_is_refused_naming_pg_dump() {
        let Some(store) = crate::testing::postgres().await else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let err = store
            .snapshot_to(&dir.path().join("x.db"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("pg_dump"), "{err}");
        assert!(!dir.path().join("x.db").exists());
    }
}
