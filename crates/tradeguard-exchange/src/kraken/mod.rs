//! Kraken spot: HMAC-SHA512 `API-Sign` with a strictly increasing nonce per key.
//!
//! `sign.rs` signs, `rest.rs` sends, `model.rs` reads answers and errors, `limits.rs`
//! models the rate limits; this file maps the [`Exchange`] trait onto the endpoints.
//! See: <https://docs.kraken.com/api/docs/guides/spot-rest-auth>.

pub mod limits;
pub mod model;
pub mod rest;
pub mod sign;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;

use self::limits::{KrakenCost, cancel_points};
use self::model::{
    AddOrderWire, ApiKeyInfoWire, BalanceExWire, CancelWire, ClosedOrdersWire, OpenOrdersWire,
    OrderWire, TradesWire, balances, pair_names, wire_pair,
};
use self::rest::EX;
pub use self::rest::KrakenClient;
use crate::error::{ExchangeError, RejectKind};
use crate::exchange::Exchange;
use crate::model::{
    Balance, ClientOrderId, ExchangeId, ExchangeOrderId, Fill, KeyPermissions, Order, OrderAck,
    OrderRef, OrderRequest, OrderStatus, OrderType, Side, Symbol, TimeInForce, UnixMillis,
    format_decimal,
};
use crate::retry::Safety;
use crate::wire::model_err;

/// `deadline` sent with each new order: the matching engine rejects it after this.
const ORDER_DEADLINE: Duration = Duration::from_secs(15);
/// `TradesHistory` pages read by one `fills_since` call at most (50 trades each).
const MAX_PAGES: usize = 200;

/// Kraken accepts a UUID (long or 32-hex) or free text of at most 18 characters.
fn check_cl_ord_id(id: &ClientOrderId) -> Result<(), ExchangeError> {
    let s = id.as_str();
    let short_uuid = s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit());
    if id.is_uuid() || short_uuid || s.len() <= 18 {
        return Ok(());
    }
    Err(ExchangeError::Config {
        exchange: EX,
        what: "client_order_id",
        reason: "Kraken accepts a UUID or at most 18 characters; use ClientOrderId::generate()"
            .into(),
    })
}

impl KrakenClient {
    fn to_orders(
        &self,
        map: &HashMap<String, OrderWire>,
        want: Option<&Symbol>,
    ) -> Result<Vec<Order>, ExchangeError> {
        let mut out = Vec::new();
        for (txid, w) in map {
            let sym = match want {
                Some(s) if pair_names(s).contains(&w.descr.pair) => s.clone(),
                Some(_) => continue,
                None => self
                    .pairs
                    .get(&w.descr.pair)
                    .ok_or_else(|| ExchangeError::Protocol {
                        exchange: EX,
                        operation: "open_orders",
                        reason: format!("unknown pair {}", w.descr.pair),
                    })?,
            };
            out.push(w.to_order(txid, &sym).map_err(model_err(EX, "orders"))?);
        }
        out.sort_by_key(|o| (o.created_at, o.exchange_order_id.clone()));
        Ok(out)
    }

    async fn find_by_cl_ord_id(
        &self,
        method: &str,
        id: &ClientOrderId,
        symbol: &Symbol,
    ) -> Result<Option<Order>, ExchangeError> {
        let params = vec![("cl_ord_id", id.to_string())];
        let cost = KrakenCost::Rest(1);
        let map = if method == "OpenOrders" {
            let r: OpenOrdersWire = self
                .private(
                    "order_by_client_id",
                    Safety::Idempotent,
                    cost,
                    method,
                    params,
                )
                .await?;
            r.open
        } else {
            let r: ClosedOrdersWire = self
                .private(
                    "order_by_client_id",
                    Safety::Idempotent,
                    cost,
                    method,
                    params,
                )
                .await?;
            r.closed
        };
        let found = self.to_orders(&map, Some(symbol))?;
        if let Some(o) = found
            .iter()
            .find(|o| o.client_order_id.as_ref() == Some(id))
        {
            return Ok(Some(o.clone()));
        }
        // Orders with other client ids mean the filter was not applied: "not found" would
        // then prove nothing (the order could be on a later page).
        if map
            .values()
            .any(|o| o.cl_ord_id.as_deref() != Some(id.as_str()))
        {
            return Err(ExchangeError::Protocol {
                exchange: EX,
                operation: "order_by_client_id",
                reason: format!(
                    "{method} ignored the cl_ord_id filter; cannot conclude the order is absent"
                ),
            });
        }
        Ok(None)
    }
}

#[async_trait]
impl Exchange for KrakenClient {
    fn id(&self) -> ExchangeId {
        EX
    }

    fn order_validity(&self) -> Duration {
        // Signed (with its `deadline`) after waiting for rate budget.
        self.pipeline.max_wait + ORDER_DEADLINE + Duration::from_secs(5)
    }

