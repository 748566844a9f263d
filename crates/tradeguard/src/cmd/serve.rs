//! `tradeguard serve`: runs the gateway (see `crate::serve`). The configuration file defaults
//! to `<data dir>/tradeguard.toml` (what `init` wrote); `--listen` overrides `[server]
//! listen`. Prints one line on stdout once listening, then logs to stderr (`RUST_LOG`,
//! default `info`). SIGTERM or SIGINT stops it gracefully.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use tokio::signal::unix::{SignalKind, signal};

use super::datadir::{self, Invalid};
use crate::serve::config::ServeConfig;
use crate::serve::run::{self, Options};

/// Arguments of `tradeguard serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Configuration file (tradeguard.example.toml documents every key). Default:
    /// `<data dir>/tradeguard.toml`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen on this address instead of `[server] listen` (e.g. 127.0.0.1:8443).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    #[command(flatten)]
    dir: datadir::DataDirArg,
    #[command(flatten)]
    passphrase: datadir::PassphraseArg,
}

/// Runs `tradeguard serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    datadir::finish(serve(args))
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let data_dir = args.dir.data_dir;
    let path = args
        .config
        .unwrap_or_else(|| data_dir.join(datadir::CONFIG_FILE));
    let mut config = ServeConfig::load(&path).map_err(|e| Invalid(format!("{e:#}")))?;
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    if config.server.dangerous_plain_http && !config.server.listen.ip().is_loopback() {
        return Err(Invalid(format!(
            "dangerous_plain_http serves plain HTTP on loopback only, not {}; use TLS",
            config.server.listen
        ))
        .into());
    }
    let passphrase = datadir::read_passphrase(&args.passphrase, false)?;
    let options = Options {
        config,
        data_dir,
        passphrase,
    };
    // Multi-thread: the vault secret source blocks in place (see serve::secrets).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        };
        run::run(options, shutdown, |addr, scheme, cert| {
            let pin = cert
                .map(|c| format!(" (certificate {})", c.display()))
                .unwrap_or_default();
            println!("tradeguard serve: listening on {scheme}://{addr}{pin}");
            let _ = std::io::stdout().flush();
        })
        .await
    })
}
