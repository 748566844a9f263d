//! `tradeguard sim`: runs the Binance, Coinbase Advanced Trade, Coinbase Exchange and Kraken
//! simulators on 127.0.0.1 until Ctrl-C (or SIGTERM).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use tradeguard_sim::{SimConfig, SimError, Venue};

/// Arguments of `tradeguard sim`.
#[derive(Args, Debug)]
pub struct SimArgs {
    /// Port of the Binance simulator; Coinbase Advanced Trade listens on PORT+1, Coinbase
    /// Exchange on PORT+2, Kraken on PORT+3 (all on 127.0.0.1).
    #[arg(long, default_value_t = 7701)]
    pub port: u16,
    /// Write the funded accounts' base URLs and keys as JSON to FILE (mode 0600).
    #[arg(long, value_name = "FILE")]
    pub keys_out: Option<PathBuf>,
    /// Seed of the simulated price paths.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Runs the simulators until interrupted.
pub fn run(args: SimArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: SimArgs) -> anyhow::Result<ExitCode> {
    let config = SimConfig {
        seed: args.seed,
        base_port: args.port,
        ..SimConfig::default()
    };
    let sim = match tradeguard_sim::start(config).await {
        Ok(sim) => sim,
        Err(e @ SimError::PortRange(_)) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(path) = &args.keys_out {
        write_keys(path, &sim.keys().to_json())?;
    }
    // Listen for signals before announcing readiness, so a stop sent right after "ready" counts.
    let stop = StopSignals::listen()?;
    let mut out = std::io::stdout().lock();
    for venue in Venue::ALL {
        writeln!(out, "{:<17} {}", venue.id(), sim.venue(venue).base_url())?;
    }
    writeln!(out, "ready; Ctrl-C stops")?;
    out.flush()?;
    drop(out);
    stop.wait().await;
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Writes `json` to `path`, readable by the owner only (it holds the simulator's secrets).
fn write_keys(path: &Path, json: &serde_json::Value) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| {
        format!(
            "cannot write --keys-out {}; check the directory exists and is writable",
            path.display()
        )
    })?;
    file.write_all(serde_json::to_string_pretty(json)?.as_bytes())?;
    file.write_all(b"\n")?;
    Ok(())
}

/// Ctrl-C (SIGINT) and, on Unix, SIGTERM, registered when created.
struct StopSignals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn listen() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let int = signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?;
            let term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
            Ok(Self { int, term })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
