//! Credential identity: the exchange, the id, the profile, the purpose of a use, and the
//! metadata anyone may list. The secret itself is in `document`.

use std::fmt;

use crate::{Result, VaultError};

/// The exchanges a credential can be for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Exchange {
    /// Binance.
    Binance,
    /// Coinbase Advanced Trade.
    Coinbase,
    /// Coinbase Exchange (needs a passphrase).
    CoinbaseExchange,
    /// Kraken.
    Kraken,
}

impl Exchange {
    /// Every name accepted, for messages.
    pub const NAMES: &'static str = "binance, coinbase, coinbaseexchange, kraken";

    /// The name in credential documents.
    pub fn name(self) -> &'static str {
        match self {
            Self::Binance => "binance",
            Self::Coinbase => "coinbase",
            Self::CoinbaseExchange => "coinbaseexchange",
            Self::Kraken => "kraken",
        }
    }

    /// Parses a name.
    pub fn from_name(s: &str) -> Result<Self> {
        [
            Self::Binance,
            Self::Coinbase,
            Self::CoinbaseExchange,
            Self::Kraken,
        ]
        .into_iter()
        .find(|e| e.name() == s)
        .ok_or_else(|| {
            VaultError::invalid(
                "exchange",
                format!("unknown exchange; expected one of {}", Self::NAMES),
            )
        })
    }

    /// True when this exchange's keys come with a passphrase.
    pub fn needs_passphrase(self) -> bool {
        self == Self::CoinbaseExchange
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn identifier(field: &'static str, s: &str, max: usize) -> Result<()> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    if (1..=max).contains(&s.len()) && s.chars().all(ok) {
        Ok(())
    } else {
        Err(VaultError::invalid(
            field,
            format!("must be 1 to {max} characters of [A-Za-z0-9._-]"),
        ))
    }
}

/// A credential's id: `cred-` and 24 lowercase hex digits, random, given at import.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialId(String);

impl CredentialId {
    /// A fresh random id.
    pub fn generate() -> Result<Self> {
        let raw: [u8; 12] = tradeguard_crypto::random::array().map_err(VaultError::Crypto)?;
        Ok(Self(format!("cred-{}", hex::encode(raw))))
    }

    /// Parses an id.
    pub fn parse(s: &str) -> Result<Self> {
        let hex_ok = s.strip_prefix("cred-").is_some_and(|h| {
            h.len() == 24
                && h.chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        });
        if hex_ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(VaultError::invalid(
                "credential id",
                "expected cred- and 24 lowercase hex digits (see `tradeguard credentials list`)",
            ))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A profile name (which trading profile a credential belongs to): 1 to 64 characters of
/// `[A-Za-z0-9._-]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileName(String);

impl ProfileName {
    /// Parses a profile name.
    pub fn new(s: &str) -> Result<Self> {
        identifier("profile", s, 64)?;
        Ok(Self(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a credential's secret is decrypted; recorded in the audit event of every use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Purpose {
    /// Signing an exchange request (order, cancel, query).
    SignRequest,
    /// Checking the key's permissions with the exchange (withdrawal refusal, IP restriction).
    CheckPermissions,
    /// Another named purpose (a static identifier such as `reconcile`).
    Other(&'static str),
}

impl Purpose {
    /// The name recorded in audit events.
    pub fn name(self) -> &'static str {
        match self {
            Self::SignRequest => "sign_request",
            Self::CheckPermissions => "check_permissions",
            Self::Other(name) => name,
        }
    }
}

/// What a credential is, without its secret: everything `credentials list` shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialMeta {
    /// Id.
    pub id: CredentialId,
    /// Exchange.
    pub exchange: Exchange,
    /// Profile.
    pub profile: ProfileName,
    /// Label (free text from the document, up to 64 characters).
    pub label: String,
    /// When it was imported, Unix milliseconds.
    pub created_ms: i64,
    /// The KEK version its data key is wrapped under.
    pub kek_version: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_profiles() {
        let id = CredentialId::generate().unwrap();
        assert_eq!(CredentialId::parse(id.as_str()).unwrap(), id);
        let cases: [(&str, bool); 5] = [
            ("cred-0123456789abcdef01234567", true),
            ("cred-0123456789ABCDEF01234567", false),
            ("cred-0123", false),
            ("binance-main", false),
            ("", false),
        ];
        for (i, (s, ok)) in cases.iter().enumerate() {
            assert_eq!(CredentialId::parse(s).is_ok(), *ok, "TC{} failed", i + 1);
        }
        assert!(ProfileName::new("main-1").is_ok());
        assert!(ProfileName::new("a b").is_err());
        assert!(ProfileName::new("").is_err());
    }
}
