//! Binance spot REST routes (`/api/v3/...`, `/sapi/v1/account/apiRestrictions`): rate limit,
//! authenticate, run, answer with the weight headers.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Request, State};
use axum::response::Response;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::BinanceState;
use super::limits::Admit;
use super::model::{self, BinanceError};
use super::sign::{self, Need, Signed};
use crate::engine::{OrderId, OrderKind, OrderRef, OrderRequest, Side, TimeInForce};
use crate::faults::Fault;
use crate::http::{Req, json as json_resp, param, set_header};

type Pairs = [(String, String)];
type Answer = Result<(Value, Vec<(&'static str, String)>), BinanceError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ep {
    Ping,
    Time,
    ExchangeInfo,
    TickerPrice,
    Account,
    NewOrder,
    TestOrder,
    CancelOrder,
    QueryOrder,
    OpenOrders,
    AllOrders,
    MyTrades,
    RateLimitOrder,
    ApiRestrictions,
    MarginPairs,
}

fn route(method: &str, path: &str) -> Option<Ep> {
    Some(match (method, path) {
        ("GET", "/api/v3/ping") => Ep::Ping,
        ("GET", "/api/v3/time") => Ep::Time,
        ("GET", "/api/v3/exchangeInfo") => Ep::ExchangeInfo,
        ("GET", "/api/v3/ticker/price") => Ep::TickerPrice,
        ("GET", "/api/v3/account") => Ep::Account,
        ("POST", "/api/v3/order") => Ep::NewOrder,
        ("POST", "/api/v3/order/test") => Ep::TestOrder,
        ("DELETE", "/api/v3/order") => Ep::CancelOrder,
        ("GET", "/api/v3/order") => Ep::QueryOrder,
        ("GET", "/api/v3/openOrders") => Ep::OpenOrders,
        ("GET", "/api/v3/allOrders") => Ep::AllOrders,
        ("GET", "/api/v3/myTrades") => Ep::MyTrades,
        ("GET", "/api/v3/rateLimit/order") => Ep::RateLimitOrder,
        ("GET", "/sapi/v1/account/apiRestrictions") => Ep::ApiRestrictions,
        ("GET", "/sapi/v1/margin/allPairs" | "/sapi/v1/margin/isolated/allPairs") => {
            Ep::MarginPairs
        }
        _ => return None,
    })
}

/// REQUEST_WEIGHT charged before running (successful orders and cancels are free; failed ones
/// are charged 1 afterwards).
fn weight(ep: Ep, pairs: &Pairs) -> u32 {
    match ep {
        Ep::Ping | Ep::Time | Ep::ApiRestrictions | Ep::MarginPairs => 1,
        Ep::NewOrder | Ep::CancelOrder => 0,
        Ep::TestOrder => 1,
        Ep::TickerPrice if param(pairs, "symbol").is_some() => 2,
        Ep::TickerPrice => 4,
        Ep::ExchangeInfo | Ep::Account | Ep::AllOrders => 20,
        Ep::QueryOrder => 4,
        Ep::OpenOrders if param(pairs, "symbol").is_some() => 6,
        Ep::OpenOrders => 80,
        Ep::MyTrades if param(pairs, "orderId").is_some() => 5,
        Ep::MyTrades => 20,
        Ep::RateLimitOrder => 40,
    }
}

fn need(ep: Ep) -> Option<Need> {
    match ep {
        Ep::Ping | Ep::Time | Ep::ExchangeInfo | Ep::TickerPrice => None,
        Ep::NewOrder | Ep::TestOrder | Ep::CancelOrder => Some(Need::Trade),
        Ep::ApiRestrictions => Some(Need::AnyKey),
        _ => Some(Need::Read),
    }
}

/// The single entry point: every Binance request goes through here.
pub(crate) async fn handle(State(st): State<Arc<BinanceState>>, request: Request) -> Response {
    let req = match Req::read(request).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let Some(ep) = route(req.method.as_str(), &req.path) else {
        return error(&BinanceError::UnknownPath, None);
    };
    let fault = st.core.draw_faults(ep == Ep::NewOrder).await;
    let (now, ip) = (st.core.now_ms(), req.ip());
    let pairs = sign::params(&req);
    let admit = st.limiter().admit(ip, weight(ep, &pairs), now);
    st.core.rate_stats(|s| match admit {
        Admit::Ok(used) => {
            s.admit();
            s.weight(now, used);
        }
        Admit::Limited { .. } => s.limit(),
        Admit::Banned { .. } => s.ban(),
    });
    let used = match admit {
        Admit::Ok(used) => used,
        Admit::Limited {
            used,
            retry_after_s,
        } => return too_much_weight(&st, used, retry_after_s),
        Admit::Banned {
            used,
            until_ms,
            retry_after_s,
        } => return banned(used, until_ms, retry_after_s),
    };
    match fault {
        Some(Fault::ServerError) => return error(&BinanceError::Internal, Some(used)),
        Some(Fault::RateLimited) => return too_much_weight(&st, used, 60),
        Some(Fault::Banned) => return banned(used, now + 120_000, 120),
        _ => {}
    }
    let answer = run(&st, &req, ep, &pairs, fault);
    let charged = match (&answer, ep) {
        (Err(_), Ep::NewOrder | Ep::CancelOrder) => st.limiter().charge(ip, 1, now),
        _ => st.limiter().used(ip, now),
    };
    st.core.rate_stats(|s| s.weight(now, charged));
    match answer {
        Ok((body, headers)) => {
            let mut resp = json_resp(200, &body);
            set_header(&mut resp, "x-mbx-used-weight-1m", &charged.to_string());
            for (name, value) in headers {
                set_header(&mut resp, name, &value);
            }
            resp
        }
        Err(e) => error(&e, Some(charged)),
    }
}

fn error(e: &BinanceError, used: Option<u32>) -> Response {
    let (status, body) = e.body();
    let mut resp = json_resp(status, &body);
    if let Some(u) = used {
        set_header(&mut resp, "x-mbx-used-weight-1m", &u.to_string());
    }
    resp
}

fn too_much_weight(st: &BinanceState, used: u32, retry_after_s: u64) -> Response {
    let limit = st.limiter().cfg.weight_per_minute;
    let msg = format!(
        "Too much request weight used; current limit is {limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."
    );
    let mut resp = json_resp(429, &json!({"code": -1003, "msg": msg}));
    set_header(&mut resp, "x-mbx-used-weight-1m", &used.to_string());
    set_header(&mut resp, "retry-after", &retry_after_s.to_string());
    resp
}

fn banned(used: u32, until_ms: u64, retry_after_s: u64) -> Response {
    let msg = format!(
        "Way too much request weight used; IP banned until {until_ms}. Please use WebSocket Streams for live updates to avoid bans."
    );
    let mut resp = json_resp(418, &json!({"code": -1003, "msg": msg}));
    set_header(&mut resp, "x-mbx-used-weight-1m", &used.to_string());
    set_header(&mut resp, "retry-after", &retry_after_s.to_string());
    resp
}

fn run(st: &BinanceState, req: &Req, ep: Ep, pairs: &Pairs, fault: Option<Fault>) -> Answer {
    let now = st.core.now_ms();
    let signed = match need(ep) {
        None => None,
        Some(n) => Some(sign::verify(&st.core, req, pairs, n)?),
    };
    let Some(signed) = signed else {
        if ep == Ep::TickerPrice {
            return Ok((ticker_price(st, pairs)?, vec![]));
        }
        return Ok((public(st, ep, now), vec![]));
    };
    let plain = |v: Value| Ok((v, vec![]));
    match ep {
        Ep::Account => plain(account(st, &signed, pairs)),
        Ep::NewOrder => new_order(st, req, &signed, pairs, fault),
        Ep::TestOrder => parse_order(st, pairs).and_then(|_| plain(json!({}))),
        Ep::CancelOrder => plain(cancel(st, &signed, pairs)?),
        Ep::QueryOrder => plain(query(st, &signed, pairs)?),
        Ep::OpenOrders => plain(open_orders(st, &signed, pairs)?),
        Ep::AllOrders => plain(all_orders(st, &signed, pairs)?),
        Ep::MyTrades => plain(my_trades(st, &signed, pairs)?),
        Ep::RateLimitOrder => plain(rate_limit_order(st, &signed, now)),
        Ep::ApiRestrictions => plain(api_restrictions(&signed, now)),
        // The simulator trades spot only: no margin pairs.
        Ep::MarginPairs => plain(json!([])),
        Ep::Ping | Ep::Time | Ep::ExchangeInfo => plain(public(st, ep, now)),
        Ep::TickerPrice => plain(ticker_price(st, pairs)?),
    }
}

/// `GET /api/v3/ticker/price`: the last price (here the mid of the simulated book) of
/// `symbol`, of each of `symbols` (a JSON list), or of every market.
/// See: <https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#symbol-price-ticker>.
fn ticker_price(st: &BinanceState, pairs: &Pairs) -> Result<Value, BinanceError> {
    let engine = st.core.engine();
    let one = |id: &str| -> Result<Value, BinanceError> {
        let m = engine.market(id).ok_or(BinanceError::InvalidSymbol)?;
        let (_, _, mid) = engine.top(&m.id).ok_or(BinanceError::InvalidSymbol)?;
        Ok(json!({"symbol": m.id, "price": mid.normalize().to_string()}))
    };
    if let Some(id) = param(pairs, "symbol") {
        return one(id);
    }
    let ids: Vec<String> = match param(pairs, "symbols") {
        Some(list) => serde_json::from_str(list).map_err(|_| BinanceError::InvalidSymbol)?,
        None => engine.markets().map(|m| m.id.clone()).collect(),
    };
    ids.iter()
        .map(|id| one(id))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

fn public(st: &BinanceState, ep: Ep, now: u64) -> Value {
    match ep {
        Ep::Time => json!({ "serverTime": now }),
        Ep::ExchangeInfo => {
            let markets: Vec<_> = st.core.engine().markets().cloned().collect();
            model::exchange_info(&markets, &st.limiter().cfg, now)
        }
        _ => json!({}),
    }
}

fn account(st: &BinanceState, signed: &Signed, pairs: &Pairs) -> Value {
    let omit_zero = param(pairs, "omitZeroBalances") == Some("true");
    let engine = st.core.engine();
    let balances: Vec<Value> = engine
        .balances(signed.account)
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, b)| !omit_zero || !(b.free + b.locked).is_zero())
        .map(|(asset, b)| json!({"asset": asset, "free": model::num(b.free), "locked": model::num(b.locked)}))
        .collect();
    let fees = engine.fees();
    json!({
        "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
        "commissionRates": {"maker": model::num(fees.maker), "taker": model::num(fees.taker), "buyer": model::num(Decimal::ZERO), "seller": model::num(Decimal::ZERO)},
        "canTrade": true, "canWithdraw": true, "canDeposit": true, "brokered": false,
        "requireSelfTradePrevention": false, "preventSor": false, "updateTime": engine.now_ms(),
        "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"], "uid": signed.account.0,
    })
}

