//! The exchanges' own signing examples (tests/vectors/, sources in its README) replayed against
//! the simulators' verifiers: each example request is accepted as signed, and refused with the
//! exchange's signature error once one character of its signature changes.

mod common;

use std::sync::Arc;

use common::*;
use reqwest::Method;
use serde_json::Value;
use tradeguard_crypto::secret::SecretString;
use tradeguard_sim::{ManualClock, Permissions, Sim, SimConfig, Venue};

fn vectors(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("vector file"))
        .expect("vector JSON")
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("field {k}"))
        .to_owned()
}

/// One character changed, staying in the same alphabet.
fn tamper(sig: &str) -> String {
    let mut c: Vec<char> = sig.chars().collect();
    c[3] = if c[3] == 'a' { 'b' } else { 'a' };
    c.into_iter().collect()
}

async fn sim_at(ms: u64) -> (Sim, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(ms));
    let sim = tradeguard_sim::start(SimConfig {
        clock: clock.clone(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    (sim, clock)
}

#[tokio::test]
async fn binance_rest_hmac_v1_v2() {
    let v = vectors("binance/rest-hmac.json");
    let (sim, _) = sim_at(v["timestamp_ms"].as_u64().unwrap() + 250).await;
    let h = sim.venue(Venue::Binance);
    let mut c = sim.keys().get(Venue::Binance).clone();
    c.api_key = s(&v, "api_key");
    h.import_hmac_key(
        c.account,
        &c.api_key,
        &SecretString::new(s(&v, "secret")),
        None,
        Permissions::trading(),
    )
    .unwrap();
    for case in v["cases"].as_array().unwrap() {
        let (id, payload, sig) = (s(case, "id"), s(case, "payload"), s(case, "signature"));
        let a = binance_form(&c, Method::POST, &s(case, "path"), &payload, &sig).await;
        assert_eq!(
            a.body["code"], -1121,
            "{id}: signature and timestamp accepted, then the symbol is unknown: {}",
            a.body
        );
        let upper = binance_form(
            &c,
            Method::POST,
            &s(case, "path"),
            &payload,
            &sig.to_uppercase(),
        )
        .await;
        assert_eq!(
            upper.body["code"], -1121,
            "{id}: hex signatures are not case-sensitive"
        );
        let bad = binance_form(&c, Method::POST, &s(case, "path"), &payload, &tamper(&sig)).await;
        assert_eq!(
            (bad.status, bad.body["code"].as_i64()),
            (400, Some(-1022)),
            "{id} tampered"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn kraken_api_sign_v7() {
    let v = vectors("kraken/api-sign.json");
    let (sim, _) = sim_at(T0).await;
    let h = sim.venue(Venue::Kraken);
    let mut c = sim.keys().get(Venue::Kraken).clone();
    c.api_key = "kraken-doc-example-key".into();
    h.import_hmac_key(
        c.account,
        &c.api_key,
        &SecretString::new(s(&v, "secret")),
        None,
        Permissions::trading(),
    )
    .unwrap();
    for case in v["cases"].as_array().unwrap() {
        let post = |sign: String| {
            client()
                .post(format!("{}{}", c.base_url, s(case, "path")))
                .header("API-Key", &c.api_key)
                .header("API-Sign", sign)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(s(case, "body"))
        };
        let bad = send(post(tamper(&s(case, "api_sign")))).await;
        assert_eq!(bad.body["error"][0], "EAPI:Invalid signature", "tampered");
        let a = send(post(s(case, "api_sign"))).await;
        assert_eq!(
            a.body["error"],
            serde_json::json!([]),
            "{}: {}",
            s(case, "id"),
            a.body
        );
        assert_eq!(
            a.body["result"]["descr"]["order"],
            "buy 1.25000000 XBTUSD @ limit 37500"
        );
        let replay = send(post(s(case, "api_sign"))).await;
        assert_eq!(
            replay.body["error"][0], "EAPI:Invalid nonce",
            "the same nonce twice"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn coinbase_exchange_ccxt_derived() {
    let v = vectors("coinbase_exchange/ccxt-derived.json");
    let (sim, clock) = sim_at(T0).await;
    let h = sim.venue(Venue::CoinbaseExchange);
    let mut c = sim.keys().get(Venue::CoinbaseExchange).clone();
    c.api_key = "ccxt-capture-key".into();
    let pass = SecretString::new("capture-passphrase".into());
    h.import_hmac_key(
        c.account,
        &c.api_key,
        &SecretString::new(s(&v, "secret")),
        Some(&pass),
        Permissions::trading(),
    )
    .unwrap();
    for case in v["cases"].as_array().unwrap() {
        let ts = s(case, "timestamp");
        clock.set(ts.parse::<u64>().unwrap() * 1000 + 400);
        let method = Method::from_bytes(s(case, "method").as_bytes()).unwrap();
        let req = |sign: String| {
            client()
                .request(
                    method.clone(),
                    format!("{}{}", c.base_url, s(case, "request_path")),
                )
                .header("CB-ACCESS-KEY", &c.api_key)
                .header("CB-ACCESS-SIGN", sign)
                .header("CB-ACCESS-TIMESTAMP", &ts)
                .header("CB-ACCESS-PASSPHRASE", "capture-passphrase")
                .header("content-type", "application/json")
                .body(s(case, "body"))
        };
        let a = send(req(s(case, "sign"))).await;
        assert_eq!(a.status, 200, "{}: {}", s(case, "id"), a.body);
        let bad = send(req(tamper(&s(case, "sign")))).await;
        assert_eq!(
            (bad.status, bad.body["message"].as_str()),
            (400, Some("invalid signature")),
            "{} tampered",
            s(case, "id")
        );
    }
    sim.shutdown().await;
}
