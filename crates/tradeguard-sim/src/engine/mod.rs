//! The matching engine: pure and deterministic, with time passed in by the caller.
//!
//! One [`Engine`] serves one venue: its markets, accounts, orders and fills. Prices follow a
//! seeded random walk per market ([`price`]); liquidity sits around the mid ([`book`]); balances
//! are settled with the venue's maker/taker fees ([`ledger`]). The same seed and the same
//! sequence of calls with the same times give the same results.

pub mod book;
pub mod ledger;
pub mod market;
mod place;
pub mod price;
pub mod types;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use book::Book;
use ledger::Ledger;
use market::{FeeSchedule, MarketSpec};
use price::{PricePath, STEP_MS};
pub use types::{
    AccountId, Balance, EngineError, Fill, Order, OrderId, OrderKind, OrderRequest, OrderStatus,
    Side, TimeInForce,
};

/// When a client order id may be used again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientIdPolicy {
    /// Unique among the account's open orders (Binance `newClientOrderId`, Kraken `cl_ord_id`).
    UniqueAmongOpen,
    /// Unique for the life of the account (Coinbase `client_order_id` / `client_oid`).
    UniqueForever,
}

/// How to find an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderRef {
    /// By the engine's order number.
    Id(OrderId),
    /// By the client's order id (the latest order that used it).
    Client(String),
}

/// Everything an engine needs at creation.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Seed of the price paths.
    pub seed: u64,
    /// Time the paths start at, ms since the Unix epoch.
    pub start_ms: u64,
    /// The venue's fee schedule.
    pub fees: FeeSchedule,
    /// The venue's client-id rule.
    pub policy: ClientIdPolicy,
    /// The venue's markets.
    pub markets: Vec<MarketSpec>,
}

pub(crate) struct MarketState {
    pub(crate) spec: MarketSpec,
    path: PricePath,
    pub(crate) book: Book,
    pub(crate) open: BTreeSet<OrderId>,
}

/// One venue's matching engine.
pub struct Engine {
    fees: FeeSchedule,
    policy: ClientIdPolicy,
    markets: BTreeMap<String, MarketState>,
    ledger: Ledger,
    orders: BTreeMap<OrderId, Order>,
    client_ids: HashMap<(AccountId, String), OrderId>,
    fills: Vec<Fill>,
    now_ms: u64,
}

