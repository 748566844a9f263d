//! Coinbase Exchange REST routes: `/time`, `/products`, `/currencies` (public) and `/accounts`,
//! `/orders`, `/fills` (CB-ACCESS-* signed).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::ExchangeState;
use super::model::{self, ORDER_SALT, message};
use super::sign::{self, Authed};
use crate::engine::{EngineError, OrderId, OrderKind, OrderRef, OrderRequest, Side, TimeInForce};
use crate::faults::Fault;
use crate::http::{Req, json as json_resp, param};
use crate::ids::parse_uuid;

type Answer = Result<(u16, Value), (u16, String)>;

fn fail(status: u16, msg: &str) -> (u16, String) {
    (status, msg.to_owned())
}

/// The single entry point of the Coinbase Exchange simulator.
pub(crate) async fn handle(State(st): State<Arc<ExchangeState>>, request: Request) -> Response {
    let req = match Req::read(request).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let now = st.core.now_ms();
    let method = req.method.as_str().to_owned();
    let segs: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    if let Some(answer) = public(&st, &method, &segs, &req) {
        return reply(answer);
    }
    let placing = method == "POST" && segs == ["orders"];
    match st.core.draw_faults(placing).await {
        Some(Fault::ServerError) => json_resp(500, &message("Internal server error")),
        Some(Fault::RateLimited | Fault::Banned) => {
            json_resp(429, &message("Private rate limit exceeded"))
        }
        fault => reply(private(&st, &req, &method, &segs, fault, now)),
    }
}

fn reply(answer: Answer) -> Response {
    match answer {
        Ok((status, body)) => json_resp(status, &body),
        Err((status, msg)) => json_resp(status, &message(&msg)),
    }
}

fn public(st: &ExchangeState, method: &str, segs: &[&str], req: &Req) -> Option<Answer> {
    if method != "GET" || !matches!(segs.first(), Some(&"time" | &"products" | &"currencies")) {
        return None;
    }
    let now = st.core.now_ms();
    if !st.limiter().public(req.ip(), now) {
        st.core.rate_stats(|s| s.limit());
        return Some(Err(fail(429, "Public rate limit exceeded")));
    }
    let engine = st.core.engine();
    let markets: Vec<_> = engine.markets().cloned().collect();
    Some(match segs {
        ["time"] => Ok((
            200,
            json!({"iso": crate::timefmt::iso8601(now), "epoch": now as f64 / 1000.0}),
        )),
        ["products"] => Ok((
            200,
            Value::Array(markets.iter().map(model::product).collect()),
        )),
        ["products", id] => markets
            .iter()
            .find(|m| m.id == *id)
            .map(|m| (200, model::product(m)))
            .ok_or_else(|| fail(404, "NotFound")),
        ["currencies"] => {
            let mut ids: Vec<String> = markets
                .iter()
                .flat_map(|m| [m.base.clone(), m.quote.clone()])
                .collect();
            ids.sort();
            ids.dedup();
            Ok((
                200,
                Value::Array(ids.iter().map(|c| model::currency(c)).collect()),
            ))
        }
        _ => Err(fail(404, "NotFound")),
    })
}

fn private(
    st: &ExchangeState,
    req: &Req,
    method: &str,
    segs: &[&str],
    fault: Option<Fault>,
    now: u64,
) -> Answer {
    let a = sign::verify(&st.core, req).map_err(|(s, m)| fail(s, m))?;
    if !st
        .limiter()
        .private(a.account, segs.first() == Some(&"fills"), now)
    {
        st.core.rate_stats(|s| s.limit());
        return Err(fail(429, "Private rate limit exceeded"));
    }
    let writes = method != "GET";
    if (writes && !a.permissions.trade) || (!writes && !a.permissions.read) {
        return Err(fail(403, "Forbidden"));
    }
    let query = req.query_pairs();
    match (method, segs) {
        ("GET", ["accounts"]) => Ok((200, accounts(st, &a))),
        ("POST", ["orders"]) => place(st, req, &a, fault),
        ("DELETE", ["orders", id]) => cancel(st, &a, id, now),
        ("DELETE", ["orders"]) => cancel_all(st, &a, param(&query, "product_id"), now),
        ("GET", ["orders", id]) => get_order(st, &a, id),
        ("GET", ["orders"]) => Ok((200, list_orders(st, &a, &query))),
        ("GET", ["fills"]) => fills(st, &a, &query),
        _ => Err(fail(404, "NotFound")),
    }
}

