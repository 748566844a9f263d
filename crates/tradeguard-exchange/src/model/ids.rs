//! Identifiers: exchanges, accounts, orders and trades. Each is parsed once at the boundary.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// The exchange APIs tradeguard speaks. The string forms are the ones of DESIGN.md's sealed
/// credentials (`binance`, `coinbase`, `coinbaseexchange`, `kraken`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExchangeId {
    /// Binance spot (`api.binance.com`).
    Binance,
    /// Coinbase Advanced Trade (`api.coinbase.com/api/v3/brokerage`, JWT per request).
    Coinbase,
    /// Coinbase Exchange (`api.exchange.coinbase.com`, HMAC with passphrase).
    #[serde(rename = "coinbaseexchange")]
    CoinbaseExchange,
    /// Kraken spot (`api.kraken.com/0`).
    Kraken,
}

impl ExchangeId {
    /// Every supported exchange API, in a stable order.
    pub const ALL: [ExchangeId; 4] = [
        ExchangeId::Binance,
        ExchangeId::Coinbase,
        ExchangeId::CoinbaseExchange,
        ExchangeId::Kraken,
    ];

    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExchangeId::Binance => "binance",
            ExchangeId::Coinbase => "coinbase",
            ExchangeId::CoinbaseExchange => "coinbaseexchange",
            ExchangeId::Kraken => "kraken",
        }
    }

    /// Parses the lowercase name.
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or(ModelError::Invalid {
                field: "exchange",
                reason: "expected binance, coinbase, coinbaseexchange or kraken",
            })
    }
}

impl fmt::Display for ExchangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// True for the characters every exchange accepts in identifiers we send or store.
fn id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// The gateway's own id for an order, unique per account and recorded in the order ledger
/// before the order is sent. 1–36 characters of `[A-Za-z0-9_-]`, which Binance
/// (`newClientOrderId`), Kraken (`cl_ord_id`, as a UUID) and Coinbase accept.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientOrderId(String);

impl ClientOrderId {
    /// A fresh random UUIDv4 (36 characters), valid on all four APIs.
    pub fn generate() -> Result<Self, ModelError> {
        let mut b = tradeguard_crypto::random::array::<16>().map_err(|_| ModelError::Random)?;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex::encode(b);
        Ok(Self(format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )))
    }

    /// Parses an id chosen by a caller.
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        if s.is_empty() || s.len() > 36 || !s.chars().all(id_char) {
            return Err(ModelError::Invalid {
                field: "client_order_id",
                reason: "must be 1-36 characters of A-Z, a-z, 0-9, '-' or '_'",
            });
        }
        Ok(Self(s.to_owned()))
    }

    /// True when the id is a UUID in its 8-4-4-4-12 hex form (Coinbase Exchange needs this).
    pub fn is_uuid(&self) -> bool {
        let b = self.0.as_bytes();
        b.len() == 36
            && b.iter().enumerate().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => *c == b'-',
                _ => c.is_ascii_hexdigit(),
            })
    }

    /// The id as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClientOrderId {
    type Error = ModelError;
    fn try_from(s: String) -> Result<Self, ModelError> {
        Self::parse(&s)
    }
}

impl From<ClientOrderId> for String {
    fn from(id: ClientOrderId) -> String {
        id.0
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! exchange_string_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an id received from an exchange: 1-128 characters of
            /// `[A-Za-z0-9_.:-]`, so it can never break out of a URL path segment.
            pub fn parse(s: &str) -> Result<Self, ModelError> {
                let ok = !s.is_empty()
                    && s.len() <= 128
                    && s.chars().all(|c| id_char(c) || c == '.' || c == ':');
                if !ok {
                    return Err(ModelError::Invalid {
                        field: $field,
                        reason: "must be 1-128 characters of A-Z, a-z, 0-9, '-', '_', '.' or ':'",
                    });
                }
                Ok(Self(s.to_owned()))
            }

            /// The id as the exchange wrote it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ModelError;
            fn try_from(s: String) -> Result<Self, ModelError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

exchange_string_id!(
    /// The exchange's id for an order (Binance `orderId`, Kraken txid, Coinbase `order_id`).
    ExchangeOrderId,
    "exchange_order_id"
);
exchange_string_id!(
    /// The exchange's id for one fill (trade).
    TradeId,
    "trade_id"
);
exchange_string_id!(
    /// The gateway's label for one exchange account (one credential), e.g. `binance-main`.
    AccountId,
    "account"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_client_ids_are_uuids_and_distinct() {
        let a = ClientOrderId::generate().unwrap();
        let b = ClientOrderId::generate().unwrap();
        assert!(a.is_uuid() && b.is_uuid());
        assert_ne!(a, b);
        assert_eq!(ClientOrderId::parse(a.as_str()).unwrap(), a);
    }

    #[test]
    fn client_id_table() {
        let cases: [(&str, bool); 7] = [
            ("abc", true),
            ("x-R4BD3S82_1", true),
            ("6d1b345e-2821-40e2-ad83-4ecb18a06876", true),
            ("", false),
            ("a b", false),
            ("é", false),
            ("0123456789012345678901234567890123456", false),
        ];
        for (i, (s, ok)) in cases.iter().enumerate() {
            assert_eq!(ClientOrderId::parse(s).is_ok(), *ok, "TC{i} failed: {s:?}");
        }
    }

    #[test]
    fn fail_exchange_order_id_with_path_characters() {
        for (i, s) in ["", "a/b", "../x", "a?b", "a b", "a%2F"].iter().enumerate() {
            assert!(ExchangeOrderId::parse(s).is_err(), "TC{i} failed: {s:?}");
        }
        assert!(ExchangeOrderId::parse("OU22CG-KLAF2-FWUDD7").is_ok());
    }

    #[test]
    fn exchange_names_round_trip() {
        for e in ExchangeId::ALL {
            assert_eq!(ExchangeId::parse(e.as_str()).unwrap(), e);
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{}\"", e.as_str()));
        }
    }
}
