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

/// The gateway's sink over `tradeguard-audit` (the store-backed `AuditLog`, or its
/// `MemorySink` in tests): converts each [`GatewayEvent`] to an `AuditEvent`, whose
/// sensitive fields the log stores only as keyed hashes.
pub struct AuditLogSink(pub std::sync::Arc<dyn tradeguard_audit::sink::AuditSink>);

impl AuditLogSink {
    fn convert(event: &GatewayEvent) -> Result<tradeguard_audit::event::AuditEvent, AuditFailure> {
        let bad = |e: tradeguard_audit::AuditError| AuditFailure {
            reason: format!("event `{}` rejected by the log: {e}", event.kind),
        };
        let mut out = tradeguard_audit::event::AuditEvent::of(event.kind).map_err(bad)?;
        for (name, value) in &event.fields {
            out = out.field(name, value.clone()).map_err(bad)?;
        }
        for (name, value) in &event.sensitive {
            out = out.sensitive(name, value).map_err(bad)?;
        }
        Ok(out)
    }
}

#[async_trait]
impl AuditSink for AuditLogSink {
    async fn append(&self, event: GatewayEvent) -> Result<(), AuditFailure> {
        let converted = Self::convert(&event)?;
        self.0
            .append(&converted)
            .await
            .map(drop)
            .map_err(|e| AuditFailure {
                reason: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use tradeguard_audit::sink::MemorySink;

    #[tokio::test]
    async fn gateway_events_reach_the_audit_log_and_failures_fail_closed() {
        let redactor = tradeguard_audit::event::Redactor::new(
            tradeguard_crypto::secret::SecretBytes::new(vec![7; 32]),
        )
        .unwrap();
        let sink = Arc::new(MemorySink::new(redactor));
        let adapter = AuditLogSink(sink.clone());
        let event = GatewayEvent::new("auth.lockout")
            .field("subject_kind", "addr")
            .sensitive("subject", "10.0.0.1");
        adapter.append(event).await.unwrap();
        let entries = sink.entries();
        assert_eq!(entries.len(), 1);
        let text = String::from_utf8(entries[0].clone()).unwrap();
        assert!(!text.contains("10.0.0.1"), "sensitive values are hashed");
        sink.set_refuse(true);
        assert!(
            adapter
                .append(GatewayEvent::new("trading.halt"))
                .await
                .is_err()
        );
        let bad = GatewayEvent::new("Bad Kind");
        sink.set_refuse(false);
        assert!(
            adapter.append(bad).await.is_err(),
            "an event the log rejects is not recorded"
        );
    }
}
