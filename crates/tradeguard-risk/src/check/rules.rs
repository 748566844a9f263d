//! The checks that need no trading state: identity, instrument rules, notional, price band,
//! balance, max position, concentration and category caps after the fill, each judged with the
//! profile's open orders as [`crate::open`] describes.

use rust_decimal::Decimal;

use super::Rejection;
use crate::ids::Asset;
use crate::limits::PortfolioLimits;
use crate::market::{Market, Portfolio, Valuation, is_multiple};
use crate::open::Pending;
use crate::order::{Order, OrderType, Side};
use crate::profile::Profile;

/// The inputs of the stateless checks.
pub(super) struct Statics<'a> {
    pub profile: &'a Profile,
    pub limits: &'a PortfolioLimits,
    pub portfolio: &'a Portfolio,
    pub market: &'a Market,
    /// What the profile's open orders commit it to.
    pub pending: &'a Pending<'a>,
}

impl Statics<'_> {
    /// The fat-finger band, kept within 0..=1 so that no product can overflow even for a
    /// hand-built profile (a checked configuration never holds another value).
    fn band_fraction(&self) -> Decimal {
        self.profile.price_band.clamp(Decimal::ZERO, Decimal::ONE)
    }

    /// Runs every stateless check and appends each failure to `out`.
    pub fn check(
        &self,
        valuation: Option<&Valuation<'_>>,
        order: &Order,
        out: &mut Vec<Rejection>,
    ) {
        self.identity(order, out);
        let base = order.symbol().base();
        let last = self.market.price(base);
        if last.is_none()
            && !out
                .iter()
                .any(|r| matches!(r, Rejection::MissingPrice { asset } if asset == base))
        {
            out.push(Rejection::MissingPrice {
                asset: base.clone(),
            });
        }
        self.instrument(order, last, out);
        self.band(order, last, out);
        let Some(last) = last else { return };
        let fill = order.limit_price().unwrap_or(last);
        let notional = order.quantity() * fill;
        if notional > self.profile.max_order_notional {
            out.push(Rejection::MaxNotional {
                notional,
                max: self.profile.max_order_notional,
            });
        }
        self.balance(order, last, out);
        if let Some(v) = valuation {
            self.exposure(order, v, last, fill, out);
        }
    }

    fn identity(&self, order: &Order, out: &mut Vec<Rejection>) {
        let (base, quote) = (order.symbol().base(), order.symbol().quote());
        if *order.profile() != self.profile.id {
            out.push(Rejection::WrongProfile {
                order_profile: order.profile().clone(),
            });
        }
        if *quote != self.profile.quote || *quote != *self.market.quote() {
            out.push(Rejection::QuoteMismatch {
                quote: quote.clone(),
                expected: self.profile.quote.clone(),
            });
        }
        if !self.profile.trades(base) {
            out.push(Rejection::NotInAssetSet {
                asset: base.clone(),
            });
        }
        for asset in [base, quote] {
            if self.limits.is_excluded(asset) {
                out.push(Rejection::ExcludedAsset {
                    asset: asset.clone(),
                });
            }
        }
    }

    fn instrument(&self, order: &Order, last: Option<Decimal>, out: &mut Vec<Rejection>) {
        let base = order.symbol().base();
        let Some(rules) = self.market.instrument(base) else {
            out.push(Rejection::UnknownInstrument {
                asset: base.clone(),
            });
            return;
        };
        let qty = order.quantity();
        if let Some(price) = order.limit_price()
            && !is_multiple(price, rules.tick_size)
        {
            out.push(Rejection::PricePrecision {
                price,
                tick_size: rules.tick_size,
            });
        }
        if !is_multiple(qty, rules.step_size) {
            out.push(Rejection::QuantityPrecision {
                quantity: qty,
                step_size: rules.step_size,
            });
        }
        if qty < rules.min_quantity {
            out.push(Rejection::BelowMinQuantity {
                quantity: qty,
                min: rules.min_quantity,
            });
        }
        if let Some(price) = order.limit_price().or(last) {
            let notional = qty * price;
            if notional < rules.min_notional {
                out.push(Rejection::BelowMinNotional {
                    notional,
                    min: rules.min_notional,
                });
            }
        }
    }

    fn band(&self, order: &Order, last: Option<Decimal>, out: &mut Vec<Rejection>) {
        let (Some(price), Some(last)) = (order.limit_price(), last) else {
            return;
        };
        let band = self.band_fraction();
        if (price - last).abs() > band * last {
            out.push(Rejection::PriceBand { price, last, band });
        }
    }

    fn balance(&self, order: &Order, last: Decimal, out: &mut Vec<Rejection>) {
        let qty = order.quantity();
        let base = order.symbol().base();
        match order.side() {
            Side::Buy => {
                let worst = match order.order_type() {
                    OrderType::Limit { price } => price,
                    OrderType::Market => last * (Decimal::ONE + self.band_fraction()),
                };
                let needed = qty * worst * (Decimal::ONE + self.market.fee_rate());
                let free = self.pending.free_cash(self.portfolio);
                if needed > free {
                    out.push(Rejection::InsufficientBalance {
                        asset: order.symbol().quote().clone(),
                        needed,
                        free,
                    });
                }
            }
            Side::Sell => {
                let free = self.pending.free_base(self.portfolio, base);
                if qty > free {
                    out.push(Rejection::InsufficientBalance {
                        asset: base.clone(),
                        needed: qty,
                        free,
                    });
                }
            }
        }
    }

    /// Max position for every order, against the lowest value the open orders can leave;
    /// concentration and category caps after the fill for buys.
    fn exposure(
        &self,
        order: &Order,
        v: &Valuation<'_>,
        last: Decimal,
        fill: Decimal,
        out: &mut Vec<Rejection>,
    ) {
        let notional = order.quantity() * fill;
        if v.total <= Decimal::ZERO {
            return; // nothing to trade with: the balance check already refused it
        }
        let floor = self.pending.value_floor(v.total);
        if floor <= Decimal::ZERO {
            out.push(Rejection::OpenOrdersExceedValue {
                loss: -self.pending.value_loss,
                value: v.total,
            });
            return;
        }
        let fraction = notional / floor;
        if fraction > self.profile.max_position_size {
            out.push(Rejection::MaxPosition {
                fraction,
                max: self.profile.max_position_size,
            });
        }
        if order.side() == Side::Buy {
            self.caps_after_buy(order, v, floor, last, fill, out);
        }
    }

    /// Weights after the fill over `floor`, the lowest value open orders can leave, with every
    /// open buy counted and no open sell (see [`crate::open`]).
    fn caps_after_buy(
        &self,
        order: &Order,
        v: &Valuation<'_>,
        floor: Decimal,
        last: Decimal,
        fill: Decimal,
        out: &mut Vec<Rejection>,
    ) {
        let base = order.symbol().base();
        let qty = order.quantity();
        let added = qty * last;
        let cost = qty * fill * (Decimal::ONE + self.market.fee_rate());
        let Some(total_after) = (floor - cost).checked_add(added) else {
            out.push(Rejection::ValuationOverflow);
            return;
        };
        if total_after <= Decimal::ZERO {
            // Without open orders the balance check refuses such an order; with open orders
            // that sell more than the profile holds, this refuses it.
            out.push(Rejection::OpenOrdersExceedValue {
                loss: cost - added - self.pending.value_loss,
                value: v.total,
            });
            return;
        }
        let exposure = |a: &Asset| v.value(a).checked_add(self.pending.bought_value(a));
        let Some(base_after) = exposure(base).and_then(|e| e.checked_add(added)) else {
            out.push(Rejection::ValuationOverflow);
            return;
        };
        let weight = base_after / total_after;
        if weight > self.limits.max_concentration {
            out.push(Rejection::Concentration {
                asset: base.clone(),
                weight,
                max: self.limits.max_concentration,
            });
        }
        let Some((category, cap)) = self.limits.capped_category(base) else {
            return;
        };
        let held = v.values.keys().copied();
        let bought = self
            .pending
            .buys
            .keys()
            .filter(|a| !v.values.contains_key(**a));
        let sum = held
            .chain(bought.copied())
            .filter(|a| {
                *a != base
                    && self
                        .limits
                        .capped_category(a)
                        .is_some_and(|(c, _)| c == category)
            })
            .try_fold(base_after, |acc, a| acc.checked_add(exposure(a)?));
        let Some(sum) = sum else {
            out.push(Rejection::ValuationOverflow);
            return;
        };
        let weight = sum / total_after;
        if weight > cap {
            out.push(Rejection::CategoryCap {
                category: category.to_owned(),
                weight,
                max: cap,
            });
        }
    }
}
