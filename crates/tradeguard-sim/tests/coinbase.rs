//! Coinbase Advanced Trade simulator: JWTs built by hand (exchanges.md §3.2, ES256 with
//! aws-lc-rs and EdDSA with tradeguard-crypto) are accepted; an expired, not-yet-valid,
//! too-long, wrong-uri, reused or foreign-key token is refused with 401; scopes, orders,
//! batch cancel and fills behave as Coinbase documents.

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;
use tradeguard_sim::{KeyScheme, KeySpec, Permissions, SimConfig, Venue};

const ACCOUNTS: &str = "/api/v3/brokerage/accounts";
const NOW_S: u64 = T0 / 1000;

#[tokio::test]
async fn es256_and_eddsa_tokens_are_accepted() {
    let (sim, _) = start(SimConfig::default()).await;
    let es = sim.keys().get(Venue::Coinbase);
    let spec = KeySpec {
        scheme: KeyScheme::Ed25519,
        permissions: Permissions::trading(),
        ip_allowlist: vec![],
    };
    let ed = sim
        .venue(Venue::Coinbase)
        .create_key(es.account, &spec)
        .unwrap();
    for (i, c) in [es, &ed].into_iter().enumerate() {
        let token = jwt(c, &claims(c, "GET", ACCOUNTS, NOW_S), &format!("n{i}"));
        let a = coinbase(c, Method::GET, ACCOUNTS, None, &token).await;
        assert_eq!(a.status, 200, "TC{} failed: {}", i + 1, a.body);
        assert!(
            a.body["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["currency"] == "USD" && x["available_balance"]["value"] == "100000")
        );
        assert!(a.header("x-ratelimit-remaining").is_some());
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn fail_jwt_table_gives_401_unauthenticated() {
    let (sim, _) = start(SimConfig::default()).await;
    let c = sim.keys().get(Venue::Coinbase);
    let foreign = sim
        .venue(Venue::Coinbase)
        .create_key(c.account, &KeySpec::trading(Venue::Coinbase))
        .unwrap();
    let host = c.base_url.trim_start_matches("http://");
    let mut wrong_key = foreign.clone();
    wrong_key.api_key = c.api_key.clone();
    let cases = vec![
        (
            jwt(c, &claims(c, "GET", ACCOUNTS, NOW_S - 121), "a"),
            "JWT expired",
        ),
        (
            jwt(c, &claims(c, "GET", ACCOUNTS, NOW_S + 5), "b"),
            "JWT not yet valid",
        ),
        (
            jwt(
                c,
                &json!({"sub": c.api_key, "nbf": NOW_S, "exp": NOW_S + 300, "uri": format!("GET {host}{ACCOUNTS}")}),
                "c",
            ),
            "JWT lifetime exceeds 2 minutes",
        ),
        (
            jwt(c, &claims(c, "POST", ACCOUNTS, NOW_S), "d"),
            "JWT uri does not match the request",
        ),
        (
            jwt(
                c,
                &claims(c, "GET", "/api/v3/brokerage/orders/historical/fills", NOW_S),
                "e",
            ),
            "JWT uri does not match the request",
        ),
        (
            jwt(&wrong_key, &claims(c, "GET", ACCOUNTS, NOW_S), "f"),
            "invalid JWT signature",
        ),
        ("not.a.jwt".to_owned(), "malformed JWT header"),
    ];
    for (i, (token, why)) in cases.into_iter().enumerate() {
        let a = coinbase(c, Method::GET, ACCOUNTS, None, &token).await;
        assert_eq!(a.status, 401, "TC{} failed: {}", i + 1, a.body);
        assert_eq!(
            (a.body["error"].as_str(), a.body["error_details"].as_str()),
            (Some("UNAUTHENTICATED"), Some(why)),
            "TC{} failed",
            i + 1
        );
    }
    let token = jwt(c, &claims(c, "GET", ACCOUNTS, NOW_S), "once");
    assert_eq!(
        coinbase(c, Method::GET, ACCOUNTS, None, &token)
            .await
            .status,
        200
    );
    let reused = coinbase(c, Method::GET, ACCOUNTS, None, &token).await;
    assert_eq!(
        (reused.status, reused.body["error_details"].as_str()),
        (
            401,
            Some("JWT already used; generate a new JWT for each request")
        )
    );
    let scheme_less = json!({"sub": c.api_key, "nbf": NOW_S, "exp": NOW_S + 120, "uri": format!("GET http://{host}{ACCOUNTS}")});
    assert_eq!(
        coinbase(
            c,
            Method::GET,
            ACCOUNTS,
            None,
            &jwt(c, &scheme_less, "ccxt")
        )
        .await
        .status,
        200,
        "ccxt's http:// uri form"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn orders_cancel_fills_permissions() {
    let (sim, _) = start(SimConfig::default()).await;
    let c = sim.keys().get(Venue::Coinbase);
    let call = |method: &'static str, path: &'static str, n: &'static str| {
        jwt(c, &claims(c, method, path, NOW_S), n)
    };
    let order = json!({"client_order_id": "c-1", "product_id": "BTC-USD", "side": "BUY",
                       "order_configuration": {"limit_limit_gtc": {"base_size": "0.01", "limit_price": "30000", "post_only": false}}});
    let placed = coinbase(
        c,
        Method::POST,
        "/api/v3/brokerage/orders",
        Some(&order),
        &call("POST", "/api/v3/brokerage/orders", "1"),
    )
    .await;
    assert_eq!(placed.body["success"], true, "{}", placed.body);
    let id = placed.body["success_response"]["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dup = coinbase(
        c,
        Method::POST,
        "/api/v3/brokerage/orders",
        Some(&order),
        &call("POST", "/api/v3/brokerage/orders", "2"),
    )
    .await;
    assert_eq!(
        (
            dup.body["success"].as_bool(),
            dup.body["error_response"]["message"].as_str()
        ),
        (Some(false), Some("duplicate client_order_id"))
    );
    let cancel = json!({"order_ids": [id]});
    let done = coinbase(
        c,
        Method::POST,
        "/api/v3/brokerage/orders/batch_cancel",
        Some(&cancel),
        &call("POST", "/api/v3/brokerage/orders/batch_cancel", "3"),
    )
    .await;
    assert_eq!(done.body["results"][0]["success"], true, "{}", done.body);
    let path = format!("/api/v3/brokerage/orders/historical/{id}");
    let got = coinbase(
        c,
        Method::GET,
        &path,
        None,
        &jwt(c, &claims(c, "GET", &path, NOW_S), "4"),
    )
    .await;
    assert_eq!(got.body["order"]["status"], "CANCELLED");
    let market = json!({"client_order_id": "c-2", "product_id": "BTC-USD", "side": "SELL",
                        "order_configuration": {"market_market_ioc": {"base_size": "0.01"}}});
    let sold = coinbase(
        c,
        Method::POST,
        "/api/v3/brokerage/orders",
        Some(&market),
        &call("POST", "/api/v3/brokerage/orders", "5"),
    )
    .await;
    assert_eq!(sold.body["success"], true);
    let fills = coinbase(
        c,
        Method::GET,
        "/api/v3/brokerage/orders/historical/fills?product_ids=BTC-USD",
        None,
        &call("GET", "/api/v3/brokerage/orders/historical/fills", "6"),
    )
    .await;
    assert_eq!(
        fills.body["fills"].as_array().map(Vec::len),
        Some(1),
        "{}",
        fills.body
    );
    assert_eq!(fills.body["fills"][0]["liquidity_indicator"], "TAKER");

    let ro = sim
        .venue(Venue::Coinbase)
        .create_key(
            c.account,
            &KeySpec {
                permissions: Permissions::read_only(),
                ..KeySpec::trading(Venue::Coinbase)
            },
        )
        .unwrap();
    let denied = coinbase(
        &ro,
        Method::POST,
        "/api/v3/brokerage/orders",
        Some(&market),
        &jwt(
            &ro,
            &claims(&ro, "POST", "/api/v3/brokerage/orders", NOW_S),
            "7",
        ),
    )
    .await;
    assert_eq!(
        (denied.status, denied.body["error_details"].as_str()),
        (403, Some("Missing required scopes"))
    );
    let w = sim
        .venue(Venue::Coinbase)
        .create_key(
            c.account,
            &KeySpec {
                permissions: Permissions::dangerous_withdraw(),
                ..KeySpec::trading(Venue::Coinbase)
            },
        )
        .unwrap();
    let perms = coinbase(
        &w,
        Method::GET,
        "/api/v3/brokerage/key_permissions",
        None,
        &jwt(
            &w,
            &claims(&w, "GET", "/api/v3/brokerage/key_permissions", NOW_S),
            "8",
        ),
    )
    .await;
    assert_eq!(
        (
            perms.body["can_trade"].as_bool(),
            perms.body["can_transfer"].as_bool()
        ),
        (Some(true), Some(true))
    );
    sim.shutdown().await;
}
