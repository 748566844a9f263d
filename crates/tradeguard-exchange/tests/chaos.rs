//! The chaos test: 10,000 orders through the four connectors against the four simulators,
//! with 10% of requests faulted (latency, 5xx before and after the order was accepted, 429,
//! 418, connection dropped after the order was accepted, duplicate-client-id answers for
//! accepted orders). It must end with zero duplicate orders, zero lost fills, and every
//! account's ledger equal to the exchange's own records. The counts are printed.
//!
//! Workers place orders concurrently through [`OrderPlacer`] (ledger first, never re-sent
//! blind), wait out bans, rate limits and open circuits as a bot would, and resolve unknown
//! outcomes by client id. A [`Poller`] syncs fills and resolves pending orders meanwhile.
//! At the end every account is reconciled as on a restart and compared with the simulator.
//! Time is a virtual discrete-event clock shared with the simulators (support/vclock.rs), so
//! rate-limit waits, 418 bans and order-validity windows cost no real time.

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use support::sim::{config, secrets};
use support::vclock::VirtualClock;
use tradeguard_exchange::config::KrakenTier;
use tradeguard_exchange::ledger::{InMemoryLedger, OrderLedger, OrderPlacer, OrderState};
use tradeguard_exchange::ledger::{OrderError, Placement, Resolution};
use tradeguard_exchange::model::{
    ClientOrderId, OrderRequest, OrderType, Side, Symbol, TimeInForce, UnixMillis,
};
use tradeguard_exchange::poller::{MemoryPollStore, PolledAccount, Poller, PollerConfig};
use tradeguard_exchange::{Clock, ConnectorHub, Exchange, ExchangeError};
use tradeguard_sim::{FaultConfig, KeySpec, KrakenLimits, OrderStatus, SimConfig, Venue};

const ORDERS: usize = 10_000;
const ACCOUNTS_PER_VENUE: usize = 2;
const WORKERS_PER_ACCOUNT: usize = 4;
const FAULT_RATE: f64 = 0.10;
const START: i64 = 1_795_386_060_000;

/// One exchange account under test.
struct Account {
    venue: Venue,
    label: String,
    sim_account: tradeguard_sim::AccountId,
    exchange: Arc<dyn Exchange>,
    ledger: Arc<InMemoryLedger>,
    placer: Arc<OrderPlacer>,
}

/// What happened to the orders, by outcome.
#[derive(Default)]
struct Counts {
    placed: AtomicU64,
    unknown_then_found: AtomicU64,
    unknown_then_not_placed: AtomicU64,
    resolve_lookups: AtomicU64,
    rejected: Mutex<BTreeMap<String, u64>>,
}

impl Counts {
    fn reject(&self, why: &str) {
        *self
            .rejected
            .lock()
            .unwrap()
            .entry(why.to_owned())
            .or_default() += 1;
    }
}

fn symbols(venue: Venue) -> [Symbol; 2] {
    let quote = if venue == Venue::Binance {
        "USDT"
    } else {
        "USD"
    };
    [
        Symbol::parse(&format!("BTC/{quote}")).unwrap(),
        Symbol::parse(&format!("ETH/{quote}")).unwrap(),
    ]
}

/// Order `n` of an account: market and resting limit orders, both sides, both pairs.
fn order(venue: Venue, n: usize) -> OrderRequest {
    let [btc, eth] = symbols(venue);
    let (sym, qty, mid) = if n.is_multiple_of(2) {
        (btc, Decimal::new(1, 4), Decimal::from(60_000))
    } else {
        (eth, Decimal::new(2, 3), Decimal::from(3_000))
    };
    let side = if (n / 2).is_multiple_of(2) {
        Side::Buy
    } else {
        Side::Sell
    };
    let order_type = if n % 5 < 3 {
        OrderType::Market
    } else {
        // 0.1% away from the start price: some fill as the price path moves, some rest.
        let off = mid / Decimal::from(1000);
        let price = if side == Side::Buy {
            mid - off
        } else {
            mid + off
        };
        OrderType::Limit {
            price,
            time_in_force: TimeInForce::Gtc,
        }
    };
    OrderRequest::new(
        ClientOrderId::generate().unwrap(),
        sym,
        side,
        order_type,
        qty,
    )
    .unwrap()
}

