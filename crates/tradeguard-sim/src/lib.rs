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
//! # Running them in-process (tests)
//!
//! ```no_run
//! # async fn demo() -> Result<(), tradeguard_sim::SimError> {
//! use tradeguard_sim::{FaultConfig, KeySpec, Permissions, SimConfig, Venue};
//!
//! // base_port 0: each venue on a free loopback port.
//! let sim = tradeguard_sim::start(SimConfig::default()).await?;
//! let binance = sim.keys().get(Venue::Binance); // funded account, trading key
//! println!("{} key {}", binance.base_url, binance.api_key);
//!
//! // A key that can withdraw, on a second funded account, for the refusal test.
//! let risky = KeySpec { permissions: Permissions::dangerous_withdraw(), ..KeySpec::trading(Venue::Kraken) };
//! let kraken_withdraw = sim.venue(Venue::Kraken).funded_key(&risky)?;
//!
//! // 10 % of requests faulted, reproducibly; the exchange's own records for reconciliation.
//! sim.venue(Venue::Binance).set_faults(FaultConfig::uniform(42, 0.10));
//! let truth = sim.venue(Venue::Binance).orders(binance.account);
//! # let _ = (kraken_withdraw, truth);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Time comes from [`SimConfig::clock`]: a [`ManualClock`] makes stale-timestamp, JWT-expiry
//! and rate-limit tests deterministic. [`VenueHandle::rate_stats`] reports what each venue's
//! rate limiter decided (Binance weight per minute, 429s, 418 bans), so a client's pacing is
//! measured on the server side.
//!
//! # Standalone and with ccxt
//!
//! `tradeguard sim --port 7701 --keys-out keys.json` serves Binance on 7701, Coinbase Advanced
//! Trade on 7702, Coinbase Exchange on 7703 and Kraken on 7704. The ccxt interop test runs
//! Python ccxt against all four:
//!
//! ```text
//! pip install ccxt==4.5.90
//! cargo build -p tradeguard
//! python3 crates/tradeguard-sim/tests/interop/ccxt_interop.py --bin target/debug/tradeguard
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
pub use binance::limits::BinanceLimits;
pub use clock::{Clock, ManualClock, SystemClock};
pub use coinbase::limits::CoinbaseLimits;
pub use coinbase_exchange::limits::CoinbaseExchangeLimits;
pub use engine::{AccountId, Balance, Fill, Order, OrderId, OrderStatus};
pub use error::SimError;
pub use faults::{Fault, FaultConfig, FaultStats};
pub use kraken::limits::KrakenLimits;
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
