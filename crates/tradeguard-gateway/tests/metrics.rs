//! `GET /metrics`: refused without authentication, served to a `read` signature or session,
//! strict Prometheus text (format 0.0.4) whose counters move with the requests made, with
//! route templates (never raw paths) and no principal id in it.

mod common;

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::json;
use tower::ServiceExt;
use tradeguard_gateway::clock::Clock;
use tradeguard_gateway::scope::Scope;
use tradeguard_httpsig::SigningKey;

/// One series: metric name and its labels, sorted.
type Series = (String, Vec<(String, String)>);

/// A strict parser of the text exposition format 0.0.4 (counters and gauges): every sample
/// belongs to a family declared once by `# TYPE` before it, families are contiguous, label
/// names and values are well formed, no series repeats, and the text ends with a newline.
fn parse(text: &str) -> Result<BTreeMap<Series, f64>, String> {
    if !text.ends_with('\n') {
        return Err("the exposition must end with a newline".into());
    }
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut helps: Vec<String> = Vec::new();
    let mut closed: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let at = |e: &str| format!("line {}: {e}: {line:?}", n + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _) = rest
                .split_once(' ')
                .ok_or_else(|| at("HELP without text"))?;
            check_name(name).map_err(|e| at(&e))?;
            if helps.iter().any(|h| h == name) {
                return Err(at("second HELP"));
            }
            helps.push(name.to_owned());
            enter(&mut current, &mut closed, name).map_err(|e| at(&e))?;
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .ok_or_else(|| at("TYPE without kind"))?;
            check_name(name).map_err(|e| at(&e))?;
            if !matches!(kind, "counter" | "gauge") {
                return Err(at("unexpected type"));
            }
            if types.insert(name.to_owned(), kind.to_owned()).is_some() {
                return Err(at("second TYPE"));
            }
            enter(&mut current, &mut closed, name).map_err(|e| at(&e))?;
        } else if line.starts_with('#') || line.is_empty() {
            return Err(at("unexpected comment or blank line"));
        } else {
            let (series, value) = sample(line).map_err(|e| at(&e))?;
            if current.as_deref() != Some(series.0.as_str()) || !types.contains_key(&series.0) {
                return Err(at("sample outside its TYPE-declared family"));
            }
            if types[&series.0] == "counter" && value < 0.0 {
                return Err(at("negative counter"));
            }
            if out.insert(series, value).is_some() {
                return Err(at("series repeated"));
            }
        }
    }
    Ok(out)
}

fn enter(current: &mut Option<String>, closed: &mut Vec<String>, name: &str) -> Result<(), String> {
    if current.as_deref() == Some(name) {
        return Ok(());
    }
    if closed.iter().any(|c| c == name) {
        return Err("family split in two".into());
    }
    if let Some(c) = current.take() {
        closed.push(c);
    }
    *current = Some(name.to_owned());
    Ok(())
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = name.chars().enumerate().all(|(i, c)| {
        c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
    });
    if ok && !name.is_empty() {
        Ok(())
    } else {
        Err(format!("bad metric name {name:?}"))
    }
}

fn sample(line: &str) -> Result<(Series, f64), String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    check_name(name)?;
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        let mut s = after;
        loop {
            if let Some(r) = s.strip_prefix('}') {
                rest = r;
                break;
            }
            let eq = s.find('=').ok_or("label without =")?;
            let label = &s[..eq];
            let valid = !label.is_empty()
                && label.chars().enumerate().all(|(i, c)| {
                    c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit())
                });
            if !valid || label.starts_with("__") {
                return Err(format!("bad label name {label:?}"));
            }
            let mut chars = s[eq + 1..]
                .strip_prefix('"')
                .ok_or("unquoted label value")?
                .chars();
            let mut value = String::new();
            loop {
                match chars.next().ok_or("unterminated label value")? {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        _ => return Err("bad escape".into()),
                    },
                    '\n' => return Err("newline in label value".into()),
                    c => value.push(c),
                }
            }
            if labels.iter().any(|(l, _): &(String, String)| l == label) {
                return Err(format!("label {label} repeated"));
            }
            labels.push((label.to_owned(), value));
            s = chars.as_str();
            s = s.strip_prefix(',').unwrap_or(s);
        }
    }
    let value = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let value: f64 = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().map_err(|_| format!("bad value {v:?}"))?,
    };
    labels.sort();
    Ok(((name.to_owned(), labels), value))
}

