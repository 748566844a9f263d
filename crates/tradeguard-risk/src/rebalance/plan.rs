//! Rebalancing plans: the orders that move a profile towards its targets, each one checked
//! with the stateless pre-trade checks against the portfolio as the earlier orders of the plan
//! leave it.
//!
//! Open orders ([`PlanInput::open_orders`]): the deviations are measured on the portfolio as
//! it will be once every open order fills, so a drift an open order already corrects gets no
//! second order and the rest is sized net of what is pending. The plan never trades against
//! an open order (no sell of an asset with an open buy, nor the reverse: that would cross the
//! profile's own order and pay fees twice): such a trade is skipped with
//! [`SkipReason::OpposingOpenOrder`]. Each planned order is checked with the open orders as
//! [`crate::check::check_order_with_open`] will check it, and spends only what the open orders
//! leave free.

use rand::{CryptoRng, Rng};
use rust_decimal::Decimal;

use super::targets::{TargetModel, Targets, clip_to_limits, model_targets, randomize};
use crate::RiskError;
use crate::check::{Rejection, static_rejections_with_open};
use crate::ids::{Asset, ClientOrderId, Symbol};
use crate::limits::PortfolioLimits;
use crate::market::{InstrumentRules, Market, Portfolio, Valuation, ValuationError};
use crate::open::{OpenOrder, Pending};
use crate::order::{Order, OrderType, Side};
use crate::profile::Profile;
use crate::stats::MarketStats;

/// Most orders a plan places for one asset (a trade larger than the max position is split).
const MAX_CHUNKS: usize = 64;
/// Orders are sized this far under the max position and max notional, so that fees paid by
/// earlier orders of the plan cannot push a later one over.
const SIZE_MARGIN: Decimal = Decimal::from_parts(999, 0, 0, false, 3);

/// What a plan is computed from.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    /// The profile to rebalance.
    pub profile: &'a Profile,
    /// Limits shared by all profiles.
    pub limits: &'a PortfolioLimits,
    /// The profile's balances.
    pub portfolio: &'a Portfolio,
    /// Prices, instrument rules and fees.
    pub market: &'a Market,
    /// Statistics over the strategy's lookback (needed by risk-adjusted, volatility-targeted
    /// and momentum strategies; without them the configured targets are used).
    pub stats: Option<&'a MarketStats>,
    /// Largest random move of each target (0 when randomization is off).
    pub randomization: Decimal,
    /// The profile's open orders (empty when it has none): the plan counts them as filled and
    /// never trades against them.
    pub open_orders: &'a [OpenOrder],
}

/// Why a trade the targets call for is not in the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The trade is smaller than the exchange's minimum quantity or notional.
    BelowExchangeMinimum,
    /// The fee would be at least the benefit: the drift it corrects is no larger than the fee
    /// rate (benefit = notional x drift, fee = notional x fee rate).
    FeeExceedsBenefit,
    /// No last price for the asset.
    NoPrice,
    /// No exchange rules for the asset.
    NoInstrument,
    /// Not enough free cash (buy) or free balance (sell) for the rest of the trade.
    InsufficientBalance,
    /// The order failed the pre-trade checks.
    Refused(Vec<Rejection>),
    /// No valid order can express the trade (the asset is the profile's quote asset, or the
    /// quantity or price is out of range).
    InvalidOrder,
    /// An open order of the profile trades the asset the other way: cancel it, or let it fill,
    /// before rebalancing the asset.
    OpposingOpenOrder,
}

impl SkipReason {
    /// A stable snake_case code for the reason.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BelowExchangeMinimum => "below_exchange_minimum",
            Self::FeeExceedsBenefit => "fee_exceeds_benefit",
            Self::NoPrice => "no_price",
            Self::NoInstrument => "no_instrument",
            Self::InsufficientBalance => "insufficient_balance",
            Self::Refused(_) => "refused",
            Self::InvalidOrder => "invalid_order",
            Self::OpposingOpenOrder => "opposing_open_order",
        }
    }
}

/// A trade left out of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The asset.
    pub asset: Asset,
    /// The direction the targets called for.
    pub side: Side,
    /// The notional left untraded, in the quote asset.
    pub notional: Decimal,
    /// Why.
    pub reason: SkipReason,
}

/// A rebalancing plan: limit orders at the last price (rounded to the tick), sells first.
#[derive(Debug, Clone, PartialEq)]
pub struct RebalancePlan {
    /// The model that produced the reference targets.
    pub model: TargetModel,
    /// The strategy's targets clipped to the limits, before randomization.
    pub reference: Targets,
    /// The targets the plan trades towards: randomized, then clipped to the limits.
    pub targets: Targets,
    /// The orders, in the order they should be placed.
    pub orders: Vec<Order>,
    /// Trades left out, with the reason.
    pub skipped: Vec<Skipped>,
}

