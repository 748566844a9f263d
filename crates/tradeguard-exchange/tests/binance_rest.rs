//! Binance client against a loopback capture server: exact request bytes and signatures,
//! error shapes, retries only where safe, 429/418 handling and weight feedback.

mod support;

use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use support::{Capture, Stub, T0, closed_port, config, dropping_server, hub};
use tradeguard_exchange::binance::BinanceClient;
use tradeguard_exchange::binance::sign::hmac_signature;
use tradeguard_exchange::model::{
    ClientOrderId, ExchangeId, OrderRequest, OrderType, Side, Symbol, TimeInForce,
};
use tradeguard_exchange::{Exchange, ExchangeError, InMemorySecretSource, RejectKind};

const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

fn secrets() -> Arc<InMemorySecretSource> {
    Arc::new(InMemorySecretSource::from_parts(KEY, SECRET, None))
}

fn limit_order() -> OrderRequest {
    OrderRequest::new(
        ClientOrderId::parse("tg-0001").unwrap(),
        Symbol::parse("LTC/BTC").unwrap(),
        Side::Buy,
        OrderType::Limit {
            price: Decimal::new(1, 1),
            time_in_force: TimeInForce::Gtc,
        },
        Decimal::ONE,
    )
    .unwrap()
}

const ACK: &str = r#"{"symbol":"LTCBTC","orderId":28,"orderListId":-1,"clientOrderId":"tg-0001","transactTime":1795386067000,"price":"0.10000000","origQty":"1.00000000","executedQty":"0.00000000","cummulativeQuoteQty":"0.00000000","status":"NEW","timeInForce":"GTC","type":"LIMIT","side":"BUY"}"#;

#[tokio::test]
async fn place_order_sends_the_exact_signed_form_body() {
    let srv = Capture::start(|_, _| Stub::json(200, ACK)).await;
    let (_clock, hub) = hub();
    let client =
        BinanceClient::new(&config(ExchangeId::Binance, &srv.base), secrets(), &hub).unwrap();
    let ack = client.place_order(&limit_order()).await.unwrap();
    assert_eq!(ack.exchange_order_id.as_str(), "28");

    let req = &srv.requests()[0];
    let payload = format!(
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&price=0.1&quantity=1&newClientOrderId=tg-0001&newOrderRespType=RESULT&recvWindow=5000&timestamp={}",
        T0.0
    );
    let expected = format!("{payload}&signature={}", hmac_signature(SECRET, &payload));
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/api/v3/order");
    assert_eq!(req.query, None, "a POST carries everything in the body");
    assert_eq!(req.body_str(), expected);
    assert_eq!(req.header("x-mbx-apikey"), KEY);
    assert_eq!(
        req.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    assert!(req.header("user-agent").starts_with("tradeguard/"));
}

#[tokio::test]
async fn balances_sign_the_query_string_and_skip_zero_balances() {
    let body = r#"{"canTrade":true,"balances":[{"asset":"BTC","free":"0.50000000","locked":"0.10000000"},{"asset":"ETH","free":"0.00000000","locked":"0.00000000"}]}"#;
    let srv = Capture::start(move |_, _| Stub::json(200, body)).await;
    let (_clock, hub) = hub();
    let client =
        BinanceClient::new(&config(ExchangeId::Binance, &srv.base), secrets(), &hub).unwrap();
    let b = client.balances().await.unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].asset.as_str(), "BTC");
    assert_eq!(b[0].total(), Decimal::new(6, 1));

    let req = &srv.requests()[0];
    let payload = format!("omitZeroBalances=true&recvWindow=5000&timestamp={}", T0.0);
    assert_eq!(req.method, "GET");
    assert_eq!(req.path, "/api/v3/account");
    assert_eq!(
        req.query.as_deref().unwrap(),
        format!("{payload}&signature={}", hmac_signature(SECRET, &payload))
    );
    assert!(req.body.is_empty());
}

#[tokio::test]
async fn fail_invalid_signature_is_definitive_and_not_retried() {
    let srv = Capture::start(|_, _| {
        Stub::json(
            400,
            r#"{"code":-1022,"msg":"Signature for this request is not valid."}"#,
        )
    })
    .await;
    let (_clock, hub) = hub();
    let client =
        BinanceClient::new(&config(ExchangeId::Binance, &srv.base), secrets(), &hub).unwrap();
    let err = client.balances().await.unwrap_err();
    assert_eq!(
        err.reject_kind(),
        Some(RejectKind::InvalidSignature),
        "{err}"
    );
    assert!(err.to_string().contains("-1022"), "{err}");
    assert_eq!(srv.count(), 1);
}

