//! What the tests that run the `tradeguard` binary share: running a command, starting and
//! stopping `serve`, reading the exported audit log. Each test binary uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
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

/// The exchange simulators, Kraken with its Pro tier's limits.
pub async fn kraken_sim() -> tradeguard_sim::Sim {
    tradeguard_sim::start(tradeguard_sim::SimConfig {
        kraken_limits: tradeguard_sim::KrakenLimits::pro(),
        ..tradeguard_sim::SimConfig::default()
    })
    .await
    .expect("start the simulators")
}

/// A data dir (`<tmp>/data`, passphrase in `<tmp>/passphrase`) holding one simulated Kraken
/// account with 100,000 USD, imported for profile `core`, and a `serve` config for it
/// (`<tmp>/serve.toml`: polls every 5 s, a checkpoint every second, profile `core` targeting
/// BTC, ETH and SOL) with `extra` appended; the serve log goes to `<tmp>/serve.log`.
pub struct KrakenGateway {
    /// The data dir.
    pub dir: PathBuf,
    /// The passphrase file.
    pub pass: PathBuf,
    /// The config file.
    pub config: PathBuf,
    /// Where `serve` logs.
    pub log: PathBuf,
    /// The simulated account.
    pub account: tradeguard_sim::AccountId,
}

impl KrakenGateway {
    /// Sets it up against `kraken` (see the type).
    pub fn new(tmp: &Path, kraken: &tradeguard_sim::VenueHandle, extra: &str) -> Self {
        use rust_decimal::Decimal;
        use tradeguard_sim::{KeySpec, Venue};

        let dir = tmp.join("data");
        let d = dir.to_str().unwrap();
        let pass = tmp.join("passphrase");
        std::fs::write(&pass, PASSPHRASE).unwrap();
        let p = pass.to_str().unwrap();
        ok(
            &tg(&["init", "--data-dir", d, "--passphrase-file", p], None),
            "init",
        );
        let account = kraken.open_account(&[("USD".to_owned(), Decimal::from(100_000))]);
        let cred = kraken
            .create_key(account, &KeySpec::trading(Venue::Kraken))
            .unwrap();
        let doc = serde_json::json!({"exchange": "kraken", "api_key": cred.api_key,
            "api_secret": cred.api_secret.expose_secret(), "passphrase": null, "label": "sim"});
        let envelope = ok(
            &tg(&["seal", "--recipient", d], Some(&doc.to_string())),
            "seal",
        );
        let env_file = tmp.join("kraken.envelope");
        std::fs::write(&env_file, envelope).unwrap();
        let import = [
            "credentials",
            "--data-dir",
            d,
            "import",
            "--envelope",
            env_file.to_str().unwrap(),
            "--profile",
            "core",
            "--passphrase-file",
            p,
        ];
        let imported = ok(&tg(&import, None), "import");
        let id = imported.split_whitespace().nth(1).expect("credential id");
        let config = tmp.join("serve.toml");
        std::fs::write(
            &config,
            format!(
                r#"
[server]
listen = "127.0.0.1:0"
shutdown_grace_secs = 2
[polling]
interval_secs = 5
[audit]
checkpoint_secs = 1
[accounts.kraken-main]
credential = "{id}"
exchange = "kraken"
base_url = "{base}"
timeout = 5000
kraken_tier = "pro"
[profiles.core]
exchange = "kraken"
type = "moderate"
credential = "kraken-main"
quote_asset = "USD"
[profiles.core.target_allocation]
BTC = 0.20
ETH = 0.20
SOL = 0.10
{extra}
"#,
                base = kraken.base_url()
            ),
        )
        .unwrap();
        Self {
            dir,
            pass,
            config,
            log: tmp.join("serve.log"),
            account,
        }
    }

    /// Starts `serve` on it.
    pub fn serve(&self) -> (Server, String) {
        serve(&self.config, &self.dir, &self.pass, &self.log)
    }

    /// The data of the signed report of the gateway at `url`, fetched with `tradeguard report`
    /// as the controller (into `<tmp>/report.json`); `None` while it cannot be had.
    pub fn report(&self, url: &str) -> Option<Value> {
        let file = self.dir.parent()?.join("report.json");
        let (d, f) = (self.dir.to_str()?, file.to_str()?);
        let out = tg(&["report", "--url", url, "--data-dir", d, "--out", f], None);
        if !out.status.success() {
            return None;
        }
        let report: Value = serde_json::from_slice(&std::fs::read(&file).ok()?).ok()?;
        Some(report["report"]["data"].clone())
    }

    /// A client signing as the controller, trusting the data dir's certificate.
    pub fn client(&self, url: &str) -> tradeguard_client::Client {
        use tradeguard_client::{Client, ClientConfig, PrincipalKey, Trust};
        let trust = Trust::pinned_file(&self.dir.join("tls/cert.pem")).unwrap();
        let key = PrincipalKey::load_pem_file(&self.dir.join("controller.key")).unwrap();
        Client::new(&ClientConfig::new(url, trust), key).unwrap()
    }
}
