//! [`LiveRisk`]: the gateway's [`RiskGate`] over live exchange data. It is the poller's
//! [`PollStore`] (balances, open orders, fills) and takes each account's market data
//! ([`super::market`]); from them it keeps one `tradeguard_gateway::venue::StaticRisk` per
//! account and quote asset up to date, and the checks themselves stay in the gateway and
//! risk crates.
//!
//! A profile's portfolio is its account's balance of its quote asset (cash) and of each asset
//! it targets; profiles sharing an account have disjoint asset sets (the risk configuration
//! checks that), so only the cash is shared. A last price comes from the exchange's public
//! market data, else from the newest fill the poller saw.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rust_decimal::Decimal;
use tradeguard_exchange::ledger::{LedgerEntry, OrderLedger};
use tradeguard_exchange::model::Side as ExSide;
use tradeguard_exchange::model::{
    AccountId, Balance, ExchangeId, Fill, Order as ExOrder, Symbol as ExSymbol, UnixMillis,
};
use tradeguard_exchange::poller::{ConnectivityStatus, PollStore};
use tradeguard_gateway::clock::Clock;
use tradeguard_gateway::venue::{BalanceView, Checked, ProfileBook, RiskGate, StaticRisk};
use tradeguard_risk::check::Refusal;
use tradeguard_risk::config::RiskConfig;
use tradeguard_risk::ids::Symbol as RiskSymbol;
use tradeguard_risk::ids::{Asset, ProfileId};
use tradeguard_risk::market::{Balance as RiskBalance, Market, Portfolio};
use tradeguard_risk::order::Side as RiskSide;
use tradeguard_risk::profile::Profile;
use tradeguard_risk::state::ProfileState;
use tradeguard_risk::{OpenOrder, Order};

use super::market::Quote;

/// Published base-tier taker fees, used by the balance check and the cost estimate.
pub fn taker_fee(exchange: ExchangeId) -> Decimal {
    match exchange {
        ExchangeId::Binance => Decimal::new(1, 3),
        ExchangeId::Coinbase | ExchangeId::CoinbaseExchange => Decimal::new(6, 3),
        ExchangeId::Kraken => Decimal::new(4, 3),
    }
}

/// The checks of the profiles of one account that price in one quote asset.
struct Gate {
    account: String,
    quote: Asset,
    /// The quote asset and fee rate, without prices or rules.
    empty: Market,
    profiles: Vec<Profile>,
    risk: StaticRisk,
}

/// What the poller last saw.
#[derive(Default)]
struct Seen {
    balances: BTreeMap<String, Vec<Balance>>,
    balances_at: HashMap<String, std::time::Instant>,
    quotes: HashMap<String, BTreeMap<ExSymbol, Quote>>,
    fill_prices: HashMap<(String, ExSymbol), (UnixMillis, Decimal)>,
    open_orders: BTreeMap<String, Vec<ExOrder>>,
    status: BTreeMap<String, ConnectivityStatus>,
}

/// The risk gate fed by the poller. Orders are checked with their profile's open orders,
/// read from the order ledger at each check (the ledger records an order before it is sent,
/// so an order placed a moment ago counts at once), and with the orders approved a moment ago
/// that the ledger does not hold yet ([`super::approved`]); checks run one at a time.
pub struct LiveRisk {
    gates: Vec<Gate>,
    by_profile: HashMap<ProfileId, usize>,
    seen: Mutex<Seen>,
    open: std::sync::OnceLock<OpenSource>,
    approved: super::approved::Approved,
    history: super::history::PriceHistory,
}

/// The order ledger and the ledger's id of each account.
struct OpenSource {
    ledger: Arc<dyn OrderLedger>,
    accounts: BTreeMap<String, AccountId>,
}

fn asset(a: &Asset) -> Option<tradeguard_exchange::model::Asset> {
    tradeguard_exchange::model::Asset::parse(a.as_str()).ok()
}

