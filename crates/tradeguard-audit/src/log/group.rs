//! Group commit: appends that arrive while a transaction is in flight are written together in
//! the next one, so concurrent callers share one fsync. Each caller still returns only after
//! the transaction holding its events committed, and gets that transaction's error if it
//! failed (fail closed). An event that cannot be encoded fails alone.
//!
//! Every caller queues its request and spawns a writer task; the task takes the writer lock,
//! drains the whole queue and answers everyone it drained (a task that finds the queue empty
//! has had its request answered by an earlier one). The write runs in a task, not in the
//! caller's future, so a caller that stops waiting cannot cut a transaction short for the
//! others; its own events may still be written.

use std::sync::atomic::Ordering;

use tokio::sync::oneshot;
use tradeguard_store::ErrorClass;

use super::head::{Batch, Head, moved_by_another_writer};
use super::{APPEND_ATTEMPTS, AppendReceipt, AuditLog};
use crate::AuditError;
use crate::event::AuditEvent;

/// One caller's events and where to send the outcome.
pub(crate) struct Pending {
    pub events: Vec<AuditEvent>,
    pub reply: oneshot::Sender<Result<AppendReceipt, AuditError>>,
}

impl AuditLog {
    /// Queues `events`, has a writer task write the queue, and waits for the outcome of the
    /// transaction that holds them.
    pub(crate) async fn append_grouped(
        &self,
        events: &[AuditEvent],
    ) -> Result<AppendReceipt, AuditError> {
        let (reply, outcome) = oneshot::channel();
        self.queue_push(Pending {
            events: events.to_vec(),
            reply,
        });
        let writer = self.clone();
        tokio::spawn(async move { writer.write_queued().await });
        outcome.await.map_err(|_| AuditError::Append {
            // Only a panic in the writer drops a reply; it may have committed.
            class: ErrorClass::UnknownOutcome,
            reason: "the audit writer stopped before answering".into(),
        })?
    }

    /// Takes the writer lock and writes whatever is queued.
    async fn write_queued(&self) {
        let mut head = self.head.lock().await;
        let drained = self.queue_take();
        if !drained.is_empty() {
            self.write_group(&mut head, drained).await;
        }
    }

    fn queue_push(&self, p: Pending) {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(p);
    }

    fn queue_take(&self) -> Vec<Pending> {
        std::mem::take(
            &mut *self
                .queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Writes every drained request in one transaction (retrying on another writer's move),
    /// then answers each caller.
    async fn write_group(&self, head: &mut Head, group: Vec<Pending>) {
        let mut outcome = Err(AuditError::Busy);
        for _ in 0..APPEND_ATTEMPTS {
            let (next, batch, receipts) = self.encode(head, &group);
            if batch.entries.is_empty() {
                return answer(group, receipts, Ok(()));
            }
            match self
                .store
                .audit_append(head.size(), &batch.entries, &batch.nodes)
                .await
            {
                Ok(()) => {
                    self.commits.fetch_add(1, Ordering::Relaxed);
                    *head = next;
                    return answer(group, receipts, Ok(()));
                }
                Err(e) if moved_by_another_writer(&e) => match Head::load(&self.store).await {
                    Ok(fresh) => *head = fresh,
                    Err(err) => {
                        outcome = Err(err);
                        break;
                    }
                },
                Err(e) => {
                    outcome = Err(AuditError::Store(e));
                    break;
                }
            }
        }
        let (_, _, receipts) = self.encode(head, &group);
        answer(group, receipts, outcome);
    }

    /// Encodes each request after the previous ones. A request that cannot be encoded gets
    /// its error and is left out of the rows.
    fn encode(
        &self,
        head: &Head,
        group: &[Pending],
    ) -> (Head, Batch, Vec<Result<AppendReceipt, AuditError>>) {
        let time_ms = self.clock.now_ms();
        let mut next = head.clone();
        let mut batch = Batch {
            entries: Vec::new(),
            nodes: Vec::new(),
        };
        let mut receipts = Vec::with_capacity(group.len());
        for p in group {
            receipts.push(
                next.extend(&p.events, time_ms, &self.redactor)
                    .map(|(after, part)| {
                        let receipt = AppendReceipt {
                            first_seq: next.size(),
                            count: p.events.len() as u64,
                            tree_size: after.size(),
                        };
                        batch.entries.extend(part.entries);
                        batch.nodes.extend(part.nodes);
                        next = after;
                        receipt
                    }),
            );
        }
        (next, batch, receipts)
    }
}

/// Answers each caller: its encoding error, or the transaction's outcome with its receipt.
fn answer(
    group: Vec<Pending>,
    receipts: Vec<Result<AppendReceipt, AuditError>>,
    outcome: Result<(), AuditError>,
) {
    for (p, receipt) in group.into_iter().zip(receipts) {
        let reply = match (&outcome, receipt) {
            (_, Err(e)) => Err(e),
            (Ok(()), Ok(r)) => Ok(r),
            (Err(e), Ok(_)) => Err(AuditError::Append {
                class: e.class(),
                reason: e.to_string(),
            }),
        };
        let _ = p.reply.send(reply);
    }
}
