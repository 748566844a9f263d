//! Binance rate limits: `REQUEST_WEIGHT` per minute per IP (synchronised from the
//! `X-MBX-USED-WEIGHT-1M` header), `RAW_REQUESTS` per 5 minutes per IP, and unfilled order
//! counts per account per 10 s and per day (`X-MBX-ORDER-COUNT-10S` / `-1D`).
//!
//! See: <https://developers.binance.com/docs/binance-spot-api-docs/rest-api> ("LIMITS",
//! "IP Limits", "Unfilled Order Count"); exchanges.md section 1.5.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::model::{ExchangeId, UnixMillis};
use crate::ratelimit::models::FixedWindow;
use crate::ratelimit::{Denied, Gate, Limits};

/// `REQUEST_WEIGHT` limit per minute (BN-ENUM example, BN-CL 2023-08-25).
pub const REQUEST_WEIGHT_PER_MINUTE: u32 = 6_000;
/// `RAW_REQUESTS` per 5 minutes (BN-CL 2026-03-27).
pub const RAW_REQUESTS_PER_5M: u32 = 300_000;
/// `ORDERS` per 10 seconds (`rateLimit/order` sample).
pub const ORDERS_PER_10S: u32 = 50;
/// `ORDERS` per day (`rateLimit/order` sample).
pub const ORDERS_PER_DAY: u32 = 160_000;

/// Weights of the endpoints the connector calls (BN-REST endpoint tables).
pub mod weight {
    /// `GET /api/v3/account`.
    pub const ACCOUNT: u32 = 20;
    /// `POST /api/v3/order` (0 when successful since 2026-04-02; failed ones cost 1).
    pub const NEW_ORDER: u32 = 1;
    /// `DELETE /api/v3/order`.
    pub const CANCEL: u32 = 1;
    /// `GET /api/v3/order`.
    pub const QUERY_ORDER: u32 = 4;
    /// `GET /api/v3/openOrders` with a symbol.
    pub const OPEN_ORDERS_ONE: u32 = 6;
    /// `GET /api/v3/openOrders` without a symbol.
    pub const OPEN_ORDERS_ALL: u32 = 80;
    /// `GET /api/v3/myTrades`.
    pub const MY_TRADES: u32 = 20;
    /// `GET /api/v3/time`.
    pub const TIME: u32 = 1;
    /// `GET /api/v3/exchangeInfo` with a symbol list.
    pub const EXCHANGE_INFO: u32 = 20;
    /// `GET /sapi/v1/account/apiRestrictions` (SAPI IP weight, counted here too).
    pub const API_RESTRICTIONS: u32 = 1;
}

/// What one Binance request costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BinanceCost {
    /// Request weight.
    pub weight: u32,
    /// New orders (counted against the account's order limits).
    pub orders: u32,
}

impl BinanceCost {
    /// A request of `weight` that places no order.
    pub const fn weight(weight: u32) -> Self {
        Self { weight, orders: 0 }
    }
}

#[derive(Debug)]
struct IpInner {
    weight: FixedWindow,
    raw: FixedWindow,
    gate: Gate,
}

/// The per-IP part: weight, raw requests, and the 429/418 gate.
#[derive(Debug)]
pub struct BinanceIpLimits {
    headroom: f64,
    inner: Mutex<IpInner>,
}

impl BinanceIpLimits {
    /// Published limits, used up to `headroom` of each.
    pub fn new(headroom: f64) -> Self {
        Self {
            headroom,
            inner: Mutex::new(IpInner {
                weight: FixedWindow::new(REQUEST_WEIGHT_PER_MINUTE, Duration::from_secs(60)),
                raw: FixedWindow::new(RAW_REQUESTS_PER_5M, Duration::from_secs(300)),
                gate: Gate::default(),
            }),
        }
    }

    /// Weight used in the current minute, as far as this process knows.
    pub fn used_weight(&self, now: UnixMillis) -> u32 {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .weight
            .used(now)
    }
}

#[derive(Debug)]
struct AccountInner {
    orders_10s: FixedWindow,
    orders_day: FixedWindow,
}

/// The per-account part: unfilled order counts.
#[derive(Debug)]
pub struct BinanceAccountLimits {
    headroom: f64,
    inner: Mutex<AccountInner>,
}

impl BinanceAccountLimits {
    /// Published limits, used up to `headroom` of each.
    pub fn new(headroom: f64) -> Self {
        Self {
            headroom,
            inner: Mutex::new(AccountInner {
                orders_10s: FixedWindow::new(ORDERS_PER_10S, Duration::from_secs(10)),
                orders_day: FixedWindow::new(ORDERS_PER_DAY, Duration::from_secs(86_400)),
            }),
        }
    }
}

/// Binance limits for one account behind one egress IP.
#[derive(Clone, Debug)]
pub struct BinanceLimits {
    ip: Arc<BinanceIpLimits>,
    account: Arc<BinanceAccountLimits>,
}

impl BinanceLimits {
    /// Combines a (shared) IP budget and a (shared) account budget.
    pub fn new(ip: Arc<BinanceIpLimits>, account: Arc<BinanceAccountLimits>) -> Self {
        Self { ip, account }
    }

