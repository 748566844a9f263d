//! Orders: idempotency on client_order_id, risk refusals, two-step confirmation.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::json;
use tradeguard_gateway::scope::Scope;

fn order(id: &str, qty: &str) -> serde_json::Value {
    json!({"client_order_id": id, "profile": "p1", "symbol": "BTC/USD", "side": "buy",
           "type": "limit", "price": "50000", "quantity": qty})
}

#[tokio::test]
async fn idempotent_on_client_order_id() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let k = gw.principal(&[Scope::Trade, Scope::Read]).await;
    let (s1, v1) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", Some(order("c1", "0.01"))))
        .await;
    assert_eq!(s1, StatusCode::CREATED, "{v1}");
    let (s2, v2) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", Some(order("c1", "0.01"))))
        .await;
    assert_eq!(
        (s2, &v2),
        (StatusCode::CREATED, &v1),
        "the retry gets the first answer"
    );
    assert_eq!(gw.venues.orders.lock().unwrap().len(), 1, "placed once");
    let (s, v) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", Some(order("c1", "0.02"))))
        .await;
    assert_eq!(
        (s, v["type"].as_str()),
        (
            StatusCode::CONFLICT,
            Some("urn:tradeguard:problem:idempotency-key-reused")
        )
    );
    let (s, v) = gw.send(gw.req(&k, Method::GET, "/v1/orders", None)).await;
    assert_eq!(
        (s, v["orders"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );
    let id = v1["id"].as_str().unwrap();
    let (s, v) = gw
        .send(gw.req(&k, Method::DELETE, &format!("/v1/orders/{id}"), None))
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (s, _) = gw
        .send(gw.req(&k, Method::DELETE, "/v1/orders/nope", None))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = gw.send(gw.req(&k, Method::GET, "/v1/balances", None)).await;
    assert_eq!(
        (s, v["balances"][0]["asset"].as_str()),
        (StatusCode::OK, Some("USD"))
    );
}

#[tokio::test]
async fn risk_refusal_and_bad_input_are_problems() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let k = gw.principal(&[Scope::Trade]).await;
    let (s, v) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", Some(order("big", "100"))))
        .await;
    assert_eq!(
        (s, v["type"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("urn:tradeguard:problem:risk-refused")
        ),
        "{v}"
    );
    let (s, v) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", Some(order("big", "100"))))
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the refusal is the recorded answer: {v}"
    );
    let mut bad = order("b", "0.01");
    bad["symbol"] = json!("BTCUSD");
    let (s, v) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", Some(bad)))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("symbol"));
    assert!(gw.venues.orders.lock().unwrap().is_empty());
}

#[tokio::test]
async fn two_step_orders_need_the_same_principal_within_the_token_lifetime() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let k = gw.principal(&[Scope::Trade]).await;
    let other = gw.principal(&[Scope::Trade]).await;
    let preview = |id: &str| {
        let mut o = order(id, "0.01");
        o["require_confirmation"] = json!(true);
        o
    };
    let (s, v) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", Some(preview("t1"))))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["preview"]["verdict"], "approved");
    assert_eq!(v["preview"]["estimate"]["notional"], "500.00");
    assert_eq!(v["preview"]["estimate"]["fee"], "0.50000");
    assert!(
        gw.venues.orders.lock().unwrap().is_empty(),
        "a preview executes nothing"
    );
    let token = v["confirmation_token"].as_str().unwrap().to_owned();
    let confirm = |t: &str| Some(json!({"confirmation_token": t}));
    // TC1 another principal; TC2 the same principal (executes); TC3 reuse.
    let (s, v) = gw
        .send(gw.req(&other, Method::POST, "/v1/orders", confirm(&token)))
        .await;
    assert_eq!(
        (s, v["type"].as_str()),
        (
            StatusCode::CONFLICT,
            Some("urn:tradeguard:problem:confirmation-invalid")
        ),
        "TC1"
    );
    let (s, v) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", Some(preview("t2"))))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let token = v["confirmation_token"].as_str().unwrap().to_owned();
    let (s, v) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", confirm(&token)))
        .await;
    assert_eq!(s, StatusCode::CREATED, "TC2 {v}");
    assert_eq!(v["client_order_id"], "t2");
    let (s, _) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", confirm(&token)))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "TC3 one-time");
    // TC4: expired after 60 s.
    let (_, v) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", Some(preview("t3"))))
        .await;
    let token = v["confirmation_token"].as_str().unwrap().to_owned();
    gw.clock.advance_ms(60_001);
    let (s, _) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", confirm(&token)))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "TC4 expired");
    assert_eq!(gw.venues.orders.lock().unwrap().len(), 1);
}
