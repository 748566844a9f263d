//! HPKE algorithm identifiers (RFC 9180 §7, draft-ietf-hpke-pq for X-Wing) and their names in
//! envelope JSON.

use crate::CryptoError;

/// Key encapsulation mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Kem {
    /// DHKEM(X25519, HKDF-SHA256), id 0x0020.
    #[default]
    X25519HkdfSha256,
    /// X-Wing (ML-KEM-768 + X25519 hybrid), id 0x647a.
    XWing,
}

/// Key derivation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Kdf {
    /// HKDF-SHA256, id 0x0001.
    #[default]
    HkdfSha256,
}

/// Authenticated encryption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Aead {
    /// AES-256-GCM, id 0x0002.
    #[default]
    Aes256Gcm,
    /// ChaCha20-Poly1305, id 0x0003.
    ChaCha20Poly1305,
}

/// A complete HPKE ciphersuite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Suite {
    /// The KEM.
    pub kem: Kem,
    /// The KDF.
    pub kdf: Kdf,
    /// The AEAD.
    pub aead: Aead,
}

impl Kem {
    /// Every supported KEM, as named in envelopes.
    pub const NAMES: &'static str = "X25519-HKDF-SHA256, X-Wing";

    /// RFC 9180 / IANA identifier.
    pub fn id(self) -> u16 {
        match self {
            Self::X25519HkdfSha256 => 0x0020,
            Self::XWing => 0x647a,
        }
    }

    /// The name used in envelope JSON and `GET /v1/keys`.
    pub fn name(self) -> &'static str {
        match self {
            Self::X25519HkdfSha256 => "X25519-HKDF-SHA256",
            Self::XWing => "X-Wing",
        }
    }

    /// Parses an envelope name.
    pub fn from_name(s: &str) -> Result<Self, CryptoError> {
        match s {
            "X25519-HKDF-SHA256" => Ok(Self::X25519HkdfSha256),
            "X-Wing" => Ok(Self::XWing),
            other => Err(unsupported("kem", other, Self::NAMES)),
        }
    }

    /// Parses an RFC 9180 identifier.
    pub fn from_id(id: u16) -> Option<Self> {
        [Self::X25519HkdfSha256, Self::XWing]
            .into_iter()
            .find(|k| k.id() == id)
    }

    pub(crate) fn public_key_name(self) -> &'static str {
        match self {
            Self::X25519HkdfSha256 => "X25519 public key",
            Self::XWing => "X-Wing public key",
        }
    }
}

impl Kdf {
    /// Every supported KDF, as named in envelopes.
    pub const NAMES: &'static str = "HKDF-SHA256";

    /// RFC 9180 identifier.
    pub fn id(self) -> u16 {
        0x0001
    }

    /// The name used in envelope JSON.
    pub fn name(self) -> &'static str {
        "HKDF-SHA256"
    }

    /// Parses an envelope name.
    pub fn from_name(s: &str) -> Result<Self, CryptoError> {
        match s {
            "HKDF-SHA256" => Ok(Self::HkdfSha256),
            other => Err(unsupported("kdf", other, Self::NAMES)),
        }
    }
}

impl Aead {
    /// Every supported AEAD, as named in envelopes.
    pub const NAMES: &'static str = "AES-256-GCM, ChaCha20-Poly1305";

    /// RFC 9180 identifier.
    pub fn id(self) -> u16 {
        match self {
            Self::Aes256Gcm => 0x0002,
            Self::ChaCha20Poly1305 => 0x0003,
        }
    }

    /// The name used in envelope JSON.
    pub fn name(self) -> &'static str {
        match self {
            Self::Aes256Gcm => "AES-256-GCM",
            Self::ChaCha20Poly1305 => "ChaCha20-Poly1305",
        }
    }

    /// Parses an envelope name.
    pub fn from_name(s: &str) -> Result<Self, CryptoError> {
        match s {
            "AES-256-GCM" => Ok(Self::Aes256Gcm),
            "ChaCha20-Poly1305" => Ok(Self::ChaCha20Poly1305),
            other => Err(unsupported("aead", other, Self::NAMES)),
        }
    }

    /// Parses an RFC 9180 identifier.
    pub fn from_id(id: u16) -> Option<Self> {
        [Self::Aes256Gcm, Self::ChaCha20Poly1305]
            .into_iter()
            .find(|a| a.id() == id)
    }
}

impl Suite {
    /// The suite id of the key schedule: "HPKE" ‖ kem ‖ kdf ‖ aead.
    pub(crate) fn hpke_suite_id(self) -> [u8; 10] {
        let mut s = *b"HPKE\0\0\0\0\0\0";
        s[4..6].copy_from_slice(&self.kem.id().to_be_bytes());
        s[6..8].copy_from_slice(&self.kdf.id().to_be_bytes());
        s[8..10].copy_from_slice(&self.aead.id().to_be_bytes());
        s
    }
}

fn unsupported(field: &'static str, value: &str, supported: &'static str) -> CryptoError {
    // Names are public identifiers; cap the length so a hostile envelope cannot bloat logs.
    let value: String = value.chars().take(40).collect();
    CryptoError::UnsupportedSuite {
        field,
        value,
        supported,
    }
}
