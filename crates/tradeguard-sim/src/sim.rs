//! Starting and stopping the four simulators together, in-process.

use std::collections::BTreeMap;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::accounts::{KeySpec, SimCredential};
use crate::binance::limits::BinanceLimits;
use crate::clock::{Clock, SystemClock};
use crate::coinbase::limits::CoinbaseLimits;
use crate::coinbase_exchange::limits::CoinbaseExchangeLimits;
use crate::engine::market::{FeeSchedule, MarketSpec};
use crate::engine::{ClientIdPolicy, Engine, EngineConfig};
use crate::faults::FaultConfig;
use crate::kraken::limits::KrakenLimits;
use crate::server::{self, SimListener};
use crate::venue::{VenueCore, VenueHandle};
use crate::{SimError, Venue, binance, coinbase, coinbase_exchange, kraken};

/// How to run the simulators.
#[derive(Clone)]
pub struct SimConfig {
    /// Seed of the price paths (each venue derives its own from it).
    pub seed: u64,
    /// Binance listens here, Coinbase on +1, Coinbase Exchange on +2, Kraken on +3;
    /// 0 gives each a free port (what tests want).
    pub base_port: u16,
    /// The clock every venue reads.
    pub clock: Arc<dyn Clock>,
    /// Faults per venue (none where absent).
    pub faults: BTreeMap<Venue, FaultConfig>,
    /// Binance rate limits.
    pub binance_limits: BinanceLimits,
    /// Coinbase Advanced Trade rate limits.
    pub coinbase_limits: CoinbaseLimits,
    /// Coinbase Exchange rate limits.
    pub coinbase_exchange_limits: CoinbaseExchangeLimits,
    /// Kraken rate limits.
    pub kraken_limits: KrakenLimits,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            base_port: 0,
            clock: Arc::new(SystemClock),
            faults: BTreeMap::new(),
            binance_limits: BinanceLimits::default(),
            coinbase_limits: CoinbaseLimits::default(),
            coinbase_exchange_limits: CoinbaseExchangeLimits::default(),
            kraken_limits: KrakenLimits::default(),
        }
    }
}

/// The funded default key of each venue (trading permissions, no withdrawal).
#[derive(Clone, Debug)]
pub struct SimKeys {
    creds: BTreeMap<Venue, SimCredential>,
}

impl SimKeys {
    /// The default credential of `venue`.
    pub fn get(&self, venue: Venue) -> &SimCredential {
        &self.creds[&venue]
    }

    /// The `--keys-out` JSON: `{"binance":{"base_url","api_key","api_secret"},…,
    /// "coinbaseexchange":{…,"passphrase"}}`. It contains the secrets in clear, by design:
    /// they are throwaway keys of a loopback simulator.
    pub fn to_json(&self) -> Value {
        let mut out = serde_json::Map::new();
        for (venue, c) in &self.creds {
            let mut entry = json!({
                "base_url": c.base_url,
                "api_key": c.api_key,
                "api_secret": c.api_secret.expose_secret(),
            });
            if let (Some(p), Some(m)) = (&c.passphrase, entry.as_object_mut()) {
                m.insert("passphrase".into(), json!(p.expose_secret()));
            }
            out.insert(venue.id().to_owned(), entry);
        }
        Value::Object(out)
    }
}

/// The four running simulators.
pub struct Sim {
    venues: BTreeMap<Venue, VenueHandle>,
    keys: SimKeys,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Sim {
    /// One venue.
    pub fn venue(&self, venue: Venue) -> &VenueHandle {
        &self.venues[&venue]
    }

    /// The default funded keys.
    pub fn keys(&self) -> &SimKeys {
        &self.keys
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the servers to end.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Starts the four simulators on 127.0.0.1, each with one funded account and a trading key.
pub async fn start(config: SimConfig) -> Result<Sim, SimError> {
    if config.base_port > u16::MAX - 3 {
        return Err(SimError::PortRange(config.base_port));
    }
    let (tx, rx) = watch::channel(false);
    let mut venues = BTreeMap::new();
    let mut creds = BTreeMap::new();
    let mut tasks = Vec::new();
    for (i, venue) in Venue::ALL.into_iter().enumerate() {
        let port = if config.base_port == 0 {
            0
        } else {
            config.base_port + i as u16
        };
        let listener = SimListener::bind(port).await?;
        let addr = listener.local_addr()?;
        let core = Arc::new(venue_core(&config, venue, format!("http://{addr}")));
        tasks.push(server::spawn(
            listener,
            router(&config, venue, core.clone()),
            rx.clone(),
        ));
        let account = core.engine().open_account(&default_funding(venue));
        creds.insert(venue, core.create_key(account, &KeySpec::trading(venue))?);
        venues.insert(venue, VenueHandle { core, addr });
    }
    Ok(Sim {
        venues,
        keys: SimKeys { creds },
        shutdown: tx,
        tasks,
    })
}

fn venue_core(config: &SimConfig, venue: Venue, base_url: String) -> VenueCore {
    let (fees, policy, markets) = match venue {
        Venue::Binance => (
            FeeSchedule::binance(),
            ClientIdPolicy::UniqueAmongOpen,
            MarketSpec::binance_defaults(),
        ),
        Venue::Coinbase | Venue::CoinbaseExchange => (
            FeeSchedule::coinbase(),
            ClientIdPolicy::UniqueForever,
            MarketSpec::coinbase_defaults(),
        ),
        Venue::Kraken => (
            FeeSchedule::kraken(),
            ClientIdPolicy::UniqueAmongOpen,
            MarketSpec::kraken_defaults(),
        ),
    };
    let seed = config.seed.wrapping_mul(31).wrapping_add(venue as u64);
    let engine = Engine::new(EngineConfig {
        seed,
        start_ms: config.clock.now_ms(),
        fees,
        policy,
        markets,
    });
    let faults = config.faults.get(&venue).cloned().unwrap_or_default();
    VenueCore::new(venue, base_url, config.clock.clone(), engine, faults)
}

fn router(config: &SimConfig, venue: Venue, core: Arc<VenueCore>) -> axum::Router {
    match venue {
        Venue::Binance => binance::app(core, config.binance_limits.clone()),
        Venue::Coinbase => coinbase::app(core, config.coinbase_limits.clone()),
        Venue::CoinbaseExchange => {
            coinbase_exchange::app(core, config.coinbase_exchange_limits.clone())
        }
        Venue::Kraken => kraken::app(core, config.kraken_limits.clone()),
    }
}

/// What each default account starts with.
pub fn default_funding(venue: Venue) -> Vec<(String, Decimal)> {
    let quote = if venue == Venue::Binance {
        "USDT"
    } else {
        "USD"
    };
    vec![
        (quote.to_owned(), Decimal::from(100_000)),
        ("BTC".to_owned(), Decimal::from(2)),
        ("ETH".to_owned(), Decimal::from(20)),
    ]
}
