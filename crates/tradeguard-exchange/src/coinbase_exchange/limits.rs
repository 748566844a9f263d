//! Coinbase Exchange rate limits: lazily refilled token buckets per profile, private
//! endpoints 15 requests per second (bursts of 30) and `/fills` 10 per second (bursts of 20).
//!
//! See: <https://docs.cdp.coinbase.com/exchange/rest-api/rate-limits>; exchanges.md 4.5.

use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::model::{ExchangeId, UnixMillis};
use crate::ratelimit::models::TokenBucket;
use crate::ratelimit::{Denied, Gate, Limits};

/// Private endpoints: requests per second and burst.
pub const PRIVATE: (f64, f64) = (15.0, 30.0);
/// `/fills`: requests per second and burst.
pub const FILLS: (f64, f64) = (10.0, 20.0);

/// Which bucket a request draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CbxCost {
    /// A public endpoint (`/time`): not counted against the profile.
    Public,
    /// A private endpoint.
    Private,
    /// `/fills` (also counted as private).
    Fills,
}

#[derive(Debug)]
struct Inner {
    private: TokenBucket,
    fills: TokenBucket,
    gate: Gate,
}

/// Coinbase Exchange limits for one profile key.
#[derive(Debug)]
pub struct CoinbaseExchangeLimits {
    headroom: f64,
    inner: Mutex<Inner>,
}

impl CoinbaseExchangeLimits {
    /// The published rates, used up to `headroom`.
    pub fn new(headroom: f64) -> Self {
        Self {
            headroom,
            inner: Mutex::new(Inner {
                private: TokenBucket::new(PRIVATE.0, PRIVATE.1),
                fills: TokenBucket::new(FILLS.0, FILLS.1),
                gate: Gate::default(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Limits for CoinbaseExchangeLimits {
    type Cost = CbxCost;

    fn exchange(&self) -> ExchangeId {
        ExchangeId::CoinbaseExchange
    }

    fn try_acquire(&self, now: UnixMillis, cost: &CbxCost) -> Result<(), Denied> {
        let mut g = self.lock();
        let fraction = g.gate.check(now)? * self.headroom;
        match cost {
            CbxCost::Public => Ok(()),
            CbxCost::Private => g.private.try_take(now, 1.0, fraction).map_err(Denied::Wait),
            CbxCost::Fills => {
                // Take from the fills bucket first; give it back if the private one refuses.
                g.fills.try_take(now, 1.0, fraction).map_err(Denied::Wait)?;
                if let Err(w) = g.private.try_take(now, 1.0, fraction) {
                    g.fills.refund(1.0);
                    return Err(Denied::Wait(w));
                }
                Ok(())
            }
        }
    }

    fn observe(&self, _now: UnixMillis, _cost: &CbxCost, _status: u16, _headers: &HeaderMap) {}

    fn throttled(&self, now: UnixMillis, retry_after: Option<Duration>) {
        self.lock().gate.throttled(now, retry_after);
    }

    fn banned(&self, now: UnixMillis, until: UnixMillis) {
        self.lock().gate.banned(now, until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_drain_their_own_bucket_first() {
        let l = CoinbaseExchangeLimits::new(1.0);
        let t = UnixMillis(0);
        let fills = (0..100)
            .take_while(|_| l.try_acquire(t, &CbxCost::Fills).is_ok())
            .count();
        assert_eq!(fills, 20);
        let private = (0..100)
            .take_while(|_| l.try_acquire(t, &CbxCost::Private).is_ok())
            .count();
        assert_eq!(private, 10, "30 burst minus the 20 fills");
    }
}
