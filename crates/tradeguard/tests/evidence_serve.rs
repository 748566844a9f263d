//! The evidence of a running `tradeguard serve`, fetched with the CLI as an auditor would
//! (`audit checkpoint|proof --url`, `report --out`, requests signed with the controller key,
//! TLS pinned to the data dir's certificate): the checkpoint verifies with the key
//! `tradeguard keys` prints, the inclusion and consistency proofs verify against it, the report
//! verifies with `report verify --key`, is bound to a checkpoint of the log, counts the trade
//! the test made and, from the equity history of two polls around it, gives the profile's,
//! the exchange's and the overall return and drawdown, and two polls later lists BTC in the
//! asset correlation; a proof past the log is refused with exit 2.

mod support;
use support::*;

use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::Value;
use tradeguard_audit::checkpoint::SignedCheckpoint;
use tradeguard_audit::keys::{LogKey, verify_checkpoint};
use tradeguard_audit::merkle::{Hash, leaf_hash, verify_consistency, verify_inclusion};
use tradeguard_client::{OrderRequest, Side};
use tradeguard_sim::Venue;

/// Return, drawdown and order outcomes of the profile, its exchange and overall, after a
/// market buy between two valuations (prices move in the simulator, so only the figures'
/// presence and their consistency are checked, not their sign).
fn performance_is_reported(data: &Value) {
    let conv = &data["conventions"];
    assert_eq!(conv["std_ddof"], 1, "{conv}");
    assert_eq!(
        conv["periods_per_year"], 6_311_520,
        "a year of 5 s polls: {conv}"
    );
    let dec = |v: &Value| v.as_str().unwrap().parse::<Decimal>().unwrap();
    for scope in [
        &data["by_profile"]["core"],
        &data["by_exchange"]["kraken"],
        &data["overall"],
    ] {
        let perf = &scope["performance"];
        let pnl = dec(&perf["profit_and_loss"]);
        assert_eq!(
            pnl,
            dec(&perf["end_value"]) - dec(&perf["start_value"]) - dec(&perf["net_flows"]),
            "{perf}"
        );
        let twr = perf["metrics"]["time_weighted_return"].as_f64().unwrap();
        assert!(twr.abs() < 0.01, "{perf}");
        let depth = perf["metrics"]["max_drawdown"]["depth"].as_f64().unwrap();
        assert!((0.0..0.01).contains(&depth), "{perf}");
        assert_eq!(scope["portfolio_value"], perf["end_value"], "{scope}");
        let conc = scope["concentration"].as_array().unwrap();
        assert_eq!(
            conc.len() as u64,
            perf["observations"].as_u64().unwrap(),
            "{scope}"
        );
        assert_eq!(conc.last().unwrap()["top_asset"], "USD", "{scope}");
    }
    let defs = conv["definitions"].as_str().unwrap();
    assert!(
        defs.ends_with("one poll interval (every equity snapshot)"),
        "{conv}"
    );
    let corr = &data["profile_correlation"];
    assert_eq!(corr["labels"], serde_json::json!(["core"]), "{corr}");
    assert_eq!(corr["values"].as_array().unwrap().len(), 1, "{corr}");
    let activity = &data["by_profile"]["core"]["activity"];
    assert_eq!(activity["orders"]["filled"], 1, "{activity}");
    assert_eq!(activity["order_success_rate"], 1.0, "{activity}");
}

