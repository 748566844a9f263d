//! The `/v1` router, `GET /metrics` and the `GET /` dashboard. Every protected route is
//! registered with the scope it needs (a [`Need`] extension read by the
//! [`crate::auth::Authenticated`] extractor); [`ENDPOINTS`] lists them for the scope-matrix
//! test and the OpenAPI document.

mod admin;
mod dashboard;
mod evidence;
mod halt;
mod metrics;
pub mod openapi;
mod orders;
mod public;
mod rebalance;
mod session;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};

pub use admin::{ApprovalRequest, NewPrincipal, check_envelope, check_new_principal};
pub use dashboard::PAGE as DASHBOARD_PAGE;
pub use halt::{HaltReport, HaltRequest};
pub use metrics::METRICS_PATH;
pub(crate) use orders::place as place_order;
pub use orders::{DECIMAL_PATTERN, OrderRequest, is_strict_decimal, to_order};
pub use rebalance::{OrderOutcome, RebalanceOutcome, RebalanceRequest, rebalance};
pub use session::SessionRequest;
pub use session::spawn_cleanup as spawn_session_cleanup;

use crate::auth::Need;
use crate::problem::Problem;
use crate::scope::Scope;
use crate::state::AppState;

/// Scopes that may call `/v1/approvals` (the handler then checks the approver list).
pub const APPROVER_SCOPES: &[Scope] = &[
    Scope::Resume,
    Scope::ManagePrincipals,
    Scope::ManageRisk,
    Scope::ManageCredentials,
];

/// One protected endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// HTTP method.
    pub method: &'static str,
    /// Path (with `{param}` placeholders).
    pub path: &'static str,
    /// The scope it needs.
    pub need: Need,
}

const fn ep(method: &'static str, path: &'static str, need: Need) -> Endpoint {
    Endpoint { method, path, need }
}

/// Every protected endpoint and its scope.
pub const ENDPOINTS: &[Endpoint] = &[
    ep("POST", "/v1/sessions", Need::Scope(Scope::Read)),
    ep("GET", "/v1/state", Need::Scope(Scope::Read)),
    ep("POST", "/v1/orders", Need::Scope(Scope::Trade)),
    ep("GET", "/v1/orders", Need::Scope(Scope::Read)),
    ep("DELETE", "/v1/orders/{id}", Need::Scope(Scope::Trade)),
    ep("GET", "/v1/balances", Need::Scope(Scope::Read)),
    ep("GET", "/v1/portfolio", Need::Scope(Scope::Read)),
    ep("POST", "/v1/rebalance/{profile}", Need::Scope(Scope::Trade)),
    ep("POST", "/v1/halt", Need::Scope(Scope::Halt)),
    ep("POST", "/v1/resume", Need::Scope(Scope::Resume)),
    ep(
        "GET",
        "/v1/principals",
        Need::Scope(Scope::ManagePrincipals),
    ),
    ep(
        "POST",
        "/v1/principals",
        Need::Scope(Scope::ManagePrincipals),
    ),
    ep(
        "DELETE",
        "/v1/principals/{keyid}",
        Need::Scope(Scope::ManagePrincipals),
    ),
    ep("PUT", "/v1/risk/limits", Need::Scope(Scope::ManageRisk)),
    ep(
        "POST",
        "/v1/credentials",
        Need::Scope(Scope::ManageCredentials),
    ),
    ep("GET", "/v1/approvals", Need::AnyOf(APPROVER_SCOPES)),
    ep("POST", "/v1/approvals", Need::AnyOf(APPROVER_SCOPES)),
    ep("GET", "/v1/audit/checkpoint", Need::Scope(Scope::Read)),
    ep("GET", "/v1/audit/entries", Need::Scope(Scope::Read)),
    ep("GET", "/v1/audit/proof/inclusion", Need::Scope(Scope::Read)),
    ep(
        "GET",
        "/v1/audit/proof/consistency",
        Need::Scope(Scope::Read),
    ),
    ep("GET", "/v1/analytics", Need::Scope(Scope::Read)),
    ep("GET", "/metrics", Need::Scope(Scope::Read)),
];

/// The dashboard page (public: it holds no data; it reads the API with a session token).
pub const DASHBOARD_PATH: &str = "/";

/// Public endpoints (no authentication at the HTTP layer; a sealed intent proves its sender
/// inside the seal).
pub const PUBLIC_ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/v1/health"),
    ("GET", "/v1/keys"),
    ("GET", "/v1/openapi.json"),
    ("POST", "/v1/intents"),
];

