//! Errors, split by how the caller reacts: retry ([`ExchangeError::Transient`]), reject
//! ([`ExchangeError::Definitive`]), wait ([`ExchangeError::RateLimited`],
//! [`ExchangeError::Banned`], [`ExchangeError::CircuitOpen`]) or reconcile
//! ([`ExchangeError::UnknownOutcome`]). Messages name what failed, never a secret value.

use std::fmt;
use std::time::Duration;

use crate::model::{ExchangeId, UnixMillis};

/// A value that could not be parsed into the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A field had an invalid value; `field` names it, the value is not repeated.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The system random number generator failed.
    #[error("the system random number generator failed; check the platform's entropy source")]
    Random,
}

/// Why an exchange refused a request, in tradeguard's words. The exchange's own code and message
/// travel beside it in [`ExchangeError::Definitive`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectKind {
    /// The signature did not verify: wrong secret, or the request was altered.
    InvalidSignature,
    /// The timestamp was outside the exchange's window: check the host clock.
    InvalidTimestamp,
    /// The nonce was not greater than the last one used with this key.
    InvalidNonce,
    /// The API key is unknown, malformed, expired, or used from an IP it does not allow.
    InvalidApiKey,
    /// The key lacks the permission this call needs.
    PermissionDenied,
    /// Not enough funds for the order.
    InsufficientFunds,
    /// The order broke a rule of the market (size, price, filters, unsupported type).
    InvalidOrder,
    /// An open order already uses this client order id.
    DuplicateOrder,
    /// No such order.
    UnknownOrder,
    /// The request itself was malformed or refused for another reason.
    InvalidRequest,
}

impl fmt::Display for RejectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RejectKind::InvalidSignature => "invalid signature (check the API secret)",
            RejectKind::InvalidTimestamp => {
                "timestamp outside the allowed window (check the host clock)"
            }
            RejectKind::InvalidNonce => {
                "nonce not increasing (is another program using this key, or did the clock go back?)"
            }
            RejectKind::InvalidApiKey => {
                "API key refused (check the key, its secret, its IP allowlist and the host clock)"
            }
            RejectKind::PermissionDenied => "permission denied",
            RejectKind::InsufficientFunds => "insufficient funds",
            RejectKind::InvalidOrder => "order refused",
            RejectKind::DuplicateOrder => "duplicate client order id",
            RejectKind::UnknownOrder => "unknown order",
            RejectKind::InvalidRequest => "request refused",
        })
    }
}

/// What a caller should do with an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reaction {
    /// Try again after a back-off (the connector has already retried safe requests).
    Retry,
    /// Wait this long (or until the ban ends), then try again.
    Wait(Duration),
    /// Do not repeat the request unchanged; report the error.
    Reject,
    /// The order's fate is unknown: query it by client order id; never send it again blind.
    Resolve,
}

/// An exchange call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// A temporary failure (network, 5xx on a read, exchange busy). Safe requests were retried.
    #[error(
        "{exchange}: {operation} failed temporarily ({reason}); retry later and check connectivity if it persists"
    )]
    Transient {
        /// The exchange.
        exchange: ExchangeId,
        /// The operation (`place_order`, `balances`, ...).
        operation: &'static str,
        /// What happened.
        reason: String,
    },
    /// The exchange refused the request; repeating it unchanged fails again.
    #[error("{exchange} refused {operation}: {kind} (exchange code {code}: {message})")]
    Definitive {
        /// The exchange.
        exchange: ExchangeId,
        /// The operation.
        operation: &'static str,
        /// tradeguard's reading of the refusal.
        kind: RejectKind,
        /// The exchange's own error code (`-1022`, `EAPI:Invalid signature`, HTTP status, ...).
        code: String,
        /// The exchange's own message (never contains our secrets).
        message: String,
    },
    /// A rate limit was reached (locally, before sending, or by the exchange's 429).
    #[error("{exchange}: rate limit reached for {operation}; retry after {retry_after:?}")]
    RateLimited {
        /// The exchange.
        exchange: ExchangeId,
        /// The operation.
        operation: &'static str,
        /// How long to wait, when known (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// The exchange banned this IP (Binance HTTP 418); nothing is sent until `until`.
    #[error(
        "{exchange} banned this IP until {until} (HTTP 418 after repeated 429s); no requests are sent until then"
    )]
    Banned {
        /// The exchange.
        exchange: ExchangeId,
        /// When the ban ends.
        until: UnixMillis,
    },
    /// A non-idempotent request (a new order) may or may not have taken effect. Resolve it by
    /// querying the order by client order id; never send it again blind.
    #[error(
        "{exchange}: outcome of {operation} is unknown ({reason}); resolve it by querying the client order id, never by sending it again"
    )]
    UnknownOutcome {
        /// The exchange.
        exchange: ExchangeId,
        /// The operation.
        operation: &'static str,
        /// What happened (timeout, connection dropped, 5xx).
        reason: String,
    },
    /// The circuit breaker is open after repeated failures; nothing was sent.
    #[error(
        "{exchange}: circuit open after repeated failures; nothing sent, next probe in {retry_in:?}"
    )]
    CircuitOpen {
        /// The exchange.
        exchange: ExchangeId,
        /// Time until the half-open probe.
        retry_in: Duration,
    },
    /// The exchange answered something this connector cannot read.
    #[error("{exchange}: unexpected response to {operation}: {reason}")]
    Protocol {
        /// The exchange.
        exchange: ExchangeId,
        /// The operation.
        operation: &'static str,
        /// What was wrong (field names, never values of secrets).
        reason: String,
    },
    /// Local configuration or credential problem; nothing was sent.
    #[error("{exchange}: invalid {what}: {reason}")]
    Config {
        /// The exchange.
        exchange: ExchangeId,
        /// The setting or credential part at fault (`api_secret`, `base_url`, ...).
        what: &'static str,
        /// Why, and what to do.
        reason: String,
    },
    /// The exchange (or this environment of it) does not offer the operation.
    #[error("{exchange}: {operation} is not available: {hint}")]
    Unsupported {
        /// The exchange.
        exchange: ExchangeId,
        /// The operation.
        operation: &'static str,
        /// Why, and what to do instead.
        hint: &'static str,
    },
}

