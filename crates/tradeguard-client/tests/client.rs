//! The client against a small axum server that authenticates every request the way the
//! gateway does, with tradeguard-httpsig: signature, required components and parameters,
//! time window, Content-Digest, nonce replay. Plain HTTP on loopback and TLS with a
//! self-signed certificate (pinned, wrong pin, platform roots).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tradeguard_client::sign::Clock;
use tradeguard_client::{
    Client, ClientConfig, ClientError, HaltMode, NewPrincipal, OrderRequest, PrincipalKey, Side,
    Trust,
};
use tradeguard_crypto::sign::{Ed25519SigningKey, Ed25519VerifyingKey};
use tradeguard_httpsig::{Param, ParsedSignature, RequestParts};

#[derive(Clone, Default)]
struct Fake {
    keys: Arc<Mutex<Vec<(String, Ed25519VerifyingKey)>>>,
    nonces: Arc<Mutex<HashSet<String>>>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn problem(status: StatusCode, check: &str, detail: &str) -> Response {
    let body = json!({"type": format!("urn:tradeguard:problem:{check}"), "title": "Refused",
        "status": status.as_u16(), "detail": detail, "check": check});
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut()
        .insert("content-type", "application/problem+json".parse().unwrap());
    r
}

/// Authenticates like the gateway; the name of the failed check on refusal.
fn authenticate(
    fake: &Fake,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Result<String, String> {
    let rp = RequestParts::from_http(parts).map_err(|_| "host")?;
    let sig: ParsedSignature =
        tradeguard_httpsig::parse_request(&rp, None).map_err(|_| "signature-input")?;
    sig.require_params(&[Param::Created, Param::Nonce, Param::KeyId, Param::Alg])
        .map_err(|_| "params")?;
    let mut required = vec!["@method", "@authority", "@path", "@query", "content-digest"];
    if !body.is_empty() {
        required.push("content-type");
    }
    sig.require_components(&required)
        .map_err(|_| "components")?;
    sig.check_freshness(now(), 300)
        .map_err(|_| "created-window")?;
    let keyid = sig.keyid().unwrap_or_default().to_owned();
    let keys = fake.keys.lock().unwrap();
    let vk = keys
        .iter()
        .find(|(k, _)| *k == keyid)
        .map(|(_, v)| *v)
        .ok_or("keyid")?;
    sig.verify_ed25519(&vk).map_err(|_| "signature")?;
    let digest = parts
        .headers
        .get("content-digest")
        .and_then(|v| v.to_str().ok())
        .ok_or("content-digest")?;
    tradeguard_httpsig::verify_content_digest(digest, body).map_err(|_| "content-digest")?;
    let nonce = format!("{keyid} {}", sig.nonce().unwrap_or_default());
    if !fake.nonces.lock().unwrap().insert(nonce) {
        return Err("nonce-replay".into());
    }
    Ok(keyid)
}

async fn handle(State(fake): State<Fake>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let path = parts.uri.path().to_owned();
    match path.as_str() {
        "/v1/health" => return axum::Json(json!({"status": "ok"})).into_response(),
        "/v1/keys" => return axum::Json(json!({"signing": {"alg": "ed25519"}})).into_response(),
        "/v1/teapot" => return (StatusCode::IM_A_TEAPOT, "short and stout").into_response(),
        _ => {}
    }
    let keyid = match authenticate(&fake, &parts, &body) {
        Ok(k) => k,
        Err(check) => return problem(StatusCode::UNAUTHORIZED, &check, "authentication failed"),
    };
    if path == "/v1/orders/refused" {
        return problem(StatusCode::CONFLICT, "trading-halted", "trading is HALTED");
    }
    if path == "/v1/sessions" {
        return axum::Json(
            json!({"token": "tgs_secret-token", "expires_ms": 1, "scopes": ["read"]}),
        )
        .into_response();
    }
    let parsed: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap()
    };
    axum::Json(
        json!({"method": parts.method.as_str(), "path": path, "query": parts.uri.query(),
        "keyid": keyid, "body": parsed}),
    )
    .into_response()
}

fn app(fake: Fake) -> Router {
    Router::new().fallback(handle).with_state(fake)
}

async fn serve_plain(fake: Fake) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app(fake)).await.unwrap() });
    addr
}

fn principal(fake: &Fake) -> PrincipalKey {
    let key = Ed25519SigningKey::generate().unwrap();
    let vk = key.verifying_key();
    let p = PrincipalKey::ed25519(key);
    fake.keys.lock().unwrap().push((p.keyid().to_owned(), vk));
    p
}

async fn plain_client() -> (Client, Fake) {
    let fake = Fake::default();
    let key = principal(&fake);
    let addr = serve_plain(fake.clone()).await;
    let cfg = ClientConfig::new(format!("http://{addr}"), Trust::PlatformRoots);
    (Client::new(&cfg, key).unwrap(), fake)
}

