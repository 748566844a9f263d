//! Kraken spot REST routes: `/0/public/<Method>` and `POST /0/private/<Method>`.
//! Errors come as `{"error":["E…"],"result":{}}` with HTTP 200, as Kraken sends them.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::KrakenState;
use super::limits::{cancel_cost, rest_cost};
use super::model;
use super::sign::{self, Authed};
use crate::engine::market::MarketSpec;
use crate::engine::{EngineError, OrderId, OrderKind, OrderRef, OrderRequest, Side, TimeInForce};
use crate::faults::Fault;
use crate::http::{Req, json as json_resp, param};

type Pairs = [(String, String)];
type Answer = Result<Value, String>;

/// The single entry point of the Kraken simulator.
pub(crate) async fn handle(State(st): State<Arc<KrakenState>>, request: Request) -> Response {
    let req = match Req::read(request).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    if let Some(method) = req.path.strip_prefix("/0/public/") {
        let mut pairs = req.query_pairs();
        pairs.extend(sign::body_params(&req));
        return reply(public(&st, method, &pairs));
    }
    let Some(method) = req.path.strip_prefix("/0/private/").map(str::to_owned) else {
        return json_resp(404, &model::err("EGeneral:Unknown method"));
    };
    if req.method != axum::http::Method::POST {
        return json_resp(405, &model::err("EGeneral:Invalid arguments"));
    }
    let fault = st.core.draw_faults(method == "AddOrder").await;
    match fault {
        Some(Fault::ServerError) => return json_resp(503, &model::err("EService:Unavailable")),
        Some(Fault::RateLimited) => return reply(Err("EAPI:Rate limit exceeded".into())),
        Some(Fault::Banned) => return reply(Err("EGeneral:Temporary lockout".into())),
        _ => {}
    }
    let answer = private(&st, &req, &method, fault);
    if answer.as_ref().is_err_and(|e| e == "EService:Unavailable") {
        return json_resp(503, &model::err("EService:Unavailable"));
    }
    reply(answer)
}

fn reply(answer: Answer) -> Response {
    match answer {
        Ok(result) => json_resp(200, &model::ok(result)),
        Err(e) => json_resp(200, &model::err(&e)),
    }
}

fn public(st: &KrakenState, method: &str, pairs: &Pairs) -> Answer {
    let now = st.core.now_ms();
    let engine = st.core.engine();
    let markets: Vec<MarketSpec> = engine.markets().cloned().collect();
    match method {
        "Time" => {
            Ok(json!({"unixtime": now / 1000, "rfc1123": crate::timefmt::rfc1123(now / 1000)}))
        }
        "SystemStatus" => {
            Ok(json!({"status": "online", "timestamp": crate::timefmt::iso8601(now)}))
        }
        "Assets" => Ok(model::assets(&markets)),
        "AssetPairs" => {
            let wanted = selected(&markets, param(pairs, "pair"))?;
            let fees = engine.fees();
            Ok(model::asset_pairs(&wanted, fees.maker, fees.taker))
        }
        "Ticker" => {
            let mut out = Map::new();
            for m in selected(&markets, param(pairs, "pair"))? {
                let (bid, ask, mid) = engine.top(&m.id).unwrap_or_default();
                out.insert(m.id.clone(), json!({
                    "a": [ask.to_string(), "1", "1.000"], "b": [bid.to_string(), "1", "1.000"],
                    "c": [mid.to_string(), "0.00100000"], "v": ["0", "0"], "p": [mid.to_string(), mid.to_string()],
                    "t": [0, 0], "l": [mid.to_string(), mid.to_string()], "h": [mid.to_string(), mid.to_string()],
                    "o": mid.to_string(),
                }));
            }
            Ok(Value::Object(out))
        }
        _ => Err("EGeneral:Unknown method".into()),
    }
}

/// The markets named in a `pair` list (all when absent).
fn selected(markets: &[MarketSpec], list: Option<&str>) -> Result<Vec<MarketSpec>, String> {
    let Some(list) = list else {
        return Ok(markets.to_vec());
    };
    list.split(',')
        .map(|p| {
            find_market(markets, p)
                .cloned()
                .ok_or_else(|| "EQuery:Unknown asset pair".to_owned())
        })
        .collect()
}

