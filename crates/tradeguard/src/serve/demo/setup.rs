//! The demo's setup, done the way a user would: `tradeguard init`, `tradeguard seal` and
//! `tradeguard credentials import` run as commands of this very binary; the principals (two
//! traders, three resume approvers and the controller) are registered by the operator before
//! the first start, each registration written to the audit log.

use std::collections::BTreeMap;
use std::fs::DirBuilder;
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use serde_json::json;
use tradeguard_audit::event::AuditEvent;
use tradeguard_crypto::did::encode_ed25519_did;
use tradeguard_crypto::secret::SecretString;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_gateway::principal::{Directory, PrincipalRecord};
use tradeguard_gateway::scope::{Scope, ScopeSet};
use tradeguard_sim::{Sim, Venue};
use tradeguard_vault::{TracingSink, Vault};

use crate::cmd::datadir::{self, PASSPHRASE_ENV};

/// One simulated account the demo trades on.
pub struct DemoAccount {
    /// `[accounts.<name>]`.
    pub name: &'static str,
    /// The simulated venue.
    pub venue: Venue,
    /// Its profile.
    pub profile: &'static str,
    /// The profile's quote asset.
    pub quote: &'static str,
    /// Profile type.
    pub kind: &'static str,
    /// Which trader runs it (0 or 1).
    pub trader: usize,
}

/// The three accounts and their profiles.
pub const ACCOUNTS: [DemoAccount; 3] = [
    DemoAccount {
        name: "binance-main",
        venue: Venue::Binance,
        profile: "core_binance",
        quote: "USDT",
        kind: "moderate",
        trader: 0,
    },
    DemoAccount {
        name: "coinbase-main",
        venue: Venue::Coinbase,
        profile: "growth_coinbase",
        quote: "USD",
        kind: "aggressive",
        trader: 0,
    },
    DemoAccount {
        name: "kraken-main",
        venue: Venue::Kraken,
        profile: "steady_kraken",
        quote: "USD",
        kind: "conservative",
        trader: 1,
    },
];

/// A principal the demo made: its key and `did:key`.
pub struct DemoKey {
    /// Name (`trader-1`, `approver-2`, ...).
    pub name: String,
    /// The private key.
    pub key: Ed25519SigningKey,
    /// Its `did:key`.
    pub did: String,
}

impl DemoKey {
    fn generate(name: &str) -> anyhow::Result<Self> {
        let key = Ed25519SigningKey::generate()?;
        let did = encode_ed25519_did(&key.verifying_key());
        Ok(Self {
            name: name.into(),
            key,
            did,
        })
    }
}

/// Runs this binary with `args` (passphrase in the environment, `stdin` piped in) and returns
/// its standard output; a failure names the command and its error output.
fn tg(args: &[&str], passphrase: &SecretString, stdin: Option<&str>) -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("cannot find the tradeguard executable")?;
    let mut child = Command::new(exe)
        .args(args)
        .env(PASSPHRASE_ENV, passphrase.expose_secret()) // the demo's throwaway passphrase
        .env_remove("TRADEGUARD_DATA")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run `tradeguard {}`", args[0]))?;
    let mut input = child.stdin.take().context("stdin")?;
    if let Some(text) = stdin {
        input.write_all(text.as_bytes())?;
    }
    drop(input);
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "`tradeguard {}` failed: {}",
            args[0],
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `tradeguard init` on `dir`.
pub fn init(dir: &Path, passphrase: &SecretString) -> anyhow::Result<()> {
    let d = dir.to_str().context("the data dir path is not UTF-8")?;
    tg(&["init", "--data-dir", d], passphrase, None).map(drop)
}

/// Seals each simulated account's key to the gateway (`tradeguard seal`) and imports it
/// (`tradeguard credentials import`); returns the credential id per account.
pub fn import_credentials(
    dir: &Path,
    passphrase: &SecretString,
    sim: &Sim,
) -> anyhow::Result<BTreeMap<&'static str, String>> {
    let d = dir.to_str().context("the data dir path is not UTF-8")?;
    let mut ids = BTreeMap::new();
    for a in &ACCOUNTS {
        let c = sim.keys().get(a.venue);
        // A throwaway loopback key, as a user would type it into `tradeguard seal`.
        let doc = json!({"exchange": a.venue.id(), "api_key": c.api_key,
            "api_secret": c.api_secret.expose_secret(),
            "passphrase": c.passphrase.as_ref().map(|p| p.expose_secret()),
            "label": format!("demo {}", a.venue)});
        let envelope = tg(
            &["seal", "--recipient", d],
            passphrase,
            Some(&doc.to_string()),
        )?;
        let file = dir.join(format!("{}.envelope.json", a.name));
        std::fs::write(&file, envelope)?;
        let f = file.to_str().context("path")?;
        let args = [
            "credentials",
            "--data-dir",
            d,
            "import",
            "--envelope",
            f,
            "--profile",
            a.profile,
        ];
        let out = tg(&args, passphrase, None)?;
        let id = out
            .split_whitespace()
            .nth(1)
            .context("`credentials import` did not print the credential id")?;
        ids.insert(a.name, id.to_owned());
    }
    Ok(ids)
}

/// The routing key of `did` for sealed intents, handed out by the operator with
/// `tradeguard intent routing-key` (offline on the data dir, before the first start).
pub fn routing_key(
    dir: &Path,
    passphrase: &SecretString,
    did: &str,
) -> anyhow::Result<tradeguard_crypto::intent::RoutingKey> {
    let d = dir.to_str().context("the data dir path is not UTF-8")?;
    let args = ["intent", "routing-key", "--data-dir", d, "--principal", did];
    let out = SecretString::new(tg(&args, passphrase, None)?);
    let v: serde_json::Value = serde_json::from_str(out.expose_secret())
        .context("`tradeguard intent routing-key` did not print JSON")?;
    let raw = v["routing_key"]
        .as_str()
        .and_then(|k| tradeguard_crypto::b64::decode(k).ok())
        .map(tradeguard_crypto::secret::SecretBytes::new)
        .context("`tradeguard intent routing-key` printed no key")?;
    Ok(tradeguard_crypto::intent::RoutingKey::from_bytes(
        raw.expose_secret(),
    )?)
}

