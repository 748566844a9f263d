//! Connector configuration: base URL (or the official sandbox), proxy, timeouts, retries.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::breaker::BreakerConfig;
use crate::error::ExchangeError;
use crate::model::{AccountId, ExchangeId};
use crate::retry::RetryPolicy;

/// Kraken's verification tiers, which set the REST counter's size and decay.
/// See: <https://docs.kraken.com/api/docs/guides/spot-rest-ratelimits>.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KrakenTier {
    /// Max 15, decays 0.33 per second.
    #[default]
    Starter,
    /// Max 20, decays 0.5 per second.
    Intermediate,
    /// Max 20, decays 1 per second.
    Pro,
}

/// How one exchange account is reached. Deserializable from the gateway's config file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorConfig {
    /// Which exchange API.
    pub exchange: ExchangeId,
    /// The account (credential) label; it names the rate budget shared by all its users.
    pub account: AccountId,
    /// Overrides the base URL (for the simulator, or an alternate host). `http://` is only
    /// accepted for loopback hosts.
    #[serde(default)]
    pub base_url: Option<Url>,
    /// Selects the exchange's official test environment (Binance Spot Test Network, Coinbase
    /// sandboxes). Kraken spot has none and refuses this.
    #[serde(default)]
    pub sandbox: bool,
    /// Outbound HTTP(S) proxy for this exchange, e.g. to give keys a static egress IP.
    #[serde(default)]
    pub proxy: Option<Url>,
    /// Names the egress IP for rate budgets (default: the proxy's host, or `direct`).
    #[serde(default)]
    pub egress: Option<String>,
    /// Whole-request timeout.
    #[serde(default = "default_timeout", with = "crate::retry::millis")]
    pub timeout: Duration,
    /// TCP/TLS connect timeout.
    #[serde(default = "default_connect_timeout", with = "crate::retry::millis")]
    pub connect_timeout: Duration,
    /// Binance `recvWindow` (default 5000 ms, at most 60000).
    #[serde(default = "default_recv_window", with = "crate::retry::millis")]
    pub recv_window: Duration,
    /// Kraken verification tier.
    #[serde(default)]
    pub kraken_tier: KrakenTier,
    /// Fraction of each published limit to use (default 0.95): back off before the limit.
    #[serde(default = "default_headroom")]
    pub rate_headroom: f64,
    /// Longest a caller waits for rate budget before getting `RateLimited`.
    #[serde(default = "default_max_wait", with = "crate::retry::millis")]
    pub max_rate_wait: Duration,
    /// Retries of requests that are safe to repeat.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Circuit breaker settings.
    #[serde(default)]
    pub breaker: BreakerConfig,
}

fn default_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_connect_timeout() -> Duration {
    Duration::from_secs(5)
}
fn default_recv_window() -> Duration {
    Duration::from_millis(5_000)
}
fn default_headroom() -> f64 {
    0.95
}
fn default_max_wait() -> Duration {
    Duration::from_secs(60)
}

impl ConnectorConfig {
    /// Defaults for `exchange` and `account`: production URL, no proxy, 10 s timeout.
    pub fn new(exchange: ExchangeId, account: AccountId) -> Self {
        Self {
            exchange,
            account,
            base_url: None,
            sandbox: false,
            proxy: None,
            egress: None,
            timeout: default_timeout(),
            connect_timeout: default_connect_timeout(),
            recv_window: default_recv_window(),
            kraken_tier: KrakenTier::default(),
            rate_headroom: default_headroom(),
            max_rate_wait: default_max_wait(),
            retry: RetryPolicy::default(),
            breaker: BreakerConfig::default(),
        }
    }

    /// The same, pointed at `base_url` (the simulator, for instance).
    pub fn with_base_url(mut self, base_url: Url) -> Self {
        self.base_url = Some(base_url);
        self
    }

    /// The egress label used to key IP-based rate budgets.
    pub fn egress_label(&self) -> String {
        if let Some(e) = &self.egress {
            return e.clone();
        }
        match &self.proxy {
            Some(p) => format!("proxy:{}", p.host_str().unwrap_or("?")),
            None => "direct".to_owned(),
        }
    }

