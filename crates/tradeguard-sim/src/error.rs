//! Errors of the simulator's own API (starting servers, creating keys and accounts).
//!
//! Errors a *client* of a simulated exchange sees are not here: each venue answers those in its
//! exchange's own JSON shape.

use crate::Venue;

/// What went wrong while running or configuring a simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A listening socket could not be opened.
    #[error("cannot listen on 127.0.0.1:{port}: {source}; pick another port or stop what uses it")]
    Bind {
        /// The port asked for (0: any).
        port: u16,
        /// The OS error.
        source: std::io::Error,
    },
    /// The venue does not issue keys of the requested kind.
    #[error("{venue} does not issue {scheme} keys; choose one the exchange supports")]
    UnsupportedScheme {
        /// The venue.
        venue: Venue,
        /// The scheme asked for.
        scheme: &'static str,
    },
    /// Key material could not be generated (system randomness failed).
    #[error("cannot generate key material: {0}; check the system random source")]
    KeyGeneration(&'static str),
    /// No such account on that venue.
    #[error("unknown account on {0}; open one with `open_account` first")]
    UnknownAccount(Venue),
    /// Ports `port..port+3` do not fit in 16 bits.
    #[error("base port {0} leaves no room for four consecutive ports; use one at most 65532")]
    PortRange(u16),
}
