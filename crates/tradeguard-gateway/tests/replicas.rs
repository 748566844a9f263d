//! Two gateway replicas sharing PostgreSQL-or-SQLite state and Redis caches: a request
//! accepted by one is a replay on the other, and a halt on one stops the other.

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::*;
use tradeguard_gateway::scope::Scope;
use tradeguard_gateway::trading::TradingMode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_nonces_and_the_halt_through_redis() {
    let Some(redis) = tradeguard_store::testing::redis().await else {
        return;
    };
    let store = match tradeguard_store::testing::postgres().await {
        Some(pg) => pg,
        None => tradeguard_store::testing::sqlite().await,
    };
    let caches = || -> Caches {
        (
            Arc::new(redis.replay_cache()),
            Arc::new(redis.rate_limiter()),
            Arc::new(redis.event_bus()),
        )
    };
    let a = gateway_on_caches(store.clone(), test_config(), caches()).await;
    let b = gateway_on_caches(store, test_config(), caches()).await;
    let k = a.principal(&[Scope::Read, Scope::Halt]).await;
    b.state.directory.reload().await.unwrap();

    let req = a.req(&k, Method::GET, "/v1/state", None);
    let (parts, _) = req.into_parts();
    let copy = |p: &axum::http::request::Parts| {
        let mut r = axum::http::Request::builder()
            .method(p.method.clone())
            .uri(p.uri.clone());
        for (n, v) in &p.headers {
            r = r.header(n, v);
        }
        r.body(axum::body::Body::empty()).unwrap()
    };
    assert_eq!(send(&a.app, copy(&parts)).await.0, StatusCode::OK);
    let (s, v) = send(&b.app, copy(&parts)).await;
    assert_eq!((s, check(&v)), (StatusCode::UNAUTHORIZED, "nonce-replay"));

    let (s, _) = a.send(a.req(&k, Method::POST, "/v1/halt", None)).await;
    assert_eq!(s, StatusCode::OK);
    for _ in 0..500 {
        if b.state.trading.mode() == TradingMode::Halted {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        b.state.trading.mode(),
        TradingMode::Halted,
        "the halt reached the other replica"
    );
}
