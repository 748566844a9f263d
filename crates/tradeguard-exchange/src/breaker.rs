//! Circuit breaker per exchange endpoint: opens after N consecutive failures, then lets one
//! probe through after a cool-down (half-open); the probe's result closes or re-opens it.
//! Refusals (bad signature, insufficient funds) and rate limits are not failures: only an
//! exchange that does not answer properly opens the circuit.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ExchangeError;
use crate::model::{ExchangeId, UnixMillis};

/// Breaker settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    /// Consecutive failures that open the circuit.
    pub failure_threshold: u32,
    /// First cool-down before the half-open probe; doubled after each failed probe.
    #[serde(with = "crate::retry::millis")]
    pub open_for: Duration,
    /// Longest cool-down.
    #[serde(with = "crate::retry::millis")]
    pub max_open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(10),
            max_open_for: Duration::from_secs(300),
        }
    }
}

/// The breaker's state, for connectivity reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BreakerState {
    /// Requests flow; `failures` consecutive failures so far.
    Closed {
        /// Consecutive failures.
        failures: u32,
    },
    /// Requests are refused until `until`.
    Open {
        /// When the probe is allowed.
        until: UnixMillis,
    },
    /// One probe request is allowed (or in flight).
    HalfOpen,
}

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    cooldown: Duration,
    probe_in_flight: bool,
}

/// A circuit breaker. Share it (`Arc`) between every client of one exchange endpoint.
#[derive(Debug)]
pub struct CircuitBreaker {
    exchange: ExchangeId,
    config: BreakerConfig,
    inner: Mutex<Inner>,
}

/// Permission to send one request. Report its result with [`BreakerPermit::record`]; a permit
/// dropped unreported (the request was cancelled) frees the probe slot without a verdict.
#[derive(Debug)]
pub struct BreakerPermit<'a> {
    breaker: &'a CircuitBreaker,
    probe: bool,
    done: bool,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(exchange: ExchangeId, config: BreakerConfig) -> Self {
        Self {
            exchange,
            config,
            inner: Mutex::new(Inner {
                state: BreakerState::Closed { failures: 0 },
                cooldown: config.open_for,
                probe_in_flight: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current state (an open breaker whose cool-down has passed reads as half-open).
    pub fn state(&self, now: UnixMillis) -> BreakerState {
        match self.lock().state {
            BreakerState::Open { until } if now >= until => BreakerState::HalfOpen,
            s => s,
        }
    }

    /// Asks to send one request now.
    pub fn allow(&self, now: UnixMillis) -> Result<BreakerPermit<'_>, ExchangeError> {
        let mut g = self.lock();
        match g.state {
            BreakerState::Closed { .. } => Ok(self.permit(false)),
            BreakerState::Open { until } if now < until => Err(ExchangeError::CircuitOpen {
                exchange: self.exchange,
                retry_in: now.until(until),
            }),
            BreakerState::Open { .. } | BreakerState::HalfOpen => {
                if g.probe_in_flight {
                    return Err(ExchangeError::CircuitOpen {
                        exchange: self.exchange,
                        retry_in: Duration::from_secs(1),
                    });
                }
                g.state = BreakerState::HalfOpen;
                g.probe_in_flight = true;
                Ok(self.permit(true))
            }
        }
    }

    fn permit(&self, probe: bool) -> BreakerPermit<'_> {
        BreakerPermit {
            breaker: self,
            probe,
            done: false,
        }
    }

    fn on_success(&self) {
        let mut g = self.lock();
        g.state = BreakerState::Closed { failures: 0 };
        g.cooldown = self.config.open_for;
        g.probe_in_flight = false;
    }

    fn on_failure(&self, now: UnixMillis, probe: bool) {
        let mut g = self.lock();
        let open = match g.state {
            BreakerState::Closed { failures } => {
                let failures = failures + 1;
                g.state = BreakerState::Closed { failures };
                failures >= self.config.failure_threshold
            }
            BreakerState::HalfOpen if probe => {
                g.cooldown = (g.cooldown * 2).min(self.config.max_open_for);
                true
            }
            _ => false,
        };
        if open {
            g.state = BreakerState::Open {
                until: now.plus(g.cooldown),
            };
            tracing::warn!(exchange = %self.exchange, cooldown_ms = g.cooldown.as_millis() as u64, "circuit opened");
        }
        if probe {
            g.probe_in_flight = false;
        }
    }
}

impl BreakerPermit<'_> {
    /// Reports the request's result: exchange failures count, everything else closes.
    pub fn record<T>(mut self, now: UnixMillis, result: &Result<T, ExchangeError>) {
        self.done = true;
        match result {
            Err(e) if e.is_exchange_failure() => self.breaker.on_failure(now, self.probe),
            _ => self.breaker.on_success(),
        }
    }
}

impl Drop for BreakerPermit<'_> {
    fn drop(&mut self) {
        if self.probe && !self.done {
            self.breaker.lock().probe_in_flight = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail() -> Result<(), ExchangeError> {
        Err(ExchangeError::Transient {
            exchange: ExchangeId::Kraken,
            operation: "t",
            reason: "r".into(),
        })
    }

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_secs(10),
            max_open_for: Duration::from_secs(30),
        }
    }

    #[test]
    fn opens_after_threshold_then_probes_and_closes() {
        let b = CircuitBreaker::new(ExchangeId::Kraken, cfg());
        let t = UnixMillis(0);
        for _ in 0..3 {
            b.allow(t).unwrap().record(t, &fail());
        }
        assert!(matches!(b.allow(t), Err(ExchangeError::CircuitOpen { .. })));
        let later = UnixMillis(10_000);
        let probe = b.allow(later).unwrap();
        assert!(b.allow(later).is_err(), "a second probe must wait");
        probe.record(later, &Ok::<(), ExchangeError>(()));
        assert_eq!(b.state(later), BreakerState::Closed { failures: 0 });
    }

    #[test]
    fn failed_probe_doubles_the_cooldown_up_to_the_cap() {
        let b = CircuitBreaker::new(ExchangeId::Kraken, cfg());
        let mut t = UnixMillis(0);
        for _ in 0..3 {
            b.allow(t).unwrap().record(t, &fail());
        }
        let expected = [20_000, 30_000, 30_000];
        for (i, want) in expected.iter().enumerate() {
            let BreakerState::Open { until } = b.state(t) else {
                panic!("TC{i} failed: not open")
            };
            t = until;
            b.allow(t).unwrap().record(t, &fail());
            let BreakerState::Open { until } = b.state(t) else {
                panic!("TC{i} failed: not reopened")
            };
            assert_eq!(until.0 - t.0, *want, "TC{i} failed");
        }
    }

    #[test]
    fn refusals_do_not_count_and_dropped_probe_frees_the_slot() {
        let b = CircuitBreaker::new(ExchangeId::Kraken, cfg());
        let t = UnixMillis(0);
        let refused: Result<(), _> = Err(ExchangeError::Definitive {
            exchange: ExchangeId::Kraken,
            operation: "t",
            kind: crate::RejectKind::InsufficientFunds,
            code: "EOrder:Insufficient funds".into(),
            message: String::new(),
        });
        for _ in 0..10 {
            b.allow(t).unwrap().record(t, &refused);
        }
        assert_eq!(b.state(t), BreakerState::Closed { failures: 0 });
        for _ in 0..3 {
            b.allow(t).unwrap().record(t, &fail());
        }
        let later = UnixMillis(10_000);
        drop(b.allow(later).unwrap());
        assert!(b.allow(later).is_ok(), "dropped probe must free the slot");
    }
}
