//! `tradeguard analytics` (metrics of an equity history or a ledger),
//! `tradeguard report` (fetch the gateway's signed report, `GET /v1/analytics`, with the
//! client commands' connection flags) and `tradeguard report verify` (offline check of a
//! signed report).
//!
//! Exit codes: 0 ok; 1 the file could not be read; 2 invalid input (a malformed CSV or
//! ledger, or a report that does not verify), with one line on stderr saying what and why.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use tradeguard_analytics::ledger::Ledger;
use tradeguard_analytics::{
    AggregatedLedger, Conventions, EquityReport, LedgerReport, ReturnMetrics, ScopeReport,
    SignedReport, analyze_equity, analyze_ledger, parse_equity_csv,
};
use tradeguard_crypto::did::decode_ed25519_did;
use tradeguard_crypto::sign::Ed25519VerifyingKey;

/// Arguments of `tradeguard analytics`.
#[derive(Args)]
pub struct AnalyticsArgs {
    /// Equity history CSV: header `timestamp,value` or `timestamp,value,flow`, then one row per
    /// valuation (RFC 3339 or YYYY-MM-DD; value after the flow; flow + deposit, - withdrawal).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "ledger",
        conflicts_with = "ledger"
    )]
    equity: Option<PathBuf>,
    /// Ledger JSON (fills, orders, snapshots, prices, flows, rebalances) for a report per
    /// profile, per exchange and overall.
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// With --ledger: fold fills and orders into aggregates and drop them before reporting.
    #[arg(long, requires = "ledger")]
    aggregated_only: bool,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Return periods per year (365 for daily crypto data, 8760 for hourly).
    #[arg(long, value_name = "N", default_value_t = 365)]
    periods_per_year: u32,
    /// Annual risk-free rate (0.04 for 4 %), converted per period as (1 + rf)^(1/N) - 1.
    #[arg(
        long,
        value_name = "RATE",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    risk_free_rate: f64,
}

/// Runs `tradeguard analytics`.
pub fn run(args: AnalyticsArgs) -> anyhow::Result<ExitCode> {
    let conv = match Conventions::new(args.periods_per_year, args.risk_free_rate) {
        Ok(c) => c,
        Err(e) => return Ok(invalid(&e)),
    };
    if let Some(path) = &args.equity {
        let text = read_text(path)?;
        let report = match parse_equity_csv(&text).and_then(|s| analyze_equity(&s, &conv)) {
            Ok(r) => r,
            Err(e) => return Ok(invalid(&format!("{}: {e}", path.display()))),
        };
        print_out(&report, args.json, equity_table)?;
    } else if let Some(path) = &args.ledger {
        let text = read_text(path)?;
        let ledger: Ledger = match serde_json::from_str(&text) {
            Ok(l) => l,
            Err(e) => return Ok(invalid(&format!("{}: not a ledger: {e}", path.display()))),
        };
        let report = if args.aggregated_only {
            AggregatedLedger::from_ledger(ledger).and_then(|a| a.report(&conv))
        } else {
            analyze_ledger(&ledger, &conv)
        };
        match report {
            Ok(r) => print_out(&r, args.json, ledger_table)?,
            Err(e) => return Ok(invalid(&format!("{}: {e}", path.display()))),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read {}; check the path and permissions",
            path.display()
        )
    })
}

fn invalid(msg: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

fn print_out<T: serde::Serialize>(
    report: &T,
    json: bool,
    table: fn(&T) -> String,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", table(report));
    }
    Ok(())
}

fn num(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.6}"))
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".to_owned(), |v| format!("{:.4} %", v * 100.0))
}

fn opt<T: std::fmt::Display>(x: Option<T>) -> String {
    x.map_or_else(|| "n/a".to_owned(), |v| v.to_string())
}

