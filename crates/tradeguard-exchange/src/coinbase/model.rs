//! Coinbase Advanced Trade wire types, their conversion to the shared model, and error
//! classification (`{"error","error_details","message"}`, `{"errors":[...]}`, plain text,
//! and `success:false` + `error_response` for orders).
//!
//! See: `coinbase/coinbase-advanced-py` `coinbase/rest/*.py` @ 54fb8ed; exchanges.md 3.3-3.4.

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::error::{ExchangeError, ModelError, RejectKind};
use crate::http::HttpResponse;
use crate::model::{
    Asset, Balance, ClientOrderId, ExchangeId, ExchangeOrderId, Fill, KeyPermissions, Order,
    OrderStatus, OrderType, Side, Symbol, TimeInForce, TradeId, UnixMillis, parse_decimal,
};
use crate::wire::{snippet, status_error};

const EX: ExchangeId = ExchangeId::Coinbase;

/// `{"value": "1.5", "currency": "BTC"}`.
#[derive(Debug, Deserialize)]
pub struct AmountWire {
    /// Amount.
    pub value: String,
}

/// One account of `GET /accounts`.
#[derive(Debug, Deserialize)]
pub struct AccountWire {
    /// Currency code.
    pub currency: String,
    /// Available.
    pub available_balance: AmountWire,
    /// On hold.
    #[serde(default)]
    pub hold: Option<AmountWire>,
}

