//! The exchange side, behind traits so the gateway can be tested with fakes and wired to
//! `tradeguard-exchange` (ConnectorHub, order ledger) by the binary:
//! - [`RiskGate`]: runs `tradeguard_risk::check::check_order_with_open` with live balances,
//!   prices and the profile's open orders;
//! - [`OrderRouter`]: places only [`RiskApproved<Order>`], cancels, lists;
//! - [`OrderCanceller`]: the halt's "cancel everything everywhere";
//! - [`AlertSink`]: the alert webhook.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use rust_decimal::Decimal;
use serde::Serialize;
use tradeguard_risk::check::{CheckContext, Refusal, check_order_with_open};
use tradeguard_risk::ids::{Asset, ClientOrderId, ProfileId, Symbol, Timestamp};
use tradeguard_risk::limits::PortfolioLimits;
use tradeguard_risk::market::{Market, Portfolio};
use tradeguard_risk::order::Side;
use tradeguard_risk::profile::{Profile, TradingState};
use tradeguard_risk::rebalance::{PlanInput, RebalanceSchedule, Trigger, plan_rebalance};
use tradeguard_risk::state::ProfileState;
use tradeguard_risk::stats::MarketStats;
use tradeguard_risk::{OpenOrder, Order, RiskApproved};

use crate::portfolio::{PlanError, PortfolioView, Portfolios, ProfilePlan, portfolio_view};

/// What an order would cost, for the two-step preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Estimate {
    /// Quantity times price (limit price, or last price for market orders), quote asset.
    pub notional: Decimal,
    /// Estimated fee, quote asset.
    pub fee: Decimal,
    /// The quote asset.
    pub quote: String,
}

/// An order that passed the risk engine, with its cost estimate.
#[derive(Debug)]
pub struct Checked {
    /// The proof.
    pub approved: RiskApproved<Order>,
    /// The estimate.
    pub estimate: Estimate,
}

/// The risk engine, fed with live state.
#[async_trait]
pub trait RiskGate: Send + Sync {
    /// Runs every pre-trade check.
    async fn check(&self, order: Order) -> Result<Checked, Refusal>;
}

/// An order as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderView {
    /// The gateway's id for the order (used by `DELETE /v1/orders/{id}`).
    pub id: String,
    /// The client's idempotency key.
    pub client_order_id: String,
    /// Profile.
    pub profile: String,
    /// `BASE/QUOTE`.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Quantity, exact decimal string.
    pub quantity: Decimal,
    /// Limit price, if any.
    pub price: Option<Decimal>,
    /// `open`, `filled`, `cancelled`, `rejected`, `unknown`.
    pub status: String,
}

/// A balance as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BalanceView {
    /// The exchange account.
    pub account: String,
    /// Asset code.
    pub asset: String,
    /// Available.
    pub free: Decimal,
    /// Held by open orders.
    pub locked: Decimal,
}

/// The exchange side failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum VenueError {
    /// No such order.
    #[error("order `{0}` not found")]
    NotFound(String),
    /// The exchange refused or could not be reached; `reason` has no credential.
    #[error("{0}")]
    Failed(String),
}

/// Routes approved orders to the exchanges.
#[async_trait]
pub trait OrderRouter: Send + Sync {
    /// Places an approved order.
    async fn place(&self, order: RiskApproved<Order>) -> Result<OrderView, VenueError>;
    /// Cancels one order.
    async fn cancel(&self, id: &str) -> Result<OrderView, VenueError>;
    /// Every known order, newest first.
    async fn orders(&self) -> Result<Vec<OrderView>, VenueError>;
    /// Balances on every account.
    async fn balances(&self) -> Result<Vec<BalanceView>, VenueError>;
}

/// The outcome of cancelling everything on one venue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VenueCancel {
    /// The venue (exchange account).
    pub venue: String,
    /// Orders confirmed cancelled (or already closed).
    pub cancelled: Vec<String>,
    /// Orders the venue would not confirm after every retry, with the reason.
    pub failed: Vec<(String, String)>,
}

/// Cancels every open order on every venue, retrying until each is confirmed or reported.
#[async_trait]
pub trait OrderCanceller: Send + Sync {
    /// Runs the cancellation; returns one report per venue.
    async fn cancel_all(&self) -> Vec<VenueCancel>;
}

