//! Engine tests: entry, fills, fees, holds, client ids, determinism and balance invariants.

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::market::{FeeSchedule, MarketSpec};
use super::*;

const T0: u64 = 1_700_000_000_000;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn engine(fees: FeeSchedule, policy: ClientIdPolicy) -> Engine {
    Engine::new(EngineConfig {
        seed: 42,
        start_ms: T0,
        fees,
        policy,
        markets: MarketSpec::binance_defaults(),
    })
}

fn funded(e: &mut Engine) -> AccountId {
    e.open_account(&[("USDT".into(), d("1000000")), ("BTC".into(), d("10"))])
}

fn limit(side: Side, price: &str, qty: &str, cid: &str) -> OrderRequest {
    OrderRequest {
        market: "BTCUSDT".into(),
        side,
        kind: OrderKind::Limit,
        tif: TimeInForce::Gtc,
        post_only: false,
        price: Some(d(price)),
        quantity: Some(d(qty)),
        quote_quantity: None,
        client_id: Some(cid.into()),
    }
}

fn market(side: Side, qty: &str) -> OrderRequest {
    OrderRequest {
        kind: OrderKind::Market,
        price: None,
        tif: TimeInForce::Ioc,
        ..limit(side, "1", qty, "m")
    }
}

#[test]
fn market_buy_takes_liquidity_and_pays_fee_in_base() {
    let mut e = engine(FeeSchedule::binance(), ClientIdPolicy::UniqueAmongOpen);
    let a = funded(&mut e);
    let (_, ask, _) = e.top("BTCUSDT").unwrap();
    let id = e.place(a, market(Side::Buy, "0.1"), T0).unwrap();
    let o = e.order(a, &OrderRef::Id(id)).unwrap();
    assert_eq!(o.status, OrderStatus::Filled);
    assert_eq!(o.filled_qty, d("0.1"));
    assert_eq!(o.average_price(), Some(ask));
    let b = e.balances(a).unwrap();
    assert_eq!(
        b["BTC"].free,
        d("10.0999"),
        "0.1 bought minus 0.1% fee in BTC"
    );
    assert_eq!(b["USDT"].free, d("1000000") - ask * d("0.1"));
}

#[test]
fn large_market_order_fills_partially_across_levels_then_expires() {
    let mut e = engine(FeeSchedule::binance(), ClientIdPolicy::UniqueAmongOpen);
    let a = funded(&mut e);
    let id = e.place(a, market(Side::Sell, "9"), T0).unwrap();
    let o = e.order(a, &OrderRef::Id(id)).unwrap();
    assert_eq!(o.filled_qty, d("5"), "10 levels of 0.5 BTC");
    assert_eq!(o.status, OrderStatus::Expired);
    assert_eq!(e.fills(a).len(), 10);
}

#[test]
fn resting_limit_holds_funds_and_cancel_releases_them() {
    let mut e = engine(FeeSchedule::coinbase(), ClientIdPolicy::UniqueForever);
    let a = funded(&mut e);
    let id = e
        .place(a, limit(Side::Buy, "50000", "1", "c1"), T0)
        .unwrap();
    let b = e.balances(a).unwrap();
    assert_eq!(
        b["USDT"].locked,
        d("50300"),
        "price x qty + 0.6% worst-case fee"
    );
    assert_eq!(b["USDT"].free + b["USDT"].locked, d("1000000"));
    e.cancel(a, &OrderRef::Client("c1".into()), T0).unwrap();
    assert_eq!(
        e.balances(a).unwrap()["USDT"],
        Balance {
            free: d("1000000"),
            locked: d("0")
        }
    );
    assert_eq!(
        e.order(a, &OrderRef::Id(id)).unwrap().status,
        OrderStatus::Canceled
    );
    assert_eq!(
        e.cancel(a, &OrderRef::Id(id), T0),
        Err(EngineError::OrderClosed)
    );
}

#[test]
fn resting_order_fills_as_maker_when_the_path_crosses_it() {
    let mut e = engine(FeeSchedule::binance(), ClientIdPolicy::UniqueAmongOpen);
    let a = funded(&mut e);
    let (_, _, mid) = e.top("BTCUSDT").unwrap();
    let price = (mid * d("0.999")).round_dp(2);
    let id = e
        .place(a, limit(Side::Buy, &price.to_string(), "2", "c1"), T0)
        .unwrap();
    let mut t = T0;
    while e.order(a, &OrderRef::Id(id)).unwrap().status.is_open() && t < T0 + 86_400_000 {
        t += 60_000;
        e.advance(t);
    }
    let o = e.order(a, &OrderRef::Id(id)).unwrap();
    assert_eq!(
        o.status,
        OrderStatus::Filled,
        "seed 42 path crosses -0.1% within a day"
    );
    assert!(e.fills(a).iter().all(|f| f.is_maker && f.price == price));
    assert!(e.fills(a).len() >= 4, "0.5 BTC per step: partial fills");
    assert_eq!(e.balances(a).unwrap()["USDT"].locked, d("0"));
}

