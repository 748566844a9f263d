//! Assets, trading pairs, sides, order types and timestamps.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// An asset code in tradeguard's canonical form: upper case, 1-16 characters of `[A-Z0-9]`
/// (`BTC`, `USDT`, `1INCH`). Exchange-specific spellings (Kraken's `XXBT`) are mapped at the
/// boundary by each connector.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Asset(String);

impl Asset {
    /// Parses an asset code; lower case is accepted and upper-cased.
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        let ok = !s.is_empty() && s.len() <= 16 && s.chars().all(|c| c.is_ascii_alphanumeric());
        if !ok {
            return Err(ModelError::Invalid {
                field: "asset",
                reason: "must be 1-16 characters of A-Z or 0-9",
            });
        }
        Ok(Self(s.to_ascii_uppercase()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Asset {
    type Error = ModelError;
    fn try_from(s: String) -> Result<Self, ModelError> {
        Self::parse(&s)
    }
}

impl From<Asset> for String {
    fn from(a: Asset) -> String {
        a.0
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A spot trading pair, base and quote (`BTC/USDT`: buy or sell BTC, priced in USDT).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Symbol {
    base: Asset,
    quote: Asset,
}

impl Symbol {
    /// The pair `base/quote`.
    pub fn new(base: Asset, quote: Asset) -> Self {
        Self { base, quote }
    }

    /// Parses `BTC/USDT` or `BTC-USDT`.
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        let (b, q) = s.split_once(['/', '-']).ok_or(ModelError::Invalid {
            field: "symbol",
            reason: "expected BASE/QUOTE, for example BTC/USDT",
        })?;
        Ok(Self::new(Asset::parse(b)?, Asset::parse(q)?))
    }

    /// The asset bought or sold.
    pub fn base(&self) -> &Asset {
        &self.base
    }

    /// The asset prices are given in.
    pub fn quote(&self) -> &Asset {
        &self.quote
    }
}

impl TryFrom<String> for Symbol {
    type Error = ModelError;
    fn try_from(s: String) -> Result<Self, ModelError> {
        Self::parse(&s)
    }
}

impl From<Symbol> for String {
    fn from(s: Symbol) -> String {
        s.to_string()
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.quote)
    }
}

/// Buy or sell (of the base asset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Buy the base asset.
    Buy,
    /// Sell the base asset.
    Sell,
}

/// How long a limit order rests on the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel: fill what can be filled now, cancel the rest.
    Ioc,
    /// Fill or kill: fill completely now or not at all.
    Fok,
}

/// The order's type, with the price a limit order needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum OrderType {
    /// Fill at the best available prices.
    Market,
    /// Fill at `price` or better.
    Limit {
        /// Limit price, in the quote asset.
        price: Decimal,
        /// How long the order rests.
        time_in_force: TimeInForce,
    },
}

/// Milliseconds since the Unix epoch (UTC), the unit exchanges use for timestamps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// Whole seconds (rounded down).
    pub fn as_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// This instant plus `d` (saturating).
    pub fn plus(self, d: std::time::Duration) -> Self {
        Self(
            self.0
                .saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }

    /// The time from `self` until `later`, zero if `later` is not after `self`.
    pub fn until(self, later: UnixMillis) -> std::time::Duration {
        std::time::Duration::from_millis(u64::try_from(later.0 - self.0).unwrap_or(0))
    }

    /// RFC 3339 form (`2026-11-22T10:00:00.123Z`), for APIs that take dates.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
    }

    /// Parses an RFC 3339 date as exchanges send it.
    pub fn parse_rfc3339(s: &str) -> Result<Self, ModelError> {
        let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map_err(|_| ModelError::Invalid {
                field: "timestamp",
                reason: "not an RFC 3339 date",
            })?;
        let ms = t.unix_timestamp_nanos() / 1_000_000;
        Ok(Self(i64::try_from(ms).map_err(|_| {
            ModelError::Invalid {
                field: "timestamp",
                reason: "out of range",
            }
        })?))
    }
}

impl fmt::Display for UnixMillis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_table() {
        let cases: [(&str, Option<&str>); 6] = [
            ("BTC/USDT", Some("BTC/USDT")),
            ("btc-usd", Some("BTC/USD")),
            ("1INCH/EUR", Some("1INCH/EUR")),
            ("BTCUSDT", None),
            ("BTC/", None),
            ("B$C/USD", None),
        ];
        for (i, (input, want)) in cases.iter().enumerate() {
            let got = Symbol::parse(input).ok().map(|s| s.to_string());
            assert_eq!(got.as_deref(), *want, "TC{i} failed: {input}");
        }
    }

    #[test]
    fn rfc3339_round_trip() {
        let t = UnixMillis(1_795_386_067_123);
        assert_eq!(UnixMillis::parse_rfc3339(&t.to_rfc3339()).unwrap(), t);
        assert_eq!(
            UnixMillis::parse_rfc3339("2026-11-22T10:00:00Z").unwrap(),
            UnixMillis(1_795_341_600_000)
        );
    }
}
