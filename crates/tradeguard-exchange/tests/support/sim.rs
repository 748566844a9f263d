//! Connectors pointed at `tradeguard-sim`: configs and secrets from a simulator credential.

use std::sync::Arc;
use std::time::Duration;

use tradeguard_exchange::model::{AccountId, ExchangeId};
use tradeguard_exchange::{ConnectorConfig, InMemorySecretSource};
use tradeguard_sim::{SimCredential, Venue};

/// The connector's id for a simulated venue.
pub fn exchange_id(v: Venue) -> ExchangeId {
    match v {
        Venue::Binance => ExchangeId::Binance,
        Venue::Coinbase => ExchangeId::Coinbase,
        Venue::CoinbaseExchange => ExchangeId::CoinbaseExchange,
        Venue::Kraken => ExchangeId::Kraken,
    }
}

/// The credential as the gateway would hold it.
pub fn secrets(c: &SimCredential) -> Arc<InMemorySecretSource> {
    Arc::new(InMemorySecretSource::from_parts(
        &c.api_key,
        c.api_secret.expose_secret(),
        c.passphrase.as_ref().map(|p| p.expose_secret()),
    ))
}

/// A connector config for `c` under the account label `account`, at the simulator's URL.
pub fn config(c: &SimCredential, account: &str) -> ConnectorConfig {
    let mut cfg = ConnectorConfig::new(exchange_id(c.venue), AccountId::parse(account).unwrap())
        .with_base_url(url::Url::parse(&c.base_url).unwrap());
    cfg.timeout = Duration::from_secs(5);
    cfg.connect_timeout = Duration::from_secs(2);
    cfg
}
