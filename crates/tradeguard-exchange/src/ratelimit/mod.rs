//! Rate limiting that models each exchange, shared by every caller of one budget.
//!
//! Each exchange's `limits.rs` implements [`Limits`] on top of the pure counters in
//! [`models`] and the reactive [`Gate`]. [`RateBudgets`] hands out one `Arc` per budget key so
//! every bot, profile and client that uses the same account (and egress IP) draws from the
//! same budget. Callers wait *before* the limit (`rate_headroom` of it), honour `Retry-After`,
//! slow down after a 429 and stop during a ban.

mod gate;
pub mod models;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use gate::{Denied, Gate};
use reqwest::header::HeaderMap;

use crate::binance::limits::{BinanceAccountLimits, BinanceIpLimits, BinanceLimits};
use crate::clock::Clock;
use crate::coinbase::limits::CoinbaseLimits;
use crate::coinbase_exchange::limits::CoinbaseExchangeLimits;
use crate::config::{ConnectorConfig, KrakenTier};
use crate::error::ExchangeError;
use crate::kraken::limits::KrakenLimits;
use crate::model::{AccountId, ExchangeId, UnixMillis};

/// One exchange's rate model.
pub trait Limits: Send + Sync {
    /// What one request costs in this model.
    type Cost: Send + Sync;

    /// The exchange.
    fn exchange(&self) -> ExchangeId;

    /// Reserves `cost` now, or says how long to wait (or that we are banned).
    fn try_acquire(&self, now: UnixMillis, cost: &Self::Cost) -> Result<(), Denied>;

    /// Learns from a response's status and headers (used-weight counters and the like).
    fn observe(&self, now: UnixMillis, cost: &Self::Cost, status: u16, headers: &HeaderMap);

    /// The exchange said "too many requests" (429 or its own error code).
    fn throttled(&self, now: UnixMillis, retry_after: Option<Duration>);

    /// The exchange banned us until `until`.
    fn banned(&self, now: UnixMillis, until: UnixMillis);
}

/// Waits until `cost` is reserved in `limits`, at most `max_wait` in total.
pub async fn acquire<L: Limits + ?Sized>(
    limits: &L,
    clock: &dyn Clock,
    cost: &L::Cost,
    operation: &'static str,
    max_wait: Duration,
) -> Result<(), ExchangeError> {
    let mut waited = Duration::ZERO;
    loop {
        match limits.try_acquire(clock.now(), cost) {
            Ok(()) => return Ok(()),
            Err(Denied::Banned(until)) => {
                return Err(ExchangeError::Banned {
                    exchange: limits.exchange(),
                    until,
                });
            }
            Err(Denied::Wait(d)) => {
                if waited + d > max_wait {
                    return Err(ExchangeError::RateLimited {
                        exchange: limits.exchange(),
                        operation,
                        retry_after: Some(d),
                    });
                }
                clock.sleep(d).await;
                waited += d;
            }
        }
    }
}

/// Reads a `Retry-After` header given in seconds.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

type Shared<T> = Mutex<HashMap<(ExchangeId, String), Arc<T>>>;

/// The registry of shared budgets. Create one per process (or per gateway replica; budgets
/// shared across replicas need the store's shared limiter) and build every client from it.
#[derive(Default)]
pub struct RateBudgets {
    binance_ip: Shared<BinanceIpLimits>,
    binance_account: Shared<BinanceAccountLimits>,
    kraken: Shared<KrakenLimits>,
    coinbase: Shared<CoinbaseLimits>,
    coinbase_exchange: Shared<CoinbaseExchangeLimits>,
}

fn get_or_insert<T>(
    map: &Shared<T>,
    key: (ExchangeId, String),
    make: impl FnOnce() -> T,
) -> Arc<T> {
    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
    m.entry(key).or_insert_with(|| Arc::new(make())).clone()
}

impl RateBudgets {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn account_key(cfg: &ConnectorConfig, account: &AccountId) -> (ExchangeId, String) {
        (cfg.exchange, format!("{}@{}", account, cfg.egress_label()))
    }

    /// Binance: request weight per egress IP (shared by all accounts behind it), order counts
    /// per account.
    pub fn binance(&self, cfg: &ConnectorConfig) -> BinanceLimits {
        let ip = get_or_insert(
            &self.binance_ip,
            (ExchangeId::Binance, cfg.egress_label()),
            || BinanceIpLimits::new(cfg.rate_headroom),
        );
        let account = get_or_insert(
            &self.binance_account,
            (ExchangeId::Binance, cfg.account.to_string()),
            || BinanceAccountLimits::new(cfg.rate_headroom),
        );
        BinanceLimits::new(ip, account)
    }

    /// Kraken: the REST counter and per-pair trading counters of one API key.
    pub fn kraken(&self, cfg: &ConnectorConfig) -> Arc<KrakenLimits> {
        let tier: KrakenTier = cfg.kraken_tier;
        get_or_insert(
            &self.kraken,
            (ExchangeId::Kraken, cfg.account.to_string()),
            || KrakenLimits::new(tier, cfg.rate_headroom),
        )
    }

    /// Coinbase Advanced Trade: private requests per second for one key, per egress.
    pub fn coinbase(&self, cfg: &ConnectorConfig) -> Arc<CoinbaseLimits> {
        get_or_insert(&self.coinbase, Self::account_key(cfg, &cfg.account), || {
            CoinbaseLimits::new(cfg.rate_headroom)
        })
    }

    /// Coinbase Exchange: private and `/fills` buckets for one profile key, per egress.
    pub fn coinbase_exchange(&self, cfg: &ConnectorConfig) -> Arc<CoinbaseExchangeLimits> {
        get_or_insert(
            &self.coinbase_exchange,
            Self::account_key(cfg, &cfg.account),
            || CoinbaseExchangeLimits::new(cfg.rate_headroom),
        )
    }
}
