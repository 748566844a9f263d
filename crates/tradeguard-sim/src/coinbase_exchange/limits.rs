//! Coinbase Exchange limits: lazily refilled token buckets, private per profile (15/s, burst
//! 30), `/fills` per profile (10/s, burst 20), public per IP (10/s, burst 15).
//!
//! See: https://docs.cdp.coinbase.com/exchange/rest-api/rate-limits ; exchanges.md §4.5.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::engine::AccountId;
use crate::ratelimit::TokenBucket;

/// Rates (per second) and bursts.
#[derive(Clone, Debug, PartialEq)]
pub struct CoinbaseExchangeLimits {
    /// Private endpoints per profile: rate.
    pub private_rate: f64,
    /// Private endpoints per profile: burst.
    pub private_burst: f64,
    /// `/fills` per profile: rate.
    pub fills_rate: f64,
    /// `/fills` per profile: burst.
    pub fills_burst: f64,
    /// Public endpoints per IP: rate.
    pub public_rate: f64,
    /// Public endpoints per IP: burst.
    pub public_burst: f64,
}

impl Default for CoinbaseExchangeLimits {
    fn default() -> Self {
        Self {
            private_rate: 15.0,
            private_burst: 30.0,
            fills_rate: 10.0,
            fills_burst: 20.0,
            public_rate: 10.0,
            public_burst: 15.0,
        }
    }
}

/// Live buckets.
pub(crate) struct ExchangeLimiter {
    cfg: CoinbaseExchangeLimits,
    private: HashMap<AccountId, TokenBucket>,
    fills: HashMap<AccountId, TokenBucket>,
    public: HashMap<IpAddr, TokenBucket>,
}

impl ExchangeLimiter {
    pub(crate) fn new(cfg: CoinbaseExchangeLimits) -> Self {
        Self {
            cfg,
            private: HashMap::new(),
            fills: HashMap::new(),
            public: HashMap::new(),
        }
    }

    /// One private request of `profile`; false means 429.
    pub(crate) fn private(&mut self, profile: AccountId, fills: bool, now: u64) -> bool {
        let (map, rate, burst) = if fills {
            (&mut self.fills, self.cfg.fills_rate, self.cfg.fills_burst)
        } else {
            (
                &mut self.private,
                self.cfg.private_rate,
                self.cfg.private_burst,
            )
        };
        map.entry(profile)
            .or_insert_with(|| TokenBucket::new(rate, burst, now))
            .take(now)
            .is_ok()
    }

    /// One public request from `ip`; false means 429.
    pub(crate) fn public(&mut self, ip: IpAddr, now: u64) -> bool {
        let (rate, burst) = (self.cfg.public_rate, self.cfg.public_burst);
        self.public
            .entry(ip)
            .or_insert_with(|| TokenBucket::new(rate, burst, now))
            .take(now)
            .is_ok()
    }
}
