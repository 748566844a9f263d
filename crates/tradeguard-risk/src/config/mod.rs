//! Configuration: parse a TOML file strictly, check every rule, and report every conflict at
//! once, each naming the keys on both sides.
//!
//! ```
//! use tradeguard_risk::config::{check, ConfigError};
//!
//! // The issue's example: each target is above the 25% cap and BTC + ETH exceed the
//! // large-cap cap, so it is refused with four conflicts.
//! let text = r#"
//! [rebalancing]
//! max_concentration = 0.25
//! [profiles.profile_a]
//! exchange = "coinbase"
//! type = "conservative"
//! target_allocation = { BTC = 0.40, ETH = 0.30, USDC = 0.30 }
//! "#;
//! let Err(ConfigError::Conflicts(conflicts)) = check(text) else { panic!("must be refused") };
//! assert_eq!(conflicts.len(), 4);
//! assert!(conflicts[0].keys.contains(&"rebalancing.max_concentration".to_owned()));
//! ```
//!
//! The sections and keys are documented on [`model::RawConfig`] and its fields.

mod checker;
pub mod model;
mod profiles;

use std::fmt;
use std::time::Duration;

use rust_decimal::Decimal;

use crate::ids::ProfileId;
use crate::limits::PortfolioLimits;
use crate::profile::Profile;

pub use checker::validate;

/// A demonstration configuration (five profiles on three exchanges, two sharing an account)
/// that passes every check; `tradeguard backtest` uses it when no file is given.
pub const DEMO_CONFIG: &str = include_str!("../../config/demo.toml");

/// One contradiction in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Every key involved, as dotted TOML paths (such as `profiles.a.target_allocation.BTC`).
    pub keys: Vec<String>,
    /// What contradicts what, and how to fix it.
    pub message: String,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.keys.join(" <> "), self.message)
    }
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text is not valid TOML, or has an unknown key or a value of the wrong type. The
    /// message is one line: where (line, column, key) and what is wrong.
    #[error("configuration is not valid: {0}; correct it and run `tradeguard config check` again")]
    Syntax(String),
    /// The configuration contradicts itself; every conflict is listed.
    #[error("configuration has {} conflict(s):\n{}", .0.len(), list(.0))]
    Conflicts(Vec<Conflict>),
}

fn list(conflicts: &[Conflict]) -> String {
    conflicts
        .iter()
        .map(|c| format!("  - {c}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `[security]`, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityConfig {
    /// Time between key-encryption-key rotations.
    pub key_rotation_interval: Duration,
    /// Failed authentications before a lockout.
    pub max_failed_attempts: u32,
    /// Session lifetime.
    pub session_timeout: Duration,
}

/// `[rebalancing]` switches, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebalancingSettings {
    /// Whether plans are computed.
    pub enabled: bool,
    /// Whether randomization is applied.
    pub randomization_enabled: bool,
    /// Default and largest randomization factor.
    pub randomization_factor: Decimal,
}

/// A configuration that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskConfig {
    /// Security settings for the gateway.
    pub security: SecurityConfig,
    /// Rebalancing switches.
    pub rebalancing: RebalancingSettings,
    /// Portfolio limits (the concentration cap comes from `rebalancing.max_concentration`).
    pub limits: PortfolioLimits,
    /// Profiles, sorted by id.
    pub profiles: Vec<Profile>,
}

impl RiskConfig {
    /// The profile with `id`.
    pub fn profile(&self, id: &ProfileId) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == *id)
    }

    /// Every asset some profile targets, sorted, once each.
    pub fn assets(&self) -> Vec<crate::ids::Asset> {
        let set: std::collections::BTreeSet<_> = self
            .profiles
            .iter()
            .flat_map(|p| p.targets.keys().cloned())
            .collect();
        set.into_iter().collect()
    }

    /// The randomization factor in force for `profile` (0 when randomization is disabled).
    pub fn randomization(&self, profile: &Profile) -> Decimal {
        if self.rebalancing.randomization_enabled {
            profile.randomization_factor
        } else {
            Decimal::ZERO
        }
    }
}

/// Parses and checks a TOML configuration. Returns the checked configuration, or every
/// conflict found.
pub fn check(text: &str) -> Result<RiskConfig, ConfigError> {
    let raw: model::RawConfig = toml::from_str(text).map_err(|e| syntax(text, &e))?;
    validate(&raw)
}

/// Checks that `text` is TOML at all, whatever its sections (a whole `serve` file, say), so
/// that a malformed file gets the same one-line [`ConfigError::Syntax`] as [`check`] gives.
pub fn check_syntax(text: &str) -> Result<(), ConfigError> {
    toml::from_str::<toml::Table>(text)
        .map(drop)
        .map_err(|e| syntax(text, &e))
}

/// One line for a parser error: line, column, the key on that line (with its table) and what
/// the parser said. The line itself is not quoted: a value there may be a secret pasted by
/// mistake.
fn syntax(text: &str, e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim().replace('\n', " ");
    let Some(start) = e.span().map(|s| s.start.min(text.len())) else {
        return ConfigError::Syntax(message);
    };
    let before = text.get(..start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let here = text.lines().nth(line - 1).unwrap_or("");
    let table = text
        .lines()
        .take(line - 1)
        .filter_map(|l| l.trim().strip_prefix('[')?.split(']').next())
        .last()
        .map(|t| t.trim_matches(|c| c == '[' || c == ' '));
    let key = here
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| !k.is_empty() && k.len() <= 64 && !k.starts_with('['));
    let at = match (table, key) {
        (Some(t), Some(k)) => format!(", key `{t}.{k}`"),
        (None, Some(k)) => format!(", key `{k}`"),
        _ => String::new(),
    };
    ConfigError::Syntax(format!("line {line}, column {column}{at}: {message}"))
}
