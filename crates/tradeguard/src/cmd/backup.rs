//! `tradeguard backup --out FILE` and `tradeguard restore FILE --data-dir DIR`.
//!
//! Backup works while the gateway runs: the SQLite database is copied with `VACUUM INTO` (one
//! read transaction, so the copy is consistent and the gateway keeps writing), the other files
//! of the data dir (config, controller key, TLS certificate and key, ...) are read as they
//! are. Nothing is decrypted: the vault's credentials stay sealed under the passphrase. The
//! archive is written to a temporary file beside `FILE` and renamed into place once synced,
//! so a crash never leaves a partial archive under the final name. See [`archive`] for the
//! format and [`restore`] for the checks made before anything is written.
//!
//! A data dir whose `[store] url` points at PostgreSQL is refused: its state lives in the
//! database server, which `pg_dump` snapshots in one transaction.

mod archive;
mod restore;

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use tradeguard_store::{Backend, Store};

use self::archive::{DATA_PREFIX, FileEntry, Hashing, MANIFEST_ENTRY, Manifest, Progress};
use super::datadir::{self, CONFIG_FILE, DB_FILE, Invalid};

pub use self::restore::{RestoreArgs, run as run_restore};

/// Arguments of `tradeguard backup`.
#[derive(Args)]
pub struct BackupArgs {
    #[command(flatten)]
    dir: datadir::DataDirArg,
    /// The archive to write (a tar; replaced atomically if it exists). Not inside the data dir.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The configuration the gateway runs with, to check where its database is. Default:
    /// `<data dir>/tradeguard.toml`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Runs `tradeguard backup`.
pub fn run(args: BackupArgs) -> anyhow::Result<ExitCode> {
    datadir::finish(datadir::block_on(backup(&args))?)
}

async fn backup(args: &BackupArgs) -> anyhow::Result<()> {
    let dir = &args.dir.data_dir;
    let db = dir.join(DB_FILE);
    if !db.is_file() {
        return Err(Invalid(format!(
            "no data dir at {} ({DB_FILE} not found); pass the --data-dir the gateway uses",
            dir.display()
        ))
        .into());
    }
    check_sqlite(&args.config.clone().unwrap_or_else(|| dir.join(CONFIG_FILE)))?;
    check_out(dir, &args.out)?;
    let files = collect(dir)?;
    let temps = Temps::new(&args.out)?;
    snapshot(&db, &temps.snapshot).await?;
    let manifest = write_archive(dir, &files, &temps)?;
    temps.commit(&args.out)?;
    let bytes: u64 = manifest.files.iter().map(|f| f.size).sum();
    println!(
        "backup of {} written to {}: {} files, {bytes} bytes, database snapshot by SQLite VACUUM INTO at {}",
        dir.display(),
        args.out.display(),
        manifest.files.len(),
        manifest.created
    );
    Ok(())
}

/// Refuses a configuration whose database is not the data dir's SQLite file.
fn check_sqlite(config: &Path) -> anyhow::Result<()> {
    let text = match std::fs::read_to_string(config) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Invalid(format!("cannot read {} ({e})", config.display())).into()),
    };
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| Invalid(format!("{} is not valid TOML ({e})", config.display())))?;
    let url = table
        .get("store")
        .and_then(|s| s.get("url"))
        .and_then(|u| u.as_str());
    match url.map(Backend::from_url) {
        None => Ok(()),
        Some(Ok(Backend::Postgres)) => Err(Invalid(format!(
            "{} sets [store] url to PostgreSQL: the gateway's state lives in that database, which tradeguard does not archive; snapshot it with `pg_dump --format=custom` (one consistent transaction, restore with `pg_restore`) and copy the data dir's files beside it",
            config.display()
        ))
        .into()),
        Some(_) => Err(Invalid(format!(
            "{} sets [store] url to a database outside the data dir; backup archives the data dir's own {DB_FILE} only",
            config.display()
        ))
        .into()),
    }
}

/// Refuses an output inside the data dir (the backup would archive itself).
fn check_out(dir: &Path, out: &Path) -> anyhow::Result<()> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let parent = parent.canonicalize().map_err(|e| {
        Invalid(format!(
            "cannot write --out {}: its directory is unusable ({e})",
            out.display()
        ))
    })?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    if parent.starts_with(&dir) {
        return Err(Invalid(format!(
            "--out {} is inside the data dir; write the backup somewhere else",
            out.display()
        ))
        .into());
    }
    if out.file_name().is_none() || out.is_dir() {
        return Err(Invalid(format!("--out {} is not a file name", out.display())).into());
    }
    Ok(())
}

/// The data dir's files other than the live database and its journals, relative, sorted.
/// Symlinked files are followed; a symlinked directory is refused (it could loop).
fn collect(dir: &Path) -> anyhow::Result<Vec<String>> {
    let skip = ["", "-wal", "-shm", "-journal"].map(|s| format!("{DB_FILE}{s}"));
    let mut found = Vec::new();
    let mut pending = vec![String::new()];
    while let Some(rel) = pending.pop() {
        let here = dir.join(&rel);
        let entries =
            std::fs::read_dir(&here).with_context(|| format!("cannot list {}", here.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", here.display()))?;
            let name = entry.file_name().into_string().map_err(|_| {
                Invalid(format!(
                    "{} holds a file whose name is not UTF-8; rename or remove it",
                    here.display()
                ))
            })?;
            let path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(path);
            } else if rel.is_empty() && skip.contains(&path) {
                continue;
            } else if dir.join(&path).is_file() {
                found.push(path);
            } else {
                return Err(Invalid(format!(
                    "{} is neither a file nor a directory (a symlinked directory, a socket?); move it out of the data dir",
                    dir.join(&path).display()
                ))
                .into());
            }
        }
    }
    found.sort();
    Ok(found)
}

