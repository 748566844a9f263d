//! Orders. `POST /v1/orders` is idempotent on `client_order_id`, refused while HALTED (and,
//! while REDUCING, for buys), checked by the risk engine and only then routed. With
//! `require_confirmation` it answers a preview and a one-time token valid for
//! `confirmation_ttl` (60 s); the same principal confirms with `{"confirmation_token": ...}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tradeguard_crypto::digest::sha256;
use tradeguard_crypto::{b64, random};
use tradeguard_risk::Order;
use tradeguard_risk::ids::{Asset, ClientOrderId, ProfileId, Symbol};
use tradeguard_risk::order::{OrderType, Side};
use tradeguard_store::gateway::{ConfirmationRow, OrderRequestRow};

use crate::audit::GatewayEvent;
use crate::auth::Authenticated;
use crate::error::{GatewayError, Result};
use crate::principal::Principal;
use crate::state::AppState;
use crate::trading::TradingMode;

/// The body of `POST /v1/orders`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// Idempotency key (also sent to the exchange).
    pub client_order_id: Option<String>,
    /// The profile placing it.
    pub profile: Option<String>,
    /// `BASE/QUOTE`.
    pub symbol: Option<String>,
    /// `buy` or `sell`.
    pub side: Option<Side>,
    /// `market` or `limit`.
    #[serde(rename = "type")]
    pub order_type: Option<String>,
    /// Limit price (decimal string, [`DECIMAL_PATTERN`]).
    #[serde(default, deserialize_with = "strict_decimal")]
    pub price: Option<Decimal>,
    /// Quantity of the base asset (decimal string, [`DECIMAL_PATTERN`]).
    #[serde(default, deserialize_with = "strict_decimal")]
    pub quantity: Option<Decimal>,
    /// Answer a preview and a confirmation token instead of executing.
    #[serde(default)]
    pub require_confirmation: bool,
    /// Confirms an earlier preview (then no other field may be set).
    pub confirmation_token: Option<String>,
}

/// The decimal strings orders accept (also in the OpenAPI document): plain digits, at most
/// 12 before the point (below the risk engine's maximum order value) and 16 after it (28
/// digits in all, what rust_decimal holds); no sign, exponent, separator or space.
pub const DECIMAL_PATTERN: &str = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,16})?$";

/// True when `s` matches [`DECIMAL_PATTERN`].
pub fn is_strict_decimal(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let int_ok =
        int == "0" || (matches!(int.len(), 1..=12) && !int.starts_with('0') && digits(int));
    int_ok && frac.is_none_or(|f| matches!(f.len(), 1..=16) && digits(f))
}

/// Deserializes an optional decimal string matching [`DECIMAL_PATTERN`] (rust_decimal alone
/// would take `1_000`, `+1` or `-1`).
fn strict_decimal<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    use serde::de::Error;
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    if !is_strict_decimal(&text) {
        return Err(D::Error::custom(
            "a decimal string such as \"0.01\" is expected",
        ));
    }
    Decimal::from_str_exact(&text)
        .map(Some)
        .map_err(|_| D::Error::custom("a decimal string such as \"0.01\" is expected"))
}

fn field<T: Clone>(v: &Option<T>, name: &str) -> Result<T> {
    v.clone()
        .ok_or_else(|| GatewayError::invalid(name, "is required"))
}

