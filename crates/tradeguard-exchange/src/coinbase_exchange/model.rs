//! Coinbase Exchange wire types, their conversion to the shared model, and error
//! classification (`{"message": "..."}` with the HTTP status).
//!
//! See: <https://docs.cdp.coinbase.com/api-reference/exchange-api/rest-api/orders/create-new-order>;
//! ccxt `coinbaseexchange.ts`; exchanges.md sections 4.4 and 4.5.

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::error::{ExchangeError, ModelError, RejectKind};
use crate::http::HttpResponse;
use crate::model::{
    Asset, Balance, ClientOrderId, ExchangeId, ExchangeOrderId, Fill, Order, OrderStatus,
    OrderType, Side, Symbol, TimeInForce, TradeId, UnixMillis, parse_decimal,
};
use crate::wire::{snippet, status_error};

const EX: ExchangeId = ExchangeId::CoinbaseExchange;

/// One account of `GET /accounts`.
#[derive(Debug, Deserialize)]
pub struct AccountWire {
    /// Currency.
    pub currency: String,
    /// Total.
    pub balance: String,
    /// Available.
    pub available: String,
    /// On hold.
    pub hold: String,
}

/// An order.
#[derive(Debug, Deserialize)]
pub struct OrderWire {
    /// Order id (UUID).
    pub id: String,
    /// Limit price.
    #[serde(default)]
    pub price: Option<String>,
    /// Base size.
    #[serde(default)]
    pub size: Option<String>,
    /// `BTC-USD`.
    pub product_id: String,
    /// `buy` / `sell`.
    pub side: String,
    /// `limit` / `market`.
    #[serde(rename = "type", default)]
    pub order_type: Option<String>,
    /// `GTC`, `IOC`, `FOK`, `GTT`.
    #[serde(default)]
    pub time_in_force: Option<String>,
    /// RFC 3339 creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Filled base size.
    #[serde(default)]
    pub filled_size: Option<String>,
    /// Filled quote value.
    #[serde(default)]
    pub executed_value: Option<String>,
    /// `received`, `pending`, `open`, `active`, `done`, `rejected`.
    pub status: String,
    /// `filled` / `canceled` for `done` orders.
    #[serde(default)]
    pub done_reason: Option<String>,
    /// Client order id.
    #[serde(default)]
    pub client_oid: Option<String>,
}

/// One fill of `GET /fills`.
#[derive(Debug, Deserialize)]
pub struct FillWire {
    /// Trade id (a number).
    pub trade_id: serde_json::Number,
    /// `BTC-USD`.
    pub product_id: String,
    /// Order id.
    pub order_id: String,
    /// `M` maker / `T` taker.
    #[serde(default)]
    pub liquidity: Option<String>,
    /// Price.
    pub price: String,
    /// Size.
    pub size: String,
    /// Fee.
    pub fee: String,
    /// RFC 3339 time.
    pub created_at: String,
    /// `buy` / `sell`.
    pub side: String,
}

/// `GET /time`.
#[derive(Debug, Deserialize)]
pub struct TimeWire {
    /// Seconds since the epoch, with decimals.
    pub epoch: f64,
}

/// `{"message": "..."}`.
#[derive(Debug, Deserialize, Default)]
pub struct ErrorWire {
    /// Message.
    #[serde(default)]
    pub message: Option<String>,
}

/// The Coinbase spelling of a pair (`BTC-USD`).
pub fn product_id(s: &Symbol) -> String {
    format!("{}-{}", s.base(), s.quote())
}

fn side(s: &str) -> Result<Side, ModelError> {
    match s {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        _ => Err(ModelError::Invalid {
            field: "side",
            reason: "expected buy or sell",
        }),
    }
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
        let qty = opt_dec("size", &self.size)?.unwrap_or_default();
        let filled = opt_dec("filled_size", &self.filled_size)?.unwrap_or_default();
        let value = opt_dec("executed_value", &self.executed_value)?.unwrap_or_default();
        let status = match (self.status.as_str(), self.done_reason.as_deref()) {
            ("received" | "pending", _) => OrderStatus::Pending,
            ("open" | "active", _) if filled > Decimal::ZERO => OrderStatus::PartiallyFilled,
            ("open" | "active", _) => OrderStatus::Open,
            ("done", Some("filled")) => OrderStatus::Filled,
            ("done", Some("canceled" | "cancelled")) => OrderStatus::Cancelled,
            ("done", _) if qty > Decimal::ZERO && filled >= qty => OrderStatus::Filled,
            ("done", _) => OrderStatus::Cancelled,
            ("rejected", _) => OrderStatus::Rejected,
            _ => {
                return Err(ModelError::Invalid {
                    field: "status",
                    reason: "unknown Coinbase Exchange order status",
                });
            }
        };
        let order_type = match (self.order_type.as_deref(), opt_dec("price", &self.price)?) {
            (Some("limit"), Some(price)) => OrderType::Limit {
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
            exchange_order_id: ExchangeOrderId::parse(&self.id)?,
            client_order_id: self
                .client_oid
                .as_deref()
                .and_then(|c| ClientOrderId::parse(c).ok()),
            symbol: Symbol::parse(&self.product_id)?,
            side: side(&self.side)?,
            order_type,
            quantity: qty,
            filled_quantity: filled,
            average_price: (filled > Decimal::ZERO)
                .then(|| value.checked_div(filled))
                .flatten(),
            status,
            created_at: self
                .created_at
                .as_deref()
                .map(UnixMillis::parse_rfc3339)
                .transpose()?,
        })
    }
}

