//! tradeguard-audit: the tamper-evident audit log.
//!
//! Every event the gateway produces becomes an entry: canonical JSON (RFC 8785) with a
//! sequence number, a time and the leaf hash of the entry before it; sensitive values are
//! replaced by their HMAC under a per-installation key. Entries are the leaves of an
//! RFC 6962 / RFC 9162 Merkle tree whose heads are signed as C2SP tlog checkpoints (Ed25519,
//! plus ML-DSA-65 with the post-quantum option). Auditors verify offline.
//!
//! - [`merkle`]: the tree, proofs and their verification (pure).
//! - [`note`], [`checkpoint`]: C2SP signed notes and tlog checkpoints.
//! - [`events`]: the catalogue of what the system records (authentication, sessions,
//!   credentials, orders, halts and resumes, approvals, configuration, threat responses).
//! - [`event`], [`entry`]: how an event becomes an entry (sensitive values HMAC-ed).
//! - [`keys`]: the log's signer and the keys auditors trust.
//! - [`verify`], [`export`]: offline verification of a whole log, naming the first entry
//!   changed, removed, inserted or reordered.
//! - [`log`]: the log stored through `tradeguard-store` (SQLite, PostgreSQL): durable
//!   appends, checkpoints, proofs, export; [`store_verify`]: offline verification of a store.
//! - [`sink`]: the [`sink::AuditSink`] trait the rest of the system appends through (the
//!   stored log, or an in-memory sink that can be told to fail, for fail-closed tests).
//! - [`memory_log`]: the same log in memory; [`bench`]: the `tradeguard bench audit` figures.
//!
//! ```
//! use std::sync::Arc;
//! use tradeguard_audit::{clock::ManualClock, event::{AuditEvent, Redactor}, keys::{LogKey, LogSigner}};
//! use tradeguard_audit::{export::verify_export, memory_log::MemoryLog};
//! use tradeguard_crypto::{secret::SecretBytes, sign::Ed25519SigningKey};
//!
//! let redactor = Redactor::new(SecretBytes::new(vec![42; 32])).unwrap();
//! let mut log = MemoryLog::new(redactor, Arc::new(ManualClock::at(0)));
//! let event = AuditEvent::of("auth.success").unwrap().sensitive("token", "t0k3n").unwrap();
//! log.append(&event).unwrap();
//!
//! let signer = LogSigner::new("gateway.example/audit", Ed25519SigningKey::generate().unwrap()).unwrap();
//! let export = log.export(&signer).unwrap();
//! let (report, _) = verify_export(&export, &signer.public_keys()).unwrap();
//! assert_eq!(report.signed_size, 1);
//! ```

pub mod bench;
pub mod checkpoint;
pub mod clock;
pub mod entry;
mod error;
pub mod event;
pub mod events;
pub mod export;
pub mod keys;
pub mod log;
pub mod memory_log;
pub mod merkle;
pub mod note;
pub mod sink;
pub mod store_verify;
pub mod verify;

pub use error::AuditError;