/// Builds the order: a field of the wrong shape is a 400, a combination the risk types
/// refuse (same base and quote, a price on a market order, a zero quantity) a 422.
pub fn to_order(r: &OrderRequest) -> Result<Order> {
    fn invalid(f: &'static str) -> impl Fn(tradeguard_risk::RiskError) -> GatewayError {
        move |e| GatewayError::invalid(f, e.to_string())
    }
    fn refused(f: &'static str) -> impl Fn(tradeguard_risk::RiskError) -> GatewayError {
        move |e| GatewayError::unprocessable(f, e.to_string())
    }
    let symbol = field(&r.symbol, "symbol")?;
    let (base, quote) = symbol
        .split_once('/')
        .ok_or_else(|| GatewayError::invalid("symbol", "must be BASE/QUOTE"))?;
    let symbol = Symbol::new(
        Asset::new(base).map_err(invalid("symbol"))?,
        Asset::new(quote).map_err(invalid("symbol"))?,
    )
    .map_err(refused("symbol"))?;
    let order_type = match (field(&r.order_type, "type")?.as_str(), r.price) {
        ("market", None) => OrderType::Market,
        ("limit", Some(price)) => OrderType::Limit { price },
        ("market" | "limit", _) => {
            return Err(GatewayError::unprocessable(
                "price",
                "is required for `limit` orders and refused for `market` orders",
            ));
        }
        _ => return Err(GatewayError::invalid("type", "must be `market` or `limit`")),
    };
    Order::new(
        ProfileId::new(&field(&r.profile, "profile")?).map_err(invalid("profile"))?,
        ClientOrderId::new(&field(&r.client_order_id, "client_order_id")?)
            .map_err(invalid("client_order_id"))?,
        symbol,
        field(&r.side, "side")?,
        order_type,
        field(&r.quantity, "quantity")?,
    )
    .map_err(refused("order"))
}

fn check_mode(state: &AppState, side: Side) -> Result<()> {
    let (counted, slug, reason) = match (state.trading.mode(), side) {
        (TradingMode::Halted, _) => (
            "gateway_halted",
            "trading-halted",
            "trading is HALTED; no order is accepted until the quorum resumes it",
        ),
        (TradingMode::Reducing, Side::Buy) => (
            "gateway_reducing",
            "trading-reducing",
            "trading is REDUCING; only orders that reduce exposure (sells) are accepted",
        ),
        _ => return Ok(()),
    };
    state.metrics.order_refused(counted);
    Err(GatewayError::Conflict {
        slug,
        reason: reason.into(),
    })
}

async fn audit(state: &AppState, event: GatewayEvent) -> Result<()> {
    state
        .audit
        .append(event)
        .await
        .map_err(|_| GatewayError::AuditUnavailable)
}

/// `POST /v1/orders`.
pub async fn place(
    State(state): State<AppState>,
    auth: Authenticated<Principal, OrderRequest>,
) -> Result<Response> {
    let who = auth.principal.keyid.clone();
    let mut req = auth.body;
    if let Some(token) = req.confirmation_token.take() {
        if req != OrderRequest::default() {
            return Err(GatewayError::invalid(
                "confirmation_token",
                "must be sent alone",
            ));
        }
        req = take_confirmation(&state, &token, &who).await?;
        req.require_confirmation = false;
    }
    let order = to_order(&req)?;
    check_mode(&state, order.side())?;
    if req.require_confirmation {
        return preview(&state, order, &req, &who).await;
    }
    let canonical = serde_json::to_vec(&req).map_err(|_| GatewayError::Internal {
        reason: "serialize".into(),
    })?;
    let claim = OrderRequestRow {
        client_order_id: order.client_order_id().as_str().to_owned(),
        principal: who.clone(),
        request_hash: sha256(&canonical).to_vec(),
        status: 0,
        response: String::new(),
        created_ms: state.clock.now_ms(),
    };
    if let Some(prev) = state.store.gw_order_request_claim(&claim).await? {
        return replay(prev, &claim);
    }
    let id = claim.client_order_id.clone();
    let result = execute(&state, order, &who).await;
    let (status, body) = match &result {
        Ok(v) => (
            StatusCode::CREATED,
            serde_json::to_value(v).unwrap_or(Value::Null),
        ),
        Err(GatewayError::RiskRefused { .. }) | Err(GatewayError::Exchange { .. }) => {
            let p = result.as_ref().err().map(GatewayError::problem);
            let status = StatusCode::from_u16(p.as_ref().map_or(500, |p| p.status))
                .unwrap_or(StatusCode::BAD_GATEWAY);
            (status, serde_json::to_value(p).unwrap_or(Value::Null))
        }
        Err(_) => {
            // Nothing happened (audit, halt, storage): release the key so a retry may run.
            state.store.gw_order_request_release(&id).await?;
            return result.map(|_| unreachable_response());
        }
    };
    state
        .store
        .gw_order_request_complete(&id, i64::from(status.as_u16()), &body.to_string())
        .await?;
    result.map(|v| (StatusCode::CREATED, Json(v)).into_response())
}

