//! Kraken client against a loopback capture server: exact form bodies and `API-Sign`,
//! strictly increasing nonces under concurrency, error envelopes, lookups by `cl_ord_id`.

mod support;

use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use support::{Capture, Stub, T0, config, hub};
use tradeguard_exchange::kraken::KrakenClient;
use tradeguard_exchange::kraken::sign::api_sign;
use tradeguard_exchange::model::{
    ClientOrderId, ExchangeId, OrderRequest, OrderStatus, OrderType, Side, Symbol, TimeInForce,
    UnixMillis,
};
use tradeguard_exchange::{Exchange, ExchangeError, InMemorySecretSource, RejectKind};

const KEY: &str = "kraken-test-key";
const SECRET: &str =
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
const CID: &str = "6d1b345e-2821-40e2-ad83-4ecb18a06876";

fn client(srv: &Capture) -> KrakenClient {
    let (_clock, hub) = hub();
    let secrets = Arc::new(InMemorySecretSource::from_parts(KEY, SECRET, None));
    KrakenClient::new(&config(ExchangeId::Kraken, &srv.base), secrets, &hub).unwrap()
}

fn nonce_of(body: &str) -> u64 {
    body.split('&')
        .next()
        .unwrap()
        .strip_prefix("nonce=")
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn add_order_sends_the_exact_form_body_and_api_sign() {
    let srv = Capture::start(|_, _| {
        Stub::json(200, r#"{"error":[],"result":{"descr":{"order":"buy 1.25 XBTUSD @ limit 37500"},"txid":["OU22CG-KLAF2-FWUDD7"]}}"#)
    })
    .await;
    let c = client(&srv);
    let order = OrderRequest::new(
        ClientOrderId::parse(CID).unwrap(),
        Symbol::parse("BTC/USD").unwrap(),
        Side::Buy,
        OrderType::Limit {
            price: Decimal::new(37_500, 0),
            time_in_force: TimeInForce::Gtc,
        },
        Decimal::new(125, 2),
    )
    .unwrap();
    let ack = c.place_order(&order).await.unwrap();
    assert_eq!(ack.exchange_order_id.as_str(), "OU22CG-KLAF2-FWUDD7");

    let req = &srv.requests()[0];
    let deadline = UnixMillis((T0.as_secs() + 15) * 1000).to_rfc3339();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("nonce", T0.0.to_string().as_str()),
            ("pair", "XBTUSD"),
            ("type", "buy"),
            ("ordertype", "limit"),
            ("price", "37500"),
            ("timeinforce", "GTC"),
            ("volume", "1.25"),
            ("cl_ord_id", CID),
            ("deadline", deadline.as_str()),
        ])
        .finish();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/0/private/AddOrder");
    assert_eq!(req.body_str(), body);
    assert_eq!(req.header("api-key"), KEY);
    let sign = api_sign(
        SECRET,
        "/0/private/AddOrder",
        &T0.0.to_string(),
        body.as_bytes(),
    )
    .unwrap();
    assert_eq!(req.header("api-sign"), sign);
    assert_eq!(
        req.header("content-type"),
        "application/x-www-form-urlencoded"
    );
}

#[tokio::test]
async fn fail_invalid_nonce_is_definitive_and_not_retried() {
    let srv = Capture::start(|_, _| Stub::json(200, r#"{"error":["EAPI:Invalid nonce"]}"#)).await;
    let c = client(&srv);
    let err = c.balances().await.unwrap_err();
    assert_eq!(err.reject_kind(), Some(RejectKind::InvalidNonce), "{err}");
    assert!(err.to_string().contains("EAPI:Invalid nonce"));
    assert_eq!(srv.count(), 1);
}

#[tokio::test]
async fn concurrent_calls_arrive_with_strictly_increasing_nonces() {
    let srv = Capture::start(|_, _| {
        Stub::json(
            200,
            r#"{"error":[],"result":{"ZUSD":{"balance":"100.0","hold_trade":"25.5"}}}"#,
        )
        .delayed(Duration::from_millis(10))
    })
    .await;
    let c = Arc::new(client(&srv));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move { c.balances().await }));
    }
    for t in tasks {
        let b = t.await.unwrap().unwrap();
        assert_eq!(b[0].free, Decimal::new(745, 1));
        assert_eq!(b[0].locked, Decimal::new(255, 1));
    }
    let nonces: Vec<u64> = srv
        .requests()
        .iter()
        .map(|r| nonce_of(r.body_str()))
        .collect();
    assert_eq!(nonces.len(), 8);
    assert!(
        nonces.windows(2).all(|w| w[0] < w[1]),
        "arrival order {nonces:?}"
    );
}

