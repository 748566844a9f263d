//! [`AuditSink`]: where the rest of the system sends its events, so that a component can be
//! given the stored [`AuditLog`] in production and a [`MemorySink`] in its tests.
//!
//! The contract is fail closed: `append` resolves to a receipt only once the events are
//! recorded; on any error the caller refuses the action that caused them.
//!
//! ```
//! use tradeguard_audit::event::{AuditEvent, Redactor};
//! use tradeguard_audit::sink::{AuditSink, MemorySink};
//! use tradeguard_crypto::secret::SecretBytes;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let sink = MemorySink::new(Redactor::new(SecretBytes::new(vec![1; 32])).unwrap());
//! let event = AuditEvent::of("trading.halted").unwrap();
//! assert_eq!(sink.append(&event).await.unwrap().first_seq(), 0);
//! sink.set_refuse(true);
//! assert!(sink.append(&event).await.is_err()); // the caller refuses the action
//! # });
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tradeguard_store::ErrorClass;

use crate::AuditError;
use crate::clock::{Clock, SystemClock};
use crate::event::{AuditEvent, Redactor};
use crate::log::{AppendReceipt, AuditLog};
use crate::memory_log::MemoryLog;

/// The future an [`AuditSink`] returns.
pub type AppendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<AppendReceipt, AuditError>> + Send + 'a>>;

/// Something that records audit events durably, in order.
pub trait AuditSink: Send + Sync {
    /// Records `events` contiguously; resolves once they are recorded.
    fn append_batch<'a>(&'a self, events: &'a [AuditEvent]) -> AppendFuture<'a>;

    /// Records one event; resolves once it is recorded.
    fn append<'a>(&'a self, event: &'a AuditEvent) -> AppendFuture<'a> {
        self.append_batch(std::slice::from_ref(event))
    }
}

impl AuditSink for AuditLog {
    fn append_batch<'a>(&'a self, events: &'a [AuditEvent]) -> AppendFuture<'a> {
        Box::pin(AuditLog::append_batch(self, events))
    }
}

/// An in-memory sink for tests: the same entries as the stored log, and a switch that makes
/// every append fail, to test the caller's fail-closed path. A batch is not atomic: an event
/// that cannot be encoded fails the batch after the events before it were kept.
pub struct MemorySink {
    log: Mutex<MemoryLog>,
    refuse: AtomicBool,
}

impl std::fmt::Debug for MemorySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySink").finish_non_exhaustive()
    }
}

impl MemorySink {
    /// An empty sink on the system clock.
    pub fn new(redactor: Redactor) -> Self {
        Self::with_clock(redactor, Arc::new(SystemClock))
    }

    /// An empty sink on `clock`.
    pub fn with_clock(redactor: Redactor, clock: Arc<dyn Clock>) -> Self {
        Self {
            log: Mutex::new(MemoryLog::new(redactor, clock)),
            refuse: AtomicBool::new(false),
        }
    }

    /// Makes every later append fail (true) or succeed (false).
    pub fn set_refuse(&self, refuse: bool) {
        self.refuse.store(refuse, Ordering::Relaxed);
    }

    /// The entries recorded so far (canonical bytes).
    pub fn entries(&self) -> Vec<Vec<u8>> {
        self.lock().entries().to_vec()
    }

    /// Runs `f` on the underlying log (to export or checkpoint it).
    pub fn with_log<T>(&self, f: impl FnOnce(&MemoryLog) -> T) -> T {
        f(&self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryLog> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn append_now(&self, events: &[AuditEvent]) -> Result<AppendReceipt, AuditError> {
        if self.refuse.load(Ordering::Relaxed) {
            return Err(AuditError::Append {
                class: ErrorClass::Transient,
                reason: "the test sink was told to refuse".into(),
            });
        }
        let mut log = self.lock();
        let first_seq = log.tree().size();
        for event in events {
            log.append(event)?;
        }
        Ok(AppendReceipt::new(
            first_seq,
            events.len() as u64,
            log.tree().size(),
        ))
    }
}

impl AuditSink for MemorySink {
    fn append_batch<'a>(&'a self, events: &'a [AuditEvent]) -> AppendFuture<'a> {
        Box::pin(std::future::ready(self.append_now(events)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use tradeguard_crypto::secret::SecretBytes;

    #[tokio::test]
    async fn memory_sink_writes_what_the_memory_log_writes_and_can_refuse() {
        let redactor = Redactor::new(SecretBytes::new(vec![3; 32])).unwrap();
        let clock = Arc::new(ManualClock::at(5));
        let sink = MemorySink::with_clock(redactor.clone(), clock.clone());
        let mut log = MemoryLog::new(redactor, clock);
        let events: Vec<AuditEvent> = ["auth.success", "order.submitted"]
            .iter()
            .map(|k| AuditEvent::of(k).unwrap())
            .collect();
        let dyn_sink: &dyn AuditSink = &sink;
        let r = dyn_sink.append_batch(&events).await.unwrap();
        assert_eq!((r.first_seq(), r.count(), r.tree_size()), (0, 2, 2));
        for e in &events {
            log.append(e).unwrap();
        }
        assert_eq!(sink.entries(), log.entries());
        sink.set_refuse(true);
        let err = dyn_sink.append(&events[0]).await.unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert_eq!(sink.entries().len(), 2);
    }
}
