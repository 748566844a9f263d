//! Profiles' portfolios and rebalancing plans, as `GET /v1/portfolio` and
//! `POST /v1/rebalance/{profile}` show them. [`Portfolios`] is the source: the binary
//! implements it over live balances, prices and open orders; [`crate::venue::StaticRisk`]
//! implements it over the state it holds.

use std::collections::BTreeMap;

use async_trait::async_trait;
use rust_decimal::Decimal;
use serde::Serialize;
use tradeguard_risk::ids::{ClientOrderId, ProfileId};
use tradeguard_risk::market::{Market, Portfolio};
use tradeguard_risk::order::Side;
use tradeguard_risk::profile::{Profile, TradingState};
use tradeguard_risk::rebalance::{RebalancePlan, TargetModel};

/// One asset of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoldingView {
    /// Asset code.
    pub asset: String,
    /// Free plus locked quantity.
    pub quantity: Decimal,
    /// Last price in the profile's quote asset (`None`: no price yet).
    pub price: Option<Decimal>,
    /// Quantity times price (`None` without a price).
    pub value: Option<Decimal>,
    /// Current weight in the profile's value (`None` while the profile cannot be valued).
    pub weight: Option<Decimal>,
    /// Configured target weight.
    pub target: Decimal,
}

/// One profile's position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortfolioView {
    /// The profile.
    pub profile: String,
    /// The exchange account it trades through.
    pub account: String,
    /// Its base currency (quote asset), in which values are given.
    pub quote: String,
    /// ACTIVE, REDUCING or HALTED: the stricter of the gateway's state and the profile's own
    /// (its loss and drawdown breakers).
    pub state: TradingState,
    /// Cash plus every holding (`None` while a held asset has no price).
    pub value: Option<Decimal>,
    /// Quote-asset cash, free plus locked.
    pub cash: Decimal,
    /// Every asset the profile targets.
    pub holdings: Vec<HoldingView>,
    /// Its open orders.
    pub open_orders: usize,
}

/// Builds a profile's view from its balances and the market (state and open orders given).
pub fn portfolio_view(
    profile: &Profile,
    portfolio: &Portfolio,
    market: &Market,
    state: TradingState,
    open_orders: usize,
) -> PortfolioView {
    let valuation = portfolio.value(market).ok();
    let holdings = profile
        .targets
        .iter()
        .filter(|(a, _)| **a != profile.quote)
        .map(|(asset, target)| {
            let quantity = portfolio.holding(asset).total();
            let price = market.price(asset);
            HoldingView {
                asset: asset.as_str().to_owned(),
                quantity,
                price,
                value: price.map(|p| (p * quantity).round_dp(12)),
                weight: valuation.as_ref().map(|v| v.weight(asset).round_dp(8)),
                target: *target,
            }
        })
        .collect();
    PortfolioView {
        profile: profile.id.as_str().to_owned(),
        account: profile.account.credential.clone(),
        quote: profile.quote.as_str().to_owned(),
        state,
        value: valuation.as_ref().map(|v| v.total.round_dp(12)),
        cash: portfolio.cash().total(),
        holdings,
        open_orders,
    }
}

/// A profile's plan, with the profile's own trading state when it was computed.
#[derive(Debug, Clone)]
pub struct ProfilePlan {
    /// The plan (orders carry throw-away ids; [`PlanView::new`] derives the real ones).
    pub plan: RebalancePlan,
    /// The profile's own state (breakers and operator state).
    pub state: TradingState,
}

/// Why no plan could be computed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// No such profile.
    #[error("profile `{0}` is not configured")]
    UnknownProfile(String),
    /// `[rebalancing] enabled = false`.
    #[error("rebalancing is disabled (`[rebalancing] enabled = false`); enable it and restart")]
    Disabled,
    /// Live data is missing (a price, a balance) or the exchange side failed.
    #[error("{0}")]
    Unavailable(String),
}

/// Where the API reads portfolios and plans from.
#[async_trait]
pub trait Portfolios: Send + Sync {
    /// Every profile's position (the state field holds the profile's own state).
    async fn portfolios(&self) -> Result<Vec<PortfolioView>, PlanError>;
    /// The profile's plan now, over live balances, prices and open orders, randomized by the
    /// profile's factor with the operating system's CSPRNG.
    async fn plan(&self, profile: &ProfileId) -> Result<ProfilePlan, PlanError>;
}

/// One planned order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedOrder {
    /// `<plan id><index, 4 hex digits>`: the same plan never places an order twice.
    pub client_order_id: String,
    /// `BASE/QUOTE`.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: Side,
    /// Always `limit` (at the last price, rounded to the tick).
    #[serde(rename = "type")]
    pub order_type: &'static str,
    /// Limit price.
    pub price: Decimal,
    /// Base quantity.
    pub quantity: Decimal,
}