fn dec(pairs: &Pairs, name: &'static str) -> Result<Option<Decimal>, BinanceError> {
    match param(pairs, name) {
        None | Some("") => Ok(None),
        Some(s) => Decimal::from_str_exact(s)
            .map(Some)
            .map_err(|_| BinanceError::Illegal(name)),
    }
}

fn required<'a>(pairs: &'a Pairs, name: &'static str) -> Result<&'a str, BinanceError> {
    param(pairs, name)
        .filter(|s| !s.is_empty())
        .ok_or(BinanceError::Mandatory(name))
}

fn parse_order(st: &BinanceState, pairs: &Pairs) -> Result<OrderRequest, BinanceError> {
    let market = required(pairs, "symbol")?.to_owned();
    if st.core.engine().market(&market).is_none() {
        return Err(BinanceError::InvalidSymbol);
    }
    let side = match required(pairs, "side")? {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        _ => return Err(BinanceError::InvalidEnum(-1117, "Invalid side.")),
    };
    let (kind, post_only) = match required(pairs, "type")? {
        "LIMIT" => (OrderKind::Limit, false),
        "LIMIT_MAKER" => (OrderKind::Limit, true),
        "MARKET" => (OrderKind::Market, false),
        _ => return Err(BinanceError::InvalidEnum(-1116, "Invalid orderType.")),
    };
    let tif = match (kind, post_only, param(pairs, "timeInForce")) {
        (OrderKind::Market, ..) | (_, true, _) => TimeInForce::Gtc,
        (_, _, None) => return Err(BinanceError::Mandatory("timeInForce")),
        (_, _, Some("GTC")) => TimeInForce::Gtc,
        (_, _, Some("IOC")) => TimeInForce::Ioc,
        (_, _, Some("FOK")) => TimeInForce::Fok,
        _ => return Err(BinanceError::InvalidEnum(-1115, "Invalid timeInForce.")),
    };
    let quantity = dec(pairs, "quantity")?;
    let quote_quantity = if kind == OrderKind::Market {
        dec(pairs, "quoteOrderQty")?
    } else {
        None
    };
    let price = dec(pairs, "price")?;
    if kind == OrderKind::Limit && price.is_none() {
        return Err(BinanceError::Mandatory("price"));
    }
    if quantity.is_none() && quote_quantity.is_none() {
        return Err(BinanceError::Mandatory("quantity"));
    }
    let client_id = param(pairs, "newClientOrderId")
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let tif = if kind == OrderKind::Market {
        TimeInForce::Ioc
    } else {
        tif
    };
    Ok(OrderRequest {
        market,
        side,
        kind,
        tif,
        post_only,
        price,
        quantity,
        quote_quantity,
        client_id,
    })
}

