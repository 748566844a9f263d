//! State shared by every venue (engine, keys, faults, clock) and the public handle to it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use rust_decimal::Decimal;

use tradeguard_crypto::secret::SecretString;

use crate::accounts::{self, KeySpec, KeyStore, Permissions, SimCredential};
use crate::clock::Clock;
use crate::engine::{AccountId, Balance, Engine, Fill, Order, OrderId};
use crate::faults::{Fault, FaultConfig, FaultInjector, FaultStats};
use crate::ratelimit::RateStats;
use crate::{SimError, Venue};

/// One venue's state, shared by its HTTP handlers and its [`VenueHandle`].
pub(crate) struct VenueCore {
    pub(crate) venue: Venue,
    pub(crate) base_url: String,
    pub(crate) clock: Arc<dyn Clock>,
    engine: Mutex<Engine>,
    keys: RwLock<KeyStore>,
    faults: Mutex<FaultInjector>,
    rate: Mutex<RateStats>,
}

impl VenueCore {
    pub(crate) fn new(
        venue: Venue,
        base_url: String,
        clock: Arc<dyn Clock>,
        engine: Engine,
        faults: FaultConfig,
    ) -> Self {
        Self {
            venue,
            base_url,
            clock,
            engine: Mutex::new(engine),
            keys: RwLock::new(KeyStore::default()),
            faults: Mutex::new(FaultInjector::new(faults)),
            rate: Mutex::new(RateStats::default()),
        }
    }

    /// Now, from the injected clock.
    pub(crate) fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The engine, advanced to now. A poisoned lock is recovered: the engine's state is
    /// consistent between calls because every call completes before releasing it.
    pub(crate) fn engine(&self) -> MutexGuard<'_, Engine> {
        let mut e = self
            .engine
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        e.advance(self.clock.now_ms());
        e
    }

    /// Runs `f` with the key store.
    pub(crate) fn with_keys<T>(&self, f: impl FnOnce(&KeyStore) -> T) -> T {
        f(&self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Updates the rate-limiter statistics.
    pub(crate) fn rate_stats(&self, f: impl FnOnce(&mut RateStats)) {
        f(&mut self
            .rate
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner));
    }

    /// Draws this request's faults and sleeps the drawn latency.
    pub(crate) async fn draw_faults(&self, order_placement: bool) -> Option<Fault> {
        let draw = self
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .draw(order_placement);
        if draw.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(draw.latency_ms)).await;
        }
        draw.fault
    }

    pub(crate) fn create_key(
        &self,
        account: AccountId,
        spec: &KeySpec,
    ) -> Result<SimCredential, SimError> {
        if self.engine().balances(account).is_err() {
            return Err(SimError::UnknownAccount(self.venue));
        }
        let (credential, record) = accounts::generate(self.venue, spec, account, &self.base_url)?;
        self.keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(record);
        Ok(credential)
    }
}

/// A running simulated venue: its address, and control over its accounts, keys and faults.
#[derive(Clone)]
pub struct VenueHandle {
    pub(crate) core: Arc<VenueCore>,
    pub(crate) addr: SocketAddr,
}

impl VenueHandle {
    /// Which exchange this simulates.
    pub fn venue(&self) -> Venue {
        self.core.venue
    }

