//! Property tests: metric invariants and the equity CSV parser.

use proptest::prelude::*;
use rust_decimal::Decimal;
use tradeguard_analytics::{
    Conventions, EquityPoint, EquitySeries, ReturnSeries, Timestamp, analyze_equity, max_drawdown,
    parse_equity_csv, return_metrics,
};

/// Returns in basis points, from -100 % to +50 %, as exact decimals.
fn bps_returns() -> impl Strategy<Value = Vec<i64>> {
    prop::collection::vec(-10_000i64..5_000, 0..60)
}

/// Flows in whole units, deposits and withdrawals.
fn flows(n: usize) -> impl Strategy<Value = Vec<i64>> {
    prop::collection::vec(-50i64..200, n)
}

fn day(i: usize) -> Timestamp {
    Timestamp::from_unix_seconds(1_700_000_000 + 86_400 * i as i64).unwrap()
}

/// Builds `V_i = V_(i-1) (1 + r_i) + F_i` in Decimal, with withdrawals capped at half the
/// value so the account is never emptied (an empty account earns nothing, which would
/// rightly change the time-weighted return).
fn equity(start: i64, bps: &[i64], flows: &[i64]) -> EquitySeries {
    let mut v = Decimal::from(start);
    let mut pts = vec![EquityPoint {
        time: day(0),
        value: v,
        flow: v,
    }];
    for (i, (r, f)) in bps.iter().zip(flows).enumerate() {
        let grown = v * (Decimal::ONE + Decimal::new(*r, 4));
        let f = Decimal::from(*f).max(-grown / Decimal::TWO);
        v = grown + f;
        pts.push(EquityPoint {
            time: day(i + 1),
            value: v,
            flow: f,
        });
    }
    EquitySeries::new(pts).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

proptest! {
    #[test]
    fn drawdown_lies_in_unit_interval(bps in bps_returns()) {
        let r: Vec<f64> = bps.iter().map(|b| *b as f64 / 10_000.0).collect();
        let d = max_drawdown(&r);
        match d.depth {
            None => prop_assert!(r.is_empty()),
            Some(x) => prop_assert!((0.0..=1.0).contains(&x), "depth {x}"),
        }
        if let (Some(p), Some(t)) = (d.peak, d.trough) {
            prop_assert!(p < t);
            if let Some(rec) = d.recovery { prop_assert!(rec > t); }
        }
    }

    #[test]
    fn twr_is_unaffected_by_flows(
        start in 1i64..100_000,
        (bps, fl) in bps_returns().prop_flat_map(|b| { let n = b.len(); (Just(b), flows(n)) })
    ) {
        // Avoid a total loss followed by a deposit: that period has no defined return.
        prop_assume!(bps.iter().all(|b| *b > -10_000));
        let none = vec![0; bps.len()];
        let conv = Conventions::default();
        let with = analyze_equity(&equity(start, &bps, &fl), &conv).unwrap();
        let without = analyze_equity(&equity(start, &bps, &none), &conv).unwrap();
        match (with.metrics.time_weighted_return, without.metrics.time_weighted_return) {
            (Some(a), Some(b)) => prop_assert!(close(a, b), "{a} vs {b}"),
            (a, b) => prop_assert_eq!(a, b),
        }
    }

    #[test]
    fn metrics_are_scale_free(bps in bps_returns(), k in 1i64..1000) {
        let conv = Conventions::new(365, 0.03).unwrap();
        let none = vec![0; bps.len()];
        let a = analyze_equity(&equity(1000, &bps, &none), &conv).unwrap();
        let b = analyze_equity(&equity(1000 * k, &bps, &none), &conv).unwrap();
        for (x, y) in [
            (a.metrics.sharpe, b.metrics.sharpe),
            (a.metrics.sortino, b.metrics.sortino),
            (a.metrics.max_drawdown.depth, b.metrics.max_drawdown.depth),
            (a.metrics.annualized_volatility, b.metrics.annualized_volatility),
        ] {
            match (x, y) {
                (Some(x), Some(y)) => prop_assert!(close(x, y), "{x} vs {y}"),
                (x, y) => prop_assert_eq!(x, y),
            }
        }
    }

    #[test]
    fn metrics_never_nan(r in prop::collection::vec(-1.0f64..5.0, 0..50), rf in -0.5f64..0.5) {
        let m = return_metrics(&ReturnSeries::new(r).unwrap(), &Conventions::new(365, rf).unwrap());
        for x in [m.time_weighted_return, m.annualized_return, m.annualized_volatility,
                  m.sharpe, m.sortino, m.calmar, m.max_drawdown.depth].into_iter().flatten() {
            prop_assert!(!x.is_nan());
        }
    }

    #[test]
    fn csv_round_trips(
        start in 1i64..100_000,
        (bps, fl) in bps_returns().prop_flat_map(|b| { let n = b.len(); (Just(b), flows(n)) })
    ) {
        let s = equity(start, &bps, &fl);
        let parsed = parse_equity_csv(&s.to_csv()).unwrap();
        prop_assert_eq!(parsed, s);
    }

    #[test]
    fn csv_parser_never_panics(input in "\\PC{0,200}") {
        let _ = parse_equity_csv(&input);
    }

    #[test]
    fn csv_names_the_corrupted_line(
        rows in 1usize..30,
        bad_at in 0usize..30,
        junk in "[a-z ;+]{1,8}",
    ) {
        let bad_at = bad_at % rows;
        let mut csv = String::from("timestamp,value\n");
        for i in 0..rows {
            if i == bad_at {
                csv.push_str(&format!("{},{junk}\n", day(i)));
            } else {
                csv.push_str(&format!("{},{}\n", day(i), 100 + i));
            }
        }
        match parse_equity_csv(&csv) {
            Err(tradeguard_analytics::AnalyticsError::Csv { line, .. }) => {
                prop_assert_eq!(line, bad_at + 2)
            }
            other => prop_assert!(false, "expected a CSV error, got {:?}", other),
        }
    }
}
