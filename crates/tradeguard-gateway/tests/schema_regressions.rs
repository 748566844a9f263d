//! Regressions for what schemathesis (tests/interop/schemathesis_run.sh) found against the
//! OpenAPI document: each test is named after the finding. Shape errors are 400, refusals of a
//! well-formed request's meaning 422.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{Value, json};
use tradeguard_gateway::scope::Scope;

async fn post(gw: &Gw, k: &Key, path: &str, body: Value) -> (StatusCode, Value) {
    gw.send(gw.req(k, Method::POST, path, Some(body))).await
}

#[tokio::test]
async fn halt_body_that_is_a_json_array_is_refused_not_read_as_a_struct() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let k = gw.principal(&[Scope::Halt, Scope::Read]).await;
    let (s, v) = post(&gw, &k, "/v1/halt", json!([null, null])).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (_, v) = gw.send(gw.req(&k, Method::GET, "/v1/state", None)).await;
    assert_eq!(v["state"], "ACTIVE", "the refused halt changed nothing");
}

#[tokio::test]
async fn session_ttl_is_a_json_schema_integer() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let k = gw.principal(&[Scope::Read]).await;
    let cases = [
        (json!({"ttl_secs": 1200.0}), StatusCode::CREATED),
        (json!({"ttl_secs": null}), StatusCode::CREATED),
        (json!({"ttl_secs": 1200.5}), StatusCode::BAD_REQUEST),
        (json!({"ttl_secs": -300}), StatusCode::BAD_REQUEST),
        (json!({"ttl_secs": "1200"}), StatusCode::BAD_REQUEST),
    ];
    for (i, (body, want)) in cases.into_iter().enumerate() {
        let (s, v) = post(&gw, &k, "/v1/sessions", body).await;
        assert_eq!(s, want, "TC{} failed: {v}", i + 1);
    }
}

#[tokio::test]
async fn order_decimals_are_strict_and_meaning_errors_are_422() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let k = gw.principal(&[Scope::Trade]).await;
    let order = |id: &str, edit: &dyn Fn(&mut Value)| {
        let mut o = json!({"client_order_id": id, "profile": "p1", "symbol": "BTC/USD",
            "side": "buy", "type": "limit", "price": "50000", "quantity": "0.01"});
        edit(&mut o);
        o
    };
    type Edit = fn(&mut Value);
    let cases: [(Edit, StatusCode); 9] = [
        (|o| o["quantity"] = json!("1_0"), StatusCode::BAD_REQUEST),
        (|o| o["quantity"] = json!("+1"), StatusCode::BAD_REQUEST),
        (|o| o["quantity"] = json!("1e2"), StatusCode::BAD_REQUEST),
        (|o| o["quantity"] = json!(0.01), StatusCode::BAD_REQUEST),
        (
            |o| o["quantity"] = json!("123456789012.1234567890123456"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            |o| o["quantity"] = json!("0"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            |o| o["type"] = json!("market"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            |o| o["symbol"] = json!("BTC/BTC"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (|o| o["symbol"] = json!("BTCUSD"), StatusCode::BAD_REQUEST),
    ];
    for (i, (edit, want)) in cases.into_iter().enumerate() {
        let (s, v) = post(&gw, &k, "/v1/orders", order(&format!("tc{i}"), &edit)).await;
        assert_eq!(s, want, "TC{} failed: {v}", i + 1);
    }
    assert!(
        gw.venues.orders.lock().unwrap().is_empty(),
        "nothing placed"
    );
}

#[tokio::test]
async fn principal_and_credential_meaning_errors_are_422_shape_errors_400() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let k = gw
        .principal(&[Scope::ManagePrincipals, Scope::ManageCredentials])
        .await;
    let label = "é".repeat(150); // 150 characters, 300 bytes: within the documented 200
    let envelope = json!({"v": 1, "kem": "X25519-HKDF-SHA256", "kdf": "HKDF-SHA256",
        "aead": "AES-256-GCM", "enc": "AAAA", "ct": "AAAA"});
    let cases = [
        (
            "/v1/principals",
            json!({"keyid": "abc", "scopes": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/v1/principals",
            json!({"keyid": "did:x", "kind": "hmac-sha256", "scopes": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/v1/principals",
            json!({"keyid": Key::new().did, "scopes": ["read"], "label": label}),
            StatusCode::FORBIDDEN, // valid: refused only because no quorum is configured
        ),
        (
            "/v1/principals",
            json!({"keyid": "", "scopes": []}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/v1/credentials",
            envelope.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("/v1/credentials", json!({"v": 1}), StatusCode::BAD_REQUEST),
        (
            "/v1/credentials",
            json!({"v": 2, "kem": "X25519-HKDF-SHA256", "kdf": "HKDF-SHA256",
                "aead": "AES-256-GCM", "enc": "AAAA", "ct": "AAAA"}),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (i, (path, body, want)) in cases.into_iter().enumerate() {
        let (s, v) = post(&gw, &k, path, body).await;
        assert_eq!(s, want, "TC{} failed: {v}", i + 1);
    }
}

#[tokio::test]
async fn openapi_documents_every_answer_the_handlers_give() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let req = axum::http::Request::get("/v1/openapi.json")
        .body(axum::body::Body::empty())
        .unwrap();
    let (_, doc) = gw.send(req).await;
    let ops = [
        ("/v1/resume", "post", &["200", "202"][..]),
        ("/v1/orders", "post", &["200", "201", "422"][..]),
        ("/v1/approvals", "post", &["200", "202"][..]),
    ];
    for (i, (path, method, codes)) in ops.into_iter().enumerate() {
        for code in codes {
            assert!(
                doc["paths"][path][method]["responses"][code].is_object(),
                "TC{} failed: {method} {path} documents {code}",
                i + 1
            );
        }
    }
    let max = doc["paths"]["/v1/sessions"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"]["anyOf"][0]["properties"]["ttl_secs"]["anyOf"][0]["maximum"]
        .as_u64();
    assert_eq!(max, Some(test_config().session_ttl.as_secs()));
    assert_eq!(
        doc["paths"]["/v1/orders"]["post"]["requestBody"]["required"],
        true
    );
}
