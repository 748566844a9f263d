//! `GET /`: the dashboard page is public, static (no data, no secret in it), served with a
//! strict Content-Security-Policy whose hashes match its inline script and style, and only
//! calls `/v1` routes that are in ENDPOINTS and that a session may read.

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use tower::ServiceExt;
use tradeguard_crypto::digest::sha256;
use tradeguard_gateway::api::{DASHBOARD_PAGE, ENDPOINTS};
use tradeguard_gateway::auth::Need;
use tradeguard_gateway::scope::Scope;

/// RFC 4648 base64 with padding, written here so the test does not reuse the server's.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn inside<'a>(html: &'a str, tag: &str) -> &'a str {
    let (_, rest) = html.split_once(&format!("<{tag}>")).unwrap();
    rest.split_once(&format!("</{tag}>")).unwrap().0
}

async fn page(gw: &Gw) -> (StatusCode, axum::http::HeaderMap, String) {
    let req = Request::get("/")
        .header("host", HOST)
        .body(Body::empty())
        .unwrap();
    let resp = gw.app.clone().oneshot(req).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

/// Every `"/v1/..."` string in the script.
fn api_paths(script: &str) -> BTreeSet<String> {
    script
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("/v1/"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn page_is_served_with_security_headers_and_csp_hashes() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let (s, h, body) = page(&gw).await;
    assert_eq!(s, StatusCode::OK);
    let header = |n: &str| {
        h.get(n)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert_eq!(header("cache-control"), "no-store");
    let csp = header("content-security-policy");
    let script = format!(
        "'sha256-{}'",
        base64(&sha256(inside(&body, "script").as_bytes()))
    );
    let style = format!(
        "'sha256-{}'",
        base64(&sha256(inside(&body, "style").as_bytes()))
    );
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    for want in [
        "default-src 'none'".to_owned(),
        format!("script-src {script}"),
        format!("style-src {style}"),
        "connect-src 'self'".to_owned(),
        "base-uri 'none'".to_owned(),
        "form-action 'none'".to_owned(),
        "frame-ancestors 'none'".to_owned(),
    ] {
        assert!(
            directives.contains(&want.as_str()),
            "CSP lacks {want}: {csp}"
        );
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    // Nothing is loaded from elsewhere.
    for external in ["http://", "https://", "src=", "href=", "@import", "url("] {
        assert!(!body.contains(external), "the page refers to {external}");
    }
}

#[tokio::test]
async fn page_holds_no_data_and_calls_only_readable_endpoints() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let reader = gw.principal(&[Scope::Read]).await;
    let (s, session) = gw
        .send(gw.req(&reader, Method::POST, "/v1/sessions", None))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let token = session["token"].as_str().unwrap().to_owned();
    let (_, _, body) = page(&gw).await;
    assert_eq!(
        body, DASHBOARD_PAGE,
        "the page is the same static file whatever the state"
    );
    for secret in [token.as_str(), &reader.did, "PRIVATE KEY", "did:key:"] {
        assert!(!body.contains(secret), "the page contains {secret}");
    }
    assert!(
        !body.contains("localStorage")
            && !body.contains("sessionStorage")
            && !body.contains("document.cookie"),
        "the token stays in memory"
    );

    let paths = api_paths(inside(&body, "script"));
    let expected: BTreeSet<String> = [
        "/v1/state",
        "/v1/portfolio",
        "/v1/balances",
        "/v1/orders",
        "/v1/audit/checkpoint",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(paths, expected);
    for (i, path) in paths.iter().enumerate() {
        let ep = ENDPOINTS
            .iter()
            .find(|e| e.method == "GET" && e.path == path)
            .unwrap_or_else(|| panic!("TC{i} failed: GET {path} is not in ENDPOINTS"));
        assert_eq!(
            ep.need,
            Need::Scope(Scope::Read),
            "TC{i} failed: {path} needs more than read"
        );
        let req = Request::get(path.as_str())
            .header("host", HOST)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let (s, v) = gw.send(req).await;
        // This test gateway serves no audit evidence: 404 says so; everything else answers.
        let want = if path == "/v1/audit/checkpoint" {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        assert_eq!(s, want, "TC{i} failed: GET {path} with a session: {v}");
    }
}