fn need_of(method: &str, path: &str) -> Need {
    ENDPOINTS
        .iter()
        .find(|e| e.method == method && e.path == path)
        .map(|e| e.need)
        .unwrap_or_else(|| panic!("{method} {path} is not in ENDPOINTS"))
}

/// A route for `method path` whose scope comes from [`ENDPOINTS`].
fn scoped<H, T>(method: Method, path: &'static str, handler: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let need = need_of(method.as_str(), path);
    let filter = MethodFilter::try_from(method).unwrap_or(MethodFilter::GET);
    on(filter, handler).layer(axum::Extension(need))
}

/// The `/v1` API with its body limit and problem-document fallbacks.
pub fn router(state: AppState) -> Router {
    use Method as M;
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/v1/health", axum::routing::get(public::health))
        .route("/v1/keys", axum::routing::get(public::keys))
        .route("/v1/openapi.json", axum::routing::get(public::openapi))
        .route(
            "/v1/sessions",
            scoped(M::POST, "/v1/sessions", session::open),
        )
        .route("/v1/state", scoped(M::GET, "/v1/state", halt::state))
        .route(
            "/v1/orders",
            scoped(M::POST, "/v1/orders", orders::place).merge(scoped(
                M::GET,
                "/v1/orders",
                orders::list,
            )),
        )
        .route(
            "/v1/orders/{id}",
            scoped(M::DELETE, "/v1/orders/{id}", orders::cancel),
        )
        .route(
            "/v1/balances",
            scoped(M::GET, "/v1/balances", orders::balances),
        )
        .route(
            "/v1/portfolio",
            scoped(M::GET, "/v1/portfolio", rebalance::portfolio),
        )
        .route(
            "/v1/rebalance/{profile}",
            scoped(M::POST, "/v1/rebalance/{profile}", rebalance::post),
        )
        .route("/v1/halt", scoped(M::POST, "/v1/halt", halt::halt))
        .route("/v1/resume", scoped(M::POST, "/v1/resume", admin::resume))
        .route(
            "/v1/principals",
            scoped(M::GET, "/v1/principals", admin::list_principals).merge(scoped(
                M::POST,
                "/v1/principals",
                admin::add_principal,
            )),
        )
        .route(
            "/v1/principals/{keyid}",
            scoped(M::DELETE, "/v1/principals/{keyid}", admin::remove_principal),
        )
        .route(
            "/v1/risk/limits",
            scoped(M::PUT, "/v1/risk/limits", admin::change_risk_limits),
        )
        .route(
            "/v1/credentials",
            scoped(M::POST, "/v1/credentials", admin::import_credential),
        )
        .route(
            "/v1/approvals",
            scoped(M::GET, "/v1/approvals", admin::list_approvals).merge(scoped(
                M::POST,
                "/v1/approvals",
                admin::approve,
            )),
        )
        .route("/v1/intents", axum::routing::post(crate::intents::post))
        .merge(evidence_routes())
        .route("/metrics", scoped(M::GET, "/metrics", metrics::get))
        .route(DASHBOARD_PATH, axum::routing::get(dashboard::page))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count,
        ))
        .with_state(state)
}

/// `GET /v1/audit/*` and `GET /v1/analytics` ([`evidence`]).
fn evidence_routes() -> Router<AppState> {
    use Method as M;
    let route = |path: &'static str, handler: MethodRouter<AppState>| (path, handler);
    [
        route(
            "/v1/audit/checkpoint",
            scoped(M::GET, "/v1/audit/checkpoint", evidence::checkpoint),
        ),
        route(
            "/v1/audit/entries",
            scoped(M::GET, "/v1/audit/entries", evidence::entries),
        ),
        route(
            "/v1/audit/proof/inclusion",
            scoped(M::GET, "/v1/audit/proof/inclusion", evidence::inclusion),
        ),
        route(
            "/v1/audit/proof/consistency",
            scoped(M::GET, "/v1/audit/proof/consistency", evidence::consistency),
        ),
        route(
            "/v1/analytics",
            scoped(M::GET, "/v1/analytics", evidence::analytics),
        ),
    ]
    .into_iter()
    .fold(Router::new(), |r, (path, handler)| r.route(path, handler))
}

async fn not_found() -> Problem {
    Problem::new(
        "not-found",
        "Not found",
        axum::http::StatusCode::NOT_FOUND,
        "no such endpoint; see /v1/openapi.json",
    )
}

async fn method_not_allowed() -> Problem {
    Problem::new(
        "method-not-allowed",
        "Method not allowed",
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "this endpoint does not accept this method",
    )
}