/// `GET /accounts`.
#[derive(Debug, Deserialize)]
pub struct AccountsWire {
    /// Accounts.
    pub accounts: Vec<AccountWire>,
    /// More pages.
    #[serde(default)]
    pub has_next: bool,
    /// Next page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `error_response` of a failed order.
#[derive(Debug, Deserialize, Default)]
pub struct OrderErrorWire {
    /// `INSUFFICIENT_FUND`, `INVALID_ARGUMENT`, ...
    #[serde(default)]
    pub error: Option<String>,
    /// Message.
    #[serde(default)]
    pub message: Option<String>,
    /// Details.
    #[serde(default)]
    pub error_details: Option<String>,
    /// New-order failure reason.
    #[serde(default)]
    pub new_order_failure_reason: Option<String>,
}

/// `success_response` of a placed order.
#[derive(Debug, Deserialize)]
pub struct OrderSuccessWire {
    /// Order id.
    pub order_id: String,
}

/// `POST /orders`.
#[derive(Debug, Deserialize)]
pub struct CreateOrderWire {
    /// Whether the order was accepted.
    pub success: bool,
    /// Top-level order id (some versions).
    #[serde(default)]
    pub order_id: Option<String>,
    /// Failure reason (top level).
    #[serde(default)]
    pub failure_reason: Option<String>,
    /// On success.
    #[serde(default)]
    pub success_response: Option<OrderSuccessWire>,
    /// On failure.
    #[serde(default)]
    pub error_response: Option<OrderErrorWire>,
}

/// One result of `POST /orders/batch_cancel`.
#[derive(Debug, Deserialize)]
pub struct CancelResultWire {
    /// Cancelled.
    pub success: bool,
    /// Why not (`UNKNOWN_CANCEL_ORDER`, ...).
    #[serde(default)]
    pub failure_reason: Option<String>,
}

/// `POST /orders/batch_cancel`.
#[derive(Debug, Deserialize)]
pub struct CancelWire {
    /// One result per id.
    pub results: Vec<CancelResultWire>,
}

/// An order (`GET /orders/historical/...`).
#[derive(Debug, Deserialize)]
pub struct OrderWire {
    /// Order id.
    pub order_id: String,
    /// `BTC-USD`.
    pub product_id: String,
    /// `BUY` / `SELL`.
    pub side: String,
    /// Client order id.
    #[serde(default)]
    pub client_order_id: Option<String>,
    /// `OPEN`, `FILLED`, ...
    pub status: String,
    /// `{ "limit_limit_gtc": { "base_size", "limit_price" } }` and the like.
    #[serde(default)]
    pub order_configuration: Option<serde_json::Value>,
    /// Filled base size.
    #[serde(default)]
    pub filled_size: Option<String>,
    /// Average fill price.
    #[serde(default)]
    pub average_filled_price: Option<String>,
    /// RFC 3339 creation time.
    #[serde(default)]
    pub created_time: Option<String>,
}

/// `GET /orders/historical/batch`.
#[derive(Debug, Deserialize)]
pub struct OrdersWire {
    /// Orders.
    #[serde(default)]
    pub orders: Vec<OrderWire>,
    /// More pages.
    #[serde(default)]
    pub has_next: bool,
    /// Next page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// One fill.
#[derive(Debug, Deserialize)]
pub struct FillWire {
    /// Trade id.
    pub trade_id: String,
    /// Order id.
    pub order_id: String,
    /// RFC 3339 time.
    pub trade_time: String,
    /// Price.
    pub price: String,
    /// Size (base, or quote when `size_in_quote`).
    pub size: String,
    /// Fee.
    #[serde(default)]
    pub commission: Option<String>,
    /// `BTC-USD`.
    pub product_id: String,
    /// `MAKER` / `TAKER`.
    #[serde(default)]
    pub liquidity_indicator: Option<String>,
    /// `size` is in the quote currency.
    #[serde(default)]
    pub size_in_quote: bool,
    /// `BUY` / `SELL`.
    pub side: String,
}

/// `GET /orders/historical/fills`.
#[derive(Debug, Deserialize)]
pub struct FillsWire {
    /// Fills.
    #[serde(default)]
    pub fills: Vec<FillWire>,
    /// Next page (empty when done).
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `GET /key_permissions`.
#[derive(Debug, Deserialize)]
pub struct KeyPermissionsWire {
    /// Read.
    #[serde(default)]
    pub can_view: bool,
    /// Trade.
    #[serde(default)]
    pub can_trade: bool,
    /// Transfer (send funds).
    #[serde(default)]
    pub can_transfer: bool,
}

/// `GET /time`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeWire {
    /// Milliseconds, as a string.
    pub epoch_millis: String,
}

/// An error body.
#[derive(Debug, Deserialize, Default)]
pub struct ErrorWire {
    /// `PERMISSION_DENIED`, `INVALID_ARGUMENT`, ...
    #[serde(default)]
    pub error: Option<String>,
    /// Details.
    #[serde(default)]
    pub error_details: Option<String>,
    /// Message.
    #[serde(default)]
    pub message: Option<String>,
}

fn side(s: &str) -> Result<Side, ModelError> {
    match s {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        _ => Err(ModelError::Invalid {
            field: "side",
            reason: "expected BUY or SELL",
        }),
    }
}

/// The Coinbase spelling of a pair (`BTC-USD`).
pub fn product_id(s: &Symbol) -> String {
    format!("{}-{}", s.base(), s.quote())
}

fn opt_dec(field: &'static str, v: &Option<String>) -> Result<Option<Decimal>, ModelError> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| parse_decimal(field, s))
        .transpose()
}

impl OrderWire {
    /// The shared model's order.
    pub fn to_order(&self) -> Result<Order, ModelError> {
        let filled = opt_dec("filled_size", &self.filled_size)?.unwrap_or_default();
        let (kind, cfg) = self
            .order_configuration
            .as_ref()
            .and_then(|v| v.as_object())
            .and_then(|m| m.iter().next())
            .map(|(k, v)| (k.as_str(), v.clone()))
            .unwrap_or(("", serde_json::Value::Null));
        let field = |name: &'static str| -> Result<Option<Decimal>, ModelError> {
            opt_dec(
                name,
                &cfg.get(name).and_then(|v| v.as_str()).map(str::to_owned),
            )
        };
        let order_type = match field("limit_price")? {
            Some(price) => OrderType::Limit {
                price,
                time_in_force: match kind {
                    k if k.ends_with("_ioc") => TimeInForce::Ioc,
                    k if k.ends_with("_fok") => TimeInForce::Fok,
                    _ => TimeInForce::Gtc,
                },
            },
            None => OrderType::Market,
        };
        let status = match self.status.as_str() {
            "OPEN" | "CANCEL_QUEUED" if filled > Decimal::ZERO => OrderStatus::PartiallyFilled,
            "OPEN" | "CANCEL_QUEUED" => OrderStatus::Open,
            "PENDING" | "QUEUED" | "UNKNOWN_ORDER_STATUS" => OrderStatus::Pending,
            "FILLED" => OrderStatus::Filled,
            "CANCELLED" => OrderStatus::Cancelled,
            "EXPIRED" => OrderStatus::Expired,
            "FAILED" => OrderStatus::Rejected,
            _ => {
                return Err(ModelError::Invalid {
                    field: "status",
                    reason: "unknown Coinbase order status",
                });
            }
        };
        Ok(Order {
            exchange_order_id: ExchangeOrderId::parse(&self.order_id)?,
            client_order_id: self
                .client_order_id
                .as_deref()
                .and_then(|c| ClientOrderId::parse(c).ok()),
            symbol: Symbol::parse(&self.product_id)?,
            side: side(&self.side)?,
            order_type,
            quantity: field("base_size")?.unwrap_or(filled),
            filled_quantity: filled,
            average_price: opt_dec("average_filled_price", &self.average_filled_price)?
                .filter(|p| *p > Decimal::ZERO),
            status,
            created_at: self
                .created_time
                .as_deref()
                .map(UnixMillis::parse_rfc3339)
                .transpose()?,
        })
    }
}

impl FillWire {
    /// The shared model's fill.
    pub fn to_fill(&self) -> Result<Fill, ModelError> {
        let price = parse_decimal("price", &self.price)?;
        let size = parse_decimal("size", &self.size)?;
        let quantity = if self.size_in_quote {
            size.checked_div(price).ok_or(ModelError::Invalid {
                field: "price",
                reason: "zero price",
            })?
        } else {
            size
        };
        let symbol = Symbol::parse(&self.product_id)?;
        Ok(Fill {
            trade_id: TradeId::parse(&self.trade_id)?,
            exchange_order_id: ExchangeOrderId::parse(&self.order_id)?,
            client_order_id: None,
            side: side(&self.side)?,
            price,
            quantity,
            fee: opt_dec("commission", &self.commission)?.unwrap_or_default(),
            fee_asset: Some(symbol.quote().clone()),
            is_maker: self.liquidity_indicator.as_deref().map(|l| l == "MAKER"),
            time: UnixMillis::parse_rfc3339(&self.trade_time)?,
            symbol,
        })
    }
}

impl AccountWire {
    /// The shared model's balance.
    pub fn to_balance(&self) -> Result<Balance, ModelError> {
        Ok(Balance {
            asset: Asset::parse(&self.currency)?,
            free: parse_decimal("available_balance", &self.available_balance.value)?,
            locked: opt_dec("hold", &self.hold.as_ref().map(|h| h.value.clone()))?
                .unwrap_or_default(),
        })
    }
}

impl KeyPermissionsWire {
    /// The shared model's key permissions. A transfer permission can send funds off the
    /// account, so it counts as withdrawal too.
    pub fn to_permissions(&self) -> KeyPermissions {
        let flags = [
            ("can_view", self.can_view),
            ("can_trade", self.can_trade),
            ("can_transfer", self.can_transfer),
        ];
        KeyPermissions {
            can_read: self.can_view,
            can_trade: self.can_trade,
            can_withdraw: self.can_transfer,
            can_transfer: self.can_transfer,
            ip_restricted: None,
            granted: flags
                .iter()
                .filter(|f| f.1)
                .map(|f| f.0.to_owned())
                .collect(),
        }
    }
}

/// The kind of an order's `error_response.error`, with its message: a refusal that names a
/// duplicate client id in either (Coinbase may answer `UNKNOWN_FAILURE_REASON` with a message)
/// means the exchange may already hold the order, so it must be resolved, not taken as final.
pub fn order_error_kind(error: &str, message: &str) -> RejectKind {
    let duplicate = message.to_ascii_lowercase().contains("duplicate");
    match error {
        "INSUFFICIENT_FUND" | "INSUFFICIENT_FUNDS" => RejectKind::InsufficientFunds,
        e if e.contains("DUPLICATE") => RejectKind::DuplicateOrder,
        _ if duplicate => RejectKind::DuplicateOrder,
        _ => RejectKind::InvalidOrder,
    }
}

/// Classifies a non-2xx Coinbase response.
pub fn classify(operation: &'static str, resp: &HttpResponse, now: UnixMillis) -> ExchangeError {
    if let Some(e) = status_error(EX, operation, resp, now) {
        return e;
    }
    let body: ErrorWire = serde_json::from_slice(&resp.body).unwrap_or_default();
    let text = body
        .message
        .clone()
        .or(body.error_details.clone())
        .unwrap_or_else(|| snippet(&resp.body));
    let lower = text.to_lowercase();
    let kind = match (resp.status, body.error.as_deref()) {
        (401, _) if lower.contains("expired") => RejectKind::InvalidTimestamp,
        (401, _) if lower.contains("signature") => RejectKind::InvalidSignature,
        (401, _) => RejectKind::InvalidApiKey,
        (403, _) => RejectKind::PermissionDenied,
        (404, _) => RejectKind::UnknownOrder,
        (_, Some(e)) if e.starts_with("INSUFFICIENT_FUND") => RejectKind::InsufficientFunds,
        _ if operation == "place_order" => RejectKind::InvalidOrder,
        _ => RejectKind::InvalidRequest,
    };
    ExchangeError::Definitive {
        exchange: EX,
        operation,
        kind,
        code: body
            .error
            .unwrap_or_else(|| format!("HTTP {}", resp.status)),
        message: text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (chaos test): a duplicate answered as `UNKNOWN_FAILURE_REASON` with a
    /// "duplicate client_order_id" message was taken as a final refusal of an order the
    /// exchange had accepted.
    #[test]
    fn order_error_kinds() {
        let cases = [
            ("INSUFFICIENT_FUND", "", RejectKind::InsufficientFunds),
            ("DUPLICATE_CLIENT_ORDER_ID", "", RejectKind::DuplicateOrder),
            (
                "UNKNOWN_FAILURE_REASON",
                "duplicate client_order_id",
                RejectKind::DuplicateOrder,
            ),
            ("UNKNOWN_FAILURE_REASON", "", RejectKind::InvalidOrder),
            ("INVALID_LIMIT_PRICE", "bad price", RejectKind::InvalidOrder),
        ];
        for (i, (code, msg, want)) in cases.iter().enumerate() {
            assert_eq!(order_error_kind(code, msg), *want, "TC{i} failed");
        }
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn error_table() {
        let cases: [(&str, u16, &str, &str); 5] = [
            ("balances", 401, "Unauthorized", "InvalidApiKey HTTP 401"),
            (
                "balances",
                401,
                r#"{"error":"UNAUTHENTICATED","message":"token is expired"}"#,
                "InvalidTimestamp UNAUTHENTICATED",
            ),
            (
                "balances",
                403,
                r#"{"error":"PERMISSION_DENIED","error_details":"Missing required scopes","message":"Missing required scopes"}"#,
                "PermissionDenied PERMISSION_DENIED",
            ),
            (
                "place_order",
                400,
                r#"{"error":"INVALID_ARGUMENT","message":"bad size"}"#,
                "InvalidOrder INVALID_ARGUMENT",
            ),
            (
                "order_by_id",
                404,
                r#"{"error":"NOT_FOUND","message":"order not found"}"#,
                "UnknownOrder NOT_FOUND",
            ),
        ];
        for (i, (op, status, body, want)) in cases.iter().enumerate() {
            let got = match classify(op, &resp(*status, body), UnixMillis(0)) {
                ExchangeError::Definitive { kind, code, .. } => format!("{kind:?} {code}"),
                other => format!("{other:?}"),
            };
            assert_eq!(got, *want, "TC{i} failed");
        }
    }

    #[test]
    fn order_and_fill_convert() {
        let o: OrderWire = serde_json::from_str(r#"{"order_id":"0000-1","product_id":"BTC-USD","side":"BUY","client_order_id":"c1","status":"OPEN","order_configuration":{"limit_limit_gtc":{"base_size":"0.5","limit_price":"30000","post_only":false}},"filled_size":"0.1","average_filled_price":"29999.5","created_time":"2026-11-22T10:00:00Z"}"#).unwrap();
        let o = o.to_order().unwrap();
        assert_eq!(o.status, OrderStatus::PartiallyFilled);
        assert_eq!(o.quantity, Decimal::new(5, 1));
        assert!(matches!(
            o.order_type,
            OrderType::Limit {
                time_in_force: TimeInForce::Gtc,
                ..
            }
        ));
        let f: FillWire = serde_json::from_str(r#"{"trade_id":"t1","order_id":"0000-1","trade_time":"2026-11-22T10:00:01.5Z","price":"20000","size":"100","commission":"0.6","product_id":"BTC-USD","liquidity_indicator":"TAKER","size_in_quote":true,"side":"BUY"}"#).unwrap();
        let f = f.to_fill().unwrap();
        assert_eq!(f.quantity, Decimal::new(5, 3));
        assert_eq!(f.is_maker, Some(false));
        assert_eq!(f.time, UnixMillis(1_795_341_601_500));
    }
}
