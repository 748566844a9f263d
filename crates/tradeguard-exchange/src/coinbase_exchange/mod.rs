//! Coinbase Exchange: HMAC-SHA256 with key, secret and passphrase; sandbox and live.
//!
//! `sign.rs` signs, `rest.rs` sends, `model.rs` reads answers and errors, `limits.rs`
//! models the rate limits; this file maps the [`Exchange`] trait onto the endpoints.
//! See: <https://docs.cdp.coinbase.com/exchange/rest-api/authentication>.

pub mod limits;
pub mod model;
pub mod rest;
pub mod sign;

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::json;

use self::limits::CbxCost;
use self::model::{AccountWire, FillWire, OrderWire, product_id};
pub use self::rest::CoinbaseExchangeClient;
use self::rest::EX;
use crate::error::ExchangeError;
use crate::exchange::Exchange;
use crate::model::{
    Balance, ClientOrderId, ExchangeId, Fill, KeyPermissions, Order, OrderAck, OrderRef,
    OrderRequest, OrderType, Side, Symbol, TimeInForce, UnixMillis, format_decimal,
};
use crate::retry::Safety;
use crate::wire::model_err;

/// Coinbase Exchange refuses a request whose timestamp is more than 30 s from its clock.
const TIMESTAMP_WINDOW: Duration = Duration::from_secs(30);
/// Pages read by one paginated call at most.
const MAX_PAGES: usize = 50;
/// Page size (the API's maximum).
const PAGE: usize = 1000;

fn order_body(order: &OrderRequest) -> serde_json::Value {
    let mut body = json!({
        "side": match order.side() { Side::Buy => "buy", Side::Sell => "sell" },
        "product_id": product_id(order.symbol()),
        "size": format_decimal(order.quantity()),
        "client_oid": order.client_order_id().as_str(),
    });
    match order.order_type() {
        OrderType::Market => body["type"] = json!("market"),
        OrderType::Limit {
            price,
            time_in_force,
        } => {
            body["type"] = json!("limit");
            body["price"] = json!(format_decimal(price));
            body["time_in_force"] = json!(match time_in_force {
                TimeInForce::Gtc => "GTC",
                TimeInForce::Ioc => "IOC",
                TimeInForce::Fok => "FOK",
            });
        }
    }
    body
}

fn order_path(order: &OrderRef) -> String {
    match order {
        OrderRef::Exchange(id) => format!("/orders/{id}"),
        OrderRef::Client(id) => format!("/orders/client:{id}"),
    }
}

#[async_trait]
impl Exchange for CoinbaseExchangeClient {
    fn id(&self) -> ExchangeId {
        EX
    }

    fn order_validity(&self) -> Duration {
        // Signed after waiting for rate budget; accepted within 30 s of its timestamp.
        self.pipeline.max_wait + TIMESTAMP_WINDOW + Duration::from_secs(5)
    }

