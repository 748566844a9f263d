//! Rebalancing in `tradeguard serve`: [`LiveRisk`] as the gateway's [`Portfolios`] (plans
//! over live balances, prices and the ledger's open orders), and the [`Scheduler`], which
//! rebalances each profile on its own schedule through the path of
//! `POST /v1/rebalance/{profile}` (`tradeguard_gateway::api::rebalance`).
//!
//! Each profile is looked at every `[polling] rebalance_check_secs`, moved at random by up to
//! its randomization factor (operating system CSPRNG), so an observer cannot predict when it
//! is looked at. It rebalances when its strategy says so (a weight drifted past the
//! threshold, the period passed, or a weight is over a cap; threshold and period are
//! themselves redrawn after each rebalance). Nothing runs while trading or the profile is
//! HALTED, nor while the profile has open orders (a resting plan is never planned over), nor
//! at all when `[rebalancing] enabled = false`. Replicas share the work through the replay
//! cache (Redis when `[store] redis_url` is set): a scheduled rebalance first claims the
//! profile's lease for one check interval, so one replica runs it. Schedules start when `serve` starts: the
//! configured targets are the first reference and a time-based period counts from the start.
//!
//! A plan's orders are limits at the last price, so one may rest unfilled. The scheduler
//! cancels its own orders still open `[polling] rebalance_order_ttl_secs` after it placed
//! them (`order.cancelled` by `scheduler`), and the profile is planned again, whatever its
//! schedule says, once its balances were read after the cancel. After a restart it takes
//! back its orders still open from the audit log's `rebalance.executed` entries
//! ([`Scheduler::resume`]).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rand::Rng;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use tokio::sync::watch;
use tokio::time::Instant;
use tradeguard_gateway::portfolio::{PlanError, PortfolioView, Portfolios, ProfilePlan};
use tradeguard_gateway::principal::{AuthMethod, Principal};
use tradeguard_gateway::scope::{Scope, ScopeSet};
use tradeguard_gateway::state::AppState;
use tradeguard_gateway::trading::TradingMode;
use tradeguard_risk::config::RiskConfig;
use tradeguard_risk::ids::{ProfileId, Timestamp};
use tradeguard_risk::rebalance::RebalanceSchedule;

use super::risk::LiveRisk;

/// The key id the scheduler's orders and audit entries carry.
pub const SCHEDULER: &str = "tradeguard:scheduler";

#[async_trait]
impl Portfolios for LiveRisk {
    async fn portfolios(&self) -> Result<Vec<PortfolioView>, PlanError> {
        let mut out = Vec::new();
        for p in self.profiles() {
            let Some((gate, _, account)) = self.gate_of(&p.id) else {
                continue;
            };
            let open = self
                .open_orders_of(p, account, None)
                .await
                .map_err(PlanError::Unavailable)?;
            out.extend(gate.portfolio(&p.id, open.len()));
        }
        Ok(out)
    }

    async fn plan(&self, profile: &ProfileId) -> Result<ProfilePlan, PlanError> {
        let (gate, p, account) = self
            .gate_of(profile)
            .ok_or_else(|| PlanError::UnknownProfile(profile.to_string()))?;
        let open = self
            .open_orders_of(p, account, None)
            .await
            .map_err(PlanError::Unavailable)?;
        gate.plan_with(profile, &open, self.stats_of(p, account).as_ref())
    }
}

/// One profile's place in the scheduler.
struct Slot {
    id: ProfileId,
    schedule: RebalanceSchedule,
    randomization: Decimal,
    next: Instant,
    /// The scheduler's orders placed for this profile that may still be open:
    /// (`<account>:<client order id>`, when placed).
    resting: Vec<(String, Instant)>,
    /// When an unfilled plan order of this profile was cancelled: the profile is planned
    /// again, whatever its schedule says, once its balances were read after that.
    replan_after: Option<Instant>,
}

/// What became of an order the scheduler asked to cancel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cancelled {
    /// Cancelled now (in part filled or not): its plan is unfinished.
    Now,
    /// It had already closed (filled, rejected, or gone).
    AlreadyFinal,
    /// Still open (the exchange's answer is not final yet).
    StillOpen,
}

