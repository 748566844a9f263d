//! tradeguard-sim: simulators of Binance spot, Coinbase Advanced Trade, Coinbase Exchange and
//! Kraken spot that check requests the way each exchange does.
//!
//! Each simulator serves its exchange's REST paths on 127.0.0.1, verifies signatures, timestamps,
//! nonces, JWTs and key permissions as the exchange documents them, enforces its rate limits,
//! and answers successes and errors in the exchange's own JSON shapes and HTTP statuses. Behind
//! them a deterministic matching engine ([`engine`]) fills market and limit orders against a
//! seeded price path, with fees and partial fills; [`faults`] injects latency, 5xx, 429/418,
//! dropped connections after an accepted order and duplicate-id answers, reproducibly.
//!
//! Module layout mirrors `tradeguard-exchange`: `{binance,coinbase,coinbase_exchange,kraken}/`
//! each hold `sign.rs` (verification), `rest.rs` (routes), `model.rs` (wire JSON) and
//! `limits.rs` (rate limits).
//!
//! ```no_run
//! # async fn demo() -> Result<(), tradeguard_sim::SimError> {
//! use tradeguard_sim::{SimConfig, Venue};
//!
//! let sim = tradeguard_sim::start(SimConfig::default()).await?;
//! let binance = sim.keys().get(Venue::Binance);
//! println!("{} key {}", binance.base_url, binance.api_key);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod accounts;
pub mod binance;
pub mod clock;
pub mod coinbase;
pub mod coinbase_exchange;
pub mod engine;
mod error;
pub mod faults;
mod http;
mod ids;
pub mod kraken;
pub mod ratelimit;
mod server;
mod sim;
mod timefmt;
mod venue;

pub use accounts::{KeyScheme, KeySpec, Permissions, SimCredential};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::SimError;
pub use faults::{Fault, FaultConfig, FaultStats};
pub use sim::{Sim, SimConfig, SimKeys, default_funding, start};
pub use venue::VenueHandle;

/// The four simulated exchange APIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Venue {
    /// Binance spot (`/api/v3`).
    Binance,
    /// Coinbase Advanced Trade (`/api/v3/brokerage`, CDP JWT keys).
    Coinbase,
    /// Coinbase Exchange (`/accounts`, `/orders`; key + secret + passphrase).
    CoinbaseExchange,
    /// Kraken spot (`/0/private`, `/0/public`).
    Kraken,
}

impl Venue {
    /// All four, in port order (Binance on the base port, then +1, +2, +3).
    pub const ALL: [Venue; 4] = [
        Venue::Binance,
        Venue::Coinbase,
        Venue::CoinbaseExchange,
        Venue::Kraken,
    ];

    /// The id used in `--keys-out` JSON and in sealed credentials.
    pub fn id(self) -> &'static str {
        match self {
            Venue::Binance => "binance",
            Venue::Coinbase => "coinbase",
            Venue::CoinbaseExchange => "coinbaseexchange",
            Venue::Kraken => "kraken",
        }
    }
}

impl std::fmt::Display for Venue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}
