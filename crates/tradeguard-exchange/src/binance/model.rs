//! Binance wire types, their conversion to the shared model, and error classification.
//!
//! See: <https://developers.binance.com/docs/binance-spot-api-docs/rest-api> (response
//! shapes), `errors.md` (codes); exchanges.md sections 1.4 and 1.5.

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::error::{ExchangeError, ModelError, RejectKind};
use crate::http::HttpResponse;
use crate::model::{
    Asset, Balance, ClientOrderId, ExchangeId, ExchangeOrderId, Fill, KeyPermissions, Order,
    OrderStatus, OrderType, Side, Symbol, TimeInForce, TradeId, UnixMillis, parse_decimal,
};
use crate::wire::{snippet, status_error};

const EX: ExchangeId = ExchangeId::Binance;

/// `{"code": -1022, "msg": "..."}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    /// Binance error code (negative).
    pub code: i64,
    /// Binance message.
    pub msg: String,
}

/// `GET /api/v3/account` (the part read).
#[derive(Debug, Deserialize)]
pub struct AccountWire {
    /// Balances.
    pub balances: Vec<BalanceWire>,
}

/// One balance.
#[derive(Debug, Deserialize)]
pub struct BalanceWire {
    /// Asset code.
    pub asset: String,
    /// Available.
    pub free: String,
    /// In open orders.
    pub locked: String,
}

/// An order (`POST`/`GET`/`DELETE /api/v3/order`, `GET /api/v3/openOrders`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderWire {
    /// Symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Exchange order id.
    pub order_id: u64,
    /// Client order id.
    pub client_order_id: String,
    /// Limit price (`"0.00000000"` for market orders).
    #[serde(default)]
    pub price: Option<String>,
    /// Ordered quantity.
    #[serde(default)]
    pub orig_qty: Option<String>,
    /// Filled quantity.
    #[serde(default)]
    pub executed_qty: Option<String>,
    /// Quote quantity filled.
    #[serde(default)]
    pub cummulative_quote_qty: Option<String>,
    /// Status (`NEW`, `FILLED`, ...).
    #[serde(default)]
    pub status: Option<String>,
    /// Order type (`LIMIT`, `MARKET`, ...).
    #[serde(default, rename = "type")]
    pub order_type: Option<String>,
    /// `BUY` or `SELL`.
    #[serde(default)]
    pub side: Option<String>,
    /// `GTC`, `IOC`, `FOK`.
    #[serde(default)]
    pub time_in_force: Option<String>,
    /// Creation time (queries).
    #[serde(default)]
    pub time: Option<i64>,
    /// Creation time (new order).
    #[serde(default)]
    pub transact_time: Option<i64>,
}

/// One trade of `GET /api/v3/myTrades`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeWire {
    /// Symbol.
    pub symbol: String,
    /// Trade id.
    pub id: u64,
    /// Order id.
    pub order_id: u64,
    /// Price.
    pub price: String,
    /// Quantity.
    pub qty: String,
    /// Fee.
    pub commission: String,
    /// Fee asset.
    pub commission_asset: String,
    /// Time (ms).
    pub time: i64,
    /// True when we bought.
    pub is_buyer: bool,
    /// True when we were the maker.
    pub is_maker: bool,
}

/// `GET /sapi/v1/account/apiRestrictions`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestrictionsWire {
    /// The key only works from listed IPs.
    pub ip_restrict: bool,
    /// Read permission.
    #[serde(default)]
    pub enable_reading: bool,
    /// Withdrawals allowed.
    #[serde(default)]
    pub enable_withdrawals: bool,
    /// Internal transfers allowed.
    #[serde(default)]
    pub enable_internal_transfer: bool,
    /// Universal transfers allowed.
    #[serde(default)]
    pub permits_universal_transfer: bool,
    /// Spot and margin trading allowed.
    #[serde(default)]
    pub enable_spot_and_margin_trading: bool,
    /// Margin allowed.
    #[serde(default)]
    pub enable_margin: bool,
    /// Futures allowed.
    #[serde(default)]
    pub enable_futures: bool,
}

/// `GET /api/v3/time`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeWire {
    /// Server time (ms).
    pub server_time: i64,
}

/// `GET /api/v3/exchangeInfo` (the part read).
#[derive(Debug, Deserialize)]
pub struct ExchangeInfoWire {
    /// Markets.
    pub symbols: Vec<SymbolInfoWire>,
}

/// One market.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymbolInfoWire {
    /// `BTCUSDT`.
    pub symbol: String,
    /// `BTC`.
    pub base_asset: String,
    /// `USDT`.
    pub quote_asset: String,
}

/// The Binance spelling of a pair.
pub fn wire_symbol(s: &Symbol) -> String {
    format!("{}{}", s.base(), s.quote())
}

