//! Orders a profile already has on the exchange, and what they commit it to.
//!
//! The pre-trade checks ([`crate::check::check_order_with_open`]) and the rebalancing plans
//! ([`crate::rebalance::PlanInput::open_orders`]) take the profile's open orders, so that an
//! order is never judged against a portfolio that resting orders are about to change.
//!
//! How open orders count, for reviewers:
//! - **Exposure (concentration and category caps)**: the worst case over which open orders
//!   fill. Every open buy is assumed to fill; no open sell is (a resting limit sell may never
//!   fill, or be cancelled, and counting it would let buys in now that break the cap the moment
//!   it goes away). This is stricter than "as if every open order had filled", so that reading
//!   holds too.
//! - **Value (the max position and the denominator of the caps)**: the lowest value any set of
//!   fills can leave: every fill that loses value (its fee, a buy above or a sell below the last
//!   price) is counted, none that gains.
//! - **Free balance**: exchanges report `free` net of what open orders lock, so `free` is not
//!   reduced again. Only when the open orders reserve more than the balance's `locked` part
//!   (the balances were read before an order was placed) is the difference taken off `free`.
//!   An order must therefore fit in `free`, and together with the open orders in
//!   `free + locked`. A buy reserves `remaining x limit x (1 + fee rate)` of the quote asset
//!   (a market buy: at the top of the price band); a sell reserves its remaining quantity.
//! - **Per-order rules** (max notional, price band, precision, minimums) concern the new order
//!   alone.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::RiskError;
use crate::check::Rejection;
use crate::ids::{Asset, Symbol};
use crate::market::{Market, Portfolio, Valuation};
use crate::order::{MAX_ORDER_VALUE, Order, Side};

/// An order of the profile that is on the exchange and not fully filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOrder {
    symbol: Symbol,
    side: Side,
    remaining: Decimal,
    limit_price: Option<Decimal>,
}

impl OpenOrder {
    /// An open order with `remaining` base quantity still to fill, at `limit_price` (`None`
    /// for a market order). Quantity and price must be positive and at most
    /// [`MAX_ORDER_VALUE`]: a fully filled order is no longer open.
    pub fn new(
        symbol: Symbol,
        side: Side,
        remaining: Decimal,
        limit_price: Option<Decimal>,
    ) -> Result<Self, RiskError> {
        if remaining <= Decimal::ZERO || remaining > MAX_ORDER_VALUE {
            return Err(RiskError::InvalidQuantity {
                max: MAX_ORDER_VALUE,
            });
        }
        if limit_price.is_some_and(|p| p <= Decimal::ZERO || p > MAX_ORDER_VALUE) {
            return Err(RiskError::InvalidPrice {
                max: MAX_ORDER_VALUE,
            });
        }
        Ok(Self {
            symbol,
            side,
            remaining,
            limit_price,
        })
    }

    /// An order just placed: nothing of it has filled yet.
    pub fn placed(order: &Order) -> Self {
        Self {
            symbol: order.symbol().clone(),
            side: order.side(),
            remaining: order.quantity(),
            limit_price: order.limit_price(),
        }
    }

    /// The pair traded.
    pub fn symbol(&self) -> &Symbol {
        &self.symbol
    }

    /// Buy or sell.
    pub fn side(&self) -> Side {
        self.side
    }

    /// The base quantity still to fill.
    pub fn remaining(&self) -> Decimal {
        self.remaining
    }

    /// The limit price, or `None` for a market order.
    pub fn limit_price(&self) -> Option<Decimal> {
        self.limit_price
    }
}

/// Quantity and value (at the last price) of one side of the open orders on one asset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Leg {
    pub qty: Decimal,
    pub value: Decimal,
}

/// What a profile's open orders commit it to, computed once per check or plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Pending<'a> {
    /// Open buys per asset: the exposure they add.
    pub buys: BTreeMap<&'a Asset, Leg>,
    /// Open sells per asset: the quantity they reserve and the exposure they remove.
    pub sells: BTreeMap<&'a Asset, Leg>,
    /// Quote asset the open buys reserve, fees included.
    pub cash_reserved: Decimal,
    /// Change of the profile's value once every open order fills (at last prices).
    pub value_change: Decimal,
    /// The sum of the changes that lower the value (zero or negative).
    pub value_loss: Decimal,
}