/// A market by pair key (`XXBTZUSD`), altname (`XBTUSD`) or wsname (`XBT/USD`).
fn find_market<'a>(markets: &'a [MarketSpec], name: &str) -> Option<&'a MarketSpec> {
    markets
        .iter()
        .find(|m| m.id == name || model::altname(m) == name || model::wsname(m) == name)
}

fn private(st: &KrakenState, req: &Req, method: &str, fault: Option<Fault>) -> Answer {
    let params = sign::body_params(req);
    let authed = sign::verify(&st.core, &mut st.nonces(), req, &params)?;
    let now = st.core.now_ms();
    if !st.limiter().rest(&authed.api_key, rest_cost(method), now) {
        st.core.rate_stats(|s| s.limit());
        return Err("EAPI:Rate limit exceeded".into());
    }
    let p = authed.permissions;
    let allowed = match method {
        "AddOrder" | "CancelOrder" => p.trade,
        "GetApiKeyInfo" => true,
        _ => p.read,
    };
    if !allowed {
        return Err("EGeneral:Permission denied".into());
    }
    match method {
        "Balance" => Ok(balance(st, &authed, false)),
        "BalanceEx" => Ok(balance(st, &authed, true)),
        "AddOrder" => add_order(st, req, &authed, &params, fault),
        "CancelOrder" => cancel(st, &authed, &params),
        "QueryOrders" => query_orders(st, &authed, &params),
        "OpenOrders" => Ok(list_orders(st, &authed, &params, true)),
        "ClosedOrders" => Ok(list_orders(st, &authed, &params, false)),
        "TradesHistory" => Ok(trades_history(st, &authed, &params)),
        "GetApiKeyInfo" => Ok(key_info(st, &authed, &params)),
        _ => Err("EGeneral:Unknown method".into()),
    }
}

fn balance(st: &KrakenState, a: &Authed, extended: bool) -> Value {
    let mut out = Map::new();
    for (asset, b) in st.core.engine().balances(a.account).unwrap_or_default() {
        let total = format!("{:.10}", b.free + b.locked);
        let v = if extended {
            json!({"balance": total, "hold_trade": format!("{:.10}", b.locked)})
        } else {
            json!(total)
        };
        out.insert(model::asset_code(&asset), v);
    }
    Value::Object(out)
}

fn invalid(field: &str) -> String {
    format!("EGeneral:Invalid arguments:{field}")
}

fn parse_add(markets: &[MarketSpec], params: &Pairs) -> Result<OrderRequest, String> {
    let pair = param(params, "pair").ok_or_else(|| invalid("pair"))?;
    let market = find_market(markets, pair).ok_or("EQuery:Unknown asset pair")?;
    let side = match param(params, "type") {
        Some("buy") => Side::Buy,
        Some("sell") => Side::Sell,
        _ => return Err(invalid("type")),
    };
    let kind = match param(params, "ordertype") {
        Some("market") => OrderKind::Market,
        Some("limit") => OrderKind::Limit,
        _ => return Err(invalid("ordertype")),
    };
    let num = |name: &str| {
        param(params, name)
            .map(|v| Decimal::from_str_exact(v).map_err(|_| invalid(name)))
            .transpose()
    };
    let volume = num("volume")?.ok_or_else(|| invalid("volume"))?;
    let price = num("price")?;
    if kind == OrderKind::Limit && price.is_none() {
        return Err(invalid("price"));
    }
    let flags: Vec<&str> = param(params, "oflags")
        .map(|f| f.split(',').collect())
        .unwrap_or_default();
    let viqc = flags.contains(&"viqc") && kind == OrderKind::Market && side == Side::Buy;
    let tif = match param(params, "timeinforce").unwrap_or("GTC") {
        "GTC" => TimeInForce::Gtc,
        "IOC" => TimeInForce::Ioc,
        _ => return Err(invalid("timeinforce")),
    };
    let client_id = param(params, "cl_ord_id").map(str::to_owned);
    if client_id.is_some() && param(params, "userref").is_some() {
        return Err(invalid("cl_ord_id"));
    }
    Ok(OrderRequest {
        market: market.id.clone(),
        side,
        kind,
        tif: if kind == OrderKind::Market {
            TimeInForce::Ioc
        } else {
            tif
        },
        post_only: flags.contains(&"post"),
        price: if kind == OrderKind::Limit {
            price
        } else {
            None
        },
        quantity: (!viqc).then_some(volume),
        quote_quantity: viqc.then_some(volume),
        client_id,
    })
}

