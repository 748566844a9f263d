use rust_decimal::Decimal;

use super::*;
use crate::config::{DEMO_CONFIG, RiskConfig, check};
use crate::ids::ProfileId;

fn demo() -> RiskConfig {
    check(DEMO_CONFIG).unwrap()
}

fn backtest(cfg: &RiskConfig, years: f64, seed: u64, randomize: bool) -> BacktestReport {
    let history = Simulation::hourly(&cfg.assets(), &cfg.limits, years, seed)
        .run()
        .unwrap();
    run(
        cfg,
        &history,
        &BacktestOptions::new(seed, randomize).unwrap(),
        &mut |_, _| {},
    )
    .unwrap()
}

fn profile<'a>(r: &'a BacktestReport, id: &str) -> &'a ProfileReport {
    r.profiles
        .iter()
        .find(|p| p.profile == ProfileId::new(id).unwrap())
        .unwrap()
}

#[test]
fn reports_every_profile_and_accounts_fees() {
    let cfg = demo();
    let r = backtest(&cfg, 0.05, 1, true);
    assert_eq!(r.profiles.len(), 5);
    for p in &r.profiles {
        assert!(p.rebalances >= 1 && p.orders >= 1, "{}: {p:?}", p.profile);
        assert_eq!(p.fees, p.turnover * Decimal::new(1, 3), "{}", p.profile);
        assert!(p.max_concentration > Decimal::ZERO && p.max_concentration < Decimal::ONE);
        assert!(p.final_value > Decimal::ZERO);
    }
}

#[test]
fn same_seed_same_report_other_seed_other_report() {
    let cfg = demo();
    assert_eq!(backtest(&cfg, 0.02, 5, true), backtest(&cfg, 0.02, 5, true));
    assert_ne!(backtest(&cfg, 0.02, 5, true), backtest(&cfg, 0.02, 6, true));
}

#[test]
fn randomization_makes_time_based_intervals_unpredictable() {
    let cfg = demo();
    let fixed = backtest(&cfg, 0.12, 3, false);
    let random = backtest(&cfg, 0.12, 3, true);
    let (f, r) = (
        profile(&fixed, "mod_binance"),
        profile(&random, "mod_binance"),
    );
    assert!(f.intervals.count >= 4 && r.intervals.count >= 4, "{f:?}");
    assert_eq!(f.intervals.coefficient_of_variation, Some(0.0));
    assert_eq!(f.intervals.repeat_share, Some(1.0));
    assert!(
        r.intervals.coefficient_of_variation.unwrap() > 0.01,
        "{r:?}"
    );
    assert!(r.intervals.repeat_share.unwrap() < 1.0);
}

#[test]
fn runs_over_a_csv_history() {
    let text = "[profiles.p]\nexchange = \"kraken\"\ntype = \"moderate\"\ntarget_allocation = { BTC = 0.2, ETH = 0.2, SOL = 0.1 }\n";
    let cfg = check(text).unwrap();
    let mut csv = String::from("timestamp,asset,price\n");
    for h in 0..48i64 {
        let t = 1_704_067_200 + h * 3600;
        let wave = Decimal::from(h % 7);
        csv.push_str(&format!(
            "{t},BTC,{}\n{t},ETH,{}\n{t},SOL,{}\n",
            Decimal::from(40_000) + wave * Decimal::from(900),
            2000,
            100
        ));
    }
    let history = parse_csv(&csv).unwrap();
    let mut calls = 0;
    let r = run(
        &cfg,
        &history,
        &BacktestOptions::new(1, false).unwrap(),
        &mut |_, _| calls += 1,
    )
    .unwrap();
    assert_eq!(r.steps, 48);
    assert!(calls >= 2);
    assert!(r.profiles[0].rebalances >= 1);
}

#[test]
fn fail_history_without_a_profile_asset() {
    let cfg = demo();
    let history = Simulation::hourly(&cfg.assets()[..2], &cfg.limits, 0.01, 1)
        .run()
        .unwrap();
    let err = run(
        &cfg,
        &history,
        &BacktestOptions::new(1, true).unwrap(),
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(matches!(err, crate::RiskError::Backtest(_)), "{err}");
}
