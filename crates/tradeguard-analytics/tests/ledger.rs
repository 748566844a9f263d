//! Ledger reports: hand-checked figures, and aggregated-only mode equal to the raw computation.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rust_decimal::Decimal;
use tradeguard_analytics::ledger::{
    Asset, ExchangeId, ExternalFlow, Fill, HoldingsSnapshot, Ledger, OrderOutcome, OrderRecord,
    PriceQuote, ProfileId, RebalanceEvent, Side,
};
use tradeguard_analytics::{
    AggregatedLedger, AnalyticsError, Conventions, Timestamp, analyze_ledger,
};

fn t(day: u32) -> Timestamp {
    Timestamp::parse(&format!("2024-01-{day:02}")).unwrap()
}
fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}
fn asset(s: &str) -> Asset {
    Asset::new(s).unwrap()
}
fn prof(s: &str) -> ProfileId {
    ProfileId::new(s).unwrap()
}
fn exch(s: &str) -> ExchangeId {
    ExchangeId::new(s).unwrap()
}

fn snapshot(day: u32, p: &str, e: &str, h: &[(&str, &str)]) -> HoldingsSnapshot {
    HoldingsSnapshot {
        time: t(day),
        profile: prof(p),
        exchange: exch(e),
        holdings: h
            .iter()
            .map(|(a, x)| (asset(a), d(x)))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn price(day: u32, a: &str, p: &str) -> PriceQuote {
    PriceQuote {
        time: t(day),
        asset: asset(a),
        price: d(p),
    }
}

fn fill(day: u32, p: &str, e: &str, qty: &str, px: &str, fee: &str, fee_asset: &str) -> Fill {
    Fill {
        time: t(day),
        profile: prof(p),
        exchange: exch(e),
        base: asset("BTC"),
        quote: asset("USDT"),
        side: Side::Buy,
        quantity: d(qty),
        price: d(px),
        fee: d(fee),
        fee_asset: asset(fee_asset),
    }
}

fn order(day: u32, p: &str, e: &str, outcome: OrderOutcome) -> OrderRecord {
    OrderRecord {
        time: t(day),
        profile: prof(p),
        exchange: exch(e),
        outcome,
    }
}

/// Two profiles, two exchanges, USD base; BTC from 100 to 110 to 99, USDT worth 1.
fn scenario() -> Ledger {
    Ledger {
        base_currency: asset("USD"),
        prices: vec![
            price(1, "BTC", "100"),
            price(2, "BTC", "110"),
            price(3, "BTC", "99"),
            price(1, "USDT", "1"),
            price(1, "ETH", "10"),
            price(2, "ETH", "12"),
            price(3, "ETH", "9"),
        ],
        snapshots: vec![
            snapshot(1, "alpha", "binance", &[("BTC", "1"), ("USDT", "100")]),
            snapshot(2, "alpha", "binance", &[("BTC", "1"), ("USDT", "100")]),
            // Deposit of 100 USDT on day 3 is in this snapshot.
            snapshot(3, "alpha", "binance", &[("BTC", "1"), ("USDT", "200")]),
            snapshot(1, "beta", "kraken", &[("ETH", "10")]),
            snapshot(3, "beta", "kraken", &[("ETH", "10")]),
        ],
        flows: vec![
            ExternalFlow {
                time: t(1),
                profile: prof("alpha"),
                exchange: exch("binance"),
                asset: asset("USDT"),
                amount: d("200"),
            },
            ExternalFlow {
                time: t(3),
                profile: prof("alpha"),
                exchange: exch("binance"),
                asset: asset("USDT"),
                amount: d("100"),
            },
        ],
        fills: vec![
            fill(1, "alpha", "binance", "0.5", "100", "0.05", "USDT"),
            fill(2, "alpha", "binance", "0.5", "110", "0.001", "BTC"),
            fill(2, "beta", "kraken", "0.1", "110", "0.011", "USDT"),
        ],
        orders: vec![
            order(1, "alpha", "binance", OrderOutcome::Filled),
            order(2, "alpha", "binance", OrderOutcome::PartiallyFilled),
            order(2, "alpha", "binance", OrderOutcome::Refused),
            order(2, "beta", "kraken", OrderOutcome::Filled),
        ],
        rebalances: vec![
            RebalanceEvent {
                time: t(1),
                profile: prof("alpha"),
            },
            RebalanceEvent {
                time: t(3),
                profile: prof("alpha"),
            },
        ],
    }
}

#[test]
fn hand_checked_figures() {
    let r = analyze_ledger(&scenario(), &Conventions::default()).unwrap();
    let alpha = &r.by_profile["alpha"];
    // Volume 0.5*100 + 0.5*110; fees 0.05 USDT + 0.001 BTC at 110.
    assert_eq!(alpha.activity.volume, d("105"));
    assert_eq!(alpha.activity.fees, d("0.16"));
    assert_eq!(alpha.activity.trade_count, 2);
    assert_eq!(alpha.activity.orders.total(), 3);
    assert_eq!(alpha.activity.order_success_rate, Some(2.0 / 3.0));
    // Day 3: 1 BTC at 99 + 200 USDT.
    assert_eq!(alpha.portfolio_value, Some(d("299")));
    // Returns: 200 -> 210 (+5 %); 210 -> 299 - 100 = 199.
    let twr = alpha.performance.metrics.time_weighted_return.unwrap();
    assert!(
        (twr - (1.05 * (199.0 / 210.0) - 1.0)).abs() < 1e-12,
        "{twr}"
    );
    assert_eq!(alpha.performance.profit_and_loss, Some(d("-1")));
    // Rebalances 2 days apart.
    let reb = alpha.rebalancing.as_ref().unwrap();
    assert_eq!((reb.count, reb.mean_days_between), (2, Some(2.0)));
    // Kraken holds only ETH: concentration 1.
    let kraken = &r.by_exchange["kraken"];
    assert_eq!(kraken.concentration[0].hhi, Some(1.0));
    assert!(kraken.rebalancing.is_none());
    // Day 1 overall: BTC 100, USDT 100, ETH 100 -> HHI 1/3.
    let c0 = &r.overall.concentration[0];
    assert!((c0.hhi.unwrap() - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(r.overall.activity.trade_count, 3);
    assert_eq!(r.overall.portfolio_value, Some(d("389")));
    // BTC and ETH both rose then fell: perfectly correlated over two periods.
    let labels = &r.asset_correlation.labels;
    assert_eq!(labels, &["BTC", "ETH", "USDT"]);
    assert!((r.asset_correlation.values[0][1].unwrap() - 1.0).abs() < 1e-12);
    assert_eq!(r.asset_correlation.values[2][2], None, "USDT never moves");
}

#[test]
fn aggregated_only_report_equals_raw_report() {
    let ledger = scenario();
    let raw = analyze_ledger(&ledger, &Conventions::default()).unwrap();
    let agg = AggregatedLedger::from_ledger(ledger).unwrap();
    assert_eq!(agg.report(&Conventions::default()).unwrap(), raw);
}

#[test]
fn absorbed_totals_give_the_raw_report() {
    // A gateway folds some fills into stored totals and reports the rest raw.
    let ledger = scenario();
    let raw = analyze_ledger(&ledger, &Conventions::default()).unwrap();
    let (kept, folded) = ledger.fills.split_at(ledger.fills.len() / 2);
    assert!(!kept.is_empty() && !folded.is_empty());
    let mut earlier = AggregatedLedger::new(ledger.base_currency.clone());
    for p in &ledger.prices {
        earlier.record_price(p).unwrap();
    }
    for f in folded {
        earlier.record_fill(f).unwrap();
    }
    let mut now = AggregatedLedger::from_ledger(Ledger {
        fills: kept.to_vec(),
        ..ledger.clone()
    })
    .unwrap();
    for totals in earlier.aggregates().accounts() {
        now.absorb(totals).unwrap();
    }
    assert_eq!(now.report(&Conventions::default()).unwrap(), raw);
}

#[test]
fn fail_fill_without_price_names_the_asset() {
    let mut ledger = scenario();
    ledger.fills[0].fee_asset = asset("BNB");
    match analyze_ledger(&ledger, &Conventions::default()) {
        Err(AnalyticsError::MissingPrice { asset, .. }) => assert_eq!(asset, "BNB"),
        other => panic!("expected MissingPrice, got {other:?}"),
    }
    assert!(AggregatedLedger::from_ledger(ledger).is_err());
}

#[test]
fn fail_negative_records() {
    let mut a = scenario();
    a.fills[1].quantity = d("-1");
    let mut b = scenario();
    b.prices[0].price = d("0");
    let mut c = scenario();
    c.snapshots[0].holdings.insert(asset("BTC"), d("-0.1"));
    for (i, l) in [a, b, c].into_iter().enumerate() {
        assert!(
            matches!(
                analyze_ledger(&l, &Conventions::default()),
                Err(AnalyticsError::InvalidRecord { .. })
            ),
            "TC{i} failed"
        );
    }
}

fn arb_fill() -> impl Strategy<Value = Fill> {
    (
        1u32..4,
        0usize..2,
        0usize..2,
        1i64..10_000,
        1i64..200_000,
        0i64..100,
        any::<bool>(),
    )
        .prop_map(|(day, p, e, q, px, fee, fee_btc)| Fill {
            time: t(day),
            profile: prof(["alpha", "beta"][p]),
            exchange: exch(["binance", "kraken"][e]),
            base: asset("BTC"),
            quote: asset("USDT"),
            side: if fee_btc { Side::Sell } else { Side::Buy },
            quantity: Decimal::new(q, 4),
            price: Decimal::new(px, 2),
            fee: Decimal::new(fee, 3),
            fee_asset: asset(if fee_btc { "BTC" } else { "USDT" }),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any fills, folded in any order, give exactly the raw report.
    #[test]
    fn aggregates_match_raw_for_any_fills(
        fills in prop::collection::vec(arb_fill(), 0..40),
        seed in any::<u64>(),
    ) {
        let mut ledger = scenario();
        ledger.fills = fills;
        let raw = analyze_ledger(&ledger, &Conventions::default()).unwrap();
        let mut agg = AggregatedLedger::new(ledger.base_currency.clone());
        for p in &ledger.prices { agg.record_price(p).unwrap(); }
        let mut order: Vec<usize> = (0..ledger.fills.len()).collect();
        let n = order.len().max(1);
        order.rotate_left((seed as usize) % n);
        order.reverse();
        for i in order { agg.record_fill(&ledger.fills[i]).unwrap(); }
        for o in &ledger.orders { agg.record_order(o); }
        for s in ledger.snapshots.clone() { agg.record_snapshot(s).unwrap(); }
        for f in ledger.flows.clone() { agg.record_flow(f); }
        for r in ledger.rebalances.clone() { agg.record_rebalance(r); }
        prop_assert_eq!(agg.report(&Conventions::default()).unwrap(), raw);
    }
}

#[test]
fn ledger_report_survives_signing_and_verification() {
    use tradeguard_analytics::{
        CheckpointRef, Report, ReportBody, ReportFormat, sign_report, verify_report,
    };
    let report = Report {
        format: ReportFormat,
        generated_at: t(4),
        checkpoint: CheckpointRef::new("tradeguard.test/audit", 42, [1u8; 32]).unwrap(),
        body: ReportBody::Ledger(Box::new(
            analyze_ledger(&scenario(), &Conventions::default()).unwrap(),
        )),
    };
    let key = tradeguard_crypto::sign::Ed25519SigningKey::from_seed(&[9u8; 32]).unwrap();
    let file = sign_report(&report, &key).unwrap();
    assert_eq!(verify_report(&file, &key.verifying_key()).unwrap(), report);
}
