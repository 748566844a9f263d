//! The exchange side, behind traits so the gateway can be tested with fakes and wired to
//! `tradeguard-exchange` (ConnectorHub, order ledger) by the binary:
//! - [`RiskGate`]: runs `tradeguard_risk::check::check_order` with live balances and prices;
//! - [`OrderRouter`]: places only [`RiskApproved<Order>`], cancels, lists;
//! - [`OrderCanceller`]: the halt's "cancel everything everywhere";
//! - [`AlertSink`]: the alert webhook.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use rust_decimal::Decimal;
use serde::Serialize;
use tradeguard_risk::check::{CheckContext, Refusal, check_order};
use tradeguard_risk::ids::{ProfileId, Timestamp};
use tradeguard_risk::limits::PortfolioLimits;
use tradeguard_risk::market::{Market, Portfolio};
use tradeguard_risk::profile::Profile;
use tradeguard_risk::state::ProfileState;
use tradeguard_risk::{Order, RiskApproved};

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

/// A [`RiskGate`] over state held in memory (demos and tests; the serve wiring feeds it
/// from the exchange poller).
pub struct StaticRisk {
    limits: PortfolioLimits,
    market: Mutex<Market>,
    books: Mutex<HashMap<ProfileId, ProfileBook>>,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
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
        }
    }
}

#[async_trait]
impl RiskGate for StaticRisk {
    async fn check(&self, order: Order) -> Result<Checked, Refusal> {
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
        let approved = check_order(&ctx, order)?;
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
}