impl ExchangeError {
    /// How the caller should react.
    pub fn reaction(&self) -> Reaction {
        match self {
            ExchangeError::Transient { .. } => Reaction::Retry,
            ExchangeError::RateLimited { retry_after, .. } => {
                Reaction::Wait(retry_after.unwrap_or(Duration::from_secs(1)))
            }
            ExchangeError::CircuitOpen { retry_in, .. } => Reaction::Wait(*retry_in),
            ExchangeError::Banned { .. } => Reaction::Wait(Duration::MAX),
            ExchangeError::UnknownOutcome { .. } => Reaction::Resolve,
            ExchangeError::Definitive { .. }
            | ExchangeError::Protocol { .. }
            | ExchangeError::Config { .. }
            | ExchangeError::Unsupported { .. } => Reaction::Reject,
        }
    }

    /// The exchange the error came from.
    pub fn exchange(&self) -> ExchangeId {
        match self {
            ExchangeError::Transient { exchange, .. }
            | ExchangeError::Definitive { exchange, .. }
            | ExchangeError::RateLimited { exchange, .. }
            | ExchangeError::Banned { exchange, .. }
            | ExchangeError::UnknownOutcome { exchange, .. }
            | ExchangeError::CircuitOpen { exchange, .. }
            | ExchangeError::Protocol { exchange, .. }
            | ExchangeError::Config { exchange, .. }
            | ExchangeError::Unsupported { exchange, .. } => *exchange,
        }
    }

    /// The refusal kind, for [`ExchangeError::Definitive`].
    pub fn reject_kind(&self) -> Option<RejectKind> {
        match self {
            ExchangeError::Definitive { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// True when the error counts as an exchange failure for the circuit breaker (the
    /// exchange did not answer properly), as opposed to a refusal or a local decision.
    pub fn is_exchange_failure(&self) -> bool {
        matches!(
            self,
            ExchangeError::Transient { .. }
                | ExchangeError::UnknownOutcome { .. }
                | ExchangeError::Protocol { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reactions_follow_the_split() {
        let e = ExchangeId::Binance;
        let cases = [
            (
                ExchangeError::Transient {
                    exchange: e,
                    operation: "x",
                    reason: "r".into(),
                },
                Reaction::Retry,
            ),
            (
                ExchangeError::UnknownOutcome {
                    exchange: e,
                    operation: "x",
                    reason: "r".into(),
                },
                Reaction::Resolve,
            ),
            (
                ExchangeError::Definitive {
                    exchange: e,
                    operation: "x",
                    kind: RejectKind::InvalidSignature,
                    code: "-1022".into(),
                    message: "m".into(),
                },
                Reaction::Reject,
            ),
            (
                ExchangeError::RateLimited {
                    exchange: e,
                    operation: "x",
                    retry_after: Some(Duration::from_secs(7)),
                },
                Reaction::Wait(Duration::from_secs(7)),
            ),
        ];
        for (i, (err, want)) in cases.iter().enumerate() {
            assert_eq!(err.reaction(), *want, "TC{i} failed: {err}");
        }
    }
}
