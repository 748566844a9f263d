//! Fault injection: after-accept faults leave an order the client never heard about (or heard
//! about as a failure), before-faults leave none, and a seed reproduces the same faults.

mod common;

use std::collections::BTreeMap;

use common::*;
use reqwest::Method;
use tradeguard_sim::{FaultConfig, SimConfig, Venue};

fn only(f: impl FnOnce(&mut FaultConfig)) -> FaultConfig {
    let mut c = FaultConfig::none();
    f(&mut c);
    c
}

fn order_body(cid: &str) -> String {
    format!(
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=30000&newClientOrderId={cid}&timestamp={T0}"
    )
}

#[tokio::test]
async fn fault_outcomes_table() {
    let (sim, _) = start(SimConfig::default()).await;
    let h = sim.venue(Venue::Binance);
    let c = sim.keys().get(Venue::Binance);
    let cases: Vec<(FaultConfig, Option<u16>, bool)> = vec![
        (only(|f| f.drop_after_accept = 1.0), None, true),
        (only(|f| f.server_error_after_accept = 1.0), Some(503), true),
        (only(|f| f.duplicate_client_id = 1.0), Some(400), true),
        (only(|f| f.server_error = 1.0), Some(503), false),
        (only(|f| f.rate_limited = 1.0), Some(429), false),
        (only(|f| f.banned = 1.0), Some(418), false),
    ];
    for (i, (faults, status, exists)) in cases.into_iter().enumerate() {
        h.set_faults(faults);
        let cid = format!("tc{i}");
        let body = order_body(&cid);
        let url = format!("{}/api/v3/order", c.base_url);
        let sent = client()
            .post(url)
            .header("X-MBX-APIKEY", &c.api_key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "{body}&signature={}",
                binance_hmac(c.api_secret.expose_secret(), &body)
            ))
            .send()
            .await;
        match status {
            None => assert!(
                sent.is_err(),
                "TC{} failed: expected a dropped connection",
                i + 1
            ),
            Some(s) => assert_eq!(
                sent.map(|r| r.status().as_u16()).ok(),
                Some(s),
                "TC{} failed",
                i + 1
            ),
        }
        let found = h
            .orders(c.account)
            .iter()
            .any(|o| o.client_id.as_deref() == Some(cid.as_str()));
        assert_eq!(found, exists, "TC{} failed: order existence", i + 1);
    }
    h.set_faults(FaultConfig::none());
    let q = format!("symbol=BTCUSDT&origClientOrderId=tc0&timestamp={T0}");
    let a = binance_get(
        c,
        "/api/v3/order",
        &q,
        &binance_hmac(c.api_secret.expose_secret(), &q),
    )
    .await;
    assert_eq!(
        a.body["status"], "NEW",
        "the dropped order is found by client id: {}",
        a.body
    );
    sim.shutdown().await;
}

async fn kraken_run(seed: u64) -> (Vec<String>, BTreeMap<String, u64>) {
    let (sim, _) = start(SimConfig::default()).await;
    let h = sim.venue(Venue::Kraken);
    h.set_faults(FaultConfig {
        latency: 0.0,
        ..FaultConfig::uniform(seed, 0.6)
    });
    let c = sim.keys().get(Venue::Kraken);
    let mut seen = Vec::new();
    for n in 1..=40u64 {
        let rest =
            format!("cl_ord_id=s{n}&ordertype=limit&pair=XBTUSD&price=20000&type=buy&volume=0.001");
        let method = if n % 2 == 0 { "AddOrder" } else { "Balance" };
        let path = format!("/0/private/{method}");
        let body = format!("nonce={n}&{rest}");
        let sign = kraken_sign(c.api_secret.expose_secret(), &path, &n.to_string(), &body);
        let sent = client()
            .post(format!("{}{path}", c.base_url))
            .header("API-Key", &c.api_key)
            .header("API-Sign", sign)
            .body(body)
            .send()
            .await;
        seen.push(match sent {
            Err(_) => "dropped".to_owned(),
            Ok(r) => format!(
                "{} {}",
                r.status().as_u16(),
                r.text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(40)
                    .collect::<String>()
            ),
        });
    }
    let stats = h.fault_stats().injected;
    sim.shutdown().await;
    (seen, stats)
}

#[tokio::test]
async fn same_seed_same_faults_across_runs() {
    let (a, stats) = kraken_run(11).await;
    let (b, _) = kraken_run(11).await;
    let (c, _) = kraken_run(12).await;
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(
        stats.values().sum::<u64>() >= 10,
        "about 60% of 40 requests faulted: {stats:?}"
    );
}

#[tokio::test]
async fn latency_is_drawn_and_counted() {
    let (sim, _) = start(SimConfig::default()).await;
    let h = sim.venue(Venue::CoinbaseExchange);
    h.set_faults(FaultConfig {
        latency: 1.0,
        latency_ms: (5, 5),
        ..FaultConfig::none()
    });
    let c = sim.keys().get(Venue::CoinbaseExchange);
    let (secret, pass) = (
        c.api_secret.expose_secret(),
        c.passphrase.as_ref().unwrap().expose_secret(),
    );
    let a = cbx(
        c,
        Method::GET,
        "/accounts",
        "",
        &(T0 / 1000).to_string(),
        secret,
        pass,
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(h.fault_stats().delayed, 1);
    sim.shutdown().await;
}
