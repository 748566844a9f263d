//! The audit log as `serve` runs it: opened with the gateway's Ed25519 key, fed by the vault
//! ([`VaultAudit`], fail closed), by the gateway (its own `AuditLogSink`) and by `serve`
//! itself (start, reconciliation, stop), and checkpointed on a timer.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tradeguard_audit::AuditError;
use tradeguard_audit::clock::SystemClock;
use tradeguard_audit::event::{AuditEvent, Redactor};
use tradeguard_audit::keys::LogSigner;
use tradeguard_audit::log::AuditLog;
use tradeguard_audit::sink::AuditSink;
use tradeguard_crypto::mac::hmac_sha256;
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_store::Store;
use tradeguard_vault::{SinkError, UnlockedVault, VaultEvent, VaultEventSink};

/// Domain label of the redaction key derived from the gateway's signing key.
const REDACTOR_LABEL: &[u8] = b"tradeguard/v1 audit redactor";

/// Opens the log in `store`, signing checkpoints with the gateway's Ed25519 key (from the
/// unlocked vault) under the origin `tradeguard/<installation id>`.
///
/// Sensitive fields are HMAC-ed with a per-installation key derived from the gateway's
/// signing seed (HMAC-SHA-256 under a domain label): stable across restarts, so the logged
/// form of a value stays searchable, and as secret as the gateway key itself.
pub async fn open(store: &Store, vault: &UnlockedVault) -> anyhow::Result<AuditLog> {
    let key = vault.gateway_signing_key()?;
    let redactor_key = hmac_sha256(key.expose_seed(), REDACTOR_LABEL);
    let redactor = Redactor::new(SecretBytes::from_slice(&redactor_key))?;
    let installation = store.installation_id().await?;
    let origin = format!("tradeguard/{installation}");
    let signer = LogSigner::new(&origin, key)?;
    Ok(AuditLog::open(store.clone(), signer, redactor, Arc::new(SystemClock)).await?)
}

/// The vault's events, written to the audit log before the vault acts (fail closed: an event
/// the log does not record refuses the vault operation).
pub struct VaultAudit(pub Arc<dyn AuditSink>);

/// The audit event of a vault event: identifiers and times, never a secret.
fn vault_event(e: &VaultEvent) -> Result<AuditEvent, AuditError> {
    let mut out = AuditEvent::of(e.kind.name())?.field("at_ms", e.at_ms)?;
    if let Some(id) = &e.credential {
        out = out.field("credential", id.as_str())?;
    }
    if let Some(p) = e.purpose {
        out = out.field("purpose", p.name())?;
    }
    if let Some(v) = e.kek_version {
        out = out.field("kek_version", v)?;
    }
    if let Some(n) = e.rewrapped {
        out = out.field("rewrapped", n)?;
    }
    Ok(out)
}

#[async_trait]
impl VaultEventSink for VaultAudit {
    async fn record(&self, event: &VaultEvent) -> Result<(), SinkError> {
        let refused = |e: AuditError| SinkError {
            reason: format!("audit log did not record `{}`: {e}", event.kind.name()),
        };
        let entry = vault_event(event).map_err(refused)?;
        self.0.append(&entry).await.map(drop).map_err(refused)
    }
}

/// Appends one of `serve`'s own events; `Err` names the event.
pub async fn record(log: &AuditLog, event: Result<AuditEvent, AuditError>) -> anyhow::Result<()> {
    let event = event?;
    log.append(&event).await.map_err(|e| {
        anyhow::anyhow!("audit log did not record `{}`: {e}", event.kind().as_str())
    })?;
    Ok(())
}

/// Signs a checkpoint every `every` when the log grew since the last one, until `stop`.
pub async fn checkpoints(
    log: AuditLog,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut signed = log
        .latest_checkpoint()
        .await
        .ok()
        .flatten()
        .map(|c| c.unverified().size());
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let size = log.store().audit_size().await.ok();
        if size.is_none() || size == signed {
            continue;
        }
        match log.checkpoint().await {
            Ok(cp) => signed = Some(cp.unverified().size()),
            Err(e) => tracing::error!(error = %e, "audit checkpoint failed; retrying next period"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeguard_audit::sink::MemorySink;
    use tradeguard_vault::VaultEventKind;

    fn sink() -> Arc<MemorySink> {
        Arc::new(MemorySink::new(
            Redactor::new(SecretBytes::new(vec![9; 32])).unwrap(),
        ))
    }

    fn used() -> VaultEvent {
        VaultEvent {
            kind: VaultEventKind::CredentialUsed,
            credential: None,
            purpose: Some(tradeguard_vault::Purpose::SignRequest),
            kek_version: Some(1),
            rewrapped: None,
            at_ms: 5,
        }
    }

    #[tokio::test]
    async fn vault_events_reach_the_log_and_a_refusing_log_refuses_them() {
        let s = sink();
        let audit = VaultAudit(s.clone());
        audit.record(&used()).await.unwrap();
        let entry = String::from_utf8(s.entries()[0].clone()).unwrap();
        assert!(entry.contains("vault.credential_used"), "{entry}");
        assert!(entry.contains("sign_request"), "{entry}");
        s.set_refuse(true);
        let e = audit.record(&used()).await.unwrap_err();
        assert!(e.reason.contains("vault.credential_used"), "{}", e.reason);
    }
}