/// Regression (chaos test): an error envelope whose `result` is `{}` was read as a malformed
/// result (a protocol error that opened the circuit) instead of as Kraken's error.
#[tokio::test]
async fn cancel_of_a_closed_order_is_unknown_order_even_with_an_empty_result() {
    let srv =
        Capture::start(|_, _| Stub::json(200, r#"{"error":["EOrder:Unknown order"],"result":{}}"#))
            .await;
    let c = client(&srv);
    let sym = Symbol::parse("BTC/USD").unwrap();
    let id = tradeguard_exchange::model::ExchangeOrderId::parse("OU22CG-KLAF2-FWUDD7").unwrap();
    let err = c
        .cancel_order(&sym, &tradeguard_exchange::model::OrderRef::Exchange(id))
        .await
        .unwrap_err();
    assert_eq!(err.reject_kind(), Some(RejectKind::UnknownOrder), "{err}");
    assert_eq!(srv.count(), 1);
}

/// Regression: the sending turn was per client, so two clients of one key (two bots behind
/// one gateway) could put their nonces on the wire out of order.
#[tokio::test]
async fn two_clients_of_one_key_send_nonces_in_order() {
    let srv = Capture::start(|_, _| {
        Stub::json(200, r#"{"error":[],"result":{}}"#).delayed(Duration::from_millis(5))
    })
    .await;
    let (_clock, hub) = hub();
    let secrets = Arc::new(InMemorySecretSource::from_parts(KEY, SECRET, None));
    let cfg = config(ExchangeId::Kraken, &srv.base);
    let clients: Vec<Arc<KrakenClient>> = (0..2)
        .map(|_| Arc::new(KrakenClient::new(&cfg, secrets.clone(), &hub).unwrap()))
        .collect();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let c = clients[i % 2].clone();
        tasks.push(tokio::spawn(async move { c.balances().await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let nonces: Vec<u64> = srv
        .requests()
        .iter()
        .map(|r| nonce_of(r.body_str()))
        .collect();
    assert_eq!(nonces.len(), 12);
    assert!(
        nonces.windows(2).all(|w| w[0] < w[1]),
        "arrival order {nonces:?}"
    );
}

#[tokio::test]
async fn order_by_client_id_looks_in_open_then_closed_orders() {
    let closed = format!(
        r#"{{"error":[],"result":{{"closed":{{"OU22CG-KLAF2-FWUDD7":{{"refid":null,"cl_ord_id":"{CID}","status":"closed","opentm":1795386067.1234,"descr":{{"pair":"XBTUSD","type":"buy","ordertype":"limit","price":"37500.0"}},"vol":"1.25000000","vol_exec":"1.25000000","cost":"46875.0","fee":"12.1","price":"37500.0"}}}},"count":1}}}}"#
    );
    let srv = Capture::start(move |req, _| match req.path.as_str() {
        "/0/private/OpenOrders" => Stub::json(200, r#"{"error":[],"result":{"open":{}}}"#),
        _ => Stub::json(200, &closed),
    })
    .await;
    let c = client(&srv);
    let sym = Symbol::parse("BTC/USD").unwrap();
    let o = c
        .order_by_client_id(&sym, &ClientOrderId::parse(CID).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.status, OrderStatus::Filled);
    assert_eq!(o.filled_quantity, Decimal::new(125, 2));
    assert_eq!(o.created_at, Some(UnixMillis(1_795_386_067_123)));
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].body_str().ends_with(&format!("&cl_ord_id={CID}")));
    assert_eq!(reqs[1].path, "/0/private/ClosedOrders");
}

#[tokio::test]
async fn fills_keep_only_the_pair_and_time_asked_for() {
    let body = r#"{"error":[],"result":{"trades":{
        "THVRQM-33VKH-UCI7BS":{"ordertxid":"OQCLML-BW3P3-BUCMWZ","postxid":"TKH2SE-M7IF5-CFI7LT","pair":"XXBTZUSD","time":1795386070.5,"type":"buy","ordertype":"limit","price":"30010.00000","cost":"600.20000","fee":"0.00000","vol":"0.02000000","margin":"0.00000","misc":"","maker":true},
        "TCWJEG-FL4SZ-3FKGH6":{"ordertxid":"OQCLML-BW3P3-BUCMWZ","postxid":"TKH2SE-M7IF5-CFI7LT","pair":"XETHZUSD","time":1795386071.0,"type":"sell","ordertype":"limit","price":"2000.0","cost":"20.0","fee":"0.05","vol":"0.01","margin":"0.0","misc":""},
        "TOLD00-00000-000000":{"ordertxid":"OQCLML-BW3P3-BUCMWZ","postxid":"x","pair":"XXBTZUSD","time":1795386000.0,"type":"buy","ordertype":"limit","price":"1","cost":"1","fee":"0","vol":"1","margin":"0","misc":""}
    },"count":3}}"#;
    let srv = Capture::start(move |_, _| Stub::json(200, body)).await;
    let c = client(&srv);
    let fills = c
        .fills_since(&Symbol::parse("BTC/USD").unwrap(), T0)
        .await
        .unwrap();
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0].trade_id.as_str(), "THVRQM-33VKH-UCI7BS");
    assert_eq!(fills[0].time, UnixMillis(1_795_386_070_500));
    assert_eq!(fills[0].is_maker, Some(true));
    assert!(
        srv.requests()[0]
            .body_str()
            .contains(&format!("start={}&ofs=0", T0.as_secs() - 1))
    );
}

