//! Why an order was refused: one variant per pre-trade check.

use std::fmt;

use rust_decimal::Decimal;

use crate::ids::{Asset, ProfileId, Symbol};
use crate::profile::TradingState;

/// One failed pre-trade check. A [`super::Refusal`] lists every one that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The operator set the profile to REDUCING or HALTED, and the order is not allowed there.
    TradingState {
        /// The operator's state.
        state: TradingState,
    },
    /// The daily loss breaker is tripped and forbids this order.
    DailyLossLimit {
        /// Loss since the start of the UTC day, as a fraction.
        loss: Decimal,
        /// The configured limit.
        limit: Decimal,
        /// The state the breaker moved the profile to.
        state: TradingState,
    },
    /// The drawdown breaker is tripped and forbids this order.
    MaxDrawdown {
        /// Fall from the peak value, as a fraction.
        drawdown: Decimal,
        /// The configured limit.
        limit: Decimal,
        /// The state the breaker moved the profile to.
        state: TradingState,
    },
    /// The order names another profile than the one checked against.
    WrongProfile {
        /// The profile named in the order.
        order_profile: ProfileId,
    },
    /// The order's quote asset is not the profile's quote asset.
    QuoteMismatch {
        /// The order's quote asset.
        quote: Asset,
        /// The profile's quote asset.
        expected: Asset,
    },
    /// The base asset is not in the profile's asset set.
    NotInAssetSet {
        /// The asset.
        asset: Asset,
    },
    /// The order trades an excluded asset.
    ExcludedAsset {
        /// The asset.
        asset: Asset,
    },
    /// A price needed to value the order or the portfolio is missing.
    MissingPrice {
        /// The asset without a last price.
        asset: Asset,
    },
    /// The exchange's rules for the instrument are unknown.
    UnknownInstrument {
        /// The base asset.
        asset: Asset,
    },
    /// The limit price is not a multiple of the tick size.
    PricePrecision {
        /// The price.
        price: Decimal,
        /// The tick size.
        tick_size: Decimal,
    },
    /// The quantity is not a multiple of the step size.
    QuantityPrecision {
        /// The quantity.
        quantity: Decimal,
        /// The step size.
        step_size: Decimal,
    },
    /// The quantity is below the exchange minimum.
    BelowMinQuantity {
        /// The quantity.
        quantity: Decimal,
        /// The minimum.
        min: Decimal,
    },
    /// The notional is below the exchange minimum.
    BelowMinNotional {
        /// The notional.
        notional: Decimal,
        /// The minimum.
        min: Decimal,
    },
    /// The notional is above the profile's per-order maximum.
    MaxNotional {
        /// The notional.
        notional: Decimal,
        /// The maximum.
        max: Decimal,
    },
    /// The order is larger than the profile's max position size.
    MaxPosition {
        /// Notional over the profile's value.
        fraction: Decimal,
        /// The maximum.
        max: Decimal,
    },
    /// The limit price is too far from the last price (fat finger).
    PriceBand {
        /// The limit price.
        price: Decimal,
        /// The last price.
        last: Decimal,
        /// The allowed deviation as a fraction of the last price.
        band: Decimal,
    },
    /// The free balance does not cover the order (with fees).
    InsufficientBalance {
        /// The asset spent.
        asset: Asset,
        /// What the order needs.
        needed: Decimal,
        /// What is free.
        free: Decimal,
    },
    /// The profile placed too many orders in the last minute.
    OrderRate {
        /// Orders already placed in the window.
        recent: usize,
        /// The limit per minute.
        max: u32,
    },
    /// After the fill the asset would exceed the concentration cap.
    Concentration {
        /// The asset.
        asset: Asset,
        /// Its weight after the fill.
        weight: Decimal,
        /// The cap.
        max: Decimal,
    },
    /// After the fill the asset's category would exceed its cap.
    CategoryCap {
        /// The category.
        category: String,
        /// Its weight after the fill.
        weight: Decimal,
        /// The cap.
        max: Decimal,
    },
    /// The portfolio's value could not be computed within decimal range.
    ValuationOverflow,
    /// An open order passed with the profile's is not quoted in the profile's quote asset, so
    /// what it commits the profile to cannot be valued.
    ForeignOpenOrder {
        /// The open order's pair.
        symbol: Symbol,
        /// The profile's quote asset.
        expected: Asset,
    },
    /// The losses the open orders can make (fees, prices away from the last price) reach the
    /// profile's whole value, so no order can be sized against it.
    OpenOrdersExceedValue {
        /// What the open orders can lose, in the quote asset.
        loss: Decimal,
        /// The profile's value.
        value: Decimal,
    },
}

