//! Pre-trade checks: [`check_order_with_open`] runs every check, with the profile's open
//! orders, and either approves the order or refuses it with every reason that applies;
//! [`check_order`] is the same for a profile without open orders.
//!
//! Semantics, for reviewers:
//! - Weights are of the profile's whole value (cash included), at last prices. The profile's
//!   quote-asset cash is not an exposure and has no concentration cap.
//! - Concentration and category caps are checked after the fill for orders that increase
//!   exposure (buys). A sell only lowers its asset's weight, so REDUCING can always sell down.
//! - Market orders are checked at the last price; their balance check assumes the worst price
//!   inside the fat-finger band.
//! - Breakers are evaluated against the current value even when the caller has not recorded it
//!   with [`crate::state::ProfileState::observe_value`] yet.
//! - Open orders ([`OpenOrder`]): the caps count every open buy as filled and no open sell, the
//!   max position is measured against the lowest value their fills can leave, and the free
//!   balance is reduced only by what they reserve beyond the balance's `locked` part (exchanges
//!   report `free` net of open orders already). [`crate::open`] gives the reasons. Pass every
//!   open order of the profile except the one being checked.

mod rejection;
mod rules;

use std::fmt;

pub use rejection::Rejection;

use crate::ids::Timestamp;
use crate::limits::PortfolioLimits;
use crate::market::{Market, Portfolio, ValuationError};
pub use crate::open::OpenOrder;
use crate::open::Pending;
use crate::order::{Order, RiskApproved, Side};
use crate::profile::{Profile, TradingState};
use crate::state::{ProfileState, Restriction};

/// Everything a pre-trade check looks at. Time is passed in; nothing is read from a clock.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    /// The profile placing the order.
    pub profile: &'a Profile,
    /// Limits shared by all profiles.
    pub limits: &'a PortfolioLimits,
    /// The profile's trading state, breakers and recent orders.
    pub state: &'a ProfileState,
    /// The profile's balances.
    pub portfolio: &'a Portfolio,
    /// Last prices, instrument rules and fees in the profile's quote asset.
    pub market: &'a Market,
    /// The current time.
    pub now: Timestamp,
}

/// An order that failed one or more pre-trade checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The refused order, returned for logging (boxed to keep `Result` small).
    pub order: Box<Order>,
    /// Every check that failed, in the order the checks ran.
    pub reasons: Vec<Rejection>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "order `{}` refused: ", self.order.client_order_id())?;
        for (i, r) in self.reasons.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Refusal {}

/// Runs every pre-trade check for a profile without open orders:
/// [`check_order_with_open`] with none.
pub fn check_order(ctx: &CheckContext<'_>, order: Order) -> Result<RiskApproved<Order>, Refusal> {
    check_order_with_open(ctx, &[], order)
}

/// Runs every pre-trade check, judging `order` as if the profile's `open` orders had filled
/// too (see the module docs for how each check counts them). Returns the order as
/// [`RiskApproved`] when all pass, or a [`Refusal`] listing every failed check.
pub fn check_order_with_open(
    ctx: &CheckContext<'_>,
    open: &[OpenOrder],
    order: Order,
) -> Result<RiskApproved<Order>, Refusal> {
    let mut reasons = Vec::new();
    let valuation = match ctx.portfolio.value(ctx.market) {
        Ok(v) => Some(v),
        Err(ValuationError::MissingPrice(asset)) => {
            reasons.push(Rejection::MissingPrice { asset });
            None
        }
        Err(ValuationError::Overflow) => {
            reasons.push(Rejection::ValuationOverflow);
            None
        }
    };
    if let Some(v) = &valuation {
        state_rules(ctx, &order, v.total, &mut reasons);
    }
    let recent = ctx.state.orders_in_window(ctx.now);
    if recent >= ctx.profile.max_orders_per_minute as usize {
        reasons.push(Rejection::OrderRate {
            recent,
            max: ctx.profile.max_orders_per_minute,
        });
    }
    let pending = pending(ctx.profile, ctx.market, open, &mut reasons);
    let statics = rules::Statics {
        profile: ctx.profile,
        limits: ctx.limits,
        portfolio: ctx.portfolio,
        market: ctx.market,
        pending: &pending,
    };
    statics.check(valuation.as_ref(), &order, &mut reasons);
    if reasons.is_empty() {
        Ok(RiskApproved::new(order))
    } else {
        Err(Refusal {
            order: Box::new(order),
            reasons,
        })
    }
}

/// The checks that depend only on the order, the portfolio, the market and the limits: every
/// check except trading state, breakers and order rate. Returns every failure.
pub fn static_rejections(
    profile: &Profile,
    limits: &PortfolioLimits,
    portfolio: &Portfolio,
    market: &Market,
    order: &Order,
) -> Vec<Rejection> {
    static_rejections_with_open(profile, limits, portfolio, market, &[], order)
}

/// [`static_rejections`] with the profile's open orders, counted as in
/// [`check_order_with_open`]. The rebalancing planner runs these on each order it plans.
pub fn static_rejections_with_open(
    profile: &Profile,
    limits: &PortfolioLimits,
    portfolio: &Portfolio,
    market: &Market,
    open: &[OpenOrder],
    order: &Order,
) -> Vec<Rejection> {
    let mut reasons = Vec::new();
    let valuation = match portfolio.value(market) {
        Ok(v) => Some(v),
        Err(ValuationError::MissingPrice(asset)) => {
            reasons.push(Rejection::MissingPrice { asset });
            None
        }
        Err(ValuationError::Overflow) => {
            reasons.push(Rejection::ValuationOverflow);
            None
        }
    };
    let pending = pending(profile, market, open, &mut reasons);
    rules::Statics {
        profile,
        limits,
        portfolio,
        market,
        pending: &pending,
    }
    .check(valuation.as_ref(), order, &mut reasons);
    reasons
}

/// Sums the open orders; adds a reason for each that cannot be valued (the other checks then
/// run without them, so that the refusal still lists every failure).
fn pending<'a>(
    profile: &Profile,
    market: &Market,
    open: &'a [OpenOrder],
    out: &mut Vec<Rejection>,
) -> Pending<'a> {
    let band = profile
        .price_band
        .clamp(rust_decimal::Decimal::ZERO, rust_decimal::Decimal::ONE);
    Pending::new(open, market, band).unwrap_or_else(|problems| {
        for p in problems {
            if !out.contains(&p) {
                out.push(p);
            }
        }
        Pending::default()
    })
}

/// Adds a reason for each restriction (operator state, breakers) that forbids the order.
fn state_rules(
    ctx: &CheckContext<'_>,
    order: &Order,
    value: rust_decimal::Decimal,
    out: &mut Vec<Rejection>,
) {
    let increases_exposure = order.side() == Side::Buy;
    for r in ctx.state.restrictions(ctx.profile, value, ctx.now) {
        let blocks = match r.state() {
            TradingState::Halted => true,
            TradingState::Reducing => increases_exposure,
            TradingState::Active => false,
        };
        if !blocks {
            continue;
        }
        out.push(match r {
            Restriction::Operator(state) => Rejection::TradingState { state },
            Restriction::DailyLoss { loss, limit, state } => {
                Rejection::DailyLossLimit { loss, limit, state }
            }
            Restriction::Drawdown {
                drawdown,
                limit,
                state,
            } => Rejection::MaxDrawdown {
                drawdown,
                limit,
                state,
            },
        });
    }
}

#[cfg(test)]
mod tests;
