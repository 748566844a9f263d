//! What authentication leaves in the audit log: `auth.failure` (bounded by a global budget,
//! the rest summed up in `auth.failure_suppressed`), `auth.success` once per principal and
//! window (fail closed), and `session.ended` on halt and on expiry.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::{Value, json};
use tradeguard_gateway::audit::GatewayEvent;
use tradeguard_gateway::clock::Clock;
use tradeguard_gateway::scope::Scope;
use tradeguard_httpsig::SigningKey;

fn field(e: &GatewayEvent, name: &str) -> Value {
    e.fields
        .iter()
        .find(|(k, _)| *k == name)
        .map_or(Value::Null, |(_, v)| v.clone())
}

fn sensitive<'a>(e: &'a GatewayEvent, name: &str) -> Option<&'a str> {
    e.sensitive
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_str())
}

fn of_kind(gw: &Gw, kind: &str) -> Vec<GatewayEvent> {
    gw.audit
        .events()
        .into_iter()
        .filter(|e| e.kind == kind)
        .collect()
}

fn from(mut r: Request<Body>, ip: [u8; 4]) -> Request<Body> {
    r.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            ip, 4000,
        ))));
    r
}

fn unsigned(method: Method, path: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("host", HOST)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn refused_authentications_are_audited_with_check_route_and_sensitive_ids() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let k = gw.principal(&[Scope::Read]).await;
    let stranger = Key::new();
    let now = gw.clock.now_secs() as u64;

    let (s, v) = gw
        .send(from(
            unsigned(Method::DELETE, "/v1/orders/secret-order-77"),
            [10, 0, 0, 9],
        ))
        .await;
    assert_eq!(
        (s, check(&v)),
        (StatusCode::UNAUTHORIZED, "signature-missing")
    );
    let forged = gw.req(&stranger, Method::GET, "/v1/state", None);
    assert_eq!(check(&gw.send(forged).await.1), "keyid");
    let stale = gw.req_with(
        &SigningKey::Ed25519(&k.sk),
        &k.did,
        Method::GET,
        "/v1/portfolio",
        None,
        now - 1000,
        &gw.nonce(),
    );
    assert_eq!(check(&gw.send(stale).await.1), "created-window");

    let failures = of_kind(&gw, "auth.failure");
    assert_eq!(failures.len(), 3, "{failures:?}");
    let e = &failures[0];
    assert_eq!(field(e, "check"), "signature-missing");
    assert_eq!(field(e, "method"), "DELETE");
    assert_eq!(
        field(e, "route"),
        "/v1/orders/{id}",
        "the template, not the path"
    );
    assert_eq!(sensitive(e, "client"), Some("10.0.0.9"));
    assert_eq!(sensitive(e, "keyid"), None);
    assert!(
        !format!("{e:?}").contains("secret-order-77"),
        "no raw path: {e:?}"
    );
    assert!(
        e.fields
            .iter()
            .all(|(k, _)| *k != "client" && *k != "keyid")
    );
    let e = &failures[1];
    assert_eq!(
        (field(e, "check"), field(e, "route")),
        (json!("keyid"), json!("/v1/state"))
    );
    assert_eq!(sensitive(e, "keyid"), Some(stranger.did.as_str()));
    let e = &failures[2];
    assert_eq!(field(e, "check"), "created-window");
    assert_eq!(sensitive(e, "keyid"), Some(k.did.as_str()));
    assert!(of_kind(&gw, "auth.success").is_empty());
}

