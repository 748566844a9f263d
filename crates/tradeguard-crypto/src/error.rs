//! The crypto crate's error type.

/// What went wrong in a cryptographic operation. Messages name the failing input, never its value.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// A key had the wrong length or encoding.
    #[error(
        "invalid {what}: {reason}; check that the key was copied whole and is of the expected kind"
    )]
    InvalidKey {
        /// Which key (for example `Ed25519 public key`).
        what: &'static str,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A signature did not verify.
    #[error("signature does not verify: the message was altered or was signed by another key")]
    BadSignature,
    /// A `did:key` string could not be decoded.
    #[error("invalid did:key ({reason}); expected did:key:z6Mk... for an Ed25519 key")]
    InvalidDid {
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The system random number generator failed.
    #[error("the system random number generator failed; check the platform's entropy source")]
    Rng,
    /// An envelope could not be parsed; `field` names the part at fault.
    #[error("malformed envelope: {field} {reason}")]
    MalformedEnvelope {
        /// The JSON field at fault (`kem`, `enc`, ...), or `json` for the document itself.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// An envelope named a suite this gateway does not accept.
    #[error("unsupported {field} `{value}`; supported: {supported}")]
    UnsupportedSuite {
        /// `kem`, `kdf` or `aead`.
        field: &'static str,
        /// The algorithm name found (a public identifier, not a secret).
        value: String,
        /// The names accepted instead.
        supported: &'static str,
    },
    /// The envelope did not open: wrong recipient key, wrong purpose (`info`), or altered bytes.
    #[error(
        "envelope does not open for `{info}` with this key: it was sealed to another key, \
         for another purpose, or altered in transit; seal it again with this gateway's public key"
    )]
    OpenFailed {
        /// The purpose the recipient expected.
        info: String,
    },
    /// An internal primitive failed (should not happen with valid keys).
    #[error("cryptographic operation `{0}` failed")]
    Internal(&'static str),
}
