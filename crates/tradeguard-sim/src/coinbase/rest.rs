//! Coinbase Advanced Trade REST routes under `/api/v3/brokerage`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::CoinbaseState;
use super::model::{self, ORDER_SALT, error};
use super::sign::{self, Authed};
use crate::engine::{EngineError, OrderId, OrderKind, OrderRef, OrderRequest, Side, TimeInForce};
use crate::faults::Fault;
use crate::http::{Req, json as json_resp, param, set_header};
use crate::ids::{parse_uuid, uuid_for};

type Answer = Result<Value, (u16, Value)>;

const PREFIX: &str = "/api/v3/brokerage/";

fn not_found(what: &str) -> (u16, Value) {
    (404, error("NOT_FOUND", what, what))
}

fn rate_limited() -> (u16, Value) {
    (
        429,
        json!({"errors": [{"id": "rate_limit_exceeded", "message": "Too many requests"}]}),
    )
}

impl CoinbaseState {
    /// The 429 answer of the limiter, counted in the venue's rate statistics.
    fn limited(&self) -> (u16, Value) {
        self.core.rate_stats(|s| s.limit());
        rate_limited()
    }
}

/// The single entry point of the Coinbase Advanced Trade simulator.
pub(crate) async fn handle(State(st): State<Arc<CoinbaseState>>, request: Request) -> Response {
    let req = match Req::read(request).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let now = st.core.now_ms();
    if let Some(v2) = req.path.strip_prefix("/v2/") {
        let answer = match st.limiter().public(req.ip(), now) {
            Ok(_) => {
                super::model::app_v2(&st.core.engine(), v2).ok_or_else(|| not_found("unknown path"))
            }
            Err(_) => Err(st.limited()),
        };
        return reply(answer, None);
    }
    let Some(rest) = req.path.strip_prefix(PREFIX).map(str::to_owned) else {
        return reply(Err(not_found("unknown path")), None);
    };
    let segs: Vec<&str> = rest.split('/').collect();
    let method = req.method.as_str().to_owned();
    if method == "GET" && matches!(segs.as_slice(), ["time"] | ["market", "products", ..]) {
        let spot = param(&req.query_pairs(), "product_type").is_none_or(|t| t == "SPOT");
        let answer = match st.limiter().public(req.ip(), now) {
            Ok(_) => public(&st, &segs, spot),
            Err(_) => Err(st.limited()),
        };
        return reply(answer, None);
    }
    let placing = method == "POST" && segs == ["orders"];
    match st.core.draw_faults(placing).await {
        Some(Fault::ServerError) => reply(
            Err((500, error("INTERNAL", "internal error", "internal error"))),
            None,
        ),
        Some(Fault::RateLimited | Fault::Banned) => reply(Err(rate_limited()), None),
        fault => {
            let (answer, remaining) = private(&st, &req, &method, &segs, fault, now);
            reply(answer, remaining)
        }
    }
}

fn reply(answer: Answer, remaining: Option<(u64, u64)>) -> Response {
    let mut resp = match answer {
        Ok(v) => json_resp(200, &v),
        Err((status, v)) => json_resp(status, &v),
    };
    if let Some((limit, left)) = remaining {
        set_header(&mut resp, "x-ratelimit-limit", &limit.to_string());
        set_header(&mut resp, "x-ratelimit-remaining", &left.to_string());
        set_header(&mut resp, "x-ratelimit-reset", "1");
    }
    resp
}

fn products(st: &CoinbaseState) -> Vec<Value> {
    let engine = st.core.engine();
    engine
        .markets()
        .map(|m| model::product(m, engine.top(&m.id).map_or(Decimal::ZERO, |t| t.2)))
        .collect()
}

fn public(st: &CoinbaseState, segs: &[&str], spot: bool) -> Answer {
    let now = st.core.now_ms();
    match segs {
        ["time"] => Ok(
            json!({"iso": crate::timefmt::iso8601(now), "epochSeconds": (now / 1000).to_string(), "epochMillis": now.to_string()}),
        ),
        ["market", "products"] => {
            let list = if spot { products(st) } else { Vec::new() };
            Ok(json!({"products": list, "num_products": list.len()}))
        }
        ["market", "products", id] => products(st)
            .into_iter()
            .find(|p| p["product_id"] == *id)
            .ok_or_else(|| not_found("product not found")),
        _ => Err(not_found("unknown path")),
    }
}