#[tokio::test]
async fn a_lockout_refusal_is_an_audited_failure_too() {
    let mut config = test_config();
    config.lockout.max_failures = 2;
    let gw = gateway(tradeguard_store::testing::sqlite().await, config).await;
    for _ in 0..3 {
        gw.send(from(unsigned(Method::GET, "/v1/state"), [10, 0, 0, 5]))
            .await;
    }
    let (s, v) = gw
        .send(from(unsigned(Method::GET, "/v1/state"), [10, 0, 0, 5]))
        .await;
    assert_eq!((s, check(&v)), (StatusCode::TOO_MANY_REQUESTS, "lockout"));
    assert!(gw.audit.kinds().contains(&"auth.lockout"));
    let last = of_kind(&gw, "auth.failure").pop().unwrap();
    assert_eq!(field(&last, "check"), "lockout");
    assert_eq!(sensitive(&last, "client"), Some("10.0.0.5"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_ten_thousand_bad_requests_leaves_the_budget_and_one_summary() {
    let mut config = test_config();
    config.lockout.max_failures = 1_000_000; // the bound, not the lockout
    let budget = config.auth_failure_audit_per_second as usize;
    let every = config.auth_failure_summary_every;
    let gw = gateway(tradeguard_store::testing::sqlite().await, config).await;
    let stranger = Key::new();
    for i in 0..10_000u32 {
        let req = if i % 10 == 0 {
            gw.req(&stranger, Method::GET, "/v1/state", None)
        } else {
            unsigned(Method::POST, "/v1/orders")
        };
        let (s, _) = gw.send(from(req, [192, 0, 2, (i % 250) as u8])).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let events = gw.audit.events();
    assert_eq!(
        events.len(),
        budget,
        "the clock stood still: the budget only"
    );
    assert!(events.iter().all(|e| e.kind == "auth.failure"));

    // Before the interval has passed the timer's flush has nothing due; once it has, the
    // flush reports the ones left out, though no request follows the flood.
    assert!(!gw.state.auth_trail.flush_suppressed(&gw.state).await);
    gw.clock.advance_ms(every.as_millis() as i64);
    assert!(gw.state.auth_trail.flush_suppressed(&gw.state).await);
    assert!(
        !gw.state.auth_trail.flush_suppressed(&gw.state).await,
        "once"
    );
    gw.send(unsigned(Method::GET, "/v1/state")).await;
    let summaries = of_kind(&gw, "auth.failure_suppressed");
    assert_eq!(summaries.len(), 1);
    assert_eq!(field(&summaries[0], "count"), 10_000 - budget as u64);
    let failures = of_kind(&gw, "auth.failure").len();
    assert!(failures <= 2 * budget, "{failures}");
    assert_eq!(gw.audit.events().len(), failures + summaries.len());
    assert_eq!(gw.state.auth_trail.failure_appends_lost(), 0);
}

#[tokio::test]
async fn a_failure_event_that_cannot_be_appended_is_counted_and_the_request_refused() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    gw.audit.set_failing(true);
    let (s, v) = gw.send(unsigned(Method::GET, "/v1/state")).await;
    assert_eq!(
        (s, check(&v)),
        (StatusCode::UNAUTHORIZED, "signature-missing")
    );
    assert_eq!(gw.state.auth_trail.failure_appends_lost(), 1);
}

#[tokio::test]
async fn a_success_is_recorded_once_per_principal_and_window_with_the_requests_covered() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let window = gw.state.config.auth_success_audit_every;
    let k = gw.principal(&[Scope::Read]).await;
    let other = gw.principal(&[Scope::Read]).await;
    for _ in 0..5 {
        let (s, _) = gw.send(gw.req(&k, Method::GET, "/v1/state", None)).await;
        assert_eq!(s, StatusCode::OK);
    }
    let successes = of_kind(&gw, "auth.success");
    assert_eq!(successes.len(), 1);
    assert_eq!(field(&successes[0], "principal"), k.did.as_str());
    assert_eq!(field(&successes[0], "method"), "signature");
    assert_eq!(field(&successes[0], "previous_window_requests"), 0);
    let opened_ms = gw.clock.now_ms();

    gw.clock.advance_ms(window.as_millis() as i64 - 1);
    gw.send(gw.req(&k, Method::GET, "/v1/state", None)).await;
    assert_eq!(
        of_kind(&gw, "auth.success").len(),
        1,
        "still the same window"
    );
    gw.send(gw.req(&other, Method::GET, "/v1/state", None))
        .await;
    assert_eq!(
        of_kind(&gw, "auth.success").len(),
        2,
        "each principal has its own"
    );

    gw.clock.advance_ms(1);
    gw.send(gw.req(&k, Method::GET, "/v1/state", None)).await;
    let successes = of_kind(&gw, "auth.success");
    assert_eq!(successes.len(), 3);
    let e = &successes[2];
    assert_eq!(field(e, "principal"), k.did.as_str());
    assert_eq!(field(e, "previous_window_requests"), 6);
    assert_eq!(field(e, "previous_window_start_ms"), opened_ms);
}

#[tokio::test]
async fn a_success_that_cannot_be_recorded_refuses_the_request() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let k = gw.principal(&[Scope::Read, Scope::Trade]).await;
    gw.audit.set_failing(true);
    let (s, v) = gw.send(gw.req(&k, Method::GET, "/v1/state", None)).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(
        v["type"].as_str(),
        Some("urn:tradeguard:problem:audit-unavailable")
    );
    assert!(v["detail"].as_str().unwrap().contains("audit log"));
    // Not recorded, so the next request tries again (and is refused again).
    let (s, _) = gw.send(gw.req(&k, Method::GET, "/v1/state", None)).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    gw.audit.set_failing(false);
    let (s, _) = gw.send(gw.req(&k, Method::GET, "/v1/state", None)).await;
    assert_eq!(s, StatusCode::OK);
    let successes = of_kind(&gw, "auth.success");
    assert_eq!(successes.len(), 1);
    assert_eq!(field(&successes[0], "previous_window_requests"), 0);
}

#[tokio::test]
async fn sessions_ended_by_a_halt_and_by_expiry_are_audited() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let k = gw.principal(&[Scope::Read, Scope::Halt]).await;
    for _ in 0..2 {
        let (s, _) = gw
            .send(gw.req(&k, Method::POST, "/v1/sessions", Some(json!({}))))
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (s, _) = gw
        .send(gw.req(
            &k,
            Method::POST,
            "/v1/halt",
            Some(json!({"reason": "drill"})),
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    let ended = of_kind(&gw, "session.ended");
    assert_eq!(ended.len(), 1);
    assert_eq!(
        (field(&ended[0], "reason"), field(&ended[0], "count")),
        (json!("halt"), json!(2))
    );

    let (s, _) = gw
        .send(gw.req(&k, Method::POST, "/v1/sessions", Some(json!({}))))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    gw.clock
        .advance_ms(gw.state.config.session_ttl.as_millis() as i64 + 1);
    let cleanup =
        tradeguard_gateway::api::spawn_session_cleanup(gw.state.clone(), Duration::from_secs(3600));
    for _ in 0..1_000 {
        if of_kind(&gw, "session.ended").len() == 2 {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cleanup.abort();
    let ended = of_kind(&gw, "session.ended");
    assert_eq!(ended.len(), 2, "{ended:?}");
    assert_eq!(
        (field(&ended[1], "reason"), field(&ended[1], "count")),
        (json!("expired"), json!(1))
    );
}
