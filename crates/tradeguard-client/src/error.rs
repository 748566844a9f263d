//! The client's error type, split by what the caller should do: fix the setup, read the
//! gateway's refusal, retry, or reconcile an outcome the client cannot know.

use std::path::PathBuf;

use crate::Problem;

/// Why a call did not give an answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The gateway answered with an RFC 9457 problem document: a definitive refusal (or a
    /// `retry_after` for lockouts and rate limits).
    #[error("gateway refused the request ({status}): {}", .problem.summary())]
    Problem {
        /// The HTTP status.
        status: u16,
        /// The problem document.
        problem: Box<Problem>,
    },
    /// The gateway answered an error that is not a problem document (a proxy, or not a
    /// tradeguard gateway).
    #[error(
        "gateway answered HTTP {status} without a problem document; check --url points at a tradeguard gateway"
    )]
    Http {
        /// The HTTP status.
        status: u16,
    },
    /// The answer was not the JSON expected.
    #[error("gateway answer is not valid JSON ({reason}); check the client and gateway versions")]
    Decode {
        /// The parser's message (positions only).
        reason: String,
    },
    /// The request never reached the gateway (connection refused, DNS, TLS handshake): safe
    /// to retry.
    #[error("cannot reach the gateway at {url}: {reason}")]
    Connect {
        /// The base URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The request was sent but no answer came (timeout, connection dropped). A state-changing
    /// call may or may not have taken effect: list before retrying (orders are idempotent on
    /// `client_order_id`, so resending the same order is safe).
    #[error(
        "no answer from the gateway after sending the request ({reason}); its outcome is unknown: check before retrying"
    )]
    OutcomeUnknown {
        /// What failed.
        reason: String,
    },
    /// The principal key could not be loaded.
    #[error("principal key {path}: {reason}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong (never the key).
        reason: String,
    },
    /// The client configuration is unusable (URL, certificate, plain HTTP off loopback).
    #[error("{0}")]
    Config(String),
    /// The request could not be signed.
    #[error("cannot sign the request: {0}")]
    Sign(#[from] tradeguard_httpsig::HttpSigError),
}

impl ClientError {
    /// True when retrying the same call later may succeed and cannot do harm: the request
    /// never left, or the gateway asked to retry after a delay (lockout, rate limit).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Connect { .. } => true,
            Self::Problem { status, problem } => {
                problem.retry_after.is_some() || matches!(status, 429 | 502 | 503)
            }
            _ => false,
        }
    }

    /// The problem document, when the gateway sent one.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Self::Problem { problem, .. } => Some(problem),
            _ => None,
        }
    }
}
