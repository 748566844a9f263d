use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rust_decimal::Decimal;

use super::*;
use crate::check::static_rejections;
use crate::fixtures::{a, d, market, portfolio, profile};
use crate::limits::PortfolioLimits;
use crate::market::{Balance, InstrumentRules, Portfolio};
use crate::order::Side;

fn plan(
    p: &crate::profile::Profile,
    port: &Portfolio,
    m: &crate::market::Market,
    seed: u64,
) -> RebalancePlan {
    let limits = PortfolioLimits::default();
    let input = PlanInput {
        profile: p,
        limits: &limits,
        portfolio: port,
        market: m,
        stats: None,
        randomization: d("0.1"),
        open_orders: &[],
    };
    plan_rebalance(&input, &mut ChaCha20Rng::seed_from_u64(seed)).unwrap()
}

/// Replays `plan` on `port`: every order passes the stateless checks in turn.
fn replay(
    p: &crate::profile::Profile,
    mut port: Portfolio,
    m: &crate::market::Market,
    plan: &RebalancePlan,
) -> Portfolio {
    let limits = PortfolioLimits::default();
    for (i, o) in plan.orders.iter().enumerate() {
        let r = static_rejections(p, &limits, &port, m, o);
        assert!(r.is_empty(), "order {i} refused: {r:?}");
        let price = o.limit_price().unwrap();
        port.apply_fill(
            o.symbol().base(),
            o.side() == Side::Buy,
            o.quantity(),
            price,
            m.fee_rate(),
        )
        .unwrap();
    }
    port
}

#[test]
fn from_cash_buys_towards_targets_in_chunks() {
    let (p, m) = (profile(), market());
    let cash = Portfolio::with_cash(d("100000")).unwrap();
    let plan = plan(&p, &cash, &m, 1);
    assert!(plan.orders.iter().all(|o| o.side() == Side::Buy));
    assert!(
        plan.orders
            .iter()
            .all(|o| o.quantity() * o.limit_price().unwrap() <= d("10000"))
    );
    let after = replay(&p, cash, &m, &plan);
    let v = after.value(&m).unwrap();
    for (asset, t) in &plan.targets {
        let w = v.weight(asset);
        assert!((w - t).abs() < d("0.002"), "{asset}: weight {w} target {t}");
    }
    assert!(plan.skipped.is_empty(), "{:?}", plan.skipped);
}

#[test]
fn over_concentrated_asset_is_sold_first() {
    let (p, m) = (profile(), market());
    let mut port = portfolio();
    port.set_holding(
        a("BTC"),
        Balance {
            free: d("1.2"),
            locked: Decimal::ZERO,
        },
    )
    .unwrap(); // 60k of 140k
    let plan = plan(&p, &port, &m, 2);
    let first = &plan.orders[0];
    assert_eq!(
        (first.symbol().base(), first.side()),
        (&a("BTC"), Side::Sell)
    );
    replay(&p, port, &m, &plan);
}

#[test]
fn fail_small_or_unprofitable_trades_are_skipped() {
    let mut p = profile();
    for (asset, w) in [("BTC", "0.18"), ("ETH", "0.18"), ("USDC", "0.2")] {
        p.targets.insert(a(asset), d(w));
    }
    let mut m = market();
    let port = portfolio();
    m.set_instrument(
        a("SOL"),
        InstrumentRules::new(d("0.01"), d("0.01"), d("0.01"), d("1000000")).unwrap(),
    );
    let plan = plan(&p, &port, &m, 3);
    let sol = plan
        .skipped
        .iter()
        .find(|s| s.asset == a("SOL"))
        .expect("SOL skipped");
    assert_eq!(sol.reason, SkipReason::BelowExchangeMinimum);

    // Exactly on target except a drift smaller than the fee rate.
    let mut on_target = Portfolio::with_cash(d("34000")).unwrap();
    for (asset, qty) in [
        ("BTC", "0.36"),
        ("ETH", "7.2"),
        ("SOL", "100.05"),
        ("USDC", "20000"),
    ] {
        on_target
            .set_holding(
                a(asset),
                Balance {
                    free: d(qty),
                    locked: Decimal::ZERO,
                },
            )
            .unwrap();
    }
    let limits = PortfolioLimits::default();
    let input = PlanInput {
        profile: &p,
        limits: &limits,
        portfolio: &on_target,
        market: &market(),
        stats: None,
        randomization: Decimal::ZERO,
        open_orders: &[],
    };
    let plan = plan_rebalance(&input, &mut ChaCha20Rng::seed_from_u64(4)).unwrap();
    assert!(plan.orders.is_empty(), "{:?}", plan.orders);
    assert!(
        plan.skipped
            .iter()
            .all(|s| s.reason == SkipReason::FeeExceedsBenefit),
        "{:?}",
        plan.skipped
    );
}

#[test]
fn client_order_ids_are_unique_and_tagged() {
    let (p, m) = (profile(), market());
    let plan = plan(&p, &Portfolio::with_cash(d("100000")).unwrap(), &m, 5);
    let ids: std::collections::BTreeSet<_> = plan
        .orders
        .iter()
        .map(|o| o.client_order_id().clone())
        .collect();
    assert_eq!(ids.len(), plan.orders.len());
    let tag = format!("{:08x}", p.id.tag());
    assert!(ids.iter().all(|id| id.as_str().starts_with(&tag)));
}

#[test]
fn same_seed_same_plan_other_seed_other_targets() {
    let (p, m) = (profile(), market());
    let cash = Portfolio::with_cash(d("100000")).unwrap();
    assert_eq!(plan(&p, &cash, &m, 9), plan(&p, &cash, &m, 9));
    assert_ne!(
        plan(&p, &cash, &m, 9).targets,
        plan(&p, &cash, &m, 10).targets
    );
}
