//! Kraken spot simulator: `/0/public/<Method>` and `POST /0/private/<Method>`.
//!
//! Checks `API-Key`/`API-Sign` (HMAC-SHA512) and strictly increasing nonces per key ([`sign`]),
//! key permissions, the decaying REST counter and the per-pair trading counter ([`limits`]), and
//! answers `{"error":[…],"result":…}` ([`model`]).

pub mod limits;
pub(crate) mod model;
mod rest;
pub mod sign;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;

use crate::venue::VenueCore;
use limits::{KrakenLimiter, KrakenLimits};

/// Shared state of the Kraken routes.
pub(crate) struct KrakenState {
    core: Arc<VenueCore>,
    limits: Mutex<KrakenLimiter>,
    nonces: Mutex<HashMap<String, u64>>,
}

impl KrakenState {
    fn limiter(&self) -> MutexGuard<'_, KrakenLimiter> {
        self.limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn nonces(&self) -> MutexGuard<'_, HashMap<String, u64>> {
        self.nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The Kraken router.
pub(crate) fn app(core: Arc<VenueCore>, limits: KrakenLimits) -> Router {
    let state = Arc::new(KrakenState {
        core,
        limits: Mutex::new(KrakenLimiter::new(limits)),
        nonces: Mutex::new(HashMap::new()),
    });
    Router::new().fallback(rest::handle).with_state(state)
}
