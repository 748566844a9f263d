//! [`GatewayError`]: every way a request is refused, each mapped to one RFC 9457 problem
//! document. Messages name the failing check or field, never a submitted value.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tradeguard_store::StoreError;

use crate::auth::AuthCheck;
use crate::problem::Problem;
use crate::scope::Scope;

/// Why the gateway refused a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// An authentication check failed (signature, digest, time window, nonce, key, session).
    #[error("authentication failed at check `{}`: {detail}", check.name())]
    Unauthenticated {
        /// The check that refused the request.
        check: AuthCheck,
        /// What was wrong, from fixed text and identifiers only.
        detail: String,
    },
    /// The key or address failed authentication too often and is locked out for a while.
    #[error(
        "too many failed authentications from this {subject}; retry after {retry_after_secs} s"
    )]
    LockedOut {
        /// `key` or `address`.
        subject: &'static str,
        /// Seconds until the lockout ends.
        retry_after_secs: u64,
    },
    /// The principal sent more requests than its rate limit allows.
    #[error("rate limit exceeded for this principal; retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the next request may pass.
        retry_after_secs: u64,
    },
    /// The caller is authenticated but lacks the scope this endpoint needs.
    #[error("this endpoint needs scope `{}`, which the caller does not have; ask an operator to grant it", scope.as_str())]
    Forbidden {
        /// The scope the endpoint needs.
        scope: Scope,
    },
    /// The route declares no scope, or the action is not permitted to anyone (default deny).
    #[error("{reason}")]
    Denied {
        /// Why.
        reason: String,
    },
    /// The request body or query is not what the endpoint accepts.
    #[error("invalid request: {field} {reason}")]
    InvalidRequest {
        /// The field (or `body`) at fault.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request has the documented shape, but its meaning is refused (a `keyid` that is
    /// not a valid `did:key`, an envelope that does not decode, a limit order without a
    /// price, a zero quantity): HTTP 422, where a shape error is 400.
    #[error("unprocessable request: {field} {reason}")]
    Unprocessable {
        /// The field at fault.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request body is larger than the configured limit.
    #[error("request body larger than {limit} bytes; send a smaller body")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The thing named in the path does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked up.
        what: String,
    },
    /// The request conflicts with the current state (halted, idempotency key reused, ...).
    #[error("{reason}")]
    Conflict {
        /// Machine-readable kind (the problem type slug).
        slug: &'static str,
        /// What conflicts and what to do.
        reason: String,
    },
    /// The risk engine refused the order.
    #[error("order refused by the risk engine: {reasons}")]
    RiskRefused {
        /// Every failed check, as the risk engine words it.
        reasons: String,
    },
    /// The audit log could not record the action, so the action was not taken (fail closed).
    #[error(
        "the audit log is unavailable, so the action was refused; check the database and retry"
    )]
    AuditUnavailable,
    /// The exchange side failed.
    #[error("exchange error: {reason}")]
    Exchange {
        /// What failed (no credentials).
        reason: String,
    },
    /// Storage or a shared cache failed.
    #[error("storage error: {0}")]
    Store(#[from] StoreError),
    /// A bug or an impossible state.
    #[error("internal error: {reason}")]
    Internal {
        /// What failed.
        reason: String,
    },
}

impl GatewayError {
    /// An authentication failure at `check`.
    pub fn auth(check: AuthCheck, detail: impl Into<String>) -> Self {
        Self::Unauthenticated {
            check,
            detail: detail.into(),
        }
    }

    /// An invalid field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidRequest {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A well-formed field whose meaning is refused (HTTP 422).
    pub fn unprocessable(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Unprocessable {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        use StatusCode as S;
        let detail = self.to_string();
        match self {
            Self::Unauthenticated { check, .. } => Problem::new(
                "unauthenticated",
                "Authentication failed",
                S::UNAUTHORIZED,
                detail,
            )
            .with_check(check.name()),
            Self::LockedOut {
                retry_after_secs, ..
            } => Problem::new("locked-out", "Locked out", S::TOO_MANY_REQUESTS, detail)
                .with_check("lockout")
                .with_retry_after(*retry_after_secs),
            Self::RateLimited { retry_after_secs } => Problem::new(
                "rate-limited",
                "Rate limit exceeded",
                S::TOO_MANY_REQUESTS,
                detail,
            )
            .with_retry_after(*retry_after_secs),
            Self::Forbidden { .. } => {
                Problem::new("forbidden", "Missing scope", S::FORBIDDEN, detail).with_check("scope")
            }
            Self::Denied { .. } => Problem::new("denied", "Not permitted", S::FORBIDDEN, detail),
            Self::InvalidRequest { .. } => {
                Problem::new("invalid-request", "Invalid request", S::BAD_REQUEST, detail)
            }
            Self::Unprocessable { .. } => Problem::new(
                "unprocessable",
                "Unprocessable request",
                S::UNPROCESSABLE_ENTITY,
                detail,
            ),
            Self::BodyTooLarge { .. } => Problem::new(
                "body-too-large",
                "Body too large",
                S::PAYLOAD_TOO_LARGE,
                detail,
            ),
            Self::NotFound { .. } => Problem::new("not-found", "Not found", S::NOT_FOUND, detail),
            Self::Conflict { slug, .. } => Problem::new(slug, "Conflict", S::CONFLICT, detail),
            Self::RiskRefused { .. } => Problem::new(
                "risk-refused",
                "Refused by the risk engine",
                S::UNPROCESSABLE_ENTITY,
                detail,
            ),
            Self::AuditUnavailable => Problem::new(
                "audit-unavailable",
                "Audit log unavailable",
                S::SERVICE_UNAVAILABLE,
                detail,
            ),
            Self::Exchange { .. } => {
                Problem::new("exchange", "Exchange error", S::BAD_GATEWAY, detail)
            }
            Self::Store(e) if e.is_transient() => Problem::new(
                "unavailable",
                "Temporarily unavailable",
                S::SERVICE_UNAVAILABLE,
                detail,
            )
            .with_retry_after(1),
            Self::Store(_) | Self::Internal { .. } => Problem::new(
                "internal",
                "Internal error",
                S::INTERNAL_SERVER_ERROR,
                "internal error; the operator can find the cause in the gateway log",
            ),
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        if matches!(self, Self::Store(_) | Self::Internal { .. }) {
            tracing::error!(error = %self, "request failed");
        }
        self.problem().into_response()
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = GatewayError> = std::result::Result<T, E>;
