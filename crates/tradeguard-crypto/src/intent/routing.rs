//! Routing ids: `HMAC-SHA256(routing key, per-intent random value)[..16]`.
//!
//! The routing key is shared by one principal and the gateway; the random value travels
//! inside the seal. Without the key, ids of two intents look like independent random strings:
//! they cannot be linked to each other or to the principal. With it, the principal can ask
//! for the status of an intent, and the gateway can find it.

use std::fmt;

use crate::CryptoError;
use crate::mac::hmac_sha256;
use crate::secret::SecretKey;

/// Length of a routing id.
pub const ROUTING_ID_LEN: usize = 16;

/// The key a principal shares with the gateway for deriving routing ids.
pub struct RoutingKey(SecretKey<32>);

impl RoutingKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self(SecretKey::random()?))
    }

    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        SecretKey::from_slice(bytes)
            .map(Self)
            .map_err(|_| CryptoError::InvalidKey {
                what: "routing key",
                reason: "must be 32 bytes",
            })
    }

    /// The key bytes, to store it sealed or hand it to the principal once.
    pub fn expose_secret(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for RoutingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RoutingKey([REDACTED])")
    }
}

/// A 16-byte routing id. Public (it names an intent), but unlinkable without the key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoutingId([u8; ROUTING_ID_LEN]);

impl RoutingId {
    /// `HMAC-SHA256(key, seed)[..16]`.
    pub fn derive(key: &RoutingKey, seed: &[u8]) -> Self {
        let mac = hmac_sha256(key.expose_secret(), seed);
        let mut id = [0u8; ROUTING_ID_LEN];
        id.copy_from_slice(&mac[..ROUTING_ID_LEN]);
        Self(id)
    }

    /// The id bytes.
    pub fn as_bytes(&self) -> &[u8; ROUTING_ID_LEN] {
        &self.0
    }

    /// Lower-case hex, the form used in URLs (`/v1/intents/{routing_id}`).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses the 32-character lower-case hex form.
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 2 * ROUTING_ID_LEN
            || !s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
        {
            return None;
        }
        let mut id = [0u8; ROUTING_ID_LEN];
        for (i, out) in id.iter_mut().enumerate() {
            *out = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(id))
    }
}

impl fmt::Debug for RoutingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoutingId({})", self.to_hex())
    }
}

impl fmt::Display for RoutingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_the_truncated_hmac() {
        let key = RoutingKey::from_bytes(&[0x0b; 32]).unwrap();
        let id = RoutingId::derive(&key, b"seed");
        assert_eq!(id.as_bytes()[..], hmac_sha256(&[0x0b; 32], b"seed")[..16]);
        assert_eq!(RoutingId::from_hex(&id.to_hex()), Some(id));
    }

    #[test]
    fn fail_hex_forms() {
        let cases = [
            "",
            "00",
            &"0".repeat(31),
            &"0".repeat(33),
            &"A".repeat(32),
            &"g".repeat(32),
        ];
        for (i, s) in cases.iter().enumerate() {
            assert_eq!(RoutingId::from_hex(s), None, "TC{i} failed");
        }
    }

    #[test]
    fn another_key_gives_another_id() {
        let a = RoutingKey::generate().unwrap();
        let b = RoutingKey::generate().unwrap();
        assert_ne!(RoutingId::derive(&a, b"s"), RoutingId::derive(&b, b"s"));
        assert_ne!(RoutingId::derive(&a, b"s"), RoutingId::derive(&a, b"t"));
    }
}