/// A trade the plan leaves out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedView {
    /// Asset.
    pub asset: String,
    /// Direction the targets called for.
    pub side: Side,
    /// Notional left untraded, quote asset.
    pub notional: Decimal,
    /// Snake-case reason (`below_exchange_minimum`, `fee_exceeds_benefit`, ...).
    pub reason: &'static str,
}

/// A plan as the API shows and audits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanView {
    /// The plan's id (28 hex digits: the profile's tag, then 80 random bits).
    pub plan_id: String,
    /// The profile.
    pub profile: String,
    /// The model behind the targets (`configured`, `risk_adjusted`, ...).
    pub model: &'static str,
    /// The targets traded towards (randomized, then clipped to the limits).
    pub targets: BTreeMap<String, Decimal>,
    /// The orders, in placement order (sells first).
    pub orders: Vec<PlannedOrder>,
    /// Trades left out.
    pub skipped: Vec<SkippedView>,
}

fn model_name(m: &TargetModel) -> &'static str {
    match m {
        TargetModel::Configured => "configured",
        TargetModel::RiskAdjusted => "risk_adjusted",
        TargetModel::VolatilityTarget { .. } => "volatility_target",
        TargetModel::Momentum => "momentum",
        TargetModel::FallbackNoStats => "configured_no_stats",
    }
}

impl PlanView {
    /// The view of `plan` for `profile`, under `plan_id`.
    pub fn new(profile: &ProfileId, plan_id: &str, plan: &RebalancePlan) -> Self {
        let orders = plan
            .orders
            .iter()
            .enumerate()
            .map(|(i, o)| PlannedOrder {
                client_order_id: format!("{plan_id}{i:04x}"),
                symbol: o.symbol().to_string(),
                side: o.side(),
                order_type: "limit",
                price: o.limit_price().unwrap_or_default(),
                quantity: o.quantity(),
            })
            .collect();
        let skipped = plan
            .skipped
            .iter()
            .map(|s| SkippedView {
                asset: s.asset.as_str().to_owned(),
                side: s.side,
                notional: s.notional.round_dp(8),
                reason: s.reason.code(),
            })
            .collect();
        Self {
            plan_id: plan_id.to_owned(),
            profile: profile.as_str().to_owned(),
            model: model_name(&plan.model),
            targets: plan
                .targets
                .iter()
                .map(|(a, w)| (a.as_str().to_owned(), *w))
                .collect(),
            orders,
            skipped,
        }
    }
}

/// A fresh plan id for `profile`: 28 hex digits from the OS CSPRNG, so that the plan's
/// order ids (`<plan id><index>`) have the shape of any other client order id of the profile.
pub fn new_plan_id(profile: &ProfileId) -> String {
    let mut id = ClientOrderId::generate(profile, &mut rand::rng())
        .as_str()
        .to_owned();
    id.truncate(28);
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeguard_risk::ids::{AccountId, Asset, Exchange};
    use tradeguard_risk::profile::ProfileType;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn view_values_holdings_at_last_prices() {
        let (btc, eth, usd) = (
            Asset::new("BTC").unwrap(),
            Asset::new("ETH").unwrap(),
            Asset::new("USD").unwrap(),
        );
        let account = AccountId {
            exchange: Exchange::Kraken,
            credential: "k".into(),
        };
        let targets = [(btc.clone(), d("0.2")), (eth.clone(), d("0.1"))].into();
        let id = ProfileId::new("p1").unwrap();
        let p = Profile::with_defaults(id, account, ProfileType::Moderate, usd.clone(), targets);
        let mut market = Market::new(usd, d("0.001")).unwrap();
        market.set_price(btc.clone(), d("50000")).unwrap();
        let mut port = Portfolio::with_cash(d("95000")).unwrap();
        let one_tenth = tradeguard_risk::market::Balance {
            free: d("0.1"),
            locked: Decimal::ZERO,
        };
        port.set_holding(btc, one_tenth).unwrap();
        let v = portfolio_view(&p, &port, &market, TradingState::Active, 2);
        assert_eq!(v.value, Some(d("100000")));
        assert_eq!(v.holdings[0].weight, Some(d("0.05")));
        assert_eq!(v.holdings[1].price, None, "no ETH price");
        assert_eq!(v.holdings[1].weight, Some(Decimal::ZERO), "none held");
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["state"], "ACTIVE");
        assert_eq!(json["open_orders"], 2);
    }

    #[test]
    fn plan_ids_have_the_shape_of_client_order_ids() {
        let p = ProfileId::new("p1").unwrap();
        let (a, b) = (new_plan_id(&p), new_plan_id(&p));
        assert_eq!(a.len(), 28);
        assert_ne!(a, b);
        assert_eq!(a[..8], b[..8], "the profile's tag");
        ClientOrderId::new(&format!("{a}0000")).unwrap();
    }
}