impl LiveRisk {
    /// Gates for every profile of `config`; `exchanges` names each account's exchange.
    pub fn new(
        config: &RiskConfig,
        exchanges: &BTreeMap<String, ExchangeId>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let mut groups: Vec<(String, Market, Vec<Profile>)> = Vec::new();
        for p in &config.profiles {
            let account = &p.account.credential;
            let exchange = *exchanges.get(account).ok_or_else(|| {
                anyhow::anyhow!(
                    "profile `{}` names account `{account}`, which is not configured",
                    p.id
                )
            })?;
            let at = groups
                .iter()
                .position(|(a, m, _)| a == account && *m.quote() == p.quote);
            match at {
                Some(i) => groups[i].2.push(p.clone()),
                None => {
                    let market = Market::new(p.quote.clone(), taker_fee(exchange))?;
                    groups.push((account.clone(), market, vec![p.clone()]));
                }
            }
        }
        let mut gates = Vec::new();
        let mut by_profile = HashMap::new();
        for (i, (account, empty, profiles)) in groups.into_iter().enumerate() {
            let books = profiles.iter().map(|p| ProfileBook {
                profile: p.clone(),
                state: ProfileState::new(),
                portfolio: Portfolio::default(),
            });
            let risk = StaticRisk::new(
                config.limits.clone(),
                empty.clone(),
                books.collect(),
                clock.clone(),
            )
            .with_rebalancing(
                config.rebalancing.enabled,
                config.rebalancing.randomization_enabled,
            );
            by_profile.extend(profiles.iter().map(|p| (p.id.clone(), i)));
            gates.push(Gate {
                account,
                quote: empty.quote().clone(),
                empty,
                profiles,
                risk,
            });
        }
        Ok(Self {
            gates,
            by_profile,
            seen: Mutex::new(Seen::default()),
            open: std::sync::OnceLock::new(),
            approved: Default::default(),
            history: Default::default(),
        })
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The pairs the profiles on `account` trade (each target asset against the quote).
    pub fn symbols(&self, account: &str) -> Vec<ExSymbol> {
        let mut out = BTreeSet::new();
        for g in self.gates.iter().filter(|g| g.account == account) {
            for p in &g.profiles {
                for a in p.targets.keys().filter(|a| **a != g.quote) {
                    if let (Some(b), Some(q)) = (asset(a), asset(&g.quote)) {
                        out.insert(ExSymbol::new(b, q));
                    }
                }
            }
        }
        out.into_iter().collect()
    }

    /// The account a profile trades through.
    pub fn account_of(&self, profile: &ProfileId) -> Option<&str> {
        self.by_profile
            .get(profile)
            .map(|i| self.gates[*i].account.as_str())
    }

    /// The profiles on `account`.
    pub fn profiles_of(&self, account: &str) -> Vec<ProfileId> {
        self.gates
            .iter()
            .filter(|g| g.account == account)
            .flat_map(|g| g.profiles.iter().map(|p| p.id.clone()))
            .collect()
    }

    /// New market data for `account`.
    pub fn set_quotes(&self, account: &str, quotes: BTreeMap<ExSymbol, Quote>) {
        self.history.record(account, &quotes);
        self.seen().quotes.insert(account.to_owned(), quotes);
        self.rebuild(account);
    }

    /// New balances of `account`.
    pub fn set_balances(&self, account: &str, balances: Vec<Balance>) {
        let mut seen = self.seen();
        seen.balances.insert(account.to_owned(), balances);
        seen.balances_at
            .insert(account.to_owned(), std::time::Instant::now());
        drop(seen);
        self.rebuild(account);
    }

    /// How long ago `account`'s balances were read (`None`: never).
    pub fn balances_age(&self, account: &str) -> Option<std::time::Duration> {
        self.seen().balances_at.get(account).map(|t| t.elapsed())
    }

    /// The latest balances of every account.
    pub fn balance_views(&self) -> Vec<BalanceView> {
        let seen = self.seen();
        let mut out = Vec::new();
        for (account, list) in &seen.balances {
            for b in list {
                out.push(BalanceView {
                    account: account.clone(),
                    asset: b.asset.as_str().to_owned(),
                    free: b.free,
                    locked: b.locked,
                });
            }
        }
        out
    }

    /// Open orders every account had at the last poll.
    pub fn open_order_count(&self) -> usize {
        self.seen().open_orders.values().map(Vec::len).sum()
    }

    /// The account's open orders at its last poll, or `None` before its first.
    pub fn open_orders(&self, account: &str) -> Option<Vec<ExOrder>> {
        self.seen().open_orders.get(account).cloned()
    }

    /// The last price of each pair `account`'s profiles trade: its market data, else its
    /// last fill; pairs without either are left out.
    pub fn last_prices(&self, account: &str) -> Vec<(ExSymbol, Decimal)> {
        let seen = self.seen();
        let quotes = seen.quotes.get(account);
        self.symbols(account)
            .into_iter()
            .filter_map(|sym| {
                let quoted = quotes.and_then(|q| q.get(&sym)).and_then(|q| q.last);
                let filled = seen.fill_prices.get(&(account.to_owned(), sym.clone()));
                let price = quoted.or(filled.map(|f| f.1))?;
                Some((sym, price))
            })
            .collect()
    }

    /// Pushes the account's market and portfolios into its gates.
    fn rebuild(&self, account: &str) {
        let seen = self.seen();
        let none = BTreeMap::new();
        let quotes = seen.quotes.get(account).unwrap_or(&none);
        let balances: HashMap<&str, &Balance> = seen
            .balances
            .get(account)
            .map(|l| l.iter().map(|b| (b.asset.as_str(), b)).collect())
            .unwrap_or_default();
        for g in self.gates.iter().filter(|g| g.account == account) {
            g.risk.set_market(self.market(g, quotes, &seen));
            for p in &g.profiles {
                g.risk.set_portfolio(&p.id, portfolio(p, &balances));
            }
        }
    }

    fn market(&self, g: &Gate, quotes: &BTreeMap<ExSymbol, Quote>, seen: &Seen) -> Market {
        let mut m = g.empty.clone();
        for sym in self.symbols(&g.account) {
            if sym.quote().as_str() != g.quote.as_str() {
                continue;
            }
            let Ok(base) = Asset::new(sym.base().as_str()) else {
                continue;
            };
            let q = quotes.get(&sym);
            let filled = seen.fill_prices.get(&(g.account.clone(), sym.clone()));
            if let Some(price) = q.and_then(|q| q.last).or(filled.map(|f| f.1)) {
                let _ = m.set_price(base.clone(), price);
            }
            if let Some(rules) = q.and_then(|q| q.rules) {
                m.set_instrument(base, rules);
            }
        }
        m
    }
}

impl LiveRisk {
    /// What the equity history values ([`super::equity`]): `account`'s latest balances, how
    /// old they are, and per gate its market and its profiles' portfolios, exactly as the
    /// checks see them. `None` before the account's first balances.
    pub fn marks(&self, account: &str) -> Option<super::equity::Marks> {
        let seen = self.seen();
        let balances = seen.balances.get(account)?.clone();
        let age = seen.balances_at.get(account)?.elapsed();
        let none = BTreeMap::new();
        let quotes = seen.quotes.get(account).unwrap_or(&none);
        let by_asset: HashMap<&str, &Balance> =
            balances.iter().map(|b| (b.asset.as_str(), b)).collect();
        let gates = self.gates.iter().filter(|g| g.account == account);
        let gates = gates
            .map(|g| super::equity::GateMarks {
                market: self.market(g, quotes, &seen),
                profiles: (g.profiles.iter())
                    .map(|p| (p.id.clone(), portfolio(p, &by_asset)))
                    .collect(),
            })
            .collect();
        drop(by_asset);
        Some(super::equity::Marks {
            balances,
            age,
            gates,
        })
    }
}

impl LiveRisk {
    /// Reads open orders from `ledger` from now on (`accounts`: each account's ledger id).
    /// Until then, and for an account it does not list, the checks refuse every order.
    pub fn set_open_orders(
        &self,
        ledger: Arc<dyn OrderLedger>,
        accounts: BTreeMap<String, AccountId>,
    ) {
        let _ = self.open.set(OpenSource { ledger, accounts });
    }