fn accounts(st: &ExchangeState, a: &Authed) -> Value {
    let balances = st.core.engine().balances(a.account).unwrap_or_default();
    let list = balances
        .iter()
        .enumerate()
        .map(|(i, (c, b))| model::account(a.account, i as u64, c, b.free, b.locked));
    Value::Array(list.collect())
}

fn parse_order(body: &Value) -> Result<OrderRequest, (u16, String)> {
    let s = |k: &str| body.get(k).and_then(Value::as_str);
    let d = |k: &str| {
        s(k).map(|v| Decimal::from_str_exact(v).map_err(|_| fail(400, &format!("Invalid {k}"))))
            .transpose()
    };
    let market = s("product_id")
        .ok_or_else(|| fail(400, "product_id is required"))?
        .to_owned();
    let side = match s("side") {
        Some("buy") => Side::Buy,
        Some("sell") => Side::Sell,
        _ => return Err(fail(400, "Invalid side")),
    };
    let kind = match s("type").unwrap_or("limit") {
        "limit" => OrderKind::Limit,
        "market" => OrderKind::Market,
        _ => return Err(fail(400, "Invalid order type")),
    };
    let tif = match s("time_in_force").unwrap_or("GTC") {
        "GTC" => TimeInForce::Gtc,
        "IOC" => TimeInForce::Ioc,
        "FOK" => TimeInForce::Fok,
        _ => return Err(fail(400, "Invalid time_in_force")),
    };
    let (price, size, funds) = (d("price")?, d("size")?, d("funds")?);
    if kind == OrderKind::Limit && (price.is_none() || size.is_none()) {
        return Err(fail(400, "price and size are required for limit orders"));
    }
    if kind == OrderKind::Market && size.is_none() == funds.is_none() {
        return Err(fail(400, "market orders need either size or funds"));
    }
    Ok(OrderRequest {
        market,
        side,
        kind,
        tif: if kind == OrderKind::Market {
            TimeInForce::Ioc
        } else {
            tif
        },
        post_only: body
            .get("post_only")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        price: if kind == OrderKind::Limit {
            price
        } else {
            None
        },
        quantity: size,
        quote_quantity: if kind == OrderKind::Market {
            funds
        } else {
            None
        },
        client_id: s("client_oid").map(str::to_owned),
    })
}

fn engine_error(e: EngineError) -> (u16, String) {
    match e {
        EngineError::UnknownMarket(_) => fail(400, "Product not found"),
        EngineError::InsufficientBalance { .. } => fail(400, "Insufficient funds"),
        // Not verified against Coinbase's documentation (exchanges.md §7).
        EngineError::DuplicateClientId => fail(400, "duplicate client_oid"),
        EngineError::InvalidQuantity(_) => {
            fail(400, "size is too small or not a multiple of base_increment")
        }
        EngineError::InvalidPrice(_) => fail(400, "price too precise"),
        EngineError::MinNotional => fail(400, "size is too small"),
        EngineError::PostOnlyWouldTake => fail(400, "Post only mode: order would take liquidity"),
        EngineError::UnknownOrder => fail(404, "NotFound"),
        EngineError::OrderClosed => fail(400, "Order already done"),
        EngineError::UnknownAccount => fail(401, "Invalid API Key"),
    }
}