fn private(
    st: &CoinbaseState,
    req: &Req,
    method: &str,
    segs: &[&str],
    fault: Option<Fault>,
    now: u64,
) -> (Answer, Option<(u64, u64)>) {
    let a = match sign::verify(&st.core, &mut st.seen(), req) {
        Ok(a) => a,
        Err(why) => {
            return (
                Err((401, error("UNAUTHENTICATED", why, "Unauthorized"))),
                None,
            );
        }
    };
    let limit = st.limiter().cfg.private_burst as u64;
    let remaining = match st.limiter().private(&a.key, now) {
        Ok(left) => left,
        Err(_) => return (Err(st.limited()), Some((limit, 0))),
    };
    let writes = method == "POST";
    let scoped = match segs {
        ["key_permissions"] => true,
        _ if writes => a.permissions.trade,
        _ => a.permissions.read,
    };
    if !scoped {
        let e = error(
            "PERMISSION_DENIED",
            "Missing required scopes",
            "Missing required scopes",
        );
        return (Err((403, e)), Some((limit, remaining)));
    }
    let query = req.query_pairs();
    let answer = match (method, segs) {
        ("GET", ["accounts"]) => Ok(accounts(st, &a)),
        ("GET", ["accounts", id]) => accounts(st, &a)["accounts"]
            .as_array()
            .and_then(|l| l.iter().find(|x| x["uuid"] == *id).cloned())
            .map(|acc| json!({"account": acc}))
            .ok_or_else(|| not_found("account not found")),
        ("POST", ["orders"]) => place(st, req, &a, fault),
        ("POST", ["orders", "batch_cancel"]) => batch_cancel(st, req, &a),
        ("GET", ["orders", "historical", "batch"]) => Ok(list_orders(st, &a, &query)),
        ("GET", ["orders", "historical", "fills"]) => Ok(fills(st, &a, &query)),
        ("GET", ["orders", "historical", id]) => get_order(st, &a, id),
        ("GET", ["key_permissions"]) => Ok(key_permissions(&a)),
        ("GET", ["products"]) => {
            let list = products(st);
            Ok(json!({"products": list, "num_products": list.len()}))
        }
        ("GET", ["products", id]) => products(st)
            .into_iter()
            .find(|p| p["product_id"] == *id)
            .ok_or_else(|| not_found("product not found")),
        ("GET", ["transaction_summary"]) => Ok(transaction_summary(st)),
        _ => Err(not_found("unknown path")),
    };
    (answer, Some((limit, remaining)))
}

fn accounts(st: &CoinbaseState, a: &Authed) -> Value {
    let now = st.core.now_ms();
    let balances = st.core.engine().balances(a.account).unwrap_or_default();
    let list: Vec<Value> = balances
        .iter()
        .enumerate()
        .map(|(i, (c, b))| model::account(a.account, i as u64, c, b.free, b.locked, now))
        .collect();
    json!({"accounts": list, "has_next": false, "cursor": "", "size": list.len()})
}

fn failure(code: &str, message: &str, config: Option<&Value>) -> Value {
    json!({
        "success": false, "failure_reason": "UNKNOWN_FAILURE_REASON", "order_id": "",
        "error_response": {"error": code, "message": message, "error_details": message,
                           "preview_failure_reason": "UNKNOWN_PREVIEW_FAILURE_REASON", "new_order_failure_reason": code},
        "order_configuration": config,
    })
}

fn engine_failure(e: &EngineError) -> (&'static str, &'static str) {
    match e {
        EngineError::UnknownMarket(_) => ("INVALID_PRODUCT_ID", "invalid product_id"),
        EngineError::InsufficientBalance { .. } => (
            "INSUFFICIENT_FUND",
            "Insufficient balance in source account",
        ),
        // Not verified: exchanges.md §3.3/§7 say Coinbase's duplicate client_order_id answer is unknown.
        EngineError::DuplicateClientId => ("UNKNOWN_FAILURE_REASON", "duplicate client_order_id"),
        EngineError::InvalidQuantity(_) => ("INVALID_SIZE_PRECISION", "invalid base_size"),
        EngineError::InvalidPrice(_) => ("INVALID_PRICE_PRECISION", "invalid limit_price"),
        EngineError::MinNotional => ("INVALID_SIZE_PRECISION", "order size below the minimum"),
        EngineError::PostOnlyWouldTake => (
            "INVALID_LIMIT_PRICE_POST_ONLY",
            "post-only order would cross",
        ),
        EngineError::UnknownOrder | EngineError::OrderClosed => {
            ("UNKNOWN_FAILURE_REASON", "unknown order")
        }
        EngineError::UnknownAccount => ("UNKNOWN_FAILURE_REASON", "unknown account"),
    }
}