/// Sends an alert (the configured webhook).
#[async_trait]
pub trait AlertSink: Send + Sync {
    /// Delivers `alert`; `Err` carries a reason without secrets.
    async fn alert(&self, alert: &serde_json::Value) -> Result<(), String>;
}

/// POSTs alerts as JSON to a URL.
pub struct WebhookAlert {
    url: reqwest::Url,
    client: reqwest::Client,
}

impl WebhookAlert {
    /// An alert sink for `url` (http or https).
    pub fn new(url: &str) -> Result<Self, String> {
        let url: reqwest::Url = url
            .parse()
            .map_err(|_| "alert_webhook is not a URL".to_owned())?;
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|_| "cannot build the webhook HTTP client".to_owned())?;
        Ok(Self { url, client })
    }
}

#[async_trait]
impl AlertSink for WebhookAlert {
    async fn alert(&self, alert: &serde_json::Value) -> Result<(), String> {
        let resp = self
            .client
            .post(self.url.clone())
            .json(alert)
            .send()
            .await
            .map_err(|_| "alert webhook unreachable".to_owned())?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("alert webhook answered {}", resp.status().as_u16()))
        }
    }
}

/// One profile's risk inputs.
pub struct ProfileBook {
    /// The profile.
    pub profile: Profile,
    /// Its breakers and order-rate window.
    pub state: ProfileState,
    /// Its balances.
    pub portfolio: Portfolio,
}

/// The open orders of `profile` among `views`: those `open` or `unknown` (an order whose fate
/// is unknown may rest on the exchange) on a pair the profile trades, except `except` (the
/// order being checked). A view names its profile, or none when its account is shared; the
/// pair tells then (profiles sharing an account trade disjoint asset sets). A view carries no
/// filled quantity, so its whole quantity counts as left to fill (the stricter reading).
pub fn open_orders_of(
    profile: &Profile,
    views: &[OrderView],
    except: Option<&ClientOrderId>,
) -> Vec<OpenOrder> {
    views
        .iter()
        .filter(|v| v.status == "open" || v.status == "unknown")
        .filter(|v| v.profile.is_empty() || v.profile == profile.id.as_str())
        .filter(|v| except.is_none_or(|c| c.as_str() != v.client_order_id))
        .filter_map(|v| {
            let (b, q) = v.symbol.split_once('/')?;
            let symbol = Symbol::new(Asset::new(b).ok()?, Asset::new(q).ok()?).ok()?;
            let side = match v.side.as_str() {
                "buy" => Side::Buy,
                "sell" => Side::Sell,
                _ => return None,
            };
            trades(profile, &symbol).then_some(())?;
            OpenOrder::new(symbol, side, v.quantity, v.price).ok()
        })
        .collect()
}

/// Whether `symbol` is one of the pairs `profile` trades (a target asset against its quote).
pub fn trades(profile: &Profile, symbol: &Symbol) -> bool {
    *symbol.quote() == profile.quote
        && *symbol.base() != profile.quote
        && profile.targets.contains_key(symbol.base())
}

/// A [`RiskGate`] over state held in memory (demos and tests; the serve wiring feeds it
/// from the exchange poller). Orders are checked with the profile's open orders: those the
/// caller passes to [`Self::check_with_open`], or, through [`RiskGate::check`], those the
/// router set by [`Self::with_open_orders`] lists (none without one).
pub struct StaticRisk {
    limits: PortfolioLimits,
    market: Mutex<Market>,
    books: Mutex<HashMap<ProfileId, ProfileBook>>,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
    open_source: Option<std::sync::Arc<dyn OrderRouter>>,
    rebalancing: (bool, bool),
}

impl StaticRisk {
    /// A gate over `books`, `market` and `limits`.
    pub fn new(
        limits: PortfolioLimits,
        market: Market,
        books: Vec<ProfileBook>,
        clock: std::sync::Arc<dyn crate::clock::Clock>,
    ) -> Self {
        let books = books
            .into_iter()
            .map(|b| (b.profile.id.clone(), b))
            .collect();
        Self {
            limits,
            market: Mutex::new(market),
            books: Mutex::new(books),
            clock,
            open_source: None,
            rebalancing: (true, true),
        }
    }

    /// Reads each profile's open orders from `router` (see [`open_orders_of`]).
    pub fn with_open_orders(mut self, router: std::sync::Arc<dyn OrderRouter>) -> Self {
        self.open_source = Some(router);
        self
    }

