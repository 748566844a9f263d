//! Orders: what the gateway asks for, and what the exchange reports back.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ids::{ClientOrderId, ExchangeOrderId};
use super::market::{OrderType, Side, Symbol, UnixMillis};
use crate::error::ModelError;

/// A new order, checked on construction: positive quantity and (for limits) positive price.
/// The client order id is chosen by the gateway and recorded before sending.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    client_order_id: ClientOrderId,
    symbol: Symbol,
    side: Side,
    order_type: OrderType,
    quantity: Decimal,
}

impl OrderRequest {
    /// An order for `quantity` of the base asset.
    pub fn new(
        client_order_id: ClientOrderId,
        symbol: Symbol,
        side: Side,
        order_type: OrderType,
        quantity: Decimal,
    ) -> Result<Self, ModelError> {
        if quantity <= Decimal::ZERO {
            return Err(ModelError::Invalid {
                field: "quantity",
                reason: "must be greater than zero",
            });
        }
        if let OrderType::Limit { price, .. } = order_type
            && price <= Decimal::ZERO
        {
            return Err(ModelError::Invalid {
                field: "price",
                reason: "must be greater than zero",
            });
        }
        Ok(Self {
            client_order_id,
            symbol,
            side,
            order_type,
            quantity,
        })
    }

    /// The gateway's id for this order.
    pub fn client_order_id(&self) -> &ClientOrderId {
        &self.client_order_id
    }

    /// The pair traded.
    pub fn symbol(&self) -> &Symbol {
        &self.symbol
    }

    /// Buy or sell.
    pub fn side(&self) -> Side {
        self.side
    }

    /// Market or limit (with price).
    pub fn order_type(&self) -> OrderType {
        self.order_type
    }

    /// Quantity of the base asset.
    pub fn quantity(&self) -> Decimal {
        self.quantity
    }

    /// The limit price, if any.
    pub fn price(&self) -> Option<Decimal> {
        match self.order_type {
            OrderType::Limit { price, .. } => Some(price),
            OrderType::Market => None,
        }
    }
}

/// An order's state as the exchange reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Accepted, but not yet confirmed on the book (or the exchange did not say).
    Pending,
    /// Resting on the book, nothing filled.
    Open,
    /// Partly filled, the rest still working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled (possibly after a partial fill).
    Cancelled,
    /// Expired by its time in force.
    Expired,
    /// Refused by the exchange.
    Rejected,
}

impl OrderStatus {
    /// True when the order can no longer trade.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Cancelled
                | OrderStatus::Expired
                | OrderStatus::Rejected
        )
    }
}

/// An order as the exchange reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The exchange's id.
    pub exchange_order_id: ExchangeOrderId,
    /// The client id, when the exchange has one that tradeguard could have set.
    pub client_order_id: Option<ClientOrderId>,
    /// The pair.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    pub order_type: OrderType,
    /// Ordered quantity (base asset).
    pub quantity: Decimal,
    /// Filled so far (base asset).
    pub filled_quantity: Decimal,
    /// Average fill price, when anything filled and the exchange reports it.
    pub average_price: Option<Decimal>,
    /// Current state.
    pub status: OrderStatus,
    /// When the exchange created it, if reported.
    pub created_at: Option<UnixMillis>,
}

/// The exchange's answer to a new order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAck {
    /// The exchange's id for the new order.
    pub exchange_order_id: ExchangeOrderId,
    /// The client id that was sent.
    pub client_order_id: ClientOrderId,
    /// The state at acknowledgement (`Pending` when the exchange does not say).
    pub status: OrderStatus,
    /// Quantity already filled at acknowledgement, when reported.
    pub filled_quantity: Decimal,
}

/// Names an existing order, by the exchange's id or by the gateway's client id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderRef {
    /// The exchange's id (fastest on every exchange).
    Exchange(ExchangeOrderId),
    /// The gateway's client order id.
    Client(ClientOrderId),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TimeInForce;

    fn sym() -> Symbol {
        Symbol::parse("BTC/USDT").unwrap()
    }

    #[test]
    fn fail_non_positive_quantity_or_price() {
        let id = ClientOrderId::parse("a1").unwrap();
        let limit = |p: i64| OrderType::Limit {
            price: Decimal::new(p, 0),
            time_in_force: TimeInForce::Gtc,
        };
        let cases = [
            (OrderType::Market, Decimal::ZERO, false),
            (OrderType::Market, Decimal::new(-1, 0), false),
            (limit(0), Decimal::ONE, false),
            (limit(-5), Decimal::ONE, false),
            (limit(5), Decimal::ONE, true),
            (OrderType::Market, Decimal::new(1, 8), true),
        ];
        for (i, (t, q, ok)) in cases.into_iter().enumerate() {
            let r = OrderRequest::new(id.clone(), sym(), Side::Buy, t, q);
            assert_eq!(r.is_ok(), ok, "TC{i} failed");
        }
    }
}
