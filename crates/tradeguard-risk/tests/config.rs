//! Configuration checker: the issue's example, the demo, strictness, and every conflict at once.

use rust_decimal::Decimal;
use tradeguard_risk::config::{ConfigError, Conflict, DEMO_CONFIG, check};
use tradeguard_risk::ids::ProfileId;
use tradeguard_risk::profile::{ProfileType, Strategy};

fn conflicts(text: &str) -> Vec<Conflict> {
    match check(text) {
        Err(ConfigError::Conflicts(c)) => c,
        other => panic!("expected conflicts, got {other:?}"),
    }
}

fn keys(c: &[Conflict]) -> Vec<Vec<&str>> {
    c.iter()
        .map(|c| c.keys.iter().map(String::as_str).collect())
        .collect()
}

#[test]
fn issue_example_is_refused_for_exactly_the_issues_reasons() {
    let found = conflicts(include_str!("fixtures/issue-example.toml"));
    let want: Vec<Vec<&str>> = vec![
        vec![
            "profiles.profile_a.target_allocation.BTC",
            "rebalancing.max_concentration",
        ],
        vec![
            "profiles.profile_a.target_allocation.ETH",
            "rebalancing.max_concentration",
        ],
        vec![
            "profiles.profile_a.target_allocation.USDC",
            "rebalancing.max_concentration",
        ],
        vec![
            "profiles.profile_a.target_allocation.BTC",
            "profiles.profile_a.target_allocation.ETH",
            "portfolio.category_caps.large_cap",
        ],
    ];
    assert_eq!(keys(&found), want);
    assert_eq!(
        found[0].message,
        "target 40% is above the 25% concentration cap"
    );
    assert_eq!(
        found[3].message,
        "BTC + ETH are large_cap and together target 70%, above the large_cap cap of 40% (default)"
    );
}

#[test]
fn demo_config_is_valid() {
    let cfg = check(DEMO_CONFIG).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.profiles.len(), 5);
    let id = |s: &str| ProfileId::new(s).unwrap();
    let (m, a) = (
        cfg.profile(&id("mod_binance")).unwrap(),
        cfg.profile(&id("aggr_binance")).unwrap(),
    );
    assert_eq!(m.account, a.account);
    assert!(m.targets.keys().all(|k| !a.targets.contains_key(k)));
    let arb = cfg.profile(&id("arb_kraken")).unwrap();
    assert_eq!(
        (arb.kind, arb.max_position_size, arb.rebalance_threshold),
        (
            ProfileType::Arbitrage,
            Decimal::new(20, 2),
            Decimal::new(2, 2)
        )
    );
    assert_eq!(arb.max_order_notional, Decimal::new(25_000, 0));
    assert_eq!(cfg.randomization(arb), Decimal::new(2, 2));
    assert!(matches!(m.strategy, Strategy::TimeBased { period } if period.as_secs() == 604_800));
}

#[test]
fn fail_unknown_keys_and_wrong_types() {
    let profile = "[profiles.p]\nexchange = \"kraken\"\ntype = \"moderate\"\n";
    let cases = [
        ("[securty]\nsession_timeout = 1\n".to_owned(), "securty"),
        (
            format!("{profile}max_positon_size = 0.1\n"),
            "max_positon_size",
        ),
        (format!("{profile}strategy = \"yolo\"\n"), "yolo"),
        (
            "[profiles.p]\nexchange = \"ftx\"\ntype = \"moderate\"\n".to_owned(),
            "ftx",
        ),
        ("[rebalancing]\nenabled = \"yes\"\n".to_owned(), "enabled"),
        (
            "[rebalancing]\nmax_concentration = \"a lot\"\n".to_owned(),
            "max_concentration",
        ),
        ("[profiles.p]\ntype = \"moderate\"\n".to_owned(), "exchange"),
    ];
    for (i, (text, needle)) in cases.iter().enumerate() {
        match check(text) {
            Err(ConfigError::Syntax(msg)) => assert!(msg.contains(needle), "TC{i} failed: {msg}"),
            other => panic!("TC{i} failed: {other:?}"),
        }
    }
}

