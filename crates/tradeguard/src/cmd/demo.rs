//! `tradeguard demo`: the whole product on loopback (see `crate::serve::demo`). Prints the
//! timeline, a table per profile, the audit checkpoint, and the signed report with the
//! command that verifies it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::serve::demo::{self, DemoOptions};

/// Arguments of `tradeguard demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// How long the traders trade: seconds, or with a unit (`90s`, `3m`). At least 10 s.
    #[arg(long, default_value = "3m", value_parser = parse_duration)]
    duration: Duration,
    /// Seed of the simulated prices and of the traders' choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Data dir to create (must not exist, or be empty). Default: a new temporary directory.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Keep the data dir afterwards, for inspection (`tradeguard audit verify --data-dir`).
    #[arg(long)]
    keep: bool,
}

/// `90`, `90s`, `3m` or `1h`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}`: expected seconds or a number with s, m or h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("`{s}`: the unit must be s, m or h")),
    };
    if secs < 10 {
        return Err("the demo needs at least 10 s".into());
    }
    Ok(Duration::from_secs(secs))
}

/// Runs `tradeguard demo`.
pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (duration, seed) = (args.duration, args.seed);
    println!(
        "tradeguard demo: three profiles on simulated Binance, Coinbase and Kraken for {}s (seed {seed})",
        duration.as_secs()
    );
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let options = DemoOptions {
        duration,
        seed,
        data_dir: args.data_dir,
        keep: args.keep,
    };
    let out = runtime.block_on(demo::run(options, progress))?;
    for e in &out.events {
        println!("  {e}");
    }
    println!();
    print!("{}", out.table);
    println!(
        "\nwhile halted: {} order(s) turned away by the gateway, {} placed on the exchanges",
        out.refused_while_halted, out.placed_while_halted
    );
    println!("{}", out.intents);
    println!("\naudit checkpoint:");
    for line in out.checkpoint.lines() {
        println!("  {line}");
    }
    let me = demo::self_command();
    println!("\nsigned report: {}", out.report.display());
    println!(
        "verify it:     {me} report verify {} --key {}",
        out.report.display(),
        out.gateway_did
    );
    match &out.data_dir {
        Some(d) => println!(
            "data dir:      {} (kept)\nverify the log: {me} audit verify --data-dir {}",
            d.display(),
            d.display()
        ),
        None => println!("data dir:      removed (run with --keep to inspect it)"),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let cases = [
            ("90", Some(90)),
            ("90s", Some(90)),
            ("3m", Some(180)),
            ("1h", Some(3600)),
            ("5", None),
            ("3d", None),
            ("m", None),
        ];
        for (i, (text, want)) in cases.iter().enumerate() {
            let got = parse_duration(text).ok().map(|d| d.as_secs());
            assert_eq!(got, *want, "TC{i} failed: {text}");
        }
    }
}
