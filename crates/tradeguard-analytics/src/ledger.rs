//! The records analytics reads: fills, order outcomes, holdings snapshots, prices, external
//! flows and rebalances, all with `Decimal` amounts. [`Ledger::validate`] checks them once.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{AnalyticsError, Timestamp};

macro_rules! name_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// 1 to 64 printable characters, no whitespace.
            pub fn new(s: impl Into<String>) -> Result<Self, AnalyticsError> {
                let s = s.into();
                let ok = (1..=64).contains(&s.chars().count())
                    && s.chars().all(|c| !c.is_control() && !c.is_whitespace());
                if ok {
                    Ok(Self(s))
                } else {
                    Err(AnalyticsError::InvalidRecord {
                        kind: stringify!($name),
                        index: 0,
                        reason: "must be 1 to 64 printable characters without whitespace",
                    })
                }
            }

            /// The name.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = AnalyticsError;
            fn try_from(s: String) -> Result<Self, AnalyticsError> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(n: $name) -> String {
                n.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_newtype!(
    /// A risk profile's name.
    ProfileId
);
name_newtype!(
    /// An exchange's name (`binance`, `coinbase`, `kraken`).
    ExchangeId
);
name_newtype!(
    /// An asset symbol (`BTC`, `USDT`).
    Asset
);

/// Buy or sell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Bought `base` for `quote`.
    Buy,
    /// Sold `base` for `quote`.
    Sell,
}

/// One execution on an exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// When it executed.
    pub time: Timestamp,
    /// The profile that traded.
    pub profile: ProfileId,
    /// Where.
    pub exchange: ExchangeId,
    /// The asset bought or sold.
    pub base: Asset,
    /// The asset paid or received.
    pub quote: Asset,
    /// Direction.
    pub side: Side,
    /// Amount of `base`, above 0.
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
    /// Price in `quote` per unit of `base`, above 0.
    #[serde(with = "rust_decimal::serde::str")]
    pub price: Decimal,
    /// Fee charged, at least 0, in `fee_asset`.
    #[serde(with = "rust_decimal::serde::str")]
    pub fee: Decimal,
    /// The asset the fee was charged in.
    pub fee_asset: Asset,
}

/// How an order ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderOutcome {
    /// Executed in full.
    Filled,
    /// Executed in part, the rest cancelled or expired.
    PartiallyFilled,
    /// Cancelled with nothing executed.
    Cancelled,
    /// Refused by the gateway's risk checks.
    Refused,
    /// Rejected by the exchange.
    Rejected,
    /// Failed in transport or ended in an unknown state.
    Failed,
}

/// The final outcome of one order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecord {
    /// When the order ended.
    pub time: Timestamp,
    /// The profile that placed it.
    pub profile: ProfileId,
    /// Where it was sent (or would have been).
    pub exchange: ExchangeId,
    /// How it ended.
    pub outcome: OrderOutcome,
}

/// Everything one profile held on one exchange at `time` (take one right after each flow).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldingsSnapshot {
    /// When the balances were read.
    pub time: Timestamp,
    /// Whose.
    pub profile: ProfileId,
    /// Where.
    pub exchange: ExchangeId,
    /// Amount held per asset, each at least 0.
    pub holdings: BTreeMap<Asset, Decimal>,
}

/// The price of one unit of `asset` in the base currency, from `time` on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceQuote {
    /// When the price was observed.
    pub time: Timestamp,
    /// The asset priced.
    pub asset: Asset,
    /// Base-currency units per unit of `asset`, above 0.
    #[serde(with = "rust_decimal::serde::str")]
    pub price: Decimal,
}

/// A deposit (positive) or withdrawal (negative) of `asset`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalFlow {
    /// When it was credited or debited.
    pub time: Timestamp,
    /// Whose account.
    pub profile: ProfileId,
    /// Which exchange account.
    pub exchange: ExchangeId,
    /// The asset moved.
    pub asset: Asset,
    /// Signed amount of `asset`.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// A rebalance the gateway carried out for a profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebalanceEvent {
    /// When it ran.
    pub time: Timestamp,
    /// For which profile.
    pub profile: ProfileId,
}

/// All records of one reporting run. Prices are in `base_currency`, which is worth 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// The currency every value is reported in (`USD`, `USDT`).
    pub base_currency: Asset,
    /// Executions.
    pub fills: Vec<Fill>,
    /// Order outcomes.
    pub orders: Vec<OrderRecord>,
    /// Holdings snapshots.
    pub snapshots: Vec<HoldingsSnapshot>,
    /// Price quotes.
    pub prices: Vec<PriceQuote>,
    /// Deposits and withdrawals.
    pub flows: Vec<ExternalFlow>,
    /// Rebalances.
    pub rebalances: Vec<RebalanceEvent>,
}

fn record_err(kind: &'static str, index: usize, reason: &'static str) -> AnalyticsError {
    AnalyticsError::InvalidRecord {
        kind,
        index,
        reason,
    }
}

impl Fill {
    /// Checks signs: quantity and price above 0, fee at least 0.
    pub fn validate(&self, index: usize) -> Result<(), AnalyticsError> {
        if self.quantity <= Decimal::ZERO || self.price <= Decimal::ZERO {
            return Err(record_err(
                "fill",
                index,
                "quantity and price must be above 0",
            ));
        }
        if self.fee < Decimal::ZERO {
            return Err(record_err("fill", index, "fee must not be negative"));
        }
        Ok(())
    }
}

impl Ledger {
    /// Checks the signs of snapshots, prices and fills.
    pub fn validate(&self) -> Result<(), AnalyticsError> {
        for (i, f) in self.fills.iter().enumerate() {
            f.validate(i)?;
        }
        validate_market_data(&self.snapshots, &self.prices)
    }
}

/// Holdings at least 0, prices above 0.
pub(crate) fn validate_market_data(
    snapshots: &[HoldingsSnapshot],
    prices: &[PriceQuote],
) -> Result<(), AnalyticsError> {
    for (i, s) in snapshots.iter().enumerate() {
        if s.holdings.values().any(|a| *a < Decimal::ZERO) {
            return Err(record_err("snapshot", i, "holdings must not be negative"));
        }
    }
    for (i, p) in prices.iter().enumerate() {
        if p.price <= Decimal::ZERO {
            return Err(record_err("price", i, "price must be above 0"));
        }
    }
    Ok(())
}
