//! Coinbase Exchange simulator: CB-ACCESS-* signed by hand (exchanges.md §4.2) is accepted; a
//! wrong secret, a timestamp outside 30 s, a wrong passphrase and an unknown key are refused
//! with Coinbase's own messages; orders, cancels and fills work.

mod common;

use common::*;
use reqwest::Method;
use tradeguard_sim::{SimConfig, Venue};

fn now_s() -> String {
    (T0 / 1000).to_string()
}

#[tokio::test]
async fn accounts_accepted_and_auth_failures_table() {
    let (sim, _) = start(SimConfig::default()).await;
    let c = sim.keys().get(Venue::CoinbaseExchange);
    let (secret, pass) = (
        c.api_secret.expose_secret(),
        c.passphrase.as_ref().unwrap().expose_secret(),
    );
    let ok = cbx(c, Method::GET, "/accounts", "", &now_s(), secret, pass).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(
        ok.body
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["currency"] == "USD" && a["available"] == "100000.0000000000000000")
    );
    let other =
        "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eA==";
    let stale = (T0 / 1000 - 31).to_string();
    let decimal = format!("{}.250", T0 / 1000 - 29);
    let cases: Vec<(&str, String, &str, u16, &str)> = vec![
        (other, now_s(), pass, 400, "invalid signature"),
        (secret, stale, pass, 400, "request timestamp expired"),
        (
            secret,
            now_s(),
            "wrong-passphrase",
            401,
            "Invalid Passphrase",
        ),
        (secret, decimal, pass, 200, ""),
    ];
    for (i, (key, ts, pp, status, msg)) in cases.into_iter().enumerate() {
        let a = cbx(c, Method::GET, "/accounts", "", &ts, key, pp).await;
        assert_eq!(a.status, status, "TC{} failed: {}", i + 1, a.body);
        if !msg.is_empty() {
            assert_eq!(a.body["message"], msg, "TC{} failed", i + 1);
        }
    }
    let mut unknown = c.clone();
    unknown.api_key = "0000".into();
    let a = cbx(
        &unknown,
        Method::GET,
        "/accounts",
        "",
        &now_s(),
        secret,
        pass,
    )
    .await;
    assert_eq!(
        (a.status, a.body["message"].as_str()),
        (401, Some("Invalid API Key"))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn order_cancel_fills_and_duplicate_client_oid() {
    let (sim, _) = start(SimConfig::default()).await;
    let c = sim.keys().get(Venue::CoinbaseExchange);
    let (secret, pass) = (
        c.api_secret.expose_secret(),
        c.passphrase.as_ref().unwrap().expose_secret(),
    );
    let body = r#"{"type":"limit","side":"buy","product_id":"BTC-USD","price":"30000.00","size":"0.01","client_oid":"6d1b345e-2821-40e2-ad83-4ecb18a06876"}"#;
    let placed = cbx(c, Method::POST, "/orders", body, &now_s(), secret, pass).await;
    assert_eq!(
        (placed.status, placed.body["status"].as_str()),
        (200, Some("open")),
        "{}",
        placed.body
    );
    let dup = cbx(c, Method::POST, "/orders", body, &now_s(), secret, pass).await;
    assert_eq!(
        (dup.status, dup.body["message"].as_str()),
        (400, Some("duplicate client_oid"))
    );
    let by_client = cbx(
        c,
        Method::GET,
        "/orders/client:6d1b345e-2821-40e2-ad83-4ecb18a06876",
        "",
        &now_s(),
        secret,
        pass,
    )
    .await;
    assert_eq!(by_client.body["id"], placed.body["id"]);
    let id = placed.body["id"].as_str().unwrap();
    let cancel = cbx(
        c,
        Method::DELETE,
        &format!("/orders/{id}"),
        "",
        &now_s(),
        secret,
        pass,
    )
    .await;
    assert_eq!(cancel.body, serde_json::json!(id));
    let again = cbx(
        c,
        Method::DELETE,
        &format!("/orders/{id}"),
        "",
        &now_s(),
        secret,
        pass,
    )
    .await;
    assert_eq!(again.body["message"], "Order already done");
    let market = r#"{"type":"market","side":"buy","product_id":"BTC-USD","funds":"100"}"#;
    let m = cbx(c, Method::POST, "/orders", market, &now_s(), secret, pass).await;
    assert_eq!(m.body["done_reason"], "filled", "{}", m.body);
    let fills = cbx(
        c,
        Method::GET,
        "/fills?product_id=BTC-USD",
        "",
        &now_s(),
        secret,
        pass,
    )
    .await;
    assert_eq!(
        fills.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        fills.body
    );
    assert_eq!(fills.body[0]["liquidity"], "T");
    sim.shutdown().await;
}