fn hashes(v: &Value) -> Vec<Hash> {
    v["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_evidence_verifies_with_the_gateway_key() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = kraken_sim().await;
    let g = KrakenGateway::new(tmp.path(), sim.venue(Venue::Kraken), "");
    let (dir, log) = (g.dir.clone(), g.log.clone());
    let d = dir.to_str().unwrap();
    let (mut server, url) = g.serve();

    // A market buy that fills, so the log and the ledger hold a trade.
    let client = g.client(&url);
    let buy = OrderRequest::market("ev-mkt-1", "core", "BTC/USD", Side::Buy, Decimal::new(1, 3));
    client.place_order(&buy).await.unwrap();

    // The gateway key, as an auditor gets it (`tradeguard keys`).
    let keys_json = ok(&tg(&["keys", "--data-dir", d], None), "keys");
    let trusted = LogKey::parse_many(&keys_json).unwrap();
    let pubkey = serde_json::from_str::<Value>(&keys_json).unwrap()["signing"]["public_key"]
        .as_str()
        .unwrap()
        .to_owned();

    // The first checkpoint that covers the order (one is signed every second).
    let remote = ["--url", url.as_str(), "--data-dir", d];
    let deadline = Instant::now() + Duration::from_secs(60);
    let cp = loop {
        let out = tg(&[&["audit", "checkpoint"][..], &remote].concat(), None);
        if out.status.success() {
            let note = String::from_utf8(out.stdout).unwrap();
            let cp = SignedCheckpoint::parse(note.as_bytes()).unwrap();
            let verified = verify_checkpoint(cp, &trusted).expect("checkpoint verifies");
            if verified.checkpoint().size() >= 4 {
                break verified;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let (size, root) = (cp.checkpoint().size(), *cp.checkpoint().root());

    let n = size.to_string();
    for seq in ["0", "2", &(size - 1).to_string()] {
        let out = tg(
            &[&["audit", "proof", "--seq", seq, "--size", &n][..], &remote].concat(),
            None,
        );
        let v: Value = serde_json::from_str(&ok(&out, "inclusion proof")).unwrap();
        let leaf = Hash::from_base64(v["leaf_hash"].as_str().unwrap()).unwrap();
        let index = v["seq"].as_u64().unwrap();
        verify_inclusion(index, size, &leaf, &hashes(&v), &root).expect("inclusion verifies");
    }
    // A consistency proof from the one-entry tree, whose root is entry 0's leaf hash.
    let first = client.audit_entries(0, 1).await.unwrap();
    let root1 = leaf_hash(first.strip_suffix(b"\n").unwrap());
    let out = tg(
        &[&["audit", "proof", "--from", "1", "--to", &n][..], &remote].concat(),
        None,
    );
    let v: Value = serde_json::from_str(&ok(&out, "consistency proof")).unwrap();
    verify_consistency(1, size, &hashes(&v), &root1, &root).expect("consistency verifies");
    // Without --size: the gateway's latest checkpoint.
    let out = tg(
        &[&["audit", "proof", "--seq", "1"][..], &remote].concat(),
        None,
    );
    let v: Value = serde_json::from_str(&ok(&out, "proof at the latest")).unwrap();
    assert!(v["tree_size"].as_u64().unwrap() >= size, "{v}");
    // Past the log: invalid input.
    let out = tg(
        &[
            &["audit", "proof", "--seq", "5000000", "--size", "6000000"][..],
            &remote,
        ]
        .concat(),
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");

    // The signed report, fetched and verified offline with the gateway key, once the poller
    // has brought the fill into the ledger, found the order filled and valued the portfolio
    // again (every 5 s): the equity history then holds the value before the buy and after it.
    let file = tmp.path().join("report.json");
    let f = file.to_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        ok(
            &tg(&[&["report", "--out", f][..], &remote].concat(), None),
            "report",
        );
        let report: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let data = &report["report"]["data"];
        let overall = &data["overall"];
        let core = &data["by_profile"]["core"];
        if overall["activity"]["trade_count"].as_u64() >= Some(1)
            && core["performance"]["observations"].as_u64() >= Some(2)
            && core["activity"]["orders"]["filled"].as_u64() >= Some(1)
        {
            assert!(overall["portfolio_value"].is_string(), "{overall}");
            performance_is_reported(data);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the fill or the second valuation never reached the report: {data}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // Two polls later BTC has the three price returns its correlation needs (the price marks
    // the snapshots were valued at).
    loop {
        ok(
            &tg(&[&["report", "--out", f][..], &remote].concat(), None),
            "report",
        );
        let report: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let corr = &report["report"]["data"]["asset_correlation"];
        let labels = corr["labels"].as_array().unwrap();
        if labels.iter().any(|l| l == "BTC") {
            assert_eq!(
                corr["values"].as_array().unwrap().len(),
                labels.len(),
                "{corr}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "BTC never reached the asset correlation: {corr}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let verified = ok(
        &tg(&["report", "verify", f, "--key", &pubkey], None),
        "report verify",
    );
    assert!(verified.contains("signed by the given key"), "{verified}");
    let report: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let bound = &report["report"]["checkpoint"];
    assert_eq!(bound["origin"], cp.checkpoint().origin(), "{report}");
    assert!(bound["tree_size"].as_u64().unwrap() >= size, "{report}");
    assert_eq!(report["report"]["kind"], "ledger", "{report}");

    stop(&mut server, &log);
}
