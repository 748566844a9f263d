//! Risk engine subcommands: `tradeguard config check FILE`, `tradeguard backtest`, and the
//! figures behind `tradeguard bench risk` ([`bench_risk`]).
//!
//! Exit codes: 0 ok; 1 a runtime failure; 2 invalid input (a configuration with conflicts, a
//! malformed file or flag), with what failed and what to do.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tradeguard_risk::backtest::{
    BacktestOptions, BacktestReport, PriceHistory, ProfileReport, Simulation, parse_csv, run,
};
use tradeguard_risk::config::{ConfigError, DEMO_CONFIG, RiskConfig, check};

/// Largest configuration or price file read (64 MiB).
const MAX_FILE_BYTES: u64 = 64 << 20;

/// Arguments of `tradeguard config`.
#[derive(Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate a configuration (TOML: the risk sections alone, or a whole `serve` file) without
    /// starting anything: exit 0 when valid, 2 with every conflict, each naming the keys involved.
    Check {
        /// The configuration file.
        file: PathBuf,
    },
}

/// Arguments of `tradeguard backtest`.
#[derive(Args)]
pub struct BacktestArgs {
    /// Risk configuration (TOML); without it, the built-in demonstration configuration.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Price history CSV: header `timestamp,asset,price`, then one price per line (timestamp in
    /// whole seconds since the epoch, prices in USD).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "simulate",
        conflicts_with = "simulate"
    )]
    prices: Option<PathBuf>,
    /// Simulate a seeded price path (geometric Brownian motion, correlated assets, hourly).
    #[arg(long)]
    simulate: bool,
    /// Years to simulate.
    #[arg(long, default_value_t = 2.0, requires = "simulate")]
    years: f64,
    /// Seed of the simulated path and of the profiles' random streams.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Cash each profile starts with, in USD.
    #[arg(long, default_value = "100000")]
    initial_cash: Decimal,
    /// Fee per fill, as a fraction of its notional (0.001 = 0.1%).
    #[arg(long, default_value = "0.001")]
    fee: Decimal,
    /// Print the reports as JSON instead of tables.
    #[arg(long)]
    json: bool,
}

