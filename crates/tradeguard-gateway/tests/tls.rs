//! Serving over real sockets: TLS with the self-signed certificate `init` makes (signed
//! requests over loopback, peer address reaching the lockout), and plain HTTP refused off
//! loopback.

mod common;

use std::net::SocketAddr;

use common::*;
use tradeguard_gateway::client::{Freshness, Unsigned, signed_headers};
use tradeguard_gateway::clock::Clock;
use tradeguard_gateway::scope::Scope;
use tradeguard_gateway::tls::{self, Handle, TlsError, Transport};
use tradeguard_httpsig::SigningKey;

#[tokio::test]
async fn serves_signed_requests_over_tls_with_a_self_signed_certificate() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let k = gw.principal(&[Scope::Read]).await;
    let cert = tls::self_signed(&["localhost".into()]).unwrap();
    assert!(cert.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(
        !format!("{cert:?}").contains("PRIVATE"),
        "Debug never prints the key"
    );
    let handle = Handle::new();
    let app = tradeguard_gateway::api::router(gw.state.clone());
    let server = tokio::spawn(tls::serve(
        app,
        "127.0.0.1:0".parse().unwrap(),
        Transport::Tls(cert.config().await.unwrap()),
        handle.clone(),
    ));
    let addr = handle.listening().await.expect("server bound");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert_pem.as_bytes()).unwrap())
        .resolve("localhost", addr)
        .build()
        .unwrap();
    let authority = format!("localhost:{}", addr.port());
    let url = |p: &str| format!("https://{authority}{p}");
    let health = client.get(url("/v1/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    let unsigned = Unsigned {
        method: axum::http::Method::GET,
        authority: &authority,
        path: "/v1/state",
        query: None,
        body: None,
    };
    let fresh = Freshness {
        keyid: &k.did,
        created: gw.clock.now_secs() as u64,
        nonce: "tls-nonce-1",
    };
    let headers = signed_headers(&unsigned, &SigningKey::Ed25519(&k.sk), &fresh).unwrap();
    let resp = client
        .get(url("/v1/state"))
        .headers(headers.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    let replay = client
        .get(url("/v1/state"))
        .headers(headers)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);
    assert_eq!(replay.headers()["content-type"], "application/problem+json");

    handle.graceful_shutdown(None);
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn plain_http_is_refused_off_loopback() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let app = tradeguard_gateway::api::router(gw.state.clone());
    let addr: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let err = tls::serve(app, addr, Transport::DangerousPlainHttp, Handle::new())
        .await
        .unwrap_err();
    assert!(matches!(err, TlsError::PlainHttpNotLoopback(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_figures_are_produced_over_loopback() {
    let store = tradeguard_store::testing::sqlite().await;
    let opts = tradeguard_gateway::bench::BenchOptions {
        requests: 200,
        concurrency: 4,
    };
    let r = tradeguard_gateway::bench::run(store, opts).await.unwrap();
    assert!(
        r.signed_rps > 0.0 && r.bare_rps > 0.0 && r.ratio > 0.0,
        "{r:?}"
    );
    assert!(r.signed_p50_us <= r.signed_p99_us);
    eprintln!("{}", serde_json::to_string(&r).unwrap());
}

/// The `tradeguard bench gateway` figures at full size; run with
/// `cargo test --release -p tradeguard-gateway --test tls -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run in release by hand"]
async fn bench_gateway_release_figures() {
    let store = tradeguard_store::testing::sqlite().await;
    let opts = tradeguard_gateway::bench::BenchOptions {
        requests: 20_000,
        concurrency: 16,
    };
    let r = tradeguard_gateway::bench::run(store, opts).await.unwrap();
    println!("{}", serde_json::to_string_pretty(&r).unwrap());
}
