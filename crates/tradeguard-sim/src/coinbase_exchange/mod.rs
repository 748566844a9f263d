//! Coinbase Exchange simulator: `/accounts`, `/orders`, `/fills` (CB-ACCESS-* with passphrase)
//! and the public `/time`, `/products`, `/currencies`.
//!
//! Checks the HMAC signature, the 30 s timestamp window and the passphrase ([`sign`]), token
//! buckets per profile and IP ([`limits`]), and answers `{"message":"…"}` errors ([`model`]).

pub mod limits;
pub(crate) mod model;
mod rest;
pub mod sign;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;

use crate::venue::VenueCore;
use limits::{CoinbaseExchangeLimits, ExchangeLimiter};

/// Shared state of the Coinbase Exchange routes.
pub(crate) struct ExchangeState {
    core: Arc<VenueCore>,
    limits: Mutex<ExchangeLimiter>,
}

impl ExchangeState {
    fn limiter(&self) -> MutexGuard<'_, ExchangeLimiter> {
        self.limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The Coinbase Exchange router.
pub(crate) fn app(core: Arc<VenueCore>, limits: CoinbaseExchangeLimits) -> Router {
    let state = Arc::new(ExchangeState {
        core,
        limits: Mutex::new(ExchangeLimiter::new(limits)),
    });
    Router::new().fallback(rest::handle).with_state(state)
}
