//! [`GatewayConfig`]: the gateway's tunables, with safe defaults and checked bounds.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{GatewayError, Result};

/// Shortest session TTL an operator may configure.
pub const MIN_SESSION_TTL: Duration = Duration::from_secs(5 * 60);
/// Longest session TTL an operator may configure.
pub const MAX_SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// An action that needs M-of-N approvals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuorumAction {
    /// Leave HALTED or REDUCING for ACTIVE.
    Resume,
    /// Add or remove a principal, or change its scopes.
    PrincipalChange,
    /// Change profiles or risk limits.
    RiskLimitChange,
    /// Import an exchange credential.
    CredentialImport,
}

impl QuorumAction {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resume => "resume",
            Self::PrincipalChange => "principal-change",
            Self::RiskLimitChange => "risk-limit-change",
            Self::CredentialImport => "credential-import",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Resume,
            Self::PrincipalChange,
            Self::RiskLimitChange,
            Self::CredentialImport,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// M-of-N approvers for one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumRule {
    /// Approvals needed (M).
    pub required: u32,
    /// The approvers' key ids (`did:key` or HMAC key ids), N of them.
    pub approvers: Vec<String>,
    /// How long a proposal stays open.
    #[serde(with = "secs")]
    pub proposal_ttl: Duration,
}

/// Lockout after repeated authentication failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutPolicy {
    /// Failures tolerated within `window` before locking (per key and per address).
    pub max_failures: u32,
    /// The window failures are counted in.
    #[serde(with = "secs")]
    pub window: Duration,
    /// How long a lockout lasts.
    #[serde(with = "secs")]
    pub lock_for: Duration,
}

/// Everything the gateway can be tuned with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GatewayConfig {
    /// How far `created` may be from now, either way (default 300 s).
    #[serde(with = "secs")]
    pub signature_window: Duration,
    /// Largest request body accepted, in bytes (default 64 KiB).
    pub max_body_bytes: usize,
    /// Session lifetime (default 1 h; 5 min to 7 days).
    #[serde(with = "secs")]
    pub session_ttl: Duration,
    /// Lockouts after repeated authentication failures.
    pub lockout: LockoutPolicy,
    /// Requests per second each principal may send (sustained).
    pub rate_per_second: u32,
    /// Requests each principal may send at once.
    pub rate_burst: u32,
    /// Lifetime of a two-step order's confirmation token (default 60 s).
    #[serde(with = "secs")]
    pub confirmation_ttl: Duration,
    /// Actions that need approvals, and by whom. An action without a rule cannot be done.
    pub quorum: BTreeMap<QuorumAction, QuorumRule>,
    /// Where to POST a JSON alert when trading is halted.
    pub alert_webhook: Option<String>,
    /// `auth.failure` events the audit log takes per second, across all clients (default 20;
    /// beyond it failures are counted into `auth.failure_suppressed`).
    pub auth_failure_audit_per_second: u32,
    /// How often at most one `auth.failure_suppressed` is appended (default 10 s).
    #[serde(with = "secs")]
    pub auth_failure_summary_every: Duration,
    /// One `auth.success` per principal per this window (default 60 s).
    #[serde(with = "secs")]
    pub auth_success_audit_every: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            signature_window: Duration::from_secs(300),
            max_body_bytes: 64 * 1024,
            session_ttl: Duration::from_secs(3600),
            lockout: LockoutPolicy {
                max_failures: 20,
                window: Duration::from_secs(300),
                lock_for: Duration::from_secs(900),
            },
            rate_per_second: 50,
            rate_burst: 100,
            confirmation_ttl: Duration::from_secs(60),
            quorum: BTreeMap::new(),
            alert_webhook: None,
            auth_failure_audit_per_second: 20,
            auth_failure_summary_every: Duration::from_secs(10),
            auth_success_audit_every: Duration::from_secs(60),
        }
    }
}

impl GatewayConfig {
    /// Checks the bounds; the message names the setting at fault.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, reason: &str| Err(GatewayError::invalid(field, reason));
        if self.session_ttl < MIN_SESSION_TTL || self.session_ttl > MAX_SESSION_TTL {
            return bad("session_ttl", "must be between 5 minutes and 7 days");
        }
        if self.signature_window < Duration::from_secs(1)
            || self.signature_window > Duration::from_secs(3600)
        {
            return bad("signature_window", "must be between 1 s and 1 h");
        }
        if self.max_body_bytes < 1024 {
            return bad("max_body_bytes", "must be at least 1024");
        }
        if self.rate_per_second == 0 || self.rate_burst == 0 || self.rate_per_second > 1_000_000 {
            return bad(
                "rate_per_second/rate_burst",
                "must be between 1 and 1,000,000",
            );
        }
        if self.auth_failure_audit_per_second == 0 || self.auth_failure_audit_per_second > 10_000 {
            return bad(
                "auth_failure_audit_per_second",
                "must be between 1 and 10,000",
            );
        }
        let (summary, success) = (
            self.auth_failure_summary_every,
            self.auth_success_audit_every,
        );
        if summary < Duration::from_secs(1) || summary > Duration::from_secs(3600) {
            return bad("auth_failure_summary_every", "must be between 1 s and 1 h");
        }
        if success < Duration::from_secs(1) || success > Duration::from_secs(3600) {
            return bad("auth_success_audit_every", "must be between 1 s and 1 h");
        }
        if self.lockout.max_failures == 0 || self.lockout.window.is_zero() {
            return bad("lockout", "max_failures and window must be positive");
        }
        for (action, rule) in &self.quorum {
            let mut ids = rule.approvers.clone();
            ids.sort();
            ids.dedup();
            if rule.required == 0
                || rule.required as usize > ids.len()
                || ids.len() != rule.approvers.len()
            {
                return bad(
                    &format!("quorum.{}", action.as_str()),
                    "needs 1 <= required <= number of distinct approvers",
                );
            }
        }
        Ok(())
    }
}

mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bounds_are_enforced() {
        assert!(GatewayConfig::default().validate().is_ok());
        type Edit = fn(&mut GatewayConfig);
        let cases: [(Edit, bool); 10] = [
            (|c| c.session_ttl = Duration::from_secs(299), false),
            (|c| c.session_ttl = MAX_SESSION_TTL, true),
            (
                |c| c.session_ttl = MAX_SESSION_TTL + Duration::from_secs(1),
                false,
            ),
            (
                |c| {
                    c.quorum.insert(
                        QuorumAction::Resume,
                        QuorumRule {
                            required: 2,
                            approvers: vec!["a".into(), "a".into()],
                            proposal_ttl: Duration::from_secs(60),
                        },
                    );
                },
                false,
            ),
            (|c| c.max_body_bytes = 10, false),
            (|c| c.rate_per_second = 1_000_001, false),
            (|c| c.auth_failure_audit_per_second = 0, false),
            (
                |c| c.auth_failure_summary_every = Duration::from_millis(500),
                false,
            ),
            (
                |c| c.auth_success_audit_every = Duration::from_secs(3601),
                false,
            ),
            (
                |c| c.auth_success_audit_every = Duration::from_secs(1),
                true,
            ),
        ];
        for (i, (edit, ok)) in cases.iter().enumerate() {
            let mut c = GatewayConfig::default();
            edit(&mut c);
            assert_eq!(c.validate().is_ok(), *ok, "TC{} failed", i + 1);
        }
    }
}
