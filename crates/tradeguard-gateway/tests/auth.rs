//! Authentication: every check refuses with a problem document naming it; sessions; HMAC
//! principals; lockouts; rate limits.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::json;
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_gateway::clock::Clock;
use tradeguard_gateway::config::GatewayConfig;
use tradeguard_gateway::scope::Scope;
use tradeguard_httpsig::SigningKey;

fn order_body() -> serde_json::Value {
    json!({"client_order_id": "c-1", "profile": "p1", "symbol": "BTC/USD", "side": "buy",
           "type": "limit", "price": "50000", "quantity": "0.01"})
}

#[tokio::test]
async fn public_endpoints_need_nothing() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let get = |p: &str| Request::get(p).body(Body::empty()).unwrap();
    let (s, v) = gw.send(get("/v1/health")).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, v) = gw.send(get("/v1/keys")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["signing"]["alg"], "ed25519");
    assert_eq!(v["hpke"][0]["kem"], "X25519-HKDF-SHA256");
    let (s, v) = gw.send(get("/v1/nothing")).await;
    assert_eq!(
        (s, v["status"].as_u64()),
        (StatusCode::NOT_FOUND, Some(404))
    );
}

#[tokio::test]
async fn each_failed_check_is_named() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let trader = gw.principal(&[Scope::Trade, Scope::Read]).await;
    let stranger = Key::new();
    let now = gw.clock.now_secs() as u64;
    let sk = SigningKey::Ed25519(&trader.sk);

    // TC1: no signature at all.
    let unsigned = Request::post("/v1/orders")
        .header("host", HOST)
        .body(Body::from("{}"))
        .unwrap();
    // TC2: a valid request, replayed.
    let valid = gw.req(&trader, Method::GET, "/v1/state", None);
    let (h, _) = clone_parts(&valid);
    assert_eq!(gw.send(valid).await.0, StatusCode::OK);
    let replayed = rebuild(&h, Body::empty());
    // TC3/4: created too old / too far in the future.
    let stale = gw.req_with(
        &sk,
        &trader.did,
        Method::GET,
        "/v1/state",
        None,
        now - 301,
        &gw.nonce(),
    );
    let future = gw.req_with(
        &sk,
        &trader.did,
        Method::GET,
        "/v1/state",
        None,
        now + 301,
        &gw.nonce(),
    );
    // TC5: body changed after signing.
    let signed = gw.req(&trader, Method::POST, "/v1/orders", Some(order_body()));
    let (h, _) = clone_parts(&signed);
    let tampered = rebuild(
        &h,
        Body::from(r#"{"client_order_id":"c-1","quantity":"99"}"#),
    );
    // TC6: path changed after signing.
    let signed = gw.req(&trader, Method::POST, "/v1/orders", Some(order_body()));
    let (mut h, b) = clone_parts(&signed);
    h.uri = "/v1/halt".parse().unwrap();
    let redirected = rebuild(&h, Body::from(b));
    // TC7: signed by an unknown key.
    let unknown = gw.req(&stranger, Method::GET, "/v1/state", None);
    // TC8: forged: the trader's keyid, another key's signature.
    let forged = gw.req_with(
        &SigningKey::Ed25519(&stranger.sk),
        &trader.did,
        Method::GET,
        "/v1/state",
        None,
        now,
        &gw.nonce(),
    );
    // TC9: HMAC signature for an ed25519 principal.
    let secret = SecretBytes::from_slice(b"0123456789abcdef0123456789abcdef");
    let wrong_alg = gw.req_with(
        &SigningKey::HmacSha256(&secret),
        &trader.did,
        Method::GET,
        "/v1/state",
        None,
        now,
        &gw.nonce(),
    );
    // TC10: garbage signature headers.
    let garbage = Request::get("/v1/state")
        .header("host", HOST)
        .header("signature-input", "sig1=((")
        .header("signature", "x")
        .body(Body::empty())
        .unwrap();
    // TC11: content-type not covered on a request with a body.
    let mut no_ct = gw.req(&trader, Method::POST, "/v1/orders", Some(order_body()));
    let si = no_ct.headers()["signature-input"]
        .to_str()
        .unwrap()
        .replace(" \"content-type\"", "");
    no_ct
        .headers_mut()
        .insert("signature-input", si.parse().unwrap());

    let cases = [
        (unsigned, "signature-missing"),
        (replayed, "nonce-replay"),
        (stale, "created-window"),
        (future, "created-window"),
        (tampered, "content-digest"),
        (redirected, "signature"),
        (unknown, "keyid"),
        (forged, "signature"),
        (wrong_alg, "algorithm"),
        (garbage, "signature-format"),
        (no_ct, "covered-components"),
    ];
    for (i, (req, want)) in cases.into_iter().enumerate() {
        let (status, v) = gw.send(req).await;
        assert_eq!(
            (status, check(&v)),
            (StatusCode::UNAUTHORIZED, want),
            "TC{} failed: {v}",
            i + 1
        );
        assert_eq!(v["type"], "urn:tradeguard:problem:unauthenticated");
        assert!(
            !v.to_string().contains("sig1=:"),
            "TC{} echoes a signature",
            i + 1
        );
    }
    assert!(
        gw.venues.orders.lock().unwrap().is_empty(),
        "no refused request reached the router"
    );
}

