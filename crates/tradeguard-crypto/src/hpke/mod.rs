//! HPKE (RFC 9180), base mode only, composed from aws-lc-rs primitives (X25519, HMAC/HKDF,
//! AES-256-GCM, ChaCha20-Poly1305) and the RustCrypto `x-wing` KEM.
//!
//! Suites are chosen at run time ([`Suite`]). Correctness is proven by the RFC 9180 Appendix A
//! vectors (X25519) and the draft-ietf-hpke-pq vectors (X-Wing) in `tests/vectors/`.

mod aead;
mod dhkem;
mod kdf;
mod schedule;
mod suite;
mod xwing;

pub use dhkem::EphemeralX25519;
pub use schedule::Context;
pub use suite::{Aead, Kdf, Kem, Suite};

use crate::CryptoError;
use crate::secret::SecretBytes;

/// A recipient's private key for one KEM, with its public key.
pub enum PrivateKey {
    /// X25519 private key (32 bytes).
    X25519(dhkem::X25519Private),
    /// X-Wing decapsulation key (32-byte seed).
    XWing(Box<xwing::XWingPrivate>),
}

impl PrivateKey {
    /// A fresh random key for `kem`.
    pub fn generate(kem: Kem) -> Result<Self, CryptoError> {
        match kem {
            Kem::X25519HkdfSha256 => Ok(Self::X25519(dhkem::X25519Private::generate()?)),
            Kem::XWing => Ok(Self::XWing(Box::new(xwing::XWingPrivate::generate()?))),
        }
    }

    /// Rebuilds a key from its serialized private bytes (32 bytes for either KEM).
    pub fn from_bytes(kem: Kem, sk: &[u8]) -> Result<Self, CryptoError> {
        match kem {
            Kem::X25519HkdfSha256 => Ok(Self::X25519(dhkem::X25519Private::from_bytes(sk)?)),
            Kem::XWing => Ok(Self::XWing(Box::new(xwing::XWingPrivate::from_bytes(sk)?))),
        }
    }

    /// RFC 9180 DeriveKeyPair (X25519 only; X-Wing keys are their own 32-byte seed).
    pub fn derive_x25519(ikm: &[u8]) -> Result<Self, CryptoError> {
        Ok(Self::X25519(dhkem::X25519Private::derive(ikm)?))
    }

    /// Which KEM this key belongs to.
    pub fn kem(&self) -> Kem {
        match self {
            Self::X25519(_) => Kem::X25519HkdfSha256,
            Self::XWing(_) => Kem::XWing,
        }
    }

    /// The serialized private key, for sealing into the vault.
    pub fn to_secret_bytes(&self) -> SecretBytes {
        match self {
            Self::X25519(k) => SecretBytes::from_slice(k.expose_secret()),
            Self::XWing(k) => SecretBytes::from_slice(k.expose_secret()),
        }
    }

    /// The encoded public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            Self::X25519(k) => PublicKey {
                kem: Kem::X25519HkdfSha256,
                bytes: k.public_key().to_vec(),
            },
            Self::XWing(k) => PublicKey {
                kem: Kem::XWing,
                bytes: k.public_key_bytes(),
            },
        }
    }
}

/// A recipient's encoded public key for one KEM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    kem: Kem,
    bytes: Vec<u8>,
}

impl PublicKey {
    /// Parses an encoded public key, checking its length (and, for X-Wing, its ML-KEM part).
    pub fn from_bytes(kem: Kem, bytes: &[u8]) -> Result<Self, CryptoError> {
        let ok = match kem {
            Kem::X25519HkdfSha256 => bytes.len() == dhkem::NPK,
            Kem::XWing => xwing::parse_public(bytes).is_ok(),
        };
        if !ok {
            return Err(CryptoError::InvalidKey {
                what: kem.public_key_name(),
                reason: "wrong length or encoding",
            });
        }
        Ok(Self {
            kem,
            bytes: bytes.to_vec(),
        })
    }

    /// The KEM this key is for.
    pub fn kem(&self) -> Kem {
        self.kem
    }

    /// The encoded key.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Sender side of base mode: a fresh ephemeral key, then the key schedule. Returns the
/// encapsulated key `enc` and a context for sealing.
pub fn setup_sender(
    suite: Suite,
    pk_r: &PublicKey,
    info: &[u8],
) -> Result<(Vec<u8>, Context), CryptoError> {
    if pk_r.kem != suite.kem {
        return Err(CryptoError::InvalidKey {
            what: suite.kem.public_key_name(),
            reason: "the key belongs to another KEM",
        });
    }
    let (shared, enc) = match suite.kem {
        Kem::X25519HkdfSha256 => dhkem::encap(&pk_r.bytes)?,
        Kem::XWing => xwing::encap(&pk_r.bytes)?,
    };
    let ctx = schedule::key_schedule(suite, &shared[..], info)?;
    Ok((enc, ctx))
}

/// Sender side with a pre-generated X25519 ephemeral key (from a key pool), which is consumed:
/// the hot path is one Diffie-Hellman plus the key schedule. X25519 suites only (X-Wing
/// encapsulation has no separable ephemeral key pair).
pub fn setup_sender_with_ephemeral(
    suite: Suite,
    pk_r: &PublicKey,
    info: &[u8],
    sk_e: EphemeralX25519,
) -> Result<(Vec<u8>, Context), CryptoError> {
    if pk_r.kem != Kem::X25519HkdfSha256 || suite.kem != Kem::X25519HkdfSha256 {
        return Err(CryptoError::InvalidKey {
            what: suite.kem.public_key_name(),
            reason: "a pre-generated ephemeral key is X25519 only",
        });
    }
    let (shared, enc) = dhkem::encap_with(sk_e, &pk_r.bytes)?;
    let ctx = schedule::key_schedule(suite, &shared[..], info)?;
    Ok((enc, ctx))
}

/// Sender side with an ephemeral key derived from `ikm_e` (RFC 9180 test vectors only: a fixed
/// `ikm_e` makes every message linkable and must never be used for real traffic).
pub fn setup_sender_derand(
    suite: Suite,
    pk_r: &PublicKey,
    info: &[u8],
    ikm_e: &[u8],
) -> Result<(Vec<u8>, Context), CryptoError> {
    let (shared, enc) = match suite.kem {
        Kem::X25519HkdfSha256 => dhkem::encap_derand(&pk_r.bytes, ikm_e)?,
        Kem::XWing => xwing::encap_derand(&pk_r.bytes, ikm_e)?,
    };
    let ctx = schedule::key_schedule(suite, &shared[..], info)?;
    Ok((enc, ctx))
}

/// Receiver side of base mode: decapsulates `enc` and runs the key schedule.
pub fn setup_receiver(
    suite: Suite,
    sk_r: &PrivateKey,
    enc: &[u8],
    info: &[u8],
) -> Result<Context, CryptoError> {
    let shared = match (suite.kem, sk_r) {
        (Kem::X25519HkdfSha256, PrivateKey::X25519(k)) => dhkem::decap(k, enc)?,
        (Kem::XWing, PrivateKey::XWing(k)) => k.decap(enc)?,
        _ => {
            return Err(CryptoError::InvalidKey {
                what: suite.kem.public_key_name(),
                reason: "the private key belongs to another KEM",
            });
        }
    };
    schedule::key_schedule(suite, &shared[..], info)
}
