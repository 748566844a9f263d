//! The request pipeline every connector call goes through:
//! circuit breaker → shared rate budget → build and sign (fresh timestamp or nonce) → send →
//! learn from the response → classify → retry only if the request is safe to repeat.
//!
//! For a non-idempotent request (a new order), any failure after the request may have left
//! (timeout, dropped connection, 5xx, unreadable answer) becomes
//! [`ExchangeError::UnknownOutcome`]; it is never retried.

use std::sync::Arc;
use std::time::Duration;

use crate::breaker::CircuitBreaker;
use crate::clock::Clock;
use crate::error::ExchangeError;
use crate::http::{HttpClient, HttpRequest, HttpResponse, SendError};
use crate::model::ExchangeId;
use crate::ratelimit::{self, Limits};
use crate::retry::{RetryPolicy, Safety};

/// Longest `Retry-After` the pipeline waits out by itself before giving the error back.
const MAX_AUTO_RETRY_AFTER: Duration = Duration::from_secs(10);

/// One logical call: its name (for errors), whether it may be repeated, and its cost.
pub(crate) struct Call<C> {
    pub operation: &'static str,
    pub safety: Safety,
    pub cost: C,
}

/// Shared machinery of one connector.
pub(crate) struct Pipeline<L: Limits> {
    pub exchange: ExchangeId,
    pub http: HttpClient,
    pub limits: Arc<L>,
    pub breaker: Arc<CircuitBreaker>,
    pub retry: RetryPolicy,
    pub clock: Arc<dyn Clock>,
    pub max_wait: Duration,
    /// Held from building (signing) a request until its answer arrives, when requests of one
    /// key must reach the exchange in the order they were signed (Kraken nonces). Rate-limit
    /// waits and retry back-offs happen outside it.
    pub send_turn: Option<Arc<tokio::sync::Mutex<()>>>,
}

impl<L: Limits> Pipeline<L> {
    /// Runs `call`: `build` makes (and signs) the request for each attempt, `parse` reads the
    /// response into a value or a classified error.
    pub async fn execute<T, B, P>(
        &self,
        call: &Call<L::Cost>,
        build: B,
        parse: P,
    ) -> Result<T, ExchangeError>
    where
        B: Fn() -> Result<HttpRequest, ExchangeError> + Send + Sync,
        P: Fn(&HttpResponse) -> Result<T, ExchangeError> + Send + Sync,
        T: Send,
    {
        // A new order is never signed later than this: `order_validity` counts on it.
        let sign_by = self.clock.now().plus(self.max_wait);
        let mut attempt = 1;
        loop {
            let result = self.attempt(call, &build, &parse, sign_by).await;
            let retry = call.safety == Safety::Idempotent
                && attempt < self.retry.max_attempts
                && matches!(&result, Err(e) if retryable(e));
            if !retry {
                return result;
            }
            let wait = self.retry.backoff(attempt);
            tracing::debug!(exchange = %self.exchange, operation = call.operation, attempt, wait_ms = wait.as_millis() as u64, "retrying");
            self.clock.sleep(wait).await;
            attempt += 1;
        }
    }

    async fn attempt<T, B, P>(
        &self,
        call: &Call<L::Cost>,
        build: &B,
        parse: &P,
        sign_by: crate::model::UnixMillis,
    ) -> Result<T, ExchangeError>
    where
        B: Fn() -> Result<HttpRequest, ExchangeError> + Send + Sync,
        P: Fn(&HttpResponse) -> Result<T, ExchangeError> + Send + Sync,
        T: Send,
    {
        let permit = self.breaker.allow(self.clock.now())?;
        let clock = &*self.clock;
        ratelimit::acquire(
            &*self.limits,
            clock,
            &call.cost,
            call.operation,
            self.max_wait,
        )
        .await?;
        let turn = match &self.send_turn {
            Some(t) => Some(t.lock().await),
            None => None,
        };
        if call.safety == Safety::NonIdempotent && self.clock.now() > sign_by {
            // Waiting for the turn took too long: not sent, so the ledger's bound holds.
            return Err(ExchangeError::RateLimited {
                exchange: self.exchange,
                operation: call.operation,
                retry_after: None,
            });
        }
        let request = build()?;
        let sent = self.http.send(request).await;
        drop(turn);
        let now = self.clock.now();
        let result = match sent {
            Err(SendError::NotSent(reason)) => Err(ExchangeError::Transient {
                exchange: self.exchange,
                operation: call.operation,
                reason,
            }),
            Err(SendError::MaybeSent(reason)) => Err(self.ambiguous(call, reason)),
            Ok(resp) => {
                self.limits
                    .observe(now, &call.cost, resp.status, &resp.headers);
                parse(&resp).map_err(|e| self.after_send(call, e))
            }
        };
        match &result {
            Err(ExchangeError::RateLimited { retry_after, .. }) => {
                self.limits.throttled(now, *retry_after);
            }
            Err(ExchangeError::Banned { until, .. }) => self.limits.banned(now, *until),
            _ => {}
        }
        permit.record(now, &result);
        result
    }

    fn ambiguous(&self, call: &Call<L::Cost>, reason: String) -> ExchangeError {
        match call.safety {
            Safety::NonIdempotent => ExchangeError::UnknownOutcome {
                exchange: self.exchange,
                operation: call.operation,
                reason,
            },
            Safety::Idempotent => ExchangeError::Transient {
                exchange: self.exchange,
                operation: call.operation,
                reason,
            },
        }
    }

    /// A response arrived but said "failed" in a way that does not prove the request had no
    /// effect: for a new order that is an unknown outcome.
    fn after_send(&self, call: &Call<L::Cost>, e: ExchangeError) -> ExchangeError {
        match (&call.safety, e) {
            (
                Safety::NonIdempotent,
                ExchangeError::Transient { reason, .. } | ExchangeError::Protocol { reason, .. },
            ) => self.ambiguous(call, reason),
            (_, e) => e,
        }
    }
}

fn retryable(e: &ExchangeError) -> bool {
    match e {
        ExchangeError::Transient { .. } => true,
        ExchangeError::RateLimited { retry_after, .. } => {
            retry_after.is_none_or(|d| d <= MAX_AUTO_RETRY_AFTER)
        }
        _ => false,
    }
}
