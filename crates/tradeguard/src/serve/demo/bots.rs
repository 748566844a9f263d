//! The demo's traders: each signs its requests with its own key (tradeguard-client), reads
//! its balances through the gateway and the exchange's public market data, and every tick
//! either rebalances a profile towards its targets (the risk crate's planner) or places a
//! small random trade. Trader 1 also keeps one resting limit order (so the halt has
//! something to cancel) and sends its random trades as sealed intents, each with its dummies
//! (tradeguard-client's `IntentClient`), asking for their outcome with sealed status queries.
//! What they see is recorded for the report.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use rand::rngs::StdRng;
use rust_decimal::Decimal;
use serde_json::Value;
use tradeguard_analytics::Timestamp;
use tradeguard_analytics::ledger::{
    Asset as AAsset, ExchangeId as AExchange, HoldingsSnapshot, OrderOutcome, OrderRecord,
    PriceQuote, ProfileId as AProfile, RebalanceEvent,
};
use tradeguard_client::intent::IntentClient;
use tradeguard_client::{Client, ClientError, OrderRequest, Side};
use tradeguard_exchange::model::Symbol;
use tradeguard_risk::config::RiskConfig;
use tradeguard_risk::ids::Asset;
use tradeguard_risk::market::{Balance, Market, Portfolio};
use tradeguard_risk::order::Side as RiskSide;
use tradeguard_risk::rebalance::{PlanInput, plan_rebalance};

use super::setup::DemoAccount;
use crate::serve::market::{PublicMarkets, Quote};
use crate::serve::risk::taker_fee;

/// Ticks between rebalances of a profile.
const REBALANCE_EVERY: u64 = 6;

/// What every trader saw, for the report.
#[derive(Default)]
pub struct Records {
    /// Balances per profile at each tick.
    pub snapshots: Vec<HoldingsSnapshot>,
    /// Prices at each tick (in US dollars; USDT counted at 1).
    pub prices: Vec<PriceQuote>,
    /// Order outcomes.
    pub orders: Vec<OrderRecord>,
    /// Rebalances.
    pub rebalances: Vec<RebalanceEvent>,
    /// Orders the gateway refused because trading was halted (never sent).
    pub refused_while_halted: u64,
    /// Orders the risk engine refused, per profile.
    pub risk_refusals: BTreeMap<String, u64>,
    /// Orders sent as sealed intents.
    pub intents_sent: u64,
    /// Dummy packets sent with them.
    pub dummies_sent: u64,
    /// Sealed intents the order path accepted and sent to the exchange (their fills count in
    /// the TRADES column like any order's).
    pub intents_placed: u64,
}

/// One trader and the profiles it runs.
pub struct Bot {
    /// `trader-1`, ...
    pub name: String,
    /// Signed client.
    pub client: Client,
    /// The accounts (one profile each).
    pub accounts: Vec<&'static DemoAccount>,
    /// Public market data per account.
    pub markets: BTreeMap<&'static str, PublicMarkets>,
    /// The risk configuration (profiles and limits, for the planner).
    pub config: Arc<RiskConfig>,
    /// Seeded randomness.
    pub rng: StdRng,
    /// Whether this trader keeps a resting limit order.
    pub keeps_resting_order: bool,
    /// When set, random trades go as sealed intents with dummies.
    pub intents: Option<IntentClient>,
}

fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    Timestamp::from_unix_seconds(secs).unwrap_or_else(|| unreachable!("the clock is after 1970"))
}

fn a(s: &str) -> Option<AAsset> {
    AAsset::new(s).ok()
}

fn symbols(acc: &DemoAccount) -> Vec<Symbol> {
    ["BTC", "ETH"]
        .iter()
        .filter_map(|b| Symbol::parse(&format!("{b}/{}", acc.quote)).ok())
        .collect()
}

/// Balances from `GET /v1/balances`, for one account.
fn account_balances(all: &Value, account: &str) -> BTreeMap<String, (Decimal, Decimal)> {
    let mut out = BTreeMap::new();
    for b in all["balances"].as_array().into_iter().flatten() {
        if b["account"] != account {
            continue;
        }
        let d = |k: &str| {
            b[k].as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_default()
        };
        if let Some(asset) = b["asset"].as_str() {
            out.insert(asset.to_owned(), (d("free"), d("locked")));
        }
    }
    out
}

