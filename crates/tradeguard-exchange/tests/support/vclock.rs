//! A virtual clock shared by the connectors (as their [`Clock`]) and the simulators (as their
//! `tradeguard_sim::Clock`): a discrete-event clock. Time stands still while any participant
//! is working (a request in flight takes no virtual time) and jumps to the earliest wake-up
//! once every participant sleeps on the clock. Rate-limit waits, ban waits and order-validity
//! waits then cost no real time, and pacing tests measure the limiter, not the machine.
//!
//! Tasks that sleep on the clock must be registered with [`VirtualClock::join`] *before* they
//! are spawned (so none can race ahead while another has not started yet). A watchdog forces
//! the clock forward if nothing happened for [`STALL`] of real time while some participant
//! sleeps (a participant blocked on something other than the clock); it counts those in
//! [`VirtualClock::forced_advances`], which a test reports.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::oneshot;
use tradeguard_exchange::Clock;
use tradeguard_exchange::model::UnixMillis;

/// Real time without any clock activity after which the watchdog moves time on.
pub const STALL: Duration = Duration::from_millis(500);

#[derive(Default)]
struct State {
    participants: usize,
    sleepers: BTreeMap<(i64, u64), oneshot::Sender<()>>,
    seq: u64,
    forced: u64,
}

/// The clock; share it in an `Arc`.
pub struct VirtualClock {
    now: AtomicI64,
    activity: AtomicU64,
    state: Mutex<State>,
}

/// A registered participant; dropping it unregisters (and may let time move on).
pub struct Participant(Arc<VirtualClock>);

impl Drop for Participant {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.participants -= 1;
        self.0.advance_if_idle(&mut st);
    }
}

impl VirtualClock {
    /// A clock reading `start`, with its watchdog running on the current runtime.
    pub fn new(start: UnixMillis) -> Arc<Self> {
        let clock = Arc::new(Self {
            now: AtomicI64::new(start.0),
            activity: AtomicU64::new(0),
            state: Mutex::new(State::default()),
        });
        tokio::spawn(watchdog(Arc::downgrade(&clock)));
        clock
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers one task that sleeps on this clock (call before spawning it).
    pub fn join(self: &Arc<Self>) -> Participant {
        self.lock().participants += 1;
        Participant(self.clone())
    }

    /// Times the watchdog had to move time on (a participant waited on something else).
    pub fn forced_advances(&self) -> u64 {
        self.lock().forced
    }

    fn advance_if_idle(&self, st: &mut State) {
        self.activity.fetch_add(1, Ordering::SeqCst);
        st.sleepers.retain(|_, tx| !tx.is_closed());
        if !st.sleepers.is_empty() && st.sleepers.len() >= st.participants {
            self.wake_earliest(st);
        }
    }

    fn wake_earliest(&self, st: &mut State) {
        let Some((&(deadline, _), _)) = st.sleepers.first_key_value() else {
            return;
        };
        self.now.fetch_max(deadline, Ordering::SeqCst);
        let now = self.now.load(Ordering::SeqCst);
        while let Some(entry) = st.sleepers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let _ = entry.remove().send(());
        }
    }
}

async fn watchdog(clock: Weak<VirtualClock>) {
    let mut last = u64::MAX;
    loop {
        tokio::time::sleep(STALL).await;
        let Some(clock) = clock.upgrade() else {
            return;
        };
        let seen = clock.activity.load(Ordering::SeqCst);
        let mut st = clock.lock();
        st.sleepers.retain(|_, tx| !tx.is_closed());
        if seen == last && !st.sleepers.is_empty() {
            st.forced += 1;
            clock.wake_earliest(&mut st);
        }
        last = clock.activity.load(Ordering::SeqCst);
    }
}

#[async_trait]
impl Clock for VirtualClock {
    fn now(&self) -> UnixMillis {
        self.activity.fetch_add(1, Ordering::Relaxed);
        UnixMillis(self.now.load(Ordering::SeqCst))
    }

    async fn sleep(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4).max(1);
        let rx = {
            let mut st = self.lock();
            let deadline = self.now.load(Ordering::SeqCst).saturating_add(ms);
            st.seq += 1;
            let (tx, rx) = oneshot::channel();
            let key = (deadline, st.seq);
            st.sleepers.insert(key, tx);
            self.advance_if_idle(&mut st);
            rx
        };
        let _ = rx.await;
    }
}

impl tradeguard_sim::Clock for VirtualClock {
    fn now_ms(&self) -> u64 {
        self.activity.fetch_add(1, Ordering::Relaxed);
        u64::try_from(self.now.load(Ordering::SeqCst)).unwrap_or(0)
    }
}