/// Cancels the scheduler's own orders.
#[async_trait]
pub trait PlanOrders: Send + Sync {
    /// Cancels order `id`.
    async fn cancel(&self, id: &str) -> Result<Cancelled, String>;
}

#[async_trait]
impl PlanOrders for super::venues::Venues {
    async fn cancel(&self, id: &str) -> Result<Cancelled, String> {
        use tradeguard_gateway::venue::VenueError;
        match self
            .cancel_as(id, super::order_events::Cause::SCHEDULER)
            .await
        {
            Ok(view) => Ok(status_after_cancel(&view.status)),
            Err(VenueError::NotFound(_)) => Ok(Cancelled::AlreadyFinal),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// An order's status (as `GET /v1/orders` shows it) after a cancel.
fn status_after_cancel(status: &str) -> Cancelled {
    match status {
        "cancelled" => Cancelled::Now,
        "open" | "unknown" => Cancelled::StillOpen,
        _ => Cancelled::AlreadyFinal,
    }
}

/// Cancels the orders of `resting` placed at least `ttl` ago; keeps those still open or that
/// could not be cancelled (retried at the next look), forgets those that had closed. Returns
/// how many it cancelled now.
async fn expire(
    profile: &ProfileId,
    resting: &mut Vec<(String, Instant)>,
    ttl: Duration,
    orders: &dyn PlanOrders,
) -> usize {
    let mut closed = 0;
    let mut kept = Vec::with_capacity(resting.len());
    for (id, placed) in resting.drain(..) {
        if placed.elapsed() < ttl {
            kept.push((id, placed));
            continue;
        }
        match orders.cancel(&id).await {
            Ok(Cancelled::Now) => closed += 1,
            Ok(Cancelled::AlreadyFinal) => {}
            Ok(Cancelled::StillOpen) => kept.push((id, placed)),
            Err(e) => {
                tracing::warn!(%profile, order = %id, error = %e, "stale rebalance order not cancelled; retried at the next look");
                kept.push((id, placed));
            }
        }
    }
    *resting = kept;
    closed
}

/// Rebalances every profile on its own schedule (see the module docs).
pub struct Scheduler {
    state: AppState,
    risk: Arc<LiveRisk>,
    check_every: Duration,
    slots: Vec<Slot>,
    /// Cancels the scheduler's orders older than the time to live, if any.
    expiry: Option<(Arc<dyn PlanOrders>, Duration)>,
}

/// `every` moved by up to `factor` either way (at least 100 ms).
fn jittered(every: Duration, factor: Decimal) -> Duration {
    let f = factor.to_f64().unwrap_or(0.0).clamp(0.0, 1.0);
    let u: f64 = rand::rng().random_range(-1.0..=1.0);
    every.mul_f64(1.0 + f * u).max(Duration::from_millis(100))
}

impl Scheduler {
    /// A scheduler over `config`'s profiles, looking at each about every `check_every`;
    /// `None` when `[rebalancing] enabled = false`.
    pub fn new(
        state: AppState,
        risk: Arc<LiveRisk>,
        config: &RiskConfig,
        check_every: Duration,
    ) -> Option<Self> {
        if !config.rebalancing.enabled {
            return None;
        }
        let now = Timestamp::from_millis(state.clock.now_ms());
        let slots = config
            .profiles
            .iter()
            .map(|p| {
                let randomization = config.randomization(p);
                let mut schedule = RebalanceSchedule::new();
                schedule.record(p, p.targets.clone(), now, randomization, &mut rand::rng());
                Slot {
                    id: p.id.clone(),
                    schedule,
                    randomization,
                    next: Instant::now() + jittered(check_every, randomization),
                    resting: Vec::new(),
                    replan_after: None,
                }
            })
            .collect();
        Some(Self {
            state,
            risk,
            check_every,
            slots,
            expiry: None,
        })
    }

    /// Takes back the orders this scheduler placed before the start that are still open: of
    /// the open orders in `venues`' ledgers, those the audit log of `store` says a scheduled
    /// rebalance placed; their time to live runs from when it did.
    pub async fn resume(
        mut self,
        store: &tradeguard_store::Store,
        venues: &super::venues::Venues,
        now_ms: i64,
    ) -> Self {
        // (account, client order id, recorded at ms) of every open ledger order.
        let mut open = Vec::new();
        for (name, a) in venues.accounts() {
            match a.ledger.open_entries(&a.id).await {
                Ok(entries) => open.extend(entries.iter().map(|e| {
                    let cid = e.client_order_id().as_str().to_owned();
                    (name.clone(), cid, e.created_at.0)
                })),
                Err(e) => {
                    tracing::warn!(account = %name, error = %e, "open orders unreadable; plan orders from before the start rest until filled")
                }
            }
        }
        let accounts: std::collections::HashMap<String, String> = open
            .iter()
            .map(|(account, cid, _)| (cid.clone(), account.clone()))
            .collect();
        let recorded = open.into_iter().map(|(_, cid, at)| (cid, at)).collect();
        let found = match super::rebalance_history::placed_by(store, SCHEDULER, &recorded).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "audit log unreadable; plan orders from before the start rest until filled");
                return self;
            }
        };
        for (profile, cid, at_ms) in found {
            let (Some(slot), Some(account)) = (
                self.slots.iter_mut().find(|s| s.id.as_str() == profile),
                accounts.get(&cid),
            ) else {
                continue;
            };
            let age = Duration::from_millis(u64::try_from(now_ms - at_ms).unwrap_or(0));
            let placed = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
            slot.resting.push((format!("{account}:{cid}"), placed));
        }
        self
    }

