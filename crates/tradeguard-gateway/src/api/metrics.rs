//! `GET /metrics` (scope `read`, like every read: a signed request or a session) and the
//! layer that counts every answered request under its route template.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{DASHBOARD_PATH, ENDPOINTS, PUBLIC_ENDPOINTS};
use crate::auth::Authenticated;
use crate::evidence::EvidenceError;
use crate::metrics::{CONTENT_TYPE, Gauges, render};
use crate::principal::Principal;
use crate::state::AppState;

/// The path of the Prometheus exposition.
pub const METRICS_PATH: &str = "/metrics";

/// `GET /metrics`: the Prometheus text exposition of this replica's counters and the state
/// it reads at scrape time. A part that cannot be read is left out (and logged) rather than
/// failing the scrape.
pub async fn get(State(state): State<AppState>, _auth: Authenticated<Principal, ()>) -> Response {
    let gauges = gauges(&state).await;
    let body = render(&state.metrics, &gauges);
    (
        [
            (header::CONTENT_TYPE, CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn gauges(state: &AppState) -> Gauges {
    let now = state.clock.now_ms();
    let sessions_live = state
        .store
        .gw_sessions_live(now)
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "metrics: live sessions not counted"))
        .ok();
    let (audit_entries, audit_checkpoint_size) = match &state.evidence {
        Some(evidence) => {
            let warn =
                |e: &EvidenceError| tracing::warn!(error = %e, "metrics: audit log not read");
            let size = evidence.size().await.inspect_err(warn).ok();
            let checkpoint = evidence.checkpoint().await.inspect_err(warn).ok().flatten();
            // The gateway's own checkpoint, read back from its store: its size only.
            (size, checkpoint.map(|c| c.unverified().size()))
        }
        None => (None, None),
    };
    Gauges {
        trading: Some(state.trading.mode()),
        lockouts: state.lockouts.active(now),
        sessions_live,
        intents: state.intents.as_ref().map(|i| i.stats()),
        audit_entries,
        audit_checkpoint_size,
    }
}

/// Counts the answer to every request, labelled with its route template (`other` for a
/// path no route matches), so a label never holds a raw path.
pub async fn count(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = route_template(req.uri().path());
    let resp = next.run(req).await;
    state.metrics.request(&method, route, resp.status());
    resp
}

/// The template of the route serving `path`, or `other`.
pub fn route_template(path: &str) -> &'static str {
    ENDPOINTS
        .iter()
        .map(|e| e.path)
        .chain(PUBLIC_ENDPOINTS.iter().map(|(_, p)| *p))
        .chain([DASHBOARD_PATH])
        .find(|t| matches_template(t, path))
        .unwrap_or("other")
}

/// True when `path` has the segments of `template`, a `{param}` matching any non-empty one.
fn matches_template(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) if a.starts_with('{') && a.ends_with('}') && !b.is_empty() => {}
            _ => return false,
        }
    }
}

/// The OpenAPI answer of `GET /metrics`.
pub fn openapi_answer() -> Value {
    json!({"description": "Prometheus text exposition format 0.0.4: HTTP requests by route template and status class, authentication refusals by check, orders submitted / refused by reason / placed / failed, trading state, halts, lockouts, sessions, sealed-intent counters and the audit log size",
        "content": {"text/plain": {"schema": {"type": "string"}}}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_templates_only() {
        let cases = [
            ("/v1/state", "/v1/state"),
            ("/v1/orders/abc", "/v1/orders/{id}"),
            ("/v1/orders", "/v1/orders"),
            ("/v1/orders/", "other"),
            ("/v1/orders/a/b", "other"),
            ("/v1/principals/did:key:z6Mk", "/v1/principals/{keyid}"),
            ("/metrics", "/metrics"),
            ("/", "/"),
            ("//", "other"),
            ("/v1/audit/proof/inclusion", "/v1/audit/proof/inclusion"),
            ("/wp-admin/../etc/passwd", "other"),
        ];
        for (i, (path, want)) in cases.iter().enumerate() {
            assert_eq!(route_template(path), *want, "TC{i} failed: {path}");
        }
    }
}
