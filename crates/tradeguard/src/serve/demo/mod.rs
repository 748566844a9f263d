//! `tradeguard demo`: the whole product on loopback. Simulated Binance, Coinbase and Kraken;
//! a throwaway data dir made by `tradeguard init`; the simulators' keys sealed to the gateway
//! and imported as a user would; a controller, two traders and three approvers; the gateway
//! (`serve`, in this process, TLS on loopback) with two trader bots rebalancing three
//! profiles, trader 1's random trades sent as sealed intents with two dummies each; on a
//! timeline: one order the risk engine refuses, a halt (every open order
//! cancelled), and a resume approved by 2 of the 3 approvers. At the end: a table per
//! profile, the audit checkpoint and a performance report signed with the gateway's key.

pub mod bots;
pub mod setup;
pub mod summary;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rust_decimal::Decimal;
use serde_json::Value;
use tokio::sync::oneshot;
use tradeguard_client::intent::{IntentClient, IntentOptions};
use tradeguard_client::{Client, ClientConfig, OrderRequest, PrincipalKey, Side, Trust};
use tradeguard_crypto::secret::SecretString;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_sim::SimConfig;

use self::bots::{Bot, Records};
use self::setup::{ACCOUNTS, DemoKey};
use super::config::ServeConfig;
use super::market::PublicMarkets;

/// How to run this binary again from a shell: `tradeguard` when that name on `PATH` is this
/// very executable, else its full path (after `cargo run`, the binary is not on `PATH`).
pub fn self_command() -> String {
    let Ok(me) = std::env::current_exe().and_then(std::fs::canonicalize) else {
        return "tradeguard".into();
    };
    let on_path = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path)
            .any(|dir| std::fs::canonicalize(dir.join("tradeguard")).is_ok_and(|found| found == me))
    });
    if on_path {
        "tradeguard".into()
    } else {
        me.display().to_string()
    }
}

/// How the demo runs.
pub struct DemoOptions {
    /// How long the bots trade (wall time).
    pub duration: Duration,
    /// Seed of the simulated prices and of the traders' choices.
    pub seed: u64,
    /// Data dir to create (default: a new one under the temporary directory).
    pub data_dir: Option<PathBuf>,
    /// Keep the data dir afterwards.
    pub keep: bool,
}

/// What the demo did.
pub struct DemoOutcome {
    /// The per-profile table.
    pub table: String,
    /// Timeline lines (refusal, halt, resume).
    pub events: Vec<String>,
    /// The signed report.
    pub report: PathBuf,
    /// The gateway's `did:key` (verifies the report and the checkpoints).
    pub gateway_did: String,
    /// The latest audit checkpoint (signed note).
    pub checkpoint: String,
    /// The data dir, when kept.
    pub data_dir: Option<PathBuf>,
    /// Orders the gateway turned away while halted (never sent to an exchange).
    pub refused_while_halted: u64,
    /// Orders the simulated exchanges received between the halt's answer and the resume.
    pub placed_while_halted: usize,
    /// Sealed intents and dummies sent, and what the gateway's intake counted.
    pub intents: String,
}

fn client(url: &str, cert: &std::path::Path, key: PrincipalKey) -> anyhow::Result<Client> {
    let trust = Trust::pinned_file(cert)?;
    Ok(Client::new(&ClientConfig::new(url, trust), key)?)
}

/// A sealed-intent client for `k` (default options: two dummies per order, X25519).
async fn intent_client(
    url: &str,
    cert: &std::path::Path,
    k: &DemoKey,
    routing: tradeguard_crypto::intent::RoutingKey,
) -> anyhow::Result<IntentClient> {
    let config = ClientConfig::new(url, Trust::pinned_file(cert)?);
    let options = IntentOptions::default();
    Ok(IntentClient::connect(&config, copy_key(k)?, Some(routing), options).await?)
}

fn copy_key(k: &DemoKey) -> anyhow::Result<PrincipalKey> {
    Ok(PrincipalKey::ed25519(Ed25519SigningKey::from_seed(
        k.key.expose_seed(),
    )?))
}

