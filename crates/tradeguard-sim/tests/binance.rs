//! Binance simulator: requests signed by hand (exchanges.md §1.2) are accepted; a wrong
//! secret, a stale or early timestamp, a missing or unknown key and a missing permission are
//! refused with Binance's own codes; orders, duplicate ids and rate limits behave as documented.

mod common;

use common::*;
use reqwest::Method;
use tradeguard_sim::binance::limits::BinanceLimits;
use tradeguard_sim::{KeyScheme, KeySpec, Permissions, SimConfig, Venue};

fn ts() -> String {
    format!("timestamp={T0}")
}

#[tokio::test]
async fn signed_account_request_is_accepted_with_weight_header() {
    let (sim, _) = start(SimConfig::default()).await;
    let c = sim.keys().get(Venue::Binance);
    let params = format!("omitZeroBalances=true&{}", ts());
    let a = binance_get(
        c,
        "/api/v3/account",
        &params,
        &binance_hmac(c.api_secret.expose_secret(), &params),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.header("x-mbx-used-weight-1m"), Some("20"));
    let usdt = a.body["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == "USDT")
        .unwrap()
        .clone();
    assert_eq!(usdt["free"], "100000.00000000");
    sim.shutdown().await;
}

#[tokio::test]
async fn fail_auth_table_gives_binance_codes() {
    let (sim, _) = start(SimConfig::default()).await;
    let c = sim.keys().get(Venue::Binance);
    let good = |p: &str| binance_hmac(c.api_secret.expose_secret(), p);
    let stale = format!("timestamp={}", T0 - 5_001);
    let early = format!("timestamp={}", T0 + 1_000);
    let wide = format!("timestamp={}&recvWindow=60001", T0);
    let cases: Vec<(String, String, u16, i64)> = vec![
        (ts(), binance_hmac("not-the-secret", &ts()), 400, -1022),
        (stale.clone(), good(&stale), 400, -1021),
        (early.clone(), good(&early), 400, -1021),
        (wide.clone(), good(&wide), 400, -1131),
        (
            "recvWindow=5000".into(),
            good("recvWindow=5000"),
            400,
            -1102,
        ),
    ];
    for (i, (params, sig, status, code)) in cases.into_iter().enumerate() {
        let a = binance_get(c, "/api/v3/account", &params, &sig).await;
        assert_eq!(
            (a.status, a.body["code"].as_i64()),
            (status, Some(code)),
            "TC{} failed: {}",
            i + 1,
            a.body
        );
    }
    let a = send(client().get(format!(
        "{}/api/v3/account?{}&signature={}",
        c.base_url,
        ts(),
        good(&ts())
    )))
    .await;
    assert_eq!(
        (a.status, a.body["code"].as_i64()),
        (401, Some(-2014)),
        "missing key"
    );
    let a = send(
        client()
            .get(format!(
                "{}/api/v3/account?{}&signature={}",
                c.base_url,
                ts(),
                good(&ts())
            ))
            .header("X-MBX-APIKEY", "nope"),
    )
    .await;
    assert_eq!(
        (a.status, a.body["code"].as_i64()),
        (401, Some(-2015)),
        "unknown key"
    );
    assert_eq!(
        a.body["msg"],
        "Invalid API-key, IP, or permissions for action."
    );
    let a = binance_get(c, "/api/v3/account", &ts(), &binance_hmac("x", &ts())).await;
    assert_eq!(a.body["msg"], "Signature for this request is not valid.");
    sim.shutdown().await;
}

#[tokio::test]
async fn ed25519_key_signs_base64_and_tampering_fails() {
    let (sim, _) = start(SimConfig::default()).await;
    let h = sim.venue(Venue::Binance);
    let spec = KeySpec {
        scheme: KeyScheme::Ed25519,
        permissions: Permissions::trading(),
        ip_allowlist: vec![],
    };
    let c = h
        .create_key(sim.keys().get(Venue::Binance).account, &spec)
        .unwrap();
    let pem = c.api_secret.expose_secret();
    let a = binance_get(&c, "/api/v3/account", &ts(), &binance_ed25519(pem, &ts())).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let other = format!("timestamp={}", T0 - 1);
    let a = binance_get(&c, "/api/v3/account", &ts(), &binance_ed25519(pem, &other)).await;
    assert_eq!(a.body["code"], -1022);
    sim.shutdown().await;
}

#[tokio::test]
async fn order_lifecycle_and_duplicate_client_id() {
    let (sim, _) = start(SimConfig::default()).await;
    let c = sim.keys().get(Venue::Binance);
    let s = |p: &str| binance_hmac(c.api_secret.expose_secret(), p);
    let body = format!(
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=30000&newClientOrderId=bot-1&{}",
        ts()
    );
    let a = binance_form(c, Method::POST, "/api/v3/order", &body, &s(&body)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        (a.body["status"].as_str(), a.body["clientOrderId"].as_str()),
        (Some("NEW"), Some("bot-1"))
    );
    assert_eq!(a.header("x-mbx-order-count-10s"), Some("1"));
    assert_eq!(
        a.header("x-mbx-used-weight-1m"),
        Some("0"),
        "successful orders are free"
    );

    let again = binance_form(c, Method::POST, "/api/v3/order", &body, &s(&body)).await;
    assert_eq!(
        (again.status, again.body["code"].as_i64()),
        (400, Some(-2010))
    );
    assert_eq!(again.body["msg"], "Duplicate order sent.");
    assert_eq!(
        again.header("x-mbx-used-weight-1m"),
        Some("1"),
        "failed orders cost 1"
    );

    let q = format!("symbol=BTCUSDT&origClientOrderId=bot-1&{}", ts());
    let got = binance_get(c, "/api/v3/order", &q, &s(&q)).await;
    assert_eq!(
        (
            got.body["orderId"].as_u64(),
            got.body["isWorking"].as_bool()
        ),
        (a.body["orderId"].as_u64(), Some(true))
    );

    let cancel = binance_form(c, Method::DELETE, "/api/v3/order", &q, &s(&q)).await;
    assert_eq!(cancel.body["status"], "CANCELED", "{}", cancel.body);
    let twice = binance_form(c, Method::DELETE, "/api/v3/order", &q, &s(&q)).await;
    assert_eq!(twice.body["code"], -2011);

    let m = format!(
        "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.01&{}",
        ts()
    );
    let sold = binance_form(c, Method::POST, "/api/v3/order", &m, &s(&m)).await;
    assert_eq!(sold.body["status"], "FILLED", "{}", sold.body);
    assert_eq!(sold.body["fills"][0]["commissionAsset"], "USDT");
    let t = format!("symbol=BTCUSDT&{}", ts());
    let trades = binance_get(c, "/api/v3/myTrades", &t, &s(&t)).await;
    assert_eq!(trades.body.as_array().map(Vec::len), Some(1));
    assert_eq!(trades.body[0]["isMaker"], false);
    sim.shutdown().await;
}

#[tokio::test]
async fn fail_read_only_key_cannot_trade_and_restrictions_show_withdraw() {
    let (sim, _) = start(SimConfig::default()).await;
    let h = sim.venue(Venue::Binance);
    let account = sim.keys().get(Venue::Binance).account;
    let ro = h
        .create_key(
            account,
            &KeySpec {
                permissions: Permissions::read_only(),
                ..KeySpec::trading(Venue::Binance)
            },
        )
        .unwrap();
    let body = format!(
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001&{}",
        ts()
    );
    let a = binance_form(
        &ro,
        Method::POST,
        "/api/v3/order",
        &body,
        &binance_hmac(ro.api_secret.expose_secret(), &body),
    )
    .await;
    assert_eq!((a.status, a.body["code"].as_i64()), (401, Some(-2015)));

    let w = h
        .create_key(
            account,
            &KeySpec {
                permissions: Permissions::dangerous_withdraw(),
                ..KeySpec::trading(Venue::Binance)
            },
        )
        .unwrap();
    let r = binance_get(
        &w,
        "/sapi/v1/account/apiRestrictions",
        &ts(),
        &binance_hmac(w.api_secret.expose_secret(), &ts()),
    )
    .await;
    assert_eq!(
        (
            r.body["enableWithdrawals"].as_bool(),
            r.body["ipRestrict"].as_bool()
        ),
        (Some(true), Some(false)),
        "{}",
        r.body
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn weight_limit_gives_429_then_418_with_retry_after() {
    let limits = BinanceLimits {
        weight_per_minute: 45,
        strikes_before_ban: 2,
        ..BinanceLimits::default()
    };
    let (sim, _) = start(SimConfig {
        binance_limits: limits,
        ..SimConfig::default()
    })
    .await;
    let c = sim.keys().get(Venue::Binance);
    let sig = binance_hmac(c.api_secret.expose_secret(), &ts());
    let statuses = {
        let mut v = Vec::new();
        for _ in 0..6 {
            let a = binance_get(c, "/api/v3/account", &ts(), &sig).await;
            v.push((
                a.status,
                a.header("retry-after").map(str::to_owned),
                a.body["code"].as_i64(),
            ));
        }
        v
    };
    assert_eq!(statuses[0].0, 200);
    assert_eq!(statuses[1].0, 200);
    assert_eq!(
        (statuses[2].0, statuses[2].2),
        (429, Some(-1003)),
        "60 > 45"
    );
    assert!(statuses[2].1.is_some(), "429 carries Retry-After");
    assert_eq!(statuses[3].0, 429);
    assert_eq!(statuses[4].0, 418, "third strike bans: {statuses:?}");
    assert_eq!(statuses[4].1.as_deref(), Some("120"));
    assert_eq!(statuses[5].0, 418);
    let stats = sim.venue(Venue::Binance).rate_stats();
    assert_eq!(
        (stats.admitted, stats.limited, stats.banned),
        (2, 2, 2),
        "{stats:?}"
    );
    assert_eq!(stats.weight_per_minute.values().sum::<u32>(), 40);
    sim.shutdown().await;
}

#[tokio::test]
async fn fail_ip_restricted_key_from_another_ip() {
    let (sim, _) = start(SimConfig::default()).await;
    let h = sim.venue(Venue::Binance);
    let allow = |ip: &str| KeySpec {
        ip_allowlist: vec![ip.parse().unwrap()],
        ..KeySpec::trading(Venue::Binance)
    };
    let elsewhere = h.funded_key(&allow("10.1.2.3")).unwrap();
    let here = h.funded_key(&allow("127.0.0.1")).unwrap();
    assert_ne!(
        elsewhere.account,
        sim.keys().get(Venue::Binance).account,
        "a new funded account"
    );
    let a = binance_get(
        &elsewhere,
        "/api/v3/account",
        &ts(),
        &binance_hmac(elsewhere.api_secret.expose_secret(), &ts()),
    )
    .await;
    assert_eq!((a.status, a.body["code"].as_i64()), (401, Some(-2015)));
    let r = binance_get(
        &here,
        "/sapi/v1/account/apiRestrictions",
        &ts(),
        &binance_hmac(here.api_secret.expose_secret(), &ts()),
    )
    .await;
    assert_eq!(r.body["ipRestrict"], true, "{}", r.body);
    sim.shutdown().await;
}