impl Engine {
    /// A new engine; each market's path is seeded from `seed` and the market's position.
    pub fn new(config: EngineConfig) -> Self {
        let step = config.start_ms / STEP_MS;
        let markets = config
            .markets
            .into_iter()
            .enumerate()
            .map(|(i, spec)| {
                let seed = config.seed ^ (0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64 + 1));
                let start = spec.start_price.to_f64().unwrap_or(1.0);
                let path = PricePath::new(seed, start, spec.sigma_per_step, step);
                let book = Book::around(&spec, spec.price_from_f64(path.price()));
                (
                    spec.id.clone(),
                    MarketState {
                        spec,
                        path,
                        book,
                        open: BTreeSet::new(),
                    },
                )
            })
            .collect();
        Self {
            fees: config.fees,
            policy: config.policy,
            markets,
            ledger: Ledger::default(),
            orders: BTreeMap::new(),
            client_ids: HashMap::new(),
            fills: Vec::new(),
            now_ms: config.start_ms,
        }
    }

    /// The latest time the engine has seen.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// The venue's fee schedule.
    pub fn fees(&self) -> &FeeSchedule {
        &self.fees
    }

    /// All markets, by id.
    pub fn markets(&self) -> impl Iterator<Item = &MarketSpec> {
        self.markets.values().map(|m| &m.spec)
    }

    /// One market.
    pub fn market(&self, id: &str) -> Option<&MarketSpec> {
        self.markets.get(id).map(|m| &m.spec)
    }

    /// Best bid, best ask and mid of a market at the current step.
    pub fn top(&self, market: &str) -> Option<(Decimal, Decimal, Decimal)> {
        let m = self.markets.get(market)?;
        Some((m.book.best_bid()?, m.book.best_ask()?, m.book.mid))
    }

    /// Opens a funded account (asset names canonical: `BTC`, `USD`, `USDT`, `ETH`).
    pub fn open_account(&mut self, funding: &[(String, Decimal)]) -> AccountId {
        self.ledger.open(funding)
    }

    /// Credits an account.
    pub fn deposit(
        &mut self,
        account: AccountId,
        asset: &str,
        amount: Decimal,
    ) -> Result<(), EngineError> {
        self.ledger.deposit(account, asset, amount)
    }

    /// An account's balances.
    pub fn balances(&self, account: AccountId) -> Result<BTreeMap<String, Balance>, EngineError> {
        self.ledger
            .balances(account)
            .cloned()
            .ok_or(EngineError::UnknownAccount)
    }

    /// Walks every price path up to `now_ms`, refreshing liquidity and filling resting orders
    /// that the market crosses. Time never goes backwards: an earlier `now_ms` is ignored.
    pub fn advance(&mut self, now_ms: u64) {
        if now_ms <= self.now_ms {
            return;
        }
        self.now_ms = now_ms;
        let target = now_ms / STEP_MS;
        let ids: Vec<String> = self.markets.keys().cloned().collect();
        for id in ids {
            self.advance_market(&id, target);
        }
    }

    fn advance_market(&mut self, id: &str, target: u64) {
        let Some(ms) = self.markets.get_mut(id) else {
            return;
        };
        let (jump, walk) = ms.path.plan(target);
        ms.path.jump(jump);
        for _ in 0..walk {
            let Some(ms) = self.markets.get_mut(id) else {
                return;
            };
            ms.path.next();
            ms.book = Book::around(&ms.spec, ms.spec.price_from_f64(ms.path.price()));
            let time = ms.path.step() * STEP_MS;
            self.fill_resting(id, time);
        }
    }

    /// Cancels an open order and releases its hold.
    pub fn cancel(
        &mut self,
        account: AccountId,
        order: &OrderRef,
        now_ms: u64,
    ) -> Result<OrderId, EngineError> {
        self.advance(now_ms);
        let id = self.find(account, order).ok_or(EngineError::UnknownOrder)?;
        let o = self.orders.get_mut(&id).ok_or(EngineError::UnknownOrder)?;
        if !o.status.is_open() {
            return Err(EngineError::OrderClosed);
        }
        o.status = OrderStatus::Canceled;
        o.updated_ms = self.now_ms;
        let (account, market) = (o.account, o.market.clone());
        if let Some((asset, amount)) = o.hold.take() {
            self.ledger.unlock(account, &asset, amount);
        }
        if let Some(ms) = self.markets.get_mut(&market) {
            ms.open.remove(&id);
        }
        Ok(id)
    }

    /// One of the account's orders.
    pub fn order(&self, account: AccountId, order: &OrderRef) -> Option<&Order> {
        self.find(account, order)
            .and_then(|id| self.orders.get(&id))
    }

    /// All of the account's orders, oldest first.
    pub fn orders(&self, account: AccountId) -> Vec<&Order> {
        self.orders
            .values()
            .filter(|o| o.account == account)
            .collect()
    }

    /// The account's open orders, optionally in one market.
    pub fn open_orders(&self, account: AccountId, market: Option<&str>) -> Vec<&Order> {
        self.orders
            .values()
            .filter(|o| o.account == account && o.status.is_open())
            .filter(|o| market.is_none_or(|m| o.market == m))
            .collect()
    }

    /// The account's fills, oldest first.
    pub fn fills(&self, account: AccountId) -> Vec<&Fill> {
        self.fills.iter().filter(|f| f.account == account).collect()
    }

    fn find(&self, account: AccountId, order: &OrderRef) -> Option<OrderId> {
        let id = match order {
            OrderRef::Id(id) => *id,
            OrderRef::Client(c) => *self.client_ids.get(&(account, c.clone()))?,
        };
        self.orders
            .get(&id)
            .filter(|o| o.account == account)
            .map(|o| o.id)
    }
}

#[cfg(test)]
mod tests;
