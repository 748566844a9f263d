//! What the tests that run the `tradeguard` binary share: running a command, starting and
//! stopping `serve`, reading the exported audit log. Each test binary uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_tradeguard");
/// The vault passphrase of every test data dir.
pub const PASSPHRASE: &str = "correct horse battery staple";

/// Runs `tradeguard args` with `stdin`, without the caller's `TRADEGUARD_*` settings.
pub fn tg(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("TRADEGUARD_DATA")
        .env_remove("TRADEGUARD_PASSPHRASE")
        .env_remove("TRADEGUARD_ADDR")
        .env_remove("TRADEGUARD_KEY")
        .env_remove("TRADEGUARD_CERT")
        .env_remove("TRADEGUARD_ROUTING_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tradeguard");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("tradeguard output")
}

/// The stdout of a command that must have succeeded.
pub fn ok(out: &Output, what: &str) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}): {text}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The running gateway; killed if the test fails before its SIGTERM.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

/// Starts `serve` (its log appended to `log`) and waits up to a minute for its "listening on"
/// line; returns the server and its URL.
pub fn serve(config: &Path, dir: &Path, pass: &Path, log: &Path) -> (Server, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(config)
        .arg("--data-dir")
        .arg(dir)
        .arg("--passphrase-file")
        .arg(pass)
        .env_remove("TRADEGUARD_DATA")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .expect("log file"),
        )
        .spawn()
        .expect("start serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let server = Server(child);
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| {
            panic!(
                "serve did not start: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        });
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("https://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned();
    (server, url)
}

/// SIGTERM: a graceful stop, exit status 0.
pub fn stop(server: &mut Server, log: &Path) {
    let pid = server.0.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    let status = server.0.wait().unwrap();
    let stderr = std::fs::read_to_string(log).unwrap_or_default();
    assert!(status.success(), "serve exit {status}: {stderr}");
}

/// Every line of the data dir's audit log, exported to `out`.
pub fn exported(dir: &Path, out: &Path) -> Vec<Value> {
    let d = dir.to_str().unwrap();
    let o = out.to_str().unwrap();
    ok(
        &tg(&["audit", "export", "--data-dir", d, "--out", o], None),
        "export",
    );
    std::fs::read_to_string(out)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The event kind of an exported line ("" for the checkpoint line).
pub fn kind(v: &Value) -> &str {
    v.get("kind")
        .or_else(|| v.pointer("/entry/kind"))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Event kinds of the exported log, in order.
pub fn exported_kinds(dir: &Path, out: &Path) -> Vec<String> {
    exported(dir, out)
        .iter()
        .map(kind)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}