    /// The IP part, for reports.
    pub fn ip(&self) -> &BinanceIpLimits {
        &self.ip
    }
}

fn header_u32(headers: &HeaderMap, name: &str) -> Option<u32> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

impl Limits for BinanceLimits {
    type Cost = BinanceCost;

    fn exchange(&self) -> ExchangeId {
        ExchangeId::Binance
    }

    fn try_acquire(&self, now: UnixMillis, cost: &BinanceCost) -> Result<(), Denied> {
        let mut ip = self.ip.inner.lock().unwrap_or_else(|p| p.into_inner());
        let fraction = ip.gate.check(now)? * self.ip.headroom;
        ip.weight
            .check(now, cost.weight, fraction)
            .map_err(Denied::Wait)?;
        ip.raw.check(now, 1, fraction).map_err(Denied::Wait)?;
        if cost.orders > 0 {
            let mut acct = self.account.inner.lock().unwrap_or_else(|p| p.into_inner());
            let f = fraction / self.ip.headroom * self.account.headroom;
            acct.orders_10s
                .check(now, cost.orders, f)
                .map_err(Denied::Wait)?;
            acct.orders_day
                .check(now, cost.orders, f)
                .map_err(Denied::Wait)?;
            acct.orders_10s.add(cost.orders);
            acct.orders_day.add(cost.orders);
        }
        ip.weight.add(cost.weight);
        ip.raw.add(1);
        Ok(())
    }

    fn observe(&self, now: UnixMillis, _cost: &BinanceCost, _status: u16, headers: &HeaderMap) {
        if let Some(used) = header_u32(headers, "x-mbx-used-weight-1m") {
            let mut ip = self.ip.inner.lock().unwrap_or_else(|p| p.into_inner());
            ip.weight.sync(now, used);
        }
        let ten = header_u32(headers, "x-mbx-order-count-10s");
        let day = header_u32(headers, "x-mbx-order-count-1d");
        if ten.is_some() || day.is_some() {
            let mut acct = self.account.inner.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = ten {
                acct.orders_10s.sync(now, n);
            }
            if let Some(n) = day {
                acct.orders_day.sync(now, n);
            }
        }
    }

    fn throttled(&self, now: UnixMillis, retry_after: Option<Duration>) {
        let mut ip = self.ip.inner.lock().unwrap_or_else(|p| p.into_inner());
        ip.gate.throttled(now, retry_after);
    }

    fn banned(&self, now: UnixMillis, until: UnixMillis) {
        let mut ip = self.ip.inner.lock().unwrap_or_else(|p| p.into_inner());
        ip.gate.banned(now, until);
        tracing::error!(exchange = "binance", until = %until, "IP banned (HTTP 418); no requests until the ban ends");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> BinanceLimits {
        BinanceLimits::new(
            Arc::new(BinanceIpLimits::new(0.95)),
            Arc::new(BinanceAccountLimits::new(0.95)),
        )
    }

    #[test]
    fn weight_stops_at_95_percent_and_resets_next_minute() {
        let l = limits();
        let t = UnixMillis(120_000);
        let cost = BinanceCost::weight(20);
        let mut n = 0;
        while l.try_acquire(t, &cost).is_ok() {
            n += 1;
        }
        assert_eq!(n, 5_700 / 20);
        assert_eq!(
            l.try_acquire(t, &cost),
            Err(Denied::Wait(Duration::from_secs(60)))
        );
        assert!(l.try_acquire(UnixMillis(180_000), &cost).is_ok());
    }

    #[test]
    fn used_weight_header_raises_the_local_count() {
        let l = limits();
        let t = UnixMillis(0);
        let mut h = HeaderMap::new();
        h.insert("X-MBX-USED-WEIGHT-1M", "5690".parse().unwrap());
        l.observe(t, &BinanceCost::weight(1), 200, &h);
        assert_eq!(l.ip().used_weight(t), 5_690);
        assert!(l.try_acquire(t, &BinanceCost::weight(20)).is_err());
    }

    #[test]
    fn order_count_is_per_account_and_does_not_leak_weight_on_refusal() {
        let l = limits();
        let t = UnixMillis(0);
        let order = BinanceCost {
            weight: 1,
            orders: 1,
        };
        for i in 0..47 {
            assert!(l.try_acquire(t, &order).is_ok(), "order {i}");
        }
        let before = l.ip().used_weight(t);
        assert!(matches!(l.try_acquire(t, &order), Err(Denied::Wait(_))));
        assert_eq!(
            l.ip().used_weight(t),
            before,
            "a refused order must not use weight"
        );
    }

    #[test]
    fn ban_refuses_everything_until_it_ends() {
        let l = limits();
        let t = UnixMillis(0);
        l.banned(t, UnixMillis(120_000));
        assert_eq!(
            l.try_acquire(UnixMillis(60_000), &BinanceCost::weight(1)),
            Err(Denied::Banned(UnixMillis(120_000)))
        );
        assert!(
            l.try_acquire(UnixMillis(121_000), &BinanceCost::weight(1))
                .is_ok()
        );
    }
}
