//! Time, injected: [`SystemClock`] in production, [`ManualClock`] in tests so rate limits,
//! back-offs and breakers are deterministic.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::model::UnixMillis;

/// A source of wall-clock time and of sleeps.
#[async_trait]
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> UnixMillis;
    /// Waits for `d`.
    async fn sleep(&self, d: Duration);
}

/// The host clock and tokio's timer.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        UnixMillis(i64::try_from(ms).unwrap_or(i64::MAX))
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

/// A clock that only moves when told to, or when someone sleeps on it: `sleep(d)` advances
/// the time by `d` at once and records the sleep. Tests read [`ManualClock::sleeps`] to see the
/// back-offs a component chose.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicI64,
    sleeps: Mutex<Vec<Duration>>,
}

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: UnixMillis) -> Self {
        Self {
            now: AtomicI64::new(start.0),
            sleeps: Mutex::new(Vec::new()),
        }
    }

    /// Moves the time forward by `d`.
    pub fn advance(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.now.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the time.
    pub fn set(&self, t: UnixMillis) {
        self.now.store(t.0, Ordering::SeqCst);
    }

    /// Every sleep requested so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Total time slept so far.
    pub fn slept(&self) -> Duration {
        self.sleeps().iter().sum()
    }
}

#[async_trait]
impl Clock for ManualClock {
    fn now(&self) -> UnixMillis {
        UnixMillis(self.now.load(Ordering::SeqCst))
    }

    async fn sleep(&self, d: Duration) {
        if let Ok(mut s) = self.sleeps.lock() {
            s.push(d);
        }
        // Round sub-millisecond sleeps up so a waiting loop always makes progress.
        self.advance(d.max(Duration::from_millis(1)));
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_advances_on_sleep() {
        let c = ManualClock::new(UnixMillis(1_000));
        c.sleep(Duration::from_millis(250)).await;
        c.advance(Duration::from_secs(1));
        assert_eq!(c.now(), UnixMillis(2_250));
        assert_eq!(c.sleeps(), vec![Duration::from_millis(250)]);
    }
}