fn engine_error(e: EngineError) -> String {
    match e {
        EngineError::UnknownMarket(_) => "EQuery:Unknown asset pair".into(),
        EngineError::InsufficientBalance { .. } => "EOrder:Insufficient funds".into(),
        // Not verified against Kraken's documentation (exchanges.md §7 lists no code for it).
        EngineError::DuplicateClientId => "EOrder:Duplicate cl_ord_id".into(),
        EngineError::InvalidQuantity("quantity is below the minimum") => {
            "EOrder:Order minimum not met".into()
        }
        EngineError::InvalidQuantity(_) => invalid("volume"),
        EngineError::InvalidPrice(_) => "EOrder:Invalid price:Invalid price argument".into(),
        EngineError::MinNotional => "EOrder:Cost minimum not met".into(),
        EngineError::PostOnlyWouldTake => "EOrder:Post only order".into(),
        EngineError::UnknownOrder | EngineError::OrderClosed => "EOrder:Unknown order".into(),
        EngineError::UnknownAccount => "EGeneral:Permission denied".into(),
    }
}

fn add_order(
    st: &KrakenState,
    req: &Req,
    a: &Authed,
    params: &Pairs,
    fault: Option<Fault>,
) -> Answer {
    let now = st.core.now_ms();
    let markets: Vec<MarketSpec> = st.core.engine().markets().cloned().collect();
    let order = parse_add(&markets, params)?;
    if !st.limiter().trading(&a.api_key, &order.market, 1.0, now) {
        st.core.rate_stats(|s| s.limit());
        return Err("EOrder:Rate limit exceeded".into());
    }
    let alt = markets
        .iter()
        .find(|m| m.id == order.market)
        .map(model::altname)
        .unwrap_or_default();
    if param(params, "validate").is_some_and(|v| v == "true" || v == "1") {
        return Ok(
            json!({"descr": {"order": format!("{} {} {alt}", if order.side == Side::Buy { "buy" } else { "sell" }, order.quantity.or(order.quote_quantity).unwrap_or_default())}}),
        );
    }
    let mut engine = st.core.engine();
    let id = engine.place(a.account, order, now).map_err(engine_error)?;
    let placed = engine
        .order(a.account, &OrderRef::Id(id))
        .cloned()
        .ok_or("EService:Unavailable")?;
    drop(engine);
    match fault {
        Some(Fault::DropAfterAccept) => {
            req.drop_connection();
            return Err("EService:Unavailable".into());
        }
        Some(Fault::ServerErrorAfterAccept) => return Err("EService:Unavailable".into()),
        Some(Fault::DuplicateClientId) => return Err(engine_error(EngineError::DuplicateClientId)),
        _ => {}
    }
    Ok(
        json!({"descr": {"order": model::describe(&placed, &alt)}, "txid": [model::txid('O', id.0)]}),
    )
}

fn cancel(st: &KrakenState, a: &Authed, params: &Pairs) -> Answer {
    let r = match (param(params, "txid"), param(params, "cl_ord_id")) {
        (Some(t), None) => OrderRef::Id(OrderId(
            model::parse_txid('O', t).ok_or("EOrder:Unknown order")?,
        )),
        (None, Some(c)) => OrderRef::Client(c.to_owned()),
        _ => return Err(invalid("txid")),
    };
    let now = st.core.now_ms();
    let mut engine = st.core.engine();
    let o = engine
        .order(a.account, &r)
        .cloned()
        .ok_or("EOrder:Unknown order")?;
    if !o.status.is_open() {
        return Err("EOrder:Unknown order".into());
    }
    if !st.limiter().trading(
        &a.api_key,
        &o.market,
        cancel_cost(now.saturating_sub(o.created_ms)),
        now,
    ) {
        st.core.rate_stats(|s| s.limit());
        return Err("EOrder:Rate limit exceeded".into());
    }
    engine
        .cancel(a.account, &OrderRef::Id(o.id), now)
        .map_err(engine_error)?;
    Ok(json!({"count": 1, "pending": false}))
}