/// Runs `tradeguard config`.
pub fn run_config(args: ConfigArgs) -> anyhow::Result<ExitCode> {
    let ConfigCommand::Check { file } = args.command;
    let whole = match read_limited(&file) {
        Ok(t) => t,
        Err(e) => {
            return Ok(invalid(&format!(
                "{e:#}; pass the path of a readable TOML file"
            )));
        }
    };
    if let Err(e) = tradeguard_risk::config::check_syntax(&whole) {
        return Ok(invalid(&format!("{}: {e}", file.display()))); // one line, unlike the parser's
    }
    let text = match crate::serve::config::risk_sections(&whole) {
        Ok((risk, false)) => risk,
        Ok((risk, true)) => match crate::serve::config::ServeConfig::parse(&whole) {
            Ok(c) => {
                print_gateway_sections(&file, &c);
                risk
            }
            Err(crate::serve::config::ConfigFileError::Risk(_)) => risk, // listed below
            Err(e) => return Ok(invalid(&format!("{}: {e}", file.display()))),
        },
        Err(e) => return Ok(invalid(&format!("{}: {e}", file.display()))),
    };
    match check(&text) {
        Ok(cfg) => {
            println!(
                "{}: valid, {} profile(s)",
                file.display(),
                cfg.profiles.len()
            );
            for p in &cfg.profiles {
                let assets: Vec<&str> = p.targets.keys().map(|a| a.as_str()).collect();
                println!(
                    "  {} ({:?}, {}, {}): {}",
                    p.id,
                    p.kind,
                    p.account,
                    p.strategy.name(),
                    assets.join(" ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ConfigError::Conflicts(conflicts)) => {
            println!("{}: {} conflict(s)", file.display(), conflicts.len());
            for c in &conflicts {
                println!("  - {c}");
            }
            Ok(invalid(&format!(
                "{} contradicts itself; fix the keys named above",
                file.display()
            )))
        }
        Err(e) => Ok(invalid(&format!("{}: {e}", file.display()))),
    }
}

fn print_gateway_sections(file: &std::path::Path, c: &crate::serve::config::ServeConfig) {
    let store = c
        .store
        .url
        .as_deref()
        .map_or("SQLite in the data dir", |_| "PostgreSQL");
    println!("{}: gateway sections valid; store: {store}", file.display());
    for (name, a) in &c.accounts {
        println!(
            "  account {name}: {} via credential {}",
            a.connector.exchange.as_str(),
            a.credential
        );
    }
}

fn invalid(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn read_limited(path: &Path) -> anyhow::Result<String> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    anyhow::ensure!(
        meta.len() <= MAX_FILE_BYTES,
        "{} is larger than 64 MiB",
        path.display()
    );
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))
}

/// Runs `tradeguard backtest`: the profiles over the history twice, without and with
/// randomization, then prints both reports and how predictable the rebalances were.
pub fn run_backtest(args: BacktestArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.config {
        Some(path) => match read_limited(path).map(|t| check(&t)) {
            Ok(Ok(cfg)) => cfg,
            Ok(Err(e)) => return Ok(invalid(&format!("{}: {e}", path.display()))),
            Err(e) => return Ok(invalid(&format!("{e:#}"))),
        },
        None => check(DEMO_CONFIG).context("the built-in demo configuration is invalid")?,
    };
    let history = match history(&args, &config) {
        Ok(h) => h,
        Err(e) => return Ok(invalid(&format!("{e:#}"))),
    };
    let bar = progress_bar(2 * history.len() as u64);
    let mut reports = Vec::new();
    for (pass, randomize) in [false, true].into_iter().enumerate() {
        let mut options = BacktestOptions::new(args.seed, randomize)?;
        options.initial_cash = args.initial_cash;
        options.fee_rate = args.fee;
        let offset = (pass * history.len()) as u64;
        let report = run(&config, &history, &options, &mut |done, _| {
            bar.set_position(offset + done as u64)
        });
        match report {
            Ok(r) => reports.push(r),
            Err(e) => return Ok(invalid(&e.to_string())),
        }
    }
    bar.finish_and_clear();
    let (fixed, random) = (&reports[0], &reports[1]);
    if args.json {
        let out = json!({"fixed": report_json(fixed), "randomized": report_json(random)});
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_tables(&args, &history, fixed, random);
    }
    Ok(ExitCode::SUCCESS)
}

fn history(args: &BacktestArgs, config: &RiskConfig) -> anyhow::Result<PriceHistory> {
    if let Some(path) = &args.prices {
        return Ok(parse_csv(&read_limited(path)?)?);
    }
    anyhow::ensure!(
        args.years > 0.0 && args.years <= 50.0,
        "--years must be above 0 and at most 50"
    );
    Ok(Simulation::hourly(&config.assets(), &config.limits, args.years, args.seed).run()?)
}

/// A progress bar on stderr, hidden when stdout is not a terminal (CI logs, pipes).
fn progress_bar(len: u64) -> ProgressBar {
    let target = if std::io::stdout().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {percent}% {elapsed_precise}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("backtest");
    bar
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

fn dec_pct(x: Decimal) -> String {
    format!("{}%", (x * Decimal::ONE_HUNDRED).round_dp(2))
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}"))
}

fn print_tables(
    args: &BacktestArgs,
    history: &PriceHistory,
    fixed: &BacktestReport,
    random: &BacktestReport,
) {
    let source = if args.simulate {
        format!(
            "simulated GBM, {} years hourly, seed {}",
            args.years, args.seed
        )
    } else {
        "CSV price history".to_owned()
    };
    println!(
        "{} steps ({source}), {} assets, fee {}",
        history.len(),
        history.assets().len(),
        dec_pct(args.fee)
    );
    for r in [fixed, random] {
        println!(
            "\n== randomization {} ==",
            if r.randomized { "ON" } else { "OFF" }
        );
        println!(
            "{:<14} {:<12} {:<17} {:>6} {:>7} {:>12} {:>9} {:>9}  {:<13} {:>5} {:>12}",
            "profile",
            "type",
            "strategy",
            "rebal",
            "orders",
            "turnover",
            "turn/avg",
            "fees",
            "max conc",
            "trips",
            "final value"
        );
        for p in &r.profiles {
            let asset = p
                .max_concentration_asset
                .as_ref()
                .map_or("-", |a| a.as_str());
            println!(
                "{:<14} {:<12} {:<17} {:>6} {:>7} {:>12} {:>9.2} {:>9}  {:<13} {:>5} {:>12}",
                p.profile.as_str(),
                format!("{:?}", p.kind).to_lowercase(),
                p.strategy,
                p.rebalances,
                p.orders,
                p.turnover.round_dp(0),
                p.turnover_ratio,
                p.fees.round_dp(2),
                format!("{} {asset}", dec_pct(p.max_concentration)),
                p.breaker_trips,
                p.final_value.round_dp(0),
            );
        }
        print_refusals(&r.profiles);
    }
    print_predictability(fixed, random);
}

fn print_refusals(profiles: &[ProfileReport]) {
    for p in profiles
        .iter()
        .filter(|p| !p.refusals.is_empty() || p.reducing_steps + p.halted_steps > 0)
    {
        let refusals: Vec<String> = p.refusals.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "  {}: max drawdown {}, steps REDUCING {} / HALTED {}, refused orders: {}",
            p.profile,
            pct(p.max_drawdown),
            p.reducing_steps,
            p.halted_steps,
            if refusals.is_empty() {
                "none".to_owned()
            } else {
                refusals.join(", ")
            }
        );
    }
}

