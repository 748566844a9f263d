//! Open orders in the risk gate, `GET /v1/portfolio` and `POST /v1/rebalance/{profile}`:
//! profile `p1` holds 100,000 USD and 0.1 BTC (BTC at 50,000: 4.8% of 105,000, target 20%);
//! ETH and SOL have no price yet.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tradeguard_gateway::scope::Scope;

fn d(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("a decimal string: {v}"))
        .parse()
        .unwrap()
}

fn sell(id: &str, qty: &str) -> Value {
    json!({"client_order_id": id, "profile": "p1", "symbol": "BTC/USD", "side": "sell",
        "type": "limit", "price": "50000", "quantity": qty})
}

async fn gw() -> (Gw, Key) {
    let gw = gateway_counting_open_orders(tradeguard_store::testing::sqlite().await, test_config())
        .await;
    let key = gw
        .principal(&[Scope::Trade, Scope::Read, Scope::Halt])
        .await;
    (gw, key)
}

/// Two sells of 0.06 BTC each fit the 0.1 BTC held, together they do not: the second is
/// refused while the first is open and accepted once it is cancelled.
#[tokio::test]
async fn an_order_is_checked_against_the_profiles_open_orders() {
    let (gw, key) = gw().await;
    let (s, first) = gw
        .send(gw.req(&key, Method::POST, "/v1/orders", Some(sell("s-1", "0.06"))))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let (s, v) = gw
        .send(gw.req(&key, Method::POST, "/v1/orders", Some(sell("s-2", "0.06"))))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("BTC"), "{v}");
    let path = format!("/v1/orders/{}", first["id"].as_str().unwrap());
    let (s, v) = gw.send(gw.req(&key, Method::DELETE, &path, None)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = gw
        .send(gw.req(&key, Method::POST, "/v1/orders", Some(sell("s-3", "0.06"))))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

#[tokio::test]
async fn portfolio_shows_holdings_value_weights_and_state() {
    let (gw, key) = gw().await;
    let (s, v) = gw
        .send(gw.req(&key, Method::GET, "/v1/portfolio", None))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let p = &v["portfolios"][0];
    assert_eq!(p["profile"], "p1");
    assert_eq!(p["quote"], "USD");
    assert_eq!(p["state"], "ACTIVE");
    assert_eq!(d(&p["value"]), Decimal::from(105_000));
    let btc = &p["holdings"][0];
    assert_eq!(btc["asset"], "BTC");
    assert_eq!(d(&btc["target"]), Decimal::new(2, 1));
    assert_eq!(d(&btc["weight"]), Decimal::new(4_761_905, 8));
    assert_eq!(p["holdings"][1]["price"], Value::Null, "no ETH price");
    // A read-only session principal sees it too; the halt shows in every profile's state.
    let (s, _) = gw
        .send(gw.req(
            &key,
            Method::POST,
            "/v1/halt",
            Some(json!({"mode": "HALTED"})),
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    let reader = gw.principal(&[Scope::Read]).await;
    let (s, v) = gw
        .send(gw.req(&reader, Method::GET, "/v1/portfolio", None))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["portfolios"][0]["state"], "HALTED");
}

/// A dry run plans without trading; the real run places the plan's orders under
/// `<plan id><index>` through the order path, and a second run right after does not buy
/// again what the first run's open orders already buy.
#[tokio::test]
async fn rebalance_plans_executes_and_counts_its_open_orders() {
    let (gw, key) = gw().await;
    let dry = |dry_run: bool| Some(json!({ "dry_run": dry_run }));
    let (s, plan) = gw
        .send(gw.req(&key, Method::POST, "/v1/rebalance/p1", dry(true)))
        .await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["results"], json!([]));
    let orders = plan["orders"].as_array().unwrap();
    assert!(!orders.is_empty(), "BTC is 15 points under target: {plan}");
    assert!(
        orders
            .iter()
            .all(|o| o["side"] == "buy" && o["symbol"] == "BTC/USD")
    );
    let skipped: Vec<&str> = plan["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert!(skipped.contains(&"no_price"), "ETH and SOL: {plan}");
    assert_eq!(
        gw.venues.orders.lock().unwrap().len(),
        0,
        "a dry run trades nothing"
    );

    let (s, run) = gw
        .send(gw.req(&key, Method::POST, "/v1/rebalance/p1", dry(false)))
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    let plan_id = run["plan_id"].as_str().unwrap();
    assert_eq!(plan_id.len(), 28);
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), run["orders"].as_array().unwrap().len());
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["status"], 201, "{r}");
        assert_eq!(r["client_order_id"], format!("{plan_id}{i:04x}"));
    }
    let bought: Decimal = gw
        .venues
        .orders
        .lock()
        .unwrap()
        .iter()
        .map(|(_, o)| o.quantity * o.price.unwrap())
        .sum();
    // 15 points of 105,000, less the plan's headroom under the caps.
    assert!(
        bought > Decimal::from(12_000) && bought < Decimal::from(16_000),
        "{bought}"
    );

    let (s, again) = gw
        .send(gw.req(&key, Method::POST, "/v1/rebalance/p1", dry(false)))
        .await;
    assert_eq!(s, StatusCode::OK, "{again}");
    let more: Decimal = again["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| d(&o["quantity"]) * d(&o["price"]))
        .sum();
    assert!(
        more < Decimal::from(1_000),
        "the open buys count as filled: {again}"
    );

    let kinds = gw.audit.kinds();
    let planned = kinds.iter().filter(|k| **k == "rebalance.planned").count();
    let executed = kinds.iter().filter(|k| **k == "rebalance.executed").count();
    assert_eq!((planned, executed), (3, 2), "{kinds:?}");
    let event = gw
        .audit
        .events()
        .into_iter()
        .find(|e| e.kind == "rebalance.executed")
        .unwrap();
    let orders = &event.fields.iter().find(|(k, _)| *k == "orders").unwrap().1;
    assert_eq!(orders[0]["status"], 201, "{orders}");
}