fn parse_order(body: &Value) -> Result<OrderRequest, (&'static str, &'static str)> {
    let bad = ("INVALID_ARGUMENT", "invalid order request");
    let client_id = body
        .get("client_order_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(("INVALID_ARGUMENT", "client_order_id is required"))?;
    let market = body
        .get("product_id")
        .and_then(Value::as_str)
        .ok_or(bad)?
        .to_owned();
    let side = match body.get("side").and_then(Value::as_str) {
        Some("BUY") => Side::Buy,
        Some("SELL") => Side::Sell,
        _ => return Err(("INVALID_SIDE", "side must be BUY or SELL")),
    };
    let cfg = body
        .get("order_configuration")
        .and_then(Value::as_object)
        .ok_or(bad)?;
    let (name, params) = cfg.iter().next().ok_or(bad)?;
    let dec = |k: &str| {
        params
            .get(k)
            .and_then(Value::as_str)
            .map(|v| Decimal::from_str_exact(v).map_err(|_| bad))
            .transpose()
    };
    let (kind, tif) = match name.as_str() {
        "market_market_ioc" => (OrderKind::Market, TimeInForce::Ioc),
        "limit_limit_gtc" => (OrderKind::Limit, TimeInForce::Gtc),
        "limit_limit_fok" => (OrderKind::Limit, TimeInForce::Fok),
        "sor_limit_ioc" => (OrderKind::Limit, TimeInForce::Ioc),
        _ => {
            return Err((
                "UNSUPPORTED_ORDER_CONFIGURATION",
                "unsupported order configuration",
            ));
        }
    };
    let (base, quote, price) = (dec("base_size")?, dec("quote_size")?, dec("limit_price")?);
    if (kind == OrderKind::Limit && (base.is_none() || price.is_none()))
        || (base.is_none() == quote.is_none())
    {
        return Err(bad);
    }
    Ok(OrderRequest {
        market,
        side,
        kind,
        tif,
        post_only: params
            .get("post_only")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        price,
        quantity: base,
        quote_quantity: if kind == OrderKind::Market {
            quote
        } else {
            None
        },
        client_id: Some(client_id.to_owned()),
    })
}

fn place(st: &CoinbaseState, req: &Req, a: &Authed, fault: Option<Fault>) -> Answer {
    let body: Value = serde_json::from_slice(&req.body).map_err(|_| {
        (
            400,
            error("INVALID_ARGUMENT", "invalid JSON body", "invalid JSON body"),
        )
    })?;
    let config = body.get("order_configuration");
    let order = match parse_order(&body) {
        Ok(o) => o,
        Err((code, msg)) => return Ok(failure(code, msg, config)),
    };
    let (market, side, client_id) = (order.market.clone(), order.side, order.client_id.clone());
    let now = st.core.now_ms();
    let id = match st.core.engine().place(a.account, order, now) {
        Ok(id) => id,
        Err(e) => {
            let (code, msg) = engine_failure(&e);
            return Ok(failure(code, msg, config));
        }
    };
    match fault {
        Some(Fault::DropAfterAccept) => {
            req.drop_connection();
            return Err((500, error("INTERNAL", "internal error", "internal error")));
        }
        Some(Fault::ServerErrorAfterAccept) => {
            return Err((500, error("INTERNAL", "internal error", "internal error")));
        }
        Some(Fault::DuplicateClientId) => {
            let (code, msg) = engine_failure(&EngineError::DuplicateClientId);
            return Ok(failure(code, msg, config));
        }
        _ => {}
    }
    let order_id = uuid_for(ORDER_SALT, id.0);
    Ok(json!({
        "success": true, "failure_reason": "UNKNOWN_FAILURE_REASON", "order_id": order_id,
        "success_response": {"order_id": order_id, "product_id": market, "side": model::side(side), "client_order_id": client_id},
        "order_configuration": config,
    }))
}

fn batch_cancel(st: &CoinbaseState, req: &Req, a: &Authed) -> Answer {
    let body: Value = serde_json::from_slice(&req.body).map_err(|_| {
        (
            400,
            error("INVALID_ARGUMENT", "invalid JSON body", "invalid JSON body"),
        )
    })?;
    let ids = body.get("order_ids").and_then(Value::as_array).ok_or((
        400,
        error(
            "INVALID_ARGUMENT",
            "order_ids is required",
            "order_ids is required",
        ),
    ))?;
    let now = st.core.now_ms();
    let mut engine = st.core.engine();
    let results: Vec<Value> = ids
        .iter()
        .filter_map(Value::as_str)
        .map(|id| {
            let outcome = parse_uuid(ORDER_SALT, id)
                .ok_or(EngineError::UnknownOrder)
                .and_then(|n| engine.cancel(a.account, &OrderRef::Id(OrderId(n)), now));
            let reason = match outcome {
                Ok(_) => "UNKNOWN_CANCEL_FAILURE_REASON",
                Err(EngineError::OrderClosed) => "DUPLICATE_CANCEL_REQUEST",
                Err(_) => "INVALID_CANCEL_REQUEST",
            };
            json!({"success": outcome.is_ok(), "failure_reason": reason, "order_id": id})
        })
        .collect();
    Ok(json!({ "results": results }))
}

fn get_order(st: &CoinbaseState, a: &Authed, id: &str) -> Answer {
    let missing = || {
        (
            404,
            error(
                "NOT_FOUND",
                "order with this orderID was not found",
                "order with this orderID was not found",
            ),
        )
    };
    let n = parse_uuid(ORDER_SALT, id).ok_or_else(missing)?;
    let engine = st.core.engine();
    let o = engine
        .order(a.account, &OrderRef::Id(OrderId(n)))
        .ok_or_else(missing)?;
    Ok(json!({ "order": model::order(o) }))
}

fn many<'a>(query: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    query
        .iter()
        .filter(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
        .flat_map(|(_, v)| v.split(','))
        .collect()
}

fn list_orders(st: &CoinbaseState, a: &Authed, query: &[(String, String)]) -> Value {
    let statuses = many(query, "order_status");
    let products = many(query, "product_ids");
    let ids = many(query, "order_ids");
    let limit = param(query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let engine = st.core.engine();
    let list: Vec<Value> = engine
        .orders(a.account)
        .into_iter()
        .rev()
        .map(model::order)
        .filter(|o| statuses.is_empty() || statuses.iter().any(|s| o["status"] == *s))
        .filter(|o| products.is_empty() || products.iter().any(|p| o["product_id"] == *p))
        .filter(|o| ids.is_empty() || ids.iter().any(|i| o["order_id"] == *i))
        .collect();
    let (list, has_next, cursor) = page(list, query, limit);
    json!({"orders": list, "sequence": "0", "has_next": has_next, "cursor": cursor})
}

/// One page of `items` (newest first) from the opaque `cursor` query parameter (an offset
/// here), `limit` long: the page, whether more follow, and the cursor of the next page
/// (empty on the last page, as Coinbase sends it).
fn page(items: Vec<Value>, query: &[(String, String)], limit: usize) -> (Vec<Value>, bool, String) {
    let from = param(query, "cursor")
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0);
    let total = items.len();
    let list: Vec<Value> = items.into_iter().skip(from).take(limit).collect();
    let next = from + list.len();
    let has_next = next < total;
    (
        list,
        has_next,
        if has_next {
            next.to_string()
        } else {
            String::new()
        },
    )
}

fn fills(st: &CoinbaseState, a: &Authed, query: &[(String, String)]) -> Value {
    let orders = many(query, "order_ids");
    let single = param(query, "order_id");
    let products = many(query, "product_ids");
    let single_product = param(query, "product_id");
    let limit = param(query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let engine = st.core.engine();
    let list: Vec<Value> = engine
        .fills(a.account)
        .into_iter()
        .rev()
        .map(model::fill)
        .filter(|f| {
            (orders.is_empty() && single.is_none())
                || orders
                    .iter()
                    .chain(single.iter())
                    .any(|o| f["order_id"] == *o)
        })
        .filter(|f| {
            (products.is_empty() && single_product.is_none())
                || products
                    .iter()
                    .chain(single_product.iter())
                    .any(|p| f["product_id"] == *p)
        })
        .collect();
    let (list, _, cursor) = page(list, query, limit);
    json!({"fills": list, "cursor": cursor})
}

fn key_permissions(a: &Authed) -> Value {
    let p = a.permissions;
    json!({"can_view": p.read, "can_trade": p.trade, "can_transfer": p.withdraw,
           "portfolio_uuid": model::portfolio(a.account), "portfolio_type": "DEFAULT"})
}

fn transaction_summary(st: &CoinbaseState) -> Value {
    let fees = *st.core.engine().fees();
    json!({
        "total_volume": 0, "total_fees": 0,
        "fee_tier": {"pricing_tier": "Advanced 1", "usd_from": "0", "usd_to": "1000",
                     "taker_fee_rate": fees.taker.to_string(), "maker_fee_rate": fees.maker.to_string()},
        "margin_rate": null, "goods_and_services_tax": null, "advanced_trade_only_volume": 0,
        "advanced_trade_only_fees": 0, "coinbase_pro_volume": 0, "coinbase_pro_fees": 0,
    })
}
