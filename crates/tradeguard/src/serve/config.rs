//! The configuration file of `tradeguard serve` (`tradeguard.example.toml` documents every
//! key). One TOML file: the gateway's own sections (`[server]`, `[store]`, `[audit]`,
//! `[polling]`, `[gateway]`, `[accounts.<name>]`, `[intents]`, `[analytics]`) beside the sections our users already write
//! (`[security]`, `[portfolio]`, `[categories]`, `[rebalancing]`, `[profiles.<name>]`), which
//! go to `tradeguard_risk::config::check` unchanged. `[security]` is the one place for the
//! key-rotation interval, the session lifetime and the lockout threshold; `[gateway]` refuses
//! them so no setting has two homes.
//!
//! Parsing is strict: an unknown key is an error naming it, so a typo never silently falls
//! back to a default.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use tradeguard_exchange::ConnectorConfig;
use tradeguard_exchange::model::AccountId;
use tradeguard_gateway::config::GatewayConfig;
use tradeguard_risk::config::RiskConfig;

/// Sections that belong to the gateway; every other top-level section is the risk engine's.
const GATEWAY_SECTIONS: [&str; 8] = [
    "server",
    "store",
    "audit",
    "polling",
    "gateway",
    "accounts",
    "intents",
    "analytics",
];

/// `[gateway]` keys whose home is `[security]`.
const SECURITY_OWNED: [(&str, &str); 2] = [
    ("session_ttl", "security.session_timeout"),
    ("lockout.max_failures", "security.max_failed_attempts"),
];

/// Why a configuration file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigFileError {
    /// TOML syntax, a wrong type or an unknown key in a gateway section.
    #[error("[{section}]: {reason}; see tradeguard.example.toml for the keys it takes")]
    Section {
        /// The section (`accounts.binance-main`, say).
        section: String,
        /// What the parser said.
        reason: String,
    },
    /// A value is out of its allowed range or inconsistent with another.
    #[error("{key}: {reason}")]
    Invalid {
        /// The key.
        key: String,
        /// The rule it broke.
        reason: String,
    },
    /// The risk sections were refused by the risk engine.
    #[error("risk configuration: {0}")]
    Risk(String),
}

type Result<T> = std::result::Result<T, ConfigFileError>;

/// `[server]`: where and how the API listens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Listening address (default 127.0.0.1:8443).
    pub listen: SocketAddr,
    /// PEM certificate chain; default: the self-signed one `init` made in the data dir.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP (loopback only). For local tests behind nothing else.
    pub dangerous_plain_http: bool,
    /// How long graceful shutdown waits for requests in flight (seconds, default 10).
    pub shutdown_grace_secs: u64,
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            tls_cert: None,
            tls_key: None,
            dangerous_plain_http: false,
            shutdown_grace_secs: 10,
        }
    }
}

/// `[store]`: where state lives.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    /// `postgres://…` for a shared database; default: SQLite `tradeguard.db` in the data dir.
    pub url: Option<String>,
    /// `redis://…` for the replay cache, rate limits and halt broadcast shared by replicas;
    /// default: in memory (one process).
    pub redis_url: Option<String>,
}

/// `[audit]`: checkpoints.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSection {
    /// Sign a checkpoint this often when the log grew (seconds, default 60).
    pub checkpoint_secs: u64,
}

impl Default for AuditSection {
    fn default() -> Self {
        Self {
            checkpoint_secs: 60,
        }
    }
}

/// `[polling]`: syncing balances, open orders and fills.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PollingSection {
    /// Poll every account this often (seconds, default 300).
    pub interval_secs: u64,
    /// Look at each profile's rebalancing schedule about this often (seconds, default 60;
    /// moved at random by up to the profile's randomization factor).
    pub rebalance_check_secs: u64,
    /// The scheduler cancels its own rebalance orders still open this long after it placed
    /// them, and plans again (seconds, default 600; 0: never, they rest until filled).
    pub rebalance_order_ttl_secs: u64,
}

impl Default for PollingSection {
    fn default() -> Self {
        Self {
            interval_secs: 300,
            rebalance_check_secs: 60,
            rebalance_order_ttl_secs: 600,
        }
    }
}

