//! Open orders in the pre-trade checks and the plans, on the 100,000 USD fixture profile
//! (cash 50,000, BTC 20,000, ETH 15,000, SOL 10,000, USDC 5,000).

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::*;
use crate::check::{CheckContext, check_order_with_open};
use crate::fixtures::{a, d, market, order, portfolio, profile};
use crate::ids::Timestamp;
use crate::limits::PortfolioLimits;
use crate::market::Balance;
use crate::order::Side::{Buy, Sell};
use crate::rebalance::{PlanInput, RebalancePlan, SkipReason, plan_rebalance};
use crate::state::ProfileState;

fn open(base: &str, side: Side, qty: &str, price: Option<&str>) -> OpenOrder {
    let symbol = Symbol::new(a(base), a("USD")).unwrap();
    OpenOrder::new(symbol, side, d(qty), price.map(d)).unwrap()
}

/// The sorted reason codes of a check, empty when approved.
fn verdict(port: &Portfolio, opens: &[OpenOrder], o: Order) -> Vec<&'static str> {
    let (p, limits, m, state) = (
        profile(),
        PortfolioLimits::default(),
        market(),
        ProfileState::new(),
    );
    let ctx = CheckContext {
        profile: &p,
        limits: &limits,
        state: &state,
        portfolio: port,
        market: &m,
        now: Timestamp::from_secs(1_700_000_000),
    };
    let mut codes: Vec<_> = match check_order_with_open(&ctx, opens, o) {
        Ok(_) => vec![],
        Err(r) => r.reasons.iter().map(Rejection::code).collect(),
    };
    codes.sort_unstable();
    codes
}

fn with(mut port: Portfolio, asset: Option<&str>, free: &str, locked: &str) -> Portfolio {
    let b = Balance {
        free: d(free),
        locked: d(locked),
    };
    match asset {
        None => port.set_cash(b).unwrap(),
        Some(x) => port.set_holding(a(x), b).unwrap(),
    }
    port
}

#[test]
fn open_orders_change_the_verdict() {
    let port = portfolio();
    let eth = Symbol::new(a("ETH"), a("BTC")).unwrap();
    let foreign = OpenOrder::new(eth, Buy, d("1"), Some(d("0.05"))).unwrap();
    let cases: Vec<(Vec<OpenOrder>, Order, &[&str])> = vec![
        (vec![], order("BTC", Buy, "0.09", Some("50000")), &[]),
        // BTC 20k + 1k open + 4.5k: 25.5%; large caps 40.5%.
        (
            vec![open("BTC", Buy, "0.02", Some("50000"))],
            order("BTC", Buy, "0.09", Some("50000")),
            &["category_cap", "concentration"],
        ),
        // An open sell makes no room: it may never fill.
        (
            vec![open("BTC", Sell, "0.1", Some("50000"))],
            order("BTC", Buy, "0.11", Some("50000")),
            &["category_cap", "concentration"],
        ),
        // An open ETH buy counts in BTC's category: 20 + 4.5 + 15 + 2.5 = 42%.
        (
            vec![open("ETH", Buy, "1", Some("2500"))],
            order("BTC", Buy, "0.09", Some("50000")),
            &["category_cap"],
        ),
        (vec![], order("BTC", Sell, "0.1995", Some("50000")), &[]),
        // An open buy 5% above the last price can cost 255.25 of value: 9,975 is then 10.0005%.
        (
            vec![open("SOL", Buy, "50", Some("105"))],
            order("BTC", Sell, "0.1995", Some("50000")),
            &["max_position"],
        ),
        (
            vec![foreign],
            order("BTC", Buy, "0.01", Some("50000")),
            &["foreign_open_order"],
        ),
        (
            vec![open("DOGE", Buy, "1", Some("0.1"))],
            order("BTC", Buy, "0.01", Some("50000")),
            &["missing_price"],
        ),
    ];
    for (i, (opens, o, want)) in cases.into_iter().enumerate() {
        assert_eq!(verdict(&port, &opens, o), want, "TC{i} failed");
    }
}

