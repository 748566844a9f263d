//! The gateway's audit interface. Every security-relevant action is appended before it is
//! answered; when the append fails the action is refused (fail closed) — except the halt,
//! which is itself the safe state and proceeds, reporting the failure.

use std::sync::Mutex;

use async_trait::async_trait;

/// One audit event: a kind (`auth.lockout`, `trading.halt`, ...), public fields, and
/// sensitive fields that the log stores only as keyed hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayEvent {
    /// Dotted kind.
    pub kind: &'static str,
    /// Public fields (identifiers, states, counts).
    pub fields: Vec<(&'static str, serde_json::Value)>,
    /// Fields that could help an attacker (addresses, ids); the sink must hash them.
    pub sensitive: Vec<(&'static str, String)>,
}

impl GatewayEvent {
    /// An event of `kind` with no fields.
    pub fn new(kind: &'static str) -> Self {
        Self {
            kind,
            fields: Vec::new(),
            sensitive: Vec::new(),
        }
    }

    /// Adds a public field.
    pub fn field(mut self, name: &'static str, value: impl Into<serde_json::Value>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// Adds a sensitive field.
    pub fn sensitive(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.sensitive.push((name, value.into()));
        self
    }
}

/// The append failed; the caller refuses the action.
#[derive(Debug, Clone, thiserror::Error)]
#[error("audit append failed: {reason}")]
pub struct AuditFailure {
    /// Why (no event contents).
    pub reason: String,
}

/// Where the gateway records events (tradeguard-audit's store-backed log in production).
#[async_trait]
pub trait AuditSink: Send + Sync {
    /// Appends durably; `Err` means the event is not recorded.
    async fn append(&self, event: GatewayEvent) -> Result<(), AuditFailure>;
}

/// Events in memory (tests); can be told to fail.
#[derive(Default)]
pub struct MemoryAudit {
    events: Mutex<Vec<GatewayEvent>>,
    failing: std::sync::atomic::AtomicBool,
}

impl MemoryAudit {
    /// Every event appended so far.
    pub fn events(&self) -> Vec<GatewayEvent> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The kinds of the events appended so far.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.events().iter().map(|e| e.kind).collect()
    }

    /// Makes later appends fail (or succeed again).
    pub fn set_failing(&self, failing: bool) {
        self.failing
            .store(failing, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait]
impl AuditSink for MemoryAudit {
    async fn append(&self, event: GatewayEvent) -> Result<(), AuditFailure> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(AuditFailure {
                reason: "memory audit told to fail".into(),
            });
        }
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
        Ok(())
    }
}