fn print_predictability(fixed: &BacktestReport, random: &BacktestReport) {
    println!("\n== predictability of rebalances: randomization OFF -> ON ==");
    println!(
        "(lag-1 autocorrelation: n/a = constant or too few; CV = std/mean; repeat = next within 5% of previous)"
    );
    println!(
        "{:<14} {:>20} {:>20} {:>20} {:>20} {:>20} {:>20}",
        "profile",
        "mean interval h",
        "interval autocorr",
        "interval CV",
        "interval repeat",
        "size autocorr",
        "size CV"
    );
    for (f, r) in fixed.profiles.iter().zip(&random.profiles) {
        let both = |a: String, b: String| format!("{a} -> {b}");
        println!(
            "{:<14} {:>20} {:>20} {:>20} {:>20} {:>20} {:>20}",
            f.profile.as_str(),
            both(opt(f.mean_interval_hours), opt(r.mean_interval_hours)),
            both(
                opt(f.intervals.lag1_autocorrelation),
                opt(r.intervals.lag1_autocorrelation)
            ),
            both(
                opt(f.intervals.coefficient_of_variation),
                opt(r.intervals.coefficient_of_variation)
            ),
            both(opt(f.intervals.repeat_share), opt(r.intervals.repeat_share)),
            both(
                opt(f.sizes.lag1_autocorrelation),
                opt(r.sizes.lag1_autocorrelation)
            ),
            both(
                opt(f.sizes.coefficient_of_variation),
                opt(r.sizes.coefficient_of_variation)
            ),
        );
    }
}

