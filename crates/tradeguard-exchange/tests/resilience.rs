//! Shared rate budgets under many callers, and the circuit breaker end to end.

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::{Capture, Stub, T0, config, hub};
use tradeguard_exchange::binance::BinanceClient;
use tradeguard_exchange::binance::limits::{BinanceCost, REQUEST_WEIGHT_PER_MINUTE};
use tradeguard_exchange::model::{ExchangeId, UnixMillis};
use tradeguard_exchange::ratelimit::{Denied, Limits, RateBudgets};
use tradeguard_exchange::{Exchange, ExchangeError, InMemorySecretSource};

/// Twenty bots, each building its own client config for the same account and egress, share
/// one budget: in simulated time they never exceed the published weight per minute in any
/// window, and together they use at least 90% of it.
#[test]
fn twenty_bots_share_one_binance_weight_budget() {
    let budgets = RateBudgets::new();
    let base = url::Url::parse("https://api.binance.com").unwrap();
    let bots: Vec<_> = (0..20)
        .map(|_| budgets.binance(&config(ExchangeId::Binance, &base)))
        .collect();
    let cost = BinanceCost::weight(20);
    let start = T0.0 - T0.0 % 60_000;
    let end = start + 5 * 60_000;
    let mut next = vec![start; bots.len()];
    let mut per_window = std::collections::BTreeMap::<i64, u32>::new();
    loop {
        let (i, &t) = next.iter().enumerate().min_by_key(|(_, t)| **t).unwrap();
        if t >= end {
            break;
        }
        match bots[i].try_acquire(UnixMillis(t), &cost) {
            Ok(()) => {
                *per_window.entry(t / 60_000).or_default() += cost.weight;
                next[i] = t + 5; // each bot would call every 5 ms if it could
            }
            Err(Denied::Wait(d)) => next[i] = t + d.as_millis() as i64,
            Err(Denied::Banned(_)) => panic!("never banned"),
        }
    }
    assert_eq!(per_window.len(), 5);
    for (w, used) in &per_window {
        assert!(*used <= REQUEST_WEIGHT_PER_MINUTE, "window {w}: {used}");
        assert!(
            f64::from(*used) >= 0.9 * f64::from(REQUEST_WEIGHT_PER_MINUTE),
            "window {w}: only {used}"
        );
    }
}

#[test]
fn budgets_are_separate_per_egress_and_shared_per_account_for_orders() {
    let budgets = RateBudgets::new();
    let base = url::Url::parse("https://api.binance.com").unwrap();
    let direct = budgets.binance(&config(ExchangeId::Binance, &base));
    let mut proxied_cfg = config(ExchangeId::Binance, &base);
    proxied_cfg.egress = Some("static-ip-2".into());
    let proxied = budgets.binance(&proxied_cfg);
    let t = T0;
    while direct.try_acquire(t, &BinanceCost::weight(100)).is_ok() {}
    assert!(
        proxied.try_acquire(t, &BinanceCost::weight(100)).is_ok(),
        "another IP has its own weight"
    );
    // Order counts belong to the account, whatever the egress.
    let order = BinanceCost {
        weight: 0,
        orders: 1,
    };
    let t2 = UnixMillis(t.0 + 60_000);
    let mut n = 0;
    while proxied.try_acquire(t2, &order).is_ok() || direct.try_acquire(t2, &order).is_ok() {
        n += 1;
    }
    assert_eq!(n, 47, "50 orders per 10 s at 95%, across both egresses");
}

#[tokio::test]
async fn breaker_opens_after_repeated_failures_and_probes_after_cooldown() {
    let srv = Capture::start(|_, n| {
        if n < 5 {
            Stub::json(502, "bad gateway")
        } else {
            Stub::json(200, r#"{"serverTime":1}"#)
        }
    })
    .await;
    let (clock, hub) = hub();
    let mut cfg = config(ExchangeId::Binance, &srv.base);
    cfg.retry = tradeguard_exchange::retry::RetryPolicy::none();
    let secrets = Arc::new(InMemorySecretSource::from_parts("k", "s", None));
    let client = BinanceClient::new(&cfg, secrets.clone(), &hub).unwrap();
    for _ in 0..5 {
        assert!(matches!(
            client.server_time().await,
            Err(ExchangeError::Transient { .. })
        ));
    }
    // Open: refused locally, for every client of this exchange host.
    let other = BinanceClient::new(&cfg, secrets, &hub).unwrap();
    let err = other.server_time().await.unwrap_err();
    assert!(matches!(err, ExchangeError::CircuitOpen { .. }), "{err}");
    assert_eq!(srv.count(), 5);
    clock.advance(Duration::from_secs(10));
    assert_eq!(
        client.server_time().await.unwrap().0,
        1,
        "the half-open probe succeeds"
    );
    assert!(other.server_time().await.is_ok(), "and closes the circuit");
    assert_eq!(srv.count(), 7);
}

/// Regression (chaos test): an order waits for rate budget *before* it is signed, so "not found
/// by client id" proves it was never placed only after that wait plus the signature's validity.
/// With the validity alone, the poller marked orders still waiting for budget as never placed.
#[test]
fn order_validity_covers_the_wait_for_rate_budget() {
    let (_clock, hub) = hub();
    let base = url::Url::parse("http://127.0.0.1:9").unwrap();
    let secrets = Arc::new(InMemorySecretSource::from_parts("k", "c2VjcmV0", None));
    // (exchange, the signature's own validity)
    let cases = [
        (ExchangeId::Binance, Duration::from_secs(5)),
        (ExchangeId::Coinbase, Duration::from_secs(120)),
        (ExchangeId::CoinbaseExchange, Duration::from_secs(30)),
        (ExchangeId::Kraken, Duration::from_secs(15)),
    ];
    for (i, (exchange, signature)) in cases.into_iter().enumerate() {
        let mut cfg = config(exchange, &base);
        cfg.max_rate_wait = Duration::from_secs(45);
        let Ok(ex) = hub.connect(&cfg, secrets.clone()) else {
            panic!("TC{i} failed: cannot build {exchange}");
        };
        assert!(
            ex.order_validity() >= cfg.max_rate_wait + signature,
            "TC{i} failed: {exchange}: {:?}",
            ex.order_validity()
        );
    }
}
