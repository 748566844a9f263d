//! `tradeguard restore FILE --data-dir DIR`: reads the archive once to check it (every entry
//! a regular file at a safe path, listed in the manifest with the SHA-256 it has, nothing
//! listed missing) without writing anything; then unpacks it into a new owner-only staging
//! directory (files 0600, directories 0700, as `init` makes them), checking every hash again,
//! and moves it to DIR (see [`Staging`]). DIR must not exist or be empty; a failed restore
//! leaves nothing behind.

use std::collections::BTreeMap;
use std::fs::{DirBuilder, File};
use std::io::{BufReader, Read};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::archive::{
    self, DATA_PREFIX, FileEntry, Hashing, MANIFEST_ENTRY, MAX_MANIFEST, Manifest, Progress,
};
use crate::cmd::datadir::{self, DB_FILE, Invalid};

/// Arguments of `tradeguard restore`.
#[derive(Args)]
pub struct RestoreArgs {
    /// The archive `tradeguard backup` wrote.
    #[arg(value_name = "FILE")]
    archive: PathBuf,
    #[command(flatten)]
    dir: datadir::DataDirArg,
}

/// Runs `tradeguard restore`.
pub fn run(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    datadir::finish(restore(&args))
}

fn restore(args: &RestoreArgs) -> anyhow::Result<()> {
    let target = &args.dir.data_dir;
    check_free(target)?;
    let total = std::fs::metadata(&args.archive)
        .map_err(|e| Invalid(format!("cannot read {} ({e})", args.archive.display())))?
        .len();
    let mut progress = Progress::new("restore (checking)", total);
    let manifest = check(&args.archive, &mut progress)?;
    progress.restart("restore (writing)");
    let staging = Staging::new(target)?;
    unpack(&args.archive, &manifest, &staging.path, &mut progress)?;
    staging.commit(target)?;
    println!(
        "restored {} files into {} (backup of {} taken at {}); the vault unlocks with the passphrase it had then",
        manifest.files.len(),
        target.display(),
        manifest.source.data_dir,
        manifest.created
    );
    Ok(())
}

/// Refuses a target that exists and is not an empty directory.
fn check_free(dir: &Path) -> anyhow::Result<()> {
    match std::fs::read_dir(dir).map(|mut entries| entries.next().is_none()) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Invalid(format!(
            "{} is not empty; restore never overwrites a data dir, pick a new --data-dir",
            dir.display()
        ))
        .into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Invalid(format!("cannot use {} as a data dir ({e})", dir.display())).into()),
    }
}

/// An archive error: the archive is at fault, so exit code 2 and a line naming it.
fn refuse(archive: &Path, what: String) -> anyhow::Error {
    Invalid(format!(
        "{} refused: {what}; nothing was written",
        archive.display()
    ))
    .into()
}

/// Opens the archive's entries.
fn open(path: &Path) -> anyhow::Result<tar::Archive<BufReader<File>>> {
    let file =
        File::open(path).map_err(|e| Invalid(format!("cannot read {} ({e})", path.display())))?;
    Ok(tar::Archive::new(BufReader::new(file)))
}

/// A data entry's path relative to the data dir, or why it is refused.
fn data_path(entry: &tar::Entry<'_, impl Read>) -> Result<String, String> {
    let raw = entry.path_bytes();
    let name = String::from_utf8_lossy(&raw).into_owned();
    if !entry.header().entry_type().is_file() {
        return Err(format!("entry `{name}` is not a regular file"));
    }
    if name == MANIFEST_ENTRY {
        return Ok(name);
    }
    let rel = name
        .strip_prefix(DATA_PREFIX)
        .ok_or_else(|| format!("entry `{name}` is outside `{DATA_PREFIX}`"))?;
    archive::check_relative(rel).map_err(|why| format!("entry `{name}`: {why}"))?;
    Ok(rel.to_owned())
}

/// The first pass: every entry hashed and compared with the manifest; writes nothing.
fn check(path: &Path, progress: &mut Progress) -> anyhow::Result<Manifest> {
    let mut tar = open(path)?;
    let unreadable = |e: std::io::Error| refuse(path, unreadable_reason(&e));
    let mut seen: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut manifest = None;
    for entry in tar.entries().map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let rel = data_path(&entry).map_err(|why| refuse(path, why))?;
        if rel == MANIFEST_ENTRY && manifest.is_none() {
            manifest = Some(read_manifest(entry).map_err(|why| refuse(path, why))?);
            continue;
        }
        if seen.contains_key(&rel) || rel == MANIFEST_ENTRY {
            return Err(refuse(path, format!("`{rel}` appears twice")));
        }
        let mut reader = Hashing::new(entry, progress);
        std::io::copy(&mut reader, &mut std::io::sink())
            .map_err(|e| refuse(path, format!("`{rel}` cannot be read ({e})")))?;
        seen.insert(rel, reader.finish());
    }
    let manifest = manifest.ok_or_else(|| refuse(path, format!("it has no {MANIFEST_ENTRY}")))?;
    compare(&manifest, &seen).map_err(|why| refuse(path, why))?;
    Ok(manifest)
}

/// Why the archive cannot be read. The tar parser's own messages quote header bytes, which
/// in a damaged or hostile file are anything at all: they are not shown.
fn unreadable_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::Other | std::io::ErrorKind::InvalidData => {
            "not a tar archive, or a damaged one (a header is unreadable or the file is cut short)"
                .into()
        }
        _ => format!("cannot read it ({e})"),
    }
}