fn get(m: &BTreeMap<Series, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut l: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.sort();
    m.get(&(name.to_owned(), l)).copied().unwrap_or(0.0)
}

fn order(id: &str, qty: &str) -> serde_json::Value {
    json!({"client_order_id": id, "profile": "p1", "symbol": "BTC/USD", "side": "buy",
           "type": "limit", "price": "50000", "quantity": qty})
}

/// Status, content type and text of one request.
async fn raw(gw: &Gw, req: Request<Body>) -> (StatusCode, String, String) {
    let resp = gw.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, ct, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn parser_refuses_what_the_format_forbids() {
    let cases = [
        "x 1\n",
        "# TYPE x counter\nx 1",
        "# TYPE x counter\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n",
        "# TYPE x counter\n# TYPE y gauge\ny 1\n# TYPE x counter\n",
        "# TYPE x counter\nx{a=1} 1\n",
        "# TYPE x counter\nx{a=\"\\t\"} 1\n",
        "# TYPE x counter\nx -1\n",
        "# TYPE x summary\nx 1\n",
        "# TYPE 1x counter\n1x 1\n",
        "# TYPE x counter\nx  1\n",
    ];
    for (i, text) in cases.iter().enumerate() {
        assert!(parse(text).is_err(), "TC{i} failed: accepted {text:?}");
    }
    let ok = parse("# HELP x a \\n b\n# TYPE x counter\nx{a=\"q\\\"\\\\\",b=\"\"} 3\n").unwrap();
    assert_eq!(get(&ok, "x", &[("a", "q\"\\"), ("b", "")]), 3.0);
}

#[tokio::test]
async fn metrics_need_authentication() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let anonymous = Request::get("/metrics")
        .header("host", HOST)
        .body(Body::empty())
        .unwrap();
    let (s, v) = gw.send(anonymous).await;
    assert_eq!(
        (s, check(&v)),
        (StatusCode::UNAUTHORIZED, "signature-missing")
    );
    let bad = Request::get("/metrics")
        .header("host", HOST)
        .header("authorization", "Bearer tgs_unknown")
        .body(Body::empty())
        .unwrap();
    let (s, v) = gw.send(bad).await;
    assert_eq!((s, check(&v)), (StatusCode::UNAUTHORIZED, "session"));
    let trader = gw.principal(&[Scope::Trade]).await;
    let (s, v) = gw
        .send(gw.req(&trader, Method::GET, "/metrics", None))
        .await;
    assert_eq!((s, check(&v)), (StatusCode::FORBIDDEN, "scope"));
}