/// Runs the demo; `progress` shows a bar on the terminal.
pub async fn run(opts: DemoOptions, progress: bool) -> anyhow::Result<DemoOutcome> {
    let dir = setup::data_dir(opts.data_dir.as_deref())?;
    let tag = tradeguard_crypto::b64::encode(&tradeguard_crypto::random::array::<24>()?);
    let passphrase = SecretString::new(tag);
    let bar = bar(progress, opts.duration);
    bar.set_message("initializing the data dir (tradeguard init)");
    tokio::task::block_in_place(|| setup::init(&dir, &passphrase))?;
    // A Kraken Pro-tier account (the config says `kraken_tier = "pro"` to match).
    let sim = tradeguard_sim::start(SimConfig {
        seed: opts.seed,
        kraken_limits: tradeguard_sim::KrakenLimits::pro(),
        ..SimConfig::default()
    })
    .await?;
    bar.set_message("sealing the simulators' keys and importing them");
    let ids = tokio::task::block_in_place(|| setup::import_credentials(&dir, &passphrase, &sim))?;
    let (traders, approvers) = setup::make_keys(&dir)?;
    let text = setup::config(&sim, &ids, &approvers);
    std::fs::write(dir.join(crate::cmd::datadir::CONFIG_FILE), &text)?;
    setup::register_principals(&dir, &passphrase, &traders, &approvers).await?;
    bar.set_message("handing trader-1 its routing key (tradeguard intent routing-key)");
    let routing =
        tokio::task::block_in_place(|| setup::routing_key(&dir, &passphrase, &traders[0].did))?;
    let mut routing = Some(routing);
    let config = ServeConfig::parse(&text).map_err(|e| anyhow::anyhow!("demo config: {e}"))?;
    let risk = Arc::new(config.risk.clone());

    bar.set_message("starting the gateway");
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let (ready_tx, ready_rx) = oneshot::channel();
    let options = super::run::Options {
        config,
        data_dir: dir.clone(),
        passphrase: passphrase.clone(),
    };
    let server = tokio::spawn(super::run::run(
        options,
        async move {
            let _ = stop_rx.await;
        },
        move |addr, scheme, cert| {
            let _ = ready_tx.send((format!("{scheme}://{addr}"), cert.map(|c| c.to_owned())));
        },
    ));
    let (url, cert) = ready_rx.await.context("the gateway did not start")?;
    let cert = cert.context("the demo gateway serves TLS with the data dir's certificate")?;
    let dashboard = format!(
        "dashboard: {url}/ while the demo runs; its session token: {} session --url {url} --data-dir {}",
        self_command(),
        dir.display()
    );
    if bar.is_hidden() {
        println!("{dashboard}");
    } else {
        bar.println(dashboard);
    }

    let records = Arc::new(Mutex::new(Records::default()));
    let started = Instant::now();
    let until = started + opts.duration;
    let mut tasks = Vec::new();
    for (i, t) in traders.iter().enumerate() {
        let accounts: Vec<_> = ACCOUNTS.iter().filter(|a| a.trader == i).collect();
        let mut markets = std::collections::BTreeMap::new();
        for a in &accounts {
            let cfg = tradeguard_exchange::ConnectorConfig::new(
                tradeguard_exchange::model::ExchangeId::parse(a.venue.id())?,
                tradeguard_exchange::model::AccountId::parse(a.name)?,
            )
            .with_base_url(sim.venue(a.venue).base_url().parse()?);
            markets.insert(a.name, PublicMarkets::new(&cfg)?);
        }
        let bot = Bot {
            name: t.name.clone(),
            client: client(&url, &cert, copy_key(t)?)?,
            accounts,
            markets,
            config: risk.clone(),
            rng: StdRng::seed_from_u64(opts.seed.wrapping_add(i as u64 + 1)),
            keeps_resting_order: i == 0,
            intents: match routing.take().filter(|_| i == 0) {
                Some(k) => Some(intent_client(&url, &cert, t, k).await?),
                None => None,
            },
        };
        tasks.push(tokio::spawn(bot.run(
            until,
            Duration::from_millis(2500),
            records.clone(),
        )));
    }
    let controller = client(
        &url,
        &cert,
        PrincipalKey::load_pem_file(&dir.join(crate::cmd::datadir::CONTROLLER_KEY_FILE))?,
    )?;
    let approver_clients = approvers
        .iter()
        .map(|a| client(&url, &cert, copy_key(a)?))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (events, halted) =
        script(&bar, started, opts.duration, &controller, &approver_clients).await?;
    if events.iter().any(|e| e.contains("-> risk-refused")) {
        let mut r = records.lock().unwrap_or_else(|p| p.into_inner());
        *r.risk_refusals.entry("steady_kraken".into()).or_default() += 1;
    }
    let placed_while_halted: usize = ACCOUNTS
        .iter()
        .map(|a| {
            let account = sim.keys().get(a.venue).account;
            let orders = sim.venue(a.venue).orders(account);
            orders
                .iter()
                .filter(|o| o.created_ms >= halted.0 && o.created_ms < halted.1)
                .count()
        })
        .sum();
    for t in tasks {
        let _ = t.await;
    }
    bar.set_message("stopping the gateway (final audit checkpoint)");
    let _ = stop_tx.send(());
    server.await.context("the gateway task failed")??;

    bar.set_message("signing the performance report");
    let records = std::mem::take(&mut *records.lock().unwrap_or_else(|p| p.into_inner()));
    let ledger = summary::ledger(&records, summary::fills(&sim))?;
    let (report, path, did) = summary::sign(&dir, &passphrase, &ledger).await?;
    let store = crate::cmd::datadir::open_store(&dir).await?;
    let checkpoint = tradeguard_audit::log::latest_checkpoint(&store)
        .await?
        .map(|c| c.to_text())
        .unwrap_or_default();
    let counted = summary::intake_stats(&store).await?;
    store.close().await;
    let intents = summary::intents_line(&records, counted.as_ref());
    sim.shutdown().await;
    bar.finish_and_clear();
    let table = summary::table(&report, &records.risk_refusals);
    let (report, data_dir) = if opts.keep {
        (path, Some(dir))
    } else {
        let kept = std::env::temp_dir().join(format!(
            "{}.report.json",
            dir.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("tradeguard-demo")
        ));
        std::fs::copy(&path, &kept)?;
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot remove {}", dir.display()))?;
        (kept, None)
    };
    Ok(DemoOutcome {
        table,
        events,
        report,
        gateway_did: did,
        checkpoint,
        data_dir,
        refused_while_halted: records.refused_while_halted,
        placed_while_halted,
        intents,
    })
}