fn metric_rows(m: &ReturnMetrics) -> Vec<(&'static str, String)> {
    vec![
        ("periods", m.periods.to_string()),
        ("time-weighted return", pct(m.time_weighted_return)),
        ("annualized return", pct(m.annualized_return)),
        ("annualized volatility", pct(m.annualized_volatility)),
        ("sharpe", num(m.sharpe)),
        ("sortino", num(m.sortino)),
        ("calmar", num(m.calmar)),
        ("max drawdown", pct(m.max_drawdown.depth)),
    ]
}

fn equity_table(r: &EquityReport) -> String {
    let mut rows = vec![
        ("observations", r.observations.to_string()),
        ("start", opt(r.start)),
        ("end", opt(r.end)),
        ("start value", opt(r.start_value)),
        ("end value", opt(r.end_value)),
        ("net flows", r.net_flows.to_string()),
        ("profit and loss", opt(r.profit_and_loss)),
        ("return (modified dietz)", pct(r.modified_dietz_return)),
    ];
    rows.extend(metric_rows(&r.metrics));
    rows.extend([
        ("drawdown peak", opt(r.drawdown_dates.peak)),
        ("drawdown trough", opt(r.drawdown_dates.trough)),
        ("drawdown recovery", opt(r.drawdown_dates.recovery)),
    ]);
    let mut out = String::new();
    for (k, v) in rows {
        let _ = writeln!(out, "{k:<26}{v}");
    }
    let c = &r.conventions;
    let _ = writeln!(
        out,
        "\nconventions: {} periods/year; risk-free {} annual = {:.3e} per period ({}); std ddof={}",
        c.periods_per_year,
        c.risk_free_rate_annual,
        c.risk_free_rate_per_period,
        c.risk_free_conversion,
        c.std_ddof
    );
    out
}

fn ledger_table(r: &LedgerReport) -> String {
    let mut out = format!(
        "{:<24}{:>16}{:>12}{:>10}{:>10}{:>10}{:>8}{:>16}{:>12}{:>9}\n",
        "scope", "value", "twr", "vol", "sharpe", "max dd", "trades", "volume", "fees", "success"
    );
    let mut line = |name: String, s: &ScopeReport| {
        let m = &s.performance.metrics;
        let _ = writeln!(
            out,
            "{:<24}{:>16}{:>12}{:>10}{:>10}{:>10}{:>8}{:>16}{:>12}{:>9}",
            name,
            opt(s.portfolio_value),
            pct(m.time_weighted_return),
            pct(m.annualized_volatility),
            m.sharpe.map_or("n/a".into(), |x| format!("{x:.3}")),
            pct(m.max_drawdown.depth),
            s.activity.trade_count,
            s.activity.volume.round_dp(2),
            s.activity.fees.round_dp(4),
            pct(s.activity.order_success_rate),
        );
    };
    line("overall".into(), &r.overall);
    for (name, s) in &r.by_profile {
        line(format!("profile {name}"), s);
    }
    for (name, s) in &r.by_exchange {
        line(format!("exchange {name}"), s);
    }
    let _ = writeln!(
        out,
        "\nvalues in {}; {} periods/year; risk-free {} annual; std ddof={} (--json for everything)",
        r.base_currency,
        r.conventions.periods_per_year,
        r.conventions.risk_free_rate_annual,
        r.conventions.std_ddof
    );
    out
}

/// Arguments of `tradeguard report`: without a subcommand, fetch the gateway's signed report.
#[derive(Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    command: Option<ReportCommand>,
    #[command(flatten)]
    fetch: FetchArgs,
}