impl FillWire {
    /// The shared model's fill.
    pub fn to_fill(&self) -> Result<Fill, ModelError> {
        let symbol = Symbol::parse(&self.product_id)?;
        Ok(Fill {
            trade_id: TradeId::parse(&self.trade_id.to_string())?,
            exchange_order_id: ExchangeOrderId::parse(&self.order_id)?,
            client_order_id: None,
            side: side(&self.side)?,
            price: parse_decimal("price", &self.price)?,
            quantity: parse_decimal("size", &self.size)?,
            fee: parse_decimal("fee", &self.fee)?,
            fee_asset: Some(symbol.quote().clone()),
            is_maker: self.liquidity.as_deref().map(|l| l == "M"),
            time: UnixMillis::parse_rfc3339(&self.created_at)?,
            symbol,
        })
    }
}

impl AccountWire {
    /// The shared model's balance.
    pub fn to_balance(&self) -> Result<Balance, ModelError> {
        Ok(Balance {
            asset: Asset::parse(&self.currency)?,
            free: parse_decimal("available", &self.available)?,
            locked: parse_decimal("hold", &self.hold)?,
        })
    }
}

/// Classifies a non-2xx Coinbase Exchange response.
pub fn classify(operation: &'static str, resp: &HttpResponse, now: UnixMillis) -> ExchangeError {
    if let Some(e) = status_error(EX, operation, resp, now) {
        return e;
    }
    let body: ErrorWire = serde_json::from_slice(&resp.body).unwrap_or_default();
    let message = body.message.unwrap_or_else(|| snippet(&resp.body));
    let m = message.to_lowercase();
    let kind = match resp.status {
        _ if m.contains("signature") => RejectKind::InvalidSignature,
        _ if m.contains("timestamp") => RejectKind::InvalidTimestamp,
        _ if m.contains("api key") || m.contains("passphrase") => RejectKind::InvalidApiKey,
        _ if m.contains("insufficient funds") => RejectKind::InsufficientFunds,
        _ if m.contains("duplicate") => RejectKind::DuplicateOrder,
        // A cancel of a filled or cancelled order: "Order already done".
        _ if m.contains("already done") => RejectKind::UnknownOrder,
        401 => RejectKind::InvalidApiKey,
        403 => RejectKind::PermissionDenied,
        404 => RejectKind::UnknownOrder,
        _ if operation == "place_order" => RejectKind::InvalidOrder,
        _ => RejectKind::InvalidRequest,
    };
    ExchangeError::Definitive {
        exchange: EX,
        operation,
        kind,
        code: format!("HTTP {}", resp.status),
        message,
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
        let cases: [(&str, u16, &str, &str); 7] = [
            // Regression (chaos test): cancelling a filled order was not "unknown order".
            (
                "cancel_order",
                400,
                r#"{"message":"Order already done"}"#,
                "UnknownOrder",
            ),
            (
                "balances",
                401,
                r#"{"message":"invalid signature"}"#,
                "InvalidSignature",
            ),
            (
                "balances",
                400,
                r#"{"message":"request timestamp expired"}"#,
                "InvalidTimestamp",
            ),
            (
                "balances",
                401,
                r#"{"message":"Invalid Passphrase"}"#,
                "InvalidApiKey",
            ),
            (
                "place_order",
                400,
                r#"{"message":"Insufficient funds"}"#,
                "InsufficientFunds",
            ),
            (
                "cancel_order",
                404,
                r#"{"message":"NotFound"}"#,
                "UnknownOrder",
            ),
            (
                "balances",
                403,
                r#"{"message":"Forbidden"}"#,
                "PermissionDenied",
            ),
        ];
        for (i, (op, status, body, want)) in cases.iter().enumerate() {
            let got = match classify(op, &resp(*status, body), UnixMillis(0)) {
                ExchangeError::Definitive { kind, .. } => format!("{kind:?}"),
                other => format!("{other:?}"),
            };
            assert_eq!(got, *want, "TC{i} failed");
        }
    }

    #[test]
    fn done_orders_map_by_reason() {
        let mk = |reason: &str| {
            format!(
                r#"{{"id":"d0c5340b-6d6c-49d9-b567-48c4bfca13d2","price":"0.10","size":"1.00","product_id":"BTC-USD","side":"buy","type":"limit","time_in_force":"GTC","created_at":"2026-11-22T10:00:00.123Z","filled_size":"1.00","executed_value":"0.10","status":"done","done_reason":"{reason}","client_oid":"496ffbba-7dae-4864-f7e8-a5bf52c6d0e2"}}"#
            )
        };
        let filled: OrderWire = serde_json::from_str(&mk("filled")).unwrap();
        let o = filled.to_order().unwrap();
        assert_eq!(o.status, OrderStatus::Filled);
        assert_eq!(o.average_price, Some(Decimal::new(1, 1)));
        let cancelled: OrderWire = serde_json::from_str(&mk("canceled")).unwrap();
        assert_eq!(cancelled.to_order().unwrap().status, OrderStatus::Cancelled);
    }
}