#[tokio::test]
async fn rate_limit_error_in_the_body_slows_down() {
    let srv = Capture::start(|_, n| match n {
        0 => Stub::json(200, r#"{"error":["EAPI:Rate limit exceeded"]}"#),
        _ => Stub::json(200, r#"{"error":[],"result":{}}"#),
    })
    .await;
    let c = client(&srv);
    assert!(c.balances().await.unwrap().is_empty());
    assert_eq!(srv.count(), 2);
    let nonces: Vec<u64> = srv
        .requests()
        .iter()
        .map(|r| nonce_of(r.body_str()))
        .collect();
    assert!(
        nonces[0] < nonces[1],
        "a retry gets a fresh nonce: {nonces:?}"
    );
}

#[tokio::test]
async fn key_permissions_read_get_api_key_info() {
    let body = r#"{"error":[],"result":{"apiKeyName":"bot","apiKey":"k","nonce":"1","nonceWindow":0,"permissions":["query-funds","query-open-trades","modify-trades","withdraw-funds"],"iban":"AA00","validUntil":"0","queryFrom":"0","queryTo":"0","createdTime":"1","modifiedTime":"1","ipAllowlist":["203.0.113.7"],"lastUsed":"1"}}"#;
    let srv = Capture::start(move |_, _| Stub::json(200, body)).await;
    let c = client(&srv);
    let p = c.key_permissions().await.unwrap();
    assert!(p.can_withdraw && p.can_trade);
    assert_eq!(p.ip_restricted, Some(true));
    assert_eq!(srv.requests()[0].path, "/0/private/GetApiKeyInfo");
}

#[tokio::test]
async fn fail_sandbox_has_no_kraken_environment() {
    let (_clock, hub) = hub();
    let mut cfg = tradeguard_exchange::ConnectorConfig::new(
        ExchangeId::Kraken,
        tradeguard_exchange::model::AccountId::parse("k").unwrap(),
    );
    cfg.sandbox = true;
    let secrets = Arc::new(InMemorySecretSource::from_parts(KEY, SECRET, None));
    let err = KrakenClient::new(&cfg, secrets, &hub).err().unwrap();
    assert!(matches!(err, ExchangeError::Unsupported { .. }), "{err}");
}

#[tokio::test]
async fn fail_lookup_when_kraken_ignores_the_cl_ord_id_filter() {
    let other = r#"{"error":[],"result":{"open":{"OTHER1-AAAAA-BBBBBB":{"cl_ord_id":"someone-else","status":"open","opentm":1795386067.0,"descr":{"pair":"XBTUSD","type":"buy","ordertype":"limit","price":"1.0"},"vol":"1","vol_exec":"0","price":"0"}}}}"#;
    let srv = Capture::start(move |_, _| Stub::json(200, other)).await;
    let c = client(&srv);
    let sym = Symbol::parse("BTC/USD").unwrap();
    let err = c
        .order_by_client_id(&sym, &ClientOrderId::parse(CID).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ExchangeError::Protocol { .. }),
        "must not conclude absence: {err}"
    );
}