#[tokio::test]
async fn server_errors_retry_reads_but_make_orders_unknown() {
    let srv = Capture::start(|_, _| Stub::json(503, "Service Unavailable")).await;
    let (clock, hub) = hub();
    let client =
        BinanceClient::new(&config(ExchangeId::Binance, &srv.base), secrets(), &hub).unwrap();
    let err = client.balances().await.unwrap_err();
    assert!(matches!(err, ExchangeError::Transient { .. }), "{err}");
    assert_eq!(srv.count(), 3, "a read is tried three times");
    assert_eq!(clock.sleeps().len(), 2, "with a back-off before each retry");

    let err = client.place_order(&limit_order()).await.unwrap_err();
    assert!(matches!(err, ExchangeError::UnknownOutcome { .. }), "{err}");
    assert_eq!(srv.count(), 4, "a new order is sent exactly once");
}

#[tokio::test]
async fn dropped_connection_after_an_order_is_unknown_outcome() {
    let (base, count) = dropping_server().await;
    let (_clock, hub) = hub();
    let client = BinanceClient::new(&config(ExchangeId::Binance, &base), secrets(), &hub).unwrap();
    let err = client.place_order(&limit_order()).await.unwrap_err();
    assert!(matches!(err, ExchangeError::UnknownOutcome { .. }), "{err}");
    assert_eq!(*count.lock().unwrap(), 1);
}

#[tokio::test]
async fn timeout_on_an_order_is_unknown_outcome() {
    let srv = Capture::start(|_, _| Stub::json(200, ACK).delayed(Duration::from_secs(2))).await;
    let (_clock, hub) = hub();
    let client =
        BinanceClient::new(&config(ExchangeId::Binance, &srv.base), secrets(), &hub).unwrap();
    let err = client.place_order(&limit_order()).await.unwrap_err();
    assert!(matches!(err, ExchangeError::UnknownOutcome { .. }), "{err}");
    assert_eq!(srv.count(), 1);
}

#[tokio::test]
async fn connection_refused_means_the_order_was_not_sent() {
    let base = closed_port().await;
    let (_clock, hub) = hub();
    let client = BinanceClient::new(&config(ExchangeId::Binance, &base), secrets(), &hub).unwrap();
    let err = client.place_order(&limit_order()).await.unwrap_err();
    assert!(matches!(err, ExchangeError::Transient { .. }), "{err}");
}

#[tokio::test]
async fn a_418_ban_stops_all_calls_until_it_ends() {
    let srv = Capture::start(|_, _| {
        Stub::json(
            418,
            r#"{"code":-1003,"msg":"Way too many requests; IP banned."}"#,
        )
        .header("retry-after", "300")
    })
    .await;
    let (clock, hub) = hub();
    let client =
        BinanceClient::new(&config(ExchangeId::Binance, &srv.base), secrets(), &hub).unwrap();
    let err = client.balances().await.unwrap_err();
    let ExchangeError::Banned { until, .. } = err else {
        panic!("{err}")
    };
    assert_eq!(until, T0.plus(Duration::from_secs(300)));
    // A second client on the same account and egress shares the ban without calling out.
    let other =
        BinanceClient::new(&config(ExchangeId::Binance, &srv.base), secrets(), &hub).unwrap();
    assert!(matches!(
        other.open_orders(None).await,
        Err(ExchangeError::Banned { .. })
    ));
    assert_eq!(srv.count(), 1);
    clock.advance(Duration::from_secs(301));
    let _ = client.balances().await;
    assert_eq!(srv.count(), 2, "calls resume after the ban");
}

