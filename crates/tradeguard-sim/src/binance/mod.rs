//! Binance spot simulator: `/api/v3/...` and `/sapi/v1/account/apiRestrictions`.
//!
//! Checks HMAC-SHA256 and Ed25519 signatures, `timestamp`/`recvWindow`, key permissions and IP
//! allowlists ([`sign`]); enforces request weight per IP with `X-MBX-USED-WEIGHT-1M`, order
//! counts per account, 429 then 418 ([`limits`]); answers in Binance's JSON ([`model`]).

pub mod limits;
pub(crate) mod model;
mod rest;
pub(crate) mod sign;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;

use crate::venue::VenueCore;
use limits::{BinanceLimiter, BinanceLimits};

/// Shared state of the Binance routes.
pub(crate) struct BinanceState {
    core: Arc<VenueCore>,
    limits: Mutex<BinanceLimiter>,
    next_client_id: AtomicU64,
}

impl BinanceState {
    fn limiter(&self) -> MutexGuard<'_, BinanceLimiter> {
        self.limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The Binance router.
pub(crate) fn app(core: Arc<VenueCore>, limits: BinanceLimits) -> Router {
    let state = Arc::new(BinanceState {
        core,
        limits: Mutex::new(BinanceLimiter::new(limits)),
        next_client_id: AtomicU64::new(1),
    });
    Router::new().fallback(rest::handle).with_state(state)
}