    async fn server_time(&self) -> Result<UnixMillis, ExchangeError> {
        self.fetch_server_time().await
    }

    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        let r: HashMap<String, BalanceExWire> = self
            .private(
                "balances",
                Safety::Idempotent,
                KrakenCost::Rest(1),
                "BalanceEx",
                Vec::new(),
            )
            .await?;
        balances(&r).map_err(model_err(EX, "balances"))
    }

    async fn place_order(&self, order: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        check_cl_ord_id(order.client_order_id())?;
        let pair = wire_pair(order.symbol());
        self.pairs.learn(&pair, order.symbol());
        let side = match order.side() {
            Side::Buy => "buy",
            Side::Sell => "sell",
        };
        let mut params = vec![("pair", pair.clone()), ("type", side.to_owned())];
        match order.order_type() {
            OrderType::Market => params.push(("ordertype", "market".into())),
            OrderType::Limit {
                price,
                time_in_force,
            } => {
                let tif = match time_in_force {
                    TimeInForce::Gtc => "GTC",
                    TimeInForce::Ioc => "IOC",
                    TimeInForce::Fok => {
                        return Err(ExchangeError::Unsupported {
                            exchange: EX,
                            operation: "place_order",
                            hint: "Kraken spot has no fill-or-kill; use IOC",
                        });
                    }
                };
                params.push(("ordertype", "limit".into()));
                params.push(("price", format_decimal(price)));
                params.push(("timeinforce", tif.into()));
            }
        }
        params.push(("volume", format_decimal(order.quantity())));
        params.push(("cl_ord_id", order.client_order_id().to_string()));
        let deadline = UnixMillis(self.now().plus(ORDER_DEADLINE).as_secs() * 1000);
        params.push(("deadline", deadline.to_rfc3339()));
        let cost = KrakenCost::Trading { pair, points: 1 };
        let r: AddOrderWire = self
            .private(
                "place_order",
                Safety::NonIdempotent,
                cost,
                "AddOrder",
                params,
            )
            .await?;
        let txid = r
            .txid
            .first()
            .ok_or_else(|| ExchangeError::UnknownOutcome {
                exchange: EX,
                operation: "place_order",
                reason: "AddOrder succeeded without a txid".into(),
            })?;
        Ok(OrderAck {
            exchange_order_id: ExchangeOrderId::parse(txid).map_err(|e| {
                ExchangeError::UnknownOutcome {
                    exchange: EX,
                    operation: "place_order",
                    reason: e.to_string(),
                }
            })?,
            client_order_id: order.client_order_id().clone(),
            status: OrderStatus::Pending,
            filled_quantity: rust_decimal::Decimal::ZERO,
        })
    }

    async fn cancel_order(&self, symbol: &Symbol, order: &OrderRef) -> Result<(), ExchangeError> {
        let param = match order {
            OrderRef::Exchange(id) => ("txid", id.to_string()),
            OrderRef::Client(id) => ("cl_ord_id", id.to_string()),
        };
        let cost = KrakenCost::Trading {
            pair: wire_pair(symbol),
            points: cancel_points(None),
        };
        let r: CancelWire = self
            .private(
                "cancel_order",
                Safety::Idempotent,
                cost,
                "CancelOrder",
                vec![param],
            )
            .await?;
        if r.count == 0 {
            return Err(ExchangeError::Definitive {
                exchange: EX,
                operation: "cancel_order",
                kind: RejectKind::UnknownOrder,
                code: "count=0".into(),
                message: "no open order matched".into(),
            });
        }
        Ok(())
    }

    async fn order_by_client_id(
        &self,
        symbol: &Symbol,
        id: &ClientOrderId,
    ) -> Result<Option<Order>, ExchangeError> {
        if let Some(o) = self.find_by_cl_ord_id("OpenOrders", id, symbol).await? {
            return Ok(Some(o));
        }
        self.find_by_cl_ord_id("ClosedOrders", id, symbol).await
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<Order>, ExchangeError> {
        let r: OpenOrdersWire = self
            .private(
                "open_orders",
                Safety::Idempotent,
                KrakenCost::Rest(1),
                "OpenOrders",
                Vec::new(),
            )
            .await?;
        if symbol.is_none() {
            let names: Vec<String> = r.open.values().map(|o| o.descr.pair.clone()).collect();
            self.resolve_pairs(&names).await?;
        }
        self.to_orders(&r.open, symbol)
    }

    async fn fills_since(
        &self,
        symbol: &Symbol,
        since: UnixMillis,
    ) -> Result<Vec<Fill>, ExchangeError> {
        let names = pair_names(symbol);
        let mut out = Vec::new();
        let mut ofs = 0usize;
        for _ in 0..MAX_PAGES {
            let params = vec![
                ("start", (since.as_secs() - 1).to_string()),
                ("ofs", ofs.to_string()),
            ];
            let r: TradesWire = self
                .private(
                    "fills_since",
                    Safety::Idempotent,
                    KrakenCost::Rest(2),
                    "TradesHistory",
                    params,
                )
                .await?;
            let page = r.trades.len();
            for (id, t) in &r.trades {
                if names.contains(&t.pair) {
                    let f = t
                        .to_fill(id, symbol)
                        .map_err(model_err(EX, "fills_since"))?;
                    if f.time >= since {
                        out.push(f);
                    }
                }
            }
            ofs += page;
            if page == 0 || ofs as i64 >= r.count {
                out.sort_by(|a, b| (a.time, &a.trade_id).cmp(&(b.time, &b.trade_id)));
                return Ok(out);
            }
        }
        Err(ExchangeError::Transient {
            exchange: EX,
            operation: "fills_since",
            reason: format!("more than {MAX_PAGES} pages of trades; sync more often"),
        })
    }

    async fn key_permissions(&self) -> Result<KeyPermissions, ExchangeError> {
        let r: ApiKeyInfoWire = self
            .private(
                "key_permissions",
                Safety::Idempotent,
                KrakenCost::Rest(1),
                "GetApiKeyInfo",
                Vec::new(),
            )
            .await?;
        Ok(r.to_permissions())
    }
}
