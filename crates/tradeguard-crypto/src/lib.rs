//! tradeguard's cryptographic core. No I/O: bytes and keys in, bytes and keys out.
//!
//! - [`envelope`]: HPKE (RFC 9180) base-mode envelopes, KEM X25519-HKDF-SHA256 or X-Wing,
//!   KDF HKDF-SHA256, AEAD AES-256-GCM or ChaCha20-Poly1305, in the JSON form of DESIGN.md.
//! - [`sign`]: Ed25519 and ML-DSA-65 signatures; [`did`]: `did:key` for Ed25519 keys.
//! - [`secret`]: zeroizing secret types that never print; [`ct`]: constant-time comparison.
//! - [`digest`], [`mac`]: SHA-2 and HMAC; [`jcs`]: RFC 8785 canonical JSON.
//! - [`intent`]: sealed per-trade intents (signed payload, padding, routing ids, score, key pool).
//!
//! Primitives come from aws-lc-rs (the fastest on our hosts) and, for X-Wing, from the
//! RustCrypto `x-wing` crate; HPKE is composed from them and proven by the RFC 9180 and
//! draft-ietf-hpke-pq test vectors.
//!
//! ```
//! use tradeguard_crypto::envelope::{Info, RecipientKey};
//! use tradeguard_crypto::hpke::Suite;
//!
//! let gateway = RecipientKey::generate_x25519().unwrap();
//! let sealed = tradeguard_crypto::envelope::seal(
//!     &gateway.public_key(), Suite::default(), Info::Credential, br#"{"api_key":"k"}"#,
//! ).unwrap();
//! let json = sealed.to_json();
//! let opened = tradeguard_crypto::envelope::open_json(&gateway, Info::Credential, &json).unwrap();
//! assert_eq!(opened.expose_secret(), br#"{"api_key":"k"}"#);
//! ```

#![deny(missing_docs)]

pub mod b64;
pub mod ct;
pub mod did;
pub mod digest;
pub mod envelope;
mod error;
pub mod hpke;
pub mod intent;
pub mod jcs;
pub mod mac;
pub mod random;
pub mod secret;
pub mod sign;

pub use error::CryptoError;
