//! `tradeguard-gateway`: the zero-trust HTTP API of tradeguard (axum on rustls).
//!
//! Only the principals the operator names may talk to the gateway, each within its scopes,
//! and every state-changing request proves who sent it (RFC 9421 signature, `ed25519` or
//! `hmac-sha256`), that it was not changed (RFC 9530 `Content-Digest`) and that it is fresh
//! (`created` window, single-use `nonce`). Errors are RFC 9457 problem documents.
//!
//! - [`auth`]: the authentication checks, lockouts, rate limits and the
//!   [`auth::Authenticated`] extractor; [`scope`]: scopes, default deny.
//! - [`api`]: the `/v1` router and handlers; [`quorum`]: M-of-N approvals;
//!   [`trading`]: ACTIVE / REDUCING / HALTED, persisted and broadcast.
//! - [`venue`]: the exchange side behind traits (risk gate, order router, canceller, alerts);
//!   [`audit`]: the fail-closed audit interface; [`evidence`]: what auditors read (audit
//!   checkpoints, entries and proofs, the signed report), behind traits.
//! - [`venue_exchange`]: the halt's cancel-everything over `tradeguard-exchange` connectors.
//! - [`input`]: the parsers of untrusted input (body limit, JSON bodies, bearer tokens),
//!   fuzzed in `fuzz/` with the body types [`api`] re-exports.
//! - [`intents`]: sealed per-trade intents (`POST /v1/intents`): open, check, answer with
//!   one fixed-size sealed answer, then execute, drop (dummies) or audit (refusals).
//! - [`metrics`]: the counters behind `GET /metrics` (Prometheus text); `GET /` serves the
//!   dashboard page ([`api`]).
//! - [`tls`]: rustls serving, self-signed certificates, loopback-only plain HTTP.
//! - [`client`]: signing requests the way the gateway requires (tests, bench, CLI);
//!   [`bench`](mod@bench): the `tradeguard bench gateway` figures.
//!
//! ```no_run
//! # async fn demo(store: tradeguard_store::Store, keys: tradeguard_gateway::keys::GatewayKeys,
//! #   audit: std::sync::Arc<dyn tradeguard_gateway::audit::AuditSink>) -> Result<(), Box<dyn std::error::Error>> {
//! use tradeguard_gateway::{api, state::GatewayBuilder, tls};
//! let state = GatewayBuilder::new(store, keys, audit).build().await?;
//! let app = api::router(state);
//! let cert = tls::self_signed(&["localhost".into()])?;
//! tls::serve(app, "127.0.0.1:8443".parse()?, tls::Transport::Tls(cert.config().await?), tls::Handle::new()).await?;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod api;
pub mod audit;
pub mod auth;
pub mod bench;
pub mod client;
pub mod clock;
pub mod config;
pub mod error;
pub mod evidence;
pub mod input;
pub mod intents;
pub mod keys;
pub mod metrics;
pub mod portfolio;
pub mod principal;
pub mod problem;
pub mod quorum;
pub mod scope;
pub mod state;
pub mod tls;
pub mod trading;
pub mod venue;
pub mod venue_exchange;

pub use error::{GatewayError, Result};
