//! Sealed intents under `serve`: the `[intents]` section, the intake built over the vault,
//! and its counters in the audit log at the stop.
//!
//! Keys: packets open with the gateway's HPKE keys as the vault keeps them (X25519, and
//! X-Wing for clients sealing with the post-quantum option; both are in `GET /v1/keys`).
//! Routing keys: each principal's is `HMAC-SHA256(routing secret, label ‖ did:key)`
//! ([`DerivedRoutingKeys`]) with the installation's routing secret sealed in the vault, so
//! nothing is stored per principal. The operator hands a bot its key with
//! `tradeguard intent routing-key --principal DID` (offline, with the passphrase); the gateway
//! never logs it.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tradeguard_audit::event::AuditEvent;
use tradeguard_audit::log::AuditLog;
use tradeguard_crypto::intent::{
    OpenPolicy, PacketSizes, RoutingKey, ScorePolicy, ScoreWeights, TimeWindow,
};
use tradeguard_gateway::intents::{DerivedRoutingKeys, IntakeStats, IntentConfig, IntentIntake};
use tradeguard_vault::UnlockedVault;

use super::config::ConfigFileError;

/// `[intents]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct IntentsSection {
    enabled: bool,
    packet_size: usize,
    packet_size_xwing: usize,
    dummy_recency_secs: u64,
    execute_every_ms: u64,
    status_capacity: usize,
    score: ScoreSection,
}

impl Default for IntentsSection {
    fn default() -> Self {
        let d = IntentConfig::default();
        let sizes = PacketSizes::default();
        Self {
            enabled: true,
            packet_size: sizes.packet(tradeguard_crypto::hpke::Kem::X25519HkdfSha256),
            packet_size_xwing: sizes.packet(tradeguard_crypto::hpke::Kem::XWing),
            dummy_recency_secs: d.dummy_recency.as_secs(),
            execute_every_ms: u64::try_from(d.execute_every.as_millis()).unwrap_or(20),
            status_capacity: d.status_capacity,
            score: ScoreSection::default(),
        }
    }
}

/// `[intents.score]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ScoreSection {
    ephemeral_key: f64,
    aead: f64,
    nonce: f64,
    dummies: f64,
    routing_id: f64,
    threshold: f64,
}

impl Default for ScoreSection {
    fn default() -> Self {
        let w = ScoreWeights::default();
        Self {
            ephemeral_key: w.ephemeral_key,
            aead: w.aead,
            nonce: w.nonce,
            dummies: w.dummies,
            routing_id: w.routing_id,
            threshold: tradeguard_crypto::intent::score::DEFAULT_THRESHOLD,
        }
    }
}

/// `[intents]`, checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntentsConfig {
    /// Serve `POST /v1/intents` (default true; off, it answers 404 `intents-disabled`).
    pub enabled: bool,
    /// The intake's tunables.
    pub intake: IntentConfig,
}

impl Default for IntentsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            intake: IntentConfig::default(),
        }
    }
}

impl IntentsConfig {
    /// Parses and checks the `[intents]` table.
    pub fn parse(value: toml::Value) -> Result<Self, ConfigFileError> {
        let s: IntentsSection = value.try_into().map_err(|e| ConfigFileError::Section {
            section: "intents".into(),
            reason: e.to_string().trim().to_owned(),
        })?;
        let invalid = |key: &str, reason: String| ConfigFileError::Invalid {
            key: format!("intents.{key}"),
            reason,
        };
        let sizes = PacketSizes::new(s.packet_size, s.packet_size_xwing)
            .map_err(|e| invalid("packet_size", e.to_string()))?;
        let weights = ScoreWeights {
            ephemeral_key: s.score.ephemeral_key,
            aead: s.score.aead,
            nonce: s.score.nonce,
            dummies: s.score.dummies,
            routing_id: s.score.routing_id,
        };
        let score = ScorePolicy::new(weights, s.score.threshold)
            .map_err(|e| invalid("score", e.to_string()))?;
        if !(1..=1000).contains(&s.execute_every_ms) {
            return Err(invalid("execute_every_ms", "1 to 1000 ms".into()));
        }
        if s.status_capacity == 0 {
            return Err(invalid("status_capacity", "at least 1".into()));
        }
        let intake = IntentConfig {
            open: OpenPolicy {
                sizes,
                window: TimeWindow::default(),
            },
            score,
            dummy_recency: Duration::from_secs(s.dummy_recency_secs),
            execute_every: Duration::from_millis(s.execute_every_ms),
            status_capacity: s.status_capacity,
            ..IntentConfig::default()
        };
        Ok(Self {
            enabled: s.enabled,
            intake,
        })
    }
}

