//! [`Tx`]: a write transaction that other crates hold across several repository calls.

use sqlx::{Any, AnyConnection, Transaction};

use crate::{Backend, Result, Store, StoreError};

/// A database transaction. Commit with [`Tx::commit`]; dropping it without commit rolls it back.
///
/// On SQLite it begins with `BEGIN IMMEDIATE`: it takes the write lock at once, so two
/// transactions never deadlock on a lock upgrade (they wait up to
/// [`crate::SQLITE_BUSY_TIMEOUT`], then fail with [`StoreError::Contention`]). On PostgreSQL it
/// runs at the server's default isolation (READ COMMITTED).
pub struct Tx {
    inner: Transaction<'static, Any>,
    backend: Backend,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Begins a write transaction on a pooled connection.
    pub async fn begin(&self) -> Result<Tx> {
        let begun = match self.backend() {
            Backend::Sqlite => self.pool().begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool().begin().await,
        };
        Ok(Tx {
            inner: begun.map_err(|e| self.err(e))?,
            backend: self.backend(),
        })
    }
}

impl Tx {
    /// Makes the transaction's writes durable. A broken connection during COMMIT gives
    /// [`StoreError::CommitOutcomeUnknown`].
    pub async fn commit(self) -> Result<()> {
        let backend = self.backend;
        self.inner
            .commit()
            .await
            .map_err(|e| StoreError::from_commit(backend, e))
    }

    /// Discards the transaction's writes (dropping the `Tx` does the same).
    pub async fn rollback(self) -> Result<()> {
        let backend = self.backend;
        self.inner
            .rollback()
            .await
            .map_err(|e| StoreError::from_sqlx(backend, e))
    }

    /// Which database the transaction runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection, for the repository modules of this crate.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }

    /// Maps a driver error with this transaction's backend.
    pub(crate) fn err(&self, e: sqlx::Error) -> StoreError {
        StoreError::from_sqlx(self.backend, e)
    }
}