    /// `[rebalancing] enabled` and `randomization_enabled` (both on by default).
    pub fn with_rebalancing(mut self, enabled: bool, randomization: bool) -> Self {
        self.rebalancing = (enabled, randomization);
        self
    }

    /// The profiles, sorted by id.
    pub fn profiles(&self) -> Vec<Profile> {
        let books = self.books.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<Profile> = books.values().map(|b| b.profile.clone()).collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Replaces the market data (last prices, instrument rules, fee rate), as the serve
    /// wiring does after each poll of the exchange.
    pub fn set_market(&self, market: Market) {
        *self.market.lock().unwrap_or_else(|p| p.into_inner()) = market;
    }

    /// Replaces the balances of `profile` and records its value at the current market for
    /// the daily-loss and drawdown breakers (skipped while a held asset has no price).
    /// Returns false when this gate has no such profile.
    pub fn set_portfolio(&self, profile: &ProfileId, portfolio: Portfolio) -> bool {
        let market = self.market.lock().unwrap_or_else(|p| p.into_inner());
        let mut books = self.books.lock().unwrap_or_else(|p| p.into_inner());
        let Some(book) = books.get_mut(profile) else {
            return false;
        };
        if let Ok(v) = portfolio.value(&market) {
            let now = Timestamp::from_millis(self.clock.now_ms());
            book.state.observe_value(&book.profile, v.total, now);
        }
        book.portfolio = portfolio;
        true
    }
}

impl StaticRisk {
    /// Runs every pre-trade check on `order` with the profile's `open` orders (not counting
    /// `order` itself); on approval, counts it against the profile's order rate.
    pub fn check_with_open(&self, order: Order, open: &[OpenOrder]) -> Result<Checked, Refusal> {
        let market = self.market.lock().unwrap_or_else(|p| p.into_inner());
        let mut books = self.books.lock().unwrap_or_else(|p| p.into_inner());
        let now = Timestamp::from_millis(self.clock.now_ms());
        let Some(book) = books.get_mut(order.profile()) else {
            return Err(Refusal {
                order: Box::new(order),
                reasons: Vec::new(),
            });
        };
        let ctx = CheckContext {
            profile: &book.profile,
            limits: &self.limits,
            state: &book.state,
            portfolio: &book.portfolio,
            market: &market,
            now,
        };
        let approved = check_order_with_open(&ctx, open, order)?;
        book.state.record_order(now);
        let o = approved.get();
        let price = o
            .limit_price()
            .or_else(|| market.price(o.symbol().base()))
            .unwrap_or_default();
        let notional = (price * o.quantity()).round_dp(12);
        Ok(Checked {
            estimate: Estimate {
                notional,
                fee: (notional * market.fee_rate()).round_dp(12),
                quote: o.symbol().quote().as_str().to_owned(),
            },
            approved,
        })
    }

    /// The view of `profile` with `open` orders (`None`: no such profile).
    pub fn portfolio(&self, profile: &ProfileId, open: usize) -> Option<PortfolioView> {
        let market = self.market.lock().unwrap_or_else(|p| p.into_inner());
        let books = self.books.lock().unwrap_or_else(|p| p.into_inner());
        let book = books.get(profile)?;
        let state = self.state_of(book, &market);
        Some(portfolio_view(
            &book.profile,
            &book.portfolio,
            &market,
            state,
            open,
        ))
    }

    /// The profile's own state: operator state and breakers at its current value; while it
    /// cannot be valued, the breakers already tripped (a value no breaker can trip stands in).
    fn state_of(&self, book: &ProfileBook, market: &Market) -> TradingState {
        let now = Timestamp::from_millis(self.clock.now_ms());
        let value = book
            .portfolio
            .value(market)
            .map_or(Decimal::MAX, |v| v.total);
        book.state.trading_state(&book.profile, value, now)
    }

    /// `profile`'s rebalancing plan now with its `open` orders: its strategy's targets (the
    /// configured ones when the strategy needs statistics this gate does not keep), moved by
    /// up to its randomization factor with the operating system's CSPRNG, clipped to the
    /// limits.
    pub fn plan_with_open(
        &self,
        profile: &ProfileId,
        open: &[OpenOrder],
    ) -> Result<ProfilePlan, PlanError> {
        self.plan_with(profile, open, None)
    }

