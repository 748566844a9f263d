//! [`ConnectorHub`]: builds connectors that share rate budgets, circuit breakers, Kraken
//! nonce sources and the clock. Create one per process and build every client from it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use url::Url;

use crate::binance::BinanceClient;
use crate::breaker::CircuitBreaker;
use crate::clock::{Clock, SystemClock};
use crate::coinbase::CoinbaseClient;
use crate::coinbase_exchange::CoinbaseExchangeClient;
use crate::config::ConnectorConfig;
use crate::credentials::SecretSource;
use crate::error::ExchangeError;
use crate::exchange::Exchange;
use crate::http::HttpClient;
use crate::kraken::KrakenClient;
use crate::kraken::sign::NonceSource;
use crate::model::ExchangeId;
use crate::pipeline::Pipeline;
use crate::ratelimit::{Limits, RateBudgets};

/// Shared state behind every connector of one gateway process.
pub struct ConnectorHub {
    clock: Arc<dyn Clock>,
    budgets: RateBudgets,
    breakers: Mutex<HashMap<(ExchangeId, String), Arc<CircuitBreaker>>>,
    nonces: Mutex<HashMap<String, Arc<NonceSource>>>,
}

impl ConnectorHub {
    /// A hub on the given clock.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            budgets: RateBudgets::new(),
            breakers: Mutex::new(HashMap::new()),
            nonces: Mutex::new(HashMap::new()),
        }
    }

    /// A hub on the system clock.
    pub fn system() -> Self {
        Self::new(Arc::new(SystemClock))
    }

    /// The clock.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The shared rate budgets.
    pub fn budgets(&self) -> &RateBudgets {
        &self.budgets
    }

    /// The circuit breaker for one exchange host reached through one egress.
    pub fn breaker(&self, cfg: &ConnectorConfig, base: &Url) -> Arc<CircuitBreaker> {
        let key = (
            cfg.exchange,
            format!("{}@{}", base.host_str().unwrap_or("?"), cfg.egress_label()),
        );
        let mut m = self.breakers.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(key)
            .or_insert_with(|| Arc::new(CircuitBreaker::new(cfg.exchange, cfg.breaker)))
            .clone()
    }

    /// The nonce source for one Kraken account (one API key), shared by all its clients.
    pub fn kraken_nonces(&self, cfg: &ConnectorConfig) -> Arc<NonceSource> {
        let mut m = self.nonces.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(cfg.account.to_string())
            .or_insert_with(|| Arc::new(NonceSource::new()))
            .clone()
    }

    pub(crate) fn pipeline<L: Limits>(
        &self,
        cfg: &ConnectorConfig,
        base: &Url,
        limits: Arc<L>,
    ) -> Result<Pipeline<L>, ExchangeError> {
        cfg.validate()?;
        Ok(Pipeline {
            exchange: cfg.exchange,
            http: HttpClient::new(cfg)?,
            limits,
            breaker: self.breaker(cfg, base),
            retry: cfg.retry,
            clock: self.clock.clone(),
            max_wait: cfg.max_rate_wait,
            send_turn: None,
        })
    }

    /// Builds the connector `cfg` names, signing with credentials from `secrets`.
    pub fn connect(
        &self,
        cfg: &ConnectorConfig,
        secrets: Arc<dyn SecretSource>,
    ) -> Result<Arc<dyn Exchange>, ExchangeError> {
        Ok(match cfg.exchange {
            ExchangeId::Binance => Arc::new(BinanceClient::new(cfg, secrets, self)?),
            ExchangeId::Coinbase => Arc::new(CoinbaseClient::new(cfg, secrets, self)?),
            ExchangeId::CoinbaseExchange => {
                Arc::new(CoinbaseExchangeClient::new(cfg, secrets, self)?)
            }
            ExchangeId::Kraken => Arc::new(KrakenClient::new(cfg, secrets, self)?),
        })
    }
}