/// The routing keys of this installation (derived from the vault's routing secret).
pub async fn routing_keys(vault: &UnlockedVault) -> anyhow::Result<DerivedRoutingKeys> {
    Ok(DerivedRoutingKeys::new(vault.routing_secret().await?))
}

/// The routing key the operator hands the principal `did`.
pub async fn routing_key_of(vault: &UnlockedVault, did: &str) -> anyhow::Result<RoutingKey> {
    Ok(routing_keys(vault).await?.derive(did))
}

/// The intake, when `[intents]` enables it.
pub async fn intake(
    vault: &UnlockedVault,
    config: &IntentsConfig,
) -> anyhow::Result<Option<Arc<IntentIntake>>> {
    if !config.enabled {
        return Ok(None);
    }
    let routing = routing_keys(vault).await?;
    let recipient = vault.intent_recipient()?;
    Ok(Some(Arc::new(IntentIntake::new(
        recipient,
        Box::new(routing),
        config.intake,
    ))))
}

/// Audit event kind of the intake's counters, recorded at the stop.
pub const STATS_EVENT: &str = "intent.stats";

/// Records the intake's counters since the start (`intent.stats`).
pub async fn record_stats(log: &AuditLog, intake: &IntentIntake) -> anyhow::Result<()> {
    let s: IntakeStats = intake.stats();
    let refused: u64 = s.refused.values().sum();
    let reasons = s
        .refused
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let e = AuditEvent::of(STATS_EVENT)
        .and_then(|e| e.field("packets", s.packets))
        .and_then(|e| e.field("real", s.real))
        .and_then(|e| e.field("dummies", s.dummies))
        .and_then(|e| e.field("queries", s.queries))
        .and_then(|e| e.field("refused", refused))
        .and_then(|e| e.field("refused_by_reason", reasons));
    super::audit::record(log, e).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<IntentsConfig, ConfigFileError> {
        IntentsConfig::parse(toml::from_str::<toml::Value>(text).unwrap())
    }

    #[test]
    fn defaults_are_the_issue_s() {
        let c = parse("").unwrap();
        assert_eq!(c, IntentsConfig::default());
        let s = ScoreSection::default();
        let w = [s.ephemeral_key, s.aead, s.nonce, s.dummies, s.routing_id];
        assert_eq!(w, [0.25, 0.25, 0.20, 0.15, 0.15]);
        let sizes = c.intake.open.sizes;
        assert_eq!(
            sizes.packet(tradeguard_crypto::hpke::Kem::X25519HkdfSha256),
            1024
        );
        assert_eq!(c.intake.execute_every, Duration::from_millis(20));
    }

    #[test]
    fn the_example_file_documents_the_defaults() {
        let text = include_str!("../../../../tradeguard.example.toml");
        let c = super::super::config::ServeConfig::parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.intents, IntentsConfig::default());
    }

    #[test]
    fn set_values_are_kept() {
        let c = parse(
            "enabled = false\npacket_size = 2048\npacket_size_xwing = 4096\n\
             dummy_recency_secs = 60\nexecute_every_ms = 5\n\
             [score]\nephemeral_key = 0.2\naead = 0.2\nnonce = 0.2\ndummies = 0.2\n\
             routing_id = 0.2\nthreshold = 0.6\n",
        )
        .unwrap();
        assert!(!c.enabled);
        let sizes = c.intake.open.sizes;
        assert_eq!(sizes.packet(tradeguard_crypto::hpke::Kem::XWing), 4096);
        assert_eq!(c.intake.dummy_recency, Duration::from_secs(60));
        assert_eq!(c.intake.execute_every, Duration::from_millis(5));
    }

    #[test]
    fn fail_bad_intents_sections() {
        let cases = [
            ("packet_sise = 1024", "unknown field"),
            ("packet_size = 100", "intents.packet_size"),
            ("[score]\naead = 0.5", "intents.score"),
            ("[score]\nthreshold = 0.0", "intents.score"),
            ("execute_every_ms = 0", "intents.execute_every_ms"),
            ("status_capacity = 0", "intents.status_capacity"),
        ];
        for (i, (text, want)) in cases.iter().enumerate() {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "TC{i} failed: {text} gave {e}");
        }
    }
}
