//! Binance limits: request weight per IP per minute, orders per account per 10 s and per day,
//! 429 when a limit is broken and a 418 IP ban for clients that keep going after 429s.
//!
//! See: https://developers.binance.com/docs/binance-spot-api-docs/rest-api (General API
//! Information: "IP Limits", "Unfilled Order Count"); exchanges.md §1.5.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::engine::AccountId;

const MINUTE_MS: u64 = 60_000;
const MAX_BAN_MS: u64 = 3 * 24 * 3_600_000;

/// Binance's limits, as `GET /api/v3/exchangeInfo` reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinanceLimits {
    /// REQUEST_WEIGHT per IP per minute (6000).
    pub weight_per_minute: u32,
    /// ORDERS per account per 10 seconds (50).
    pub orders_per_10s: u32,
    /// ORDERS per account per day (160 000).
    pub orders_per_day: u32,
    /// Over-limit requests tolerated in one minute after the first 429 before the IP is banned.
    pub strikes_before_ban: u32,
    /// Length of the first ban in seconds (120); each further ban doubles, up to 3 days.
    pub first_ban_secs: u64,
}

impl Default for BinanceLimits {
    fn default() -> Self {
        Self {
            weight_per_minute: 6000,
            orders_per_10s: 50,
            orders_per_day: 160_000,
            strikes_before_ban: 10,
            first_ban_secs: 120,
        }
    }
}

/// The answer of the weight check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Within the limit; weight used this minute.
    Ok(u32),
    /// Over the limit: answer 429 with `Retry-After`.
    Limited { used: u32, retry_after_s: u64 },
    /// The IP is banned: answer 418 with `Retry-After`.
    Banned {
        used: u32,
        until_ms: u64,
        retry_after_s: u64,
    },
}

/// Which order-count limit was hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OrderLimitHit {
    pub(crate) limit: u32,
    pub(crate) interval: &'static str,
}

#[derive(Default)]
struct IpState {
    minute: u64,
    used: u32,
    strikes: u32,
    banned_until_ms: u64,
    bans: u32,
}

#[derive(Default)]
struct OrderCounts {
    window_10s: u64,
    count_10s: u32,
    day: u64,
    count_day: u32,
}

/// Live counters.
pub(crate) struct BinanceLimiter {
    pub(crate) cfg: BinanceLimits,
    ips: HashMap<IpAddr, IpState>,
    accounts: HashMap<AccountId, OrderCounts>,
}

impl BinanceLimiter {
    pub(crate) fn new(cfg: BinanceLimits) -> Self {
        Self {
            cfg,
            ips: HashMap::new(),
            accounts: HashMap::new(),
        }
    }

    /// Charges `weight` to `ip` and says whether the request may proceed.
    pub(crate) fn admit(&mut self, ip: IpAddr, weight: u32, now: u64) -> Admit {
        let cfg = self.cfg.clone();
        let st = self.ip(ip, now);
        if now < st.banned_until_ms {
            return Admit::Banned {
                used: st.used,
                until_ms: st.banned_until_ms,
                retry_after_s: secs_until(now, st.banned_until_ms),
            };
        }
        st.used = st.used.saturating_add(weight);
        if st.used <= cfg.weight_per_minute {
            return Admit::Ok(st.used);
        }
        st.strikes += 1;
        if st.strikes > cfg.strikes_before_ban {
            let ban = (cfg.first_ban_secs * 1000)
                .saturating_mul(1 << st.bans.min(20))
                .min(MAX_BAN_MS);
            st.banned_until_ms = now + ban;
            st.bans += 1;
            return Admit::Banned {
                used: st.used,
                until_ms: st.banned_until_ms,
                retry_after_s: secs_until(now, st.banned_until_ms),
            };
        }
        Admit::Limited {
            used: st.used,
            retry_after_s: secs_until(now, (now / MINUTE_MS + 1) * MINUTE_MS),
        }
    }