/// `VACUUM INTO` the (empty, owner-only) file `into`, without migrating anything.
async fn snapshot(db: &Path, into: &Path) -> anyhow::Result<()> {
    let store = Store::open_sqlite(db)
        .await
        .with_context(|| format!("cannot open {}", db.display()))?;
    let done = store
        .snapshot_to(into)
        .await
        .context("cannot snapshot the database");
    store.close().await;
    done
}

/// Writes the tar: the snapshot as `data/tradeguard.db`, the other files, the manifest last.
fn write_archive(dir: &Path, files: &[String], temps: &Temps) -> anyhow::Result<Manifest> {
    let created_ms = now_ms();
    let mut sources = vec![(DB_FILE.to_owned(), temps.snapshot.clone())];
    sources.extend(files.iter().map(|f| (f.clone(), dir.join(f))));
    let mut total = 0;
    for (_, path) in &sources {
        total += std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    }
    let mut progress = Progress::new("backup", total);
    let out = temps.archive_file()?;
    let mut tar = tar::Builder::new(BufWriter::new(out));
    let mut entries = Vec::with_capacity(sources.len());
    for (rel, path) in &sources {
        entries.push(append_file(&mut tar, rel, path, created_ms, &mut progress)?);
    }
    let manifest = Manifest {
        format: archive::FORMAT.into(),
        version: archive::VERSION,
        created_ms,
        created: datadir::rfc3339(created_ms),
        tradeguard_version: env!("CARGO_PKG_VERSION").into(),
        source: archive::Source {
            data_dir: dir.display().to_string(),
            database: "sqlite VACUUM INTO".into(),
        },
        files: entries,
    };
    let json = serde_json::to_vec_pretty(&manifest)?;
    let mut header = header(json.len() as u64, created_ms);
    tar.append_data(&mut header, MANIFEST_ENTRY, &json[..])
        .context("cannot write the backup archive")?;
    let mut writer = tar
        .into_inner()
        .context("cannot write the backup archive")?;
    writer.flush().context("cannot write the backup archive")?;
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all().context("cannot sync the backup archive")?;
    Ok(manifest)
}

/// Appends one file, hashing exactly the bytes archived; refuses a file that changed size
/// while it was read.
fn append_file(
    tar: &mut tar::Builder<BufWriter<File>>,
    rel: &str,
    path: &Path,
    created_ms: i64,
    progress: &mut Progress,
) -> anyhow::Result<FileEntry> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let size = file.metadata()?.len();
    let mut reader = Hashing::new(std::io::Read::take(file, size), progress);
    let mut header = header(size, created_ms);
    tar.append_data(&mut header, format!("{DATA_PREFIX}{rel}"), &mut reader)
        .with_context(|| format!("cannot archive {}", path.display()))?;
    let (read, sha256) = reader.finish();
    anyhow::ensure!(
        read == size,
        "{} changed while being read; run backup again",
        path.display()
    );
    Ok(FileEntry {
        path: rel.to_owned(),
        size,
        sha256,
    })
}

/// A tar header for an owner-only regular file.
fn header(size: u64, created_ms: i64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(size);
    h.set_mode(0o600);
    h.set_mtime(u64::try_from(created_ms / 1000).unwrap_or(0));
    h
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The archive's and the snapshot's temporary files beside `--out` (owner-only); removed
/// on every path but success, where the archive is renamed to its final name.
struct Temps {
    archive: PathBuf,
    snapshot: PathBuf,
}

impl Temps {
    fn new(out: &Path) -> anyhow::Result<Self> {
        let name = out.file_name().unwrap_or_default().to_string_lossy();
        let pid = std::process::id();
        let at = |suffix: &str| out.with_file_name(format!(".{name}.{suffix}-{pid}"));
        let temps = Self {
            archive: at("partial"),
            snapshot: at("db-snapshot"),
        };
        create_private(&temps.snapshot)?;
        Ok(temps)
    }

    fn archive_file(&self) -> anyhow::Result<File> {
        create_private(&self.archive)
    }

    /// Renames the finished archive to `out` and syncs the directory entry.
    fn commit(&self, out: &Path) -> anyhow::Result<()> {
        std::fs::rename(&self.archive, out)
            .with_context(|| format!("cannot rename the archive to {}", out.display()))?;
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
        File::open(parent.unwrap_or(Path::new(".")))
            .and_then(|d| d.sync_all())
            .with_context(|| format!("cannot sync the directory of {}", out.display()))
    }
}

impl Drop for Temps {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.archive);
        let _ = std::fs::remove_file(&self.snapshot);
    }
}

/// Creates a new owner-only (0600) file that must not exist yet.
fn create_private(path: &Path) -> anyhow::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}
