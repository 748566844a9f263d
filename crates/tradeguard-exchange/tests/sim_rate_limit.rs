//! Twenty bots behind one gateway share one Binance account against the simulator: the
//! simulator never answers 418 (nor 429), and the bots together use at least 90% of the
//! request weight it allows in every minute. Measured by the simulator's own counters
//! ([`tradeguard_sim::RateStats`]) on a virtual clock, so the figures do not depend on how
//! fast the machine is.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use support::sim::{config, secrets};
use support::vclock::VirtualClock;
use tradeguard_exchange::model::{Symbol, UnixMillis};
use tradeguard_exchange::{Clock, ConnectorHub, Reaction};
use tradeguard_sim::{BinanceLimits, SimConfig, Venue};

const BOTS: usize = 20;
const MINUTES: u64 = 5;
/// A minute boundary: the simulator's weight windows are whole minutes since the epoch.
const START: i64 = 1_795_386_060_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_bots_on_one_binance_account_never_get_418_and_use_over_90_percent() {
    let clock = VirtualClock::new(UnixMillis(START));
    let limits = BinanceLimits::default();
    let sim = tradeguard_sim::start(SimConfig {
        clock: clock.clone(),
        binance_limits: limits.clone(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let cred = sim.keys().get(Venue::Binance).clone();
    // One gateway process: one hub, one account label; each bot builds its own client.
    let hub = Arc::new(ConnectorHub::new(clock.clone()));
    let cfg = config(&cred, "binance-shared");
    let end = UnixMillis(START + (MINUTES * 60_000) as i64);
    let calls = Arc::new(AtomicU64::new(0));
    let waits = Arc::new(AtomicU64::new(0));
    let mut bots = Vec::new();
    for bot in 0..BOTS {
        let me = clock.join();
        let client = hub.connect(&cfg, secrets(&cred)).unwrap();
        let (clock, calls, waits) = (clock.clone(), calls.clone(), waits.clone());
        bots.push(tokio::spawn(async move {
            let _me = me;
            let sym = Symbol::parse(if bot % 2 == 0 { "BTC/USDT" } else { "ETH/USDT" }).unwrap();
            let mut n = bot;
            while clock.now() < end {
                n += 1;
                let r = match n % 3 {
                    0 => client.balances().await.map(drop),
                    1 => client.open_orders(Some(&sym)).await.map(drop),
                    _ => client.fills_since(&sym, UnixMillis(START)).await.map(drop),
                };
                calls.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = r {
                    match e.reaction() {
                        // Waited longer than max_rate_wait locally: nothing was sent.
                        Reaction::Wait(d) => {
                            waits.fetch_add(1, Ordering::Relaxed);
                            clock.sleep(d.min(Duration::from_secs(60))).await;
                        }
                        _ => panic!("bot {bot}: {e}"),
                    }
                }
            }
        }));
    }
    for b in bots {
        b.await.unwrap();
    }
    let stats = sim.venue(Venue::Binance).rate_stats();
    let limit = limits.weight_per_minute;
    let first = START as u64 / 60_000;
    let used: Vec<u32> = (first..first + MINUTES)
        .map(|m| stats.weight_per_minute.get(&m).copied().unwrap_or(0))
        .collect();
    let pct: Vec<f64> = used
        .iter()
        .map(|u| f64::from(*u) * 100.0 / f64::from(limit))
        .collect();
    let total: u32 = used.iter().sum();
    println!(
        "rate-limit test: {BOTS} bots, {MINUTES} virtual minutes, {} calls ({} local waits past max_rate_wait); \
         simulator: {} admitted, {} x 429, {} x 418; weight per minute {used:?} of {limit} ({pct:.1?} %), \
         overall {:.1} %; clock forced {} times",
        calls.load(Ordering::Relaxed),
        waits.load(Ordering::Relaxed),
        stats.admitted,
        stats.limited,
        stats.banned,
        f64::from(total) * 100.0 / f64::from(limit * MINUTES as u32),
        clock.forced_advances(),
    );
    assert_eq!(stats.banned, 0, "the simulator banned the IP (418)");
    assert_eq!(
        stats.limited, 0,
        "the bots went past the limit (429) instead of backing off before it"
    );
    for (i, u) in used.iter().enumerate() {
        assert!(*u <= limit, "minute {i}: {u} > {limit}");
        assert!(
            f64::from(*u) >= 0.9 * f64::from(limit),
            "minute {i}: only {u} of {limit} used"
        );
    }
    sim.shutdown().await;
}