fn report_json(r: &BacktestReport) -> Value {
    let profiles: Vec<Value> = r
        .profiles
        .iter()
        .map(|p| {
            let pred = |x: &tradeguard_risk::backtest::Predictability| {
                json!({"count": x.count, "lag1_autocorrelation": x.lag1_autocorrelation,
                       "coefficient_of_variation": x.coefficient_of_variation, "repeat_share": x.repeat_share})
            };
            json!({
                "profile": p.profile.as_str(), "type": format!("{:?}", p.kind).to_lowercase(), "strategy": p.strategy,
                "initial_value": p.initial_value.to_string(), "final_value": p.final_value.round_dp(2).to_string(),
                "max_concentration": p.max_concentration.round_dp(6).to_string(),
                "max_concentration_asset": p.max_concentration_asset.as_ref().map(|a| a.as_str()),
                "max_drawdown": p.max_drawdown, "rebalances": p.rebalances, "orders": p.orders,
                "turnover": p.turnover.round_dp(2).to_string(), "turnover_ratio": p.turnover_ratio,
                "fees": p.fees.round_dp(2).to_string(), "refusals": p.refusals, "skipped": p.skipped,
                "breaker_trips": p.breaker_trips, "reducing_steps": p.reducing_steps, "halted_steps": p.halted_steps,
                "mean_interval_hours": p.mean_interval_hours, "intervals": pred(&p.intervals), "sizes": pred(&p.sizes),
            })
        })
        .collect();
    json!({"randomized": r.randomized, "steps": r.steps, "start_ms": r.start.as_millis(),
           "end_ms": r.end.as_millis(), "profiles": profiles})
}

/// `tradeguard bench risk`: pre-trade checks and rebalancing plans per second for a 50-asset
/// portfolio, measured in this process on one thread for about `budget` each.
pub fn bench_risk(budget: Duration) -> anyhow::Result<Value> {
    let w = bench_world::World::new()?;
    let orders = w.orders()?;
    let approved = orders.iter().filter(|o| w.check((*o).clone())).count();
    let mut i = 0;
    let checks = rate(budget, || {
        black_box(w.check(orders[i % orders.len()].clone()));
        i += 1;
    });
    let mut rng = rand::rng();
    let sample = w.plan(&mut rng, false)?;
    let plans = rate(budget, || {
        black_box(w.plan(&mut rng, false).ok());
    });
    let stats_plans = rate(budget, || {
        black_box(w.plan(&mut rng, true).ok());
    });
    Ok(json!({
        "bench": "risk",
        "threads": 1,
        "seconds_per_measurement": budget.as_secs_f64(),
        "assets": bench_world::ASSETS,
        "pre_trade_checks_per_sec": round(checks),
        "pre_trade_orders": {"distinct": orders.len(), "approved": approved},
        "plans_per_sec": round(plans),
        "plan_orders": sample.orders.len(),
        "plans_with_statistics_per_sec": round(stats_plans),
        "what": "check = check_order on a 50-asset profile (every check, all reasons collected), \
                 order clone included; plan = plan_rebalance with randomized targets from the \
                 thread CSPRNG, clipping and per-order checks; plans_with_statistics adds \
                 volatility/correlation over 168 observations (risk-adjusted strategy)",
    }))
}