#[tokio::test]
async fn a_429_pauses_for_retry_after_then_retries() {
    let srv = Capture::start(|_, n| match n {
        0 => Stub::json(429, r#"{"code":-1003,"msg":"Too many requests."}"#)
            .header("retry-after", "2"),
        _ => Stub::json(200, r#"{"balances":[]}"#),
    })
    .await;
    let (clock, hub) = hub();
    let client =
        BinanceClient::new(&config(ExchangeId::Binance, &srv.base), secrets(), &hub).unwrap();
    client.balances().await.unwrap();
    assert_eq!(srv.count(), 2);
    assert!(
        clock.slept() >= Duration::from_secs(2),
        "waited {:?}",
        clock.slept()
    );
}

#[tokio::test]
async fn used_weight_header_makes_the_next_caller_wait_for_the_next_minute() {
    let srv = Capture::start(|_, _| {
        Stub::json(200, r#"{"balances":[]}"#).header("x-mbx-used-weight-1m", "5690")
    })
    .await;
    let (clock, hub) = hub();
    let client =
        BinanceClient::new(&config(ExchangeId::Binance, &srv.base), secrets(), &hub).unwrap();
    client.balances().await.unwrap();
    assert!(clock.sleeps().is_empty());
    client.balances().await.unwrap();
    let waited = clock.slept();
    let to_next_minute = Duration::from_millis((60_000 - T0.0 % 60_000) as u64);
    assert_eq!(
        waited, to_next_minute,
        "5690 + 20 > 95% of 6000: wait for the window"
    );
}

#[tokio::test]
async fn unknown_client_order_id_is_none() {
    let srv =
        Capture::start(|_, _| Stub::json(400, r#"{"code":-2013,"msg":"Order does not exist."}"#))
            .await;
    let (_clock, hub) = hub();
    let client =
        BinanceClient::new(&config(ExchangeId::Binance, &srv.base), secrets(), &hub).unwrap();
    let sym = Symbol::parse("LTC/BTC").unwrap();
    let got = client
        .order_by_client_id(&sym, &ClientOrderId::parse("tg-9").unwrap())
        .await
        .unwrap();
    assert!(got.is_none());
    let q = srv.requests()[0].query.clone().unwrap();
    assert!(
        q.starts_with("symbol=LTCBTC&origClientOrderId=tg-9&recvWindow=5000&timestamp="),
        "{q}"
    );
}

#[tokio::test]
async fn open_orders_without_symbol_resolves_pairs_from_exchange_info() {
    let srv = Capture::start(|req, _| match req.path.as_str() {
        "/api/v3/openOrders" => Stub::json(200, &format!("[{ACK}]")),
        "/api/v3/exchangeInfo" => Stub::json(
            200,
            r#"{"symbols":[{"symbol":"LTCBTC","baseAsset":"LTC","quoteAsset":"BTC"}]}"#,
        ),
        _ => Stub::json(404, "{}"),
    })
    .await;
    let (_clock, hub) = hub();
    let client =
        BinanceClient::new(&config(ExchangeId::Binance, &srv.base), secrets(), &hub).unwrap();
    let orders = client.open_orders(None).await.unwrap();
    assert_eq!(orders[0].symbol.to_string(), "LTC/BTC");
    assert_eq!(
        srv.requests()[1].query.as_deref(),
        Some("symbols=%5B%22LTCBTC%22%5D")
    );
}

#[tokio::test]
async fn key_permissions_read_api_restrictions() {
    let body = r#"{"ipRestrict":false,"createTime":1698645219000,"enableReading":true,"enableWithdrawals":true,"enableInternalTransfer":false,"enableMargin":false,"enableFutures":false,"permitsUniversalTransfer":false,"enableVanillaOptions":false,"enableFixApiTrade":false,"enableFixReadOnly":false,"enableSpotAndMarginTrading":true,"enablePortfolioMarginTrading":false}"#;
    let srv = Capture::start(move |_, _| Stub::json(200, body)).await;
    let (_clock, hub) = hub();
    let client =
        BinanceClient::new(&config(ExchangeId::Binance, &srv.base), secrets(), &hub).unwrap();
    let p = client.key_permissions().await.unwrap();
    assert!(p.can_withdraw && p.can_trade && !p.can_transfer);
    assert_eq!(p.ip_restricted, Some(false));
    assert_eq!(srv.requests()[0].path, "/sapi/v1/account/apiRestrictions");
}

#[tokio::test]
async fn requests_go_through_the_configured_proxy() {
    let proxy = Capture::start(|_, _| Stub::json(200, r#"{"serverTime":1795386067500}"#)).await;
    let (_clock, hub) = hub();
    let target = url::Url::parse("http://127.0.0.2:9/").unwrap();
    let mut cfg = config(ExchangeId::Binance, &target);
    cfg.proxy = Some(proxy.base.clone());
    let client = BinanceClient::new(&cfg, secrets(), &hub).unwrap();
    assert_eq!(client.server_time().await.unwrap().0, 1_795_386_067_500);
    assert_eq!(proxy.requests()[0].uri, "http://127.0.0.2:9/api/v3/time");
}