    /// The gate, profile and account of `profile`.
    pub fn gate_of(&self, profile: &ProfileId) -> Option<(&StaticRisk, &Profile, &str)> {
        let g = &self.gates[*self.by_profile.get(profile)?];
        let p = g.profiles.iter().find(|p| p.id == *profile)?;
        Some((&g.risk, p, g.account.as_str()))
    }

    /// Every profile, in configuration order per account.
    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.gates.iter().flat_map(|g| g.profiles.iter())
    }

    /// The open orders of `profile`, except `except`: those in the ledger (not final: new,
    /// sent, acknowledged or unknown) with what is left to fill, and those approved that the
    /// ledger does not hold yet.
    pub async fn open_orders_of(
        &self,
        profile: &Profile,
        account: &str,
        except: Option<&tradeguard_risk::ids::ClientOrderId>,
    ) -> Result<Vec<OpenOrder>, String> {
        let source = self
            .open
            .get()
            .ok_or_else(|| "the order ledger is not open yet".to_owned())?;
        let id = source
            .accounts
            .get(account)
            .ok_or_else(|| format!("account `{account}` has no ledger"))?;
        let entries = source
            .ledger
            .open_entries(id)
            .await
            .map_err(|e| format!("{account}: open orders: {e}"))?;
        let mut open: Vec<OpenOrder> = entries
            .iter()
            .filter(|e| except.is_none_or(|c| c.as_str() != e.client_order_id().as_str()))
            .filter_map(|e| open_order(profile, e))
            .collect();
        let ledger = &*source.ledger;
        open.extend(self.approved.pending(ledger, id, profile, except).await);
        Ok(open)
    }

