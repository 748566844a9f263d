//! Binance wire JSON: error bodies `{"code":-1022,"msg":"…"}`, orders, trades, account,
//! exchange info.
//!
//! See: https://developers.binance.com/docs/binance-spot-api-docs/errors and rest-api.md.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::limits::BinanceLimits;
use crate::engine::market::MarketSpec;
use crate::engine::{EngineError, Fill, Order, OrderKind, OrderStatus, Side, TimeInForce};

/// A Binance error: HTTP status, code and message as the exchange sends them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BinanceError {
    /// -1022, 400.
    InvalidSignature,
    /// -1021, 400: timestamp too old for recvWindow.
    OutsideRecvWindow,
    /// -1021, 400: timestamp 1000 ms or more ahead.
    TimestampAhead,
    /// -1131, 400.
    BadRecvWindow,
    /// -2014, 401.
    BadApiKeyFormat,
    /// -2015, 401: unknown key, IP not allowed or permission missing.
    RejectedKey,
    /// -1102, 400: a mandatory parameter is missing.
    Mandatory(&'static str),
    /// -1100, 400: a parameter has illegal characters.
    Illegal(&'static str),
    /// -1121, 400.
    InvalidSymbol,
    /// -1116 / -1117 / -1115, 400: bad enum value.
    InvalidEnum(i32, &'static str),
    /// -1013, 400: filter failure.
    Filter(&'static str),
    /// -2010, 400.
    NewOrderRejected(&'static str),
    /// -2011, 400.
    CancelRejected,
    /// -2013, 400.
    NoSuchOrder,
    /// -1015, 429: order-count limit.
    TooManyOrders(u32, &'static str),
    /// -1001, 5xx: internal error (status unknown).
    Internal,
    /// -1000, 404: unknown endpoint.
    UnknownPath,
}

impl BinanceError {
    /// HTTP status, code and message.
    pub(crate) fn parts(&self) -> (u16, i32, String) {
        match self {
            Self::InvalidSignature => (
                400,
                -1022,
                "Signature for this request is not valid.".into(),
            ),
            Self::OutsideRecvWindow => (
                400,
                -1021,
                "Timestamp for this request is outside of the recvWindow.".into(),
            ),
            Self::TimestampAhead => (
                400,
                -1021,
                "Timestamp for this request was 1000ms ahead of the server's time.".into(),
            ),
            Self::BadRecvWindow => (400, -1131, "recvWindow must be less than 60000".into()),
            Self::BadApiKeyFormat => (401, -2014, "API-key format invalid.".into()),
            Self::RejectedKey => (
                401,
                -2015,
                "Invalid API-key, IP, or permissions for action.".into(),
            ),
            Self::Mandatory(p) => (
                400,
                -1102,
                format!("Mandatory parameter '{p}' was not sent, was empty/null, or malformed."),
            ),
            Self::Illegal(p) => (
                400,
                -1100,
                format!(
                    "Illegal characters found in parameter '{p}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'."
                ),
            ),
            Self::InvalidSymbol => (400, -1121, "Invalid symbol.".into()),
            Self::InvalidEnum(code, m) => (400, *code, (*m).into()),
            Self::Filter(f) => (400, -1013, format!("Filter failure: {f}")),
            Self::NewOrderRejected(m) => (400, -2010, (*m).into()),
            Self::CancelRejected => (400, -2011, "Unknown order sent.".into()),
            Self::NoSuchOrder => (400, -2013, "Order does not exist.".into()),
            Self::TooManyOrders(n, i) => (
                429,
                -1015,
                format!("Too many new orders; current limit is {n} orders per {i}."),
            ),
            Self::Internal => (
                503,
                -1001,
                "Internal error; unable to process your request. Please try again.".into(),
            ),
            Self::UnknownPath => (
                404,
                -1000,
                "An unknown error occurred while processing the request.".into(),
            ),
        }
    }

    /// `{"code":..,"msg":..}`.
    pub(crate) fn body(&self) -> (u16, Value) {
        let (status, code, msg) = self.parts();
        (status, json!({ "code": code, "msg": msg }))
    }
}

impl From<EngineError> for BinanceError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::UnknownMarket(_) => Self::InvalidSymbol,
            EngineError::InsufficientBalance { .. } => {
                Self::NewOrderRejected("Account has insufficient balance for requested action.")
            }
            EngineError::DuplicateClientId => Self::NewOrderRejected("Duplicate order sent."),
            EngineError::InvalidQuantity(_) => Self::Filter("LOT_SIZE"),
            EngineError::InvalidPrice(_) => Self::Filter("PRICE_FILTER"),
            EngineError::MinNotional => Self::Filter("NOTIONAL"),
            EngineError::PostOnlyWouldTake => {
                Self::NewOrderRejected("Order would immediately match and take.")
            }
            EngineError::UnknownOrder | EngineError::OrderClosed => Self::CancelRejected,
            EngineError::UnknownAccount => Self::RejectedKey,
        }
    }
}

/// Decimal as Binance prints it: 8 places.
pub(crate) fn num(d: Decimal) -> String {
    format!("{:.8}", d)
}

pub(crate) fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

fn status(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::New => "NEW",
        OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
        OrderStatus::Filled => "FILLED",
        OrderStatus::Canceled => "CANCELED",
        OrderStatus::Expired => "EXPIRED",
    }
}

fn kind(o: &Order) -> &'static str {
    match (o.kind, o.post_only) {
        (OrderKind::Market, _) => "MARKET",
        (OrderKind::Limit, true) => "LIMIT_MAKER",
        (OrderKind::Limit, false) => "LIMIT",
    }
}

