//! What authentication leaves in the audit log.
//!
//! - `auth.failure` for each refused authentication (the check, method and route template;
//!   keyid and client address as sensitive fields), within one global budget (a token bucket
//!   of `auth_failure_audit_per_second`, as deep as one second of it). Beyond the budget
//!   failures are only counted, and the first failure (or recorded success, or
//!   [`AuthTrail::flush_suppressed`], which `serve` calls on a timer) at least
//!   `auth_failure_summary_every` after the first one left out appends one
//!   `auth.failure_suppressed` with the count, so a flood cannot flood the log and its end is
//!   reported even when nothing follows it. A failure
//!   event that cannot be appended is counted ([`AuthTrail::failure_appends_lost`]); the
//!   request is refused anyway.
//! - `auth.success` at most once per principal per `auth_success_audit_every`, with the
//!   number of requests the previous window covered. Fail closed: when that append fails the
//!   request is refused. The hot path is one read lock on one of [`SHARDS`] maps and a few
//!   atomics.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::MatchedPath;
use axum::http::Method;
use axum::http::request::Parts;

use crate::audit::GatewayEvent;
use crate::error::{GatewayError, Result};
use crate::principal::{AuthMethod, Principal};
use crate::state::AppState;

/// Shards of the per-principal "last recorded" map.
pub const SHARDS: usize = 16;

/// No window yet.
const NEVER: i64 = i64::MIN;

/// One principal's current window: when it was recorded, and the requests since.
struct Window {
    start_ms: AtomicI64,
    requests: AtomicU64,
}

/// The failure budget's token bucket and the count left out.
struct Budget {
    tokens: f64,
    refilled_ms: i64,
    suppressed: u64,
    suppressed_since_ms: i64,
}

/// A refused authentication, as the audit log records it.
pub(crate) struct Refusal<'a> {
    /// The check that refused (`signature`, `lockout`, ...).
    pub check: &'static str,
    /// The request.
    pub parts: &'a Parts,
    /// The keyid the request named, if any.
    pub keyid: Option<&'a str>,
    /// The client address, if known.
    pub peer: Option<IpAddr>,
}

/// The authentication audit trail of one replica (see the module documentation).
pub struct AuthTrail {
    budget: Mutex<Budget>,
    /// Set while failures are left out, so a recorded success can report them.
    pending: AtomicU64,
    shards: [RwLock<HashMap<String, Arc<Window>>>; SHARDS],
    hasher: RandomState,
    lost: AtomicU64,
}

impl Default for AuthTrail {
    fn default() -> Self {
        Self {
            budget: Mutex::new(Budget {
                tokens: f64::INFINITY,
                refilled_ms: NEVER,
                suppressed: 0,
                suppressed_since_ms: NEVER,
            }),
            pending: AtomicU64::new(0),
            shards: std::array::from_fn(|_| RwLock::new(HashMap::new())),
            hasher: RandomState::new(),
            lost: AtomicU64::new(0),
        }
    }
}

