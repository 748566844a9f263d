//! Compares tradeguard's metrics with empyrical-reloaded and quantstats.
//!
//! `tests/interop/compare_metrics.py --out DIR` writes equity CSVs and the libraries' values
//! (`DIR/expected.json`); this test reads DIR from `TRADEGUARD_INTEROP_DIR`, parses each CSV
//! with the library's parser and checks every metric to the tolerance in the file (1e-9,
//! relative above 1). Without the variable it prints SKIPPED, unless
//! `TRADEGUARD_REQUIRE_INTEROP=1`, which makes its absence a failure (for CI).

use std::path::{Path, PathBuf};

use serde_json::Value;
use tradeguard_analytics::{Conventions, ReturnMetrics, analyze_equity, parse_equity_csv};

fn ours(m: &ReturnMetrics, metric: &str) -> Option<f64> {
    match metric {
        "time_weighted_return" => m.time_weighted_return,
        "annualized_return" => m.annualized_return,
        "annualized_volatility" => m.annualized_volatility,
        "sharpe" => m.sharpe,
        "sortino" => m.sortino,
        "max_drawdown" => m.max_drawdown.depth,
        "calmar" => m.calmar,
        other => panic!("expected.json names an unknown metric `{other}`"),
    }
}

fn close(ours: Option<f64>, theirs: Option<f64>, tol: f64) -> bool {
    match (ours, theirs) {
        (Some(a), Some(b)) => (a - b).abs() <= tol * b.abs().max(1.0),
        (a, b) => a.is_none() && b.is_none(),
    }
}

/// Largest `|ours - theirs| / max(1, |theirs|)` seen, for the summary line.
fn deviation(ours: Option<f64>, theirs: Option<f64>) -> f64 {
    match (ours, theirs) {
        (Some(a), Some(b)) => (a - b).abs() / b.abs().max(1.0),
        _ => 0.0,
    }
}

fn check_case(
    dir: &Path,
    case: &Value,
    tol: f64,
    failures: &mut Vec<String>,
    worst: &mut f64,
) -> usize {
    let name = case["name"].as_str().expect("case name");
    let csv = std::fs::read_to_string(dir.join(case["csv"].as_str().expect("csv")))
        .unwrap_or_else(|e| panic!("{name}: cannot read its CSV: {e}"));
    let series = parse_equity_csv(&csv).unwrap_or_else(|e| panic!("{name}: {e}"));
    let ppy = case["periods_per_year"].as_u64().expect("periods_per_year") as u32;
    let rf = case["risk_free_rate_annual"]
        .as_f64()
        .expect("risk_free_rate_annual");
    let conv = Conventions::new(ppy, rf).expect("conventions");
    let report = analyze_equity(&series, &conv).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut compared = 0;
    for (metric, libs) in case["expected"].as_object().expect("expected") {
        let mine = ours(&report.metrics, metric);
        for lib in ["empyrical", "quantstats"] {
            let theirs = libs[lib].as_f64();
            compared += 1;
            *worst = worst.max(deviation(mine, theirs));
            if !close(mine, theirs, tol) {
                failures.push(format!(
                    "{name}.{metric}: tradeguard {mine:?} vs {lib} {theirs:?}"
                ));
            }
        }
    }
    compared
}

#[test]
fn metrics_agree_with_empyrical_and_quantstats() {
    let Some(dir) = std::env::var_os("TRADEGUARD_INTEROP_DIR").map(PathBuf::from) else {
        assert!(
            std::env::var("TRADEGUARD_REQUIRE_INTEROP").as_deref() != Ok("1"),
            "TRADEGUARD_INTEROP_DIR is not set; run tests/interop/compare_metrics.py first"
        );
        eprintln!("SKIPPED: set TRADEGUARD_INTEROP_DIR (see tests/interop/README.md)");
        return;
    };
    // A relative directory is taken from the workspace root (cargo runs tests in the crate).
    let dir = if dir.is_relative() {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(dir)
    } else {
        dir
    };
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("read expected.json"),
    )
    .expect("parse expected.json");
    let tol = doc["tolerance"].as_f64().expect("tolerance");
    assert!(
        tol <= 1e-9,
        "the comparison must be at least as tight as 1e-9"
    );
    let cases = doc["cases"].as_array().expect("cases");
    assert!(!cases.is_empty(), "expected.json has no cases");
    let (mut failures, mut worst) = (Vec::new(), 0.0f64);
    let compared: usize = cases
        .iter()
        .map(|c| check_case(&dir, c, tol, &mut failures, &mut worst))
        .sum();
    println!(
        "interop: {} values compared against empyrical-reloaded {} and quantstats {}; \
         largest scaled deviation {worst:.3e}",
        compared, doc["libraries"]["empyrical-reloaded"], doc["libraries"]["quantstats"]
    );
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}