    async fn server_time(&self) -> Result<UnixMillis, ExchangeError> {
        self.fetch_server_time().await
    }

    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        let url = self.url("/accounts", &[])?;
        let page = self
            .call::<Vec<AccountWire>>(
                "balances",
                Safety::Idempotent,
                CbxCost::Private,
                Method::GET,
                url,
                None,
            )
            .await?;
        let mut out = Vec::new();
        for a in &page.items {
            let b = a.to_balance().map_err(model_err(EX, "balances"))?;
            if !b.total().is_zero() {
                out.push(b);
            }
        }
        Ok(out)
    }

    async fn place_order(&self, order: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        if !order.client_order_id().is_uuid() {
            return Err(ExchangeError::Config {
                exchange: EX,
                what: "client_order_id",
                reason: "Coinbase Exchange needs a UUID client_oid; use ClientOrderId::generate()"
                    .into(),
            });
        }
        let url = self.url("/orders", &[])?;
        let body = order_body(order);
        let page = self
            .call::<OrderWire>(
                "place_order",
                Safety::NonIdempotent,
                CbxCost::Private,
                Method::POST,
                url,
                Some(body),
            )
            .await?;
        let o = page
            .items
            .to_order()
            .map_err(|e| ExchangeError::UnknownOutcome {
                exchange: EX,
                operation: "place_order",
                reason: format!("the acknowledgement could not be read ({e})"),
            })?;
        Ok(OrderAck {
            exchange_order_id: o.exchange_order_id,
            client_order_id: order.client_order_id().clone(),
            status: o.status,
            filled_quantity: o.filled_quantity,
        })
    }

    async fn cancel_order(&self, symbol: &Symbol, order: &OrderRef) -> Result<(), ExchangeError> {
        let url = self.url(&order_path(order), &[("product_id", product_id(symbol))])?;
        self.call::<serde_json::Value>(
            "cancel_order",
            Safety::Idempotent,
            CbxCost::Private,
            Method::DELETE,
            url,
            None,
        )
        .await?;
        Ok(())
    }

    async fn order_by_client_id(
        &self,
        _symbol: &Symbol,
        id: &ClientOrderId,
    ) -> Result<Option<Order>, ExchangeError> {
        let url = self.url(&order_path(&OrderRef::Client(id.clone())), &[])?;
        let r = self
            .call::<OrderWire>(
                "order_by_client_id",
                Safety::Idempotent,
                CbxCost::Private,
                Method::GET,
                url,
                None,
            )
            .await;
        match r {
            Ok(page) => Ok(Some(
                page.items
                    .to_order()
                    .map_err(model_err(EX, "order_by_client_id"))?,
            )),
            // Only Coinbase's own "not found" answer means "no such order": a 404 from a
            // wrong base URL or a proxy must not be read as proof that an order was never placed.
            Err(ExchangeError::Definitive {
                kind: crate::RejectKind::UnknownOrder,
                message,
                ..
            }) if matches!(
                message.trim().to_lowercase().as_str(),
                "notfound" | "not found" | "order not found"
            ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<Order>, ExchangeError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut q = vec![
                ("status", "open".to_owned()),
                ("status", "pending".to_owned()),
                ("status", "active".to_owned()),
                ("limit", PAGE.to_string()),
            ];
            if let Some(s) = symbol {
                q.push(("product_id", product_id(s)));
            }
            if let Some(a) = &after {
                q.push(("after", a.clone()));
            }
            let url = self.url("/orders", &q)?;
            let page = self
                .call::<Vec<OrderWire>>(
                    "open_orders",
                    Safety::Idempotent,
                    CbxCost::Private,
                    Method::GET,
                    url,
                    None,
                )
                .await?;
            for w in &page.items {
                out.push(w.to_order().map_err(model_err(EX, "open_orders"))?);
            }
            match page.after {
                Some(a) if page.items.len() >= PAGE => after = Some(a),
                _ => return Ok(out),
            }
        }
        Err(ExchangeError::Protocol {
            exchange: EX,
            operation: "open_orders",
            reason: "too many pages".into(),
        })
    }

    async fn fills_since(
        &self,
        symbol: &Symbol,
        since: UnixMillis,
    ) -> Result<Vec<Fill>, ExchangeError> {
        let mut out: Vec<Fill> = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut q = vec![
                ("product_id", product_id(symbol)),
                ("limit", PAGE.to_string()),
            ];
            if let Some(a) = &after {
                q.push(("after", a.clone()));
            }
            let url = self.url("/fills", &q)?;
            let page = self
                .call::<Vec<FillWire>>(
                    "fills_since",
                    Safety::Idempotent,
                    CbxCost::Fills,
                    Method::GET,
                    url,
                    None,
                )
                .await?;
            let mut older = false;
            for w in &page.items {
                let f = w.to_fill().map_err(model_err(EX, "fills_since"))?;
                if f.time >= since {
                    out.push(f);
                } else {
                    older = true;
                }
            }
            match page.after {
                // Newest first: stop at the first page that reaches back before `since`.
                Some(a) if !older && page.items.len() >= PAGE => after = Some(a),
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
        Err(ExchangeError::Unsupported {
            exchange: EX,
            operation: "key_permissions",
            hint: "Coinbase Exchange has no endpoint that reports a key's permissions; create the key with View and Trade only (no Transfer) and confirm it when importing",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn order_body_table() {
        let id = ClientOrderId::parse("496ffbba-7dae-4864-f7e8-a5bf52c6d0e2").unwrap();
        let sym = Symbol::parse("BTC-USD").unwrap();
        let lim = OrderType::Limit {
            price: Decimal::new(10, 1),
            time_in_force: TimeInForce::Gtc,
        };
        let cases = [
            (
                lim,
                r#"{"client_oid":"496ffbba-7dae-4864-f7e8-a5bf52c6d0e2","price":"1","product_id":"BTC-USD","side":"buy","size":"1","time_in_force":"GTC","type":"limit"}"#,
            ),
            (
                OrderType::Market,
                r#"{"client_oid":"496ffbba-7dae-4864-f7e8-a5bf52c6d0e2","product_id":"BTC-USD","side":"buy","size":"1","type":"market"}"#,
            ),
        ];
        for (i, (t, want)) in cases.into_iter().enumerate() {
            let o = OrderRequest::new(id.clone(), sym.clone(), Side::Buy, t, Decimal::ONE).unwrap();
            assert_eq!(order_body(&o).to_string(), want, "TC{i} failed");
        }
    }
}
