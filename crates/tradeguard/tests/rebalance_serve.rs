//! Scheduled rebalancing in `tradeguard serve`, against the simulated Kraken: a profile that
//! holds only dollars (targets BTC 20%, ETH 20%, SOL 10%) is rebalanced by the scheduler
//! without anyone asking, through the risk gate, and the audit log holds the rebalance.
//! `tradeguard rebalance PROFILE --dry-run` shows a plan; bad input exits 2.

mod support;
use support::*;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tradeguard_client::{Client, ClientConfig, Method, PrincipalKey, Trust};
use tradeguard_sim::{KeySpec, SimConfig, Venue};

/// A data dir with the simulated Kraken's key imported; returns the credential id.
fn setup(tmp: &Path, dir: &Path, pass: &Path, api_key: &str, api_secret: &str) -> String {
    let (d, p) = (dir.to_str().unwrap(), pass.to_str().unwrap());
    ok(
        &tg(&["init", "--data-dir", d, "--passphrase-file", p], None),
        "init",
    );
    let doc = json!({"exchange": "kraken", "api_key": api_key, "api_secret": api_secret,
        "passphrase": null, "label": "sim"});
    let envelope = ok(
        &tg(&["seal", "--recipient", d], Some(&doc.to_string())),
        "seal",
    );
    let env_file = tmp.join("kraken.envelope");
    std::fs::write(&env_file, envelope).unwrap();
    let e = env_file.to_str().unwrap();
    let args = [
        "credentials",
        "--data-dir",
        d,
        "import",
        "--envelope",
        e,
        "--profile",
        "core",
        "--passphrase-file",
        p,
    ];
    let imported = ok(&tg(&args, None), "import");
    imported
        .split_whitespace()
        .nth(1)
        .expect("credential id")
        .to_owned()
}

fn config(id: &str, base: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
shutdown_grace_secs = 2
[polling]
interval_secs = 5
rebalance_check_secs = 1
[audit]
checkpoint_secs = 1
[accounts.kraken-main]
credential = "{id}"
exchange = "kraken"
base_url = "{base}"
timeout = 5000
kraken_tier = "pro"
[rebalancing]
enabled = true
randomization_enabled = true
randomization_factor = 0.10
[profiles.core]
exchange = "kraken"
type = "moderate"
credential = "kraken-main"
quote_asset = "USD"
randomization_factor = 0.05
[profiles.core.target_allocation]
BTC = 0.20
ETH = 0.20
SOL = 0.10
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_rebalances_a_profile_far_from_its_targets() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = tmp.path().join("data");
    let pass = tmp.path().join("passphrase");
    std::fs::write(&pass, PASSPHRASE).unwrap();
    let sim = tradeguard_sim::start(SimConfig {
        kraken_limits: tradeguard_sim::KrakenLimits::pro(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let kraken = sim.venue(Venue::Kraken);
    let account = kraken.open_account(&[("USD".to_owned(), Decimal::from(100_000))]);
    let cred = kraken
        .create_key(account, &KeySpec::trading(Venue::Kraken))
        .unwrap();
    let id = setup(
        tmp.path(),
        &dir,
        &pass,
        &cred.api_key,
        cred.api_secret.expose_secret(),
    );
    let config_file = tmp.path().join("serve.toml");
    std::fs::write(&config_file, config(&id, kraken.base_url())).unwrap();
    let log = tmp.path().join("serve.log");
    let (mut server, url) = serve(&config_file, &dir, &pass, &log);
    let d = dir.to_str().unwrap();

    // The CLI: a dry run shows a plan; a bad name never leaves the machine; an unknown
    // profile is the gateway's 404.
    let out = ok(
        &tg(
            &[
                "rebalance",
                "core",
                "--dry-run",
                "--url",
                &url,
                "--data-dir",
                d,
            ],
            None,
        ),
        "rebalance --dry-run",
    );
    let plan: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["dry_run"], true, "{plan}");
    assert_eq!(plan["profile"], "core");
    assert_eq!(plan["plan_id"].as_str().unwrap().len(), 28, "{plan}");
    assert_eq!(plan["results"], json!([]));
    let bad = tg(
        &["rebalance", "core/x", "--url", &url, "--data-dir", d],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("PROFILE"));
    let unknown = tg(
        &[
            "rebalance",
            "nope",
            "--dry-run",
            "--url",
            &url,
            "--data-dir",
            d,
        ],
        None,
    );
    assert_eq!(unknown.status.code(), Some(2), "{unknown:?}");

    // Nobody asks: the scheduler sees BTC, ETH and SOL 20, 20 and 10 points under target.
    let trust = Trust::pinned_file(&dir.join("tls/cert.pem")).unwrap();
    let key = PrincipalKey::load_pem_file(&dir.join("controller.key")).unwrap();
    let client = Client::new(&ClientConfig::new(url.as_str(), trust), key).unwrap();
    let mut traded = false;
    for _ in 0..60 {
        let orders = client.orders().await.unwrap();
        let on_exchange = kraken.orders(account);
        if !orders["orders"].as_array().unwrap().is_empty() || !on_exchange.is_empty() {
            traded = true;
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(traded, "no scheduled rebalance within a minute:\n{text}");
    let portfolio = client
        .signed::<()>(Method::GET, &["portfolio"], None, None)
        .await
        .unwrap();
    assert_eq!(portfolio["portfolios"][0]["profile"], "core", "{portfolio}");
    stop(&mut server, &log);

    let entries = exported(&dir, &tmp.path().join("audit.jsonl"));
    let by_scheduler = |k: &str| {
        entries
            .iter()
            .filter(|e| kind(e) == k)
            .filter(|e| e.to_string().contains("tradeguard:scheduler"))
            .count()
    };
    assert!(by_scheduler("rebalance.planned") >= 1, "{entries:?}");
    let executed: Vec<&Value> = entries
        .iter()
        .filter(|e| kind(e) == "rebalance.executed")
        .collect();
    assert!(!executed.is_empty(), "no rebalance.executed in the log");
    let first = executed[0].to_string();
    assert!(first.contains("tradeguard:scheduler"), "{first}");
    assert!(
        first.contains("\"status\":201"),
        "an order was placed: {first}"
    );
    let submitted = entries.iter().filter(|e| kind(e) == "order.submit").count();
    assert!(submitted >= 1, "each planned order took the order path");
    sim.shutdown().await;
}