#[tokio::test]
async fn every_endpoint_is_signed_as_the_gateway_requires() {
    let (c, _) = plain_client().await;
    let me = c.keyid().to_owned();
    let order = OrderRequest::limit(
        "c-1",
        "main",
        "BTC/USD",
        Side::Buy,
        Decimal::new(1, 2),
        Decimal::new(50_000, 0),
    );
    let principal = NewPrincipal {
        keyid: "did:key:z6MkExample".into(),
        kind: None,
        scopes: vec!["read".into()],
        label: "bot".into(),
    };
    let cases: Vec<(Value, &str, &str, Value)> = vec![
        (c.state().await.unwrap(), "GET", "/v1/state", Value::Null),
        (
            c.halt(Some(HaltMode::Reducing), Some("test"))
                .await
                .unwrap(),
            "POST",
            "/v1/halt",
            json!({"mode": "REDUCING", "reason": "test"}),
        ),
        (
            c.halt(None, None).await.unwrap(),
            "POST",
            "/v1/halt",
            json!({}),
        ),
        (c.resume().await.unwrap(), "POST", "/v1/resume", Value::Null),
        (
            c.approvals().await.unwrap(),
            "GET",
            "/v1/approvals",
            Value::Null,
        ),
        (
            c.approve("p-7").await.unwrap(),
            "POST",
            "/v1/approvals",
            json!({"proposal_id": "p-7"}),
        ),
        (
            c.place_order(&order).await.unwrap(),
            "POST",
            "/v1/orders",
            json!({"client_order_id": "c-1", "profile": "main", "symbol": "BTC/USD", "side": "buy",
                "type": "limit", "price": "50000", "quantity": "0.01"}),
        ),
        (
            c.place_order(&OrderRequest::confirm("tok")).await.unwrap(),
            "POST",
            "/v1/orders",
            json!({"confirmation_token": "tok"}),
        ),
        (
            c.cancel_order("o 1/2").await.unwrap(),
            "DELETE",
            "/v1/orders/o%201%2F2",
            Value::Null,
        ),
        (c.orders().await.unwrap(), "GET", "/v1/orders", Value::Null),
        (
            c.balances().await.unwrap(),
            "GET",
            "/v1/balances",
            Value::Null,
        ),
        (
            c.principals().await.unwrap(),
            "GET",
            "/v1/principals",
            Value::Null,
        ),
        (
            c.add_principal(&principal).await.unwrap(),
            "POST",
            "/v1/principals",
            json!({"keyid": "did:key:z6MkExample", "scopes": ["read"], "label": "bot"}),
        ),
        (
            c.remove_principal("did:key:z6MkExample").await.unwrap(),
            "DELETE",
            "/v1/principals/did:key:z6MkExample",
            Value::Null,
        ),
        (
            c.signed::<()>(
                tradeguard_client::Method::GET,
                &["orders"],
                Some("status=open&x=%20"),
                None,
            )
            .await
            .unwrap(),
            "GET",
            "/v1/orders",
            Value::Null,
        ),
    ];
    for (i, (got, method, path, body)) in cases.into_iter().enumerate() {
        assert_eq!(got["method"], method, "TC{i} failed: {got}");
        assert_eq!(got["path"], path, "TC{i} failed: {got}");
        assert_eq!(got["keyid"], me.as_str(), "TC{i} failed: {got}");
        assert_eq!(got["body"], body, "TC{i} failed: {got}");
    }
}

#[tokio::test]
async fn public_endpoints_and_sessions() {
    let (c, _) = plain_client().await;
    assert_eq!(c.health().await.unwrap()["status"], "ok");
    assert_eq!(c.keys().await.unwrap()["signing"]["alg"], "ed25519");
    let s = c.open_session(Some(600)).await.unwrap();
    assert_eq!(s.token.expose_secret(), "tgs_secret-token");
    assert!(
        !format!("{s:?}").contains("secret-token"),
        "Debug must not print the token"
    );
}

#[tokio::test]
async fn problem_documents_become_typed_errors() {
    let (c, _) = plain_client().await;
    let e = c.cancel_order("refused").await.unwrap_err();
    let p = e.problem().expect("a problem document");
    assert_eq!(
        (p.status, p.slug(), p.check.as_deref()),
        (409, "trading-halted", Some("trading-halted"))
    );
    assert!(e.to_string().contains("trading is HALTED"), "{e}");
    assert!(!e.is_retryable());
    let e = c
        .signed::<()>(tradeguard_client::Method::GET, &["teapot"], None, None)
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Http { status: 418 }), "{e:?}");
}