/// Binance's side name.
pub fn wire_side(s: Side) -> &'static str {
    match s {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

/// Binance's time-in-force name.
pub fn wire_tif(t: TimeInForce) -> &'static str {
    match t {
        TimeInForce::Gtc => "GTC",
        TimeInForce::Ioc => "IOC",
        TimeInForce::Fok => "FOK",
    }
}

fn invalid(field: &'static str, reason: &'static str) -> ModelError {
    ModelError::Invalid { field, reason }
}

fn side(s: &str) -> Result<Side, ModelError> {
    match s {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        _ => Err(invalid("side", "expected BUY or SELL")),
    }
}

/// Maps Binance's order status.
pub fn status(s: &str, executed: Decimal) -> Result<OrderStatus, ModelError> {
    Ok(match s {
        "PENDING_NEW" => OrderStatus::Pending,
        "NEW" | "PENDING_CANCEL" if executed > Decimal::ZERO => OrderStatus::PartiallyFilled,
        "NEW" | "PENDING_CANCEL" => OrderStatus::Open,
        "PARTIALLY_FILLED" => OrderStatus::PartiallyFilled,
        "FILLED" => OrderStatus::Filled,
        "CANCELED" => OrderStatus::Cancelled,
        "REJECTED" => OrderStatus::Rejected,
        "EXPIRED" | "EXPIRED_IN_MATCH" => OrderStatus::Expired,
        _ => return Err(invalid("status", "unknown Binance order status")),
    })
}

fn dec(field: &'static str, v: &Option<String>) -> Result<Decimal, ModelError> {
    v.as_deref()
        .map_or(Ok(Decimal::ZERO), |s| parse_decimal(field, s))
}

impl OrderWire {
    /// The shared model's order, for the pair `symbol` (which this order is on).
    pub fn to_order(&self, symbol: &Symbol) -> Result<Order, ModelError> {
        let executed = dec("executedQty", &self.executed_qty)?;
        let quote = dec("cummulativeQuoteQty", &self.cummulative_quote_qty)?;
        let price = dec("price", &self.price)?;
        let order_type = match self.order_type.as_deref() {
            Some("MARKET") => OrderType::Market,
            _ if price > Decimal::ZERO => OrderType::Limit {
                price,
                time_in_force: match self.time_in_force.as_deref() {
                    Some("IOC") => TimeInForce::Ioc,
                    Some("FOK") => TimeInForce::Fok,
                    _ => TimeInForce::Gtc,
                },
            },
            _ => OrderType::Market,
        };
        Ok(Order {
            exchange_order_id: ExchangeOrderId::parse(&self.order_id.to_string())?,
            client_order_id: ClientOrderId::parse(&self.client_order_id).ok(),
            symbol: symbol.clone(),
            side: side(self.side.as_deref().unwrap_or_default())?,
            order_type,
            quantity: dec("origQty", &self.orig_qty)?,
            filled_quantity: executed,
            average_price: (executed > Decimal::ZERO)
                .then(|| quote.checked_div(executed))
                .flatten(),
            status: status(self.status.as_deref().unwrap_or_default(), executed)?,
            created_at: self.time.or(self.transact_time).map(UnixMillis),
        })
    }
}

impl TradeWire {
    /// The shared model's fill.
    pub fn to_fill(&self, symbol: &Symbol) -> Result<Fill, ModelError> {
        Ok(Fill {
            trade_id: TradeId::parse(&self.id.to_string())?,
            exchange_order_id: ExchangeOrderId::parse(&self.order_id.to_string())?,
            client_order_id: None,
            symbol: symbol.clone(),
            side: if self.is_buyer { Side::Buy } else { Side::Sell },
            price: parse_decimal("price", &self.price)?,
            quantity: parse_decimal("qty", &self.qty)?,
            fee: parse_decimal("commission", &self.commission)?,
            fee_asset: Asset::parse(&self.commission_asset).ok(),
            is_maker: Some(self.is_maker),
            time: UnixMillis(self.time),
        })
    }
}

impl BalanceWire {
    /// The shared model's balance.
    pub fn to_balance(&self) -> Result<Balance, ModelError> {
        Ok(Balance {
            asset: Asset::parse(&self.asset)?,
            free: parse_decimal("free", &self.free)?,
            locked: parse_decimal("locked", &self.locked)?,
        })
    }
}

impl RestrictionsWire {
    /// The shared model's key permissions.
    pub fn to_permissions(&self) -> KeyPermissions {
        let flags = [
            ("enableReading", self.enable_reading),
            (
                "enableSpotAndMarginTrading",
                self.enable_spot_and_margin_trading,
            ),
            ("enableWithdrawals", self.enable_withdrawals),
            ("enableInternalTransfer", self.enable_internal_transfer),
            ("permitsUniversalTransfer", self.permits_universal_transfer),
            ("enableMargin", self.enable_margin),
            ("enableFutures", self.enable_futures),
        ];
        KeyPermissions {
            can_read: self.enable_reading,
            can_trade: self.enable_spot_and_margin_trading,
            can_withdraw: self.enable_withdrawals,
            can_transfer: self.enable_internal_transfer || self.permits_universal_transfer,
            ip_restricted: Some(self.ip_restrict),
            granted: flags
                .iter()
                .filter(|(_, on)| *on)
                .map(|(n, _)| (*n).to_owned())
                .collect(),
        }
    }
}