    /// `profile`'s market statistics on `account` from the prices polled so far
    /// ([`super::history`]).
    pub fn stats_of(
        &self,
        profile: &Profile,
        account: &str,
    ) -> Option<tradeguard_risk::stats::MarketStats> {
        self.history.stats(account, profile)
    }

    fn ledger_id(&self, account: &str) -> Option<&AccountId> {
        self.open.get()?.accounts.get(account)
    }
}

/// `e` as an open order of `profile`, if it trades one of the profile's pairs.
fn open_order(profile: &Profile, e: &LedgerEntry) -> Option<OpenOrder> {
    let r = &e.request;
    let symbol = RiskSymbol::new(
        Asset::new(r.symbol().base().as_str()).ok()?,
        Asset::new(r.symbol().quote().as_str()).ok()?,
    )
    .ok()?;
    if !tradeguard_gateway::venue::trades(profile, &symbol) {
        return None;
    }
    let side = match r.side() {
        ExSide::Buy => RiskSide::Buy,
        ExSide::Sell => RiskSide::Sell,
    };
    let remaining = r.quantity() - e.filled_quantity;
    OpenOrder::new(symbol, side, remaining, r.price()).ok()
}

/// The profile's cash and target-asset holdings from its account's balances.
fn portfolio(p: &Profile, balances: &HashMap<&str, &Balance>) -> Portfolio {
    let of = |a: &Asset| {
        balances
            .get(a.as_str())
            .map(|b| RiskBalance {
                free: b.free,
                locked: b.locked,
            })
            .unwrap_or_default()
    };
    let mut out = Portfolio::default();
    if out.set_cash(of(&p.quote)).is_err() {
        tracing::warn!(profile = %p.id, "cash balance out of range; the profile holds none");
    }
    for a in p.targets.keys().filter(|a| **a != p.quote) {
        if out.set_holding(a.clone(), of(a)).is_err() {
            tracing::warn!(profile = %p.id, asset = %a, "balance out of range; ignored");
        }
    }
    out
}

#[async_trait]
impl RiskGate for LiveRisk {
    async fn check(&self, order: Order) -> Result<Checked, Refusal> {
        let refuse = |order: Order| {
            Err(Refusal {
                order: Box::new(order),
                reasons: Vec::new(),
            })
        };
        let Some((gate, profile, account)) = self.gate_of(order.profile()) else {
            return refuse(order);
        };
        let Some(ledger_id) = self.ledger_id(account) else {
            return refuse(order);
        };
        let _one_at_a_time = self.approved.lock().await;
        match self
            .open_orders_of(profile, account, Some(order.client_order_id()))
            .await
        {
            Ok(open) => {
                let checked = gate.check_with_open(order, &open)?;
                let o = checked.approved.get();
                let placed = OpenOrder::placed(o);
                self.approved.add(ledger_id, o.client_order_id(), placed);
                Ok(checked)
            }
            Err(e) => {
                tracing::warn!(error = %e, "open orders unknown; order refused");
                refuse(order)
            }
        }
    }
}