#[tokio::test]
async fn an_unknown_key_is_refused_by_the_check_named() {
    let fake = Fake::default();
    let addr = serve_plain(fake.clone()).await;
    let stranger = PrincipalKey::ed25519(Ed25519SigningKey::generate().unwrap());
    let c = Client::new(
        &ClientConfig::new(format!("http://{addr}"), Trust::PlatformRoots),
        stranger,
    )
    .unwrap();
    let e = c.balances().await.unwrap_err();
    assert_eq!(
        e.problem().and_then(|p| p.check.as_deref()),
        Some("keyid"),
        "{e}"
    );
}

struct Behind(u64);
impl Clock for Behind {
    fn now_unix(&self) -> u64 {
        now() - self.0
    }
}

#[tokio::test]
async fn created_comes_from_the_clock() {
    let (c, _) = plain_client().await;
    let c = c.with_clock(Arc::new(Behind(3600)));
    let e = c.balances().await.unwrap_err();
    assert_eq!(
        e.problem().and_then(|p| p.check.as_deref()),
        Some("created-window"),
        "{e}"
    );
    let c = c.with_clock(Arc::new(Behind(10)));
    c.balances().await.unwrap();
}

#[tokio::test]
async fn each_call_has_a_fresh_nonce() {
    let (c, fake) = plain_client().await;
    for _ in 0..20 {
        c.orders().await.unwrap();
    }
    assert_eq!(fake.nonces.lock().unwrap().len(), 20);
}

#[tokio::test]
async fn unreachable_gateway_is_a_retryable_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let key = PrincipalKey::ed25519(Ed25519SigningKey::generate().unwrap());
    let c = Client::new(
        &ClientConfig::new(format!("http://{addr}"), Trust::PlatformRoots),
        key,
    )
    .unwrap();
    let e = c.halt(None, None).await.unwrap_err();
    assert!(
        matches!(e, ClientError::Connect { .. }) && e.is_retryable(),
        "{e:?}"
    );
}

// --- TLS -------------------------------------------------------------------------------------

struct Tls {
    addr: SocketAddr,
    cert_pem: String,
}

async fn serve_tls(fake: Fake) -> Tls {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let cert_pem = ck.cert.pem();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem(
        cert_pem.clone().into_bytes(),
        ck.signing_key.serialize_pem().into_bytes(),
    )
    .await
    .unwrap();
    let handle: axum_server::Handle<SocketAddr> = axum_server::Handle::new();
    let server =
        axum_server::bind_rustls("127.0.0.1:0".parse().unwrap(), config).handle(handle.clone());
    tokio::spawn(async move { server.serve(app(fake).into_make_service()).await.unwrap() });
    let addr = handle.listening().await.expect("listening");
    Tls { addr, cert_pem }
}

#[tokio::test]
async fn tls_with_the_pinned_self_signed_certificate() {
    let fake = Fake::default();
    let key = principal(&fake);
    let tls = serve_tls(fake).await;
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, &tls.cert_pem).unwrap();
    let cfg = ClientConfig::new(
        format!("https://127.0.0.1:{}", tls.addr.port()),
        Trust::pinned_file(&cert).unwrap(),
    );
    let c = Client::new(&cfg, key).unwrap();
    assert_eq!(c.health().await.unwrap()["status"], "ok");
    let got = c.halt(Some(HaltMode::Halted), None).await.unwrap();
    assert_eq!(got["path"], "/v1/halt");
}

#[tokio::test]
async fn tls_refuses_a_certificate_other_than_the_pinned_one() {
    let fake = Fake::default();
    let key = principal(&fake);
    let tls = serve_tls(fake).await;
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()])
        .unwrap()
        .cert
        .pem();
    let url = format!("https://127.0.0.1:{}", tls.addr.port());
    let pinned_other = Client::new(
        &ClientConfig::new(url.clone(), Trust::Pinned(other.into_bytes())),
        key,
    )
    .unwrap();
    let e = pinned_other.health().await.unwrap_err();
    assert!(matches!(e, ClientError::Connect { .. }), "{e:?}");
    let key = PrincipalKey::ed25519(Ed25519SigningKey::generate().unwrap());
    let platform = Client::new(&ClientConfig::new(url, Trust::PlatformRoots), key).unwrap();
    assert!(matches!(
        platform.health().await.unwrap_err(),
        ClientError::Connect { .. }
    ));
}

#[test]
fn plain_http_off_loopback_is_refused_before_any_request() {
    let key = PrincipalKey::ed25519(Ed25519SigningKey::generate().unwrap());
    let e = Client::new(
        &ClientConfig::new("http://192.0.2.10:8443", Trust::PlatformRoots),
        key,
    )
    .unwrap_err();
    assert!(e.to_string().contains("loopback"), "{e}");
}
