//! Test fixtures shared by the unit tests: one moderate profile worth 100,000 USD.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::ids::{AccountId, Asset, ClientOrderId, Exchange, ProfileId, Symbol};
use crate::market::{Balance, InstrumentRules, Market, Portfolio};
use crate::order::{Order, OrderType, Side};
use crate::profile::{Profile, ProfileType};

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn a(s: &str) -> Asset {
    Asset::new(s).unwrap()
}

/// Moderate profile: BTC 20%, ETH 20%, SOL 10%, USDC 25%, quoted in USD.
pub fn profile() -> Profile {
    let targets: BTreeMap<Asset, Decimal> = [
        ("BTC", "0.20"),
        ("ETH", "0.20"),
        ("SOL", "0.10"),
        ("USDC", "0.25"),
    ]
    .iter()
    .map(|(k, v)| (a(k), d(v)))
    .collect();
    Profile::with_defaults(
        ProfileId::new("p1").unwrap(),
        AccountId {
            exchange: Exchange::Binance,
            credential: "main".into(),
        },
        ProfileType::Moderate,
        a("USD"),
        targets,
    )
}

/// Prices BTC 50000, ETH 2500, SOL 100, USDC 1, USDT 1; tick 0.01, step 0.00001, minimum
/// notional 10 for each; fee 0.1%.
pub fn market() -> Market {
    let mut m = Market::new(a("USD"), d("0.001")).unwrap();
    let rules = InstrumentRules::new(d("0.01"), d("0.00001"), d("0.00001"), d("10")).unwrap();
    for (asset, price) in [
        ("BTC", "50000"),
        ("ETH", "2500"),
        ("SOL", "100"),
        ("USDC", "1"),
        ("USDT", "1"),
    ] {
        m.set_price(a(asset), d(price)).unwrap();
        m.set_instrument(a(asset), rules);
    }
    m
}

/// 50,000 USD cash, BTC 20,000, ETH 15,000, SOL 10,000, USDC 5,000 (total 100,000).
pub fn portfolio() -> Portfolio {
    let mut p = Portfolio::with_cash(d("50000")).unwrap();
    for (asset, qty) in [
        ("BTC", "0.4"),
        ("ETH", "6"),
        ("SOL", "100"),
        ("USDC", "5000"),
    ] {
        p.set_holding(
            a(asset),
            Balance {
                free: d(qty),
                locked: Decimal::ZERO,
            },
        )
        .unwrap();
    }
    p
}

pub fn order(base: &str, side: Side, qty: &str, price: Option<&str>) -> Order {
    order_for("p1", base, "USD", side, qty, price)
}

pub fn order_for(
    profile: &str,
    base: &str,
    quote: &str,
    side: Side,
    qty: &str,
    price: Option<&str>,
) -> Order {
    let ty = price.map_or(OrderType::Market, |p| OrderType::Limit { price: d(p) });
    Order::new(
        ProfileId::new(profile).unwrap(),
        ClientOrderId::new("c1").unwrap(),
        Symbol::new(a(base), a(quote)).unwrap(),
        side,
        ty,
        d(qty),
    )
    .unwrap()
}