    /// The base URL to use: the override, else the sandbox or production URL given.
    pub fn resolve_base_url(
        &self,
        production: &str,
        sandbox: Option<&str>,
    ) -> Result<Url, ExchangeError> {
        let url = match (&self.base_url, self.sandbox, sandbox) {
            (Some(u), _, _) => u.clone(),
            (None, true, Some(s)) => parse_url(self.exchange, s)?,
            (None, true, None) => {
                return Err(ExchangeError::Unsupported {
                    exchange: self.exchange,
                    operation: "sandbox",
                    hint: "this exchange has no official test environment; set base_url to the simulator or use validate-only orders",
                });
            }
            (None, false, _) => parse_url(self.exchange, production)?,
        };
        check_scheme(self.exchange, &url)?;
        Ok(url)
    }

    /// Checks the values that can be checked without the network.
    pub fn validate(&self) -> Result<(), ExchangeError> {
        let bad = |what, reason: &str| ExchangeError::Config {
            exchange: self.exchange,
            what,
            reason: reason.to_owned(),
        };
        if !(0.1..=1.0).contains(&self.rate_headroom) {
            return Err(bad("rate_headroom", "must be between 0.1 and 1.0"));
        }
        if self.recv_window.is_zero() || self.recv_window > Duration::from_secs(60) {
            return Err(bad("recv_window", "must be between 1 ms and 60000 ms"));
        }
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(bad("timeout", "timeouts must be positive"));
        }
        if let Some(p) = &self.proxy
            && !matches!(p.scheme(), "http" | "https")
        {
            return Err(bad(
                "proxy",
                "only http:// and https:// proxies are supported",
            ));
        }
        Ok(())
    }
}

fn parse_url(exchange: ExchangeId, s: &str) -> Result<Url, ExchangeError> {
    Url::parse(s).map_err(|_| ExchangeError::Config {
        exchange,
        what: "base_url",
        reason: "not a valid URL".to_owned(),
    })
}

/// Plain HTTP only to loopback (the simulator); everything else must be HTTPS.
fn check_scheme(exchange: ExchangeId, url: &Url) -> Result<(), ExchangeError> {
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(ExchangeError::Config {
            exchange,
            what: "base_url",
            reason: "must be https:// (plain http:// is accepted only for loopback simulators)"
                .to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ConnectorConfig {
        ConnectorConfig::new(ExchangeId::Binance, AccountId::parse("b1").unwrap())
    }

    #[test]
    fn base_url_table() {
        let prod = "https://api.binance.com";
        let sbx = Some("https://testnet.binance.vision");
        // (base_url, sandbox, sandbox URL, expected)
        type Case = (
            Option<&'static str>,
            bool,
            Option<&'static str>,
            Option<&'static str>,
        );
        let cases: [Case; 6] = [
            (None, false, sbx, Some("https://api.binance.com/")),
            (None, true, sbx, Some("https://testnet.binance.vision/")),
            (
                Some("http://127.0.0.1:7701"),
                false,
                sbx,
                Some("http://127.0.0.1:7701/"),
            ),
            (
                Some("http://localhost:7701"),
                true,
                sbx,
                Some("http://localhost:7701/"),
            ),
            (Some("http://example.com"), false, sbx, None),
            (None, true, None, None),
        ];
        for (i, (base, sandbox, sbx_url, want)) in cases.iter().enumerate() {
            let mut c = cfg();
            c.base_url = base.map(|b| Url::parse(b).unwrap());
            c.sandbox = *sandbox;
            let got = c
                .resolve_base_url(prod, *sbx_url)
                .ok()
                .map(|u| u.to_string());
            assert_eq!(got.as_deref(), *want, "TC{i} failed");
        }
    }

    #[test]
    fn fail_invalid_settings() {
        let mut c = cfg();
        c.rate_headroom = 1.5;
        assert!(c.validate().is_err(), "headroom");
        let mut c = cfg();
        c.recv_window = Duration::from_secs(61);
        assert!(c.validate().is_err(), "recv_window");
        let mut c = cfg();
        c.proxy = Some(Url::parse("socks5://127.0.0.1:1080").unwrap());
        assert!(c.validate().is_err(), "proxy");
    }

    #[test]
    fn deserializes_with_defaults() {
        let c: ConnectorConfig =
            serde_json::from_str(r#"{"exchange":"kraken","account":"k1","kraken_tier":"pro"}"#)
                .unwrap();
        assert_eq!(c.timeout, Duration::from_secs(10));
        assert_eq!(c.kraken_tier, KrakenTier::Pro);
        assert_eq!(c.egress_label(), "direct");
    }
}