/// `[accounts.<name>]`: one exchange account, reached with one vault credential.
#[derive(Debug, Clone)]
pub struct AccountSection {
    /// The vault credential id (`tradeguard credentials list`).
    pub credential: String,
    /// How the exchange is reached (every key of `tradeguard_exchange::ConnectorConfig`).
    pub connector: ConnectorConfig,
    /// Accept a key whose permissions the exchange cannot report (Coinbase Exchange): the
    /// operator vouches that it cannot withdraw or transfer. Default false: such a key is
    /// refused at start.
    pub dangerous_accept_unverified_permissions: bool,
}

/// The whole file, checked.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// `[server]`.
    pub server: ServerSection,
    /// `[store]`.
    pub store: StoreSection,
    /// `[audit]`.
    pub audit: AuditSection,
    /// `[polling]`.
    pub polling: PollingSection,
    /// `[gateway]`: authentication, sessions, lockouts, rate limits, quorum rules.
    pub gateway: GatewayConfig,
    /// `[accounts.*]`, by name.
    pub accounts: BTreeMap<String, AccountSection>,
    /// `[intents]`: the sealed-intent intake.
    pub intents: super::intents::IntentsConfig,
    /// `[analytics]`: the conventions of the signed report.
    pub analytics: super::equity_report::AnalyticsConfig,
    /// The risk sections, checked by the risk engine.
    pub risk: RiskConfig,
    /// The file's digests, for `config.loaded` and `config.changed`.
    pub digest: super::config_audit::ConfigDigest,
}

impl ServeConfig {
    /// Parses and checks a configuration document.
    pub fn parse(text: &str) -> Result<Self> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| section_error("file", e))?;
        let digest =
            super::config_audit::ConfigDigest::of(text).map_err(|e| section_error("file", e))?;
        let mut take = |name: &str| {
            table
                .remove(name)
                .unwrap_or(toml::Value::Table(Default::default()))
        };
        let server: ServerSection = section("server", take("server"))?;
        let store: StoreSection = section("store", take("store"))?;
        let audit: AuditSection = section("audit", take("audit"))?;
        let polling: PollingSection = section("polling", take("polling"))?;
        let mut gateway_table = take("gateway");
        refuse_security_owned(&gateway_table)?;
        let accounts = accounts(take("accounts"))?;
        let intents = super::intents::IntentsConfig::parse(take("intents"))?;
        let analytics = section("analytics", take("analytics"))?;
        debug_assert!(GATEWAY_SECTIONS.iter().all(|s| !table.contains_key(*s)));
        let risk_text = toml::to_string(&table).map_err(|e| section_error("risk", e))?;
        let risk = tradeguard_risk::config::check(&risk_text)
            .map_err(|e| ConfigFileError::Risk(e.to_string()))?;
        let security = &risk.security;
        if let Some(toml::Value::Table(lockout)) = gateway_table.get_mut("lockout") {
            let n = i64::from(security.max_failed_attempts);
            lockout.insert("max_failures".into(), n.into());
        }
        let mut gateway: GatewayConfig = section("gateway", gateway_table)?;
        gateway.session_ttl = security.session_timeout;
        gateway.lockout.max_failures = security.max_failed_attempts;
        gateway
            .validate()
            .map_err(|e| section_error("gateway", e))?;
        let config = Self {
            server,
            store,
            audit,
            polling,
            gateway,
            accounts,
            intents,
            analytics,
            risk,
            digest,
        };
        config.validate()?;
        Ok(config)
    }

    /// Cross-section rules.
    fn validate(&self) -> Result<()> {
        let invalid = |key: &str, reason: String| ConfigFileError::Invalid {
            key: key.into(),
            reason,
        };
        if self.server.tls_cert.is_some() != self.server.tls_key.is_some() {
            return Err(invalid(
                "server.tls_cert",
                "set tls_cert and tls_key together".into(),
            ));
        }
        if self.server.dangerous_plain_http && !self.server.listen.ip().is_loopback() {
            return Err(invalid(
                "server.dangerous_plain_http",
                format!(
                    "plain HTTP is only served on loopback, not {}",
                    self.server.listen
                ),
            ));
        }
        if self.polling.interval_secs < 5 {
            return Err(invalid(
                "polling.interval_secs",
                "at least 5 seconds".into(),
            ));
        }
        if self.polling.rebalance_check_secs == 0 {
            return Err(invalid(
                "polling.rebalance_check_secs",
                "at least 1 second".into(),
            ));
        }
        if self.audit.checkpoint_secs == 0 {
            return Err(invalid("audit.checkpoint_secs", "at least 1 second".into()));
        }
        if let Err(e) = self.analytics.conventions(self.polling.interval_secs) {
            return Err(invalid("analytics", e.to_string()));
        }
        for profile in &self.risk.profiles {
            let account = profile.account.credential.as_str();
            let key = format!("profiles.{}.credential", profile.id);
            let Some(section) = self.accounts.get(account) else {
                return Err(invalid(
                    &key,
                    format!("names account `{account}`, which has no [accounts.{account}] section"),
                ));
            };
            let (theirs, ours) = (
                profile.account.exchange.to_string(),
                section.connector.exchange.as_str(),
            );
            if !ours.starts_with(theirs.as_str()) {
                return Err(invalid(
                    &key,
                    format!("the profile trades on {theirs} but account `{account}` is on {ours}"),
                ));
            }
        }
        Ok(())
    }

    /// Reads and checks the file at `path`; errors name the file.
    pub fn load(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the config file {} ({e})", path.display()))?;
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// How often the key-encryption key rotates (`security.key_rotation_interval`).
    pub fn kek_rotation(&self) -> Duration {
        self.risk.security.key_rotation_interval
    }
}