/// How long a bot waits before trying again after a refusal that says "wait".
fn wait_for(e: &ExchangeError, now: UnixMillis) -> Option<Duration> {
    match e {
        ExchangeError::Banned { until, .. } => Some(now.until(*until).max(Duration::from_secs(1))),
        ExchangeError::RateLimited { retry_after, .. } => {
            Some(retry_after.unwrap_or(Duration::from_secs(1)))
        }
        ExchangeError::CircuitOpen { retry_in, .. } => Some(*retry_in),
        _ => None,
    }
}

fn kind(e: &ExchangeError) -> String {
    match e {
        ExchangeError::Definitive { kind, code, .. } => format!("refused {code} ({kind:?})"),
        ExchangeError::Banned { .. } => "banned (418)".into(),
        ExchangeError::RateLimited { .. } => "rate limited (429 or local)".into(),
        ExchangeError::CircuitOpen { .. } => "circuit open".into(),
        ExchangeError::UnknownOutcome { .. } => "proven not placed after an unknown outcome".into(),
        other => format!("{other}"),
    }
}

/// Places one order and sees it through to a known outcome.
async fn place_one(a: &Account, clock: &VirtualClock, counts: &Counts, req: OrderRequest) {
    match a.placer.place(&req).await.unwrap() {
        Placement::Placed(_) => {
            counts.placed.fetch_add(1, Ordering::Relaxed);
        }
        Placement::Rejected { error, .. } => {
            counts.reject(&kind(&error));
            if let Some(d) = wait_for(&error, clock.now()) {
                clock.sleep(d).await;
            }
        }
        Placement::Unknown { mut retry_at, .. } => loop {
            let now = clock.now();
            if retry_at > now {
                clock.sleep(now.until(retry_at)).await;
            }
            counts.resolve_lookups.fetch_add(1, Ordering::Relaxed);
            match a.placer.resolve(req.client_order_id()).await.unwrap() {
                Resolution::Found(_) => {
                    counts.unknown_then_found.fetch_add(1, Ordering::Relaxed);
                    counts.placed.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Resolution::NotPlaced(_) => {
                    counts
                        .unknown_then_not_placed
                        .fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Resolution::Pending { retry_at: r, .. } => retry_at = r,
            }
        },
        Placement::AlreadyRecorded(e) => panic!("fresh client id already recorded: {e:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_orders_with_ten_percent_faults_no_duplicates_no_lost_fills() {
    let started = Instant::now();
    let clock = VirtualClock::new(UnixMillis(START));
    let faults: BTreeMap<Venue, FaultConfig> = Venue::ALL
        .iter()
        .enumerate()
        .map(|(i, v)| (*v, FaultConfig::uniform(7 + i as u64, FAULT_RATE)))
        .collect();
    let sim = tradeguard_sim::start(SimConfig {
        clock: clock.clone(),
        faults,
        kraken_limits: KrakenLimits::pro(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let hub = ConnectorHub::new(clock.clone());
    let mut accounts = Vec::new();
    for venue in Venue::ALL {
        for i in 0..ACCOUNTS_PER_VENUE {
            let cred = if i == 0 {
                sim.keys().get(venue).clone()
            } else {
                sim.venue(venue)
                    .funded_key(&KeySpec::trading(venue))
                    .unwrap()
            };
            let label = format!("{venue}-{i}");
            let mut cfg = config(&cred, &label);
            cfg.kraken_tier = KrakenTier::Pro;
            let exchange = hub.connect(&cfg, secrets(&cred)).unwrap();
            let ledger = Arc::new(InMemoryLedger::new());
            let placer = Arc::new(OrderPlacer::new(
                exchange.clone(),
                ledger.clone(),
                cfg.account.clone(),
                clock.clone(),
            ));
            accounts.push(Arc::new(Account {
                venue,
                label,
                sim_account: cred.account,
                exchange,
                ledger,
                placer,
            }));
        }
    }

    // The poller syncs fills and resolves pending orders while the workers trade.
    let store = Arc::new(MemoryPollStore::new());
    let polled = accounts
        .iter()
        .map(|a| PolledAccount {
            account: a.placer_account(),
            exchange: a.exchange.clone(),
            symbols: symbols(a.venue).to_vec(),
            placer: Some(a.placer.clone()),
        })
        .collect();
    let poller = Arc::new(Poller::new(
        polled,
        store.clone(),
        clock.clone(),
        PollerConfig {
            initial_lookback: Duration::from_secs(3600),
            ..PollerConfig::default()
        },
    ));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let poll_task = {
        let me = clock.join();
        let poller = poller.clone();
        tokio::spawn(async move {
            let _me = me;
            poller.run(stopped).await;
        })
    };

    let counts = Arc::new(Counts::default());
    let per_account = ORDERS / accounts.len();
    let mut workers = Vec::new();
    for a in &accounts {
        for w in 0..WORKERS_PER_ACCOUNT {
            let me = clock.join();
            let (a, clock, counts) = (a.clone(), clock.clone(), counts.clone());
            workers.push(tokio::spawn(async move {
                let _me = me;
                for n in (w..per_account).step_by(WORKERS_PER_ACCOUNT) {
                    place_one(&a, &clock, &counts, order(a.venue, n)).await;
                }
            }));
        }
    }
    for w in workers {
        w.await.unwrap();
    }
    stop.send(true).unwrap();
    poll_task.await.unwrap();
    let placing_done = clock.now();

    // Restart-style reconciliation of every account (faults stay on), until conclusive.
    let me = clock.join();
    let mut rounds = reconcile_all(&accounts, &clock).await;
    drop(me);

    // Stop trading as a gateway shutting down would: cancel what still rests, so the books
    // cannot change while the ledgers are compared.
    let mut cancels = Vec::new();
    for a in &accounts {
        let me = clock.join();
        let (a, clock) = (a.clone(), clock.clone());
        cancels.push(tokio::spawn(async move {
            let _me = me;
            let open = a.ledger.open_entries(&a.placer_account()).await.unwrap();
            for e in &open {
                for attempt in 0.. {
                    assert!(
                        attempt < 100,
                        "cancel of {} never succeeds",
                        e.client_order_id()
                    );
                    match a.placer.cancel(e.client_order_id()).await {
                        Ok(_) => break,
                        Err(OrderError::Exchange(err)) => {
                            let d = wait_for(&err, clock.now()).unwrap_or(Duration::from_secs(1));
                            clock.sleep(d).await;
                        }
                        Err(other) => panic!("{}: {other}", a.label),
                    }
                }
            }
            open.len()
        }));
    }
    let mut cancelled = 0;
    for c in cancels {
        cancelled += c.await.unwrap();
    }

    // And once more, now that nothing can change.
    let me = clock.join();
    rounds += reconcile_all(&accounts, &clock).await;
    drop(me);

    // The exchange's records against each ledger.
    let mut duplicates = 0;
    let mut orphans = 0;
    let mut mismatched = Vec::new();
    let mut lost_fills = 0;
    let mut extra_fills = 0;
    let (mut exchange_orders, mut exchange_fills, mut open_left) = (0, 0, 0);
    for a in &accounts {
        let venue = sim.venue(a.venue);
        let truth = venue.orders(a.sim_account);
        exchange_orders += truth.len();
        let entries = a.ledger.entries(&a.placer_account());
        let by_cid: HashMap<&str, _> = entries
            .iter()
            .map(|e| (e.client_order_id().as_str(), e))
            .collect();
        let mut seen = HashSet::new();
        for o in &truth {
            let Some(cid) = o.client_id.as_deref() else {
                orphans += 1;
                continue;
            };
            if !seen.insert(cid.to_owned()) {
                duplicates += 1;
                continue;
            }
            let Some(e) = by_cid.get(cid) else {
                orphans += 1;
                continue;
            };
            let want = match o.status {
                OrderStatus::New | OrderStatus::PartiallyFilled => OrderState::Acknowledged,
                OrderStatus::Filled => OrderState::Filled,
                OrderStatus::Canceled | OrderStatus::Expired => OrderState::Cancelled,
            };
            open_left += usize::from(o.status.is_open());
            let wire_id = venue.wire_order_id(o.id);
            let same = e.state == want
                && e.filled_quantity == o.filled_qty
                && e.exchange_order_id.as_ref().map(|x| x.as_str()) == Some(wire_id.as_str());
            if !same {
                mismatched.push(format!(
                    "{}: {cid}: ledger {:?} {} {:?}, exchange {:?} {} {wire_id}",
                    a.label,
                    e.state,
                    e.filled_quantity,
                    e.exchange_order_id,
                    o.status,
                    o.filled_qty
                ));
            }
        }
        for e in &entries {
            let on_exchange = seen.contains(e.client_order_id().as_str());
            let ok = match e.state {
                OrderState::Rejected => !on_exchange,
                OrderState::Acknowledged | OrderState::Filled | OrderState::Cancelled => {
                    on_exchange
                }
                OrderState::New | OrderState::Sent | OrderState::Unknown => false,
            };
            if !ok {
                mismatched.push(format!(
                    "{}: {}: ledger {:?}, on the exchange: {on_exchange}",
                    a.label,
                    e.client_order_id(),
                    e.state
                ));
            }
        }
        let sim_fills: HashSet<String> = venue
            .fills(a.sim_account)
            .iter()
            .map(|f| venue.wire_trade_id(f.id))
            .collect();
        exchange_fills += sim_fills.len();
        let ledger_fills: HashSet<String> = a
            .ledger
            .fills(&a.placer_account())
            .await
            .unwrap()
            .iter()
            .map(|f| f.trade_id.as_str().to_owned())
            .collect();
        lost_fills += sim_fills.difference(&ledger_fills).count();
        extra_fills += ledger_fills.difference(&sim_fills).count();
    }

    let injected: BTreeMap<String, u64> = Venue::ALL.iter().fold(BTreeMap::new(), |mut acc, v| {
        for (k, n) in sim.venue(*v).fault_stats().injected {
            *acc.entry(k).or_default() += n;
        }
        acc
    });
    let (requests, delayed): (u64, u64) = Venue::ALL.iter().fold((0, 0), |acc, v| {
        let s = sim.venue(*v).fault_stats();
        (acc.0 + s.requests, acc.1 + s.delayed)
    });
    let faulted: u64 = injected.values().sum();
    println!("chaos test: {ORDERS} orders on {} accounts", accounts.len());
    println!(
        "  requests to the simulators: {requests}; faults injected: {faulted} ({:.1}%) {injected:?}; delayed: {delayed}",
        faulted as f64 * 100.0 / requests.max(1) as f64
    );
    println!(
        "  placed: {} (of which {} after an unknown outcome); proven not placed after an unknown outcome: {}; resolution lookups: {}",
        counts.placed.load(Ordering::Relaxed),
        counts.unknown_then_found.load(Ordering::Relaxed),
        counts.unknown_then_not_placed.load(Ordering::Relaxed),
        counts.resolve_lookups.load(Ordering::Relaxed),
    );
    println!(
        "  rejected before reaching the book: {:?}",
        counts.rejected.lock().unwrap()
    );
    println!(
        "  exchange records: {exchange_orders} orders ({open_left} still open after {cancelled} cancels), {exchange_fills} fills"
    );
    println!(
        "  duplicate orders: {duplicates}; orders unknown to the ledger: {orphans}; ledger/exchange mismatches: {}; lost fills: {lost_fills}; fills not on the exchange: {extra_fills}",
        mismatched.len()
    );
    println!(
        "  virtual time: {} s placing, {} reconcile rounds; real time {:.1} s; clock forced {} times",
        (placing_done.0 - START) / 1000,
        rounds,
        started.elapsed().as_secs_f64(),
        clock.forced_advances()
    );
    for m in mismatched.iter().take(10) {
        println!("  mismatch: {m}");
    }
    assert_eq!(duplicates, 0, "duplicate orders on the exchange");
    assert_eq!(
        orphans, 0,
        "orders on the exchange the ledger does not know"
    );
    assert!(mismatched.is_empty(), "ledger differs from the exchange");
    assert_eq!(
        lost_fills, 0,
        "fills on the exchange missing from the ledger"
    );
    assert_eq!(
        extra_fills, 0,
        "fills in the ledger the exchange does not have"
    );
    // Reads draw only the before-processing faults (half of the 10%): at least 5% overall.
    assert!(
        faulted as f64 >= 0.04 * requests as f64,
        "too few faults injected"
    );
    sim.shutdown().await;
}

/// Reconciles every account until a round has no errors and nothing unknown; the rounds run.
async fn reconcile_all(accounts: &[Arc<Account>], clock: &VirtualClock) -> usize {
    let mut rounds = 0;
    for a in accounts {
        loop {
            rounds += 1;
            assert!(rounds < 200, "reconciliation does not converge");
            let r = a
                .placer
                .reconcile(&symbols(a.venue), UnixMillis(START - 60_000))
                .await
                .unwrap();
            if r.errors.is_empty() && r.still_unknown.is_empty() {
                break;
            }
            clock.sleep(Duration::from_secs(30)).await;
        }
    }
    rounds
}

impl Account {
    fn placer_account(&self) -> tradeguard_exchange::model::AccountId {
        tradeguard_exchange::model::AccountId::parse(&self.label).unwrap()
    }
}
