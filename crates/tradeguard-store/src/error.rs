//! [`StoreError`]: what went wrong in storage, split by how the caller reacts.
//!
//! - transient ([`StoreError::is_transient`]): the database or cache is unreachable, busy or
//!   reported a serialization conflict; retry the whole transaction with backoff.
//! - definitive: a constraint was violated, a row is corrupt, the configuration is wrong;
//!   retrying gives the same answer.
//! - unknown outcome ([`StoreError::CommitOutcomeUnknown`]): the connection broke while a commit
//!   was in flight; read the state back before doing anything that must not happen twice.
//!
//! Messages never carry a stored or bound value: a driver message that may quote a value
//! (sqlx decode errors print the value they failed on) is replaced by a description of its kind.

use crate::Backend;

/// Which kind of constraint a write violated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConstraintKind {
    /// A `UNIQUE` or `PRIMARY KEY` constraint: the row already exists.
    Unique,
    /// A `FOREIGN KEY` constraint: the referenced row is missing (or still referenced).
    ForeignKey,
    /// A `NOT NULL` constraint.
    NotNull,
    /// A `CHECK` constraint.
    Check,
}

/// How a caller should react to an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorClass {
    /// Retry the whole operation (a fresh transaction), with backoff.
    Transient,
    /// Do not retry: the same request fails the same way.
    Definitive,
    /// The write may or may not have been committed: read back before acting.
    UnknownOutcome,
}

/// An error from the store, the migrations or a shared cache.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database or cache could not be reached, or the connection broke (transient).
    #[error("{service} unavailable: {reason}; check that it is running and reachable, then retry")]
    Unavailable {
        /// `sqlite`, `postgres` or `redis`.
        service: &'static str,
        /// What failed (no values, no credentials).
        reason: String,
    },
    /// The database is busy, locked, or aborted the transaction to resolve a conflict (transient).
    #[error(
        "database busy or in conflict (code {code}); retry the transaction with backoff, and keep transactions short"
    )]
    Contention {
        /// SQLite result code or PostgreSQL SQLSTATE.
        code: String,
    },
    /// A write violated a constraint (definitive).
    #[error(
        "constraint `{constraint}` ({kind:?}) violated; the write was rejected, fix the data rather than retrying"
    )]
    Constraint {
        /// Which kind of constraint.
        kind: ConstraintKind,
        /// PostgreSQL: the constraint name (`meta_pkey`). SQLite names only CHECK constraints;
        /// for the others this is the column list SQLite reports (`meta.key`).
        constraint: String,
    },
    /// A stored row could not be decoded (definitive): the database was edited or damaged.
    #[error(
        "corrupt row in `{table}` (key `{key}`), column `{column}`: {reason}; restore from backup or repair the row"
    )]
    CorruptRow {
        /// Table name, or `?` when the failure happened before the row reached a decoder.
        table: String,
        /// Column name or ordinal.
        column: String,
        /// The row's key (an identifier, never a secret), or `?` when unknown.
        key: String,
        /// What was wrong, e.g. "expected BIGINT, found TEXT" (never the value).
        reason: String,
    },
    /// A row that must exist is missing (definitive).
    #[error("{what} not found; create it first (did `tradeguard init` run?)")]
    NotFound {
        /// What was looked up, e.g. "meta key `installation_id`".
        what: String,
    },
    /// The connection broke during COMMIT: the transaction may or may not be durable.
    #[error(
        "commit outcome unknown ({reason}); read the affected rows back before retrying anything that must not happen twice"
    )]
    CommitOutcomeUnknown {
        /// What failed.
        reason: String,
    },
    /// A migration failed or the database holds migrations this build does not know.
    #[error("migration failed: {reason}")]
    Migration {
        /// What failed and what to do.
        reason: String,
    },
    /// A cache is full of live entries and refuses new ones rather than evict (transient:
    /// entries expire). Evicting a nonce early would let its request be replayed.
    #[error("{cache} is full ({capacity} live entries); retry later, or raise its capacity")]
    CacheFull {
        /// Which cache.
        cache: &'static str,
        /// Its entry limit.
        capacity: usize,
    },
    /// An argument was rejected before reaching the backend (definitive).
    #[error("invalid {what}: {rule}")]
    InvalidInput {
        /// Which argument.
        what: &'static str,
        /// The rule it broke.
        rule: &'static str,
    },
    /// The store was configured wrongly (bad URL, unsupported backend, bad identifier).
    #[error("store configuration: {reason}")]
    Config {
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// Another database error (definitive): usually a bug in a query or a schema mismatch.
    #[error(
        "{backend} error (code {code}): {message}; this is likely a bug or a schema mismatch, run migrations and report it"
    )]
    Database {
        /// Which backend reported it.
        backend: Backend,
        /// SQLite result code or PostgreSQL SQLSTATE.
        code: String,
        /// The driver's primary message (PostgreSQL DETAIL, which may quote values, is dropped).
        message: String,
    },
    /// The driver failed in a way that is not the caller's fault (definitive).
    #[error("storage driver failure: {reason}; report it")]
    Internal {
        /// What failed.
        reason: String,
    },
}

impl StoreError {
    /// How the caller should react.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Unavailable { .. } | Self::Contention { .. } | Self::CacheFull { .. } => {
                ErrorClass::Transient
            }
            Self::CommitOutcomeUnknown { .. } => ErrorClass::UnknownOutcome,
            _ => ErrorClass::Definitive,
        }
    }

    /// True when retrying the whole operation may succeed.
    pub fn is_transient(&self) -> bool {
        self.class() == ErrorClass::Transient
    }

    /// True when the error is a unique/primary-key violation (the row already exists).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Self::Constraint {
                kind: ConstraintKind::Unique,
                ..
            }
        )
    }

    /// Fills in the table and key of a [`StoreError::CorruptRow`] raised before the row reached
    /// a decoder (e.g. invalid UTF-8 found while fetching); other errors pass through unchanged.
    pub fn in_row(self, table: &str, key: &str) -> Self {
        match self {
            Self::CorruptRow {
                table: t,
                column,
                key: k,
                reason,
            } => Self::CorruptRow {
                table: if t == "?" { table.to_owned() } else { t },
                column,
                key: if k == "?" { key.to_owned() } else { k },
                reason,
            },
            other => other,
        }
    }

    /// Maps a driver error; `backend` names the database in messages.
    pub(crate) fn from_sqlx(backend: Backend, err: sqlx::Error) -> Self {
        crate::error_map::map(backend, err)
    }

    /// Maps a driver error raised by COMMIT: a broken connection there means unknown outcome.
    pub(crate) fn from_commit(backend: Backend, err: sqlx::Error) -> Self {
        match Self::from_sqlx(backend, err) {
            Self::Unavailable { reason, .. } => Self::CommitOutcomeUnknown { reason },
            other => other,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