#[async_trait]
impl PollStore for LiveRisk {
    async fn save_balances(
        &self,
        account: &AccountId,
        _at: UnixMillis,
        balances: &[Balance],
    ) -> Result<(), String> {
        self.set_balances(account.as_str(), balances.to_vec());
        Ok(())
    }

    async fn save_open_orders(
        &self,
        account: &AccountId,
        _at: UnixMillis,
        orders: &[ExOrder],
    ) -> Result<(), String> {
        self.seen()
            .open_orders
            .insert(account.as_str().to_owned(), orders.to_vec());
        Ok(())
    }

    async fn save_fills(&self, account: &AccountId, fills: &[Fill]) -> Result<(), String> {
        {
            let mut seen = self.seen();
            for f in fills {
                let key = (account.as_str().to_owned(), f.symbol.clone());
                let newer = seen.fill_prices.get(&key).is_none_or(|(t, _)| f.time >= *t);
                if newer {
                    seen.fill_prices.insert(key, (f.time, f.price));
                }
            }
        }
        self.rebuild(account.as_str());
        Ok(())
    }

    async fn save_status(&self, status: &ConnectivityStatus) -> Result<(), String> {
        let mut seen = self.seen();
        let before = seen
            .status
            .insert(status.account.as_str().to_owned(), status.clone());
        if before.map(|b| b.state) != Some(status.state.clone()) {
            tracing::info!(account = %status.account, state = ?status.state, "exchange connectivity");
        }
        Ok(())
    }

    async fn fill_cursor(
        &self,
        _account: &AccountId,
        _symbol: &ExSymbol,
    ) -> Result<Option<UnixMillis>, String> {
        // Start from the poller's look-back: the ledger records each trade id once.
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeguard_gateway::clock::SystemClock;
    use tradeguard_risk::ids::{ClientOrderId, Symbol};
    use tradeguard_risk::market::InstrumentRules;
    use tradeguard_risk::order::{OrderType, Side};

    const CONFIG: &str = r#"
[profiles.core]
exchange = "kraken"
type = "moderate"
credential = "kraken-main"
quote_asset = "USD"
[profiles.core.target_allocation]
BTC = 0.20
ETH = 0.20
SOL = 0.10
"#;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn live() -> LiveRisk {
        live_with(Arc::new(tradeguard_exchange::ledger::InMemoryLedger::new()))
    }

    fn live_with(ledger: Arc<dyn OrderLedger>) -> LiveRisk {
        let config = tradeguard_risk::config::check(CONFIG).unwrap();
        let exchanges = BTreeMap::from([("kraken-main".to_owned(), ExchangeId::Kraken)]);
        let live = LiveRisk::new(&config, &exchanges, Arc::new(SystemClock)).unwrap();
        let id = AccountId::parse("kraken-main").unwrap();
        live.set_open_orders(ledger, BTreeMap::from([("kraken-main".to_owned(), id)]));
        live
    }

    fn feed(live: &LiveRisk) {
        let rules = InstrumentRules::new(d("0.1"), d("0.00001"), d("0.0001"), d("0.5")).unwrap();
        let mut quotes = BTreeMap::new();
        for (s, p) in [
            ("BTC/USD", "60000"),
            ("ETH/USD", "3000"),
            ("SOL/USD", "100"),
        ] {
            let q = Quote {
                rules: Some(rules),
                last: Some(d(p)),
            };
            quotes.insert(ExSymbol::parse(s).unwrap(), q);
        }
        live.set_quotes("kraken-main", quotes);
        live.set_balances(
            "kraken-main",
            vec![balance("USD", "100000"), balance("BTC", "0.1")],
        );
    }