fn with_trades(params: &Pairs) -> bool {
    param(params, "trades").is_some_and(|v| v == "true" || v == "1")
}

fn order_json(
    engine: &crate::engine::Engine,
    a: &Authed,
    o: &crate::engine::Order,
    trades: bool,
) -> Value {
    let alt = engine
        .market(&o.market)
        .map(model::altname)
        .unwrap_or_default();
    let fills: Vec<_> = engine
        .fills(a.account)
        .into_iter()
        .filter(|f| f.order == o.id)
        .collect();
    model::order(o, &alt, trades.then_some(fills.as_slice()))
}

fn query_orders(st: &KrakenState, a: &Authed, params: &Pairs) -> Answer {
    let list = param(params, "txid").ok_or_else(|| invalid("txid"))?;
    let engine = st.core.engine();
    let mut out = Map::new();
    for t in list.split(',').take(50) {
        let id = model::parse_txid('O', t.trim()).ok_or("EOrder:Invalid order")?;
        let o = engine
            .order(a.account, &OrderRef::Id(OrderId(id)))
            .ok_or("EOrder:Invalid order")?;
        out.insert(
            t.trim().to_owned(),
            order_json(&engine, a, o, with_trades(params)),
        );
    }
    Ok(Value::Object(out))
}

fn list_orders(st: &KrakenState, a: &Authed, params: &Pairs, open: bool) -> Value {
    let engine = st.core.engine();
    let cl = param(params, "cl_ord_id");
    let mut out = Map::new();
    for o in engine.orders(a.account) {
        if o.status.is_open() == open && cl.is_none_or(|c| o.client_id.as_deref() == Some(c)) {
            out.insert(
                model::txid('O', o.id.0),
                order_json(&engine, a, o, with_trades(params)),
            );
        }
    }
    if open {
        json!({ "open": out })
    } else {
        let count = out.len();
        json!({ "closed": out, "count": count })
    }
}

fn trades_history(st: &KrakenState, a: &Authed, params: &Pairs) -> Value {
    let bound = |name: &str| {
        param(params, name)
            .and_then(|v| v.parse::<f64>().ok())
            .map(|s| (s * 1000.0) as u64)
    };
    let (start, end) = (bound("start"), bound("end"));
    let ofs = param(params, "ofs")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let engine = st.core.engine();
    let fills: Vec<_> = engine
        .fills(a.account)
        .into_iter()
        .rev()
        .filter(|f| start.is_none_or(|s| f.time_ms > s) && end.is_none_or(|e| f.time_ms <= e))
        .collect();
    let mut out = Map::new();
    for f in fills.iter().skip(ofs).take(50) {
        let kind = engine
            .order(a.account, &OrderRef::Id(f.order))
            .map_or(OrderKind::Limit, |o| o.kind);
        out.insert(model::txid('T', f.id), model::trade(f, kind));
    }
    json!({ "trades": out, "count": fills.len() })
}

fn key_info(st: &KrakenState, a: &Authed, params: &Pairs) -> Value {
    let p = a.permissions;
    let mut perms = Vec::new();
    if p.read {
        perms.extend([
            "query-funds",
            "query-open-trades",
            "query-closed-trades",
            "query-ledger-entries",
        ]);
    }
    if p.trade {
        perms.extend(["modify-trades", "cancel-close-trades"]);
    }
    if p.withdraw {
        perms.extend(["withdraw-funds", "deposit-funds"]);
    }
    let allow = st.core.with_keys(|k| {
        k.get(&a.api_key).map(|r| {
            r.ip_allowlist
                .iter()
                .map(|ip| ip.to_string())
                .collect::<Vec<_>>()
        })
    });
    json!({
        "apiKeyName": "tradeguard-sim", "apiKey": a.api_key, "nonce": param(params, "nonce").unwrap_or("0"),
        "nonceWindow": 0, "permissions": perms, "iban": "", "validUntil": "0", "queryFrom": "0", "queryTo": "0",
        "createdTime": "0", "modifiedTime": "0", "ipAllowlist": allow.unwrap_or_default(), "lastUsed": st.core.now_ms() / 1000,
    })
}