fn bar(show: bool, duration: Duration) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(duration.as_secs().max(1));
    let style =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len}s {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    b.set_style(style);
    b.enable_steady_tick(Duration::from_millis(200));
    b
}

/// The timeline: at 25 % an order the risk engine refuses, at 50 % the halt, at 65 % a
/// resume proposed by one approver and approved by a second. Returns one line per event and
/// the halted window (Unix ms from the halt's answer to the resume proposal).
async fn script(
    bar: &ProgressBar,
    started: Instant,
    duration: Duration,
    controller: &Client,
    approvers: &[Client],
) -> anyhow::Result<(Vec<String>, (u64, u64))> {
    let mut events = Vec::new();
    let at = |f: u32| started + duration * f / 100;
    let wait_until = |t: Instant| async move {
        loop {
            let now = Instant::now();
            bar.set_position(now.duration_since(started).as_secs());
            if now >= t {
                break;
            }
            tokio::time::sleep((t - now).min(Duration::from_millis(250))).await;
        }
    };
    wait_until(at(25)).await;
    let big = OrderRequest::market(
        "ctl-oversized",
        "steady_kraken",
        "BTC/USD",
        Side::Buy,
        Decimal::TEN,
    );
    let line = match controller.place_order(&big).await {
        Err(e) => match e.problem() {
            Some(p) => format!(
                "refused: 10 BTC on steady_kraken -> {} ({})",
                p.slug(),
                first_reason(&p.detail)
            ),
            None => format!("oversized order failed: {e}"),
        },
        Ok(v) => format!("oversized order was accepted (unexpected): {v}"),
    };
    bar.println(&line);
    events.push(line);

    wait_until(at(50)).await;
    let report = controller.halt(None, Some("demo: emergency stop")).await?;
    let halted_from = unix_ms();
    let cancelled: usize = cancels(&report, "cancelled");
    let failed: usize = cancels(&report, "failed");
    let line = format!(
        "halted: {cancelled} open order(s) cancelled, {failed} not confirmed, in {} ms",
        report["cancel_ms"]
    );
    bar.println(&line);
    bar.set_message("HALTED");
    events.push(line);

    wait_until(at(65)).await;
    let halted_until = unix_ms();
    let proposal = approvers[0].resume().await?;
    let id = proposal["proposal"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let approved = approvers[1].approve(&id).await?;
    let state = controller.state().await?;
    let line = format!(
        "resumed: proposal {} approved by 2 of 3 approvers ({}), state {}",
        short(&id),
        approved["proposal"]["status"].as_str().unwrap_or("?"),
        state["state"].as_str().unwrap_or("?")
    );
    bar.println(&line);
    bar.set_message("ACTIVE");
    events.push(line);
    wait_until(started + duration).await;
    Ok((events, (halted_from, halted_until)))
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

fn cancels(report: &Value, field: &str) -> usize {
    report["cancels"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c[field].as_array().map_or(0, Vec::len))
        .sum()
}

/// The reason to show of a risk refusal's detail: the per-order maximum when it is among
/// them (the point of the oversized order), else the first.
fn first_reason(detail: &str) -> &str {
    let reasons = detail.rsplit_once(" refused: ").map_or(detail, |(_, r)| r);
    let mut all = reasons.split("; ");
    let first = all.clone().next().unwrap_or(reasons);
    all.find(|r| r.contains("per-order maximum"))
        .unwrap_or(first)
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_line_names_the_per_order_maximum() {
        let cases = [
            (
                "x refused: a; notional 1 exceeds the per-order maximum 2; c",
                "notional 1 exceeds the per-order maximum 2",
            ),
            (
                "x refused: 10 orders in the last minute",
                "10 orders in the last minute",
            ),
            ("plain", "plain"),
        ];
        for (i, (detail, want)) in cases.iter().enumerate() {
            assert_eq!(first_reason(detail), *want, "TC{i} failed");
        }
    }
}
