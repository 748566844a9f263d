//! `tradeguard doctor`: what the platform gives the gateway, one line per check, each saying
//! what to do when something is missing. Exit 0 when nothing fails (warnings allowed), 1 when a
//! check fails (a data dir others can read, say).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::Args;
use serde::Serialize;
use tradeguard_vault::harden::{self, Status};

/// Arguments of `tradeguard doctor`.
#[derive(Args)]
pub struct DoctorArgs {
    /// Data dir to inspect.
    #[arg(long, env = "TRADEGUARD_DATA", default_value = "tradeguard-data")]
    data_dir: PathBuf,
    /// Measure the clock offset against this HTTPS server's `Date` header (e.g. an exchange's
    /// API base URL). Without it the offset is not measured: there is no network by default.
    #[arg(long, value_name = "URL")]
    clock_url: Option<String>,
    /// Print the checks as JSON.
    #[arg(long)]
    json: bool,
}

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Ok,
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Debug, Serialize)]
struct Check {
    level: Level,
    name: &'static str,
    detail: String,
}

fn check(level: Level, name: &'static str, detail: impl Into<String>) -> Check {
    Check {
        level,
        name,
        detail: detail.into(),
    }
}

/// Runs every check and prints the report.
pub fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let mut checks = cpu_checks();
    checks.extend(hardening_checks());
    checks.push(clock_check(args.clock_url.as_deref()));
    checks.extend(data_dir_checks(&args.data_dir));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
    } else {
        for c in &checks {
            let tag = match c.level {
                Level::Ok => "ok  ",
                Level::Warn => "warn",
                Level::Fail => "FAIL",
            };
            println!("{tag}  {:<22} {}", c.name, c.detail);
        }
    }
    let failed = checks.iter().any(|c| c.level == Level::Fail);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// CPU features aws-lc-rs dispatches to at run time.
fn cpu_checks() -> Vec<Check> {
    cpu_features()
        .into_iter()
        .map(|(name, present, used_for)| {
            if present {
                check(
                    Level::Ok,
                    name,
                    format!("detected; aws-lc-rs uses it for {used_for}"),
                )
            } else {
                check(
                    Level::Warn,
                    name,
                    format!(
                        "not detected: {used_for} falls back to slower portable code; on a VM, \
                         expose the host CPU's features (e.g. QEMU `-cpu host`)"
                    ),
                )
            }
        })
        .collect()
}

#[cfg(target_arch = "x86_64")]
fn cpu_features() -> Vec<(&'static str, bool, &'static str)> {
    vec![
        (
            "AES-NI",
            std::arch::is_x86_feature_detected!("aes"),
            "AES-256-GCM",
        ),
        (
            "PCLMULQDQ",
            std::arch::is_x86_feature_detected!("pclmulqdq"),
            "GHASH in AES-GCM",
        ),
        (
            "AVX2",
            std::arch::is_x86_feature_detected!("avx2"),
            "ChaCha20, SHA-2 and X25519",
        ),
        (
            "SHA extensions",
            std::arch::is_x86_feature_detected!("sha"),
            "SHA-256",
        ),
    ]
}

#[cfg(target_arch = "aarch64")]
fn cpu_features() -> Vec<(&'static str, bool, &'static str)> {
    vec![
        (
            "AES (ARMv8)",
            std::arch::is_aarch64_feature_detected!("aes"),
            "AES-256-GCM",
        ),
        (
            "PMULL",
            std::arch::is_aarch64_feature_detected!("pmull"),
            "GHASH in AES-GCM",
        ),
        (
            "SHA-2 (ARMv8)",
            std::arch::is_aarch64_feature_detected!("sha2"),
            "SHA-256",
        ),
    ]
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn cpu_features() -> Vec<(&'static str, bool, &'static str)> {
    Vec::new()
}

/// Memory locking and core dumps, as the process would find them at `serve` start.
fn hardening_checks() -> Vec<Check> {
    let report = harden::probe();
    let memlock = match memlock_limit() {
        None => check(
            Level::Ok,
            "memory locking",
            "allowed (RLIMIT_MEMLOCK unlimited); `serve` locks secret pages in RAM at start",
        ),
        Some(kib) => check(
            Level::Warn,
            "memory locking",
            format!(
                "limited to {kib} KiB: secrets could reach swap; run with `ulimit -l unlimited` \
                 (systemd: LimitMEMLOCK=infinity) or grant CAP_IPC_LOCK"
            ),
        ),
    };
    let core = match &report.core_limit_zero {
        Status::On => check(Level::Ok, "core dumps", "off (RLIMIT_CORE 0)"),
        _ => check(
            Level::Warn,
            "core dumps",
            "allowed in this shell; `serve` turns them off at start (RLIMIT_CORE 0, not \
             dumpable); set `ulimit -c 0` to be sure for every tool",
        ),
    };
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").ok();
    let mut out = vec![memlock, core];
    if let Some(p) = pattern.filter(|p| p.starts_with('|')) {
        out.push(check(
            Level::Warn,
            "core handler",
            format!(
                "cores are piped to `{}`; the gateway opts out, but other tools' cores are kept",
                p.trim()
                    .trim_start_matches('|')
                    .split(' ')
                    .next()
                    .unwrap_or("?")
            ),
        ));
    }
    out
}

fn memlock_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Memlock)
        .current
        .map(|bytes| bytes / 1024)
}