    /// Cancels the scheduler's own orders still open `ttl` after it placed them, through
    /// `orders` (a zero `ttl`: never).
    pub fn with_order_ttl(mut self, orders: Arc<dyn PlanOrders>, ttl: Duration) -> Self {
        self.expiry = (!ttl.is_zero()).then_some((orders, ttl));
        self
    }

    /// Runs until `stop` turns true.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        loop {
            let Some(next) = self.slots.iter().map(|s| s.next).min() else {
                return;
            };
            tokio::select! {
                () = tokio::time::sleep_until(next) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
            for i in 0..self.slots.len() {
                if self.slots[i].next <= Instant::now() {
                    self.look_at(i).await;
                    let s = &mut self.slots[i];
                    s.next = Instant::now() + jittered(self.check_every, s.randomization);
                }
            }
        }
    }

    fn principal() -> Principal {
        Principal {
            keyid: SCHEDULER.to_owned(),
            scopes: ScopeSet::of(&[Scope::Trade]),
            method: AuthMethod::Signature,
        }
    }

    /// Rebalances slot `i`'s profile if it is due.
    async fn look_at(&mut self, i: usize) {
        if self.state.trading.mode() == TradingMode::Halted {
            return;
        }
        let risk = self.risk.clone();
        let slot = &mut self.slots[i];
        let Some((gate, profile, account)) = risk.gate_of(&slot.id) else {
            return;
        };
        if let Some((orders, ttl)) = &self.expiry
            && expire(&slot.id, &mut slot.resting, *ttl, orders.as_ref()).await > 0
        {
            tracing::info!(profile = %slot.id, "stale rebalance orders cancelled; planned again once the balances are read");
            slot.replan_after = Some(Instant::now());
            return;
        }
        let trigger = match slot.replan_after {
            // The unfinished plan, over balances that show what its orders filled.
            Some(cancelled) => {
                let read_since = risk
                    .balances_age(account)
                    .is_some_and(|age| age < cancelled.elapsed());
                if !read_since {
                    tracing::debug!(profile = %slot.id, "waiting for balances read after the cancel");
                    return;
                }
                "unfinished plan".to_owned()
            }
            None => match gate.rebalance_due(&slot.id, &slot.schedule) {
                Some(t) => format!("{t:?}"),
                None => return,
            },
        };
        match risk.open_orders_of(profile, account, None).await {
            Ok(open) if open.is_empty() => {}
            Ok(open) => {
                tracing::debug!(profile = %slot.id, open = open.len(), "rebalance due; waiting for open orders");
                return;
            }
            Err(e) => {
                tracing::warn!(profile = %slot.id, error = %e, "rebalance due; open orders unknown");
                return;
            }
        }
        let lease = format!("rebalance-lease:{}", slot.id);
        match self
            .state
            .replay
            .check_and_insert(&lease, self.check_every)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::debug!(profile = %slot.id, "rebalance due; another run holds the lease");
                return;
            }
            Err(e) => {
                tracing::warn!(profile = %slot.id, error = %e, "rebalance due; lease unavailable");
                return;
            }
        }
        let who = Self::principal();
        match tradeguard_gateway::api::rebalance(&self.state, &who, &slot.id, false).await {
            Ok(outcome) => {
                let placed_at = Instant::now();
                slot.replan_after = None;
                slot.resting.extend(outcome.results.iter().filter_map(|r| {
                    let id = r.body.get("id")?.as_str()?;
                    (r.status == 201).then(|| (id.to_owned(), placed_at))
                }));
                let now = Timestamp::from_millis(self.state.clock.now_ms());
                let reference = profile.targets.clone();
                let mut rng = rand::rng();
                slot.schedule
                    .record(profile, reference, now, slot.randomization, &mut rng);
                tracing::info!(
                    profile = %slot.id,
                    trigger = %trigger,
                    orders = outcome.results.len(),
                    placed = outcome.placed(),
                    "scheduled rebalance"
                );
            }
            Err(e) => tracing::warn!(profile = %slot.id, error = %e, "scheduled rebalance refused"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tradeguard_exchange::ledger::InMemoryLedger;
    use tradeguard_exchange::model::{AccountId, Asset, Balance, ExchangeId, Symbol};
    use tradeguard_gateway::clock::SystemClock;
    use tradeguard_risk::rebalance::TargetModel;

    use super::super::market::Quote;
    use super::*;

    const CONFIG: &str = r#"
[profiles.core]
exchange = "kraken"
type = "moderate"
credential = "kraken-main"
quote_asset = "USD"
strategy = "risk_adjusted"
lookback = 5
[profiles.core.target_allocation]
BTC = 0.20
ETH = 0.20
SOL = 0.10
"#;

    fn poll(live: &LiveRisk, btc: i64) {
        let quote = |p: i64| Quote {
            rules: None,
            last: Some(Decimal::from(p)),
        };
        let quotes = [("BTC/USD", btc), ("ETH/USD", 3000), ("SOL/USD", 100)]
            .into_iter()
            .map(|(s, p)| (Symbol::parse(s).unwrap(), quote(p)))
            .collect();
        live.set_quotes("kraken-main", quotes);
    }

    /// A risk-adjusted profile plans with its configured targets until three polls gave it
    /// prices, then with its model; GET /v1/portfolio's view values it at the polled prices.
    #[tokio::test]
    async fn plans_use_polled_statistics_once_there_are_enough() {
        let config = tradeguard_risk::config::check(CONFIG).unwrap();
        let live = live_holding(&config, vec![held("USD", "100000")]);
        let core = ProfileId::new("core").unwrap();
        let plan = live.plan(&core).await.unwrap();
        assert_eq!(plan.plan.model, TargetModel::FallbackNoStats);
        poll(&live, 61_000);
        poll(&live, 59_500);
        let plan = live.plan(&core).await.unwrap();
        assert_eq!(plan.plan.model, TargetModel::RiskAdjusted);
        let views = live.portfolios().await.unwrap();
        assert_eq!(views[0].value, Some(Decimal::from(100_000)));
        assert_eq!(views[0].holdings[0].price, Some(Decimal::from(59_500)));
        let unknown = ProfileId::new("nope").unwrap();
        assert!(matches!(
            live.plan(&unknown).await,
            Err(PlanError::UnknownProfile(_))
        ));
    }

    fn held(asset: &str, quantity: &str) -> Balance {
        Balance {
            asset: Asset::parse(asset).unwrap(),
            free: quantity.parse().unwrap(),
            locked: Decimal::ZERO,
        }
    }

    /// The risk gate of `config` on account `kraken-main` (an empty in-memory ledger), holding
    /// `balances`, after one poll of prices.
    fn live_holding(config: &RiskConfig, balances: Vec<Balance>) -> Arc<LiveRisk> {
        let exchanges = BTreeMap::from([("kraken-main".to_owned(), ExchangeId::Kraken)]);
        let live = Arc::new(LiveRisk::new(config, &exchanges, Arc::new(SystemClock)).unwrap());
        let id = AccountId::parse("kraken-main").unwrap();
        live.set_open_orders(
            Arc::new(InMemoryLedger::new()),
            BTreeMap::from([("kraken-main".to_owned(), id)]),
        );
        live.set_balances("kraken-main", balances);
        poll(&live, 60_000);
        live
    }

    /// A gateway whose portfolios are `live`, and the audit it writes to.
    async fn gateway_over(
        live: Arc<LiveRisk>,
    ) -> (AppState, Arc<tradeguard_gateway::audit::MemoryAudit>) {
        use tradeguard_crypto::envelope::RecipientKey;
        use tradeguard_crypto::sign::Ed25519SigningKey;
        use tradeguard_gateway::keys::GatewayKeys;
        use tradeguard_gateway::state::GatewayBuilder;

        let store = tradeguard_store::testing::sqlite().await;
        let audit = Arc::new(tradeguard_gateway::audit::MemoryAudit::default());
        let recipient = RecipientKey::generate_x25519().unwrap();
        let signer = Arc::new(Ed25519SigningKey::generate().unwrap());
        let keys = GatewayKeys::new(vec![recipient.public_key()], signer);
        let state = GatewayBuilder::new(store, keys, audit.clone())
            .portfolios(live)
            .build()
            .await
            .unwrap();
        (state, audit)
    }
    /// The scheduler plans a profile far from its targets, but not while trading is HALTED,
    /// once per lease across replicas, and does not exist with `[rebalancing] enabled = false`.
    #[tokio::test]
    async fn the_scheduler_does_nothing_while_halted_or_disabled() {
        let config = tradeguard_risk::config::check(CONFIG).unwrap();
        let live = live_holding(&config, vec![held("USD", "100000")]);
        let (state, audit) = gateway_over(live.clone()).await;
        let every = Duration::from_secs(60);
        let mut scheduler = Scheduler::new(state.clone(), live.clone(), &config, every).unwrap();
        state.trading.set_local(TradingMode::Halted);
        scheduler.look_at(0).await;
        assert!(!audit.kinds().contains(&"rebalance.planned"), "halted");
        let bus = tradeguard_store::cache::MemoryEventBus::new(8);
        let active = TradingMode::Active;
        state
            .trading
            .set(active, "test", "", 0, &bus)
            .await
            .unwrap();
        scheduler.look_at(0).await;
        let planned = || {
            let kinds = audit.kinds();
            kinds.iter().filter(|k| **k == "rebalance.planned").count()
        };
        assert_eq!(planned(), 1, "{:?}", audit.kinds());
        // Still due (nothing was placed: no exchange is wired), but the lease is taken, here
        // and by another replica sharing the cache.
        scheduler.look_at(0).await;
        let mut replica = Scheduler::new(state.clone(), live.clone(), &config, every).unwrap();
        replica.look_at(0).await;
        assert_eq!(planned(), 1, "one run per lease");

        let off = CONFIG.replace(
            "[profiles.core]\n",
            "[rebalancing]\nenabled = false\n[profiles.core]\n",
        );
        let off = tradeguard_risk::config::check(&off).unwrap();
        assert!(Scheduler::new(state, live, &off, every).is_none());
    }

    /// A profile at its targets is not due; once one of its plan orders is cancelled unfilled
    /// after the time to live, it is planned again, but only after its balances were read
    /// following the cancel.
    #[tokio::test]
    async fn an_unfinished_plan_is_planned_again_once_balances_are_read() {
        let config = tradeguard_risk::config::check(CONFIG).unwrap();
        // At the targets: 50 % USD, 20 % BTC, 20 % ETH, 10 % SOL of 100,000.
        let at_targets = || {
            vec![
                held("USD", "50000"),
                held("BTC", "0.33333333"),
                held("ETH", "6.6666666"),
                held("SOL", "100"),
            ]
        };
        let live = live_holding(&config, at_targets());
        let (state, audit) = gateway_over(live.clone()).await;
        let orders = Arc::new(FakeOrders::default());
        let every = Duration::from_secs(60);
        let mut scheduler = Scheduler::new(state.clone(), live.clone(), &config, every)
            .unwrap()
            .with_order_ttl(orders.clone(), Duration::from_secs(600));
        let planned = || {
            let kinds = audit.kinds();
            kinds.iter().filter(|k| **k == "rebalance.planned").count()
        };
        scheduler.look_at(0).await;
        assert_eq!(planned(), 0, "at its targets: not due");

        let placed = Instant::now() - Duration::from_secs(601);
        scheduler.slots[0]
            .resting
            .push(("kraken-main:plan-1".to_owned(), placed));
        scheduler.look_at(0).await;
        assert_eq!(*orders.asked.lock().unwrap(), ["kraken-main:plan-1"]);
        assert_eq!(planned(), 0, "the cancel's look plans nothing");
        scheduler.look_at(0).await;
        assert_eq!(planned(), 0, "balances not read since the cancel");

        live.set_balances("kraken-main", at_targets());
        scheduler.look_at(0).await;
        assert_eq!(planned(), 1, "the unfinished plan: {:?}", audit.kinds());
        assert!(scheduler.slots[0].replan_after.is_none());
    }

    /// Records the cancels asked for; `open` orders stay open, `filled` had closed, `broken`
    /// ones fail.
    #[derive(Default)]
    struct FakeOrders {
        asked: std::sync::Mutex<Vec<String>>,
        open: Vec<&'static str>,
        filled: Vec<&'static str>,
        broken: Vec<&'static str>,
    }

    #[async_trait]
    impl PlanOrders for FakeOrders {
        async fn cancel(&self, id: &str) -> Result<Cancelled, String> {
            self.asked.lock().unwrap().push(id.to_owned());
            if self.broken.contains(&id) {
                return Err("exchange unreachable".into());
            }
            Ok(if self.open.contains(&id) {
                Cancelled::StillOpen
            } else if self.filled.contains(&id) {
                Cancelled::AlreadyFinal
            } else {
                Cancelled::Now
            })
        }
    }

    /// Orders older than the time to live are cancelled and forgotten, and only those
    /// cancelled now count (a filled one is dropped quietly); younger ones are not asked
    /// about; one still open or that could not be cancelled is asked again next time.
    #[tokio::test]
    async fn stale_plan_orders_are_cancelled_after_their_time_to_live() {
        let ttl = Duration::from_secs(600);
        let old = Instant::now() - Duration::from_secs(601);
        let young = Instant::now();
        let mut resting = vec![
            ("k:a".to_owned(), old),
            ("k:b".to_owned(), young),
            ("k:c".to_owned(), old),
            ("k:d".to_owned(), old),
            ("k:e".to_owned(), old),
        ];
        let orders = FakeOrders {
            open: vec!["k:c"],
            filled: vec!["k:e"],
            broken: vec!["k:d"],
            ..FakeOrders::default()
        };
        let p = ProfileId::new("core").unwrap();
        assert_eq!(expire(&p, &mut resting, ttl, &orders).await, 1);
        assert_eq!(*orders.asked.lock().unwrap(), ["k:a", "k:c", "k:d", "k:e"]);
        let left: Vec<&str> = resting.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(left, ["k:b", "k:c", "k:d"]);
        assert_eq!(expire(&p, &mut Vec::new(), ttl, &orders).await, 0);
    }

    #[test]
    fn an_order_view_after_a_cancel_says_what_became_of_it() {
        let cases = [
            ("cancelled", Cancelled::Now),
            ("open", Cancelled::StillOpen),
            ("unknown", Cancelled::StillOpen),
            ("filled", Cancelled::AlreadyFinal),
            ("rejected", Cancelled::AlreadyFinal),
        ];
        for (i, (status, want)) in cases.into_iter().enumerate() {
            assert_eq!(status_after_cancel(status), want, "TC{i} failed");
        }
    }
}
