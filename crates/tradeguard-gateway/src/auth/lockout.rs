//! Lockouts after repeated authentication failures, per key (`key:<keyid>`) and per address
//! (`addr:<ip>`). Failures are counted with the shared GCRA limiter (so all replicas count
//! together); a lockout is kept in memory for the hot path, stored in the database (survives
//! restarts), announced on the event bus (other replicas follow) and audited.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use tradeguard_crypto::digest::sha256;
use tradeguard_store::cache::{BusEvent, EventBus, Quota, RateDecision};

use crate::audit::GatewayEvent;
use crate::error::{GatewayError, Result};
use crate::state::AppState;

const BUS_PREFIX: &str = "lockout:";

/// Active lockouts: subject → locked until (Unix ms).
#[derive(Clone, Default)]
pub struct Lockouts {
    map: Arc<RwLock<HashMap<String, i64>>>,
    /// The latest end of any lockout: while `now` is past it, nothing is locked and the hot
    /// path neither formats a subject nor takes the lock.
    latest_until: Arc<AtomicI64>,
}

impl Lockouts {
    /// True when some lockout may still be running at `now_ms`.
    fn any_active(&self, now_ms: i64) -> bool {
        self.latest_until.load(Ordering::Acquire) > now_ms
    }

    /// Refuses while the address `ip` is locked (subject `addr:<ip>`).
    pub fn check_addr(&self, ip: IpAddr, now_ms: i64) -> Result<()> {
        if !self.any_active(now_ms) {
            return Ok(());
        }
        self.check(&format!("addr:{ip}"), "address", now_ms)
    }

    /// Refuses while the key `keyid` is locked (subject `key:<keyid>`).
    pub fn check_key(&self, keyid: &str, now_ms: i64) -> Result<()> {
        if !self.any_active(now_ms) {
            return Ok(());
        }
        self.check(&format!("key:{keyid}"), "key", now_ms)
    }

    /// Refuses with [`GatewayError::LockedOut`] while `subject` is locked.
    pub fn check(&self, subject: &str, kind: &'static str, now_ms: i64) -> Result<()> {
        if !self.any_active(now_ms) {
            return Ok(());
        }
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        match map.get(subject) {
            Some(&until) if until > now_ms => Err(GatewayError::LockedOut {
                subject: kind,
                retry_after_secs: u64::try_from((until - now_ms + 999) / 1000).unwrap_or(1),
            }),
            _ => Ok(()),
        }
    }

    /// How many keys and how many addresses are locked out at `now_ms`.
    pub fn active(&self, now_ms: i64) -> (u64, u64) {
        if !self.any_active(now_ms) {
            return (0, 0);
        }
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        let live = |prefix: &str| {
            let n = map
                .iter()
                .filter(|(s, until)| s.starts_with(prefix) && **until > now_ms)
                .count();
            u64::try_from(n).unwrap_or(u64::MAX)
        };
        (live("key:"), live("addr:"))
    }

    /// Loads the lockouts still active in the store.
    pub async fn load(&self, store: &tradeguard_store::Store, now_ms: i64) -> Result<()> {
        let active = store.gw_lockouts_active(now_ms).await?;
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        for (_, until) in &active {
            self.latest_until.fetch_max(*until, Ordering::AcqRel);
        }
        map.extend(active);
        Ok(())
    }

    fn lock(&self, subject: &str, until_ms: i64) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, until| *until > until_ms - 7 * 86_400_000);
        // Raised first, so a reader that sees the entry also takes the slow path.
        self.latest_until.fetch_max(until_ms, Ordering::AcqRel);
        let slot = map.entry(subject.to_owned()).or_insert(until_ms);
        *slot = (*slot).max(until_ms);
    }

    /// Counts one failure of `subject`; past the policy's limit, locks it out.
    pub async fn failure(&self, state: &AppState, subject: &str) {
        let policy = state.config.lockout;
        let Ok(quota) = Quota::new(policy.max_failures, policy.window, policy.max_failures) else {
            return;
        };
        let key = format!("gw:authfail:{}", hex::encode(sha256(subject.as_bytes())));
        match state.limiter.acquire(&key, &quota, 1).await {
            Ok(RateDecision::Allowed { .. }) => {}
            Ok(RateDecision::Limited { .. }) => self.start(state, subject).await,
            Err(e) => tracing::warn!(error = %e, "auth failure counter unavailable"),
        }
    }

    async fn start(&self, state: &AppState, subject: &str) {
        let now = state.clock.now_ms();
        let until =
            now + i64::try_from(state.config.lockout.lock_for.as_millis()).unwrap_or(i64::MAX / 2);
        if self.check(subject, "", now).is_err() {
            return; // already locked
        }
        self.lock(subject, until);
        if let Err(e) = state.store.gw_lockout_put(subject, until).await {
            tracing::warn!(error = %e, "lockout not stored");
        }
        let (kind, id) = subject.split_once(':').unwrap_or(("?", subject));
        let event = GatewayEvent::new("auth.lockout")
            .field("subject_kind", kind)
            .field("until_ms", until)
            .sensitive("subject", id);
        if let Err(e) = state.audit.append(event).await {
            tracing::error!(error = %e, "lockout not audited");
        }
        if let Err(e) = state
            .bus
            .publish(&format!("{BUS_PREFIX}{until}:{subject}"))
            .await
        {
            tracing::warn!(error = %e, "lockout broadcast failed");
        }
    }

    /// Applies lockouts announced by other replicas until the bus closes.
    pub async fn follow(self, bus: Arc<dyn EventBus>) -> Result<()> {
        let mut sub = bus.subscribe().await?;
        while let Some(event) = sub.recv().await {
            if let BusEvent::Message(m) = event
                && let Some(rest) = m.strip_prefix(BUS_PREFIX)
                && let Some((until, subject)) = rest.split_once(':')
                && let Ok(until) = until.parse::<i64>()
            {
                self.lock(subject, until);
            }
        }
        Ok(())
    }
}