impl<'a> Pending<'a> {
    /// Sums `open` for a profile quoted in `market`'s quote asset, whose fat-finger band is
    /// `band` (0..=1). Returns every open order that cannot be valued.
    pub fn new(
        open: &'a [OpenOrder],
        market: &Market,
        band: Decimal,
    ) -> Result<Self, Vec<Rejection>> {
        let mut p = Self::default();
        let mut problems = Vec::new();
        for o in open {
            let base = o.symbol.base();
            if o.symbol.quote() != market.quote() {
                problems.push(Rejection::ForeignOpenOrder {
                    symbol: o.symbol.clone(),
                    expected: market.quote().clone(),
                });
                continue;
            }
            let Some(last) = market.price(base) else {
                if !problems
                    .iter()
                    .any(|r| matches!(r, Rejection::MissingPrice { asset } if asset == base))
                {
                    problems.push(Rejection::MissingPrice {
                        asset: base.clone(),
                    });
                }
                continue;
            };
            if p.add(o, last, market.fee_rate(), band).is_none() {
                problems.push(Rejection::ValuationOverflow);
                break;
            }
        }
        if problems.is_empty() {
            Ok(p)
        } else {
            Err(problems)
        }
    }

    /// Adds one open order; `None` on overflow.
    fn add(&mut self, o: &'a OpenOrder, last: Decimal, fee: Decimal, band: Decimal) -> Option<()> {
        let fill = o.limit_price.unwrap_or(last);
        let value = o.remaining.checked_mul(last)?;
        let notional = o.remaining.checked_mul(fill)?;
        let fee_paid = notional.checked_mul(fee)?;
        let (change, leg) = match o.side {
            Side::Buy => {
                let worst = o.limit_price.unwrap_or(last * (Decimal::ONE + band));
                let reserve = o
                    .remaining
                    .checked_mul(worst)?
                    .checked_mul(Decimal::ONE + fee)?;
                self.cash_reserved = self.cash_reserved.checked_add(reserve)?;
                (
                    value - notional - fee_paid,
                    self.buys.entry(o.symbol.base()).or_default(),
                )
            }
            Side::Sell => (
                notional - fee_paid - value,
                self.sells.entry(o.symbol.base()).or_default(),
            ),
        };
        leg.qty = leg.qty.checked_add(o.remaining)?;
        leg.value = leg.value.checked_add(value)?;
        self.value_change = self.value_change.checked_add(change)?;
        self.value_loss = self.value_loss.checked_add(change.min(Decimal::ZERO))?;
        Some(())
    }

    /// The value open buys add to `asset` if they fill.
    pub fn bought_value(&self, asset: &Asset) -> Decimal {
        self.buys.get(asset).map_or(Decimal::ZERO, |l| l.value)
    }

    /// `true` when an open order trades `asset` on `side`.
    pub fn has(&self, asset: &Asset, side: Side) -> bool {
        match side {
            Side::Buy => self.buys.contains_key(asset),
            Side::Sell => self.sells.contains_key(asset),
        }
    }

    /// The lowest value the profile can have once any of its open orders filled.
    pub fn value_floor(&self, total: Decimal) -> Decimal {
        total + self.value_loss
    }

    /// What a new buy may spend: `free` cash, less what open buys reserve beyond `locked`.
    pub fn free_cash(&self, portfolio: &Portfolio) -> Decimal {
        let cash = portfolio.cash();
        cash.free - (self.cash_reserved - cash.locked).max(Decimal::ZERO)
    }

    /// What a new sell of `asset` may sell: `free`, less what open sells reserve beyond
    /// `locked`.
    pub fn free_base(&self, portfolio: &Portfolio, asset: &Asset) -> Decimal {
        let held = portfolio.holding(asset);
        let reserved = self.sells.get(asset).map_or(Decimal::ZERO, |l| l.qty);
        held.free - (reserved - held.locked).max(Decimal::ZERO)
    }

    /// `portfolio` with what the open orders reserve beyond each `locked` part moved from
    /// `free` to `locked`, so that `free` is what new orders may use.
    pub fn reserve(&self, portfolio: &Portfolio) -> Portfolio {
        let mut out = portfolio.clone();
        out.hold(None, self.cash_reserved - portfolio.cash().locked);
        for (asset, leg) in &self.sells {
            out.hold(Some(asset), leg.qty - portfolio.holding(asset).locked);
        }
        out
    }

    /// `v` as it will be once every open order fills (values at last prices, none negative).
    pub fn projected<'v>(&self, v: &Valuation<'v>) -> Valuation<'v>
    where
        'a: 'v,
    {
        let mut values = v.values.clone();
        for (asset, leg) in &self.buys {
            *values.entry(*asset).or_default() += leg.value;
        }
        for (asset, leg) in &self.sells {
            let e = values.entry(*asset).or_default();
            *e = (*e - leg.value).max(Decimal::ZERO);
        }
        let total = v.total + self.value_change;
        let cash = total - values.values().copied().sum::<Decimal>();
        Valuation {
            values,
            cash,
            total,
        }
    }
}

#[cfg(test)]
mod tests;
