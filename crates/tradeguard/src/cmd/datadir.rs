//! What the vault commands share: the data dir (`--data-dir`, env `TRADEGUARD_DATA`, default
//! `./tradeguard-data`), its files, the passphrase (`--passphrase-file`, env
//! `TRADEGUARD_PASSPHRASE`, or a prompt on the terminal with echo off), the audit log the
//! vault's events go to, and how vault errors map to exit codes (2: the input was wrong; 1:
//! something failed at run time).

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use async_trait::async_trait;
use clap::Args;
use tradeguard_audit::log::AuditLog;
use tradeguard_crypto::secret::SecretString;
use tradeguard_store::Store;
use tradeguard_vault::{SinkError, UnlockedVault, Vault, VaultError, VaultEvent, VaultEventSink};

use crate::serve::audit::VaultAudit;

/// The SQLite database inside a data dir.
pub const DB_FILE: &str = "tradeguard.db";
/// The configuration file inside a data dir.
pub const CONFIG_FILE: &str = "tradeguard.toml";
/// The controller principal's private key inside a data dir.
pub const CONTROLLER_KEY_FILE: &str = "controller.key";
/// The environment variable a passphrase may come from.
pub const PASSPHRASE_ENV: &str = "TRADEGUARD_PASSPHRASE";

/// `--data-dir`.
#[derive(Args, Clone, Debug)]
pub struct DataDirArg {
    /// Data dir (config, SQLite database, keys).
    #[arg(long, env = "TRADEGUARD_DATA", default_value = "./tradeguard-data")]
    pub data_dir: PathBuf,
}

/// `--passphrase-file`.
#[derive(Args, Clone, Debug)]
pub struct PassphraseArg {
    /// File holding the vault passphrase (one line). Otherwise env TRADEGUARD_PASSPHRASE,
    /// otherwise a prompt on the terminal.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

/// A failure to report with exit code 2 (wrong input or usage), as one line.
#[derive(Debug)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

/// Turns a handler's result into an exit code: [`Invalid`] and input-class vault errors print
/// one line and give 2; other errors are returned for `main` to print (exit 1).
pub fn finish(result: anyhow::Result<()>) -> anyhow::Result<ExitCode> {
    let err = match result {
        Ok(()) => return Ok(ExitCode::SUCCESS),
        Err(e) => e,
    };
    let invalid_input = err.downcast_ref::<Invalid>().is_some()
        || err.downcast_ref::<VaultError>().is_some_and(is_input_error);
    if invalid_input {
        eprintln!("error: {err:#}");
        Ok(ExitCode::from(2))
    } else {
        Err(err)
    }
}

/// Vault errors caused by what the user gave (exit 2) rather than by the system (exit 1).
fn is_input_error(e: &VaultError) -> bool {
    matches!(
        e,
        VaultError::WrongPassphrase
            | VaultError::NotInitialized
            | VaultError::AlreadyInitialized
            | VaultError::UnknownCredential { .. }
            | VaultError::Duplicate { .. }
            | VaultError::Invalid { .. }
            | VaultError::BadEnvelope(_)
    )
}

/// The passphrase, from the file, the environment or the terminal (asked twice when
/// `confirm`). Refuses when none is given and stdin is not a terminal.
pub fn read_passphrase(arg: &PassphraseArg, confirm: bool) -> anyhow::Result<SecretString> {
    if let Some(path) = &arg.passphrase_file {
        let text = SecretString::new(std::fs::read_to_string(path).map_err(|e| {
            Invalid(format!(
                "cannot read --passphrase-file {} ({e})",
                path.display()
            ))
        })?);
        return Ok(first_line(&text));
    }
    if let Ok(value) = std::env::var(PASSPHRASE_ENV) {
        return Ok(SecretString::new(value));
    }
    if !std::io::stdin().is_terminal() {
        return Err(Invalid(format!(
            "no passphrase given and stdin is not a terminal; pass --passphrase-file FILE or set {PASSPHRASE_ENV}"
        ))
        .into());
    }
    let first = prompt("Vault passphrase: ")?;
    if confirm && prompt("Repeat passphrase: ")? != first {
        return Err(Invalid("the two passphrases differ; run the command again".into()).into());
    }
    Ok(first)
}

/// Reads one line from the terminal with echo off (restored on every path).
fn prompt(message: &str) -> anyhow::Result<SecretString> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let mut tty = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context("cannot open the terminal to ask for the passphrase; use --passphrase-file")?;
    let saved = tcgetattr(&tty).context("cannot read the terminal settings")?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    tcsetattr(&tty, OptionalActions::Now, &quiet).context("cannot turn terminal echo off")?;
    let mut line = SecretString::new(String::new());
    let read = tty.write_all(message.as_bytes()).and_then(|()| {
        let mut buf = String::new();
        let n = BufReader::new(&tty).read_line(&mut buf);
        line = SecretString::new(buf);
        n
    });
    let restored = tcsetattr(&tty, OptionalActions::Now, &saved);
    let secret = first_line(&line);
    read.context("cannot read the passphrase from the terminal")?;
    restored.context("cannot restore terminal echo")?;
    Ok(secret)
}

