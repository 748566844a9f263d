//! [`AuditError`]: why an audit operation failed, split by how the caller reacts.
//!
//! An append that returns any error did not durably record the event (or may not have): the
//! caller must refuse the action that caused it (fail closed).

use tradeguard_store::{ErrorClass, StoreError};

use crate::merkle::ProofError;
use crate::note::NoteError;

/// An audit log error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// An event could not be turned into an entry (bad kind or field name, value not
    /// representable); definitive.
    #[error("invalid audit event: {0}")]
    InvalidEvent(&'static str),
    /// Storage failed; see [`AuditError::class`] for transient / definitive / unknown outcome.
    #[error("audit storage: {0}")]
    Store(#[from] StoreError),
    /// A proof or tree operation was refused (bad index or sizes).
    #[error("audit proof: {0}")]
    Proof(#[from] ProofError),
    /// A checkpoint could not be signed or parsed.
    #[error("audit checkpoint: {0}")]
    Note(#[from] NoteError),
    /// The stored log contradicts itself (a row or node missing, a head that does not match
    /// the entries); definitive until the database is repaired.
    #[error(
        "stored audit log is inconsistent: {0}; run `tradeguard audit verify` and restore from backup"
    )]
    Corrupt(String),
    /// The transaction that held this caller's events (written together with other callers'
    /// by group commit) failed; `class` says how to react.
    #[error("audit append failed: {reason}")]
    Append {
        /// How to react (from the underlying error).
        class: ErrorClass,
        /// The underlying error's message.
        reason: String,
    },
    /// Another writer appended at the same time and the retries ran out (transient).
    #[error("the audit log is being appended to by another writer; retry")]
    Busy,
    /// Writing an export or reading an input failed.
    #[error("audit I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl AuditError {
    /// How the caller should react: retry (transient), give up (definitive), or read back
    /// before acting (unknown outcome: a commit whose fate is unknown).
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Store(e) => e.class(),
            Self::Append { class, .. } => *class,
            Self::Busy => ErrorClass::Transient,
            _ => ErrorClass::Definitive,
        }
    }

    /// True when retrying the whole operation may succeed.
    pub fn is_transient(&self) -> bool {
        self.class() == ErrorClass::Transient
    }
}