fn place(st: &ExchangeState, req: &Req, a: &Authed, fault: Option<Fault>) -> Answer {
    let body: Value =
        serde_json::from_slice(&req.body).map_err(|_| fail(400, "Invalid JSON body"))?;
    let order = parse_order(&body)?;
    let now = st.core.now_ms();
    let mut engine = st.core.engine();
    let id = engine.place(a.account, order, now).map_err(engine_error)?;
    let placed = engine
        .order(a.account, &OrderRef::Id(id))
        .cloned()
        .ok_or_else(|| fail(500, "Internal server error"))?;
    drop(engine);
    match fault {
        Some(Fault::DropAfterAccept) => {
            req.drop_connection();
            Err(fail(500, "Internal server error"))
        }
        Some(Fault::ServerErrorAfterAccept) => Err(fail(500, "Internal server error")),
        Some(Fault::DuplicateClientId) => Err(engine_error(EngineError::DuplicateClientId)),
        _ => Ok((200, model::order(&placed))),
    }
}

fn order_ref(id: &str) -> Result<OrderRef, (u16, String)> {
    if let Some(c) = id.strip_prefix("client:") {
        return Ok(OrderRef::Client(c.to_owned()));
    }
    parse_uuid(ORDER_SALT, id)
        .map(|n| OrderRef::Id(OrderId(n)))
        .ok_or_else(|| fail(400, "Invalid order id"))
}

fn cancel(st: &ExchangeState, a: &Authed, id: &str, now: u64) -> Answer {
    let r = order_ref(id)?;
    let mut engine = st.core.engine();
    let cancelled = engine.cancel(a.account, &r, now).map_err(engine_error)?;
    Ok((200, json!(crate::ids::uuid_for(ORDER_SALT, cancelled.0))))
}

fn cancel_all(st: &ExchangeState, a: &Authed, product: Option<&str>, now: u64) -> Answer {
    let mut engine = st.core.engine();
    let open: Vec<OrderId> = engine
        .open_orders(a.account, product)
        .iter()
        .map(|o| o.id)
        .collect();
    let mut done = Vec::new();
    for id in open {
        if engine.cancel(a.account, &OrderRef::Id(id), now).is_ok() {
            done.push(json!(crate::ids::uuid_for(ORDER_SALT, id.0)));
        }
    }
    Ok((200, Value::Array(done)))
}

fn get_order(st: &ExchangeState, a: &Authed, id: &str) -> Answer {
    let r = order_ref(id)?;
    let engine = st.core.engine();
    engine
        .order(a.account, &r)
        .map(|o| (200, model::order(o)))
        .ok_or_else(|| fail(404, "NotFound"))
}

fn list_orders(st: &ExchangeState, a: &Authed, query: &[(String, String)]) -> Value {
    let statuses: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "status")
        .map(|(_, v)| v.as_str())
        .collect();
    let want_open = statuses.is_empty()
        || statuses
            .iter()
            .any(|s| matches!(*s, "open" | "pending" | "active" | "all"));
    let want_done = statuses.iter().any(|s| matches!(*s, "done" | "all"));
    let product = param(query, "product_id");
    let limit = param(query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let engine = st.core.engine();
    let list = engine
        .orders(a.account)
        .into_iter()
        .rev()
        .filter(|o| product.is_none_or(|p| o.market == p))
        .filter(|o| {
            if o.status.is_open() {
                want_open
            } else {
                want_done
            }
        })
        .take(limit)
        .map(model::order);
    Value::Array(list.collect())
}

fn fills(st: &ExchangeState, a: &Authed, query: &[(String, String)]) -> Answer {
    let order = param(query, "order_id").map(order_ref).transpose()?;
    let product = param(query, "product_id");
    if order.is_none() && product.is_none() {
        return Err(fail(400, "either order_id or product_id is required"));
    }
    let engine = st.core.engine();
    let order_id = order.map(|r| engine.order(a.account, &r).map(|o| o.id));
    let list = engine
        .fills(a.account)
        .into_iter()
        .rev()
        .filter(|f| order_id.is_none_or(|o| Some(f.order) == o))
        .filter(|f| product.is_none_or(|p| f.market == p))
        .map(model::fill);
    Ok((200, Value::Array(list.collect())))
}
