//! `tradeguard`: the command-line interface (server, client and offline subcommands).
//!
//! Exit codes: 0 ok, 1 runtime failure, 2 usage error or invalid input.

mod cmd;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// tradeguard: a security-first gateway between trading bots and crypto exchanges.
#[derive(Parser)]
#[command(name = "tradeguard", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Every subcommand. Each area keeps its arguments and handler in `cmd/<area>.rs`.
#[derive(Subcommand)]
enum Command {
    /// Performance metrics of an equity history (CSV) or a ledger (JSON), as a table or JSON.
    Analytics(cmd::analytics::AnalyticsArgs),
    /// Signed analytics reports: `report [--out FILE]` fetches the gateway's (GET
    /// /v1/analytics), `report verify FILE [--key PUBKEY]` checks one offline.
    Report(cmd::analytics::ReportArgs),
    /// Create a data dir: config, SQLite database, vault and gateway keys, controller key.
    Init(cmd::init::InitArgs),
    /// Run the gateway: vault, store, exchanges, risk engine, audit log (config file).
    Serve(cmd::serve::ServeArgs),
    /// Print the gateway's public keys (the /v1/keys JSON), offline from a data dir.
    Keys(cmd::keys::KeysArgs),
    /// Seal a credential (JSON on stdin) for a gateway's public key; prints the envelope.
    Seal(cmd::seal::SealArgs),
    /// Sealed exchange credentials in a data dir: `import`, `list` (metadata only), `remove`.
    Credentials(cmd::credentials::CredentialsArgs),
    /// The whole product on loopback: simulated exchanges, the gateway, traders, a halt.
    Demo(cmd::demo::DemoArgs),
    /// What the platform gives the gateway: CPU features, memory locking, core dumps, clock,
    /// data dir permissions; each line says what to do when something is missing.
    Doctor(cmd::doctor::DoctorArgs),
    /// Print benchmark figures as JSON.
    Bench(cmd::bench::BenchArgs),
    /// Run the exchange simulators (Binance, Coinbase, Coinbase Exchange, Kraken) on 127.0.0.1.
    Sim(cmd::sim::SimArgs),
    /// Risk configuration: `config check FILE` validates it and lists every conflict.
    Config(cmd::risk::ConfigArgs),
    /// Run risk profiles over a price history (CSV or simulated) and print what happened.
    Backtest(cmd::risk::BacktestArgs),
    /// Audit log: `verify` (offline, a data dir or an export), `export`, `checkpoint`, `proof`
    /// (`checkpoint` and `proof` also from a running gateway with --url).
    Audit(cmd::audit::AuditArgs),
    /// Archive the data dir while the gateway runs (consistent database snapshot, secrets stay
    /// sealed): `backup --out FILE`.
    Backup(cmd::backup::BackupArgs),
    /// Bring a backup archive back into a new data dir, every file's SHA-256 checked first.
    Restore(cmd::backup::RestoreArgs),
    /// Sealed per-trade intents: `send` (with dummies, or at a constant rate), `status`.
    Intent(cmd::intents::IntentArgs),
    /// The bearer token Prometheus scrapes GET /metrics with (offline, on the data dir):
    /// a new one replaces the old at once; `--revoke` removes it.
    MetricsToken(cmd::metrics_token::MetricsTokenArgs),
    #[command(flatten)]
    Client(cmd::client::ClientCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analytics(args) => cmd::analytics::run(args),
        Command::Report(args) => cmd::analytics::run_report(args),
        Command::Init(args) => cmd::init::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Keys(args) => cmd::keys::run(args),
        Command::Seal(args) => cmd::seal::run(args),
        Command::Credentials(args) => cmd::credentials::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Doctor(args) => cmd::doctor::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Sim(args) => cmd::sim::run(args),
        Command::Config(args) => cmd::risk::run_config(args),
        Command::Backtest(args) => cmd::risk::run_backtest(args),
        Command::Audit(args) => cmd::audit::run(args),
        Command::Backup(args) => cmd::backup::run(args),
        Command::Restore(args) => cmd::backup::run_restore(args),
        Command::Intent(args) => cmd::intents::run(args),
        Command::MetricsToken(args) => cmd::metrics_token::run(args),
        Command::Client(c) => cmd::client::run(c),
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err:#}");
        ExitCode::from(1)
    })
}
