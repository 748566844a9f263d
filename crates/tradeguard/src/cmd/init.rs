//! `tradeguard init`: a new data dir (mode 0700) with the config file, the SQLite database,
//! the vault (Argon2id parameters, KEK version 1, the gateway's sealed keys) and the first
//! controller principal's Ed25519 key (`controller.key`, PKCS#8 PEM, mode 0600). Refuses to
//! touch a data dir that already has anything in it; a failed init removes what it created.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use std::sync::Arc;
use tradeguard_crypto::did::encode_ed25519_did;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_store::Store;

use tradeguard_vault::{KdfParams, MemorySink, Vault, VaultEventSink};

use super::datadir::{self, CONFIG_FILE, CONTROLLER_KEY_FILE, DB_FILE, Invalid};

/// Arguments of `tradeguard init`.
#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    dir: datadir::DataDirArg,
    #[command(flatten)]
    passphrase: datadir::PassphraseArg,
}

/// The config file `init` writes: every key documented, defaults spelled out.
const CONFIG_TEMPLATE: &str = r#"# tradeguard configuration, written by `tradeguard init`; `tradeguard serve` reads it and its
# flags override it. tradeguard.example.toml (in the source tree) documents every key.
# Secrets never go here: exchange keys are sealed in the vault (`tradeguard seal`, then
# `tradeguard credentials import`); the passphrase comes from --passphrase-file,
# TRADEGUARD_PASSPHRASE or a prompt.

[server]
listen = "127.0.0.1:8443"          # address of the /v1 API (TLS)

[store]
# url = "postgres://tradeguard@db.internal/tradeguard"  # default: SQLite tradeguard.db here

[security]
key_rotation_interval = 86400      # seconds between key-encryption-key rotations
"#;

/// Runs `tradeguard init`.
pub fn run(args: InitArgs) -> anyhow::Result<ExitCode> {
    datadir::finish(datadir::block_on(init(&args))?)
}

async fn init(args: &InitArgs) -> anyhow::Result<()> {
    let dir = &args.dir.data_dir;
    let existed = check_free(dir)?;
    let passphrase = datadir::read_passphrase(&args.passphrase, true)?;
    if passphrase.expose_secret().chars().count() < tradeguard_vault::MIN_PASSPHRASE_CHARS {
        return Err(Invalid(format!(
            "the passphrase must be at least {} characters",
            tradeguard_vault::MIN_PASSPHRASE_CHARS
        ))
        .into());
    }
    let made = create(dir, existed, &passphrase).await;
    if made.is_err() {
        undo(dir, existed);
    }
    let (controller, gateway_did) = made?;
    println!("initialised {}", dir.display());
    println!(
        "controller {controller} (private key {})",
        dir.join(CONTROLLER_KEY_FILE).display()
    );
    println!("gateway signing key {gateway_did}");
    Ok(())
}

/// Ok(true) when `dir` exists and is empty, Ok(false) when it does not exist.
fn check_free(dir: &Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir).map(|mut entries| entries.next().is_none()) {
        Ok(true) => Ok(true),
        Ok(_) => Err(Invalid(format!(
            "{} already exists and is not empty; init never overwrites a data dir, pick another --data-dir",
            dir.display()
        ))
        .into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Invalid(format!("cannot read {} ({e})", dir.display())).into()),
    }
}

async fn create(
    dir: &Path,
    existed: bool,
    passphrase: &tradeguard_crypto::secret::SecretString,
) -> anyhow::Result<(String, String)> {
    if existed {
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .with_context(|| format!("cannot set {} to mode 0700", dir.display()))?;
    } else {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_new(&dir.join(CONFIG_FILE), CONFIG_TEMPLATE.as_bytes(), 0o600)?;
    let db = dir.join(DB_FILE);
    let store = Store::open_sqlite(&db)
        .await
        .context("cannot create the database")?;
    // Owner-only before anything is written; SQLite gives its -wal/-shm files the same mode.
    std::fs::set_permissions(&db, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .with_context(|| format!("cannot set {} to mode 0600", db.display()))?;
    store.migrate().await.context("cannot create the tables")?;
    // The audit log signs with the gateway key init is about to make: keep the first event
    // in memory, then write it to the log once the key exists.
    let first = Arc::new(MemorySink::new());
    let unlocked = Vault::new(store.clone(), first.clone())
        .init(passphrase, KdfParams::default())
        .await?;
    let log = datadir::AuditLogSink::default();
    log.open(&store, &unlocked).await?;
    for event in first.events() {
        log.record(&event)
            .await
            .context("cannot record init in the audit log")?;
    }
    log.checkpoint().await?;
    let gateway_did = unlocked.public_keys()?.did();
    drop(unlocked);
    store.close().await;
    let controller = Ed25519SigningKey::generate().context("cannot generate the controller key")?;
    let pem = controller.to_pkcs8_pem();
    write_new(
        &dir.join(CONTROLLER_KEY_FILE),
        pem.expose_secret().as_bytes(),
        0o600,
    )?;
    Ok((encode_ed25519_did(&controller.verifying_key()), gateway_did))
}

/// Writes a file that must not exist yet, with `mode`.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Removes what a failed init created (only files init names; the dir only if init made it).
fn undo(dir: &Path, existed: bool) {
    for name in [
        CONTROLLER_KEY_FILE,
        CONFIG_FILE,
        DB_FILE,
        "tradeguard.db-wal",
        "tradeguard.db-shm",
    ] {
        let _ = std::fs::remove_file(dir.join(name));
    }
    if !existed {
        let _ = std::fs::remove_dir(dir);
    }
}