fn unreachable_response() -> Response {
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

fn replay(prev: OrderRequestRow, claim: &OrderRequestRow) -> Result<Response> {
    if prev.principal != claim.principal || prev.request_hash != claim.request_hash {
        return Err(GatewayError::Conflict {
            slug: "idempotency-key-reused",
            reason:
                "client_order_id was already used for another request; use a new client_order_id"
                    .into(),
        });
    }
    if prev.status == 0 {
        return Err(GatewayError::Conflict {
            slug: "request-in-flight",
            reason: "the first request with this client_order_id is still running; retry shortly"
                .into(),
        });
    }
    let status =
        StatusCode::from_u16(u16::try_from(prev.status).unwrap_or(500)).unwrap_or(StatusCode::OK);
    let body: Value = serde_json::from_str(&prev.response).unwrap_or(Value::Null);
    let mut resp = (status, Json(body)).into_response();
    if !status.is_success() {
        resp.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static(crate::problem::PROBLEM_JSON),
        );
    }
    resp.headers_mut().insert(
        "idempotent-replay",
        axum::http::HeaderValue::from_static("true"),
    );
    Ok(resp)
}

async fn execute(state: &AppState, order: Order, who: &str) -> Result<crate::venue::OrderView> {
    let event = GatewayEvent::new("order.submit")
        .field("principal", who)
        .field("client_order_id", order.client_order_id().as_str())
        .field("symbol", order.symbol().to_string());
    audit(state, event).await?;
    state.metrics.order_submitted();
    let checked = match state.risk.check(order).await {
        Ok(c) => c,
        Err(r) => {
            count_refusal(state, &r);
            let reasons = if r.reasons.is_empty() {
                "no risk profile or market data for this order".to_owned()
            } else {
                r.to_string()
            };
            // The refusal stands either way; the log records why (no secret in risk reasons).
            let refused = GatewayEvent::new("order.refused")
                .field("principal", who)
                .field("client_order_id", r.order.client_order_id().as_str())
                .field("reasons", reasons.as_str());
            if let Err(e) = state.audit.append(refused).await {
                tracing::error!(error = %e, "risk refusal not audited");
            }
            return Err(GatewayError::RiskRefused { reasons });
        }
    };
    let _shared = state.order_gate.read().await;
    check_mode(state, checked.approved.get().side())?;
    let placed = state.router.place(checked.approved).await;
    match &placed {
        Ok(_) => state.metrics.order_placed(),
        Err(_) => state.metrics.order_failed(),
    }
    placed.map_err(|e| GatewayError::Exchange {
        reason: e.to_string(),
    })
}

/// Counts a risk refusal once per failed check.
fn count_refusal(state: &AppState, r: &tradeguard_risk::check::Refusal) {
    if r.reasons.is_empty() {
        state.metrics.order_refused("no_profile_or_market_data");
    }
    for reason in &r.reasons {
        state.metrics.order_refused(reason.code());
    }
}

async fn preview(
    state: &AppState,
    order: Order,
    req: &OrderRequest,
    who: &str,
) -> Result<Response> {
    let checked = state
        .risk
        .check(order)
        .await
        .map_err(|r| GatewayError::RiskRefused {
            reasons: r.to_string(),
        })?;
    let raw = random::array::<32>().map_err(|_| GatewayError::Internal {
        reason: "rng".into(),
    })?;
    let token = format!("tgc_{}", b64::encode(&raw));
    let ttl = i64::try_from(state.config.confirmation_ttl.as_millis()).unwrap_or(60_000);
    let expires = state.clock.now_ms() + ttl;
    let mut stored = req.clone();
    stored.require_confirmation = false;
    let row = ConfirmationRow {
        token_hash: sha256(token.as_bytes()).to_vec(),
        principal: who.to_owned(),
        request: serde_json::to_string(&stored).unwrap_or_default(),
        expires_ms: expires,
    };
    state.store.gw_confirmation_insert(&row).await?;
    let body = json!({"preview": {"verdict": "approved", "estimate": checked.estimate},
        "confirmation_token": token, "expires_ms": expires});
    Ok((StatusCode::OK, Json(body)).into_response())
}