/// The risk sections of a configuration document, as TOML for `tradeguard_risk::config`, and
/// whether the document has gateway sections too.
pub fn risk_sections(text: &str) -> Result<(String, bool)> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| section_error("file", e))?;
    let before = table.len();
    table.retain(|k, _| !GATEWAY_SECTIONS.contains(&k));
    let has_gateway = table.len() != before;
    let risk = toml::to_string(&table).map_err(|e| section_error("risk", e))?;
    Ok((risk, has_gateway))
}

fn refuse_security_owned(gateway: &toml::Value) -> Result<()> {
    for (path, home) in SECURITY_OWNED {
        let mut at = Some(gateway);
        for part in path.split('.') {
            at = at.and_then(|v| v.get(part));
        }
        if at.is_some() {
            return Err(section_error(
                "gateway",
                format!("`{path}` is set in [security] as `{home}`"),
            ));
        }
    }
    Ok(())
}

fn section_error(section: &str, e: impl std::fmt::Display) -> ConfigFileError {
    ConfigFileError::Section {
        section: section.into(),
        reason: e.to_string().trim().to_owned(),
    }
}

fn section<T: serde::de::DeserializeOwned>(name: &str, value: toml::Value) -> Result<T> {
    value.try_into().map_err(|e| section_error(name, e))
}