    /// `http://127.0.0.1:PORT`, the base URL a connector or ccxt should use.
    pub fn base_url(&self) -> &str {
        &self.core.base_url
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Opens an account funded with `(asset, amount)` pairs (canonical asset names: `BTC`,
    /// `ETH`, `USD`, `USDT`).
    pub fn open_account(&self, funding: &[(String, Decimal)]) -> AccountId {
        self.core.engine().open_account(funding)
    }

    /// Opens an account with the venue's default funding ([`crate::default_funding`]) and
    /// issues a key of `spec` on it.
    pub fn funded_key(&self, spec: &KeySpec) -> Result<SimCredential, SimError> {
        let account = self.open_account(&crate::default_funding(self.core.venue));
        self.create_key(account, spec)
    }

    /// Issues a new key on `account`.
    pub fn create_key(
        &self,
        account: AccountId,
        spec: &KeySpec,
    ) -> Result<SimCredential, SimError> {
        self.core.create_key(account, spec)
    }

    /// Registers an HMAC key with a known secret on `account` (Binance: the ASCII secret;
    /// Coinbase Exchange and Kraken: the base64 secret), for replaying documented examples.
    pub fn import_hmac_key(
        &self,
        account: AccountId,
        api_key: &str,
        secret: &SecretString,
        passphrase: Option<&SecretString>,
        permissions: Permissions,
    ) -> Result<(), SimError> {
        let record = accounts::import_hmac(
            self.core.venue,
            account,
            api_key,
            secret,
            passphrase,
            permissions,
        )?;
        self.core
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(record);
        Ok(())
    }

    /// Replaces the fault configuration (and restarts its seeded stream).
    pub fn set_faults(&self, config: FaultConfig) {
        *self
            .core
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = FaultInjector::new(config);
    }

    /// Faults injected since the last `set_faults`.
    pub fn fault_stats(&self) -> FaultStats {
        self.core
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .stats()
            .clone()
    }

    /// What the venue's rate limiter decided so far (admitted, 429s, bans, Binance weight per
    /// minute): the server-side measure of a client's pacing.
    pub fn rate_stats(&self) -> RateStats {
        self.core
            .rate
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The id the venue's API shows for a fill: Binance and Coinbase Exchange `id`/`trade_id`
    /// (numbers), Coinbase Advanced Trade `trade_id` (a UUID), Kraken the trade txid.
    pub fn wire_trade_id(&self, fill: u64) -> String {
        match self.core.venue {
            Venue::Binance | Venue::CoinbaseExchange => fill.to_string(),
            Venue::Coinbase => crate::coinbase::model::trade_id(fill),
            Venue::Kraken => crate::kraken::model::txid('T', fill),
        }
    }

    /// Every order of the account as the exchange records it (the truth a ledger must match).
    pub fn orders(&self, account: AccountId) -> Vec<Order> {
        self.core
            .engine()
            .orders(account)
            .into_iter()
            .cloned()
            .collect()
    }

    /// The id the venue's API shows for an engine order: Binance `orderId`, Coinbase
    /// `order_id` / Coinbase Exchange `id` (UUIDs), Kraken `txid`.
    pub fn wire_order_id(&self, order: OrderId) -> String {
        match self.core.venue {
            Venue::Binance => order.0.to_string(),
            Venue::Coinbase => crate::ids::uuid_for(crate::coinbase::model::ORDER_SALT, order.0),
            Venue::CoinbaseExchange => {
                crate::ids::uuid_for(crate::coinbase_exchange::model::ORDER_SALT, order.0)
            }
            Venue::Kraken => crate::kraken::model::txid('O', order.0),
        }
    }

    /// Every fill of the account.
    pub fn fills(&self, account: AccountId) -> Vec<Fill> {
        self.core
            .engine()
            .fills(account)
            .into_iter()
            .cloned()
            .collect()
    }

    /// Credits `amount` of `asset` to the account's free balance, as a deposit from outside
    /// the exchange would (no fill, no order).
    pub fn deposit(
        &self,
        account: AccountId,
        asset: &str,
        amount: Decimal,
    ) -> Result<(), SimError> {
        self.core
            .engine()
            .deposit(account, asset, amount)
            .map_err(|_| SimError::UnknownAccount(self.core.venue))
    }

    /// The account's balances.
    pub fn balances(&self, account: AccountId) -> Result<BTreeMap<String, Balance>, SimError> {
        self.core
            .engine()
            .balances(account)
            .map_err(|_| SimError::UnknownAccount(self.core.venue))
    }
}
