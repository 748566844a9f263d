//! Audit events: every import, use, removal and rotation is reported to a [`VaultEventSink`]
//! before it takes effect. The sink fails closed: if it refuses an event, the vault refuses
//! the operation ([`crate::VaultError::SinkRefused`]).
//!
//! Events are recorded *before* the operation's transaction begins: a sink that writes the
//! audit log to the same SQLite database would otherwise wait on the vault's own write lock.
//! So an event may describe an operation that then failed (the caller sees that error); an
//! operation never happens without its event. Events carry identifiers and times, never a
//! secret.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::credential::{CredentialId, Purpose};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VaultEventKind {
    /// The vault was created (`tradeguard init`).
    Initialized,
    /// A credential was imported.
    CredentialImported,
    /// A credential's secret was decrypted for a purpose.
    CredentialUsed,
    /// A credential was removed.
    CredentialRemoved,
    /// The KEK was rotated and every data key re-wrapped.
    KekRotated,
}

impl VaultEventKind {
    /// The event type as recorded in the audit log (`vault.credential_used`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Initialized => "vault.initialized",
            Self::CredentialImported => "vault.credential_imported",
            Self::CredentialUsed => "vault.credential_used",
            Self::CredentialRemoved => "vault.credential_removed",
            Self::KekRotated => "vault.kek_rotated",
        }
    }
}

/// One audit event. Never contains a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultEvent {
    /// What happened.
    pub kind: VaultEventKind,
    /// The credential concerned, if any.
    pub credential: Option<CredentialId>,
    /// Why a secret was decrypted (uses only).
    pub purpose: Option<Purpose>,
    /// The KEK version involved: the one wrapping the credential, or the new one after a
    /// rotation.
    pub kek_version: Option<u32>,
    /// How many data keys a rotation is about to re-wrap (rotations only; counted before the
    /// rotation's transaction, so an import racing it may add one).
    pub rewrapped: Option<u64>,
    /// When, Unix milliseconds.
    pub at_ms: i64,
}

impl VaultEvent {
    pub(crate) fn new(kind: VaultEventKind, at_ms: i64) -> Self {
        Self {
            kind,
            credential: None,
            purpose: None,
            kek_version: None,
            rewrapped: None,
            at_ms,
        }
    }
}

/// Why a sink refused an event.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason}")]
pub struct SinkError {
    /// What failed (no secrets).
    pub reason: String,
}

/// Where vault events go: the gateway adapts this to the audit log. Return `Err` when the
/// event could not be recorded durably; the vault then refuses the operation.
#[async_trait]
pub trait VaultEventSink: Send + Sync {
    /// Records one event.
    async fn record(&self, event: &VaultEvent) -> Result<(), SinkError>;
}

/// Keeps events in memory (tests; `tradeguard init` holds its first event here until the
/// audit log, which needs the gateway key init makes, can take it); can be told to refuse, to
/// test the fail-closed path.
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<VaultEvent>>,
    refuse: Mutex<bool>,
}

impl MemorySink {
    /// An empty sink that accepts everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events recorded so far.
    pub fn events(&self) -> Vec<VaultEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// Makes every later `record` fail (true) or succeed (false).
    pub fn set_refuse(&self, refuse: bool) {
        if let Ok(mut r) = self.refuse.lock() {
            *r = refuse;
        }
    }
}

#[async_trait]
impl VaultEventSink for MemorySink {
    async fn record(&self, event: &VaultEvent) -> Result<(), SinkError> {
        if self.refuse.lock().map(|r| *r).unwrap_or(true) {
            return Err(SinkError {
                reason: "memory sink set to refuse".into(),
            });
        }
        let mut events = self.events.lock().map_err(|_| SinkError {
            reason: "memory sink lock poisoned".into(),
        })?;
        events.push(event.clone());
        Ok(())
    }
}

/// Writes each event as a `tracing` event (target `tradeguard::vault::audit`, level INFO).
/// It never refuses and keeps nothing durable: only for tools and tests where the log output
/// is the record. The gateway and the CLI use the audit log instead.
#[derive(Debug, Default, Clone, Copy)]
pub struct TracingSink;

#[async_trait]
impl VaultEventSink for TracingSink {
    async fn record(&self, e: &VaultEvent) -> Result<(), SinkError> {
        tracing::info!(
            target: "tradeguard::vault::audit",
            event = e.kind.name(),
            credential = e.credential.as_ref().map(CredentialId::as_str),
            purpose = e.purpose.map(Purpose::name),
            kek_version = e.kek_version,
            rewrapped = e.rewrapped,
            at_ms = e.at_ms,
        );
        Ok(())
    }
}