fn clone_parts(req: &Request<Body>) -> (axum::http::request::Parts, Vec<u8>) {
    let mut b = Request::builder()
        .method(req.method().clone())
        .uri(req.uri().clone());
    for (k, v) in req.headers() {
        b = b.header(k, v);
    }
    (b.body(()).unwrap().into_parts().0, Vec::new())
}

fn rebuild(parts: &axum::http::request::Parts, body: Body) -> Request<Body> {
    let mut b = Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.clone());
    for (k, v) in &parts.headers {
        b = b.header(k, v);
    }
    b.body(body).unwrap()
}

#[tokio::test]
async fn revoked_principal_is_refused() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let k = gw.principal(&[Scope::Read]).await;
    assert_eq!(
        gw.send(gw.req(&k, Method::GET, "/v1/state", None)).await.0,
        StatusCode::OK
    );
    gw.state.directory.revoke(&k.did, T0_MS).await.unwrap();
    let (s, v) = gw.send(gw.req(&k, Method::GET, "/v1/state", None)).await;
    assert_eq!((s, check(&v)), (StatusCode::UNAUTHORIZED, "keyid-revoked"));
}

#[tokio::test]
async fn hmac_principal_signs_with_its_shared_key() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let secret = b"shared-secret-of-32-bytes-000000";
    gw.hmac_principal("bot-7", secret, &[Scope::Read]).await;
    let now = gw.clock.now_secs() as u64;
    let good = SecretBytes::from_slice(secret);
    let bad = SecretBytes::from_slice(b"another-secret-of-32-bytes-00000");
    let req = gw.req_with(
        &SigningKey::HmacSha256(&good),
        "bot-7",
        Method::GET,
        "/v1/state",
        None,
        now,
        &gw.nonce(),
    );
    assert_eq!(gw.send(req).await.0, StatusCode::OK);
    let req = gw.req_with(
        &SigningKey::HmacSha256(&bad),
        "bot-7",
        Method::GET,
        "/v1/state",
        None,
        now,
        &gw.nonce(),
    );
    let (s, v) = gw.send(req).await;
    assert_eq!((s, check(&v)), (StatusCode::UNAUTHORIZED, "signature"));
}

#[tokio::test]
async fn sessions_grant_reads_only_and_expire() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let k = gw
        .principal(&[Scope::Read, Scope::Trade, Scope::Halt])
        .await;
    let (s, v) = gw
        .send(gw.req(
            &k,
            Method::POST,
            "/v1/sessions",
            Some(json!({"ttl_secs": 600})),
        ))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let token = v["token"].as_str().unwrap().to_owned();
    assert!(
        token.starts_with("tgs_") && token.len() == 4 + 43,
        "256-bit token"
    );
    assert_eq!(v["scopes"], json!(["read"]));
    let bearer = |m: Method, p: &str| {
        Request::builder()
            .method(m)
            .uri(p)
            .header("host", HOST)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        gw.send(bearer(Method::GET, "/v1/orders")).await.0,
        StatusCode::OK
    );
    let (s, v) = gw.send(bearer(Method::POST, "/v1/halt")).await;
    assert_eq!(
        (s, check(&v)),
        (StatusCode::UNAUTHORIZED, "session"),
        "sessions cannot change state"
    );
    // Stored only as a hash.
    let hash = tradeguard_gateway::auth::session_hash(&token);
    assert!(
        gw.state
            .store
            .gw_session(&hash, T0_MS)
            .await
            .unwrap()
            .is_some()
    );
    // Expired after its TTL; cleaned up.
    gw.clock.advance_ms(600_000);
    let (s, v) = gw.send(bearer(Method::GET, "/v1/orders")).await;
    assert_eq!((s, check(&v)), (StatusCode::UNAUTHORIZED, "session"));
    assert_eq!(
        gw.state
            .store
            .gw_sessions_delete_expired(gw.clock.now_ms())
            .await
            .unwrap(),
        1
    );
    // TTL bounds.
    let (s, _) = gw
        .send(gw.req(
            &k,
            Method::POST,
            "/v1/sessions",
            Some(json!({"ttl_secs": 299})),
        ))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = gw
        .send(gw.req(
            &k,
            Method::POST,
            "/v1/sessions",
            Some(json!({"ttl_secs": 3601})),
        ))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(gw.audit.kinds().contains(&"session.open"));
}

