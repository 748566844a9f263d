//! RFC 9421 HTTP Message Signatures and RFC 9530 `Content-Digest` for tradeguard. No I/O:
//! request parts and keys in, header values and verdicts out. The client signs with it, the
//! gateway verifies with it.
//!
//! The profile is narrow on purpose (DESIGN.md, "HTTP API"):
//! - algorithms `ed25519` (principal keys) and `hmac-sha256` (shared keys);
//! - components `@method`, `@authority`, `@scheme`, `@path`, `@query`, `@target-uri` and
//!   header fields by lowercase name, without component parameters;
//! - parameters `created`, `expires`, `nonce`, `alg`, `keyid`, `tag`; any other is refused;
//! - headers parsed as RFC 8941 dictionaries (via `sfv`) with a size cap, a member cap and no
//!   repeated keys.
//!
//! What this crate does **not** decide, because it needs state or policy: whether `created` is
//! fresh enough ([`ParsedSignature::check_freshness`] helps), whether the nonce was seen
//! before, which components a route requires ([`ParsedSignature::require_components`]), and
//! which key a `keyid` names.
//!
//! ```
//! use http::HeaderMap;
//! use tradeguard_crypto::sign::Ed25519SigningKey;
//! use tradeguard_httpsig::{Component, RequestParts, SignatureParams, SigningKey};
//!
//! let key = Ed25519SigningKey::generate().unwrap();
//! let body = br#"{"symbol":"BTC-USD"}"#;
//! let mut headers = HeaderMap::new();
//! headers.insert("content-type", "application/json".parse().unwrap());
//! headers.insert("content-digest", tradeguard_httpsig::content_digest(body).parse().unwrap());
//! let parts = RequestParts::new("POST", "127.0.0.1:8443", "/v1/orders", None, &headers);
//!
//! // Client: sign.
//! let mut params = SignatureParams::new("sig", vec![
//!     Component::Method, Component::Authority, Component::Path, Component::Query,
//!     "content-digest".parse().unwrap(), "content-type".parse().unwrap(),
//! ]);
//! params.created = Some(1_700_000_000);
//! params.nonce = Some("bm9uY2Utb25jZQ".into());
//! params.keyid = Some("did:key:z6Mk...".into());
//! let signed = tradeguard_httpsig::sign(&parts, &SigningKey::Ed25519(&key), &params).unwrap();
//!
//! // Gateway: parse, check policy, look the key up, verify.
//! let parsed = tradeguard_httpsig::parse(
//!     &parts, &signed.signature_input, &signed.signature, Some("sig"),
//! ).unwrap();
//! parsed.require_components(&["@method", "@path", "@query", "content-digest"]).unwrap();
//! parsed.check_freshness(1_700_000_100, 300).unwrap();
//! tradeguard_httpsig::verify_content_digest(
//!     headers["content-digest"].to_str().unwrap(), body,
//! ).unwrap();
//! parsed.verify_ed25519(&key.verifying_key()).unwrap();
//! ```

#![deny(missing_docs)]

mod base;
mod component;
mod digest;
mod error;
mod params;
mod sf;
mod sign;
mod verify;

pub use component::{Component, RequestParts};
pub use digest::{content_digest, verify_content_digest};
pub use error::HttpSigError;
pub use params::{Algorithm, MAX_COMPONENTS, MAX_PARAM_STRING, Param, SignatureParams};
pub use sf::{MAX_HEADER_BYTES, MAX_MEMBERS};
pub use sign::{SignatureHeaders, SigningKey, VerifyingKey, sign, signature_base};
pub use verify::{ParsedSignature, parse, parse_request};
