//! The crate's error type for invalid inputs.
//!
//! A refused order is not an error of this kind: it is a [`crate::check::Refusal`] that lists
//! every failing rule. A configuration that contradicts itself is a
//! [`crate::config::ConfigError`] that lists every conflict.

use rust_decimal::Decimal;

/// An input that cannot be turned into a risk-engine value. Every variant is definitive: the
/// same input fails again, so fix the input rather than retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RiskError {
    /// An asset code is not 1 to 20 upper-case ASCII letters or digits.
    #[error("asset code is invalid: use 1 to 20 upper-case letters or digits, such as `BTC`")]
    InvalidAsset,
    /// A profile id is not 1 to 64 ASCII letters, digits, `_` or `-`.
    #[error("profile id is invalid: use 1 to 64 letters, digits, `_` or `-`")]
    InvalidProfileId,
    /// A client order id is not 1 to 36 ASCII letters, digits, `_` or `-`.
    #[error("client order id is invalid: use 1 to 36 letters, digits, `_` or `-`")]
    InvalidClientOrderId,
    /// A symbol has the same base and quote asset.
    #[error("symbol has the same base and quote asset: trade one asset against another")]
    SameBaseAndQuote,
    /// An order quantity is zero, negative or above the supported maximum.
    #[error("order quantity must be positive and at most {max}")]
    InvalidQuantity {
        /// The largest quantity accepted.
        max: Decimal,
    },
    /// A price is zero, negative or above the supported maximum.
    #[error("price must be positive and at most {max}")]
    InvalidPrice {
        /// The largest price accepted.
        max: Decimal,
    },
    /// A balance is negative or above the supported maximum.
    #[error("balance of `{asset}` must be between 0 and {max}")]
    InvalidBalance {
        /// The asset whose balance was refused.
        asset: String,
        /// The largest balance accepted.
        max: Decimal,
    },
    /// An instrument rule (tick, step, minimum) is negative.
    #[error("instrument rule `{field}` must not be negative")]
    InvalidInstrumentRule {
        /// The rule that was refused.
        field: &'static str,
    },
    /// A fee rate is outside 0..1.
    #[error("fee rate must be at least 0 and below 1")]
    InvalidFeeRate,
    /// A value could not be computed without overflowing a decimal.
    #[error("portfolio value of profile `{profile}` overflows: check balances and prices")]
    ValuationOverflow {
        /// The profile whose portfolio could not be valued.
        profile: String,
    },
    /// A held asset has no last price, so the portfolio cannot be valued.
    #[error("no last price for `{asset}`: refresh market data before planning")]
    MissingPrice {
        /// The asset without a price.
        asset: String,
    },
    /// An open order passed with a profile's is not quoted in the profile's quote asset.
    #[error(
        "open order on `{symbol}` is not quoted in the profile's `{quote}`: pass only the profile's own open orders"
    )]
    ForeignOpenOrder {
        /// The open order's pair.
        symbol: String,
        /// The profile's quote asset.
        quote: String,
    },
    /// A price history could not be parsed.
    #[error("price history line {line}: {reason}")]
    PriceHistory {
        /// 1-based line number in the input.
        line: usize,
        /// What is wrong with the line and how to fix it.
        reason: String,
    },
    /// A backtest was asked for with inputs it cannot run.
    #[error("backtest cannot run: {0}")]
    Backtest(String),
}