/// `[accounts.<name>]`: `credential` plus the connector's keys; `account` is the name.
fn accounts(value: toml::Value) -> Result<BTreeMap<String, AccountSection>> {
    let toml::Value::Table(table) = value else {
        return Err(section_error("accounts", "expected a table of accounts"));
    };
    let mut out = BTreeMap::new();
    for (name, value) in table {
        let here = format!("accounts.{name}");
        let toml::Value::Table(mut keys) = value else {
            return Err(section_error(&here, "expected a table"));
        };
        AccountId::parse(&name).map_err(|e| section_error(&here, e))?;
        let credential = match keys.remove("credential") {
            Some(toml::Value::String(s)) if !s.is_empty() => s,
            _ => {
                return Err(section_error(
                    &here,
                    "`credential` (a vault credential id) is required",
                ));
            }
        };
        if keys.contains_key("account") {
            return Err(section_error(
                &here,
                "`account` is the section's name; remove the key",
            ));
        }
        let dangerous = match keys.remove("dangerous_accept_unverified_permissions") {
            None => false,
            Some(toml::Value::Boolean(b)) => b,
            Some(_) => {
                return Err(section_error(
                    &here,
                    "`dangerous_accept_unverified_permissions` must be true or false",
                ));
            }
        };
        keys.insert("account".into(), toml::Value::String(name.clone()));
        let connector: ConnectorConfig = section(&here, toml::Value::Table(keys))?;
        connector.validate().map_err(|e| section_error(&here, e))?;
        out.insert(
            name,
            AccountSection {
                credential,
                connector,
                dangerous_accept_unverified_permissions: dangerous,
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../../tradeguard.example.toml");

    #[test]
    fn the_example_file_parses_and_keeps_every_section() {
        let c = ServeConfig::parse(EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8443");
        assert!(!c.accounts.is_empty());
        assert!(!c.risk.profiles.is_empty());
        assert_eq!(c.kek_rotation(), Duration::from_secs(24 * 3600));
        assert_eq!(c.gateway.session_ttl, Duration::from_secs(3600));
    }

    #[test]
    fn an_empty_file_gives_the_defaults() {
        let c = ServeConfig::parse("").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8443");
        assert!(!c.server.dangerous_plain_http);
        assert_eq!(c.polling.interval_secs, 300);
        assert_eq!(c.polling.rebalance_check_secs, 60);
        assert_eq!(c.gateway.lockout.max_failures, 3, "from [security]");
        assert!(c.store.url.is_none() && c.accounts.is_empty());
    }

    /// Numbered cases: (name, edit of the example, text the error must contain).
    #[test]
    fn bad_files_are_refused_naming_the_key() {
        let cases: [(&str, &str, &str, &str); 10] = [
            (
                "profile on a missing account",
                "credential = \"kraken-main\"",
                "credential = \"nope\"",
                "[accounts.nope]",
            ),
            (
                "profile on another exchange's account",
                "credential = \"kraken-main\"",
                "credential = \"binance-main\"",
                "is on binance",
            ),
            (
                "session ttl in two places",
                "[gateway]\n",
                "[gateway]\nsession_ttl = 600\n",
                "security.session_timeout",
            ),
            (
                "typo in server",
                "[server]\n",
                "[server]\nlisten_addr = \"x\"\n",
                "listen_addr",
            ),
            (
                "plain http off loopback",
                "listen = \"127.0.0.1:8443\"",
                "listen = \"0.0.0.0:8443\"\ndangerous_plain_http = true",
                "loopback",
            ),
            (
                "account without credential",
                "credential = \"binance-main\"",
                "",
                "credential",
            ),
            (
                "unknown connector key",
                "sandbox = false",
                "sandbox = false\nsandbx = true",
                "sandbx",
            ),
            (
                "poll too fast",
                "interval_secs = 300",
                "interval_secs = 1",
                "polling.interval_secs",
            ),
            (
                "rebalance check never",
                "rebalance_check_secs = 60",
                "rebalance_check_secs = 0",
                "polling.rebalance_check_secs",
            ),
            (
                "cert without key",
                "[server]\n",
                "[server]\ntls_cert = \"c.pem\"\n",
                "tls_key",
            ),
        ];
        for (i, (name, from, to, needle)) in cases.iter().enumerate() {
            assert!(
                EXAMPLE.contains(from),
                "TC{i} {name}: the example lacks `{from}`"
            );
            let text = EXAMPLE.replacen(from, to, 1);
            match ServeConfig::parse(&text) {
                Ok(_) => panic!("TC{i} {name}: accepted"),
                Err(e) => assert!(
                    e.to_string().contains(needle),
                    "TC{i} {name}: `{e}` lacks `{needle}`"
                ),
            }
        }
    }

    #[test]
    fn unverified_key_permissions_are_refused_unless_the_account_says_so() {
        let c = ServeConfig::parse(EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
        assert!(!c.accounts["binance-main"].dangerous_accept_unverified_permissions);
        let on = EXAMPLE.replacen(
            "sandbox = false",
            "sandbox = false\ndangerous_accept_unverified_permissions = true",
            1,
        );
        let c = ServeConfig::parse(&on).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.accounts["binance-main"].dangerous_accept_unverified_permissions);
        let bad = EXAMPLE.replacen(
            "sandbox = false",
            "sandbox = false\ndangerous_accept_unverified_permissions = \"yes\"",
            1,
        );
        let e = ServeConfig::parse(&bad).unwrap_err().to_string();
        assert!(e.contains("dangerous_accept_unverified_permissions"), "{e}");
    }
}
