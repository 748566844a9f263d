//! Sealed intents through a running `tradeguard serve`: the operator hands the controller its
//! routing key (`tradeguard intent routing-key`, offline on the data dir), the controller sends
//! an order with `tradeguard intent send` (two dummies), the order reaches the simulated
//! Kraken, `tradeguard intent status` reports it placed; a packet sent twice gets the same
//! answer shape the second time (202, same length) but is refused as a replay and nothing
//! more executes; the counters and the refusal are in the audit log, which verifies.

mod support;
use support::*;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tradeguard_client::intent::{IntentClient, IntentOptions, IntentSendError};
use tradeguard_client::{ClientConfig, PrincipalKey, Trust};
use tradeguard_crypto::intent::RoutingKey;
use tradeguard_sim::{KeySpec, SimConfig, Venue};

/// Imports the simulated Kraken account's key (sealed, as a user would) and writes a config.
fn setup(
    tmp: &Path,
    d: &str,
    p: &str,
    kraken: &tradeguard_sim::VenueHandle,
) -> (String, tradeguard_sim::AccountId) {
    let account = kraken.open_account(&[("USD".to_owned(), Decimal::from(100_000))]);
    let cred = kraken
        .create_key(account, &KeySpec::trading(Venue::Kraken))
        .unwrap();
    let doc = json!({"exchange": "kraken", "api_key": cred.api_key,
        "api_secret": cred.api_secret.expose_secret(), "passphrase": null, "label": "sim"});
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
    let id = imported.split_whitespace().nth(1).expect("credential id");
    let config = format!(
        r#"
[server]
listen = "127.0.0.1:0"
shutdown_grace_secs = 2
[polling]
interval_secs = 30
[audit]
checkpoint_secs = 1
[intents]
enabled = true
packet_size = 1536
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
    );
    (config, account)
}