impl Bot {
    /// Trades until `until`, one tick every `every`.
    pub async fn run(mut self, until: Instant, every: Duration, records: Arc<Mutex<Records>>) {
        let mut tick = 0u64;
        let mut resting: Option<String> = None;
        while Instant::now() < until {
            tick += 1;
            if let Err(e) = self.tick(tick, &mut resting, &records).await {
                tracing::debug!(bot = %self.name, error = %e, "tick failed");
            }
            tokio::time::sleep(every).await;
        }
    }

    async fn tick(
        &mut self,
        tick: u64,
        resting: &mut Option<String>,
        records: &Arc<Mutex<Records>>,
    ) -> anyhow::Result<()> {
        let balances = self.client.balances().await?;
        for i in 0..self.accounts.len() {
            let acc = self.accounts[i];
            let quotes = self.markets[acc.name]
                .fetch(&symbols(acc))
                .await
                .map_err(anyhow::Error::msg)?;
            let held = account_balances(&balances, acc.name);
            self.record(acc, &held, &quotes, records);
            let (market, portfolio) = self.view(acc, &held, &quotes)?;
            if (tick + i as u64).is_multiple_of(REBALANCE_EVERY) {
                self.rebalance(acc, &market, &portfolio, records).await?;
                if self.keeps_resting_order && i == 0 {
                    self.rest(acc, &quotes, resting, records).await;
                }
            } else if self.rng.random_bool(0.3) {
                self.noise(acc, &market, &portfolio, records).await;
            }
        }
        Ok(())
    }

    fn record(
        &self,
        acc: &DemoAccount,
        held: &BTreeMap<String, (Decimal, Decimal)>,
        quotes: &BTreeMap<Symbol, Quote>,
        records: &Arc<Mutex<Records>>,
    ) {
        let time = now();
        let (Ok(profile), Ok(exchange)) =
            (AProfile::new(acc.profile), AExchange::new(acc.venue.id()))
        else {
            return;
        };
        let holdings = held
            .iter()
            .filter_map(|(k, (f, l))| Some((a(k)?, *f + *l)))
            .collect();
        let mut r = records.lock().unwrap_or_else(|p| p.into_inner());
        r.snapshots.push(HoldingsSnapshot {
            time,
            profile,
            exchange,
            holdings,
        });
        for (sym, q) in quotes {
            if let (Some(asset), Some(price)) = (a(sym.base().as_str()), q.last) {
                r.prices.push(PriceQuote { time, asset, price });
            }
        }
        if let Some(usdt) = a("USDT") {
            r.prices.push(PriceQuote {
                time,
                asset: usdt,
                price: Decimal::ONE,
            });
        }
    }

    /// The risk crate's view of one account: market (prices, rules, fee) and portfolio.
    fn view(
        &self,
        acc: &DemoAccount,
        held: &BTreeMap<String, (Decimal, Decimal)>,
        quotes: &BTreeMap<Symbol, Quote>,
    ) -> anyhow::Result<(Market, Portfolio)> {
        let exchange = tradeguard_exchange::model::ExchangeId::parse(acc.venue.id())?;
        let mut market = Market::new(Asset::new(acc.quote)?, taker_fee(exchange))?;
        for (sym, q) in quotes {
            let base = Asset::new(sym.base().as_str())?;
            if let Some(p) = q.last {
                market.set_price(base.clone(), p)?;
            }
            if let Some(r) = q.rules {
                market.set_instrument(base, r);
            }
        }
        let bal = |k: &str| {
            held.get(k)
                .map(|(f, l)| Balance {
                    free: *f,
                    locked: *l,
                })
                .unwrap_or_default()
        };
        let mut portfolio = Portfolio::default();
        portfolio.set_cash(bal(acc.quote))?;
        for b in ["BTC", "ETH"] {
            portfolio.set_holding(Asset::new(b)?, bal(b))?;
        }
        Ok((market, portfolio))
    }