/// `tradeguard report [--out FILE]`: where to write the report and how to reach the gateway
/// (as the client commands; not global, so `report verify --key` keeps its meaning).
#[derive(Args)]
struct FetchArgs {
    /// Write the report to FILE (replaced once complete) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Gateway URL (`https://host:port`; plain http only to loopback).
    #[arg(
        long,
        env = "TRADEGUARD_ADDR",
        default_value = "https://127.0.0.1:8443"
    )]
    url: String,
    /// Principal key that signs the request (scope `read`). Default: `<data dir>/controller.key`.
    #[arg(long, env = "TRADEGUARD_KEY", value_name = "FILE")]
    key: Option<PathBuf>,
    /// Gateway certificate to trust, and only it (PEM). Default: `<data dir>/tls/cert.pem`
    /// if present, else the platform's trust store.
    #[arg(long, env = "TRADEGUARD_CERT", value_name = "FILE")]
    cert: Option<PathBuf>,
    /// Data dir holding the default key and certificate.
    #[arg(long, env = "TRADEGUARD_DATA", default_value = "./tradeguard-data")]
    data_dir: PathBuf,
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Check a signed report offline: canonical form, Ed25519 signature, signer key.
    Verify {
        /// The report file (`{"report": {...}, "signature": {...}}`).
        file: PathBuf,
        /// The gateway's public key: base64url (as `tradeguard keys` prints) or did:key.
        /// Without it only the file's own key is checked, which proves integrity, not origin.
        #[arg(long, value_name = "PUBKEY")]
        key: Option<String>,
    },
}

