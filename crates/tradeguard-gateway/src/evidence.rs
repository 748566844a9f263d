//! What the gateway serves to auditors (`GET /v1/audit/*`, `GET /v1/analytics`), behind
//! traits so the binary decides where it comes from:
//! - [`AuditEvidence`]: the audit log's signed checkpoint, entries and proofs;
//!   [`StoredLogEvidence`] answers it from `tradeguard-audit`'s store-backed [`AuditLog`];
//! - [`ReportSource`]: the signed performance report (`tradeguard-analytics` report file,
//!   bound to the audit checkpoint current when it was made).
//!
//! A gateway built without them answers these endpoints with a 404 problem saying so.

use async_trait::async_trait;
use tradeguard_audit::AuditError;
use tradeguard_audit::checkpoint::SignedCheckpoint;
use tradeguard_audit::log::{AuditLog, ConsistencyProof, InclusionProof};

/// The most entries one `GET /v1/audit/entries` answers.
pub const MAX_ENTRIES_PAGE: u64 = 1000;

/// Why evidence could not be served.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// The request names entries or sizes the log does not have (HTTP 422).
    #[error("{0}")]
    OutOfRange(String),
    /// There is nothing to serve yet (no checkpoint signed so far; HTTP 404).
    #[error("{0}")]
    NotYet(String),
    /// The log or the report source failed (HTTP 503); the reason names no secret.
    #[error("{0}")]
    Unavailable(String),
}

impl From<AuditError> for EvidenceError {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::Proof(p) => Self::OutOfRange(p.to_string()),
            other => Self::Unavailable(other.to_string()),
        }
    }
}

/// The audit log as auditors read it.
#[async_trait]
pub trait AuditEvidence: Send + Sync {
    /// The most recent signed checkpoint, if any was signed.
    async fn checkpoint(&self) -> Result<Option<SignedCheckpoint>, EvidenceError>;
    /// The number of entries stored (signed or not yet).
    async fn size(&self) -> Result<u64, EvidenceError>;
    /// Entries `start..end` (`end` at most [`AuditEvidence::size`]), each its exact
    /// canonical bytes, in order.
    async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, EvidenceError>;
    /// The inclusion proof of entry `index` in the tree of `size` entries.
    async fn inclusion_proof(&self, index: u64, size: u64)
    -> Result<InclusionProof, EvidenceError>;
    /// The consistency proof between tree sizes `old` and `new`.
    async fn consistency_proof(
        &self,
        old: u64,
        new: u64,
    ) -> Result<ConsistencyProof, EvidenceError>;
}

/// The signed performance report.
#[async_trait]
pub trait ReportSource: Send + Sync {
    /// A report file as `tradeguard_analytics::sign_report` writes it (canonical JSON and a
    /// detached Ed25519 signature by the gateway key), bound to the current checkpoint.
    async fn signed_report(&self) -> Result<Vec<u8>, EvidenceError>;

    /// The report over `window` (`GET /v1/analytics?from=&to=`). A source whose report has no
    /// time window (a fixed report file) answers [`Self::signed_report`].
    async fn signed_report_in(&self, window: ReportWindow) -> Result<Vec<u8>, EvidenceError> {
        let _ = window;
        self.signed_report().await
    }
}

/// The time a report covers, Unix milliseconds; a bound left out is the source's default
/// (`tradeguard serve`: up to now, the 30 days before `to`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportWindow {
    /// Start, inclusive.
    pub from_ms: Option<i64>,
    /// End, exclusive.
    pub to_ms: Option<i64>,
}

/// [`AuditEvidence`] over the store-backed log (the same one the gateway appends to).
pub struct StoredLogEvidence(pub AuditLog);

#[async_trait]
impl AuditEvidence for StoredLogEvidence {
    async fn checkpoint(&self) -> Result<Option<SignedCheckpoint>, EvidenceError> {
        Ok(self.0.latest_checkpoint().await?)
    }

    async fn size(&self) -> Result<u64, EvidenceError> {
        self.0
            .store()
            .audit_size()
            .await
            .map_err(|e| EvidenceError::Unavailable(format!("audit storage: {e}")))
    }

    async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, EvidenceError> {
        let want = end.saturating_sub(start).min(MAX_ENTRIES_PAGE);
        let rows = self
            .0
            .store()
            .audit_entries(start, u32::try_from(want).unwrap_or(u32::MAX))
            .await
            .map_err(|e| EvidenceError::Unavailable(format!("audit storage: {e}")))?;
        let mut out = Vec::with_capacity(rows.len());
        for (expected, row) in (start..end).zip(rows) {
            if row.seq != expected {
                return Err(EvidenceError::Unavailable(format!(
                    "audit entry {expected} is missing from the store; run `tradeguard audit verify`"
                )));
            }
            out.push(row.entry);
        }
        if (out.len() as u64) < end - start {
            return Err(EvidenceError::Unavailable(format!(
                "audit entries {start}..{end} are not all stored; run `tradeguard audit verify`"
            )));
        }
        Ok(out)
    }

    async fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<InclusionProof, EvidenceError> {
        Ok(self.0.inclusion_proof(index, size).await?)
    }

    async fn consistency_proof(
        &self,
        old: u64,
        new: u64,
    ) -> Result<ConsistencyProof, EvidenceError> {
        Ok(self.0.consistency_proof(old, new).await?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tradeguard_audit::clock::ManualClock;
    use tradeguard_audit::event::{AuditEvent, Redactor};
    use tradeguard_audit::keys::LogSigner;
    use tradeguard_crypto::secret::SecretBytes;
    use tradeguard_crypto::sign::Ed25519SigningKey;

    use super::*;

    #[tokio::test]
    async fn stored_log_pages_and_proofs() {
        let store = tradeguard_store::testing::sqlite().await;
        let signer = LogSigner::new(
            "t.test/log",
            Ed25519SigningKey::from_seed(&[1; 32]).unwrap(),
        )
        .unwrap();
        let redactor = Redactor::new(SecretBytes::new(vec![2; 32])).unwrap();
        let log = AuditLog::open(store, signer, redactor, Arc::new(ManualClock::at(0)))
            .await
            .unwrap();
        let ev = StoredLogEvidence(log.clone());
        assert!(ev.checkpoint().await.unwrap().is_none());
        for i in 0..5u64 {
            let e = AuditEvent::of("halt").unwrap().field("n", i).unwrap();
            log.append(&e).await.unwrap();
        }
        let cp = log.checkpoint().await.unwrap();
        assert_eq!(ev.checkpoint().await.unwrap(), Some(cp));
        assert_eq!(ev.size().await.unwrap(), 5);
        let page = ev.entries(1, 4).await.unwrap();
        assert_eq!(page.len(), 3);
        assert!(String::from_utf8_lossy(&page[0]).contains("\"seq\":1"));
        assert!(ev.entries(3, 9).await.is_err(), "beyond the log");
        let root = log.tree_head(5).await.unwrap();
        ev.inclusion_proof(2, 5)
            .await
            .unwrap()
            .verify(&root)
            .unwrap();
        let old = log.tree_head(2).await.unwrap();
        let c = ev.consistency_proof(2, 5).await.unwrap();
        c.verify(&old, &root).unwrap();
        assert!(matches!(
            ev.inclusion_proof(5, 5).await,
            Err(EvidenceError::OutOfRange(_))
        ));
    }
}
