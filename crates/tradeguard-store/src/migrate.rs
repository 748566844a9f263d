//! One set of portable migrations (`migrations/NNNN_*.sql`) for SQLite and PostgreSQL.

use sqlx::migrate::{MigrateError, Migrator};

use crate::row::RowDecoder;
use crate::{Backend, Result, Store, StoreError};

/// The migrations embedded at build time from `crates/tradeguard-store/migrations`.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Applies every embedded migration not yet applied, each in its own transaction. Running
    /// it again is a no-op; concurrent runs from several replicas are serialised (PostgreSQL
    /// advisory lock, SQLite write lock).
    pub async fn migrate(&self) -> Result<()> {
        let backend = self.backend();
        match backend {
            Backend::Postgres => MIGRATOR
                .run(self.pool())
                .await
                .map_err(|e| map_migrate_error(backend, e)),
            Backend::Sqlite => {
                // sqlx takes no lock on SQLite: run everything inside one write transaction
                // (each migration becomes a savepoint), so concurrent runs queue up.
                let mut tx = self.begin().await?;
                MIGRATOR
                    .run_direct(None, tx.conn(), false)
                    .await
                    .map_err(|e| map_migrate_error(backend, e))?;
                tx.commit().await
            }
        }
    }

    /// Versions of the migrations applied to this database, ascending.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>> {
        let mut conn = self.acquire().await?;
        let rows =
            sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = $1 ORDER BY version")
                .bind(true)
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|row| RowDecoder::new(row, "_sqlx_migrations", "?").i64("version"))
            .collect()
    }

    /// Versions of the migrations built into this binary, ascending.
    pub fn known_migrations() -> Vec<i64> {
        MIGRATOR.iter().map(|m| m.version).collect()
    }
}

/// Maps a sqlx migration error to a message that says what to do.
pub(crate) fn map_migrate_error(backend: Backend, err: MigrateError) -> StoreError {
    let reason = match err {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => {
            match StoreError::from_sqlx(backend, e) {
                transient if transient.is_transient() => return transient,
                other => format!("{other}"),
            }
        }
        MigrateError::VersionMissing(v) => format!(
            "the database has migration {v}, which this build does not know; run the tradeguard version that created it (or newer)"
        ),
        MigrateError::VersionMismatch(v) => format!(
            "migration {v} was edited after it was applied; restore its original text and add a new migration instead"
        ),
        MigrateError::Dirty(v) => {
            format!("migration {v} is partially applied; restore the database from a backup")
        }
        other => format!("{other}"),
    };
    StoreError::Migration { reason }
}
