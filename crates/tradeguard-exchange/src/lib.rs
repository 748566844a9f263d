//! Exchange connectors for tradeguard: Binance spot, Coinbase Advanced Trade, Coinbase
//! Exchange and Kraken spot behind one [`Exchange`] trait.
//!
//! - [`model`]: the shared model (newtype ids, [`model::Symbol`], decimals parsed from strings).
//! - [`Exchange`]: balances, orders, fills, key permissions, server time.
//! - [`ExchangeError`]: failures split by how the caller reacts ([`Reaction`]).
//! - [`credentials`]: secrets reach signers only through [`SecretSource`], one call at a time.
//! - [`clock`]: injectable time, so limits and back-offs are testable.
//!
//! ```
//! use tradeguard_exchange::model::{ClientOrderId, OrderRequest, OrderType, Side, Symbol};
//! use rust_decimal::Decimal;
//!
//! let order = OrderRequest::new(
//!     ClientOrderId::generate().unwrap(),
//!     Symbol::parse("BTC/USDT").unwrap(),
//!     Side::Buy,
//!     OrderType::Market,
//!     Decimal::new(1, 3),
//! )
//! .unwrap();
//! assert_eq!(order.quantity().to_string(), "0.001");
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