impl Rejection {
    /// A stable snake_case code for the check that failed (for APIs, logs and counters).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TradingState { .. } => "trading_state",
            Self::DailyLossLimit { .. } => "daily_loss_limit",
            Self::MaxDrawdown { .. } => "max_drawdown",
            Self::WrongProfile { .. } => "wrong_profile",
            Self::QuoteMismatch { .. } => "quote_mismatch",
            Self::NotInAssetSet { .. } => "not_in_asset_set",
            Self::ExcludedAsset { .. } => "excluded_asset",
            Self::MissingPrice { .. } => "missing_price",
            Self::UnknownInstrument { .. } => "unknown_instrument",
            Self::PricePrecision { .. } => "price_precision",
            Self::QuantityPrecision { .. } => "quantity_precision",
            Self::BelowMinQuantity { .. } => "below_min_quantity",
            Self::BelowMinNotional { .. } => "below_min_notional",
            Self::MaxNotional { .. } => "max_notional",
            Self::MaxPosition { .. } => "max_position",
            Self::PriceBand { .. } => "price_band",
            Self::InsufficientBalance { .. } => "insufficient_balance",
            Self::OrderRate { .. } => "order_rate",
            Self::Concentration { .. } => "concentration",
            Self::CategoryCap { .. } => "category_cap",
            Self::ValuationOverflow => "valuation_overflow",
            Self::ForeignOpenOrder { .. } => "foreign_open_order",
            Self::OpenOrdersExceedValue { .. } => "open_orders_exceed_value",
        }
    }
}

fn pct(x: Decimal) -> Decimal {
    (x * Decimal::ONE_HUNDRED).round_dp(2)
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TradingState { state } => write!(
                f,
                "profile is {state:?} by the operator; resume it to trade"
            ),
            Self::DailyLossLimit { loss, limit, state } => write!(
                f,
                "daily loss {}% exceeds the {}% limit; profile is {state:?} until the UTC day ends",
                pct(*loss),
                pct(*limit)
            ),
            Self::MaxDrawdown {
                drawdown,
                limit,
                state,
            } => write!(
                f,
                "drawdown {}% exceeds the {}% limit; profile is {state:?} until an operator resumes it",
                pct(*drawdown),
                pct(*limit)
            ),
            Self::WrongProfile { order_profile } => {
                write!(f, "order belongs to profile `{order_profile}`")
            }
            Self::QuoteMismatch { quote, expected } => {
                write!(f, "quote asset {quote} is not the profile's {expected}")
            }
            Self::NotInAssetSet { asset } => write!(f, "{asset} is not in the profile's asset set"),
            Self::ExcludedAsset { asset } => write!(f, "{asset} is an excluded asset"),
            Self::MissingPrice { asset } => {
                write!(f, "no last price for {asset}; refresh market data")
            }
            Self::UnknownInstrument { asset } => {
                write!(f, "no exchange rules for {asset}; refresh instrument data")
            }
            Self::PricePrecision { price, tick_size } => {
                write!(f, "price {price} is not a multiple of tick {tick_size}")
            }
            Self::QuantityPrecision {
                quantity,
                step_size,
            } => {
                write!(
                    f,
                    "quantity {quantity} is not a multiple of step {step_size}"
                )
            }
            Self::BelowMinQuantity { quantity, min } => {
                write!(f, "quantity {quantity} is below the minimum {min}")
            }
            Self::BelowMinNotional { notional, min } => {
                write!(f, "notional {notional} is below the minimum {min}")
            }
            Self::MaxNotional { notional, max } => {
                write!(f, "notional {notional} exceeds the per-order maximum {max}")
            }
            Self::MaxPosition { fraction, max } => {
                write!(
                    f,
                    "order is {}% of the profile, above the {}% max position",
                    pct(*fraction),
                    pct(*max)
                )
            }
            Self::PriceBand { price, last, band } => {
                write!(
                    f,
                    "price {price} is more than {}% away from the last price {last}",
                    pct(*band)
                )
            }
            Self::InsufficientBalance {
                asset,
                needed,
                free,
            } => {
                write!(f, "needs {needed} {asset} but only {free} is free")
            }
            Self::OrderRate { recent, max } => {
                write!(f, "{recent} orders in the last minute; the limit is {max}")
            }
            Self::Concentration { asset, weight, max } => {
                write!(
                    f,
                    "{asset} would be {}% of the profile, above the {}% cap",
                    pct(*weight),
                    pct(*max)
                )
            }
            Self::CategoryCap {
                category,
                weight,
                max,
            } => {
                write!(
                    f,
                    "category {category} would be {}% of the profile, above its {}% cap",
                    pct(*weight),
                    pct(*max)
                )
            }
            Self::ValuationOverflow => {
                write!(f, "portfolio value overflows; check balances and prices")
            }
            Self::ForeignOpenOrder { symbol, expected } => write!(
                f,
                "open order on {symbol} is not quoted in the profile's {expected}; pass only the profile's own open orders"
            ),
            Self::OpenOrdersExceedValue { loss, value } => write!(
                f,
                "open orders can lose {loss}, at least the profile's value {value}; cancel open orders before placing more"
            ),
        }
    }
}