fn new_order(
    st: &BinanceState,
    req: &Req,
    signed: &Signed,
    pairs: &Pairs,
    fault: Option<Fault>,
) -> Answer {
    let mut order = parse_order(st, pairs)?;
    let resp_type = param(pairs, "newOrderRespType")
        .unwrap_or("FULL")
        .to_owned();
    let now = st.core.now_ms();
    let (c10, cday) = st
        .limiter()
        .count_order(signed.account, now)
        .map_err(|hit| BinanceError::TooManyOrders(hit.limit, hit.interval))?;
    if order.client_id.is_none() {
        order.client_id = Some(format!(
            "sim{:019}",
            st.next_client_id.fetch_add(1, Ordering::Relaxed)
        ));
    }
    let mut engine = st.core.engine();
    let id = engine.place(signed.account, order, now)?;
    let placed = engine
        .order(signed.account, &OrderRef::Id(id))
        .cloned()
        .ok_or(BinanceError::Internal)?;
    let fills: Vec<_> = engine
        .fills(signed.account)
        .into_iter()
        .filter(|f| f.order == id)
        .cloned()
        .collect();
    drop(engine);
    match fault {
        Some(Fault::DropAfterAccept) => {
            req.drop_connection();
            return Err(BinanceError::Internal);
        }
        Some(Fault::ServerErrorAfterAccept) => return Err(BinanceError::Internal),
        Some(Fault::DuplicateClientId) => {
            return Err(BinanceError::NewOrderRejected("Duplicate order sent."));
        }
        _ => {}
    }
    let body = model::new_order(&placed, &fills.iter().collect::<Vec<_>>(), &resp_type);
    Ok((
        body,
        vec![
            ("x-mbx-order-count-10s", c10.to_string()),
            ("x-mbx-order-count-1d", cday.to_string()),
        ],
    ))
}

