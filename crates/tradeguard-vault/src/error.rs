//! [`VaultError`]: what went wrong in the vault. Messages name the failing record (table,
//! column, credential id) and what to do, never a secret or a stored value. Wrapped crypto
//! and store errors are part of the message (not a `source`), so a report prints each once.

use tradeguard_crypto::CryptoError;
use tradeguard_store::StoreError;

/// An error from the vault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The passphrase does not match the one the vault was created with; nothing was changed.
    #[error(
        "wrong passphrase for this vault; nothing was changed, try again with the passphrase given to `tradeguard init`"
    )]
    WrongPassphrase,
    /// The vault was never initialised in this database.
    #[error("no vault in this database; run `tradeguard init` first")]
    NotInitialized,
    /// The database already holds a vault.
    #[error("this database already holds a vault; use it, or initialise a new data dir")]
    AlreadyInitialized,
    /// A stored row could not be decoded: the database was edited or damaged.
    #[error(
        "corrupt vault row in `{table}` (key `{key}`), column `{column}`: {reason}; restore the database from a backup"
    )]
    CorruptRow {
        /// Table.
        table: String,
        /// Column.
        column: String,
        /// Row key (an identifier, never a secret).
        key: String,
        /// What is wrong (never the value).
        reason: String,
    },
    /// A ciphertext did not authenticate: it was altered, or copied from another record.
    #[error(
        "{what} `{key}` does not decrypt: its ciphertext was altered or moved from another record; restore the database from a backup"
    )]
    TamperedCiphertext {
        /// Which kind of ciphertext (`credential`, `data key`, `KEK`, `gateway key`).
        what: &'static str,
        /// Its record key.
        key: String,
    },
    /// No credential has this id.
    #[error("no credential `{id}`; list them with `tradeguard credentials list`")]
    UnknownCredential {
        /// The id asked for.
        id: String,
    },
    /// The same API key is already in the vault.
    #[error(
        "this API key is already stored as credential `{existing}`; remove it first to replace it"
    )]
    Duplicate {
        /// The credential that holds it.
        existing: String,
    },
    /// A credential document or an argument was rejected; `field` names the part at fault.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field or argument (`exchange`, `api_key`, `profile`, ...).
        field: &'static str,
        /// What is wrong and what is expected (never the value).
        reason: String,
    },
    /// An envelope did not parse or open (wrong recipient key, wrong purpose, truncated, altered).
    #[error("bad envelope: {0}")]
    BadEnvelope(CryptoError),
    /// A cryptographic primitive or the random number generator failed.
    #[error("vault crypto failure: {0}")]
    Crypto(CryptoError),
    /// The audit sink refused the event, so the operation was refused (fail closed).
    #[error(
        "audit sink refused the `{event}` event ({reason}); the operation was not performed, fix the audit log and retry"
    )]
    SinkRefused {
        /// The event kind.
        event: &'static str,
        /// Why the sink refused.
        reason: String,
    },
    /// Another replica rotated the KEK at the same time; this rotation changed nothing.
    #[error(
        "another rotation of KEK version {version} ran concurrently; nothing was changed by this one, retry if a rotation is still due"
    )]
    ConcurrentRotation {
        /// The KEK version both tried to retire.
        version: u32,
    },
    /// A fault injected by a test (rotation crash tests only).
    #[error("injected fault at rotation step {0}")]
    InjectedFault(&'static str),
    /// The store failed.
    #[error("vault storage: {0}")]
    Store(StoreError),
}

impl From<StoreError> for VaultError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::CorruptRow {
                table,
                column,
                key,
                reason,
            } => Self::CorruptRow {
                table,
                column,
                key,
                reason,
            },
            other => Self::Store(other),
        }
    }
}

impl VaultError {
    /// A corrupt-row error for a check the vault makes after decoding.
    pub(crate) fn corrupt(table: &str, column: &str, key: &str, reason: &str) -> Self {
        Self::CorruptRow {
            table: table.into(),
            column: column.into(),
            key: key.into(),
            reason: reason.into(),
        }
    }

    /// An invalid-input error.
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// True when retrying the whole operation may succeed (a busy or unreachable database).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Store(e) if e.is_transient())
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = VaultError> = std::result::Result<T, E>;