    /// [`Self::plan_with_open`] with market statistics over the strategy's lookback (for the
    /// risk-adjusted, volatility-targeted and momentum strategies).
    pub fn plan_with(
        &self,
        profile: &ProfileId,
        open: &[OpenOrder],
        stats: Option<&MarketStats>,
    ) -> Result<ProfilePlan, PlanError> {
        let (enabled, randomize) = self.rebalancing;
        let market = self.market.lock().unwrap_or_else(|p| p.into_inner());
        let books = self.books.lock().unwrap_or_else(|p| p.into_inner());
        let book = books
            .get(profile)
            .ok_or_else(|| PlanError::UnknownProfile(profile.to_string()))?;
        if !enabled {
            return Err(PlanError::Disabled);
        }
        let input = PlanInput {
            profile: &book.profile,
            limits: &self.limits,
            portfolio: &book.portfolio,
            market: &market,
            stats,
            randomization: if randomize {
                book.profile.randomization_factor
            } else {
                Decimal::ZERO
            },
            open_orders: open,
        };
        let plan = plan_rebalance(&input, &mut rand::rng())
            .map_err(|e| PlanError::Unavailable(format!("profile `{profile}`: {e}")))?;
        Ok(ProfilePlan {
            plan,
            state: self.state_of(book, &market),
        })
    }

    /// Why `profile` is due for a rebalance by `schedule` now, if it is (never while it
    /// cannot be valued or holds nothing).
    pub fn rebalance_due(
        &self,
        profile: &ProfileId,
        schedule: &RebalanceSchedule,
    ) -> Option<Trigger> {
        let market = self.market.lock().unwrap_or_else(|p| p.into_inner());
        let books = self.books.lock().unwrap_or_else(|p| p.into_inner());
        let book = books.get(profile)?;
        let valuation = book.portfolio.value(&market).ok()?;
        if valuation.total <= Decimal::ZERO {
            return None;
        }
        let now = Timestamp::from_millis(self.clock.now_ms());
        schedule.due(&book.profile, &self.limits, &valuation, now)
    }

    async fn open_of(
        &self,
        profile: &Profile,
        except: Option<&ClientOrderId>,
    ) -> Result<Vec<OpenOrder>, VenueError> {
        match &self.open_source {
            Some(router) => Ok(open_orders_of(profile, &router.orders().await?, except)),
            None => Ok(Vec::new()),
        }
    }

    fn profile(&self, id: &ProfileId) -> Option<Profile> {
        let books = self.books.lock().unwrap_or_else(|p| p.into_inner());
        books.get(id).map(|b| b.profile.clone())
    }
}

#[async_trait]
impl RiskGate for StaticRisk {
    async fn check(&self, order: Order) -> Result<Checked, Refusal> {
        let Some(profile) = self.profile(order.profile()) else {
            return self.check_with_open(order, &[]);
        };
        match self.open_of(&profile, Some(order.client_order_id())).await {
            Ok(open) => self.check_with_open(order, &open),
            Err(e) => {
                tracing::warn!(error = %e, "open orders unavailable; order refused");
                Err(Refusal {
                    order: Box::new(order),
                    reasons: Vec::new(),
                })
            }
        }
    }
}

#[async_trait]
impl Portfolios for StaticRisk {
    async fn portfolios(&self) -> Result<Vec<PortfolioView>, PlanError> {
        let mut out = Vec::new();
        for p in self.profiles() {
            let open = self
                .open_of(&p, None)
                .await
                .map_err(|e| PlanError::Unavailable(e.to_string()))?;
            out.extend(self.portfolio(&p.id, open.len()));
        }
        Ok(out)
    }