    /// The ledger's open orders count: a sell of 0.06 BTC fits the 0.1 held, a second one
    /// does not while the first is open and fits
    /// again once the first is cancelled. Without a ledger every order is refused.
    #[tokio::test]
    async fn open_orders_in_the_ledger_count_against_new_orders() {
        use tradeguard_exchange::ledger::{InMemoryLedger, OrderState, Transition};
        use tradeguard_exchange::model::{ClientOrderId as ExId, OrderRequest, TimeInForce};
        let ledger = Arc::new(InMemoryLedger::new());
        let live = live_with(ledger.clone());
        feed(&live);
        let sell = |id: &str| {
            Order::new(
                ProfileId::new("core").unwrap(),
                ClientOrderId::new(id).unwrap(),
                order(Side::Sell, "1").symbol().clone(),
                Side::Sell,
                OrderType::Limit { price: d("60000") },
                d("0.06"),
            )
            .unwrap()
        };
        live.check(sell("s1")).await.unwrap();
        let r = live.check(sell("s0")).await.unwrap_err();
        assert!(
            r.to_string().contains("BTC"),
            "approved, not yet in the ledger: {r}"
        );
        let account = AccountId::parse("kraken-main").unwrap();
        let req = OrderRequest::new(
            ExId::parse("s1").unwrap(),
            ExSymbol::parse("BTC/USD").unwrap(),
            tradeguard_exchange::model::Side::Sell,
            tradeguard_exchange::model::OrderType::Limit {
                price: d("60000"),
                time_in_force: TimeInForce::Gtc,
            },
            d("0.06"),
        )
        .unwrap();
        let at = UnixMillis(1);
        ledger
            .record_intent(&account, ExchangeId::Kraken, &req, at)
            .await
            .unwrap();
        let id = req.client_order_id();
        let sent = Transition::to(OrderState::Sent, at);
        ledger.transition(&account, id, sent).await.unwrap();
        let r = live.check(sell("s2")).await.unwrap_err();
        assert!(r.to_string().contains("BTC"), "{r}");
        assert!(
            live.check(sell("s1")).await.is_ok(),
            "an order is not its own open order"
        );
        ledger
            .transition(&account, id, Transition::to(OrderState::Cancelled, at))
            .await
            .unwrap();
        live.check(sell("s3")).await.unwrap();
        let unfed = LiveRisk::new(
            &tradeguard_risk::config::check(CONFIG).unwrap(),
            &BTreeMap::from([("kraken-main".to_owned(), ExchangeId::Kraken)]),
            Arc::new(SystemClock),
        )
        .unwrap();
        feed(&unfed);
        assert!(unfed.check(sell("s4")).await.is_err(), "no ledger: refused");
    }

    fn order(side: Side, qty: &str) -> Order {
        let (btc, usd) = (Asset::new("BTC").unwrap(), Asset::new("USD").unwrap());
        Order::new(
            ProfileId::new("core").unwrap(),
            ClientOrderId::new("c1").unwrap(),
            Symbol::new(btc, usd).unwrap(),
            side,
            OrderType::Limit { price: d("60000") },
            d(qty),
        )
        .unwrap()
    }

    fn balance(a: &str, free: &str) -> Balance {
        Balance {
            asset: tradeguard_exchange::model::Asset::parse(a).unwrap(),
            free: d(free),
            locked: Decimal::ZERO,
        }
    }

    #[tokio::test]
    async fn refuses_until_fed_then_checks_against_live_data() {
        let live = live();
        let syms: Vec<String> = live
            .symbols("kraken-main")
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(syms.len(), 3, "{syms:?}");
        let r = live.check(order(Side::Buy, "0.01")).await.unwrap_err();
        assert!(r.to_string().contains("BTC"), "no price yet: {r}");
        feed(&live);
        live.check(order(Side::Buy, "0.01")).await.unwrap();
        let r = live.check(order(Side::Sell, "5")).await.unwrap_err();
        assert!(r.to_string().contains("only 0.1 is free"), "{r}");
        let unknown = Order::new(
            ProfileId::new("other").unwrap(),
            ClientOrderId::new("c2").unwrap(),
            order(Side::Buy, "1").symbol().clone(),
            Side::Buy,
            OrderType::Market,
            d("1"),
        )
        .unwrap();
        assert!(live.check(unknown).await.unwrap_err().reasons.is_empty());
        assert_eq!(live.balance_views().len(), 2);
    }
}
