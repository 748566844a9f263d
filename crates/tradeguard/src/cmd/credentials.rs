//! `tradeguard credentials import|list|remove`, offline on a data dir. Secrets are
//! write-only: `list` shows metadata and needs no passphrase; `import` and `remove` unlock the
//! vault.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use tradeguard_crypto::envelope::{Envelope, MAX_ENVELOPE_JSON};
use tradeguard_vault::{CredentialId, CredentialMeta, ProfileName, VaultError};

use super::datadir::{self, Invalid};

/// Arguments of `tradeguard credentials`.
#[derive(Args)]
pub struct CredentialsArgs {
    #[command(flatten)]
    dir: datadir::DataDirArg,
    #[command(subcommand)]
    command: CredentialsCommand,
}

#[derive(Subcommand)]
enum CredentialsCommand {
    /// Import a sealed credential (from `tradeguard seal`) into the vault.
    Import {
        /// The envelope JSON file.
        #[arg(long, value_name = "FILE")]
        envelope: PathBuf,
        /// The trading profile the credential belongs to.
        #[arg(long, value_name = "NAME")]
        profile: String,
        #[command(flatten)]
        passphrase: datadir::PassphraseArg,
    },
    /// List credentials (metadata only: secrets cannot be read back).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove a credential.
    Remove {
        /// The credential id (from `list`).
        id: String,
        #[command(flatten)]
        passphrase: datadir::PassphraseArg,
    },
    /// Rotate the key-encryption key now: a new KEK, every data key re-wrapped, the old KEK
    /// destroyed, in one transaction (`serve` also rotates on `security.key_rotation_interval`).
    RotateKek {
        #[command(flatten)]
        passphrase: datadir::PassphraseArg,
    },
}

/// Runs `tradeguard credentials`.
pub fn run(args: CredentialsArgs) -> anyhow::Result<ExitCode> {
    let dir = args.dir.data_dir;
    datadir::finish(datadir::block_on(async move {
        match args.command {
            CredentialsCommand::Import {
                envelope,
                profile,
                passphrase,
            } => import(&dir, &envelope, &profile, &passphrase).await,
            CredentialsCommand::List { json } => list(&dir, json).await,
            CredentialsCommand::Remove { id, passphrase } => remove(&dir, &id, &passphrase).await,
            CredentialsCommand::RotateKek { passphrase } => rotate_kek(&dir, &passphrase).await,
        }
    })?)
}

async fn import(
    dir: &std::path::Path,
    file: &std::path::Path,
    profile: &str,
    passphrase: &datadir::PassphraseArg,
) -> anyhow::Result<()> {
    let profile = ProfileName::new(profile)?;
    let text = std::fs::read(file)
        .map_err(|e| Invalid(format!("cannot read --envelope {} ({e})", file.display())))?;
    if text.len() > MAX_ENVELOPE_JSON {
        return Err(Invalid(format!(
            "{} is larger than an envelope can be",
            file.display()
        ))
        .into());
    }
    let text = String::from_utf8(text)
        .map_err(|_| Invalid(format!("{} is not UTF-8 JSON", file.display())))?;
    let envelope = Envelope::from_json(&text).map_err(VaultError::BadEnvelope)?;
    let (vault, log) = datadir::unlock(dir, passphrase).await?;
    let meta = vault.import_envelope(&envelope, &profile).await?;
    log.checkpoint().await?;
    println!(
        "imported {} ({} for profile {}{})",
        meta.id,
        meta.exchange,
        meta.profile,
        label_suffix(&meta)
    );
    Ok(())
}

fn label_suffix(m: &CredentialMeta) -> String {
    if m.label.is_empty() {
        String::new()
    } else {
        format!(", label {:?}", m.label)
    }
}

async fn list(dir: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let store = datadir::open_store(dir).await?;
    let all = datadir::vault(store).list().await?;
    if json {
        let rows: Vec<_> = all.iter().map(meta_json).collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(());
    }
    if all.is_empty() {
        println!("no credentials; import one with `tradeguard credentials import`");
        return Ok(());
    }
    println!(
        "{:<29} {:<16} {:<16} {:<20} {:>3}  LABEL",
        "ID", "EXCHANGE", "PROFILE", "CREATED", "KEK"
    );
    for m in &all {
        println!(
            "{:<29} {:<16} {:<16} {:<20} {:>3}  {}",
            m.id.as_str(),
            m.exchange.name(),
            m.profile.as_str(),
            datadir::rfc3339(m.created_ms),
            m.kek_version,
            m.label.escape_debug()
        );
    }
    Ok(())
}

fn meta_json(m: &CredentialMeta) -> serde_json::Value {
    serde_json::json!({
        "id": m.id.as_str(),
        "exchange": m.exchange.name(),
        "profile": m.profile.as_str(),
        "label": m.label,
        "created": datadir::rfc3339(m.created_ms),
        "created_ms": m.created_ms,
        "kek_version": m.kek_version,
    })
}

async fn rotate_kek(
    dir: &std::path::Path,
    passphrase: &datadir::PassphraseArg,
) -> anyhow::Result<()> {
    let (vault, log) = datadir::unlock(dir, passphrase).await?;
    let report = vault.rotate_kek().await?;
    log.checkpoint().await?;
    println!(
        "key-encryption key rotated: version {} -> {}, {} data key(s) re-wrapped",
        report.from, report.to, report.rewrapped
    );
    Ok(())
}

async fn remove(
    dir: &std::path::Path,
    id: &str,
    passphrase: &datadir::PassphraseArg,
) -> anyhow::Result<()> {
    let id = CredentialId::parse(id)?;
    let (vault, log) = datadir::unlock(dir, passphrase).await?;
    vault.remove(&id).await?;
    log.checkpoint().await?;
    println!("removed {id}");
    Ok(())
}
