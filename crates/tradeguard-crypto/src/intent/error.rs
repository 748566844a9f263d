//! Why an intent could not be built, sealed or opened: one variant per failure.
//!
//! The gateway answers every opening failure the same way on the wire (an observer must not
//! tell a refused packet from a dummy), so these variants are for the audit log and for the
//! sender's own diagnostics. Messages name the failing part, never a value from the packet.

use crate::CryptoError;
use crate::jcs::JcsError;

/// What went wrong with a sealed intent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IntentError {
    /// The envelope document is not the DESIGN.md envelope JSON (`field` names the part).
    #[error("intent envelope is malformed: {field} {reason}; send the envelope JSON of DESIGN.md")]
    Envelope {
        /// The envelope field at fault, or `json`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The envelope names a suite this gateway does not accept.
    #[error("intent envelope uses an unsupported {field}; supported: {supported}")]
    UnsupportedSuite {
        /// `kem`, `kdf` or `aead`.
        field: &'static str,
        /// The accepted names.
        supported: &'static str,
    },
    /// The sealed packet is not the one fixed size configured for its KEM.
    #[error(
        "sealed intent is {found} bytes, not the configured {expected}; pad every intent to \
         the packet size the gateway publishes"
    )]
    PacketSize {
        /// The configured packet size (encapsulated key plus ciphertext, bytes).
        expected: usize,
        /// The size received.
        found: usize,
    },
    /// The envelope did not authenticate: another recipient key, another purpose, or altered.
    #[error(
        "intent does not open with this gateway's key for `tradeguard/v1 intent`; seal it \
         again to the key of GET /v1/keys"
    )]
    OpenFailed,
    /// The opened plaintext is not correctly padded.
    #[error("intent padding is invalid: {reason}; pad with a 4-byte length and zero bytes")]
    Padding {
        /// Which padding rule failed.
        reason: &'static str,
    },
    /// The payload does not fit in one packet (it is never truncated).
    #[error(
        "intent payload is {size} bytes but a packet carries at most {capacity}; shorten the \
         order or raise the packet size in the configuration"
    )]
    PayloadTooLarge {
        /// The payload size in bytes.
        size: usize,
        /// The largest payload a packet of the configured size carries.
        capacity: usize,
    },
    /// The packet size in the configuration cannot work.
    #[error("intent packet size for {kem} is invalid: {reason}")]
    BadPacketSize {
        /// The KEM whose size is wrong.
        kem: &'static str,
        /// Why.
        reason: String,
    },
    /// The inner payload is not a well-formed intent (`field` names the part).
    #[error("intent payload is malformed: {field} {reason}")]
    Payload {
        /// The payload field at fault, or `json`.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The principal's signature over the payload does not verify.
    #[error(
        "intent signature does not verify for the principal it names; sign the canonical \
         payload with that principal's key"
    )]
    BadSignature,
    /// The intent was created longer ago than the window allows.
    #[error("intent is too old ({age_secs} s, window {max_secs} s); create a new intent")]
    TooOld {
        /// Its age in seconds.
        age_secs: i64,
        /// The window.
        max_secs: i64,
    },
    /// The intent claims a creation time in the future beyond the allowed skew.
    #[error(
        "intent is dated {ahead_secs} s in the future (allowed skew {max_secs} s); check the \
         sender's clock"
    )]
    FromTheFuture {
        /// How far ahead.
        ahead_secs: i64,
        /// The allowed skew.
        max_secs: i64,
    },
    /// The protections in force score below the configured threshold (fail closed).
    #[error(
        "intent security score {score:.2} is below the threshold {threshold:.2} (missing: \
         {missing}); turn the missing protections on"
    )]
    BelowThreshold {
        /// The score reached.
        score: f64,
        /// The configured threshold.
        threshold: f64,
        /// The protections not in force, comma-separated.
        missing: String,
    },
    /// The score configuration cannot work.
    #[error("intent score configuration is invalid: {0}")]
    BadScoreConfig(&'static str),
    /// The order has no canonical JSON form (and so no signature).
    #[error("intent order cannot be signed: {0}")]
    Canonical(#[from] JcsError),
    /// A primitive failed (random number generator, key agreement).
    #[error(transparent)]
    Crypto(CryptoError),
}

impl From<CryptoError> for IntentError {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::MalformedEnvelope { field, reason } => Self::Envelope { field, reason },
            CryptoError::UnsupportedSuite {
                field, supported, ..
            } => Self::UnsupportedSuite { field, supported },
            CryptoError::OpenFailed { .. } => Self::OpenFailed,
            CryptoError::BadSignature => Self::BadSignature,
            other => Self::Crypto(other),
        }
    }
}

impl IntentError {
    /// A short stable name for the audit log and metrics (`open_failed`, `bad_signature`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Envelope { .. } => "envelope",
            Self::UnsupportedSuite { .. } => "unsupported_suite",
            Self::PacketSize { .. } => "packet_size",
            Self::OpenFailed => "open_failed",
            Self::Padding { .. } => "padding",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::BadPacketSize { .. } => "bad_packet_size",
            Self::Payload { .. } => "payload",
            Self::BadSignature => "bad_signature",
            Self::TooOld { .. } => "too_old",
            Self::FromTheFuture { .. } => "from_the_future",
            Self::BelowThreshold { .. } => "below_threshold",
            Self::BadScoreConfig(_) => "bad_score_config",
            Self::Canonical(_) => "canonical",
            Self::Crypto(_) => "crypto",
        }
    }
}