fn tif(t: TimeInForce) -> &'static str {
    match t {
        TimeInForce::Gtc => "GTC",
        TimeInForce::Ioc => "IOC",
        TimeInForce::Fok => "FOK",
    }
}

/// The order object of `GET /api/v3/order`, `openOrders`, `allOrders`.
pub(crate) fn order(o: &Order) -> Value {
    json!({
        "symbol": o.market,
        "orderId": o.id.0,
        "orderListId": -1,
        "clientOrderId": o.client_id.clone().unwrap_or_default(),
        "price": num(o.price.unwrap_or_default()),
        "origQty": num(o.quantity.unwrap_or_default()),
        "executedQty": num(o.filled_qty),
        "cummulativeQuoteQty": num(o.filled_quote),
        "status": status(o.status),
        "timeInForce": tif(o.tif),
        "type": kind(o),
        "side": side(o.side),
        "stopPrice": num(Decimal::ZERO),
        "icebergQty": num(Decimal::ZERO),
        "time": o.created_ms,
        "updateTime": o.updated_ms,
        "isWorking": o.status.is_open(),
        "workingTime": o.created_ms,
        "origQuoteOrderQty": num(o.quote_quantity.unwrap_or_default()),
        "selfTradePreventionMode": "EXPIRE_MAKER",
    })
}

/// The answer of `POST /api/v3/order` for `newOrderRespType` ACK, RESULT or FULL.
pub(crate) fn new_order(o: &Order, fills: &[&Fill], resp_type: &str) -> Value {
    let mut v = order(o);
    if let Some(m) = v.as_object_mut() {
        m.insert("transactTime".into(), json!(o.created_ms));
        for k in ["stopPrice", "icebergQty", "time", "updateTime", "isWorking"] {
            m.remove(k);
        }
        if resp_type == "ACK" {
            m.retain(|k, _| {
                [
                    "symbol",
                    "orderId",
                    "orderListId",
                    "clientOrderId",
                    "transactTime",
                ]
                .contains(&k.as_str())
            });
        }
        if resp_type == "FULL" {
            let list: Vec<Value> = fills
                .iter()
                .map(|f| json!({"price": num(f.price), "qty": num(f.qty), "commission": num(f.fee), "commissionAsset": f.fee_asset, "tradeId": f.id}))
                .collect();
            m.insert("fills".into(), Value::Array(list));
        }
    }
    v
}

/// One entry of `GET /api/v3/myTrades`.
pub(crate) fn trade(f: &Fill) -> Value {
    json!({
        "symbol": f.market, "id": f.id, "orderId": f.order.0, "orderListId": -1,
        "price": num(f.price), "qty": num(f.qty), "quoteQty": num(f.quote_qty),
        "commission": num(f.fee), "commissionAsset": f.fee_asset, "time": f.time_ms,
        "isBuyer": f.side == Side::Buy, "isMaker": f.is_maker, "isBestMatch": true,
    })
}

/// `GET /api/v3/exchangeInfo`.
pub(crate) fn exchange_info(markets: &[MarketSpec], limits: &BinanceLimits, now: u64) -> Value {
    let symbols: Vec<Value> = markets.iter().map(symbol).collect();
    json!({
        "timezone": "UTC",
        "serverTime": now,
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": limits.weight_per_minute},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": limits.orders_per_10s},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": limits.orders_per_day},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 300000},
        ],
        "exchangeFilters": [],
        "symbols": symbols,
    })
}

fn symbol(m: &MarketSpec) -> Value {
    json!({
        "symbol": m.id, "status": "TRADING",
        "baseAsset": m.base, "baseAssetPrecision": 8, "quoteAsset": m.quote, "quotePrecision": 8,
        "quoteAssetPrecision": 8, "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "icebergAllowed": false, "ocoAllowed": false, "otoAllowed": false,
        "quoteOrderQtyMarketAllowed": true, "allowTrailingStop": false, "cancelReplaceAllowed": false,
        "amendAllowed": false, "isSpotTradingAllowed": true, "isMarginTradingAllowed": false,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": num(m.tick), "maxPrice": num(Decimal::from(1_000_000)), "tickSize": num(m.tick)},
            {"filterType": "LOT_SIZE", "minQty": num(m.min_qty), "maxQty": num(Decimal::from(9000)), "stepSize": num(m.step)},
            {"filterType": "MARKET_LOT_SIZE", "minQty": num(Decimal::ZERO), "maxQty": num(Decimal::from(100)), "stepSize": num(Decimal::ZERO)},
            {"filterType": "NOTIONAL", "minNotional": num(m.min_notional), "applyMinToMarket": true,
             "maxNotional": num(Decimal::from(9_000_000)), "applyMaxToMarket": false, "avgPriceMins": 5},
        ],
        "permissions": [], "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    })
}