#[test]
fn fail_every_conflict_is_reported_at_once() {
    let text = r#"
[security]
encryption_enabled = false
session_timeout = 0

[portfolio]
min_assets = 5

[rebalancing]
randomization_factor = 0.05
max_concentration = 0.30

[profiles.a]
exchange = "binance"
credential = "main"
type = "aggressive"
quote_asset = "USDC"
randomization_factor = 0.2
price_band = 0
lookback = 10
target_allocation = { BTC = 0.3, SOL = 0.3, USDT = 0.1, USDC = 0.4, btc = 0.1 }

[profiles.b]
exchange = "binance"
credential = "main"
type = "moderate"
strategy = "time_based"
target_allocation = { SOL = 0.1, ADA = 0.1, DOT = 0.1, LINK = 0.1 }
"#;
    let found = conflicts(text);
    let want: Vec<Vec<&str>> = vec![
        vec!["security.encryption_enabled"],
        vec!["security.session_timeout"],
        vec!["profiles.a.price_band"],
        vec![
            "profiles.a.randomization_factor",
            "rebalancing.randomization_factor",
        ],
        vec![
            "profiles.a.target_allocation.USDC",
            "rebalancing.max_concentration",
        ],
        vec![
            "profiles.a.quote_asset",
            "profiles.a.target_allocation.USDC",
        ],
        vec![
            "profiles.a.target_allocation.USDT",
            "portfolio.excluded_assets",
        ],
        vec!["profiles.a.target_allocation.btc"],
        vec!["profiles.a.target_allocation", "portfolio.min_assets"],
        vec!["profiles.a.target_allocation"],
        vec![
            "profiles.a.target_allocation.SOL",
            "portfolio.category_caps.mid_cap",
        ],
        vec![
            "profiles.a.target_allocation.USDC",
            "profiles.a.target_allocation.USDT",
            "portfolio.category_caps.stablecoin",
        ],
        vec!["profiles.a.lookback", "profiles.a.strategy"],
        vec![
            "profiles.b.target_allocation.ADA",
            "profiles.b.target_allocation.DOT",
            "profiles.b.target_allocation.LINK",
            "profiles.b.target_allocation.SOL",
            "portfolio.category_caps.mid_cap",
        ],
        vec!["profiles.b.target_allocation", "portfolio.min_assets"],
        vec![
            "profiles.a.target_allocation.SOL",
            "profiles.b.target_allocation.SOL",
        ],
        vec!["profiles.b.strategy", "profiles.b.rebalance_period"],
    ];
    for (i, w) in want.iter().enumerate() {
        assert!(
            keys(&found).contains(w),
            "TC{i} failed: {w:?} missing from {:#?}",
            keys(&found)
        );
    }
    assert_eq!(found.len(), want.len(), "{found:#?}");
}

#[test]
fn fail_shared_account_overlap_names_both_profiles() {
    let text = r#"
[profiles.a]
exchange = "kraken"
credential = "k1"
type = "moderate"
target_allocation = { BTC = 0.2, SOL = 0.1, LINK = 0.05 }

[profiles.b]
exchange = "kraken"
credential = "k1"
type = "aggressive"
target_allocation = { BTC = 0.2, ADA = 0.1, DOT = 0.05 }

[profiles.c]
exchange = "kraken"
credential = "k2"
type = "aggressive"
target_allocation = { BTC = 0.2, ADA = 0.1, DOT = 0.05 }
"#;
    let found = conflicts(text);
    assert_eq!(
        keys(&found),
        vec![vec![
            "profiles.a.target_allocation.BTC",
            "profiles.b.target_allocation.BTC"
        ]]
    );
    assert!(
        found[0].message.contains("kraken/k1"),
        "{}",
        found[0].message
    );
}

#[test]
fn profile_defaults_come_from_its_type() {
    let text = "[profiles.p]\nexchange = \"kraken\"\ntype = \"conservative\"\ntarget_allocation = { BTC = 0.2, ETH = 0.2, SOL = 0.1 }\n";
    let cfg = check(text).unwrap();
    let p = &cfg.profiles[0];
    assert_eq!(
        (p.max_position_size, p.rebalance_threshold),
        (Decimal::new(5, 2), Decimal::new(3, 2))
    );
    assert_eq!(
        p.randomization_factor,
        Decimal::new(10, 2),
        "defaults to rebalancing.randomization_factor"
    );
    assert_eq!(p.quote.as_str(), "USD");
    assert_eq!(p.account.credential, "default");
    assert_eq!(cfg.limits.max_concentration, Decimal::new(25, 2));
}

#[test]
fn fail_syntax_errors_are_one_line_naming_line_column_and_key() {
    let cases = [
        (
            "[profiles.a\nexchange = \"kraken\"\n",
            "line 1, column 12: ",
        ),
        (
            "[rebalancing]\nenabled = \"yes\"\n",
            "line 2, column 11, key `rebalancing.enabled`: ",
        ),
        (
            "[security]\nsession_timeout = 3600\nbogus = 1\n",
            "line 3, column 1, key `security.bogus`: unknown field `bogus`",
        ),
        ("x = = 1\n", "line 1, column 5, key `x`: "),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let Err(e) = check(text) else {
            panic!("TC{i} failed: accepted");
        };
        let msg = e.to_string();
        assert!(!msg.contains('\n'), "TC{i} failed: {msg}");
        assert!(msg.contains(want), "TC{i} failed: {msg}");
        assert!(
            msg.ends_with("run `tradeguard config check` again"),
            "TC{i} failed: {msg}"
        );
    }
    let whole = "[server]\nlisten = \"127.0.0.1:8443\"\n[profiles.a\n";
    let msg = tradeguard_risk::config::check_syntax(whole)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("line 3, column 12: ") && !msg.contains('\n'),
        "{msg}"
    );
    assert!(tradeguard_risk::config::check_syntax("[server]\nlisten = 1\n").is_ok());
}
