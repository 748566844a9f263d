//! `tradeguard serve` end to end: `init` a data dir, seal and import the simulated Kraken's
//! credentials, start the gateway on the simulator (TLS with the data dir's certificate),
//! trade as the controller with signed requests (a resting order, a market order that fills,
//! one cancelled by its client), see the risk engine refuse an order, stop with SIGTERM and
//! start again (the resting order is still known, the fill is recorded), halt (every open
//! order cancelled on the exchange), stop, and verify the audit log and the order lifecycle
//! in it.

mod support;
use support::*;

use std::path::PathBuf;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tradeguard_client::{
    Client, ClientConfig, ClientError, OrderRequest, PrincipalKey, Side, Trust,
};
use tradeguard_sim::{KeySpec, SimConfig, Venue};

fn problem(e: ClientError) -> tradeguard_client::Problem {
    e.problem()
        .cloned()
        .unwrap_or_else(|| panic!("not a problem document: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_trades_refuses_halts_and_stops_with_a_verifiable_log() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    let pass = tmp.path().join("passphrase");
    std::fs::write(&pass, PASSPHRASE).unwrap();
    let p = pass.to_str().unwrap();
    ok(
        &tg(&["init", "--data-dir", d, "--passphrase-file", p], None),
        "init",
    );

    // The simulated Kraken, with an account holding only dollars.
    // A Pro-tier Kraken account (`kraken_tier = "pro"` below), so polling never waits long.
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

    // Sealed to the gateway's key and imported, as a user would.
    let doc = json!({"exchange": "kraken", "api_key": cred.api_key,
        "api_secret": cred.api_secret.expose_secret(), "passphrase": null, "label": "sim"});
    let envelope = ok(
        &tg(&["seal", "--recipient", d], Some(&doc.to_string())),
        "seal",
    );
    let env_file = tmp.path().join("kraken.envelope");
    std::fs::write(&env_file, envelope).unwrap();
    let e = env_file.to_str().unwrap();
    let imported = ok(
        &tg(
            &[
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
            ],
            None,
        ),
        "import",
    );
    let id = imported
        .split_whitespace()
        .nth(1)
        .expect("credential id")
        .to_owned();

    let config = tmp.path().join("serve.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[server]
listen = "127.0.0.1:0"
shutdown_grace_secs = 2
[polling]
interval_secs = 30
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
"#,
            base = kraken.base_url()
        ),
    )
    .unwrap();
    let log = tmp.path().join("serve.log");
    let (mut server, url) = serve(&config, &dir, &pass, &log);

    let trust = Trust::pinned_file(&dir.join("tls/cert.pem")).unwrap();
    let key = PrincipalKey::load_pem_file(&dir.join("controller.key")).unwrap();
    let client = Client::new(&ClientConfig::new(url.as_str(), trust), key).unwrap();

    // A resting limit buy (3 % under the last price) reaches the exchange.
    let last: Decimal = {
        let t: Value = reqwest::get(format!("{}/0/public/Ticker?pair=XBTUSD", kraken.base_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (_, v) = t["result"].as_object().unwrap().iter().next().unwrap();
        v["c"][0].as_str().unwrap().parse().unwrap()
    };
    let price = (last * Decimal::new(97, 2)).round_dp(1);
    let buy = OrderRequest::limit(
        "e2e-buy-1",
        "core",
        "BTC/USD",
        Side::Buy,
        Decimal::new(1, 2),
        price,
    );
    let placed = client.place_order(&buy).await.unwrap_or_else(|e| {
        panic!(
            "order refused: {e}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    assert_eq!(placed["status"], "open", "{placed}");
    let on_exchange = kraken.orders(account);
    assert!(
        on_exchange
            .iter()
            .any(|o| o.client_id.as_deref() == Some("e2e-buy-1")),
        "the order is on the simulator: {on_exchange:?}"
    );

    // A market buy that fills at once, and a second resting order its client cancels.
    let market = OrderRequest::market(
        "e2e-mkt-1",
        "core",
        "BTC/USD",
        Side::Buy,
        Decimal::new(1, 3),
    );
    let filled = client.place_order(&market).await.unwrap();
    let status = filled["status"].as_str().unwrap_or_default();
    assert!(["filled", "open"].contains(&status), "{filled}");
    let resting = OrderRequest::limit(
        "e2e-buy-2",
        "core",
        "BTC/USD",
        Side::Buy,
        Decimal::new(1, 3),
        price,
    );
    client.place_order(&resting).await.unwrap();
    let cancelled = client.cancel_order("kraken-main:e2e-buy-2").await.unwrap();
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");

    // One the risk engine refuses (above the per-order notional and position limits).
    let big = OrderRequest::limit(
        "e2e-big-1",
        "core",
        "BTC/USD",
        Side::Buy,
        Decimal::ONE,
        price,
    );
    let refused = problem(client.place_order(&big).await.unwrap_err());
    assert_eq!(
        (refused.status, refused.slug()),
        (422, "risk-refused"),
        "{refused:?}"
    );
    assert!(refused.detail.contains("notional"), "{}", refused.detail);

    // A stop and a new start: the resting order is still in the gateway's books.
    stop(&mut server, &log);
    let (mut server, url) = serve(&config, &dir, &pass, &log);
    let trust = Trust::pinned_file(&dir.join("tls/cert.pem")).unwrap();
    let key = PrincipalKey::load_pem_file(&dir.join("controller.key")).unwrap();
    let client = Client::new(&ClientConfig::new(url.as_str(), trust), key).unwrap();
    let orders = client.orders().await.unwrap();
    let listed = orders["orders"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|o| o["id"] == "kraken-main:e2e-buy-1" && o["status"] == "open"),
        "the order survives the restart: {orders}"
    );

    // The halt cancels every open order on the exchange; nothing is accepted afterwards.
    let report = client.halt(None, Some("e2e")).await.unwrap();
    assert_eq!(report["state"], "HALTED", "{report}");
    let cancels = report["cancels"].as_array().unwrap();
    assert!(
        cancels
            .iter()
            .all(|c| c["failed"].as_array().unwrap().is_empty()),
        "{report}"
    );
    assert!(
        kraken.orders(account).iter().all(|o| !o.status.is_open()),
        "open orders left after the halt"
    );
    let late = OrderRequest::limit(
        "e2e-late-1",
        "core",
        "BTC/USD",
        Side::Sell,
        Decimal::new(1, 3),
        price,
    );
    let after = problem(client.place_order(&late).await.unwrap_err());
    assert_eq!(after.slug(), "trading-halted", "{after:?}");

    let cancelled: Vec<&Value> = cancels
        .iter()
        .flat_map(|c| c["cancelled"].as_array().unwrap())
        .collect();
    assert!(
        cancelled.iter().any(|id| *id == "kraken-main:e2e-buy-1"),
        "{report}"
    );
    stop(&mut server, &log);

    // The log verifies and holds the story.
    let verified = ok(
        &tg(&["audit", "verify", "--data-dir", d], None),
        "audit verify",
    );
    assert!(verified.starts_with("ok:"), "{verified}");
    let export = tmp.path().join("audit.jsonl");
    let kinds = exported_kinds(&dir, &export);
    let text = std::fs::read_to_string(&export).unwrap();
    let refusal = text
        .lines()
        .find(|l| l.contains("order.refused"))
        .unwrap_or_default();
    assert!(
        refusal.contains("e2e-big-1") && refusal.contains("notional"),
        "the refusal is logged with its reason: {refusal}"
    );
    for want in [
        "serve.started",
        "principal.bootstrap",
        "serve.key_checked",
        "serve.reconciled",
        "vault.credential_used",
        "order.submit",
        "order.refused",
        "trading.halt",
        "serve.stopped",
    ] {
        assert!(
            kinds.iter().any(|k| k == want),
            "no `{want}` event in {kinds:?}"
        );
    }
    check_order_lifecycle(&text);
    sim.shutdown().await;
}

/// The fields of the exported entries of `kind` for `client_order_id`.
fn order_entries(export: &str, kind: &str, client_order_id: &str) -> Vec<Value> {
    export
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["kind"] == kind && v["fields"]["client_order_id"] == client_order_id)
        .map(|v| v["fields"].clone())
        .collect()
}

/// Each order's life after `order.submit` is in the log with its fields: acknowledged with the
/// exchange's id; the market order's fill with quantity, price, fee and trade id; the
/// client's cancel and the halt's.
fn check_order_lifecycle(export: &str) {
    let one = |kind: &str, cid: &str| -> Value {
        let found = order_entries(export, kind, cid);
        assert_eq!(found.len(), 1, "one `{kind}` of {cid}: {found:?}");
        let e = found[0].clone();
        assert_eq!(
            (&e["profile"], &e["exchange"]),
            (&json!("core"), &json!("kraken")),
            "{e}"
        );
        assert_eq!(e["symbol"], "BTC/USD", "{e}");
        e
    };
    for cid in ["e2e-buy-1", "e2e-mkt-1", "e2e-buy-2"] {
        let ack = one("order.acknowledged", cid);
        assert!(
            ack["exchange_order_id"]
                .as_str()
                .is_some_and(|x| !x.is_empty()),
            "{ack}"
        );
    }
    let fill = one("order.filled", "e2e-mkt-1");
    let qty: Option<Decimal> = fill["qty"].as_str().and_then(|q| q.parse().ok());
    assert_eq!(qty, Some(Decimal::new(1, 3)), "{fill}");
    assert_eq!(fill["complete"], true, "{fill}");
    for field in ["price", "fee", "trade_id"] {
        assert!(
            fill[field].as_str().is_some_and(|x| !x.is_empty()),
            "{field}: {fill}"
        );
    }
    let by_client = one("order.cancelled", "e2e-buy-2");
    assert_eq!(by_client["by"], "client", "{by_client}");
    let by_halt = one("order.cancelled", "e2e-buy-1");
    assert_eq!(by_halt["by"], "halt", "{by_halt}");
    assert!(order_entries(export, "order.filled", "e2e-buy-1").is_empty());
}

/// `tradeguard demo` for 20 s: the report verifies with the gateway key, the audit log of the
/// kept data dir verifies, the refused order is logged with its reason, and no order reached
/// an exchange while trading was halted.
/// From the demo's intent line: orders sent as sealed intents, dummies sent, intents accepted,
/// and the gateway's count of real packets, dummies and refusals.
fn intent_figures(text: &str) -> [u64; 6] {
    let line = text
        .lines()
        .find(|l| l.starts_with("sealed intents: "))
        .unwrap_or_else(|| panic!("no intent line in {text}"));
    let n: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    // "trader-1 sent N order(s) with D dummies, A accepted; the gateway counted R real,
    // G dummies, Q status queries, X refused"
    assert_eq!(n.len(), 8, "{line}");
    [n[1], n[2], n[3], n[4], n[5], n[7]]
}

#[test]
fn demo_runs_and_its_report_and_log_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let d = dir.to_str().unwrap();
    let out = tg(
        &[
            "demo",
            "--duration",
            "20",
            "--seed",
            "7",
            "--data-dir",
            d,
            "--keep",
        ],
        None,
    );
    let text = ok(&out, "demo");
    assert!(
        text.lines()
            .any(|l| l.starts_with("dashboard: https://127.0.0.1:")
                && l.contains("tradeguard session")),
        "the dashboard address and how to get its token: {text}"
    );
    assert!(
        text.contains("refused: 10 BTC on steady_kraken -> risk-refused"),
        "{text}"
    );
    assert!(
        text.contains("state ACTIVE"),
        "resumed by the quorum: {text}"
    );
    assert!(text.contains(", 0 placed on the exchanges"), "{text}");
    let [sent, dummies, accepted, real, counted_dummies, refused] = intent_figures(&text);
    assert!(sent >= 1, "trader-1 sent sealed intents: {text}");
    assert_eq!(dummies, 2 * sent, "two dummies each: {text}");
    assert_eq!(
        [real, counted_dummies, refused],
        [sent, dummies, 0],
        "the gateway counted them all: {text}"
    );
    let trades = |profile: &str| -> u64 {
        let row = text.lines().find(|l| l.starts_with(profile)).unwrap();
        row.split_whitespace().nth(4).unwrap().parse().unwrap()
    };
    assert!(
        trades("core_binance") + trades("growth_coinbase") >= accepted,
        "trader-1's TRADES include the fills of its accepted intents (market orders): {text}"
    );
    for profile in ["core_binance", "growth_coinbase", "steady_kraken"] {
        assert!(text.contains(profile), "no {profile} row: {text}");
    }
    let verify = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("verify it:"))
        .unwrap_or_else(|| panic!("no verify command in {text}"));
    let args: Vec<&str> = verify.split_whitespace().skip(1).collect();
    assert_eq!(&args[..2], ["report", "verify"], "{verify}");
    ok(&tg(&args, None), "report verify");
    let verified = ok(
        &tg(&["audit", "verify", "--data-dir", d], None),
        "audit verify",
    );
    assert!(verified.starts_with("ok:"), "{verified}");
    let export = tmp.path().join("demo-audit.jsonl");
    let kinds = exported_kinds(&dir, &export);
    for want in [
        "principal.registered",
        "order.submit",
        "order.acknowledged",
        "order.filled",
        "order.refused",
        "trading.halt",
        "quorum.execute",
        "intent.stats",
    ] {
        assert!(
            kinds.iter().any(|k| k == want),
            "no `{want}` event in {kinds:?}"
        );
    }
    let log = std::fs::read_to_string(&export).unwrap();
    let refusal = log
        .lines()
        .find(|l| l.contains("ctl-oversized") && l.contains("order.refused"))
        .unwrap_or_default();
    assert!(
        refusal.contains("notional"),
        "refused with its reason: {refusal}"
    );
}