#[test]
fn fail_duplicate_client_id_rules() {
    let mut e = engine(FeeSchedule::binance(), ClientIdPolicy::UniqueAmongOpen);
    let a = funded(&mut e);
    e.place(a, limit(Side::Buy, "1000", "0.01", "dup"), T0)
        .unwrap();
    assert_eq!(
        e.place(a, limit(Side::Buy, "1000", "0.01", "dup"), T0),
        Err(EngineError::DuplicateClientId)
    );
    e.cancel(a, &OrderRef::Client("dup".into()), T0).unwrap();
    assert!(
        e.place(a, limit(Side::Buy, "1000", "0.01", "dup"), T0)
            .is_ok(),
        "reusable once closed"
    );
    let b = funded(&mut e);
    assert!(
        e.place(b, limit(Side::Buy, "1000", "0.01", "dup"), T0)
            .is_ok(),
        "per account"
    );

    let mut cb = engine(FeeSchedule::coinbase(), ClientIdPolicy::UniqueForever);
    let a = funded(&mut cb);
    cb.place(a, limit(Side::Buy, "1000", "0.01", "x"), T0)
        .unwrap();
    cb.cancel(a, &OrderRef::Client("x".into()), T0).unwrap();
    assert_eq!(
        cb.place(a, limit(Side::Buy, "1000", "0.01", "x"), T0),
        Err(EngineError::DuplicateClientId)
    );
}

#[test]
fn fail_invalid_orders_table() {
    let mut e = engine(FeeSchedule::binance(), ClientIdPolicy::UniqueAmongOpen);
    let a = funded(&mut e);
    let cases: Vec<(OrderRequest, EngineError)> = vec![
        (
            limit(Side::Buy, "1000.001", "0.01", "a"),
            EngineError::InvalidPrice("price is not a multiple of the tick size"),
        ),
        (
            limit(Side::Buy, "1000", "0.000001", "b"),
            EngineError::InvalidQuantity("quantity is not a multiple of the lot step"),
        ),
        (
            limit(Side::Buy, "1", "0.001", "c"),
            EngineError::MinNotional,
        ),
        (
            limit(Side::Buy, "100000", "100", "d"),
            EngineError::InsufficientBalance {
                asset: "USDT".into(),
            },
        ),
        (
            limit(Side::Sell, "100000", "11", "e"),
            EngineError::InsufficientBalance {
                asset: "BTC".into(),
            },
        ),
        (
            OrderRequest {
                market: "NOPE".into(),
                ..limit(Side::Buy, "1", "1", "f")
            },
            EngineError::UnknownMarket("NOPE".into()),
        ),
        (
            OrderRequest {
                post_only: true,
                ..limit(Side::Buy, "90000", "0.01", "g")
            },
            EngineError::PostOnlyWouldTake,
        ),
    ];
    for (i, (req, want)) in cases.into_iter().enumerate() {
        assert_eq!(e.place(a, req, T0), Err(want), "TC{} failed", i + 1);
    }
    assert!(e.orders(a).is_empty());
}

#[test]
fn fok_that_cannot_fill_expires_without_fills() {
    let mut e = engine(FeeSchedule::binance(), ClientIdPolicy::UniqueAmongOpen);
    let a = funded(&mut e);
    let req = OrderRequest {
        tif: TimeInForce::Fok,
        ..limit(Side::Buy, "90000", "6", "f")
    };
    let id = e.place(a, req, T0).unwrap();
    assert_eq!(
        e.order(a, &OrderRef::Id(id)).unwrap().status,
        OrderStatus::Expired
    );
    assert!(e.fills(a).is_empty());
}

#[test]
fn same_seed_same_history() {
    let run = || {
        let mut e = engine(FeeSchedule::kraken(), ClientIdPolicy::UniqueAmongOpen);
        let a = funded(&mut e);
        for i in 0..20u64 {
            let _ = e.place(
                a,
                market(if i % 2 == 0 { Side::Buy } else { Side::Sell }, "0.01"),
                T0 + i * 7_000,
            );
        }
        e.fills(a)
            .iter()
            .map(|f| (f.price, f.qty, f.fee))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Whatever the order flow, balances never go negative and locked equals the open holds.
    #[test]
    fn balances_stay_consistent(ops in proptest::collection::vec((0u8..4, 1u32..200, 0i32..400), 1..40)) {
        let mut e = engine(FeeSchedule::coinbase(), ClientIdPolicy::UniqueForever);
        let a = e.open_account(&[("USDT".into(), d("20000")), ("BTC".into(), d("0.5"))]);
        let mut t = T0;
        for (n, (op, qty, offset)) in ops.into_iter().enumerate() {
            t += 5_000;
            let (_, _, mid) = e.top("BTCUSDT").unwrap();
            let q = Decimal::from(qty) * d("0.001");
            let price = (mid + Decimal::from(offset - 200) * d("10")).round_dp(2);
            let cid = format!("c{n}");
            let side = if op % 2 == 0 { Side::Buy } else { Side::Sell };
            let req = if op < 2 { OrderRequest { client_id: Some(cid), ..limit(side, &price.to_string(), &q.to_string(), "") } }
                      else { OrderRequest { client_id: Some(cid), ..market(side, &q.to_string()) } };
            let _ = e.place(a, req, t);
            let first_open = e.open_orders(a, None).first().map(|o| o.id);
            if let (4, Some(o)) = (n % 5, first_open) {
                e.cancel(a, &OrderRef::Id(o), t).unwrap();
            }
        }
        let b = e.balances(a).unwrap();
        for (asset, bal) in &b {
            prop_assert!(bal.free >= Decimal::ZERO && bal.locked >= Decimal::ZERO, "{asset} negative: {bal:?}");
            let held: Decimal = e.open_orders(a, None).iter().filter_map(|o| o.hold.as_ref()).filter(|(h, _)| h == asset).map(|(_, x)| *x).sum();
            prop_assert_eq!(bal.locked, held, "{} locked != open holds", asset);
        }
    }
}