    async fn rebalance(
        &mut self,
        acc: &DemoAccount,
        market: &Market,
        portfolio: &Portfolio,
        records: &Arc<Mutex<Records>>,
    ) -> anyhow::Result<()> {
        let config = self.config.clone();
        let profile = config
            .profiles
            .iter()
            .find(|p| p.id.as_str() == acc.profile)
            .ok_or_else(|| anyhow::anyhow!("no profile {}", acc.profile))?;
        let input = PlanInput {
            profile,
            limits: &config.limits,
            portfolio,
            market,
            stats: None,
            randomization: config.randomization(profile),
            open_orders: &[],
        };
        let plan = plan_rebalance(&input, &mut self.rng)?;
        let skipped: Vec<&str> = plan.skipped.iter().map(|s| s.reason.code()).collect();
        tracing::debug!(
            profile = acc.profile,
            orders = plan.orders.len(),
            ?skipped,
            "rebalance plan"
        );
        if plan.orders.is_empty() {
            return Ok(());
        }
        if let Ok(p) = AProfile::new(acc.profile) {
            let r = RebalanceEvent {
                time: now(),
                profile: p,
            };
            records
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .rebalances
                .push(r);
        }
        for o in plan.orders {
            let side = match o.side() {
                RiskSide::Buy => Side::Buy,
                RiskSide::Sell => Side::Sell,
            };
            // Rebalancing takes the market: a market order of the planned size.
            let symbol = o.symbol().to_string();
            let req = OrderRequest::market(&self.id(), acc.profile, &symbol, side, o.quantity());
            self.send(acc, &req, records).await;
        }
        Ok(())
    }

    /// A small random trade (0.5 % to 2 % of the profile) in BTC or ETH.
    async fn noise(
        &mut self,
        acc: &DemoAccount,
        market: &Market,
        portfolio: &Portfolio,
        records: &Arc<Mutex<Records>>,
    ) {
        let Ok(value) = portfolio.value(market).map(|v| v.total) else {
            return;
        };
        let base = if self.rng.random_bool(0.5) {
            "BTC"
        } else {
            "ETH"
        };
        let Ok(asset) = Asset::new(base) else { return };
        let (Some(price), Some(rules)) = (market.price(&asset), market.instrument(&asset)) else {
            return;
        };
        let share = Decimal::new(self.rng.random_range(5..=20), 3);
        let qty = rules.floor_quantity(value * share / price);
        if qty <= Decimal::ZERO {
            return;
        }
        let side = if self.intents.is_some() {
            // Trader 1's sealed trades lean towards the profile's targets: it sells what it
            // holds over its target weight, and buys what it holds under it.
            let target = self
                .config
                .profiles
                .iter()
                .find(|p| p.id.as_str() == acc.profile)
                .and_then(|p| p.targets.get(&asset).copied())
                .unwrap_or_default();
            let weight = portfolio
                .value(market)
                .map(|v| v.weight(&asset))
                .unwrap_or_default();
            if weight > target {
                Side::Sell
            } else {
                Side::Buy
            }
        } else if self.rng.random_bool(0.5) {
            Side::Buy
        } else {
            Side::Sell
        };
        let symbol = format!("{base}/{}", acc.quote);
        let req = OrderRequest::market(&self.id(), acc.profile, &symbol, side, qty);
        if self.intents.is_some() {
            self.send_sealed(acc, &req, records).await;
        } else {
            self.send(acc, &req, records).await;
        }
    }

