//! The security score of an intent: the weighted sum of the protections actually in force,
//! refused below a threshold. There is no unsecured fallback: a refused intent is not sent
//! (client) or not executed (gateway), and nothing downgrades a protection to pass the check.
//!
//! What counts as "in force" is decided by the caller from facts, not from settings alone:
//! the client knows which ephemeral key, AEAD and nonce it used and whether dummies are
//! flowing; the gateway sees whether the envelope opened under an AEAD, whether the
//! encapsulated key and the nonce were fresh in its replay cache, whether the principal sends
//! dummies, and whether it holds the principal's routing key.

use serde::Deserialize;

use super::IntentError;

/// The protections the score weighs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Protections {
    /// The intent was sealed with its own ephemeral key, used once.
    pub ephemeral_key: bool,
    /// The payload is sealed with an AEAD (opened means authenticated).
    pub aead: bool,
    /// A fresh 128-bit nonce is inside the seal (and, at the gateway, passed the replay check).
    pub nonce: bool,
    /// Dummy packets hide which packets are real.
    pub dummies: bool,
    /// The intent carries a routing seed under a key shared with the gateway.
    pub routing_id: bool,
}

impl Protections {
    /// Every protection in force.
    pub const ALL: Self = Self {
        ephemeral_key: true,
        aead: true,
        nonce: true,
        dummies: true,
        routing_id: true,
    };

    fn list(&self) -> [(&'static str, bool); 5] {
        [
            ("ephemeral_key", self.ephemeral_key),
            ("aead", self.aead),
            ("nonce", self.nonce),
            ("dummies", self.dummies),
            ("routing_id", self.routing_id),
        ]
    }
}

/// The weight of each protection (configuration; each in `[0, 1]`, summing to 1).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreWeights {
    /// Weight of [`Protections::ephemeral_key`] (default 0.25).
    pub ephemeral_key: f64,
    /// Weight of [`Protections::aead`] (default 0.25).
    pub aead: f64,
    /// Weight of [`Protections::nonce`] (default 0.20).
    pub nonce: f64,
    /// Weight of [`Protections::dummies`] (default 0.15).
    pub dummies: f64,
    /// Weight of [`Protections::routing_id`] (default 0.15).
    pub routing_id: f64,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        Self {
            ephemeral_key: 0.25,
            aead: 0.25,
            nonce: 0.20,
            dummies: 0.15,
            routing_id: 0.15,
        }
    }
}

impl ScoreWeights {
    fn list(&self) -> [f64; 5] {
        [
            self.ephemeral_key,
            self.aead,
            self.nonce,
            self.dummies,
            self.routing_id,
        ]
    }
}

/// Default threshold: any one of ephemeral key, AEAD or nonce missing refuses the intent
/// (at most 0.80 remains); dummies or routing ids alone missing (0.85) pass.
pub const DEFAULT_THRESHOLD: f64 = 0.85;

/// Weights and threshold, checked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScorePolicy {
    weights: ScoreWeights,
    threshold: f64,
}

impl Default for ScorePolicy {
    fn default() -> Self {
        Self {
            weights: ScoreWeights::default(),
            threshold: DEFAULT_THRESHOLD,
        }
    }
}

impl ScorePolicy {
    /// A policy; weights must each lie in `[0, 1]` and sum to 1, the threshold in `(0, 1]`
    /// (a threshold of 0 would be the unsecured fallback this check exists to forbid).
    pub fn new(weights: ScoreWeights, threshold: f64) -> Result<Self, IntentError> {
        let w = weights.list();
        if w.iter().any(|x| !(0.0..=1.0).contains(x)) {
            return Err(IntentError::BadScoreConfig(
                "each weight must be between 0 and 1",
            ));
        }
        if (w.iter().sum::<f64>() - 1.0).abs() > 1e-9 {
            return Err(IntentError::BadScoreConfig("the weights must sum to 1"));
        }
        if !(threshold > 0.0 && threshold <= 1.0) {
            return Err(IntentError::BadScoreConfig(
                "the threshold must be above 0 and at most 1",
            ));
        }
        Ok(Self { weights, threshold })
    }

    /// The configured threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The score of `p`: the sum of the weights of the protections in force.
    pub fn score(&self, p: &Protections) -> f64 {
        p.list()
            .iter()
            .zip(self.weights.list())
            .filter(|((_, on), _)| *on)
            .map(|(_, w)| w)
            .sum()
    }

    /// The score, or [`IntentError::BelowThreshold`] naming what is missing.
    pub fn check(&self, p: &Protections) -> Result<f64, IntentError> {
        let score = self.score(p);
        // A tolerance for sums like 0.25 + 0.25 + 0.2 + 0.15 that land a hair under a threshold.
        if score + 1e-9 >= self.threshold {
            return Ok(score);
        }
        let missing: Vec<&str> = p
            .list()
            .iter()
            .filter(|(_, on)| !on)
            .map(|(n, _)| *n)
            .collect();
        Err(IntentError::BelowThreshold {
            score,
            threshold: self.threshold,
            missing: missing.join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_table() {
        let all = Protections::ALL;
        let cases = [
            (all, true, 1.0),
            (
                Protections {
                    dummies: false,
                    ..all
                },
                true,
                0.85,
            ),
            (
                Protections {
                    routing_id: false,
                    ..all
                },
                true,
                0.85,
            ),
            (
                Protections {
                    nonce: false,
                    ..all
                },
                false,
                0.80,
            ),
            (
                Protections {
                    ephemeral_key: false,
                    ..all
                },
                false,
                0.75,
            ),
            (Protections { aead: false, ..all }, false, 0.75),
            (
                Protections {
                    dummies: false,
                    routing_id: false,
                    ..all
                },
                false,
                0.70,
            ),
            (Protections::default(), false, 0.0),
        ];
        let policy = ScorePolicy::default();
        for (i, (p, ok, score)) in cases.into_iter().enumerate() {
            assert!((policy.score(&p) - score).abs() < 1e-9, "TC{i} score");
            assert_eq!(policy.check(&p).is_ok(), ok, "TC{i} check");
        }
    }

    #[test]
    fn fail_refusal_names_what_is_missing() {
        let p = Protections {
            nonce: false,
            dummies: false,
            ..Protections::ALL
        };
        match ScorePolicy::default().check(&p) {
            Err(IntentError::BelowThreshold { missing, .. }) => {
                assert_eq!(missing, "nonce, dummies")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fail_bad_configurations() {
        let w = ScoreWeights::default();
        let cases = [
            (ScoreWeights { aead: 0.3, ..w }, 0.85),
            (
                ScoreWeights {
                    aead: -0.05,
                    nonce: 0.5,
                    ..w
                },
                0.85,
            ),
            (w, 0.0),
            (w, 1.01),
            (w, f64::NAN),
        ];
        for (i, (w, t)) in cases.into_iter().enumerate() {
            assert!(ScorePolicy::new(w, t).is_err(), "TC{i} failed");
        }
    }

    #[test]
    fn weights_from_configuration() {
        let w: ScoreWeights =
            serde_json::from_str(r#"{"dummies":0.10,"routing_id":0.20}"#).unwrap();
        assert!(ScorePolicy::new(w, 0.9).is_ok());
        assert!(serde_json::from_str::<ScoreWeights>(r#"{"dummy":0.1}"#).is_err());
    }
}
