//! A Rust client for the tradeguard gateway's `/v1` API (DESIGN.md "HTTP API").
//!
//! - Every request except `health` and `keys` is signed per RFC 9421 with the principal's key
//!   ([`PrincipalKey`], an Ed25519 key file as `tradeguard init` writes, or a shared HMAC key):
//!   components `@method`, `@authority`, `@path`, `@query`, `content-digest` and, with a
//!   body, `content-type`; parameters `created`, a fresh 128-bit `nonce`, `keyid` (the
//!   `did:key`) and `alg`. See [`sign`].
//! - Errors from the gateway are RFC 9457 problem documents, returned as
//!   [`ClientError::Problem`]; transport failures say whether the call is safe to retry or its
//!   outcome is unknown.
//! - TLS trusts only the certificate given ([`Trust::Pinned`], the gateway's self-signed
//!   certificate) unless told to use the platform roots; plain `http` is accepted for loopback
//!   addresses only; redirects are never followed and environment proxies are ignored.
//!
//! ```no_run
//! # async fn run() -> Result<(), tradeguard_client::ClientError> {
//! use std::path::Path;
//! use tradeguard_client::{Client, ClientConfig, HaltMode, PrincipalKey, Trust};
//!
//! let key = PrincipalKey::load_pem_file(Path::new("tradeguard-data/controller.key"))?;
//! let trust = Trust::pinned_file(Path::new("tradeguard-data/tls/cert.pem"))?;
//! let client = Client::new(&ClientConfig::new("https://127.0.0.1:8443", trust), key)?;
//! let report = client.halt(Some(HaltMode::Halted), Some("drawdown alarm")).await?;
//! println!("{report}");
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod client;
mod error;
pub mod intent;
mod key;
mod model;
pub mod sign;
mod transport;

pub use client::Client;
pub use error::ClientError;
pub use key::PrincipalKey;
pub use model::{HaltMode, NewPrincipal, OrderRequest, Problem, Session, Side};
pub use transport::{ClientConfig, Trust};

/// Re-exported so callers name methods without adding `http`.
pub use http::Method;
