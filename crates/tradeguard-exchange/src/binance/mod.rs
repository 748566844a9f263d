//! Binance spot: HMAC-SHA256 and Ed25519 API keys, request weight per minute.
//!
//! `sign.rs` signs, `rest.rs` sends, `model.rs` reads answers and errors, `limits.rs`
//! models the rate limits; this file maps the [`Exchange`] trait onto the endpoints.
//! See: <https://developers.binance.com/docs/binance-spot-api-docs/rest-api>.

pub mod limits;
pub mod model;
pub mod rest;
pub mod sign;

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;

use self::limits::{BinanceCost, weight};
use self::model::{
    AccountWire, OrderWire, RestrictionsWire, TradeWire, wire_side, wire_symbol, wire_tif,
};
pub use self::rest::BinanceClient;
use self::rest::EX;
use crate::error::ExchangeError;
use crate::exchange::Exchange;
use crate::model::{
    Balance, ClientOrderId, ExchangeId, Fill, KeyPermissions, Order, OrderAck, OrderRef,
    OrderRequest, OrderType, Symbol, TradeId, UnixMillis, format_decimal,
};
use crate::pipeline::Call;
use crate::retry::Safety;
use crate::wire::model_err;

/// `myTrades` returns at most this many per call, over at most 24 hours.
const TRADES_PAGE: usize = 1000;
const DAY_MS: i64 = 86_400_000;
/// Pages read by one `fills_since` call before giving up (narrow `since` instead).
const MAX_PAGES: usize = 200;

fn call(operation: &'static str, safety: Safety, cost: BinanceCost) -> Call<BinanceCost> {
    Call {
        operation,
        safety,
        cost,
    }
}

fn order_ref_param(order: &OrderRef) -> (&'static str, String) {
    match order {
        OrderRef::Exchange(id) => ("orderId", id.to_string()),
        OrderRef::Client(id) => ("origClientOrderId", id.to_string()),
    }
}

#[async_trait]
impl Exchange for BinanceClient {
    fn id(&self) -> ExchangeId {
        EX
    }

    fn order_validity(&self) -> Duration {
        // Signed (timestamped) after waiting for rate budget; the matching engine re-checks
        // recvWindow; 1 s covers Binance's "+1000 ms" rule.
        self.pipeline.max_wait + self.recv_window + Duration::from_secs(1)
    }