    /// Sends one order as a sealed intent with its dummies, then asks for its outcome (sealed
    /// status queries, every 100 ms for up to 5 s) and records it like a signed order's.
    async fn send_sealed(
        &mut self,
        acc: &DemoAccount,
        req: &OrderRequest,
        records: &Arc<Mutex<Records>>,
    ) {
        let Some(intents) = &self.intents else { return };
        let Ok(order) = serde_json::to_value(req) else {
            return;
        };
        let sent = match intents.send(order).await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(error = %e, "intent not sent");
                return;
            }
        };
        {
            let mut r = records.lock().unwrap_or_else(|p| p.into_inner());
            r.intents_sent += 1;
            r.dummies_sent += sent.packets.saturating_sub(1) as u64;
        }
        let Some(id) = sent.routing_id else { return };
        let mut status = Value::Null;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            match intents.status(&[id]).await {
                Ok(s) if s[0]["state"] != "pending" => {
                    status = s[0].clone();
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "intent status");
                    return;
                }
            }
        }
        let result = match status["state"].as_str() {
            Some("placed") => {
                records
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .intents_placed += 1;
                Ok(status["result"].clone())
            }
            Some("refused" | "failed") => Err(status["result"]["type"]
                .as_str()
                .and_then(|t| t.rsplit(':').next())
                .map(str::to_owned)),
            _ => return, // still pending or forgotten: no outcome to record
        };
        record_outcome(acc, &result, records);
    }

    /// Replaces the resting limit sell 2 % over the last BTC price (a sell: allowed even while
    /// the profile holds more BTC than its caps).
    async fn rest(
        &mut self,
        acc: &DemoAccount,
        quotes: &BTreeMap<Symbol, Quote>,
        resting: &mut Option<String>,
        records: &Arc<Mutex<Records>>,
    ) {
        if let Some(id) = resting.take() {
            let _ = self.client.cancel_order(&id).await;
        }
        let Some(q) = Symbol::parse(&format!("BTC/{}", acc.quote))
            .ok()
            .and_then(|s| quotes.get(&s))
        else {
            return;
        };
        let (Some(last), Some(rules)) = (q.last, q.rules) else {
            return;
        };
        let price = rules.ceil_price(last * Decimal::new(102, 2));
        let qty = rules
            .floor_quantity(Decimal::new(2, 3))
            .max(rules.min_quantity);
        let req = OrderRequest::limit(
            &self.id(),
            acc.profile,
            &format!("BTC/{}", acc.quote),
            Side::Sell,
            qty,
            price,
        );
        if let Some(placed) = self.send(acc, &req, records).await {
            *resting = placed["id"].as_str().map(str::to_owned);
        }
    }

    fn id(&mut self) -> String {
        let n: u32 = self.rng.random();
        format!("{}-{:08x}", &self.name[..1], n) // 10 characters: every exchange takes it
    }

    /// Sends one order and records how it ended; returns the order view when placed.
    async fn send(
        &mut self,
        acc: &DemoAccount,
        req: &OrderRequest,
        records: &Arc<Mutex<Records>>,
    ) -> Option<Value> {
        let result = self.client.place_order(req).await;
        let slugged = result
            .as_ref()
            .map(Value::clone)
            .map_err(|e| e.problem().map(|p| p.slug().to_owned()));
        record_outcome(acc, &slugged, records);
        result
            .map_err(|e: ClientError| tracing::debug!(error = %e, "order not placed"))
            .ok()
    }
}

/// Records how an order ended: the gateway's order view, or the slug of its problem document.
fn record_outcome(
    acc: &DemoAccount,
    result: &Result<Value, Option<String>>,
    records: &Arc<Mutex<Records>>,
) {
    {
        let outcome = match result {
            Ok(v) => match v["status"].as_str() {
                Some("filled") => Some(OrderOutcome::Filled),
                Some("open") => None, // still working: not an outcome yet
                Some("cancelled") => Some(OrderOutcome::Cancelled),
                Some("rejected") => Some(OrderOutcome::Rejected),
                _ => Some(OrderOutcome::Failed),
            },
            Err(slug) => match slug.as_deref() {
                Some("risk-refused") => {
                    let mut r = records.lock().unwrap_or_else(|p| p.into_inner());
                    *r.risk_refusals.entry(acc.profile.to_owned()).or_default() += 1;
                    Some(OrderOutcome::Refused)
                }
                Some("trading-halted") => {
                    records
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .refused_while_halted += 1;
                    None
                }
                Some("exchange") => Some(OrderOutcome::Rejected),
                _ => Some(OrderOutcome::Failed),
            },
        };
        if let (Some(outcome), Ok(profile), Ok(exchange)) = (
            outcome,
            AProfile::new(acc.profile),
            AExchange::new(acc.venue.id()),
        ) {
            let rec = OrderRecord {
                time: now(),
                profile,
                exchange,
                outcome,
            };
            records
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .orders
                .push(rec);
        }
    }
}