impl RebalancePlan {
    /// Sum of the orders' notionals at their limit prices.
    pub fn notional(&self) -> Decimal {
        self.orders
            .iter()
            .map(|o| o.quantity() * o.limit_price().unwrap_or_default())
            .sum()
    }
}

/// Relative headroom plans leave under every cap, so that ordinary price moves do not push a
/// freshly rebalanced weight straight back over the cap (which triggers a rebalance at once).
pub const DRIFT_HEADROOM: Decimal = Decimal::from_parts(5, 0, 0, false, 2);

/// How far under each cap plans aim, as a fraction of the cap: the [`DRIFT_HEADROOM`], plus
/// twice the fee rate and 0.1% so that the fees of a plan cannot push a fill over a cap.
pub fn cap_margin(market: &Market) -> Decimal {
    DRIFT_HEADROOM + market.fee_rate() * Decimal::TWO + Decimal::new(1, 3)
}

/// Computes a plan. Randomness (targets, client order ids) comes from `rng`: pass the
/// operating system's CSPRNG in production (`rand::rng()`), a seeded ChaCha in backtests.
pub fn plan_rebalance<R: Rng + CryptoRng + ?Sized>(
    input: &PlanInput<'_>,
    rng: &mut R,
) -> Result<RebalancePlan, RiskError> {
    let valuation = value(input)?;
    let pending = pending(input)?;
    let projected = pending.projected(&valuation);
    let floor = pending.value_floor(valuation.total);
    let margin = cap_margin(input.market);
    let (model_out, model) = model_targets(input.profile, input.stats);
    let reference = clip_to_limits(&model_out, input.limits, margin);
    let targets = clip_to_limits(
        &randomize(&reference, input.randomization, rng),
        input.limits,
        margin,
    );
    let mut builder = Builder {
        input,
        pending: &pending,
        floor,
        working: pending.reserve(input.portfolio),
        orders: Vec::new(),
        skipped: Vec::new(),
    };
    let mut trades: Vec<(Asset, Decimal)> = targets
        .iter()
        .filter(|(a, _)| input.profile.trades(a))
        .map(|(a, t)| (a.clone(), *t - projected.weight(a)))
        .filter(|(_, dev)| !dev.is_zero())
        .collect();
    trades.sort_by_key(|(_, dev)| *dev); // most negative (largest sells) first, then buys smallest-first
    let (sells, mut buys): (Vec<_>, Vec<_>) = trades
        .into_iter()
        .partition(|(_, dev)| dev.is_sign_negative());
    buys.reverse(); // largest buys first
    for (asset, dev) in sells.into_iter().chain(buys) {
        builder.trade(&asset, dev, &projected, rng);
    }
    Ok(RebalancePlan {
        model,
        reference,
        targets,
        orders: builder.orders,
        skipped: builder.skipped,
    })
}

fn value<'a>(input: &PlanInput<'a>) -> Result<Valuation<'a>, RiskError> {
    input.portfolio.value(input.market).map_err(|e| match e {
        ValuationError::MissingPrice(a) => RiskError::MissingPrice {
            asset: a.to_string(),
        },
        ValuationError::Overflow => RiskError::ValuationOverflow {
            profile: input.profile.id.to_string(),
        },
    })
}

/// The open orders, summed; an open order that cannot be valued fails the plan.
fn pending<'a>(input: &PlanInput<'a>) -> Result<Pending<'a>, RiskError> {
    let band = input.profile.price_band.clamp(Decimal::ZERO, Decimal::ONE);
    Pending::new(input.open_orders, input.market, band).map_err(|problems| {
        match problems.into_iter().next() {
            Some(Rejection::MissingPrice { asset }) => RiskError::MissingPrice {
                asset: asset.to_string(),
            },
            Some(Rejection::ForeignOpenOrder { symbol, expected }) => RiskError::ForeignOpenOrder {
                symbol: symbol.to_string(),
                quote: expected.to_string(),
            },
            _ => RiskError::ValuationOverflow {
                profile: input.profile.id.to_string(),
            },
        }
    })
}

struct Builder<'a> {
    input: &'a PlanInput<'a>,
    /// What the open orders commit the profile to.
    pending: &'a Pending<'a>,
    /// The lowest value the open orders can leave: what the max position is measured on.
    floor: Decimal,
    /// The balances as the plan's earlier orders leave them, with what open orders reserve
    /// beyond the reported `locked` parts set aside.
    working: Portfolio,
    orders: Vec<Order>,
    skipped: Vec<Skipped>,
}

