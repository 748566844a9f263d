//! `tradeguard demo`: the whole product on loopback. Not built yet (issue 8): until the gateway,
//! the vault and the order path are wired together, it says what it will do and what runs today,
//! and exits with status 1 so no script mistakes it for a finished run.

use std::process::ExitCode;

use clap::Args;

/// Arguments of `tradeguard demo` (they take effect once the demo exists).
#[derive(Args)]
pub struct DemoArgs {}

/// Prints the plan and the commands that work today.
pub fn run(_args: DemoArgs) -> anyhow::Result<ExitCode> {
    println!("{PLAN}");
    Ok(ExitCode::FAILURE)
}

const PLAN: &str = "\
tradeguard demo is not built yet. When it is, it will:
  1. start simulated Binance, Coinbase and Kraken on 127.0.0.1;
  2. initialize a throwaway data dir and seal demo credentials into the vault through the
     same HPKE envelope path a user takes;
  3. register a controller and two trader principals, and run several risk profiles for a
     few minutes of wall time: signed orders, sealed intents with dummies, rebalancing, one
     order the risk engine refuses, a halt and a quorum resume;
  4. print a summary per profile, the audit checkpoint, and a signed performance report
     with the command that verifies it.

What runs today:
  tradeguard sim --keys-out sim-keys.json     exchange simulators on 127.0.0.1:7701-7704
  tradeguard backtest --simulate --years 2    risk profiles over simulated prices
  tradeguard analytics --equity FILE.csv      performance metrics of an equity history
  tradeguard bench crypto                     envelope and signature throughput";
