//! Coinbase Advanced Trade (`/api/v3/brokerage`): a JWT per request, ES256 or EdDSA keys.
//!
//! `sign.rs` signs, `rest.rs` sends, `model.rs` reads answers and errors, `limits.rs`
//! models the rate limits; this file maps the [`Exchange`] trait onto the endpoints.
//! See: <https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/rest-api>.

pub mod limits;
pub mod model;
pub mod rest;
pub mod sign;

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::json;

use self::model::{
    AccountsWire, CancelWire, CreateOrderWire, FillsWire, KeyPermissionsWire, OrdersWire,
    order_error_kind, product_id,
};
pub use self::rest::CoinbaseClient;
use self::rest::EX;
use crate::error::{ExchangeError, RejectKind};
use crate::exchange::Exchange;
use crate::model::{
    Balance, ClientOrderId, ExchangeId, ExchangeOrderId, Fill, KeyPermissions, Order, OrderAck,
    OrderRef, OrderRequest, OrderStatus, OrderType, Side, Symbol, TimeInForce, UnixMillis,
    format_decimal,
};
use crate::retry::Safety;
use crate::wire::model_err;

/// Pages read by one paginated call at most.
const MAX_PAGES: usize = 50;
/// Page size for order lists and fills.
const PAGE: &str = "100";

fn order_configuration(order: &OrderRequest) -> serde_json::Value {
    let size = format_decimal(order.quantity());
    match order.order_type() {
        OrderType::Market => json!({"market_market_ioc": {"base_size": size}}),
        OrderType::Limit {
            price,
            time_in_force,
        } => {
            let price = format_decimal(price);
            match time_in_force {
                TimeInForce::Gtc => {
                    json!({"limit_limit_gtc": {"base_size": size, "limit_price": price, "post_only": false}})
                }
                TimeInForce::Ioc => {
                    json!({"sor_limit_ioc": {"base_size": size, "limit_price": price}})
                }
                TimeInForce::Fok => {
                    json!({"limit_limit_fok": {"base_size": size, "limit_price": price}})
                }
            }
        }
    }
}

fn protocol(operation: &'static str, reason: &str) -> ExchangeError {
    ExchangeError::Protocol {
        exchange: EX,
        operation,
        reason: reason.to_owned(),
    }
}

impl CoinbaseClient {
    /// Reads `GET /orders/historical/batch` pages with `query`, stopping when `stop` says so.
    async fn scan_orders(
        &self,
        operation: &'static str,
        query: Vec<(&str, String)>,
        mut stop: impl FnMut(&Order) -> bool + Send,
    ) -> Result<(Vec<Order>, bool), ExchangeError> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut q = query.clone();
            q.push(("limit", PAGE.to_owned()));
            if let Some(c) = &cursor {
                q.push(("cursor", c.clone()));
            }
            let url = self.url("/orders/historical/batch", &q)?;
            let page: OrdersWire = self
                .call(operation, Safety::Idempotent, Method::GET, url, None)
                .await?;
            for w in &page.orders {
                let o = w.to_order().map_err(model_err(EX, operation))?;
                let done = stop(&o);
                out.push(o);
                if done {
                    return Ok((out, true));
                }
            }
            match page.cursor.filter(|c| !c.is_empty()) {
                Some(c) if page.has_next => cursor = Some(c),
                _ => return Ok((out, true)),
            }
        }
        Ok((out, false))
    }
}

#[async_trait]
impl Exchange for CoinbaseClient {
    fn id(&self) -> ExchangeId {
        EX
    }

    fn order_validity(&self) -> Duration {
        // Signed after waiting for rate budget; the JWT that carried the order expires two
        // minutes after that.
        self.pipeline.max_wait + sign::JWT_LIFETIME + Duration::from_secs(5)
    }