async fn take_confirmation(state: &AppState, token: &str, who: &str) -> Result<OrderRequest> {
    let invalid = || GatewayError::Conflict {
        slug: "confirmation-invalid",
        reason: "unknown, used, expired or foreign confirmation token; request a new preview"
            .into(),
    };
    let row = state
        .store
        .gw_confirmation_take(&sha256(token.as_bytes()))
        .await?
        .ok_or_else(invalid)?;
    if row.principal != who || row.expires_ms <= state.clock.now_ms() {
        return Err(invalid());
    }
    serde_json::from_str(&row.request).map_err(|_| invalid())
}

/// `DELETE /v1/orders/{id}`.
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: Authenticated<Principal, ()>,
) -> Result<Json<crate::venue::OrderView>> {
    let event = GatewayEvent::new("order.cancel")
        .field("principal", auth.principal.keyid.as_str())
        .field("order", id.as_str());
    audit(&state, event).await?;
    state
        .router
        .cancel(&id)
        .await
        .map(Json)
        .map_err(|e| match e {
            crate::venue::VenueError::NotFound(_) => GatewayError::NotFound {
                what: "order".into(),
            },
            other => GatewayError::Exchange {
                reason: other.to_string(),
            },
        })
}

/// `GET /v1/orders`.
pub async fn list(
    State(state): State<AppState>,
    _auth: Authenticated<Principal, ()>,
) -> Result<Json<Value>> {
    let orders = state
        .router
        .orders()
        .await
        .map_err(|e| GatewayError::Exchange {
            reason: e.to_string(),
        })?;
    Ok(Json(json!({"orders": orders})))
}

/// `GET /v1/balances`.
pub async fn balances(
    State(state): State<AppState>,
    _auth: Authenticated<Principal, ()>,
) -> Result<Json<Value>> {
    let balances = state
        .router
        .balances()
        .await
        .map_err(|e| GatewayError::Exchange {
            reason: e.to_string(),
        })?;
    Ok(Json(json!({"balances": balances})))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strict_decimals() {
        let cases = [
            ("0", true),
            ("0.01", true),
            ("50000", true),
            ("999999999999.9999999999999999", true),
            ("1000000000000", false),
            ("0.12345678901234567", false),
            ("01", false),
            ("1.", false),
            (".5", false),
            ("+1", false),
            ("-1", false),
            ("1_000", false),
            ("1e3", false),
            (" 1", false),
            ("", false),
        ];
        for (i, (s, ok)) in cases.iter().enumerate() {
            assert_eq!(is_strict_decimal(s), *ok, "TC{} failed: {s:?}", i + 1);
        }
    }

    proptest! {
        /// Whatever passes the pattern parses exactly and prints back unchanged.
        #[test]
        fn strict_decimals_parse_and_round_trip(s in "[0-9.+e_ -]{0,32}") {
            if is_strict_decimal(&s) {
                let d = Decimal::from_str_exact(&s).expect("a strict decimal parses");
                prop_assert_eq!(d.to_string(), s);
            }
        }

        #[test]
        fn well_formed_decimals_always_pass(int in "0|[1-9][0-9]{0,11}", frac in proptest::option::of("[0-9]{1,16}")) {
            let s = match frac { Some(f) => format!("{int}.{f}"), None => int };
            prop_assert!(is_strict_decimal(&s));
            prop_assert!(Decimal::from_str_exact(&s).is_ok());
        }
    }
}