    async fn server_time(&self) -> Result<UnixMillis, ExchangeError> {
        self.fetch_server_time().await
    }

    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        let c = call(
            "balances",
            Safety::Idempotent,
            BinanceCost::weight(weight::ACCOUNT),
        );
        let params = vec![("omitZeroBalances", "true".to_owned())];
        let acct: AccountWire = self
            .signed_call(c, Method::GET, "/api/v3/account", params)
            .await?;
        let mut out = Vec::new();
        for b in &acct.balances {
            let bal = b.to_balance().map_err(model_err(EX, "balances"))?;
            if !bal.total().is_zero() {
                out.push(bal);
            }
        }
        Ok(out)
    }

    async fn place_order(&self, order: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        let symbol = wire_symbol(order.symbol());
        self.symbols.learn(&symbol, order.symbol());
        let mut params = vec![
            ("symbol", symbol),
            ("side", wire_side(order.side()).to_owned()),
        ];
        match order.order_type() {
            OrderType::Market => params.push(("type", "MARKET".to_owned())),
            OrderType::Limit {
                price,
                time_in_force,
            } => {
                params.push(("type", "LIMIT".to_owned()));
                params.push(("timeInForce", wire_tif(time_in_force).to_owned()));
                params.push(("price", format_decimal(price)));
            }
        }
        params.push(("quantity", format_decimal(order.quantity())));
        params.push(("newClientOrderId", order.client_order_id().to_string()));
        params.push(("newOrderRespType", "RESULT".to_owned()));
        let cost = BinanceCost {
            weight: weight::NEW_ORDER,
            orders: 1,
        };
        let c = call("place_order", Safety::NonIdempotent, cost);
        let w: OrderWire = self
            .signed_call(c, Method::POST, "/api/v3/order", params)
            .await?;
        let o = w
            .to_order(order.symbol())
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
        let params = vec![("symbol", wire_symbol(symbol)), order_ref_param(order)];
        let c = call(
            "cancel_order",
            Safety::Idempotent,
            BinanceCost::weight(weight::CANCEL),
        );
        let _: serde_json::Value = self
            .signed_call(c, Method::DELETE, "/api/v3/order", params)
            .await?;
        Ok(())
    }

    async fn order_by_client_id(
        &self,
        symbol: &Symbol,
        client_order_id: &ClientOrderId,
    ) -> Result<Option<Order>, ExchangeError> {
        let params = vec![
            ("symbol", wire_symbol(symbol)),
            ("origClientOrderId", client_order_id.to_string()),
        ];
        let c = call(
            "order_by_client_id",
            Safety::Idempotent,
            BinanceCost::weight(weight::QUERY_ORDER),
        );
        let w: Option<OrderWire> = self.signed_lookup(c, "/api/v3/order", params).await?;
        w.map(|w| {
            w.to_order(symbol)
                .map_err(model_err(EX, "order_by_client_id"))
        })
        .transpose()
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<Order>, ExchangeError> {
        let (params, w) = match symbol {
            Some(s) => (vec![("symbol", wire_symbol(s))], weight::OPEN_ORDERS_ONE),
            None => (Vec::new(), weight::OPEN_ORDERS_ALL),
        };
        let c = call("open_orders", Safety::Idempotent, BinanceCost::weight(w));
        let wires: Vec<OrderWire> = self
            .signed_call(c, Method::GET, "/api/v3/openOrders", params)
            .await?;
        if symbol.is_none() {
            let names: Vec<String> = wires.iter().map(|w| w.symbol.clone()).collect();
            self.resolve_symbols(&names).await?;
        }
        wires
            .iter()
            .map(|w| {
                let sym = match symbol {
                    Some(s) => s.clone(),
                    None => self
                        .symbols
                        .get(&w.symbol)
                        .ok_or_else(|| ExchangeError::Protocol {
                            exchange: EX,
                            operation: "open_orders",
                            reason: format!("unknown symbol {} in open orders", w.symbol),
                        })?,
                };
                w.to_order(&sym).map_err(model_err(EX, "open_orders"))
            })
            .collect()
    }

    async fn fills_since(
        &self,
        symbol: &Symbol,
        since: UnixMillis,
    ) -> Result<Vec<Fill>, ExchangeError> {
        let mut out: Vec<Fill> = Vec::new();
        let mut seen = std::collections::HashSet::<TradeId>::new();
        let mut start = since.0;
        let now = self.now().0;
        for _ in 0..MAX_PAGES {
            if start > now {
                return Ok(out);
            }
            let end = (start + DAY_MS - 1).min(now);
            let page = self.trades_page(symbol, start, end).await?;
            let full = page.len() >= TRADES_PAGE;
            let last_time = page.iter().map(|t| t.time).max();
            for t in &page {
                let f = t.to_fill(symbol).map_err(model_err(EX, "fills_since"))?;
                if seen.insert(f.trade_id.clone()) {
                    out.push(f);
                }
            }
            start = match (full, last_time) {
                // A full page: continue from its last millisecond (duplicates are skipped).
                (true, Some(t)) if t > start => t,
                (true, _) => {
                    return Err(ExchangeError::Transient {
                        exchange: EX,
                        operation: "fills_since",
                        reason: "more than 1000 trades in one millisecond; cannot page".into(),
                    });
                }
                _ => end + 1,
            };
        }
        Err(ExchangeError::Transient {
            exchange: EX,
            operation: "fills_since",
            reason: format!("more than {MAX_PAGES} pages of trades; sync more often"),
        })
    }

    async fn key_permissions(&self) -> Result<KeyPermissions, ExchangeError> {
        if self.sandbox {
            return Err(ExchangeError::Unsupported {
                exchange: EX,
                operation: "key_permissions",
                hint: "the Spot Test Network has no /sapi endpoints; verify the key on production",
            });
        }
        let c = call(
            "key_permissions",
            Safety::Idempotent,
            BinanceCost::weight(weight::API_RESTRICTIONS),
        );
        let r: RestrictionsWire = self
            .signed_call(
                c,
                Method::GET,
                "/sapi/v1/account/apiRestrictions",
                Vec::new(),
            )
            .await?;
        Ok(r.to_permissions())
    }
}

impl BinanceClient {
    async fn trades_page(
        &self,
        symbol: &Symbol,
        start: i64,
        end: i64,
    ) -> Result<Vec<TradeWire>, ExchangeError> {
        let params = vec![
            ("symbol", wire_symbol(symbol)),
            ("startTime", start.to_string()),
            ("endTime", end.to_string()),
            ("limit", TRADES_PAGE.to_string()),
        ];
        let c = call(
            "fills_since",
            Safety::Idempotent,
            BinanceCost::weight(weight::MY_TRADES),
        );
        let mut page: Vec<TradeWire> = self
            .signed_call(c, Method::GET, "/api/v3/myTrades", params)
            .await?;
        page.sort_by_key(|t| (t.time, t.id));
        Ok(page)
    }
}
