//! `tradeguard metrics-token`: the bearer token a Prometheus server scrapes `GET /metrics`
//! with (`authorization: {credentials_file: FILE}` or `bearer_token_file`). It opens that one
//! endpoint, lives until replaced or revoked, and survives a halt. Issued offline on the data
//! dir with the passphrase, and audited (`metrics.token_issued`, `metrics.token_revoked`)
//! before it takes effect; the gateway keeps only its SHA-256, so a new token replaces the old
//! one at once, even while `serve` runs.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use tradeguard_crypto::secret::SecretString;
use tradeguard_crypto::{b64, random};
use tradeguard_gateway::auth::{METRICS_TOKEN_META, METRICS_TOKEN_PREFIX};
use tradeguard_store::MetaKey;

use crate::cmd::datadir;

/// `tradeguard metrics-token`.
#[derive(clap::Args, Debug)]
pub struct MetricsTokenArgs {
    #[command(flatten)]
    dir: datadir::DataDirArg,
    /// Write the token to this new file, mode 0600, instead of printing it.
    #[arg(long, value_name = "FILE", conflicts_with = "revoke")]
    out: Option<PathBuf>,
    /// Remove the token: scrapes with it are refused from now on.
    #[arg(long)]
    revoke: bool,
    #[command(flatten)]
    passphrase: datadir::PassphraseArg,
}

/// Runs `tradeguard metrics-token`; prints JSON.
pub fn run(args: MetricsTokenArgs) -> anyhow::Result<ExitCode> {
    datadir::finish(datadir::block_on(issue(args)).and_then(|r| r))
}

async fn issue(args: MetricsTokenArgs) -> anyhow::Result<()> {
    let dir = &args.dir.data_dir;
    let (_vault, sink) = datadir::unlock(dir, &args.passphrase).await?;
    let store = datadir::open_store(dir).await?;
    let key = MetaKey::new(METRICS_TOKEN_META)?;
    if args.revoke {
        let event = tradeguard_audit::event::AuditEvent::of("metrics.token_revoked")
            .and_then(|e| e.field("by", "operator (offline)"));
        sink.record_event(event).await?;
        sink.checkpoint().await?;
        store.meta_put(&key, "").await?;
        println!("{}", json!({"metrics_token": "revoked"}));
        return Ok(());
    }
    let raw = random::array::<32>()
        .map_err(|_| anyhow::anyhow!("the operating system's random number generator failed"))?;
    let token = SecretString::new(format!("{METRICS_TOKEN_PREFIX}{}", b64::encode(&raw)));
    let hash = hex::encode(tradeguard_crypto::digest::sha256(
        token.expose_secret().as_bytes(),
    ));
    // The file first: a token that cannot be handed over is not installed.
    if let Some(path) = &args.out {
        datadir::create_secret_file(path, token.expose_secret())?;
    }
    let event = tradeguard_audit::event::AuditEvent::of("metrics.token_issued")
        .and_then(|e| e.sensitive("token", token.expose_secret()))
        .and_then(|e| e.field("to", if args.out.is_some() { "file" } else { "stdout" }))
        .and_then(|e| e.field("by", "operator (offline)"));
    if let Err(e) = sink.record_event(event).await {
        // Not installed: take back the file that would hand it over.
        if let Some(path) = &args.out {
            let _ = std::fs::remove_file(path);
        }
        return Err(e);
    }
    sink.checkpoint().await?;
    store.meta_put(&key, &hash).await?;
    match &args.out {
        Some(path) => println!(
            "{}",
            json!({"metrics_token_file": path.display().to_string()})
        ),
        // The one place the token is shown: the operator asked for it to configure a scraper.
        None => println!("{}", json!({"metrics_token": token.expose_secret()})),
    }
    Ok(())
}