async fn last_btc_price(kraken: &tradeguard_sim::VenueHandle) -> Decimal {
    let t: Value = reqwest::get(format!("{}/0/public/Ticker?pair=XBTUSD", kraken.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, v) = t["result"].as_object().unwrap().iter().next().unwrap();
    v["c"][0].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_takes_sealed_intents_with_dummies_and_refuses_a_replay() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    let pass = tmp.path().join("passphrase");
    std::fs::write(&pass, PASSPHRASE).unwrap();
    let p = pass.to_str().unwrap();
    ok(
        &tg(&["init", "--data-dir", d, "--passphrase-file", p], None),
        "init",
    );
    let sim = tradeguard_sim::start(SimConfig {
        kraken_limits: tradeguard_sim::KrakenLimits::pro(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let kraken = sim.venue(Venue::Kraken);
    let config = tmp.path().join("serve.toml");
    let (text, account) = setup(tmp.path(), d, p, kraken);
    std::fs::write(&config, text).unwrap();
    let log = tmp.path().join("serve.log");
    let (mut server, url) = serve(&config, &dir, &pass, &log);

    // The operator hands the controller its routing key (while the gateway runs).
    let key_file = dir.join("controller.key");
    let did = PrincipalKey::load_pem_file(&key_file)
        .unwrap()
        .keyid()
        .to_owned();
    let rk_file = tmp.path().join("controller.routing-key");
    let r = rk_file.to_str().unwrap();
    let args = [
        "intent",
        "routing-key",
        "--data-dir",
        d,
        "--passphrase-file",
        p,
        "--principal",
        &did,
        "--out",
        r,
    ];
    let issued: Value = serde_json::from_str(&ok(&tg(&args, None), "routing-key")).unwrap();
    assert_eq!(issued["principal"], did.as_str());
    assert!(issued.get("routing_key").is_none(), "written, not printed");
    let mode = std::os::unix::fs::PermissionsExt::mode(&rk_file.metadata().unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let bad = tg(
        &[
            "intent",
            "routing-key",
            "--data-dir",
            d,
            "--passphrase-file",
            p,
            "--principal",
            "did:key:nope",
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(2), "not a did:key");

    // `intent send`: the order and two dummies.
    let price = (last_btc_price(kraken).await * Decimal::new(97, 2)).round_dp(1);
    let order = json!({"client_order_id": "sealed-buy-1", "profile": "core",
        "symbol": "BTC/USD", "side": "buy", "type": "limit", "price": price.to_string(),
        "quantity": "0.01"})
    .to_string();
    let cert = dir.join("tls/cert.pem");
    let c = cert.to_str().unwrap();
    let k = key_file.to_str().unwrap();
    let base = [
        "intent",
        "--packet-size",
        "1536",
        "--url",
        &url,
        "--cert",
        c,
        "--key",
        k,
        "--routing-key",
        r,
    ];
    let mut send = base.to_vec();
    send.extend(["send", "--order", &order, "--dummies", "2"]);
    let sent: Value = serde_json::from_str(&ok(&tg(&send, None), "intent send")).unwrap();
    assert_eq!(sent["packets"], 3, "{sent}");
    let id = sent["routing_id"].as_str().expect("routing id").to_owned();
    assert_eq!(id.len(), 32);

    // `intent status` until the order path answered; the order is on the exchange.
    let mut status = base.to_vec();
    status.extend(["status", &id]);
    let mut last = Value::Null;
    for _ in 0..50 {
        last = serde_json::from_str(&ok(&tg(&status, None), "intent status")).unwrap();
        if last["status"][0]["state"] != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let s = &last["status"][0];
    assert_eq!(
        (s["id"].as_str(), s["state"].as_str()),
        (Some(id.as_str()), Some("placed")),
        "{last}"
    );
    assert_eq!(s["result"]["client_order_id"], "sealed-buy-1", "{last}");
    let on_exchange = |cid: &str| {
        kraken
            .orders(account)
            .iter()
            .filter(|o| o.client_id.as_deref() == Some(cid))
            .count()
    };
    assert_eq!(on_exchange("sealed-buy-1"), 1);

    // The same with X-Wing (post-quantum hybrid): the vault's X-Wing key opens it.
    let order_pq = order.replace("sealed-buy-1", "sealed-buy-pq");
    let mut send_pq = base.to_vec();
    send_pq.extend(["--post-quantum", "send", "--order", &order_pq]);
    let sent: Value = serde_json::from_str(&ok(&tg(&send_pq, None), "intent send pq")).unwrap();
    assert_eq!(sent["packets"], 3, "{sent}");
    for _ in 0..50 {
        if on_exchange("sealed-buy-pq") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(on_exchange("sealed-buy-pq"), 1);

    // One packet sent twice: the same 202 of the same length, refused as a replay inside.
    let routing = RoutingKey::from_bytes(
        &tradeguard_crypto::b64::decode(std::fs::read_to_string(&rk_file).unwrap().trim()).unwrap(),
    )
    .unwrap();
    let trust = Trust::pinned_file(&cert).unwrap();
    let client = IntentClient::connect(
        &ClientConfig::new(url.as_str(), trust),
        PrincipalKey::load_pem_file(&key_file).unwrap(),
        Some(routing),
        IntentOptions {
            sizes: tradeguard_crypto::intent::PacketSizes::new(1536, 2048).unwrap(),
            ..IntentOptions::default()
        },
    )
    .await
    .unwrap();
    let order2 = json!({"client_order_id": "sealed-buy-2", "profile": "core",
        "symbol": "BTC/USD", "side": "buy", "type": "limit", "price": price.to_string(),
        "quantity": "0.01"});
    let packets = client.prepare(order2).unwrap();
    assert_eq!(packets.len(), 3);
    let real = packets.iter().find(|p| p.real).unwrap();
    let first = client.post(real).await.unwrap();
    let again = client.post(real).await.unwrap();
    assert_eq!(first.answer["ack"], "received", "{:?}", first.answer);
    assert_eq!(
        (
            again.answer["ack"].as_str(),
            again.answer["reason"].as_str()
        ),
        (Some("refused"), Some("replay"))
    );
    assert_eq!((first.status, again.status), (202, 202));
    assert_eq!(first.response_len, again.response_len, "same answer length");
    assert!(
        real.json.len() > 1536 * 4 / 3,
        "padded to the configured 1536 bytes"
    );
    let id2 = first.answer["routing_id"].as_str().unwrap().to_owned();
    let rid2 = tradeguard_crypto::intent::RoutingId::from_hex(&id2).unwrap();
    for _ in 0..50 {
        if client.status(&[rid2]).await.unwrap()[0]["state"] != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(on_exchange("sealed-buy-2"), 1, "executed once, not twice");

    // A client padding to the default 1024 bytes does not match this gateway's size: its
    // packet is refused unopened and the answer is random bytes only the gateway could tell.
    let trust = Trust::pinned_file(&cert).unwrap();
    let wrong = IntentClient::connect(
        &ClientConfig::new(url.as_str(), trust),
        PrincipalKey::load_pem_file(&key_file).unwrap(),
        None,
        IntentOptions::default(),
    )
    .await
    .unwrap();
    let order3 = json!({"client_order_id": "sealed-buy-3", "profile": "core",
        "symbol": "BTC/USD", "side": "buy", "type": "limit", "price": price.to_string(),
        "quantity": "0.01"});
    let packets = wrong.prepare(order3).unwrap();
    let real3 = packets.iter().find(|p| p.real).unwrap();
    let e = wrong.post(real3).await.unwrap_err();
    assert!(matches!(e, IntentSendError::Unreadable), "{e}");

    // Stop; the counters and the replay are in the log, and the log verifies.
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let exit = server.0.wait().unwrap();
    assert!(
        exit.success(),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let serve_log = std::fs::read_to_string(&log).unwrap();
    let key_text = std::fs::read_to_string(&rk_file).unwrap();
    assert!(
        !serve_log.contains(key_text.trim()),
        "the routing key is never logged"
    );
    let verified = ok(
        &tg(&["audit", "verify", "--data-dir", d], None),
        "audit verify",
    );
    assert!(verified.starts_with("ok:"), "{verified}");
    let entries = exported(&dir, &tmp.path().join("audit.jsonl"));
    let text: Vec<String> = entries.iter().map(Value::to_string).collect();
    assert!(
        !text.iter().any(|l| l.contains(key_text.trim())),
        "nor audited"
    );
    let issued = entries
        .iter()
        .find(|e| kind(e) == "intent.routing_key_issued")
        .unwrap_or_else(|| panic!("no intent.routing_key_issued in {text:?}"));
    assert!(issued.to_string().contains(&did), "{issued}");
    let replay = entries
        .iter()
        .find(|e| kind(e) == "intent.refused")
        .unwrap_or_else(|| panic!("no intent.refused in {text:?}"));
    assert!(replay.to_string().contains("replay"), "{replay}");
    let stats = entries
        .iter()
        .find(|e| kind(e) == "intent.stats")
        .unwrap_or_else(|| panic!("no intent.stats in {text:?}"))
        .to_string();
    for want in [r#""real":3"#, r#""dummies":4"#, r#""refused":2"#] {
        assert!(stats.contains(want), "{want} in {stats}");
    }
    assert!(stats.contains("packet_size=1"), "{stats}");
    sim.shutdown().await;
}