#[test]
fn free_balance_is_not_double_counted() {
    // An open buy of 0.2 BTC at 50,000 reserves 10,010 with the fee. Fresh balances show it
    // locked; stale ones (read before it was placed) still count it as free.
    let buy = [open("BTC", Buy, "0.2", Some("50000"))];
    let fresh = with(portfolio(), None, "5000", "10010");
    let stale = with(portfolio(), None, "15010", "0");
    // Open sells of 5 ETH: locked in fresh balances, not yet in stale ones.
    let sell = [open("ETH", Sell, "5", Some("2500"))];
    let fresh_eth = with(portfolio(), Some("ETH"), "1", "5");
    let stale_eth = with(portfolio(), Some("ETH"), "6", "0");
    let cases: Vec<(&Portfolio, &[OpenOrder], Order, &[&str])> = vec![
        (&fresh, &buy, order("USDC", Buy, "4990", Some("1")), &[]),
        (&stale, &buy, order("USDC", Buy, "4990", Some("1")), &[]),
        (
            &fresh,
            &buy,
            order("USDC", Buy, "5000", Some("1")),
            &["insufficient_balance"],
        ),
        (
            &stale,
            &buy,
            order("USDC", Buy, "5000", Some("1")),
            &["insufficient_balance"],
        ),
        (
            &fresh_eth,
            &sell,
            order("ETH", Sell, "1", Some("2500")),
            &[],
        ),
        (
            &stale_eth,
            &sell,
            order("ETH", Sell, "1", Some("2500")),
            &[],
        ),
        (
            &fresh_eth,
            &sell,
            order("ETH", Sell, "1.1", Some("2500")),
            &["insufficient_balance"],
        ),
        (
            &stale_eth,
            &sell,
            order("ETH", Sell, "1.1", Some("2500")),
            &["insufficient_balance"],
        ),
    ];
    for (i, (port, opens, o, want)) in cases.into_iter().enumerate() {
        assert_eq!(verdict(port, opens, o), want, "TC{i} failed");
    }
}

#[test]
fn market_buys_reserve_the_top_of_the_band() {
    let m = market();
    let opens = [open("BTC", Buy, "0.1", None)];
    let p = Pending::new(&opens, &m, d("0.05")).unwrap();
    assert_eq!(p.cash_reserved, d("5255.25")); // 0.1 x 52,500 x 1.001
    assert_eq!(p.value_change, d("-5")); // the fee, at the last price
    assert_eq!(p.free_cash(&portfolio()), d("44744.75"));
}

#[test]
fn projection_and_reservation() {
    let m = market();
    let opens = [
        open("BTC", Buy, "0.1", Some("50000")),
        open("ETH", Sell, "2", Some("2600")),
    ];
    let p = Pending::new(&opens, &m, d("0.05")).unwrap();
    assert_eq!(p.value_change, d("-5") + d("200") - d("5.2"));
    assert_eq!(p.value_loss, d("-5"));
    let port = portfolio();
    let v = port.value(&m).unwrap();
    let after = p.projected(&v);
    assert_eq!(after.value(&a("BTC")), d("25000"));
    assert_eq!(after.value(&a("ETH")), d("10000"));
    assert_eq!(after.total, d("100189.8"));
    let reserved = p.reserve(&port);
    assert_eq!(reserved.cash().free, d("44995"));
    assert_eq!(reserved.holding(&a("ETH")).free, d("4"));
    assert_eq!(reserved.value(&m).unwrap().total, v.total);
}

#[test]
fn fail_open_orders_out_of_range() {
    let s = Symbol::new(a("BTC"), a("USD")).unwrap();
    assert!(OpenOrder::new(s.clone(), Buy, d("0"), None).is_err());
    assert!(OpenOrder::new(s.clone(), Buy, d("1"), Some(d("0"))).is_err());
    assert!(OpenOrder::new(s, Sell, d("1000000000001"), None).is_err());
    let o = order("BTC", Buy, "0.5", Some("50000"));
    let placed = OpenOrder::placed(&o);
    assert_eq!(
        (placed.remaining(), placed.limit_price(), placed.side()),
        (d("0.5"), Some(d("50000")), Buy)
    );
}