#[tokio::test]
async fn rebalance_is_refused_while_halted_and_for_unknown_profiles() {
    let (gw, key) = gw().await;
    let body = Some(json!({"dry_run": false}));
    let (s, v) = gw
        .send(gw.req(&key, Method::POST, "/v1/rebalance/nope", body.clone()))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, v) = gw
        .send(gw.req(&key, Method::POST, "/v1/rebalance/p1", Some(json!({}))))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "dry_run is required: {v}");
    let (s, _) = gw
        .send(gw.req(
            &key,
            Method::POST,
            "/v1/halt",
            Some(json!({"mode": "HALTED"})),
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = gw
        .send(gw.req(&key, Method::POST, "/v1/rebalance/p1", body))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["type"], "urn:tradeguard:problem:trading-halted");
    assert!(!gw.audit.kinds().contains(&"rebalance.planned"));
    assert_eq!(gw.venues.orders.lock().unwrap().len(), 0);
}

/// While a rebalance of a profile runs, a second one is refused (a dry run is not).
#[tokio::test]
async fn one_rebalance_of_a_profile_at_a_time() {
    let (gw, key) = gw().await;
    gw.state.rebalancing.lock().unwrap().insert("p1".into());
    let body = |dry_run: bool| Some(json!({ "dry_run": dry_run }));
    let (s, v) = gw
        .send(gw.req(&key, Method::POST, "/v1/rebalance/p1", body(false)))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["type"], "urn:tradeguard:problem:rebalance-in-progress");
    let (s, v) = gw
        .send(gw.req(&key, Method::POST, "/v1/rebalance/p1", body(true)))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    gw.state.rebalancing.lock().unwrap().clear();
    let (s, v) = gw
        .send(gw.req(&key, Method::POST, "/v1/rebalance/p1", body(false)))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(
        gw.state.rebalancing.lock().unwrap().is_empty(),
        "released after the run"
    );
}