fn read_manifest(entry: tar::Entry<'_, impl Read>) -> Result<Manifest, String> {
    let mut bytes = Vec::new();
    entry
        .take(MAX_MANIFEST + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{MANIFEST_ENTRY} cannot be read ({e})"))?;
    if bytes.len() as u64 > MAX_MANIFEST {
        return Err(format!(
            "{MANIFEST_ENTRY} is larger than {MAX_MANIFEST} bytes"
        ));
    }
    let m: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{MANIFEST_ENTRY} is not a backup manifest ({e})"))?;
    if m.format != archive::FORMAT || m.version != archive::VERSION {
        return Err(format!(
            "it is `{}` version {}, this build reads `{}` version {} (use the tradeguard that wrote it)",
            m.format,
            m.version,
            archive::FORMAT,
            archive::VERSION
        ));
    }
    Ok(m)
}

/// Checks the manifest against what the archive holds.
fn compare(m: &Manifest, seen: &BTreeMap<String, (u64, String)>) -> Result<(), String> {
    if !m.files.iter().any(|f| f.path == DB_FILE) {
        return Err(format!("its manifest lists no {DB_FILE}"));
    }
    for f in &m.files {
        archive::check_relative(&f.path)
            .map_err(|why| format!("manifest entry `{}`: {why}", f.path))?;
        match seen.get(&f.path) {
            None => {
                return Err(format!(
                    "`{}` is in the manifest but not in the archive",
                    f.path
                ));
            }
            Some((size, sha)) if *size != f.size || *sha != f.sha256 => {
                return Err(format!(
                    "`{}` does not match its SHA-256 in the manifest (the archive is damaged or was altered)",
                    f.path
                ));
            }
            Some(_) => {}
        }
    }
    let listed: std::collections::BTreeSet<&str> =
        m.files.iter().map(|f| f.path.as_str()).collect();
    match seen.keys().find(|k| !listed.contains(k.as_str())) {
        Some(extra) => Err(format!(
            "`{extra}` is in the archive but not in its manifest"
        )),
        None if listed.len() != m.files.len() => Err("its manifest lists a file twice".into()),
        None => Ok(()),
    }
}

/// The second pass: writes every data entry under `into`, hashing again (the archive could
/// have changed since the first pass).
fn unpack(
    archive: &Path,
    m: &Manifest,
    into: &Path,
    progress: &mut Progress,
) -> anyhow::Result<()> {
    let want: BTreeMap<&str, &FileEntry> = m.files.iter().map(|f| (f.path.as_str(), f)).collect();
    let mut tar = open(archive)?;
    for entry in tar.entries()? {
        let entry = entry?;
        let rel = data_path(&entry).map_err(|why| refuse(archive, why))?;
        let Some(expected) = want.get(rel.as_str()) else {
            continue; // the manifest (checked in the first pass)
        };
        let path = into.join(&rel);
        if let Some(parent) = path.parent() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let mut out = super::create_private(&path)?;
        let mut reader = Hashing::new(entry, progress);
        std::io::copy(&mut reader, &mut out)
            .with_context(|| format!("cannot write {}", path.display()))?;
        out.sync_all()
            .with_context(|| format!("cannot sync {}", path.display()))?;
        let (size, sha) = reader.finish();
        anyhow::ensure!(
            size == expected.size && sha == expected.sha256,
            "{} changed while it was restored; nothing was kept, run restore again",
            archive.display()
        );
    }
    Ok(())
}

/// The owner-only directory the archive is unpacked into; removed on every path but success.
/// For an absent target it sits beside it and is renamed to it (atomic). An existing empty
/// target may be a mount point, which a rename cannot replace: the staging directory then
/// sits inside it, and its files move up one by one, the database last, so an interrupted
/// move leaves no database (nothing starts on it) and a `.restoring-*` directory (the next
/// restore refuses the non-empty target).
struct Staging {
    path: PathBuf,
    inside: bool,
}

impl Staging {
    fn new(target: &Path) -> anyhow::Result<Self> {
        let pid = std::process::id();
        let inside = target.is_dir();
        let path = if inside {
            target.join(format!(".restoring-{pid}"))
        } else {
            let name = target.file_name().ok_or_else(|| {
                Invalid(format!(
                    "--data-dir {} has no directory name",
                    target.display()
                ))
            })?;
            let path =
                target.with_file_name(format!(".{}.restoring-{pid}", name.to_string_lossy()));
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            path
        };
        DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Self { path, inside })
    }

    /// Moves the restored files to `target` and syncs the directory that changed.
    fn commit(self, target: &Path) -> anyhow::Result<()> {
        let synced = if self.inside {
            self.move_up(target)?;
            target.to_owned()
        } else {
            std::fs::rename(&self.path, target).map_err(|e| {
                Invalid(format!(
                    "cannot move the restored files to {} ({e}); it must be empty or absent",
                    target.display()
                ))
            })?;
            let parent = target.parent().filter(|p| !p.as_os_str().is_empty());
            parent.unwrap_or(Path::new(".")).to_owned()
        };
        File::open(&synced)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("cannot sync {}", synced.display()))
    }

    /// Moves every entry of the staging directory into `target` (the database last), removes
    /// the staging directory and makes `target` owner-only.
    fn move_up(&self, target: &Path) -> anyhow::Result<()> {
        let mut names = std::fs::read_dir(&self.path)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<std::io::Result<Vec<_>>>()?;
        names.sort_by_key(|n| n == DB_FILE);
        for name in names {
            let to = target.join(&name);
            anyhow::ensure!(
                !to.exists(),
                "{} appeared while restoring; restore into an empty --data-dir",
                to.display()
            );
            std::fs::rename(self.path.join(&name), &to)
                .with_context(|| format!("cannot move the restored file to {}", to.display()))?;
        }
        std::fs::remove_dir(&self.path)
            .with_context(|| format!("cannot remove {}", self.path.display()))?;
        std::fs::set_permissions(target, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .with_context(|| format!("cannot set {} to mode 0700", target.display()))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
