//! The credential vault: exchange API keys sealed at rest, usable for signing, never readable.
//!
//! - **Master key**: Argon2id over the passphrase (default m = 64 MiB, t = 3, p = 1; the
//!   parameters and salt are stored beside the data). A check value tells a wrong passphrase
//!   ([`VaultError::WrongPassphrase`]) from a right one before anything changes.
//! - **Key hierarchy**: master key → versioned key-encryption keys (KEKs) → one random data
//!   key per credential → the credential's secret fields. AES-256-GCM throughout; the
//!   associated data binds each data key to its credential id, exchange, profile and KEK
//!   version, and each credential ciphertext to its id, exchange and profile, so a ciphertext
//!   copied onto another record fails to open.
//! - **Rotation** ([`UnlockedVault::rotate_kek`], [`UnlockedVault::rotation_due`]): a new KEK,
//!   every data key re-wrapped, the old KEK destroyed, in one transaction.
//! - **Write-only**: [`UnlockedVault::with_secret`] hands a [`CredentialSecret`] to a closure
//!   for one call; no API returns a secret; [`Vault::list`] gives metadata only.
//! - **Audit**: every import, use, removal and rotation is reported to a [`VaultEventSink`]
//!   first; if the sink refuses, the operation is refused.
//! - **Gateway keys**: HPKE X25519 and X-Wing and Ed25519, sealed under the master key; public
//!   keys readable without the passphrase ([`Vault::public_keys`]).
//! - [`harden`]: no core dumps, locked memory, at server start.
//!
//! ```no_run
//! # async fn demo(store: tradeguard_store::Store) -> Result<(), tradeguard_vault::VaultError> {
//! use std::sync::Arc;
//! use tradeguard_crypto::secret::SecretString;
//! use tradeguard_vault::{MemorySink, Purpose, Vault};
//!
//! let vault = Vault::new(store, Arc::new(MemorySink::new()));
//! let unlocked = vault.unlock(&SecretString::new("passphrase".into())).await?;
//! for meta in unlocked.list().await? {
//!     let key_len = unlocked
//!         .with_secret(&meta.id, Purpose::SignRequest, |c| c.api_key().len())
//!         .await?;
//!     println!("{} {} {key_len}", meta.id, meta.exchange);
//! }
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod access;
mod clock;
mod credential;
mod document;
mod error;
mod events;
mod gateway_keys;
pub mod harden;
mod kdf;
mod rotation;
mod routing;
mod seal;
mod vault;

pub use clock::{Clock, ManualClock, SystemClock};
pub use credential::{CredentialId, CredentialMeta, Exchange, ProfileName, Purpose};
pub use document::{CredentialSecret, MAX_CREDENTIAL_JSON, MAX_LABEL_CHARS};
pub use error::{Result, VaultError};
pub use events::{MemorySink, SinkError, TracingSink, VaultEvent, VaultEventKind, VaultEventSink};
pub use gateway_keys::GatewayPublicKeys;
pub use kdf::KdfParams;
pub use rotation::RotationReport;
pub use vault::{DEFAULT_ROTATION_INTERVAL, MIN_PASSPHRASE_CHARS, UnlockedVault, Vault};

#[cfg(test)]
mod tests;