/// The operator's scrape token opens `GET /metrics` and nothing else, survives a halt, and
/// stops working once replaced or revoked; an unknown one is refused.
#[tokio::test]
async fn the_metrics_token_opens_metrics_only() {
    use tradeguard_gateway::auth::{METRICS_SCRAPER, METRICS_TOKEN_META};
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let token = format!("tgm_{}", "A".repeat(43));
    let with = |path: &str, token: &str| {
        Request::get(path)
            .header("host", HOST)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let (s, v) = gw.send(with("/metrics", &token)).await;
    assert_eq!(
        (s, check(&v)),
        (StatusCode::UNAUTHORIZED, "session"),
        "none issued"
    );
    let key = tradeguard_store::MetaKey::new(METRICS_TOKEN_META).unwrap();
    let hash = hex::encode(tradeguard_crypto::digest::sha256(token.as_bytes()));
    gw.state.store.meta_put(&key, &hash).await.unwrap();

    let (s, ct, text) = raw(&gw, with("/metrics", &token)).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    assert!(ct.starts_with("text/plain"), "{ct}");
    parse(&text).unwrap();
    for path in ["/v1/state", "/v1/orders", "/v1/audit/checkpoint"] {
        let (s, v) = gw.send(with(path, &token)).await;
        assert_eq!(
            (s, check(&v)),
            (StatusCode::UNAUTHORIZED, "session"),
            "{path}"
        );
    }
    let other = format!("tgm_{}", "B".repeat(43));
    let (s, _) = gw.send(with("/metrics", &other)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "another token");

    gw.state
        .trading
        .set_local(tradeguard_gateway::trading::TradingMode::Halted);
    let (s, _, _) = raw(&gw, with("/metrics", &token)).await;
    assert_eq!(s, StatusCode::OK, "still scraped while halted");
    let seen = gw.audit.events();
    assert!(
        seen.iter().any(|e| e.kind == "auth.success"
            && e.fields
                .iter()
                .any(|(k, v)| *k == "principal" && v == METRICS_SCRAPER)),
        "{:?}",
        gw.audit.kinds()
    );

    gw.state.store.meta_put(&key, "").await.unwrap();
    let (s, _) = gw.send(with("/metrics", &token)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "revoked");
}

#[tokio::test]
async fn counters_move_with_requests_and_parse_as_prometheus_text() {
    let mut config = test_config();
    config.lockout.max_failures = 2;
    let gw = gateway(tradeguard_store::testing::sqlite().await, config).await;
    let reader = gw.principal(&[Scope::Read]).await;
    let trader = gw
        .principal(&[Scope::Trade, Scope::Read, Scope::Halt])
        .await;

    let (s, ct, text) = raw(&gw, gw.req(&reader, Method::GET, "/metrics", None)).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
    let before = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        get(&before, "tradeguard_trading_state", &[("state", "active")]),
        1.0
    );
    assert_eq!(get(&before, "tradeguard_orders_submitted_total", &[]), 0.0);

    // Orders: one placed, one refused by the risk engine.
    let (s, _) = gw
        .send(gw.req(
            &trader,
            Method::POST,
            "/v1/orders",
            Some(order("m1", "0.01")),
        ))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = gw
        .send(gw.req(
            &trader,
            Method::POST,
            "/v1/orders",
            Some(order("m2", "100")),
        ))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A cancel of an unknown order: counted under the template, not the raw path.
    gw.send(gw.req(&trader, Method::DELETE, "/v1/orders/gw-raw-id", None))
        .await;
    gw.send(
        Request::get("/v1/no-such-thing")
            .header("host", HOST)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    // Authentication failures: stale, replayed, unknown key, bad digest.
    let now = gw.clock.now_secs() as u64;
    let sk = SigningKey::Ed25519(&reader.sk);
    let stale = gw.req_with(
        &sk,
        &reader.did,
        Method::GET,
        "/v1/state",
        None,
        now - 1000,
        &gw.nonce(),
    );
    assert_eq!(check(&gw.send(stale).await.1), "created-window");
    let nonce = gw.nonce();
    let first = gw.req_with(
        &sk,
        &reader.did,
        Method::GET,
        "/v1/state",
        None,
        now,
        &nonce,
    );
    assert_eq!(gw.send(first).await.0, StatusCode::OK);
    let again = gw.req_with(
        &sk,
        &reader.did,
        Method::GET,
        "/v1/state",
        None,
        now,
        &nonce,
    );
    assert_eq!(check(&gw.send(again).await.1), "nonce-replay");
    let stranger = Key::new();
    assert_eq!(
        check(
            &gw.send(gw.req(&stranger, Method::GET, "/v1/state", None))
                .await
                .1
        ),
        "keyid"
    );
    let (parts, _) = gw
        .req(
            &trader,
            Method::POST,
            "/v1/orders",
            Some(order("m3", "0.01")),
        )
        .into_parts();
    let changed = Request::from_parts(parts, Body::from(order("m4", "0.01").to_string()));
    assert_eq!(check(&gw.send(changed).await.1), "content-digest");
    // The reader's key failed twice (stale, replay) and is locked at the next failure.
    let stale = gw.req_with(
        &sk,
        &reader.did,
        Method::GET,
        "/v1/state",
        None,
        now - 1000,
        &gw.nonce(),
    );
    gw.send(stale).await;
    let (s, v) = gw
        .send(gw.req(&reader, Method::GET, "/v1/state", None))
        .await;
    assert_eq!((s, check(&v)), (StatusCode::TOO_MANY_REQUESTS, "lockout"));
    // REDUCING, then a buy turned away; a session reads the metrics.
    let (s, _) = gw
        .send(gw.req(
            &trader,
            Method::POST,
            "/v1/halt",
            Some(json!({"mode": "REDUCING"})),
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = gw
        .send(gw.req(
            &trader,
            Method::POST,
            "/v1/orders",
            Some(order("m5", "0.01")),
        ))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, session) = gw
        .send(gw.req(&trader, Method::POST, "/v1/sessions", None))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let token = session["token"].as_str().unwrap();
    let by_session = Request::get("/metrics")
        .header("host", HOST)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let (s, _, text) = raw(&gw, by_session).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let m = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));

    let requests = |method: &str, route: &str, class: &str| {
        get(
            &m,
            "tradeguard_http_requests_total",
            &[("method", method), ("route", route), ("status", class)],
        )
    };
    assert_eq!(requests("GET", "/metrics", "2xx"), 1.0, "the first scrape");
    assert_eq!(requests("POST", "/v1/orders", "2xx"), 1.0);
    assert_eq!(
        requests("POST", "/v1/orders", "4xx"),
        3.0,
        "risk refusal, digest, REDUCING"
    );
    assert_eq!(requests("DELETE", "/v1/orders/{id}", "4xx"), 1.0);
    assert_eq!(requests("GET", "other", "4xx"), 1.0);
    assert_eq!(requests("GET", "/v1/state", "4xx"), 5.0);
    let auth = |c: &str| get(&m, "tradeguard_auth_refusals_total", &[("check", c)]);
    assert_eq!(auth("created-window"), 2.0);
    assert_eq!(auth("nonce-replay"), 1.0);
    assert_eq!(auth("keyid"), 1.0);
    assert_eq!(auth("content-digest"), 1.0);
    assert_eq!(auth("lockout"), 1.0);
    assert_eq!(
        get(&m, "tradeguard_lockouts_active", &[("subject", "key")]),
        1.0
    );
    assert_eq!(get(&m, "tradeguard_orders_submitted_total", &[]), 2.0);
    assert_eq!(get(&m, "tradeguard_orders_placed_total", &[]), 1.0);
    assert_eq!(get(&m, "tradeguard_orders_failed_total", &[]), 0.0);
    assert_eq!(
        get(
            &m,
            "tradeguard_orders_refused_total",
            &[("reason", "gateway_reducing")]
        ),
        1.0
    );
    let risk_refusals: f64 = m
        .iter()
        .filter(|((name, labels), _)| {
            name == "tradeguard_orders_refused_total" && !labels[0].1.starts_with("gateway_")
        })
        .map(|(_, v)| v)
        .sum();
    assert!(
        risk_refusals >= 1.0,
        "the oversized order's failed checks:\n{text}"
    );
    assert_eq!(
        get(&m, "tradeguard_trading_state", &[("state", "reducing")]),
        1.0
    );
    assert_eq!(
        get(&m, "tradeguard_trading_state", &[("state", "active")]),
        0.0
    );
    assert_eq!(
        get(&m, "tradeguard_halts_total", &[("mode", "reducing")]),
        1.0
    );
    assert_eq!(get(&m, "tradeguard_sessions_opened_total", &[]), 1.0);
    assert_eq!(get(&m, "tradeguard_sessions_active", &[]), 1.0);
    // Bounded labels: no principal, no raw path, no order id.
    for secret in [
        &reader.did,
        &trader.did,
        &stranger.did,
        "gw-raw-id",
        "no-such-thing",
        "m1",
        token,
    ] {
        assert!(!text.contains(secret), "{secret} appears in the metrics");
    }
}
