//! `did:key` for Ed25519 keys (W3C CCG did-method-key): `did:key:z` + base58btc(0xed 0x01 ‖ key).

use crate::CryptoError;
use crate::sign::Ed25519VerifyingKey;

const PREFIX: &str = "did:key:z";
const ED25519_MULTICODEC: [u8; 2] = [0xed, 0x01];

/// The `did:key` of an Ed25519 public key (`did:key:z6Mk...`).
pub fn encode_ed25519_did(key: &Ed25519VerifyingKey) -> String {
    let mut raw = Vec::with_capacity(34);
    raw.extend_from_slice(&ED25519_MULTICODEC);
    raw.extend_from_slice(key.as_bytes());
    format!("{PREFIX}{}", bs58::encode(raw).into_string())
}

/// Parses a `did:key` naming an Ed25519 public key.
pub fn decode_ed25519_did(did: &str) -> Result<Ed25519VerifyingKey, CryptoError> {
    let b58 = did.strip_prefix(PREFIX).ok_or(CryptoError::InvalidDid {
        reason: "missing the did:key:z prefix",
    })?;
    if b58.len() > 64 {
        return Err(CryptoError::InvalidDid { reason: "too long" });
    }
    let raw = bs58::decode(b58)
        .into_vec()
        .map_err(|_| CryptoError::InvalidDid {
            reason: "not base58btc",
        })?;
    match raw.split_first_chunk::<2>() {
        Some((codec, key)) if *codec == ED25519_MULTICODEC && key.len() == 32 => {
            Ed25519VerifyingKey::from_bytes(key)
        }
        Some((codec, _)) if *codec == ED25519_MULTICODEC => Err(CryptoError::InvalidDid {
            reason: "Ed25519 key must be 32 bytes",
        }),
        _ => Err(CryptoError::InvalidDid {
            reason: "not an Ed25519 key (multicodec 0xed01)",
        }),
    }
}
