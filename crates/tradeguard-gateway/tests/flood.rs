//! 10,000 replayed, stale, tampered or forged requests are all refused; 10,000 valid ones
//! all pass (in process, through the whole authentication path).

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::json;
use tradeguard_gateway::clock::Clock;
use tradeguard_gateway::scope::Scope;
use tradeguard_httpsig::SigningKey;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_bad_refused_ten_thousand_good_pass() {
    let mut config = test_config();
    config.lockout.max_failures = 1_000_000; // measure the checks, not the lockout
    let gw = gateway(tradeguard_store::testing::sqlite().await, config).await;
    let trader = gw.principal(&[Scope::Read, Scope::Trade]).await;
    let stranger = Key::new();
    let now = gw.clock.now_secs() as u64;
    let body = json!({"client_order_id": "x", "profile": "p1", "symbol": "BTC/USD", "side": "buy",
                      "type": "limit", "price": "50000", "quantity": "0.01"});
    let first = gw.req(&trader, Method::GET, "/v1/state", None);
    let replay_headers = first.headers().clone();
    assert_eq!(gw.send(first).await.0, StatusCode::OK);

    let mut refused = std::collections::BTreeMap::<String, usize>::new();
    for i in 0..10_000 {
        let req = match i % 5 {
            0 => {
                let mut r = Request::get("/v1/state").body(Body::empty()).unwrap();
                *r.headers_mut() = replay_headers.clone();
                r.headers_mut().insert("host", HOST.parse().unwrap());
                r
            }
            1 => gw.req_with(
                &SigningKey::Ed25519(&trader.sk),
                &trader.did,
                Method::GET,
                "/v1/state",
                None,
                now - 301 - (i as u64 % 1000),
                &gw.nonce(),
            ),
            2 => {
                let signed = gw.req(&trader, Method::POST, "/v1/orders", Some(body.clone()));
                let (parts, _) = signed.into_parts();
                Request::from_parts(parts, Body::from(format!(r#"{{"quantity":"{i}"}}"#)))
            }
            3 => gw.req_with(
                &SigningKey::Ed25519(&stranger.sk),
                &trader.did,
                Method::GET,
                "/v1/state",
                None,
                now,
                &gw.nonce(),
            ),
            _ => gw.req(&stranger, Method::GET, "/v1/state", None),
        };
        let (status, v) = gw.send(req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "request {i} passed: {v}");
        *refused.entry(check(&v).to_owned()).or_default() += 1;
    }
    assert_eq!(refused.values().sum::<usize>(), 10_000);
    for want in [
        "nonce-replay",
        "created-window",
        "content-digest",
        "signature",
        "keyid",
    ] {
        assert_eq!(refused.get(want), Some(&2_000), "{want}: {refused:?}");
    }
    assert!(gw.venues.orders.lock().unwrap().is_empty());

    for i in 0..10_000 {
        let (status, v) = gw
            .send(gw.req(&trader, Method::GET, "/v1/state", None))
            .await;
        assert_eq!(status, StatusCode::OK, "valid request {i} refused: {v}");
    }
}
