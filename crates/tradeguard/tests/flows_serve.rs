//! Deposits end to end: 5,000 USD credited to the simulated Kraken account while `serve`
//! runs shows in the signed report as an external flow of the profile, the exchange and
//! overall, so the value grows by 5,000 while the profit and the time-weighted return stay
//! near zero (without flows the deposit would read as a 5 % gain). A market buy after it is
//! explained by its fill: the flows stay at 5,000.

mod support;
use support::*;

use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::Value;
use tradeguard_sim::Venue;

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

/// Waits up to `within` for a report `done` accepts.
fn until(g: &KrakenGateway, url: &str, within: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + within;
    loop {
        if let Some(data) = g.report(url).filter(|d| done(d)) {
            return data;
        }
        assert!(Instant::now() < deadline, "{:?}", g.report(url));
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposit_is_a_flow_not_a_gain() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = kraken_sim().await;
    let kraken = sim.venue(Venue::Kraken);
    let g = KrakenGateway::new(tmp.path(), kraken, "");
    let (mut server, url) = g.serve();
    let observations = |d: &Value| d["overall"]["performance"]["observations"].as_u64();

    // Two valuations before the deposit, then the deposit and two more.
    let before = until(&g, &url, Duration::from_secs(60), |d| {
        observations(d) >= Some(2)
    });
    let seen = observations(&before).unwrap();
    kraken
        .deposit(g.account, "USD", Decimal::from(5_000))
        .unwrap();
    let after = until(&g, &url, Duration::from_secs(60), |d| {
        observations(d) >= Some(seen + 2)
    });
    for scope in [
        &after["overall"],
        &after["by_exchange"]["kraken"],
        &after["by_profile"]["core"],
    ] {
        let perf = &scope["performance"];
        assert_eq!(dec(&perf["net_flows"]), Decimal::from(5_000), "{perf}");
        let growth = dec(&perf["end_value"]) - dec(&perf["start_value"]);
        assert_eq!(
            growth,
            Decimal::from(5_000),
            "cash only, no price moves: {perf}"
        );
        assert_eq!(dec(&perf["profit_and_loss"]), Decimal::ZERO, "{perf}");
        let twr = perf["metrics"]["time_weighted_return"].as_f64().unwrap();
        assert!(twr.abs() < 1e-12, "not a 5 % gain: {perf}");
    }

    // A trade is not a flow.
    let client = g.client(&url);
    let buy = tradeguard_client::OrderRequest::market(
        "flows-buy-1",
        "core",
        "BTC/USD",
        tradeguard_client::Side::Buy,
        Decimal::new(1, 3),
    );
    client.place_order(&buy).await.unwrap();
    let seen = observations(&after).unwrap();
    let traded = until(&g, &url, Duration::from_secs(60), |d| {
        observations(d) >= Some(seen + 2)
            && d["overall"]["activity"]["trade_count"].as_u64() >= Some(1)
    });
    let perf = &traded["overall"]["performance"];
    let flows = dec(&perf["net_flows"]);
    // A fill executed within the few milliseconds between the exchange reading the balances
    // and the gateway storing them would move by its slippage and fee (well under 1 USD).
    assert!(
        (flows - Decimal::from(5_000)).abs() < Decimal::ONE,
        "the buy is explained by its fill: {perf}"
    );
    stop(&mut server, &g.log);
}