    async fn server_time(&self) -> Result<UnixMillis, ExchangeError> {
        self.fetch_server_time().await
    }

    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut q = vec![("limit", "250".to_owned())];
            if let Some(c) = &cursor {
                q.push(("cursor", c.clone()));
            }
            let url = self.url("/accounts", &q)?;
            let page: AccountsWire = self
                .call("balances", Safety::Idempotent, Method::GET, url, None)
                .await?;
            for a in &page.accounts {
                let b = a.to_balance().map_err(model_err(EX, "balances"))?;
                if !b.total().is_zero() {
                    out.push(b);
                }
            }
            match page.cursor.filter(|c| !c.is_empty()) {
                Some(c) if page.has_next => cursor = Some(c),
                _ => return Ok(out),
            }
        }
        Err(protocol("balances", "too many pages of accounts"))
    }

    async fn place_order(&self, order: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        let body = json!({
            "client_order_id": order.client_order_id().as_str(),
            "product_id": product_id(order.symbol()),
            "side": match order.side() { Side::Buy => "BUY", Side::Sell => "SELL" },
            "order_configuration": order_configuration(order),
        });
        let url = self.url("/orders", &[])?;
        let r: CreateOrderWire = self
            .call(
                "place_order",
                Safety::NonIdempotent,
                Method::POST,
                url,
                Some(body),
            )
            .await?;
        if !r.success {
            let e = r.error_response.unwrap_or_default();
            let code = e
                .error
                .clone()
                .or(r.failure_reason.clone())
                .unwrap_or_else(|| "UNKNOWN_FAILURE_REASON".into());
            let message = e
                .message
                .or(e.error_details)
                .or(e.new_order_failure_reason)
                .unwrap_or_default();
            return Err(ExchangeError::Definitive {
                exchange: EX,
                operation: "place_order",
                kind: order_error_kind(&code, &message),
                message,
                code,
            });
        }
        let id = r
            .success_response
            .map(|s| s.order_id)
            .or(r.order_id)
            .ok_or_else(|| ExchangeError::UnknownOutcome {
                exchange: EX,
                operation: "place_order",
                reason: "success without an order id".into(),
            })?;
        let exchange_order_id =
            ExchangeOrderId::parse(&id).map_err(|e| ExchangeError::UnknownOutcome {
                exchange: EX,
                operation: "place_order",
                reason: e.to_string(),
            })?;
        self.remember(order.client_order_id(), &exchange_order_id);
        Ok(OrderAck {
            exchange_order_id,
            client_order_id: order.client_order_id().clone(),
            status: OrderStatus::Pending,
            filled_quantity: rust_decimal::Decimal::ZERO,
        })
    }

    async fn cancel_order(&self, symbol: &Symbol, order: &OrderRef) -> Result<(), ExchangeError> {
        let id = match order {
            OrderRef::Exchange(id) => id.clone(),
            OrderRef::Client(cid) => match self.order_by_client_id(symbol, cid).await? {
                Some(o) => o.exchange_order_id,
                None => {
                    return Err(ExchangeError::Definitive {
                        exchange: EX,
                        operation: "cancel_order",
                        kind: RejectKind::UnknownOrder,
                        code: "NOT_FOUND".into(),
                        message: "no order with this client order id".into(),
                    });
                }
            },
        };
        let url = self.url("/orders/batch_cancel", &[])?;
        let body = json!({"order_ids": [id.as_str()]});
        let r: CancelWire = self
            .call(
                "cancel_order",
                Safety::Idempotent,
                Method::POST,
                url,
                Some(body),
            )
            .await?;
        match r.results.first() {
            Some(x) if x.success => Ok(()),
            Some(x) => {
                let reason = x
                    .failure_reason
                    .clone()
                    .unwrap_or_else(|| "UNKNOWN_CANCEL_FAILURE_REASON".into());
                // Unknown, or already cancelled (Coinbase answers a repeated cancel of a closed
                // order with DUPLICATE_CANCEL_REQUEST): either way no open order is left.
                let kind = if reason.contains("UNKNOWN_CANCEL_ORDER")
                    || reason.contains("DUPLICATE_CANCEL_REQUEST")
                {
                    RejectKind::UnknownOrder
                } else {
                    RejectKind::InvalidRequest
                };
                Err(ExchangeError::Definitive {
                    exchange: EX,
                    operation: "cancel_order",
                    kind,
                    message: reason.clone(),
                    code: reason,
                })
            }
            None => Err(protocol("cancel_order", "batch_cancel returned no result")),
        }
    }

    async fn order_by_client_id(
        &self,
        symbol: &Symbol,
        id: &ClientOrderId,
    ) -> Result<Option<Order>, ExchangeError> {
        let matches = |o: &Order| o.client_order_id.as_ref() == Some(id);
        if let Some(known) = self.known_id(id) {
            let query = vec![("order_ids", known.to_string())];
            let (orders, _) = self
                .scan_orders("order_by_client_id", query, matches)
                .await?;
            if let Some(o) = orders.into_iter().find(|o| matches(o)) {
                return Ok(Some(o));
            }
        }
        let query = vec![("product_ids", product_id(symbol))];
        let (orders, complete) = self
            .scan_orders("order_by_client_id", query, |o| {
                o.client_order_id.as_ref() == Some(id)
            })
            .await?;
        match orders
            .into_iter()
            .find(|o| o.client_order_id.as_ref() == Some(id))
        {
            Some(o) => {
                self.remember(id, &o.exchange_order_id);
                Ok(Some(o))
            }
            None if complete => Ok(None),
            None => Err(ExchangeError::Transient {
                exchange: EX,
                operation: "order_by_client_id",
                reason: format!("not among the newest {MAX_PAGES} pages of orders; search stopped"),
            }),
        }
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<Order>, ExchangeError> {
        let mut query = vec![("order_status", "OPEN".to_owned())];
        if let Some(s) = symbol {
            query.push(("product_ids", product_id(s)));
        }
        let (orders, complete) = self.scan_orders("open_orders", query, |_| false).await?;
        if !complete {
            return Err(protocol("open_orders", "too many pages of open orders"));
        }
        Ok(orders
            .into_iter()
            .filter(|o| !o.status.is_final())
            .collect())
    }

    async fn fills_since(
        &self,
        symbol: &Symbol,
        since: UnixMillis,
    ) -> Result<Vec<Fill>, ExchangeError> {
        let mut out: Vec<Fill> = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut q = vec![
                ("product_ids", product_id(symbol)),
                ("start_sequence_timestamp", since.to_rfc3339()),
                ("limit", PAGE.to_owned()),
            ];
            if let Some(c) = &cursor {
                q.push(("cursor", c.clone()));
            }
            let url = self.url("/orders/historical/fills", &q)?;
            let page: FillsWire = self
                .call("fills_since", Safety::Idempotent, Method::GET, url, None)
                .await?;
            for f in &page.fills {
                let fill = f.to_fill().map_err(model_err(EX, "fills_since"))?;
                if fill.time >= since && !out.iter().any(|x| x.trade_id == fill.trade_id) {
                    out.push(fill);
                }
            }
            match page.cursor.filter(|c| !c.is_empty()) {
                Some(c) if !page.fills.is_empty() => cursor = Some(c),
                _ => {
                    out.sort_by(|a, b| (a.time, &a.trade_id).cmp(&(b.time, &b.trade_id)));
                    return Ok(out);
                }
            }
        }
        Err(ExchangeError::Transient {
            exchange: EX,
            operation: "fills_since",
            reason: format!("more than {MAX_PAGES} pages of fills; sync more often"),
        })
    }

    async fn key_permissions(&self) -> Result<KeyPermissions, ExchangeError> {
        let url = self.url("/key_permissions", &[])?;
        let r: KeyPermissionsWire = self
            .call(
                "key_permissions",
                Safety::Idempotent,
                Method::GET,
                url,
                None,
            )
            .await?;
        Ok(r.to_permissions())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn order_configuration_table() {
        let id = ClientOrderId::parse("c1").unwrap();
        let sym = Symbol::parse("BTC/USD").unwrap();
        let lim = |tif| OrderType::Limit {
            price: Decimal::new(30_000, 0),
            time_in_force: tif,
        };
        let cases = [
            (
                OrderType::Market,
                r#"{"market_market_ioc":{"base_size":"0.5"}}"#,
            ),
            (
                lim(TimeInForce::Gtc),
                r#"{"limit_limit_gtc":{"base_size":"0.5","limit_price":"30000","post_only":false}}"#,
            ),
            (
                lim(TimeInForce::Ioc),
                r#"{"sor_limit_ioc":{"base_size":"0.5","limit_price":"30000"}}"#,
            ),
            (
                lim(TimeInForce::Fok),
                r#"{"limit_limit_fok":{"base_size":"0.5","limit_price":"30000"}}"#,
            ),
        ];
        for (i, (t, want)) in cases.into_iter().enumerate() {
            let o = OrderRequest::new(id.clone(), sym.clone(), Side::Buy, t, Decimal::new(5, 1))
                .unwrap();
            assert_eq!(order_configuration(&o).to_string(), want, "TC{i} failed");
        }
    }
}