/// Two traders and three approvers, their keys written to `<dir>/demo-keys/` (mode 0600).
pub fn make_keys(dir: &Path) -> anyhow::Result<(Vec<DemoKey>, Vec<DemoKey>)> {
    let traders = vec![
        DemoKey::generate("trader-1")?,
        DemoKey::generate("trader-2")?,
    ];
    let approvers: Vec<DemoKey> = (1..=3)
        .map(|i| DemoKey::generate(&format!("approver-{i}")))
        .collect::<anyhow::Result<_>>()?;
    let keys_dir = dir.join("demo-keys");
    DirBuilder::new().mode(0o700).create(&keys_dir)?;
    for k in traders.iter().chain(&approvers) {
        let path = keys_dir.join(format!("{}.key", k.name));
        write_private(&path, k.key.to_pkcs8_pem().expose_secret().as_bytes())?;
    }
    Ok((traders, approvers))
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}

/// Registers the controller (trade, read, halt), the traders (trade, read) and the approvers
/// (resume) before the first start, recording each in the audit log.
pub async fn register_principals(
    dir: &Path,
    passphrase: &SecretString,
    traders: &[DemoKey],
    approvers: &[DemoKey],
) -> anyhow::Result<()> {
    let store = datadir::open_store(dir).await?;
    let vault = Vault::new(store.clone(), std::sync::Arc::new(TracingSink))
        .unlock(passphrase)
        .await?;
    let log = super::super::audit::open(&store, &vault).await?;
    let directory = Directory::load(store.clone()).await?;
    let controller =
        super::super::bootstrap::controller_did(&dir.join(datadir::CONTROLLER_KEY_FILE))?;
    let mut all: Vec<(String, &str, ScopeSet)> = vec![(
        controller,
        "controller",
        ScopeSet::of(&[Scope::Trade, Scope::Read, Scope::Halt]),
    )];
    for t in traders {
        all.push((
            t.did.clone(),
            &t.name,
            ScopeSet::of(&[Scope::Trade, Scope::Read]),
        ));
    }
    for a in approvers {
        all.push((a.did.clone(), &a.name, ScopeSet::of(&[Scope::Resume])));
    }
    let now = tradeguard_gateway::clock::Clock::now_ms(&tradeguard_gateway::clock::SystemClock);
    for (did, label, scopes) in all {
        directory
            .put(&PrincipalRecord::ed25519(&did, scopes, label)?, now)
            .await?;
        let event = AuditEvent::of("principal.registered")
            .and_then(|e| e.field("keyid", did.as_str()))
            .and_then(|e| e.field("label", label))
            .and_then(|e| e.field("scopes", scopes.to_csv()))
            .and_then(|e| e.field("by", "operator (offline, before the first start)"));
        super::super::audit::record(&log, event).await?;
    }
    log.checkpoint().await?;
    store.close().await;
    Ok(())
}

/// The configuration file: the three simulated accounts, one profile each, resume by 2 of
/// the 3 approvers, fast polling (fills reach the audit log within seconds), the rebalancing
/// scheduler looking every 20 s, and checkpoints for a short run.
pub fn config(
    sim: &Sim,
    credentials: &BTreeMap<&'static str, String>,
    approvers: &[DemoKey],
) -> String {
    let dids: Vec<String> = approvers.iter().map(|a| format!("\"{}\"", a.did)).collect();
    let mut out = format!(
        r#"# Written by `tradeguard demo` (throwaway data dir, simulated exchanges on loopback).
[server]
listen = "127.0.0.1:0"
shutdown_grace_secs = 2

[polling]
interval_secs = 5
rebalance_check_secs = 20

[audit]
checkpoint_secs = 5

[gateway]
rate_per_second = 50
rate_burst = 100

[gateway.quorum.resume]
required = 2
approvers = [{}]
proposal_ttl = 600

[portfolio]
min_assets = 2
excluded_assets = ["BUSD", "DAI"]

[rebalancing]
enabled = true
randomization_enabled = true
randomization_factor = 0.05
max_concentration = 0.25
"#,
        dids.join(", ")
    );
    for a in &ACCOUNTS {
        let base = sim.venue(a.venue).base_url();
        let id = &credentials[a.name];
        let exchange = a.venue.id();
        out.push_str(&format!(
            r#"
[accounts.{name}]
credential = "{id}"
exchange = "{exchange}"
base_url = "{base}"
timeout = 5000
max_rate_wait = 10000
kraken_tier = "pro"

[profiles.{profile}]
exchange = "{exchange}"
type = "{kind}"
credential = "{name}"
quote_asset = "{quote}"
randomization_factor = 0.05
target_allocation = {{ BTC = 0.18, ETH = 0.15 }}
"#,
            name = a.name,
            profile = a.profile,
            kind = a.kind,
            quote = a.quote,
        ));
    }
    out
}

/// A fresh data dir: `dir` when given (it must not hold anything yet), else a new directory
/// under the system's temporary directory.
pub fn data_dir(dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(d) = dir {
        return Ok(d.to_owned());
    }
    let tag = tradeguard_crypto::b64::encode(&tradeguard_crypto::random::array::<6>()?);
    Ok(std::env::temp_dir().join(format!("tradeguard-demo-{}", tag.replace(['-', '_'], "x"))))
}