fn order_ref(pairs: &Pairs) -> Result<(OrderRef, Option<String>), BinanceError> {
    let by_client = param(pairs, "origClientOrderId")
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    match (param(pairs, "orderId"), by_client) {
        (Some(id), c) => Ok((
            OrderRef::Id(OrderId(
                id.parse().map_err(|_| BinanceError::Illegal("orderId"))?,
            )),
            c,
        )),
        (None, Some(c)) => Ok((OrderRef::Client(c), None)),
        (None, None) => Err(BinanceError::Mandatory("orderId")),
    }
}

fn cancel(st: &BinanceState, signed: &Signed, pairs: &Pairs) -> Result<Value, BinanceError> {
    let symbol = required(pairs, "symbol")?;
    let (r, must_match) = order_ref(pairs)?;
    let now = st.core.now_ms();
    let mut engine = st.core.engine();
    let found = engine
        .order(signed.account, &r)
        .filter(|o| o.market == symbol)
        .ok_or(BinanceError::CancelRejected)?;
    if must_match.is_some_and(|c| found.client_id.as_deref() != Some(c.as_str())) {
        return Err(BinanceError::CancelRejected);
    }
    let found_id = found.id;
    let id = engine.cancel(signed.account, &OrderRef::Id(found_id), now)?;
    let o = engine
        .order(signed.account, &OrderRef::Id(id))
        .ok_or(BinanceError::Internal)?;
    let mut v = model::order(o);
    if let Some(m) = v.as_object_mut() {
        m.insert(
            "origClientOrderId".into(),
            json!(o.client_id.clone().unwrap_or_default()),
        );
        let cancel_id = param(pairs, "newClientOrderId")
            .map_or_else(|| format!("cancel{}", id.0), str::to_owned);
        m.insert("clientOrderId".into(), json!(cancel_id));
        m.insert("transactTime".into(), json!(now));
    }
    Ok(v)
}

