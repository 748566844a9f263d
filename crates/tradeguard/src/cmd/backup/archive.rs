//! The backup archive's format: a tar holding the data dir's files under `data/` (the
//! database as a consistent snapshot) and, last, `manifest.json`: format version, creation
//! time, where the snapshot came from, and every file's size and SHA-256.
//!
//! The manifest catches damage (a truncated copy, a flipped bit), not a deliberate edit: whoever
//! can rewrite the archive can rewrite its manifest too. Keep archives as safe as the data dir
//! itself (it holds the controller's private key; the vault's secrets stay sealed under the
//! passphrase).

use std::io::{self, Read};

use aws_lc_rs::digest;
use serde::{Deserialize, Serialize};

use crate::cmd::datadir::DB_FILE;

/// The tar entry holding the manifest.
pub const MANIFEST_ENTRY: &str = "manifest.json";
/// The prefix of every data dir file's tar entry.
pub const DATA_PREFIX: &str = "data/";
/// `format` of a tradeguard backup manifest.
pub const FORMAT: &str = "tradeguard-backup";
/// The manifest version this build writes and reads.
pub const VERSION: u32 = 1;
/// The largest manifest restore reads (a data dir has a handful of files).
pub const MAX_MANIFEST: u64 = 16 << 20;

/// What an archive says about itself.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// When the snapshot was taken (Unix milliseconds).
    pub created_ms: i64,
    /// The same time, RFC 3339 (UTC), for people.
    pub created: String,
    /// The tradeguard version that wrote the archive.
    pub tradeguard_version: String,
    /// Where the files came from.
    pub source: Source,
    /// Every file under `data/`, in archive order.
    pub files: Vec<FileEntry>,
}

/// Where a backup's files came from.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The data dir, as given on the command line.
    pub data_dir: String,
    /// How the database was copied (`sqlite VACUUM INTO`).
    pub database: String,
}

/// One file of the data dir.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Path relative to the data dir, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
}

/// Checks a data dir path from an archive: relative, `/`-separated, no empty, `.` or `..`
/// component, and not a SQLite journal (a foreign `-wal` beside the restored database would
/// change what it holds). Returns the reason it is refused.
pub fn check_relative(path: &str) -> Result<(), &'static str> {
    if path.is_empty() || path.len() > 1024 {
        return Err("its path is empty or longer than 1024 bytes");
    }
    if path.starts_with('/') || path.contains('\\') || path.contains('\0') {
        return Err("its path is absolute or holds a backslash or NUL");
    }
    if path
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err("its path has an empty, `.` or `..` component (path traversal)");
    }
    let journals = ["-wal", "-shm", "-journal"].map(|s| format!("{DB_FILE}{s}"));
    if journals.iter().any(|j| j == path) {
        return Err("it is a SQLite journal, which a backup never holds");
    }
    Ok(())
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A reader that hashes (SHA-256) and counts what passes through it, and reports progress.
pub struct Hashing<'p, R> {
    inner: R,
    ctx: digest::Context,
    read: u64,
    progress: &'p mut Progress,
}

impl<'p, R: Read> Hashing<'p, R> {
    /// Wraps `inner`.
    pub fn new(inner: R, progress: &'p mut Progress) -> Self {
        Self {
            inner,
            ctx: digest::Context::new(&digest::SHA256),
            read: 0,
            progress,
        }
    }

    /// Bytes read and their SHA-256 (hex).
    pub fn finish(self) -> (u64, String) {
        (self.read, hex(self.ctx.finish().as_ref()))
    }
}

impl<R: Read> Read for Hashing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.ctx.update(&buf[..n]);
        self.read += n as u64;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// Progress lines on stderr for large data dirs: one every [`Progress::STEP`] bytes, none at
/// all when the whole job is smaller than that.
pub struct Progress {
    what: &'static str,
    total: u64,
    done: u64,
    next: u64,
}

impl Progress {
    /// Bytes between two progress lines.
    pub const STEP: u64 = 64 << 20;

    /// Progress of `what` (`backup`, `restore`) over `total` bytes.
    pub fn new(what: &'static str, total: u64) -> Self {
        Self {
            what,
            total,
            done: 0,
            next: Self::STEP,
        }
    }

    /// Starts another pass over the same bytes (restore reads the archive twice).
    pub fn restart(&mut self, what: &'static str) {
        *self = Self::new(what, self.total);
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        if self.total >= Self::STEP && self.done >= self.next {
            self.next = self.done + Self::STEP;
            eprintln!(
                "{}: {} of {} MiB",
                self.what,
                self.done >> 20,
                self.total >> 20
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_path_rules() {
        let cases = [
            ("tradeguard.db", true),
            ("tls/cert.pem", true),
            ("demo-keys/trader-1.key", true),
            ("", false),
            ("/etc/passwd", false),
            ("../outside", false),
            ("tls/../../outside", false),
            ("tls//cert.pem", false),
            ("./tradeguard.db", false),
            ("tls/", false),
            ("a\\b", false),
            ("tradeguard.db-wal", false),
            ("tradeguard.db-shm", false),
            ("tradeguard.db-journal", false),
        ];
        for (i, (path, ok)) in cases.iter().enumerate() {
            assert_eq!(
                check_relative(path).is_ok(),
                *ok,
                "TC{} failed: {path}",
                i + 1
            );
        }
    }

    #[test]
    fn hashing_reader_hashes_what_it_reads() {
        let mut progress = Progress::new("test", 3);
        let mut r = Hashing::new(&b"abc"[..], &mut progress);
        io::copy(&mut r, &mut io::sink()).unwrap();
        let (n, sum) = r.finish();
        assert_eq!(n, 3);
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            sum,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
