//! The order a profile wants to place, and [`RiskApproved`], the proof that it passed the
//! pre-trade checks.

use rust_decimal::Decimal;

use crate::RiskError;
use crate::ids::{ClientOrderId, ProfileId, Symbol};

/// The largest quantity or price an order may carry (10^12). Keeping inputs bounded keeps
/// every product the checks compute inside `Decimal`'s range.
pub const MAX_ORDER_VALUE: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

/// Buy or sell the base asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Buy the base asset with the quote asset: increases exposure.
    Buy,
    /// Sell the base asset for the quote asset: reduces exposure.
    Sell,
}

/// How the order is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderType {
    /// Fill at the best available prices.
    Market,
    /// Fill at `price` or better.
    Limit {
        /// The limit price, in the quote asset.
        price: Decimal,
    },
}

/// An order as a profile wants to place it, before any risk check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    profile: ProfileId,
    client_order_id: ClientOrderId,
    symbol: Symbol,
    side: Side,
    order_type: OrderType,
    quantity: Decimal,
}

impl Order {
    /// Builds an order. Quantity and limit price must be positive and at most
    /// [`MAX_ORDER_VALUE`].
    pub fn new(
        profile: ProfileId,
        client_order_id: ClientOrderId,
        symbol: Symbol,
        side: Side,
        order_type: OrderType,
        quantity: Decimal,
    ) -> Result<Self, RiskError> {
        if quantity <= Decimal::ZERO || quantity > MAX_ORDER_VALUE {
            return Err(RiskError::InvalidQuantity {
                max: MAX_ORDER_VALUE,
            });
        }
        if let OrderType::Limit { price } = order_type
            && (price <= Decimal::ZERO || price > MAX_ORDER_VALUE)
        {
            return Err(RiskError::InvalidPrice {
                max: MAX_ORDER_VALUE,
            });
        }
        Ok(Self {
            profile,
            client_order_id,
            symbol,
            side,
            order_type,
            quantity,
        })
    }

    /// The profile that places the order.
    pub fn profile(&self) -> &ProfileId {
        &self.profile
    }

    /// The idempotency key sent to the exchange.
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

    /// Market or limit (with its price).
    pub fn order_type(&self) -> OrderType {
        self.order_type
    }

    /// The limit price, if any.
    pub fn limit_price(&self) -> Option<Decimal> {
        match self.order_type {
            OrderType::Limit { price } => Some(price),
            OrderType::Market => None,
        }
    }

    /// The quantity of the base asset.
    pub fn quantity(&self) -> Decimal {
        self.quantity
    }
}

/// A value that passed the risk engine's pre-trade checks.
///
/// Only this crate can build one ([`crate::check::check_order`]), so a function that takes a
/// `RiskApproved<Order>` cannot be handed an unchecked order. It is deliberately not `Clone`:
/// one approval is one submission.
#[derive(Debug, PartialEq, Eq)]
pub struct RiskApproved<T> {
    inner: T,
}

impl<T> RiskApproved<T> {
    /// Wraps a value that passed every check. Private to the crate on purpose.
    pub(crate) fn new(inner: T) -> Self {
        Self { inner }
    }

    /// The approved value.
    pub fn get(&self) -> &T {
        &self.inner
    }

    /// Gives up the proof and returns the value (for logging or storage after submission).
    pub fn into_inner(self) -> T {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Asset;

    fn order(qty: Decimal, ty: OrderType) -> Result<Order, RiskError> {
        Order::new(
            ProfileId::new("p").unwrap(),
            ClientOrderId::new("c1").unwrap(),
            Symbol::new(Asset::new("BTC").unwrap(), Asset::new("USD").unwrap()).unwrap(),
            Side::Buy,
            ty,
            qty,
        )
    }

    #[test]
    fn max_order_value_is_ten_to_the_twelve() {
        assert_eq!(MAX_ORDER_VALUE, Decimal::new(1_000_000_000_000, 0));
    }

    #[test]
    fn order_bounds() {
        let one = Decimal::ONE;
        let cases = [
            (one, OrderType::Market, true),
            (Decimal::ZERO, OrderType::Market, false),
            (-one, OrderType::Market, false),
            (MAX_ORDER_VALUE + one, OrderType::Market, false),
            (
                one,
                OrderType::Limit {
                    price: Decimal::ZERO,
                },
                false,
            ),
            (one, OrderType::Limit { price: one }, true),
        ];
        for (i, (q, ty, ok)) in cases.into_iter().enumerate() {
            assert_eq!(order(q, ty).is_ok(), ok, "TC{i} failed");
        }
    }
}
