use std::mem::discriminant;

use super::*;
use crate::fixtures::{d, market, order, order_for, portfolio, profile};
use crate::limits::PortfolioLimits;
use crate::order::Side::{Buy, Sell};

const T0: i64 = 1_700_000_000_000;

fn kinds(reasons: &[Rejection]) -> Vec<String> {
    let mut v: Vec<String> = reasons
        .iter()
        .map(|r| {
            format!("{r:?}")
                .split([' ', '{', '('])
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    v.sort();
    v
}

fn run(profile: &Profile, state: &ProfileState, o: Order) -> Result<RiskApproved<Order>, Refusal> {
    let (limits, portfolio, market) = (PortfolioLimits::default(), portfolio(), market());
    let ctx = CheckContext {
        profile,
        limits: &limits,
        state,
        portfolio: &portfolio,
        market: &market,
        now: Timestamp::from_millis(T0),
    };
    check_order(&ctx, o)
}

#[test]
fn each_check_has_its_own_reason() {
    let cases: Vec<(Order, &[&str])> = vec![
        (order("BTC", Buy, "0.09", Some("50000")), &[]),
        (order("BTC", Buy, "0.01", None), &[]),
        (order("BTC", Sell, "0.2", Some("50000")), &[]),
        (
            order("BTC", Buy, "0.11", Some("50000")),
            &["CategoryCap", "Concentration"],
        ),
        (order("ETH", Buy, "2", Some("2500")), &["CategoryCap"]),
        (
            order("BTC", Sell, "0.5", Some("50000")),
            &["InsufficientBalance", "MaxPosition"],
        ),
        (
            order("DOGE", Buy, "1", Some("0.1")),
            &["MissingPrice", "NotInAssetSet", "UnknownInstrument"],
        ),
        (
            order("USDT", Buy, "100", Some("1")),
            &["ExcludedAsset", "NotInAssetSet"],
        ),
        (
            order("BTC", Buy, "0.01", Some("50000.005")),
            &["PricePrecision"],
        ),
        (
            order("BTC", Buy, "0.000015", Some("50000")),
            &["BelowMinNotional", "QuantityPrecision"],
        ),
        (
            order("BTC", Buy, "0.00001", Some("50000")),
            &["BelowMinNotional"],
        ),
        (order("BTC", Buy, "0.01", Some("60000")), &["PriceBand"]),
        (
            order_for("p1", "BTC", "EUR", Buy, "0.01", Some("50000")),
            &["QuoteMismatch"],
        ),
        (
            order_for("p2", "BTC", "USD", Buy, "0.01", Some("50000")),
            &["WrongProfile"],
        ),
        (
            order("SOL", Buy, "600", Some("100")),
            &[
                "CategoryCap",
                "Concentration",
                "InsufficientBalance",
                "MaxNotional",
                "MaxPosition",
            ],
        ),
    ];
    let p = profile();
    for (i, (o, want)) in cases.into_iter().enumerate() {
        let got = match run(&p, &ProfileState::new(), o) {
            Ok(_) => vec![],
            Err(r) => kinds(&r.reasons),
        };
        assert_eq!(got, *want, "TC{i} failed");
    }
}

#[test]
fn operator_states() {
    let p = profile();
    let cases = [
        (TradingState::Halted, Sell, Some(TradingState::Halted)),
        (TradingState::Halted, Buy, Some(TradingState::Halted)),
        (TradingState::Reducing, Buy, Some(TradingState::Reducing)),
        (TradingState::Reducing, Sell, None),
        (TradingState::Active, Buy, None),
    ];
    for (i, (state, side, want)) in cases.into_iter().enumerate() {
        let mut s = ProfileState::new();
        s.set_operator_state(state);
        let got = run(&p, &s, order("BTC", side, "0.01", Some("50000")))
            .err()
            .map(|r| r.reasons);
        let want = want.map(|state| vec![Rejection::TradingState { state }]);
        assert_eq!(got, want, "TC{i} failed");
    }
}

#[test]
fn daily_loss_moves_to_reducing() {
    let p = profile();
    let mut s = ProfileState::new();
    s.observe_value(&p, d("120000"), Timestamp::from_millis(T0 - 60_000));
    let refused = run(&p, &s, order("BTC", Buy, "0.01", Some("50000"))).unwrap_err();
    assert_eq!(kinds(&refused.reasons), ["DailyLossLimit"]);
    assert!(run(&p, &s, order("BTC", Sell, "0.01", Some("50000"))).is_ok());
}

#[test]
fn drawdown_moves_to_halted() {
    let p = profile();
    let mut s = ProfileState::new();
    s.observe_value(&p, d("200000"), Timestamp::from_millis(T0 - 3 * 86_400_000));
    for side in [Buy, Sell] {
        let refused = run(&p, &s, order("BTC", side, "0.01", Some("50000"))).unwrap_err();
        assert_eq!(kinds(&refused.reasons), ["MaxDrawdown"], "{side:?}");
    }
}

#[test]
fn order_rate_per_profile() {
    let p = profile();
    let mut s = ProfileState::new();
    for i in 0..p.max_orders_per_minute {
        s.record_order(Timestamp::from_millis(T0 - 59_000 + i64::from(i)));
    }
    let refused = run(&p, &s, order("BTC", Buy, "0.01", Some("50000"))).unwrap_err();
    assert_eq!(
        refused.reasons,
        [Rejection::OrderRate {
            recent: 20,
            max: 20
        }]
    );
}

#[test]
fn fail_reports_every_reason_at_once() {
    let p = profile();
    let mut s = ProfileState::new();
    s.set_operator_state(TradingState::Halted);
    for _ in 0..25 {
        s.record_order(Timestamp::from_millis(T0 - 1000));
    }
    let refused = run(&p, &s, order("USDT", Buy, "100000.500001", Some("1.5"))).unwrap_err();
    let want = [
        "CategoryCap",
        "Concentration",
        "ExcludedAsset",
        "InsufficientBalance",
        "MaxNotional",
        "MaxPosition",
        "NotInAssetSet",
        "OrderRate",
        "PriceBand",
        "QuantityPrecision",
        "TradingState",
    ];
    assert_eq!(kinds(&refused.reasons), want);
    let text = refused.to_string();
    assert!(
        text.contains("USDT is an excluded asset") && text.contains("Halted"),
        "{text}"
    );
}

#[test]
fn approved_order_is_the_order_checked() {
    let p = profile();
    let o = order("ETH", Buy, "1", Some("2500"));
    let approved = run(&p, &ProfileState::new(), o.clone()).unwrap();
    assert_eq!(approved.get(), &o);
    assert_eq!(
        discriminant(&approved.into_inner().order_type()),
        discriminant(&o.order_type())
    );
}