/// Runs `tradeguard report ...`.
pub fn run_report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let Some(ReportCommand::Verify { file, key }) = args.command else {
        return fetch(args.fetch);
    };
    let bytes = std::fs::read(&file).with_context(|| {
        format!(
            "cannot read {}; check the path and permissions",
            file.display()
        )
    })?;
    let pinned = match key.as_deref().map(parse_public_key).transpose() {
        Ok(k) => k,
        Err(msg) => return Ok(invalid(&msg)),
    };
    let signed = match SignedReport::parse(&bytes) {
        Ok(s) => s,
        Err(e) => return Ok(not_verified(&e)),
    };
    let signer = pinned.unwrap_or(*signed.claimed_public_key());
    match signed.verify(&signer) {
        Ok(report) => {
            let c = &report.checkpoint;
            let who = if pinned.is_some() {
                "signed by the given key"
            } else {
                "signed by the key in the file (NOT pinned: pass --key to check the origin)"
            };
            println!(
                "verified: report made {} at audit checkpoint {} size {}; {who} {}",
                report.generated_at,
                c.origin(),
                c.tree_size(),
                signer.to_base64url()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(not_verified(&e)),
    }
}

/// `GET /v1/analytics`: the report is checked against the key it names (integrity; the origin
/// is for `report verify --key`) and written byte for byte.
fn fetch(args: FetchArgs) -> anyhow::Result<ExitCode> {
    let conn = crate::cmd::client::Conn {
        url: args.url,
        key: args.key,
        cert: args.cert,
        data_dir: args.data_dir,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let fetched =
        runtime.block_on(async { crate::cmd::client::client(&conn)?.analytics_report().await });
    let bytes = match fetched {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(crate::cmd::client::exit_code(&e)));
        }
    };
    let signed = SignedReport::parse(&bytes).and_then(|s| {
        s.verify(s.claimed_public_key())
            .map(|r| (r, *s.claimed_public_key()))
    });
    let (report, signer) = match signed {
        Ok(r) => r,
        Err(e) => anyhow::bail!("the gateway answered a report that does not verify: {e}"),
    };
    match &args.out {
        Some(path) => write_replacing(path, &bytes)?,
        None => std::io::Write::write_all(&mut std::io::stdout().lock(), &bytes)?,
    }
    let c = &report.checkpoint;
    eprintln!(
        "report made {} at audit checkpoint {} size {}, signed by {}; check its origin with \
         `tradeguard report verify FILE --key PUBKEY`",
        report.generated_at,
        c.origin(),
        c.tree_size(),
        signer.to_base64url()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` beside `path`, syncs, then renames over it.
fn write_replacing(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    let mut file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn not_verified(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("not verified: {e}");
    ExitCode::from(2)
}

fn parse_public_key(s: &str) -> Result<Ed25519VerifyingKey, String> {
    let bad = "--key must be an Ed25519 public key: base64url of 32 bytes or did:key:z6Mk...";
    if s.starts_with("did:key:") {
        return decode_ed25519_did(s).map_err(|_| bad.to_owned());
    }
    tradeguard_crypto::b64::decode(s)
        .ok()
        .and_then(|b| Ed25519VerifyingKey::from_bytes(&b).ok())
        .ok_or_else(|| bad.to_owned())
}

#[cfg(test)]
mod tests {
    use tradeguard_analytics::{
        CheckpointRef, Report, ReportBody, ReportFormat, Timestamp, sign_report,
    };
    use tradeguard_crypto::did::encode_ed25519_did;
    use tradeguard_crypto::sign::Ed25519SigningKey;

    use super::*;

    fn status(code: ExitCode) -> String {
        format!("{code:?}")
    }

    #[test]
    fn public_keys_in_both_forms() {
        let vk = Ed25519SigningKey::from_seed(&[3; 32])
            .unwrap()
            .verifying_key();
        assert_eq!(parse_public_key(&vk.to_base64url()), Ok(vk));
        assert_eq!(parse_public_key(&encode_ed25519_did(&vk)), Ok(vk));
        for (i, bad) in ["", "abc", "did:key:z6Mkxx", &"A".repeat(42)]
            .iter()
            .enumerate()
        {
            assert!(parse_public_key(bad).is_err(), "TC{i} failed");
        }
    }

    fn no_fetch() -> FetchArgs {
        FetchArgs {
            out: None,
            url: "https://127.0.0.1:1".into(),
            key: None,
            cert: None,
            data_dir: PathBuf::from("."),
        }
    }

    #[test]
    fn report_verify_exit_codes() {
        let key = Ed25519SigningKey::from_seed(&[4; 32]).unwrap();
        let series = parse_equity_csv("timestamp,value\n2024-01-01,10\n2024-01-02,11\n").unwrap();
        let report = Report {
            format: ReportFormat,
            generated_at: Timestamp::parse("2024-01-03").unwrap(),
            checkpoint: CheckpointRef::new("test/log", 7, [0; 32]).unwrap(),
            body: ReportBody::Equity(Box::new(
                analyze_equity(&series, &Conventions::default()).unwrap(),
            )),
        };
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.json");
        std::fs::write(&good, sign_report(&report, &key).unwrap()).unwrap();
        let bad = dir.path().join("bad.json");
        let text = std::fs::read_to_string(&good)
            .unwrap()
            .replace("\"tree_size\":7", "\"tree_size\":8");
        std::fs::write(&bad, text).unwrap();
        let other = Ed25519SigningKey::from_seed(&[5; 32])
            .unwrap()
            .verifying_key();
        let run = |file: &PathBuf, key: Option<String>| {
            let args = ReportArgs {
                command: Some(ReportCommand::Verify {
                    file: file.clone(),
                    key,
                }),
                fetch: no_fetch(),
            };
            status(run_report(args).unwrap())
        };
        let ok = status(ExitCode::SUCCESS);
        let invalid = status(ExitCode::from(2));
        assert_eq!(run(&good, Some(key.verifying_key().to_base64url())), ok);
        assert_eq!(run(&good, None), ok);
        assert_eq!(run(&good, Some(other.to_base64url())), invalid);
        assert_eq!(run(&bad, Some(key.verifying_key().to_base64url())), invalid);
        assert_eq!(run(&bad, None), invalid);
        assert_eq!(run(&good, Some("nonsense".into())), invalid);
        let missing = dir.path().join("missing.json");
        let args = ReportArgs {
            command: Some(ReportCommand::Verify {
                file: missing,
                key: None,
            }),
            fetch: no_fetch(),
        };
        assert!(
            run_report(args).is_err(),
            "unreadable file is a runtime failure (exit 1)"
        );
    }
}