    async fn plan(&self, profile: &ProfileId) -> Result<ProfilePlan, PlanError> {
        let p = self
            .profile(profile)
            .ok_or_else(|| PlanError::UnknownProfile(profile.to_string()))?;
        let open = self
            .open_of(&p, None)
            .await
            .map_err(|e| PlanError::Unavailable(e.to_string()))?;
        self.plan_with_open(profile, &open)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use tradeguard_risk::ids::{AccountId, Asset, ClientOrderId, Exchange, Symbol};
    use tradeguard_risk::market::InstrumentRules;
    use tradeguard_risk::order::{OrderType, Side};
    use tradeguard_risk::profile::ProfileType;

    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// Moderate profile `p1` on Kraken, in USD, targeting 20 % BTC.
    fn profile_p1() -> Profile {
        let targets = BTreeMap::from([(Asset::new("BTC").unwrap(), d("0.2"))]);
        let account = AccountId {
            exchange: Exchange::Kraken,
            credential: "k".into(),
        };
        let id = ProfileId::new("p1").unwrap();
        let usd = Asset::new("USD").unwrap();
        Profile::with_defaults(id, account, ProfileType::Moderate, usd, targets)
    }

    #[tokio::test]
    async fn market_and_portfolio_updates_reach_the_checks() {
        let (btc, usd) = (Asset::new("BTC").unwrap(), Asset::new("USD").unwrap());
        let profile = profile_p1();
        let id = profile.id.clone();
        let book = ProfileBook {
            profile,
            state: ProfileState::new(),
            portfolio: Portfolio::default(),
        };
        let clock = Arc::new(crate::clock::ManualClock::at_ms(1_700_000_000_000));
        let gate = StaticRisk::new(
            PortfolioLimits::default(),
            Market::new(usd.clone(), d("0.001")).unwrap(),
            vec![book],
            clock,
        );
        let order = || {
            Order::new(
                id.clone(),
                ClientOrderId::new("o1").unwrap(),
                Symbol::new(btc.clone(), usd.clone()).unwrap(),
                Side::Buy,
                OrderType::Limit { price: d("50000") },
                d("0.01"),
            )
            .unwrap()
        };
        assert!(gate.check(order()).await.is_err(), "no price, no cash");
        let mut market = Market::new(usd.clone(), d("0.001")).unwrap();
        market.set_price(btc.clone(), d("50000")).unwrap();
        let rules = InstrumentRules::new(d("0.1"), d("0.0001"), d("0.0001"), d("1")).unwrap();
        market.set_instrument(btc.clone(), rules);
        gate.set_market(market);
        assert!(gate.set_portfolio(&id, Portfolio::with_cash(d("100000")).unwrap()));
        assert!(!gate.set_portfolio(&ProfileId::new("nope").unwrap(), Portfolio::default()));
        let checked = gate.check(order()).await.unwrap();
        assert_eq!(checked.estimate.notional, d("500"));
    }

    fn view(profile: &str, symbol: &str, side: &str, status: &str, cid: &str) -> OrderView {
        OrderView {
            id: format!("a:{cid}"),
            client_order_id: cid.into(),
            profile: profile.into(),
            symbol: symbol.into(),
            side: side.into(),
            quantity: d("0.5"),
            price: Some(d("100")),
            status: status.into(),
        }
    }

    /// Numbered cases: which listed orders are the profile's open orders.
    #[test]
    fn open_orders_are_the_profiles_own_open_ones() {
        let p = profile_p1();
        let cases = [
            (view("p1", "BTC/USD", "buy", "open", "a"), true),
            (view("", "BTC/USD", "sell", "unknown", "b"), true),
            (view("p2", "BTC/USD", "buy", "open", "c"), false),
            (view("", "ETH/USD", "buy", "open", "d"), false),
            (view("", "BTC/EUR", "buy", "open", "e"), false),
            (view("p1", "BTC/USD", "buy", "filled", "f"), false),
            (view("p1", "BTC/USD", "buy", "open", "except"), false),
            (view("p1", "BTC/USD", "hold", "open", "g"), false),
        ];
        let except = ClientOrderId::new("except").unwrap();
        for (i, (v, want)) in cases.iter().enumerate() {
            let got = open_orders_of(&p, std::slice::from_ref(v), Some(&except));
            assert_eq!(got.len(), usize::from(*want), "TC{} failed: {v:?}", i + 1);
        }
    }

    #[test]
    fn plans_are_refused_when_rebalancing_is_disabled() {
        let usd = Asset::new("USD").unwrap();
        let p = profile_p1();
        let id = p.id.clone();
        let book = ProfileBook {
            profile: p,
            state: ProfileState::new(),
            portfolio: Portfolio::with_cash(d("1000")).unwrap(),
        };
        let clock = Arc::new(crate::clock::ManualClock::at_ms(1_700_000_000_000));
        let market = Market::new(usd, d("0.001")).unwrap();
        let gate = StaticRisk::new(PortfolioLimits::default(), market, vec![book], clock)
            .with_rebalancing(false, true);
        assert!(matches!(
            gate.plan_with_open(&id, &[]),
            Err(PlanError::Disabled)
        ));
        let other = ProfileId::new("p2").unwrap();
        assert!(matches!(
            gate.plan_with_open(&other, &[]),
            Err(PlanError::UnknownProfile(_))
        ));
    }
}
