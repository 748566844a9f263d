//! The event bus: a fast, at-most-once broadcast between replicas (the halt signal).
//!
//! It is a notification, not the record: the gateway keeps the authoritative trading state
//! in the database and re-reads it whenever a subscriber reports [`BusEvent::Gap`] (messages
//! may have been lost: a slow subscriber, or a Redis connection that dropped and came back).

use async_trait::async_trait;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::{Result, StoreError};

/// Largest message accepted, in bytes.
pub const MAX_MESSAGE_LEN: usize = 64 * 1024;

/// What a subscriber receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusEvent {
    /// A published message (the gateway's own format, e.g. JSON).
    Message(String),
    /// Messages may have been lost since the last event: re-read the authoritative state.
    Gap,
}

/// Publish/subscribe across the replicas of one deployment.
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Sends `message` to every current subscriber (of every replica). Succeeds with no
    /// subscribers. Delivery is at most once; pair every message with a database write.
    async fn publish(&self, message: &str) -> Result<()>;

    /// Starts receiving. Messages published after this returns are delivered (or reported
    /// as a [`BusEvent::Gap`]).
    async fn subscribe(&self) -> Result<Subscription>;
}

/// A live subscription; dropping it unsubscribes.
pub struct Subscription {
    inner: Inner,
}

enum Inner {
    Memory(broadcast::Receiver<String>),
    Forwarded {
        rx: mpsc::Receiver<BusEvent>,
        task: JoinHandle<()>,
    },
}

impl Subscription {
    /// A subscription fed by a background task (the Redis listener); the task is aborted
    /// when the subscription is dropped.
    pub(crate) fn forwarded(rx: mpsc::Receiver<BusEvent>, task: JoinHandle<()>) -> Self {
        Self {
            inner: Inner::Forwarded { rx, task },
        }
    }

    /// The next event; `None` once the bus is gone for good.
    pub async fn recv(&mut self) -> Option<BusEvent> {
        match &mut self.inner {
            Inner::Memory(rx) => match rx.recv().await {
                Ok(message) => Some(BusEvent::Message(message)),
                Err(broadcast::error::RecvError::Lagged(_)) => Some(BusEvent::Gap),
                Err(broadcast::error::RecvError::Closed) => None,
            },
            Inner::Forwarded { rx, .. } => rx.recv().await,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Inner::Forwarded { task, .. } = &self.inner {
            task.abort();
        }
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

/// Checks a message before it is published.
pub(crate) fn check_message(message: &str) -> Result<()> {
    if message.len() > MAX_MESSAGE_LEN {
        Err(StoreError::InvalidInput {
            what: "bus message",
            rule: "must be at most 64 KiB",
        })
    } else {
        Ok(())
    }
}

/// Event bus within one process (tokio broadcast channel).
#[derive(Clone)]
pub struct MemoryEventBus {
    tx: broadcast::Sender<String>,
}

impl MemoryEventBus {
    /// A bus buffering up to `capacity` messages per slow subscriber before it sees a Gap.
    pub fn new(capacity: usize) -> Self {
        Self {
            tx: broadcast::channel(capacity.max(1)).0,
        }
    }
}

#[async_trait]
impl EventBus for MemoryEventBus {
    async fn publish(&self, message: &str) -> Result<()> {
        check_message(message)?;
        // Err only means "no subscriber right now", which is fine for a broadcast.
        let _ = self.tx.send(message.to_owned());
        Ok(())
    }

    async fn subscribe(&self) -> Result<Subscription> {
        Ok(Subscription {
            inner: Inner::Memory(self.tx.subscribe()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_subscriber_gets_every_message_in_order() {
        let bus = MemoryEventBus::new(16);
        bus.publish("before anyone listens").await.unwrap();
        let (mut a, mut b) = (
            bus.subscribe().await.unwrap(),
            bus.subscribe().await.unwrap(),
        );
        for m in ["halt", "resume"] {
            bus.publish(m).await.unwrap();
        }
        for sub in [&mut a, &mut b] {
            assert_eq!(sub.recv().await, Some(BusEvent::Message("halt".into())));
            assert_eq!(sub.recv().await, Some(BusEvent::Message("resume".into())));
        }
    }

    #[tokio::test]
    async fn slow_subscriber_sees_a_gap_not_silence() {
        let bus = MemoryEventBus::new(2);
        let mut sub = bus.subscribe().await.unwrap();
        for i in 0..5 {
            bus.publish(&format!("m{i}")).await.unwrap();
        }
        assert_eq!(sub.recv().await, Some(BusEvent::Gap));
        assert_eq!(sub.recv().await, Some(BusEvent::Message("m3".into())));
    }

    #[tokio::test]
    async fn fail_oversized_message() {
        let bus = MemoryEventBus::new(2);
        let big = "x".repeat(MAX_MESSAGE_LEN + 1);
        assert!(matches!(
            bus.publish(&big).await,
            Err(StoreError::InvalidInput { .. })
        ));
    }
}
