//! Exchange connectors for tradeguard: Binance spot, Coinbase Advanced Trade, Coinbase
//! Exchange and Kraken spot behind one [`Exchange`] trait.
//!
//! - [`model`]: the shared model (newtype ids, [`model::Symbol`], decimals parsed from strings).
//! - [`Exchange`]: balances, orders, lookups by client id, fills, key permissions, server time.
//! - [`ExchangeError`]: failures split by how the caller reacts ([`Reaction`]): retry,
//!   wait (rate limit, ban, open circuit), reject, or resolve an unknown outcome.
//! - [`credentials`]: secrets reach signers only through [`SecretSource`], one call at a time.
//! - [`binance`], [`coinbase`], [`coinbase_exchange`], [`kraken`]: one module tree each with the
//!   same files: `sign.rs` (checked against the official examples in `tests/vectors/`),
//!   `rest.rs`, `model.rs` (wire types and error shapes), `limits.rs` (rate model).
//! - [`ConnectorHub`]: builds connectors that share rate budgets ([`ratelimit`]), circuit
//!   breakers ([`breaker`]) and Kraken nonces; retries ([`retry`]) only for safe requests.
//! - [`ledger`]: orders recorded before sending, never re-sent blind, unknown outcomes resolved
//!   by client id, start-up reconciliation; durable in the gateway's database
//!   ([`ledger::SqlLedger`]). [`permissions`]: refuse keys that can withdraw.
//! - [`poller`]: periodic sync of balances, open orders and fills, with connectivity status
//!   ([`poller::SqlPollStore`] keeps them across restarts).
//! - [`clock`]: injectable time; [`bench`]: signing throughput.
//!
//! ```
//! use std::sync::Arc;
//! use tradeguard_exchange::model::{AccountId, ExchangeId};
//! use tradeguard_exchange::{ConnectorConfig, ConnectorHub, InMemorySecretSource};
//!
//! // One hub per process: every connector built from it shares budgets and breakers.
//! let hub = ConnectorHub::system();
//! let cfg = ConnectorConfig::new(ExchangeId::Kraken, AccountId::parse("kraken-main").unwrap())
//!     .with_base_url("http://127.0.0.1:7704".parse().unwrap()); // the simulator
//! let secrets = Arc::new(InMemorySecretSource::from_parts("key", "c2VjcmV0", None));
//! let kraken = hub.connect(&cfg, secrets).unwrap(); // Arc<dyn Exchange>; no I/O yet
//! assert_eq!(kraken.id(), ExchangeId::Kraken);
//! ```

#![deny(missing_docs)]

pub mod bench;
pub mod binance;
pub mod breaker;
pub mod clock;
pub mod coinbase;
pub mod coinbase_exchange;
pub mod config;
pub mod credentials;
mod error;
mod exchange;
pub mod http;
mod hub;
pub mod kraken;
pub mod ledger;
pub mod model;
mod pem;
pub mod permissions;
mod pipeline;
pub mod poller;
pub mod ratelimit;
pub mod retry;
mod wire;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::ConnectorConfig;
pub use credentials::{ApiCredential, InMemorySecretSource, SecretSource};
pub use error::{ExchangeError, ModelError, Reaction, RejectKind};
pub use exchange::Exchange;
pub use hub::ConnectorHub;