#[tokio::test]
async fn repeated_failures_lock_out_the_key_and_the_address_and_are_audited() {
    let mut config = test_config();
    config.lockout.max_failures = 3;
    let gw = gateway(tradeguard_store::testing::sqlite().await, config).await;
    let k = gw.principal(&[Scope::Read]).await;
    let now = gw.clock.now_secs() as u64;
    let from = |mut r: Request<Body>, ip: [u8; 4]| {
        r.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                ip, 4000,
            ))));
        r
    };
    // Stale requests from several addresses: the key is locked after 3 + 1 failures.
    for i in 0..4u8 {
        let r = gw.req_with(
            &SigningKey::Ed25519(&k.sk),
            &k.did,
            Method::GET,
            "/v1/state",
            None,
            now - 1000,
            &gw.nonce(),
        );
        let (s, v) = gw.send(from(r, [10, 0, 0, i])).await;
        assert_eq!(
            (s, check(&v)),
            (StatusCode::UNAUTHORIZED, "created-window"),
            "attempt {i}"
        );
    }
    let (s, v) = gw
        .send(from(
            gw.req(&k, Method::GET, "/v1/state", None),
            [10, 0, 1, 1],
        ))
        .await;
    assert_eq!(
        (s, check(&v)),
        (StatusCode::TOO_MANY_REQUESTS, "lockout"),
        "{v}"
    );
    assert!(v["retry_after"].as_u64().unwrap() > 0);
    assert!(gw.audit.kinds().contains(&"auth.lockout"));
    // The address that sent garbage four times is locked for everyone, even valid keys.
    let other = gw.principal(&[Scope::Read]).await;
    for _ in 0..4 {
        let r = Request::get("/v1/state")
            .header("host", HOST)
            .body(Body::empty())
            .unwrap();
        gw.send(from(r, [10, 9, 9, 9])).await;
    }
    let (s, v) = gw
        .send(from(
            gw.req(&other, Method::GET, "/v1/state", None),
            [10, 9, 9, 9],
        ))
        .await;
    assert_eq!((s, check(&v)), (StatusCode::TOO_MANY_REQUESTS, "lockout"));
    // Another address is fine; the lockout ends with its time and survives a restart.
    assert_eq!(
        gw.send(from(
            gw.req(&other, Method::GET, "/v1/state", None),
            [10, 9, 9, 8]
        ))
        .await
        .0,
        StatusCode::OK
    );
    let active = gw
        .state
        .store
        .gw_lockouts_active(gw.clock.now_ms())
        .await
        .unwrap();
    assert_eq!(active.len(), 2);
    gw.clock
        .advance_ms(GatewayConfig::default().lockout.lock_for.as_millis() as i64 + 1);
    assert_eq!(
        gw.send(from(
            gw.req(&other, Method::GET, "/v1/state", None),
            [10, 9, 9, 9]
        ))
        .await
        .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn per_principal_rate_limit() {
    let config = GatewayConfig {
        rate_per_second: 1,
        rate_burst: 3,
        ..GatewayConfig::default()
    };
    let gw = gateway(tradeguard_store::testing::sqlite().await, config).await;
    let k = gw.principal(&[Scope::Read]).await;
    for _ in 0..3 {
        assert_eq!(
            gw.send(gw.req(&k, Method::GET, "/v1/state", None)).await.0,
            StatusCode::OK
        );
    }
    let (s, v) = gw.send(gw.req(&k, Method::GET, "/v1/state", None)).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert_eq!(v["type"], "urn:tradeguard:problem:rate-limited");
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let k = gw.principal(&[Scope::Trade]).await;
    let big = json!({"client_order_id": "x".repeat(70_000)});
    let (s, v) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", Some(big)))
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
}