/// The text up to the first line break (the whole secret is wiped by its owner).
fn first_line(text: &SecretString) -> SecretString {
    let line = text
        .expose_secret()
        .split(['\r', '\n'])
        .next()
        .unwrap_or_default();
    SecretString::new(line.to_owned())
}

/// The database of an existing data dir (migrated to this build), or [`Invalid`] naming
/// `tradeguard init` when there is none. Never creates anything.
pub async fn open_store(dir: &Path) -> anyhow::Result<Store> {
    let db = dir.join(DB_FILE);
    if !db.is_file() {
        return Err(Invalid(format!(
            "no data dir at {} ({DB_FILE} not found); run `tradeguard init --data-dir {}` or pass the right --data-dir",
            dir.display(),
            dir.display()
        ))
        .into());
    }
    let store = Store::open_sqlite(&db)
        .await
        .with_context(|| format!("cannot open {}", db.display()))?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(store)
}

/// Vault events go to the data dir's audit log, as under `serve`. The log signs with the
/// gateway key, so it opens only once the vault is unlocked; until then the sink refuses every
/// event (unlocking emits none), so nothing can happen unrecorded.
#[derive(Default)]
pub struct AuditLogSink(OnceLock<(VaultAudit, AuditLog)>);

#[async_trait]
impl VaultEventSink for AuditLogSink {
    async fn record(&self, event: &VaultEvent) -> Result<(), SinkError> {
        match self.0.get() {
            Some((sink, _)) => sink.record(event).await,
            None => Err(SinkError {
                reason: "the audit log is not open (the vault is locked)".into(),
            }),
        }
    }
}

impl AuditLogSink {
    /// Opens the audit log of `store` with the unlocked vault's key and routes events to it.
    pub async fn open(&self, store: &Store, vault: &UnlockedVault) -> anyhow::Result<()> {
        let log = crate::serve::audit::open(store, vault).await?;
        let _ = self.0.set((VaultAudit(Arc::new(log.clone())), log));
        Ok(())
    }

    /// Records an event of the offline command itself (the log must be open).
    pub async fn record_event(
        &self,
        event: Result<tradeguard_audit::event::AuditEvent, tradeguard_audit::AuditError>,
    ) -> anyhow::Result<()> {
        let (_, log) = self
            .0
            .get()
            .context("the audit log is not open (the vault is locked)")?;
        crate::serve::audit::record(log, event).await
    }

    /// Signs a checkpoint over what the log holds, so an offline change is covered by one
    /// before the command exits (`serve` does the same on a timer).
    pub async fn checkpoint(&self) -> anyhow::Result<()> {
        if let Some((_, log)) = self.0.get() {
            log.checkpoint()
                .await
                .context("cannot sign an audit checkpoint")?;
        }
        Ok(())
    }
}

/// The locked vault of `store` (metadata and public keys; it records no events).
pub fn vault(store: Store) -> Vault {
    Vault::new(store, Arc::new(AuditLogSink::default()))
}

/// The vault of an existing data dir, unlocked with the user's passphrase, and the audit log
/// its events go to (checkpoint it when done).
pub async fn unlock(
    dir: &Path,
    passphrase: &PassphraseArg,
) -> anyhow::Result<(UnlockedVault, Arc<AuditLogSink>)> {
    let store = open_store(dir).await?;
    let secret = read_passphrase(passphrase, false)?;
    let sink = Arc::new(AuditLogSink::default());
    let vault = Vault::new(store.clone(), sink.clone())
        .unlock(&secret)
        .await?;
    sink.open(&store, &vault).await?;
    Ok((vault, sink))
}

/// Writes `secret` and a newline to `path`, a new file of mode 0600 (an existing file is
/// refused, never overwritten), synced before it returns.
pub fn create_secret_file(path: &Path, secret: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Invalid(format!("cannot create {} ({e})", path.display())))?;
    f.write_all(secret.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix milliseconds (UTC).
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
}

/// Runs an async handler on a fresh runtime.
pub fn block_on<F: std::future::Future>(f: F) -> anyhow::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(rt.block_on(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_table() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400_000, "2000-02-29T00:00:00Z"),
            (1_798_761_599_999, "2026-12-31T23:59:59Z"),
        ];
        for (i, (ms, want)) in cases.iter().enumerate() {
            assert_eq!(rfc3339(*ms), *want, "TC{} failed", i + 1);
        }
    }
}
