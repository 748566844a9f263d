//! Coinbase Advanced Trade limits: token buckets, private 30 req/s per key and public 10 req/s
//! per IP. These numbers come from secondary sources (exchanges.md §3.4 marks them unverified).

use std::collections::HashMap;
use std::net::IpAddr;

use crate::ratelimit::TokenBucket;

/// Rates (per second) and bursts.
#[derive(Clone, Debug, PartialEq)]
pub struct CoinbaseLimits {
    /// Private endpoints per key: rate.
    pub private_rate: f64,
    /// Private endpoints per key: burst.
    pub private_burst: f64,
    /// Public endpoints per IP: rate.
    pub public_rate: f64,
    /// Public endpoints per IP: burst.
    pub public_burst: f64,
}

impl Default for CoinbaseLimits {
    fn default() -> Self {
        Self {
            private_rate: 30.0,
            private_burst: 30.0,
            public_rate: 10.0,
            public_burst: 10.0,
        }
    }
}

/// Live buckets; `remaining` feeds the `x-ratelimit-*` headers.
pub(crate) struct CoinbaseLimiter {
    pub(crate) cfg: CoinbaseLimits,
    private: HashMap<String, TokenBucket>,
    public: HashMap<IpAddr, TokenBucket>,
}

impl CoinbaseLimiter {
    pub(crate) fn new(cfg: CoinbaseLimits) -> Self {
        Self {
            cfg,
            private: HashMap::new(),
            public: HashMap::new(),
        }
    }

    /// One private request of `key`: Ok(remaining) or Err(ms to wait).
    pub(crate) fn private(&mut self, key: &str, now: u64) -> Result<u64, u64> {
        let (rate, burst) = (self.cfg.private_rate, self.cfg.private_burst);
        let b = self
            .private
            .entry(key.to_owned())
            .or_insert_with(|| TokenBucket::new(rate, burst, now));
        b.take(now)?;
        Ok(b.remaining(now))
    }

    /// One public request from `ip`: Ok(remaining) or Err(ms to wait).
    pub(crate) fn public(&mut self, ip: IpAddr, now: u64) -> Result<u64, u64> {
        let (rate, burst) = (self.cfg.public_rate, self.cfg.public_burst);
        let b = self
            .public
            .entry(ip)
            .or_insert_with(|| TokenBucket::new(rate, burst, now));
        b.take(now)?;
        Ok(b.remaining(now))
    }
}
