//! Coinbase Advanced Trade simulator: `/api/v3/brokerage/...` with a CDP JWT per request.
//!
//! Checks ES256 and EdDSA JWTs, their `uri` claim and 2-minute window, refuses reused tokens
//! ([`sign`]), key scopes, per-second token buckets ([`limits`]), and answers in Coinbase's JSON
//! ([`model`]).

pub mod limits;
pub(crate) mod model;
mod rest;
pub mod sign;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;

use crate::venue::VenueCore;
use limits::{CoinbaseLimiter, CoinbaseLimits};
use sign::SeenTokens;

/// Shared state of the Coinbase Advanced Trade routes.
pub(crate) struct CoinbaseState {
    core: Arc<VenueCore>,
    limits: Mutex<CoinbaseLimiter>,
    seen: Mutex<SeenTokens>,
}

impl CoinbaseState {
    fn limiter(&self) -> MutexGuard<'_, CoinbaseLimiter> {
        self.limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn seen(&self) -> MutexGuard<'_, SeenTokens> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The Coinbase Advanced Trade router.
pub(crate) fn app(core: Arc<VenueCore>, limits: CoinbaseLimits) -> Router {
    let state = Arc::new(CoinbaseState {
        core,
        limits: Mutex::new(CoinbaseLimiter::new(limits)),
        seen: Mutex::new(SeenTokens::default()),
    });
    Router::new().fallback(rest::handle).with_state(state)
}