/// Calls `op` repeatedly for about `budget` and returns operations per second.
fn rate(budget: Duration, mut op: impl FnMut()) -> f64 {
    for _ in 0..8 {
        op(); // warm-up
    }
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed() < budget {
        for _ in 0..8 {
            op();
        }
        n += 8;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn round(x: f64) -> f64 {
    x.round()
}

/// The 50-asset portfolio the risk benchmark runs on.
mod bench_world {
    use super::*;
    use tradeguard_risk::check::{CheckContext, check_order};
    use tradeguard_risk::ids::{
        AccountId, Asset, ClientOrderId, Exchange, ProfileId, Symbol, Timestamp,
    };
    use tradeguard_risk::limits::PortfolioLimits;
    use tradeguard_risk::market::{Balance, InstrumentRules, Market, Portfolio};
    use tradeguard_risk::order::{Order, OrderType, Side};
    use tradeguard_risk::profile::{Profile, ProfileType, Strategy};
    use tradeguard_risk::rebalance::{PlanInput, RebalancePlan, plan_rebalance};
    use tradeguard_risk::state::ProfileState;
    use tradeguard_risk::stats::MarketStats;

    /// Assets in the benchmark portfolio.
    pub const ASSETS: usize = 50;

    pub struct World {
        profile: Profile,
        risk_adjusted: Profile,
        limits: PortfolioLimits,
        market: Market,
        portfolio: Portfolio,
        state: ProfileState,
        assets: Vec<Asset>,
        series: Vec<Vec<f64>>,
    }

    impl World {
        /// 50 assets at 1.8% each (two large caps, ten mid caps, the rest uncategorized),
        /// 1,000,000 USD, holdings drifted up to 30% from target, ticks and steps like Binance.
        pub fn new() -> anyhow::Result<Self> {
            let usd = Asset::new("USD")?;
            let assets: Vec<Asset> = (1..=ASSETS)
                .map(|i| Asset::new(&format!("X{i:02}")))
                .collect::<Result<_, _>>()?;
            let mut limits = PortfolioLimits::default();
            for (i, a) in assets.iter().enumerate() {
                let cat = match i {
                    0..2 => "large_cap",
                    2..12 => "mid_cap",
                    _ => "small_cap",
                };
                limits.categories.insert(a.clone(), cat.to_owned());
            }
            let targets: BTreeMap<Asset, Decimal> = assets
                .iter()
                .map(|a| (a.clone(), Decimal::new(18, 3)))
                .collect();
            let account = AccountId {
                exchange: Exchange::Binance,
                credential: "bench".into(),
            };
            let mut profile = Profile::with_defaults(
                ProfileId::new("bench")?,
                account,
                ProfileType::Moderate,
                usd.clone(),
                targets,
            );
            profile.max_order_notional = Decimal::new(1_000_000, 0);
            profile.randomization_factor = Decimal::new(10, 2);
            let mut market = Market::new(usd, Decimal::new(1, 3))?;
            let mut portfolio = Portfolio::with_cash(Decimal::new(100_000, 0))?;
            let rules = InstrumentRules::new(
                Decimal::new(1, 2),
                Decimal::new(1, 5),
                Decimal::new(1, 5),
                Decimal::TEN,
            )?;
            let mut series = Vec::new();
            for (i, a) in assets.iter().enumerate() {
                let price = Decimal::from(10 + 37 * i as i64);
                market.set_price(a.clone(), price)?;
                market.set_instrument(a.clone(), rules);
                let drift = Decimal::new(70 + (i as i64 * 13) % 60, 2); // 0.70 .. 1.29 of target
                let qty = (Decimal::new(18_000, 0) * drift / price).round_dp(5);
                portfolio.set_holding(
                    a.clone(),
                    Balance {
                        free: qty,
                        locked: Decimal::ZERO,
                    },
                )?;
                let p0 = 10.0 + 37.0 * i as f64;
                series.push(
                    (0..=168)
                        .map(|t| p0 * (1.0 + 0.01 * ((t * (i + 3)) as f64).sin()))
                        .collect(),
                );
            }
            let mut risk_adjusted = profile.clone();
            risk_adjusted.strategy = Strategy::RiskAdjusted { lookback: 168 };
            let state = ProfileState::new();
            Ok(Self {
                profile,
                risk_adjusted,
                limits,
                market,
                portfolio,
                state,
                assets,
                series,
            })
        }

        /// A mix of 64 orders: small and large, buys and sells, limit and market, some refused.
        pub fn orders(&self) -> anyhow::Result<Vec<Order>> {
            let usd = self.market.quote().clone();
            (0..64)
                .map(|i| {
                    let a = &self.assets[(i * 7) % ASSETS];
                    let price = self.market.price(a).unwrap_or(Decimal::ONE);
                    let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
                    let ty = if i % 4 == 1 {
                        OrderType::Market
                    } else {
                        OrderType::Limit { price }
                    };
                    let notional = Decimal::from(500 + (i as i64 % 9) * 4_000);
                    let qty = (notional / price).round_dp(5);
                    let id = ClientOrderId::new(&format!("bench-{i}"))?;
                    Ok(Order::new(
                        self.profile.id.clone(),
                        id,
                        Symbol::new(a.clone(), usd.clone())?,
                        side,
                        ty,
                        qty,
                    )?)
                })
                .collect()
        }

        /// One full pre-trade check; `true` when approved.
        pub fn check(&self, order: Order) -> bool {
            let ctx = CheckContext {
                profile: &self.profile,
                limits: &self.limits,
                state: &self.state,
                portfolio: &self.portfolio,
                market: &self.market,
                now: Timestamp::from_secs(1_700_000_000),
            };
            check_order(&ctx, order).is_ok()
        }

        /// One plan; `with_stats`: the risk-adjusted strategy, statistics computed first.
        pub fn plan<R: rand::Rng + rand::CryptoRng>(
            &self,
            rng: &mut R,
            with_stats: bool,
        ) -> anyhow::Result<RebalancePlan> {
            let (profile, stats) = if with_stats {
                (
                    &self.risk_adjusted,
                    MarketStats::from_prices(self.assets.clone(), &self.series, 8766.0),
                )
            } else {
                (&self.profile, None)
            };
            let input = PlanInput {
                profile,
                limits: &self.limits,
                portfolio: &self.portfolio,
                market: &self.market,
                stats: stats.as_ref(),
                randomization: self.profile.randomization_factor,
                open_orders: &[],
            };
            Ok(plan_rebalance(&input, rng)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(c: ExitCode) -> String {
        format!("{c:?}")
    }

    fn config_check(text: &str) -> String {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("risk.toml");
        std::fs::write(&file, text).expect("write");
        code(
            run_config(ConfigArgs {
                command: ConfigCommand::Check { file },
            })
            .expect("runs"),
        )
    }

    #[test]
    fn config_check_exit_codes() {
        let cases = [
            (DEMO_CONFIG, code(ExitCode::SUCCESS)),
            (
                "[rebalancing]\nmax_concentration = 0.25\n[profiles.a]\nexchange = \"kraken\"\ntype = \"moderate\"\ntarget_allocation = { BTC = 0.4, ETH = 0.3, SOL = 0.1 }\n",
                code(ExitCode::from(2)),
            ),
            ("[unknown]\n", code(ExitCode::from(2))),
            ("not toml at all", code(ExitCode::from(2))),
        ];
        for (i, (text, want)) in cases.iter().enumerate() {
            assert_eq!(config_check(text), *want, "TC{i} failed");
        }
        let missing = ConfigArgs {
            command: ConfigCommand::Check {
                file: PathBuf::from("/nonexistent/risk.toml"),
            },
        };
        assert_eq!(
            code(run_config(missing).expect("runs")),
            code(ExitCode::from(2))
        );
    }

    #[test]
    fn bench_reports_every_figure() {
        let v = bench_risk(Duration::from_millis(20)).expect("bench runs");
        assert_eq!(v["assets"], 50);
        for key in [
            "pre_trade_checks_per_sec",
            "plans_per_sec",
            "plans_with_statistics_per_sec",
        ] {
            assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key}: {v}");
        }
        let approved = v["pre_trade_orders"]["approved"].as_u64().expect("count");
        assert!(
            approved > 0 && approved < 64,
            "a mix of approved and refused orders: {v}"
        );
        assert!(v["plan_orders"].as_u64().is_some_and(|n| n > 0), "{v}");
    }

    /// The figures `tradeguard bench risk` prints, one second per measurement:
    /// `cargo test --release -p tradeguard bench_risk_figures -- --ignored --nocapture`.
    #[test]
    #[ignore = "a one-second-per-figure benchmark; run it in release mode"]
    fn bench_risk_figures() {
        let v = bench_risk(Duration::from_secs(1)).expect("bench runs");
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
    }
}