fn query(st: &BinanceState, signed: &Signed, pairs: &Pairs) -> Result<Value, BinanceError> {
    let symbol = required(pairs, "symbol")?;
    let (r, must_match) = order_ref(pairs)?;
    let engine = st.core.engine();
    let o = engine
        .order(signed.account, &r)
        .filter(|o| o.market == symbol)
        .ok_or(BinanceError::NoSuchOrder)?;
    if must_match.is_some_and(|c| o.client_id.as_deref() != Some(c.as_str())) {
        return Err(BinanceError::NoSuchOrder);
    }
    Ok(model::order(o))
}

fn open_orders(st: &BinanceState, signed: &Signed, pairs: &Pairs) -> Result<Value, BinanceError> {
    let symbol = param(pairs, "symbol");
    let engine = st.core.engine();
    if symbol.is_some_and(|s| engine.market(s).is_none()) {
        return Err(BinanceError::InvalidSymbol);
    }
    Ok(Value::Array(
        engine
            .open_orders(signed.account, symbol)
            .into_iter()
            .map(model::order)
            .collect(),
    ))
}

fn all_orders(st: &BinanceState, signed: &Signed, pairs: &Pairs) -> Result<Value, BinanceError> {
    let symbol = required(pairs, "symbol")?;
    let engine = st.core.engine();
    let list = engine
        .orders(signed.account)
        .into_iter()
        .filter(|o| o.market == symbol)
        .map(model::order);
    Ok(Value::Array(list.collect()))
}

fn my_trades(st: &BinanceState, signed: &Signed, pairs: &Pairs) -> Result<Value, BinanceError> {
    let symbol = required(pairs, "symbol")?;
    let num = |name: &'static str| {
        param(pairs, name)
            .map(|v| v.parse::<u64>().map_err(|_| BinanceError::Illegal(name)))
            .transpose()
    };
    let (order_id, from_id, start, end) = (
        num("orderId")?,
        num("fromId")?,
        num("startTime")?,
        num("endTime")?,
    );
    let limit = num("limit")?.unwrap_or(500).clamp(1, 1000) as usize;
    let engine = st.core.engine();
    let trades = engine
        .fills(signed.account)
        .into_iter()
        .filter(|f| f.market == symbol)
        .filter(|f| order_id.is_none_or(|o| f.order.0 == o))
        .filter(|f| from_id.is_none_or(|id| f.id >= id))
        .filter(|f| start.is_none_or(|t| f.time_ms >= t) && end.is_none_or(|t| f.time_ms <= t))
        .take(limit)
        .map(model::trade);
    Ok(Value::Array(trades.collect()))
}

fn rate_limit_order(st: &BinanceState, signed: &Signed, now: u64) -> Value {
    let mut limiter = st.limiter();
    let (c10, cday) = limiter.order_counts(signed.account, now);
    let cfg = &limiter.cfg;
    json!([
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": cfg.orders_per_10s, "count": c10},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": cfg.orders_per_day, "count": cday},
    ])
}

fn api_restrictions(signed: &Signed, now: u64) -> Value {
    let p = signed.permissions;
    json!({
        "ipRestrict": signed.ip_restricted, "createTime": now, "enableReading": p.read,
        "enableWithdrawals": p.withdraw, "enableInternalTransfer": p.withdraw, "enableMargin": false,
        "enableFutures": false, "permitsUniversalTransfer": p.withdraw, "enableVanillaOptions": false,
        "enableFixApiTrade": false, "enableFixReadOnly": false, "enableSpotAndMarginTrading": p.trade,
        "enablePortfolioMarginTrading": false,
    })
}