/// The offset between this clock and a server's `Date` header (1 s resolution).
fn clock_check(url: Option<&str>) -> Check {
    const NAME: &str = "clock offset";
    let Some(url) = url else {
        return check(
            Level::Warn,
            NAME,
            "not measured; pass `--clock-url https://api.binance.com` (or your exchange) to \
             compare; exchanges refuse requests whose timestamps are off (Binance recvWindow)",
        );
    };
    match measure_offset(url) {
        Ok(offset) if offset.abs() <= 1.5 => check(
            Level::Ok,
            NAME,
            format!("{offset:+.1} s against {url} (within the 1 s resolution of `Date`)"),
        ),
        Ok(offset) => check(
            Level::Warn,
            NAME,
            format!(
                "{offset:+.1} s against {url}: synchronize the clock (chrony, systemd-timesyncd)"
            ),
        ),
        Err(e) => check(
            Level::Warn,
            NAME,
            format!("cannot measure against {url}: {e}"),
        ),
    }
}

fn measure_offset(url: &str) -> anyhow::Result<f64> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        let sent = SystemTime::now();
        let resp = client.head(url).send().await?;
        let rtt = sent.elapsed().unwrap_or_default();
        let date = resp
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| anyhow::anyhow!("the answer has no Date header"))?;
        let server = httpdate::parse_http_date(date)?;
        let midpoint = sent + rtt / 2;
        Ok(match server.duration_since(midpoint) {
            Ok(ahead) => ahead.as_secs_f64(),
            Err(behind) => -behind.duration().as_secs_f64(),
        })
    })
}

/// Ownership and modes of the data dir and the secrets in it.
fn data_dir_checks(dir: &Path) -> Vec<Check> {
    const NAME: &str = "data dir";
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(_) => {
            return vec![check(
                Level::Warn,
                NAME,
                format!(
                    "{} does not exist; create it with `tradeguard init`",
                    dir.display()
                ),
            )];
        }
    };
    let mut out = vec![mode_check(NAME, dir, &meta, 0o077, "chmod 700")];
    for (name, file) in [
        ("controller key", "controller.key"),
        ("database", "tradeguard.db"),
    ] {
        let path = dir.join(file);
        if let Ok(m) = std::fs::metadata(&path) {
            out.push(mode_check(name, &path, &m, 0o077, "chmod 600"));
        }
    }
    out
}

#[cfg(unix)]
fn mode_check(
    name: &'static str,
    path: &Path,
    meta: &std::fs::Metadata,
    forbidden: u32,
    fix: &str,
) -> Check {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode() & 0o777;
    let owner_is_me = meta.uid() == rustix::process::geteuid().as_raw();
    if mode & forbidden != 0 {
        check(
            Level::Fail,
            name,
            format!(
                "{} has mode {mode:o}: other users can reach it; run `{fix} {}`",
                path.display(),
                path.display()
            ),
        )
    } else if !owner_is_me {
        check(
            Level::Warn,
            name,
            format!(
                "{} belongs to another user; run the gateway as its owner",
                path.display()
            ),
        )
    } else {
        check(
            Level::Ok,
            name,
            format!("{} mode {mode:o}, owned by this user", path.display()),
        )
    }
}

#[cfg(not(unix))]
fn mode_check(
    name: &'static str,
    path: &Path,
    _meta: &std::fs::Metadata,
    _forbidden: u32,
    _fix: &str,
) -> Check {
    check(
        Level::Warn,
        name,
        format!(
            "{}: permissions not checked on this platform",
            path.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_data_dir_others_can_read_fails_and_says_how_to_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let checks = data_dir_checks(dir.path());
        assert_eq!(checks[0].level, Level::Fail);
        assert!(
            checks[0].detail.contains("chmod 700"),
            "{}",
            checks[0].detail
        );
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::write(dir.path().join("controller.key"), "k").unwrap();
        std::fs::set_permissions(
            dir.path().join("controller.key"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let checks = data_dir_checks(dir.path());
        assert_eq!(checks[0].level, Level::Ok);
        assert_eq!(checks[1].level, Level::Fail, "{:?}", checks[1]);
    }

    #[test]
    fn a_missing_data_dir_is_a_warning_naming_init() {
        let checks = data_dir_checks(Path::new("/nonexistent/tradeguard-data"));
        assert_eq!(checks[0].level, Level::Warn);
        assert!(checks[0].detail.contains("tradeguard init"));
    }

    /// A one-shot HTTP server on loopback whose `Date` is `skew` away from this clock.
    fn date_server(skew: Duration, ahead: bool) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let now = SystemTime::now();
            let at = if ahead { now + skew } else { now - skew };
            let resp = format!(
                "HTTP/1.1 200 OK\r\nDate: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                httpdate::fmt_http_date(at)
            );
            conn.write_all(resp.as_bytes()).unwrap();
        });
        url
    }

    #[test]
    fn clock_offset_is_measured_against_the_date_header() {
        let offset = measure_offset(&date_server(Duration::from_secs(30), true)).unwrap();
        assert!((28.0..=31.5).contains(&offset), "offset {offset}");
        let offset = measure_offset(&date_server(Duration::from_secs(30), false)).unwrap();
        assert!((-31.5..=-28.0).contains(&offset), "offset {offset}");
        let c = clock_check(Some(&date_server(Duration::from_secs(30), true)));
        assert_eq!(c.level, Level::Warn);
        assert!(c.detail.contains("synchronize"), "{}", c.detail);
    }

    #[test]
    fn every_cpu_check_says_what_it_is_for() {
        for c in cpu_checks() {
            assert!(
                c.detail.contains("AES") || c.detail.contains("SHA") || c.detail.contains("Cha")
            );
        }
    }
}