impl Builder<'_> {
    fn skip(&mut self, asset: &Asset, side: Side, notional: Decimal, reason: SkipReason) {
        self.skipped.push(Skipped {
            asset: asset.clone(),
            side,
            notional,
            reason,
        });
    }

    /// Plans the trade that moves `asset` by `dev` (a weight) of the profile's value once its
    /// open orders have filled (`v`).
    fn trade<R: Rng + CryptoRng + ?Sized>(
        &mut self,
        asset: &Asset,
        dev: Decimal,
        v: &Valuation<'_>,
        rng: &mut R,
    ) {
        let (market, profile) = (self.input.market, self.input.profile);
        let side = if dev.is_sign_negative() {
            Side::Sell
        } else {
            Side::Buy
        };
        let mut remaining = dev.abs() * v.total;
        let opposite = match side {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        };
        if self.pending.has(asset, opposite) {
            return self.skip(asset, side, remaining, SkipReason::OpposingOpenOrder);
        }
        if dev.abs() <= market.fee_rate() {
            return self.skip(asset, side, remaining, SkipReason::FeeExceedsBenefit);
        }
        let Some(last) = market.price(asset) else {
            return self.skip(asset, side, remaining, SkipReason::NoPrice);
        };
        let Some(rules) = market.instrument(asset).copied() else {
            return self.skip(asset, side, remaining, SkipReason::NoInstrument);
        };
        let price = match side {
            Side::Buy => rules.ceil_price(last),
            Side::Sell => rules.floor_price(last),
        };
        if price <= Decimal::ZERO {
            return self.skip(asset, side, remaining, SkipReason::NoPrice);
        }
        let chunk_max =
            (profile.max_position_size * self.floor).min(profile.max_order_notional) * SIZE_MARGIN;
        let mut placed = 0;
        while remaining > Decimal::ZERO && placed < MAX_CHUNKS {
            let wanted = rules.floor_quantity(remaining.min(chunk_max) / price);
            let qty = wanted.min(self.affordable(asset, side, price, &rules));
            if !meets_minimums(qty, price, &rules) {
                if qty < wanted {
                    self.skip(asset, side, remaining, SkipReason::InsufficientBalance);
                } else if placed == 0 {
                    self.skip(asset, side, remaining, SkipReason::BelowExchangeMinimum);
                } // else: the rest is a rounding residue below the exchange minimum
                return;
            }
            if let Err(reason) = self.place(asset, side, qty, price, rng) {
                return self.skip(asset, side, remaining, reason);
            }
            remaining -= qty * price;
            placed += 1;
        }
    }

    /// The most `side` can trade of `asset` at `price` with the working balances.
    fn affordable(
        &self,
        asset: &Asset,
        side: Side,
        price: Decimal,
        rules: &InstrumentRules,
    ) -> Decimal {
        match side {
            Side::Sell => rules.floor_quantity(self.working.holding(asset).free),
            Side::Buy => {
                let unit_cost = price * (Decimal::ONE + self.input.market.fee_rate());
                rules.floor_quantity(self.working.cash().free / unit_cost)
            }
        }
    }

    /// Checks one order against the working portfolio and, if it passes, keeps it and applies
    /// its fill.
    fn place<R: Rng + CryptoRng + ?Sized>(
        &mut self,
        asset: &Asset,
        side: Side,
        qty: Decimal,
        price: Decimal,
        rng: &mut R,
    ) -> Result<(), SkipReason> {
        let profile = self.input.profile;
        let symbol = Symbol::new(asset.clone(), profile.quote.clone())
            .map_err(|_| SkipReason::InvalidOrder)?;
        let id = ClientOrderId::generate(&profile.id, rng);
        let order = Order::new(
            profile.id.clone(),
            id,
            symbol,
            side,
            OrderType::Limit { price },
            qty,
        )
        .map_err(|_| SkipReason::InvalidOrder)?;
        let reasons = static_rejections_with_open(
            profile,
            self.input.limits,
            &self.working,
            self.input.market,
            self.input.open_orders,
            &order,
        );
        if !reasons.is_empty() {
            return Err(SkipReason::Refused(reasons));
        }
        let fee = self.input.market.fee_rate();
        self.working
            .apply_fill(asset, side == Side::Buy, qty, price, fee)
            .ok_or(SkipReason::InsufficientBalance)?;
        self.orders.push(order);
        Ok(())
    }
}

fn meets_minimums(qty: Decimal, price: Decimal, rules: &InstrumentRules) -> bool {
    qty > Decimal::ZERO && qty >= rules.min_quantity && qty * price >= rules.min_notional
}
