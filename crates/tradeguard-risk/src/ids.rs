//! Newtypes for the identifiers the risk engine works with, parsed once at the boundary.

use std::fmt;
use std::time::Duration;

use crate::RiskError;

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// An asset code such as `BTC` or `USDC`: 1 to 20 upper-case ASCII letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Asset(String);

impl Asset {
    /// Parses an asset code; lower-case or punctuation is refused, not normalized.
    pub fn new(code: &str) -> Result<Self, RiskError> {
        let ok = (1..=20).contains(&code.len())
            && code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if ok {
            Ok(Self(code.to_owned()))
        } else {
            Err(RiskError::InvalidAsset)
        }
    }

    /// The asset code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A trading pair: `base` is bought or sold, priced in `quote`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Symbol {
    base: Asset,
    quote: Asset,
}

impl Symbol {
    /// Builds a pair; base and quote must differ.
    pub fn new(base: Asset, quote: Asset) -> Result<Self, RiskError> {
        if base == quote {
            return Err(RiskError::SameBaseAndQuote);
        }
        Ok(Self { base, quote })
    }

    /// The asset bought or sold.
    pub fn base(&self) -> &Asset {
        &self.base
    }

    /// The asset the price is expressed in.
    pub fn quote(&self) -> &Asset {
        &self.quote
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.quote)
    }
}

/// The identifier of a portfolio profile (a configuration table name such as `profile_a`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProfileId(String);

impl ProfileId {
    /// Parses a profile id: 1 to 64 ASCII letters, digits, `_` or `-`.
    pub fn new(id: &str) -> Result<Self, RiskError> {
        let ok = (1..=64).contains(&id.len()) && id.chars().all(is_id_char);
        if ok {
            Ok(Self(id.to_owned()))
        } else {
            Err(RiskError::InvalidProfileId)
        }
    }

    /// The id as written in the configuration.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A 32-bit tag derived from the id (FNV-1a), used to keep the client order ids of
    /// different profiles apart. Not a security property: the configuration checker refuses
    /// two profiles whose tags collide.
    pub fn tag(&self) -> u32 {
        self.0.bytes().fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        })
    }
}

impl fmt::Display for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The client-chosen order id that makes order placement idempotent at the exchange.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientOrderId(String);

impl ClientOrderId {
    /// Parses a client order id: 1 to 36 ASCII letters, digits, `_` or `-` (a subset that
    /// Binance, Coinbase and Kraken all accept).
    pub fn new(id: &str) -> Result<Self, RiskError> {
        let ok = (1..=36).contains(&id.len()) && id.chars().all(is_id_char);
        if ok {
            Ok(Self(id.to_owned()))
        } else {
            Err(RiskError::InvalidClientOrderId)
        }
    }

    /// A fresh id for `profile`: the profile's 32-bit tag then 96 random bits, 32 hex digits.
    /// Ids of two profiles differ in their tag; ids of one profile differ in their random part.
    pub fn generate<R: rand::Rng + rand::CryptoRng + ?Sized>(
        profile: &ProfileId,
        rng: &mut R,
    ) -> Self {
        let random: u128 = rng.random::<u128>() >> 32;
        Self(format!("{:08x}{:024x}", profile.tag(), random))
    }

    /// The id as sent to the exchange.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A point in time in milliseconds since the Unix epoch (UTC). The risk engine never reads a
/// clock: callers pass the time in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Milliseconds in one UTC day.
const DAY_MS: i64 = 86_400_000;

impl Timestamp {
    /// A timestamp from milliseconds since the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// A timestamp from seconds since the epoch (saturating).
    pub const fn from_secs(s: i64) -> Self {
        Self(s.saturating_mul(1000))
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// The UTC day number (days since the epoch), used for daily loss limits.
    pub const fn utc_day(self) -> i64 {
        self.0.div_euclid(DAY_MS)
    }

    /// This timestamp moved forward by `d` (saturating).
    pub fn plus(self, d: Duration) -> Self {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(ms))
    }

    /// The time elapsed since `earlier`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        let ms = self.0.saturating_sub(earlier.0).max(0);
        Duration::from_millis(u64::try_from(ms).unwrap_or(0))
    }
}

/// An exchange a profile trades on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Exchange {
    /// Binance spot.
    Binance,
    /// Coinbase (Advanced Trade or Exchange).
    Coinbase,
    /// Kraken spot.
    Kraken,
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Binance => "binance",
            Self::Coinbase => "coinbase",
            Self::Kraken => "kraken",
        })
    }
}

/// One exchange account: an exchange plus the name of the credential that trades on it.
/// Profiles with the same account share balances, so their asset sets must be disjoint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId {
    /// The exchange.
    pub exchange: Exchange,
    /// The credential's label in the vault.
    pub credential: String,
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.exchange, self.credential)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_codes() {
        let cases = [
            ("BTC", true),
            ("1000SATS", true),
            ("btc", false),
            ("", false),
            ("B-T", false),
        ];
        for (i, (code, ok)) in cases.iter().enumerate() {
            assert_eq!(Asset::new(code).is_ok(), *ok, "TC{i} failed: {code}");
        }
    }

    #[test]
    fn fail_symbol_same_assets() {
        let btc = Asset::new("BTC").unwrap();
        assert_eq!(
            Symbol::new(btc.clone(), btc),
            Err(RiskError::SameBaseAndQuote)
        );
    }

    #[test]
    fn client_order_ids_carry_the_profile_tag() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let p = ProfileId::new("profile_a").unwrap();
        let id = ClientOrderId::generate(&p, &mut rng);
        assert_eq!(id.as_str().len(), 32);
        assert!(id.as_str().starts_with(&format!("{:08x}", p.tag())));
        assert!(ClientOrderId::new(id.as_str()).is_ok());
        assert_ne!(id, ClientOrderId::generate(&p, &mut rng));
    }

    #[test]
    fn utc_days_split_at_midnight() {
        assert_eq!(Timestamp::from_millis(DAY_MS - 1).utc_day(), 0);
        assert_eq!(Timestamp::from_millis(DAY_MS).utc_day(), 1);
        assert_eq!(Timestamp::from_millis(-1).utc_day(), -1);
    }
}