/// Classifies a non-2xx Binance response.
pub fn classify(operation: &'static str, resp: &HttpResponse, now: UnixMillis) -> ExchangeError {
    if let Some(e) = status_error(EX, operation, resp, now) {
        return e;
    }
    match serde_json::from_slice::<ErrorBody>(&resp.body) {
        Ok(body) => classify_code(operation, resp.status, body),
        Err(_) => ExchangeError::Definitive {
            exchange: EX,
            operation,
            kind: RejectKind::InvalidRequest,
            code: format!("HTTP {}", resp.status),
            message: snippet(&resp.body),
        },
    }
}

fn classify_code(operation: &'static str, status: u16, body: ErrorBody) -> ExchangeError {
    let kind = match body.code {
        -1000 | -1001 | -1006 | -1007 | -1008 => {
            return ExchangeError::Transient {
                exchange: EX,
                operation,
                reason: format!("Binance {}: {}", body.code, body.msg),
            };
        }
        -1003 | -1015 => {
            return ExchangeError::RateLimited {
                exchange: EX,
                operation,
                retry_after: None,
            };
        }
        -1002 => RejectKind::PermissionDenied,
        -1021 => RejectKind::InvalidTimestamp,
        -1022 => RejectKind::InvalidSignature,
        -2014 | -2015 => RejectKind::InvalidApiKey,
        -2013 | -2026 => RejectKind::UnknownOrder,
        -2010 if body.msg.contains("insufficient balance") => RejectKind::InsufficientFunds,
        -2010 if body.msg.contains("Duplicate order") => RejectKind::DuplicateOrder,
        -2011 if body.msg.contains("Unknown order") => RejectKind::UnknownOrder,
        _ if operation == "place_order" => RejectKind::InvalidOrder,
        _ if status == 401 => RejectKind::InvalidApiKey,
        _ => RejectKind::InvalidRequest,
    };
    ExchangeError::Definitive {
        exchange: EX,
        operation,
        kind,
        code: body.code.to_string(),
        message: body.msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn error_table() {
        let cases: [(&str, u16, &str, &str); 9] = [
            (
                "balances",
                400,
                r#"{"code":-1022,"msg":"Signature for this request is not valid."}"#,
                "def InvalidSignature -1022",
            ),
            (
                "balances",
                400,
                r#"{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}"#,
                "def InvalidTimestamp -1021",
            ),
            (
                "balances",
                401,
                r#"{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}"#,
                "def InvalidApiKey -2015",
            ),
            (
                "place_order",
                400,
                r#"{"code":-2010,"msg":"Account has insufficient balance for requested action."}"#,
                "def InsufficientFunds -2010",
            ),
            (
                "place_order",
                400,
                r#"{"code":-2010,"msg":"Duplicate order sent."}"#,
                "def DuplicateOrder -2010",
            ),
            (
                "cancel_order",
                400,
                r#"{"code":-2011,"msg":"Unknown order sent."}"#,
                "def UnknownOrder -2011",
            ),
            (
                "place_order",
                400,
                r#"{"code":-1013,"msg":"Filter failure: LOT_SIZE"}"#,
                "def InvalidOrder -1013",
            ),
            (
                "place_order",
                408,
                r#"{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}"#,
                "transient",
            ),
            ("balances", 400, "not json", "def InvalidRequest HTTP 400"),
        ];
        for (i, (op, status, body, want)) in cases.iter().enumerate() {
            let got = match classify(op, &resp(*status, body), UnixMillis(0)) {
                ExchangeError::Definitive { kind, code, .. } => format!("def {kind:?} {code}"),
                ExchangeError::Transient { .. } => "transient".into(),
                other => format!("{other:?}"),
            };
            assert_eq!(got, *want, "TC{i} failed");
        }
    }

    #[test]
    fn order_wire_converts() {
        let json = r#"{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"6gCrw2kRUAF9CvJDGP16IP","transactTime":1507725176595,"price":"0.10000000","origQty":"10.00000000","executedQty":"4.00000000","cummulativeQuoteQty":"0.40000000","status":"PARTIALLY_FILLED","timeInForce":"GTC","type":"LIMIT","side":"SELL"}"#;
        let w: OrderWire = serde_json::from_str(json).unwrap();
        let o = w.to_order(&Symbol::parse("BTC/USDT").unwrap()).unwrap();
        assert_eq!(o.exchange_order_id.as_str(), "28");
        assert_eq!(o.status, OrderStatus::PartiallyFilled);
        assert_eq!(o.filled_quantity, Decimal::new(4, 0));
        assert_eq!(o.average_price, Some(Decimal::new(1, 1)));
        assert_eq!(o.side, Side::Sell);
    }
}
