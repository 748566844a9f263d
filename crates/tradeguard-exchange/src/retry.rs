//! Retries with exponential back-off and jitter, for requests that are safe to repeat only
//! (reads, and cancels by id). A new-order request is never retried blind.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Whether a request may be sent again after an ambiguous failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Safety {
    /// Repeating it has no further effect (reads, cancels by id).
    Idempotent,
    /// Repeating it could act twice (new orders): never retried; an ambiguous failure is
    /// reported as unknown outcome.
    NonIdempotent,
}

/// Back-off for retries: attempt `n` (from 1) waits a random time in
/// `[d/2, d]` where `d = min(max, base * 2^(n-1))` ("equal jitter").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Total attempts, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Back-off before the first retry.
    #[serde(with = "crate::retry::millis")]
    pub base: Duration,
    /// Longest back-off.
    #[serde(with = "crate::retry::millis")]
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base: Duration::from_millis(200),
            max: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The back-off after failed attempt `attempt` (1-based), with `unit` in `[0, 1]` choosing
    /// the point in the jitter range.
    pub fn backoff_with(&self, attempt: u32, unit: f64) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let full = self.base.saturating_mul(1u32 << exp).min(self.max);
        let half = full / 2;
        half + half.mul_f64(unit.clamp(0.0, 1.0))
    }

    /// The back-off after failed attempt `attempt`, with random jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.backoff_with(attempt, jitter_unit())
    }
}

/// A uniform random number in `[0, 1]` from the system CSPRNG (0.5 if it fails).
pub(crate) fn jitter_unit() -> f64 {
    match tradeguard_crypto::random::array::<4>() {
        Ok(b) => f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    }
}

pub(crate) mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_caps_and_stays_in_the_jitter_range() {
        let p = RetryPolicy {
            max_attempts: 10,
            base: Duration::from_millis(100),
            max: Duration::from_millis(1_000),
        };
        let cases = [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1_000),
            (30, 1_000),
        ];
        for (i, (attempt, full_ms)) in cases.iter().enumerate() {
            let lo = p.backoff_with(*attempt, 0.0);
            let hi = p.backoff_with(*attempt, 1.0);
            assert_eq!(
                lo,
                Duration::from_millis(full_ms / 2),
                "TC{i} failed: low end"
            );
            assert_eq!(
                hi,
                Duration::from_millis(*full_ms),
                "TC{i} failed: high end"
            );
            let r = p.backoff(*attempt);
            assert!(
                r >= lo && r <= hi,
                "TC{i} failed: {r:?} outside [{lo:?}, {hi:?}]"
            );
        }
    }
}