fn plan(port: &Portfolio, opens: &[OpenOrder]) -> Result<RebalancePlan, RiskError> {
    let (p, limits, m) = (profile(), PortfolioLimits::default(), market());
    let input = PlanInput {
        profile: &p,
        limits: &limits,
        portfolio: port,
        market: &m,
        stats: None,
        randomization: Decimal::ZERO,
        open_orders: opens,
    };
    plan_rebalance(&input, &mut ChaCha20Rng::seed_from_u64(7))
}

fn traded(plan: &RebalancePlan, asset: &str, side: Side) -> Decimal {
    plan.orders
        .iter()
        .filter(|o| o.symbol().base() == &a(asset) && o.side() == side)
        .map(|o| o.quantity())
        .sum()
}

#[test]
fn a_drift_open_orders_correct_gets_no_second_order() {
    let cash = Portfolio::with_cash(d("100000")).unwrap();
    let first = plan(&cash, &[]).unwrap();
    assert!(first.orders.len() > 4, "{:?}", first.orders);
    let opens: Vec<OpenOrder> = first.orders.iter().map(OpenOrder::placed).collect();
    for port in [cash.clone(), with(cash, None, "0", "100000")] {
        let again = plan(&port, &opens).unwrap();
        assert!(again.orders.is_empty(), "{:?}", again.orders);
    }
}

#[test]
fn sizes_are_net_of_pending_orders() {
    let port = portfolio();
    let first = plan(&port, &[]).unwrap();
    let eth = traded(&first, "ETH", Buy);
    assert!(eth > d("1"), "{first:?}");
    let half = (eth / Decimal::TWO).round_dp(5);
    let second = plan(&port, &[open("ETH", Buy, &half.to_string(), Some("2500"))]).unwrap();
    let rest = traded(&second, "ETH", Buy);
    assert!(
        (rest + half - eth).abs() < d("0.01"),
        "{eth} = {half} + {rest}?"
    );
}

#[test]
fn plans_never_trade_against_an_open_order() {
    let port = with(portfolio(), Some("BTC"), "0.6", "0"); // BTC 30,000 of 110,000
    assert!(traded(&plan(&port, &[]).unwrap(), "BTC", Sell) > Decimal::ZERO);
    let p = plan(&port, &[open("BTC", Buy, "0.01", Some("49000"))]).unwrap();
    assert_eq!(traded(&p, "BTC", Sell), Decimal::ZERO);
    let skipped = p.skipped.iter().find(|s| s.asset == a("BTC")).unwrap();
    assert_eq!(skipped.reason, SkipReason::OpposingOpenOrder);
}

#[test]
fn plans_spend_only_what_open_orders_leave() {
    // Stale balances: 100,000 free although an open SOL buy reserves 15,015.
    let cash = Portfolio::with_cash(d("100000")).unwrap();
    let p = plan(&cash, &[open("SOL", Buy, "150", Some("100"))]).unwrap();
    let spent: Decimal = p
        .orders
        .iter()
        .map(|o| o.quantity() * o.limit_price().unwrap() * d("1.001"))
        .sum();
    assert!(spent <= d("84985"), "{spent}");
    assert_eq!(traded(&p, "SOL", Buy), Decimal::ZERO); // 15% of the value is pending already
}

#[test]
fn fail_plans_refuse_foreign_open_orders() {
    let s = Symbol::new(a("ETH"), a("BTC")).unwrap();
    let foreign = OpenOrder::new(s, Buy, d("1"), None).unwrap();
    let err = plan(&portfolio(), &[foreign]).unwrap_err();
    assert!(matches!(err, RiskError::ForeignOpenOrder { .. }), "{err}");
}