/// The method as a label from a fixed set (an extension method is `other`).
fn method_name(m: &Method) -> &'static str {
    [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::PATCH, "PATCH"),
        (Method::OPTIONS, "OPTIONS"),
    ]
    .into_iter()
    .find(|(k, _)| k == m)
    .map_or("other", |(_, name)| name)
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl AuthTrail {
    /// Failure events that could not be appended (the requests were refused anyway).
    pub fn failure_appends_lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    /// Takes the count left out when the summary interval has passed since the first of them.
    /// Called with the budget locked, so the `pending` flag it clears cannot hide a failure
    /// counted meanwhile.
    fn due_summary(&self, b: &mut Budget, now_ms: i64, every_ms: i64) -> Option<(u64, i64)> {
        if b.suppressed > 0 && now_ms.saturating_sub(b.suppressed_since_ms) >= every_ms {
            let out = (b.suppressed, b.suppressed_since_ms);
            b.suppressed = 0;
            self.pending.store(0, Ordering::Release);
            return Some(out);
        }
        None
    }

    async fn append_summary(&self, state: &AppState, summary: Option<(u64, i64)>, now_ms: i64) {
        let Some((count, since_ms)) = summary else {
            return;
        };
        let event = GatewayEvent::new("auth.failure_suppressed")
            .field("count", count)
            .field("since_ms", since_ms)
            .field("until_ms", now_ms);
        if let Err(e) = state.audit.append(event).await {
            self.lost.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, count, "suppressed authentication failures not audited");
        }
    }

    /// Appends the `auth.failure_suppressed` that is due, if any (the count left out, once
    /// `auth_failure_summary_every` has passed since the first of them). Returns whether one
    /// was due; never fails (a lost append is counted).
    pub async fn flush_suppressed(&self, state: &AppState) -> bool {
        if self.pending.load(Ordering::Acquire) == 0 {
            return false;
        }
        let now_ms = state.clock.now_ms();
        let every_ms = millis(state.config.auth_failure_summary_every);
        let summary = {
            let mut b = self.budget.lock().unwrap_or_else(|p| p.into_inner());
            self.due_summary(&mut b, now_ms, every_ms)
        };
        let due = summary.is_some();
        self.append_summary(state, summary, now_ms).await;
        due
    }

    /// Records one refused authentication, within the budget; never fails.
    pub(crate) async fn failure(&self, state: &AppState, refusal: Refusal<'_>) {
        let now_ms = state.clock.now_ms();
        let rate = f64::from(state.config.auth_failure_audit_per_second.max(1));
        let every_ms = millis(state.config.auth_failure_summary_every);
        let (record, summary) = {
            let mut b = self.budget.lock().unwrap_or_else(|p| p.into_inner());
            let elapsed = now_ms.saturating_sub(b.refilled_ms).max(0) as f64;
            b.tokens = (b.tokens + elapsed * rate / 1000.0).min(rate);
            b.refilled_ms = now_ms;
            let summary = self.due_summary(&mut b, now_ms, every_ms);
            let record = if b.tokens >= 1.0 {
                b.tokens -= 1.0;
                true
            } else {
                if b.suppressed == 0 {
                    b.suppressed_since_ms = now_ms;
                }
                b.suppressed += 1;
                self.pending.store(1, Ordering::Release);
                false
            };
            (record, summary)
        };
        self.append_summary(state, summary, now_ms).await;
        if !record {
            return;
        }
        let route = refusal
            .parts
            .extensions
            .get::<MatchedPath>()
            .map_or("other", MatchedPath::as_str);
        let mut event = GatewayEvent::new("auth.failure")
            .field("check", refusal.check)
            .field("method", method_name(&refusal.parts.method))
            .field("route", route);
        if let Some(k) = refusal.keyid {
            event = event.sensitive("keyid", k);
        }
        if let Some(ip) = refusal.peer {
            event = event.sensitive("client", ip.to_string());
        }
        if let Err(e) = state.audit.append(event).await {
            self.lost.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, check = refusal.check, "authentication failure not audited");
        }
    }

    fn shard(&self, keyid: &str) -> &RwLock<HashMap<String, Arc<Window>>> {
        let h = self.hasher.hash_one(keyid);
        &self.shards[(h % SHARDS as u64) as usize]
    }

    /// Counts a request of `keyid` in its window, or starts a new window: then returns the
    /// previous window's start and request count, and the caller must record it.
    fn roll(&self, keyid: &str, now_ms: i64, window_ms: i64) -> Option<(Arc<Window>, i64, u64)> {
        let shard = self.shard(keyid);
        let found = shard
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(keyid)
            .cloned();
        let w = match found {
            Some(w) => w,
            None => shard
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .entry(keyid.to_owned())
                .or_insert_with(|| {
                    Arc::new(Window {
                        start_ms: AtomicI64::new(NEVER),
                        requests: AtomicU64::new(0),
                    })
                })
                .clone(),
        };
        let start = w.start_ms.load(Ordering::Acquire);
        if now_ms.saturating_sub(start) < window_ms
            || w.start_ms
                .compare_exchange(start, now_ms, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            w.requests.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let previous = w.requests.swap(0, Ordering::AcqRel);
        Some((w, start, previous))
    }

    /// Counts an authenticated request; at the start of the principal's window appends
    /// `auth.success`, and refuses the request when that append fails (fail closed).
    pub(crate) async fn success(&self, state: &AppState, principal: &Principal) -> Result<()> {
        let now_ms = state.clock.now_ms();
        let window_ms = millis(state.config.auth_success_audit_every);
        let Some((w, start, previous)) = self.roll(&principal.keyid, now_ms, window_ms) else {
            return Ok(());
        };
        if self.pending.load(Ordering::Acquire) != 0 {
            let every_ms = millis(state.config.auth_failure_summary_every);
            let summary = {
                let mut b = self.budget.lock().unwrap_or_else(|p| p.into_inner());
                self.due_summary(&mut b, now_ms, every_ms)
            };
            self.append_summary(state, summary, now_ms).await;
        }
        let method = match principal.method {
            AuthMethod::Signature => "signature",
            AuthMethod::Session => "session",
        };
        let mut event = GatewayEvent::new("auth.success")
            .field("principal", principal.keyid.as_str())
            .field("method", method)
            .field("window_s", state.config.auth_success_audit_every.as_secs())
            .field("previous_window_requests", previous);
        if start != NEVER {
            event = event.field("previous_window_start_ms", start);
        }
        match state.audit.append(event).await {
            Ok(()) => {
                w.requests.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                // The next request of this principal tries again.
                w.requests.fetch_add(previous, Ordering::Relaxed);
                let _ =
                    w.start_ms
                        .compare_exchange(now_ms, start, Ordering::AcqRel, Ordering::Acquire);
                tracing::error!(error = %e, "authentication success not audited; request refused");
                Err(GatewayError::AuditUnavailable)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_recorded_once_and_counts_the_requests_it_covered() {
        let t = AuthTrail::default();
        let (_, start, n) = t.roll("k", 1_000, 60_000).unwrap();
        assert_eq!((start, n), (NEVER, 0));
        let (w, _, _) = t.roll("j", 1_000, 60_000).unwrap();
        w.requests.fetch_add(1, Ordering::Relaxed);
        for ms in [1_001, 30_000, 60_999] {
            assert!(t.roll("j", ms, 60_000).is_none());
        }
        let (_, start, n) = t.roll("j", 61_000, 60_000).unwrap();
        assert_eq!((start, n), (1_000, 4));
    }

    #[test]
    fn methods_are_labels_from_a_fixed_set() {
        assert_eq!(method_name(&Method::DELETE), "DELETE");
        assert_eq!(method_name(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