    /// Adds weight after the fact (failed orders are charged, successful ones are free).
    pub(crate) fn charge(&mut self, ip: IpAddr, weight: u32, now: u64) -> u32 {
        let st = self.ip(ip, now);
        st.used = st.used.saturating_add(weight);
        st.used
    }

    /// Weight used by `ip` this minute.
    pub(crate) fn used(&mut self, ip: IpAddr, now: u64) -> u32 {
        self.ip(ip, now).used
    }

    /// Counts a new order; returns the (10 s, 1 day) counts or the limit hit.
    pub(crate) fn count_order(
        &mut self,
        account: AccountId,
        now: u64,
    ) -> Result<(u32, u32), OrderLimitHit> {
        let cfg = self.cfg.clone();
        let c = self.orders(account, now);
        if c.count_10s >= cfg.orders_per_10s {
            return Err(OrderLimitHit {
                limit: cfg.orders_per_10s,
                interval: "10 SECOND",
            });
        }
        if c.count_day >= cfg.orders_per_day {
            return Err(OrderLimitHit {
                limit: cfg.orders_per_day,
                interval: "1 DAY",
            });
        }
        c.count_10s += 1;
        c.count_day += 1;
        Ok((c.count_10s, c.count_day))
    }

    /// The account's (10 s, 1 day) order counts.
    pub(crate) fn order_counts(&mut self, account: AccountId, now: u64) -> (u32, u32) {
        let c = self.orders(account, now);
        (c.count_10s, c.count_day)
    }

    fn orders(&mut self, account: AccountId, now: u64) -> &mut OrderCounts {
        let c = self.accounts.entry(account).or_default();
        if c.window_10s != now / 10_000 {
            c.window_10s = now / 10_000;
            c.count_10s = 0;
        }
        if c.day != now / 86_400_000 {
            c.day = now / 86_400_000;
            c.count_day = 0;
        }
        c
    }

    fn ip(&mut self, ip: IpAddr, now: u64) -> &mut IpState {
        let st = self.ips.entry(ip).or_default();
        if st.minute != now / MINUTE_MS {
            st.minute = now / MINUTE_MS;
            st.used = 0;
            st.strikes = 0;
        }
        st
    }
}

fn secs_until(now: u64, until: u64) -> u64 {
    until.saturating_sub(now).div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn over_weight_gives_429_then_418_on_continued_abuse() {
        let cfg = BinanceLimits {
            weight_per_minute: 10,
            strikes_before_ban: 2,
            ..Default::default()
        };
        let mut l = BinanceLimiter::new(cfg);
        let t = 60_000 * 100 + 30_000;
        assert_eq!(l.admit(IP, 10, t), Admit::Ok(10));
        assert_eq!(
            l.admit(IP, 1, t),
            Admit::Limited {
                used: 11,
                retry_after_s: 30
            }
        );
        assert!(matches!(l.admit(IP, 1, t), Admit::Limited { .. }));
        let Admit::Banned { retry_after_s, .. } = l.admit(IP, 1, t) else {
            panic!("expected a ban")
        };
        assert_eq!(retry_after_s, 120);
        assert!(
            matches!(l.admit(IP, 1, t + 60_000), Admit::Banned { .. }),
            "ban outlives the minute"
        );
        assert!(matches!(l.admit(IP, 1, t + 120_000), Admit::Ok(1)));
    }

    #[test]
    fn order_count_per_10s() {
        let mut l = BinanceLimiter::new(BinanceLimits {
            orders_per_10s: 2,
            ..Default::default()
        });
        let a = AccountId(1);
        assert_eq!(l.count_order(a, 0), Ok((1, 1)));
        assert_eq!(l.count_order(a, 1), Ok((2, 2)));
        assert_eq!(
            l.count_order(a, 2),
            Err(OrderLimitHit {
                limit: 2,
                interval: "10 SECOND"
            })
        );
        assert_eq!(l.count_order(a, 10_000), Ok((1, 3)));
    }
}
