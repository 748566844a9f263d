//! Kraken simulator: API-Sign built by hand (exchanges.md §2.2) is accepted; a wrong secret,
//! a reused or lower nonce, an unknown key and a missing permission are refused with Kraken's
//! own errors; the REST counter refuses calls past its maximum; orders work end to end.

mod common;

use common::*;
use tradeguard_sim::kraken::limits::KrakenLimits;
use tradeguard_sim::{KeySpec, Permissions, SimConfig, Venue};

#[tokio::test]
async fn balance_is_accepted_in_kraken_shape() {
    let (sim, _) = start(SimConfig::default()).await;
    let c = sim.keys().get(Venue::Kraken);
    let a = kraken_post(c, "Balance", 1, "", c.api_secret.expose_secret()).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["error"], serde_json::json!([]));
    assert_eq!(a.body["result"]["ZUSD"], "100000.0000000000");
    assert_eq!(a.body["result"]["XXBT"], "2.0000000000");
    sim.shutdown().await;
}

#[tokio::test]
async fn fail_auth_table_gives_kraken_errors() {
    let (sim, _) = start(SimConfig::default()).await;
    let c = sim.keys().get(Venue::Kraken);
    let secret = c.api_secret.expose_secret();
    let wrong =
        "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
    let cases = [
        (100, wrong, "EAPI:Invalid signature"),
        (100, secret, ""),
        (100, secret, "EAPI:Invalid nonce"),
        (99, secret, "EAPI:Invalid nonce"),
        (101, wrong, "EAPI:Invalid signature"),
        (101, secret, ""),
    ];
    for (i, (nonce, key, want)) in cases.into_iter().enumerate() {
        let a = kraken_post(c, "Balance", nonce, "", key).await;
        let got = a.body["error"]
            .as_array()
            .and_then(|e| e.first())
            .and_then(|e| e.as_str())
            .unwrap_or("");
        assert_eq!(got, want, "TC{} failed: {}", i + 1, a.body);
        if !want.is_empty() {
            assert_eq!(
                a.body["result"],
                serde_json::json!({}),
                "TC{} failed: envelope",
                i + 1
            );
        }
    }
    let mut unknown = c.clone();
    unknown.api_key = "nope".into();
    let a = kraken_post(&unknown, "Balance", 500, "", secret).await;
    assert_eq!(a.body["error"][0], "EAPI:Invalid key");
    sim.shutdown().await;
}

#[tokio::test]
async fn fail_permission_denied_for_read_only_key_and_key_info_lists_permissions() {
    let (sim, _) = start(SimConfig::default()).await;
    let h = sim.venue(Venue::Kraken);
    let ro = h
        .create_key(
            sim.keys().get(Venue::Kraken).account,
            &KeySpec {
                permissions: Permissions::read_only(),
                ..KeySpec::trading(Venue::Kraken)
            },
        )
        .unwrap();
    let secret = ro.api_secret.expose_secret();
    let a = kraken_post(
        &ro,
        "AddOrder",
        1,
        "ordertype=market&pair=XBTUSD&type=buy&volume=0.01",
        secret,
    )
    .await;
    assert_eq!(a.body["error"][0], "EGeneral:Permission denied");
    let info = kraken_post(&ro, "GetApiKeyInfo", 2, "", secret).await;
    let perms = info.body["result"]["permissions"].as_array().unwrap();
    assert!(perms.iter().any(|p| p == "query-funds"));
    assert!(
        !perms
            .iter()
            .any(|p| p == "withdraw-funds" || p == "modify-trades")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn order_add_query_cancel_and_trades() {
    let (sim, _) = start(SimConfig::default()).await;
    let c = sim.keys().get(Venue::Kraken);
    let s = c.api_secret.expose_secret();
    let add = kraken_post(
        c,
        "AddOrder",
        1,
        "cl_ord_id=bot-7&ordertype=limit&pair=XBTUSD&price=30000&type=buy&volume=0.5",
        s,
    )
    .await;
    let txid = add.body["result"]["txid"][0]
        .as_str()
        .expect("txid")
        .to_owned();
    assert_eq!(
        add.body["result"]["descr"]["order"],
        "buy 0.50000000 XBTUSD @ limit 30000"
    );
    let dup = kraken_post(
        c,
        "AddOrder",
        2,
        "cl_ord_id=bot-7&ordertype=limit&pair=XBTUSD&price=30000&type=buy&volume=0.5",
        s,
    )
    .await;
    assert_eq!(dup.body["error"][0], "EOrder:Duplicate cl_ord_id");
    let open = kraken_post(c, "OpenOrders", 3, "cl_ord_id=bot-7", s).await;
    assert_eq!(
        open.body["result"]["open"][&txid]["status"], "open",
        "{}",
        open.body
    );
    let cancel = kraken_post(c, "CancelOrder", 4, &format!("txid={txid}"), s).await;
    assert_eq!(cancel.body["result"]["count"], 1, "{}", cancel.body);
    let q = kraken_post(c, "QueryOrders", 5, &format!("txid={txid}"), s).await;
    assert_eq!(q.body["result"][&txid]["status"], "canceled");
    let m = kraken_post(
        c,
        "AddOrder",
        6,
        "ordertype=market&pair=XXBTZUSD&type=sell&volume=0.1",
        s,
    )
    .await;
    assert!(m.body["result"]["txid"][0].is_string(), "{}", m.body);
    let trades = kraken_post(c, "TradesHistory", 7, "", s).await;
    assert_eq!(trades.body["result"]["count"], 1);
    let poor = kraken_post(
        c,
        "AddOrder",
        8,
        "ordertype=market&pair=XBTUSD&type=sell&volume=100",
        s,
    )
    .await;
    assert_eq!(poor.body["error"][0], "EOrder:Insufficient funds");
    sim.shutdown().await;
}

#[tokio::test]
async fn fail_rest_counter_past_maximum() {
    let limits = KrakenLimits {
        max_counter: 3.0,
        ..KrakenLimits::starter()
    };
    let (sim, clock) = start(SimConfig {
        kraken_limits: limits,
        ..SimConfig::default()
    })
    .await;
    let c = sim.keys().get(Venue::Kraken);
    let s = c.api_secret.expose_secret();
    for n in 1..=3 {
        assert_eq!(
            kraken_post(c, "Balance", n, "", s).await.body["error"],
            serde_json::json!([]),
            "call {n}"
        );
    }
    assert_eq!(
        kraken_post(c, "Balance", 4, "", s).await.body["error"][0],
        "EAPI:Rate limit exceeded"
    );
    clock.advance(3_100);
    assert_eq!(
        kraken_post(c, "Balance", 5, "", s).await.body["error"],
        serde_json::json!([]),
        "decayed by 1"
    );
    sim.shutdown().await;
}
