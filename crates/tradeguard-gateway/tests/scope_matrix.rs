//! Every protected endpoint, called by a principal with each single scope and with none: it
//! answers 403 `forbidden` exactly when the caller lacks the endpoint's scope, and never lets
//! a caller without it through.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{Value, json};
use tradeguard_gateway::api::ENDPOINTS;
use tradeguard_gateway::scope::Scope;

fn body_for(method: &str, path: &str, n: usize) -> Option<Value> {
    match (method, path) {
        ("POST", "/v1/orders") => {
            Some(json!({"client_order_id": format!("m-{n}"), "profile": "p1",
            "symbol": "BTC/USD", "side": "sell", "type": "limit", "price": "50000", "quantity": "0.001"}))
        }
        ("POST", "/v1/principals") => Some(json!({"keyid": Key::new().did, "scopes": ["read"]})),
        ("POST", "/v1/approvals") => Some(json!({"proposal_id": "none"})),
        ("POST", "/v1/halt") => Some(json!({"mode": "REDUCING"})),
        ("POST", "/v1/rebalance/{profile}") => Some(json!({"dry_run": true})),
        ("PUT", "/v1/risk/limits") => Some(json!({"max_drawdown": "0.2"})),
        ("POST", "/v1/credentials") => Some(sealed()),
        _ => None,
    }
}

fn sealed() -> Value {
    use tradeguard_crypto::envelope::{Info, RecipientKey, seal};
    use tradeguard_crypto::hpke::Suite;
    let rk = RecipientKey::generate_x25519().unwrap();
    let env = seal(&rk.public_key(), Suite::default(), Info::Credential, b"{}").unwrap();
    serde_json::from_str(&env.to_json()).unwrap()
}

#[tokio::test]
async fn no_endpoint_is_reachable_without_its_scope() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let mut callers: Vec<(Option<Scope>, Key)> = vec![(None, gw.principal(&[]).await)];
    for s in Scope::ALL {
        callers.push((Some(s), gw.principal(&[s]).await));
    }
    let mut n = 0;
    for ep in ENDPOINTS {
        for (scope, key) in &callers {
            n += 1;
            let path = ep
                .path
                .replace("{id}", "gw-0")
                .replace("{keyid}", &key.did)
                .replace("{profile}", "p1");
            let method = Method::from_bytes(ep.method.as_bytes()).unwrap();
            let req = gw.req(key, method, &path, body_for(ep.method, ep.path, n));
            let (status, v) = gw.send(req).await;
            let allowed = scope.is_some_and(|s| {
                ep.need
                    .allows(tradeguard_gateway::scope::ScopeSet::of(&[s]))
            });
            let forbidden =
                status == StatusCode::FORBIDDEN && v["type"] == "urn:tradeguard:problem:forbidden";
            let case = format!(
                "TC{n} {} {} with {:?}: {status} {v}",
                ep.method, ep.path, scope
            );
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{case}");
            assert_eq!(forbidden, !allowed, "{case}");
            if !allowed {
                assert_eq!(check(&v), "scope", "{case}");
            }
        }
    }
    assert_eq!(n, ENDPOINTS.len() * 8);
    // Nothing a forbidden call could have done happened.
    assert_eq!(
        gw.state.trading.mode(),
        tradeguard_gateway::trading::TradingMode::Reducing,
        "only the halt-scoped caller switched"
    );
}

#[tokio::test]
async fn a_route_without_a_declared_scope_is_denied_to_everyone() {
    use axum::routing::get;
    use tradeguard_gateway::auth::Authenticated;
    use tradeguard_gateway::principal::Principal;
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let all = gw.principal(&Scope::ALL).await;
    async fn undeclared(_a: Authenticated<Principal, ()>) -> &'static str {
        "reached"
    }
    let app: axum::Router = axum::Router::new()
        .route("/v1/undeclared", get(undeclared))
        .with_state(gw.state.clone());
    let (s, v) = send(&app, gw.req(&all, Method::GET, "/v1/undeclared", None)).await;
    assert_eq!(
        (s, v["type"].as_str()),
        (StatusCode::FORBIDDEN, Some("urn:tradeguard:problem:denied"))
    );
}
