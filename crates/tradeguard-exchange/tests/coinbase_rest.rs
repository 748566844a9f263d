//! Coinbase Advanced Trade and Coinbase Exchange clients against a loopback capture server:
//! the JWT and `CB-ACCESS-*` headers as sent, exact bodies, error shapes, lookups.

mod support;

use std::sync::Arc;

use rust_decimal::Decimal;
use serde_json::Value;
use support::{Capture, Stub, T0, config, hub};
use tradeguard_exchange::coinbase::CoinbaseClient;
use tradeguard_exchange::coinbase_exchange::CoinbaseExchangeClient;
use tradeguard_exchange::coinbase_exchange::sign::access_sign;
use tradeguard_exchange::model::{
    ClientOrderId, ExchangeId, ExchangeOrderId, OrderRef, OrderRequest, OrderType, Side, Symbol,
    TimeInForce,
};
use tradeguard_exchange::{Exchange, ExchangeError, InMemorySecretSource, RejectKind};

const CB_KEY: &str = "organizations/o-1/apiKeys/k-1";
const CID: &str = "496ffbba-7dae-4864-f7e8-a5bf52c6d0e2";

fn pem(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/vectors/coinbase/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn cb_client(srv: &Capture) -> CoinbaseClient {
    let (_clock, hub) = hub();
    let secrets = Arc::new(InMemorySecretSource::from_parts(
        CB_KEY,
        &pem("es256_sec1.pem"),
        None,
    ));
    CoinbaseClient::new(&config(ExchangeId::Coinbase, &srv.base), secrets, &hub).unwrap()
}

fn order() -> OrderRequest {
    OrderRequest::new(
        ClientOrderId::parse(CID).unwrap(),
        Symbol::parse("BTC/USD").unwrap(),
        Side::Buy,
        OrderType::Limit {
            price: Decimal::new(10, 1),
            time_in_force: TimeInForce::Gtc,
        },
        Decimal::ONE,
    )
    .unwrap()
}

fn verify_jwt(auth: &str) -> (jsonwebtoken::Header, Value) {
    let token = auth.strip_prefix("Bearer ").expect("Bearer token");
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.validate_exp = false;
    v.validate_nbf = false;
    let key = jsonwebtoken::DecodingKey::from_ec_pem(pem("es256_public.pem").as_bytes()).unwrap();
    let data =
        jsonwebtoken::decode::<Value>(token, &key, &v).expect("JWT verifies with the public key");
    (data.header, data.claims)
}

#[tokio::test]
async fn coinbase_order_carries_a_fresh_verifiable_jwt_and_exact_json() {
    let srv = Capture::start(|_, _| {
        Stub::json(200, r#"{"success":true,"success_response":{"order_id":"11111-000000-000000","product_id":"BTC-USD","side":"BUY","client_order_id":"496ffbba-7dae-4864-f7e8-a5bf52c6d0e2"}}"#)
    })
    .await;
    let c = cb_client(&srv);
    let ack = c.place_order(&order()).await.unwrap();
    assert_eq!(ack.exchange_order_id.as_str(), "11111-000000-000000");
    c.balances().await.err();

    let reqs = srv.requests();
    let req = &reqs[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/api/v3/brokerage/orders");
    assert_eq!(
        req.body_str(),
        format!(
            r#"{{"client_order_id":"{CID}","order_configuration":{{"limit_limit_gtc":{{"base_size":"1","limit_price":"1","post_only":false}}}},"product_id":"BTC-USD","side":"BUY"}}"#
        )
    );
    assert_eq!(req.header("content-type"), "application/json");
    let (header, claims) = verify_jwt(req.header("authorization"));
    let host = srv.base.host_str().unwrap();
    let port = srv.base.port().unwrap();
    assert_eq!(
        claims["uri"],
        format!("POST {host}:{port}/api/v3/brokerage/orders")
    );
    assert_eq!(claims["sub"], CB_KEY);
    assert_eq!(claims["iss"], "cdp");
    assert_eq!(claims["nbf"], T0.as_secs());
    assert_eq!(claims["exp"], T0.as_secs() + 120);
    assert_eq!(header.kid.as_deref(), Some(CB_KEY));
    assert_ne!(
        reqs[0].header("authorization"),
        reqs[1].header("authorization"),
        "one JWT per request"
    );
}

#[tokio::test]
async fn fail_coinbase_order_refused_in_the_body_is_definitive() {
    let srv = Capture::start(|_, _| {
        Stub::json(200, r#"{"success":false,"failure_reason":"UNKNOWN_FAILURE_REASON","order_id":"","error_response":{"error":"INSUFFICIENT_FUND","message":"Insufficient balance in source account","error_details":"","preview_failure_reason":"PREVIEW_INSUFFICIENT_FUND"}}"#)
    })
    .await;
    let c = cb_client(&srv);
    let err = c.place_order(&order()).await.unwrap_err();
    assert_eq!(
        err.reject_kind(),
        Some(RejectKind::InsufficientFunds),
        "{err}"
    );
    assert_eq!(srv.count(), 1);
}

#[tokio::test]
async fn fail_coinbase_401_is_definitive_and_not_retried() {
    let srv = Capture::start(|_, _| {
        Stub::json(
            401,
            r#"{"error":"UNAUTHENTICATED","message":"jwt token is expired"}"#,
        )
    })
    .await;
    let c = cb_client(&srv);
    let err = c.balances().await.unwrap_err();
    assert_eq!(
        err.reject_kind(),
        Some(RejectKind::InvalidTimestamp),
        "{err}"
    );
    assert_eq!(srv.count(), 1);
}

#[tokio::test]
async fn coinbase_lookup_by_client_id_pages_through_orders() {
    let srv = Capture::start(|req, _| {
        let q = req.query.clone().unwrap_or_default();
        if q.contains("cursor=p2") {
            Stub::json(200, &format!(r#"{{"orders":[{{"order_id":"o-2","product_id":"BTC-USD","side":"BUY","client_order_id":"{CID}","status":"FILLED","order_configuration":{{"market_market_ioc":{{"base_size":"1"}}}},"filled_size":"1","average_filled_price":"100"}}],"has_next":false,"cursor":""}}"#))
        } else {
            Stub::json(200, r#"{"orders":[{"order_id":"o-1","product_id":"BTC-USD","side":"SELL","client_order_id":"other","status":"OPEN","order_configuration":{"limit_limit_gtc":{"base_size":"1","limit_price":"5"}},"filled_size":"0"}],"has_next":true,"cursor":"p2"}"#)
        }
    })
    .await;
    let c = cb_client(&srv);
    let o = c
        .order_by_client_id(
            &Symbol::parse("BTC/USD").unwrap(),
            &ClientOrderId::parse(CID).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.exchange_order_id.as_str(), "o-2");
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].query.as_deref(),
        Some("product_ids=BTC-USD&limit=100")
    );
    let (_, claims) = verify_jwt(reqs[0].header("authorization"));
    assert!(
        claims["uri"]
            .as_str()
            .unwrap()
            .ends_with("/api/v3/brokerage/orders/historical/batch"),
        "no query in uri"
    );
}

#[tokio::test]
async fn coinbase_key_permissions() {
    let srv = Capture::start(|_, _| Stub::json(200, r#"{"can_view":true,"can_trade":true,"can_transfer":true,"portfolio_uuid":"p","portfolio_type":"DEFAULT"}"#)).await;
    let p = cb_client(&srv).key_permissions().await.unwrap();
    assert!(p.can_transfer && p.can_withdraw);
    assert_eq!(p.ip_restricted, None);
}

const CBX_SECRET: &str =
    "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eA==";

fn cbx_client(srv: &Capture) -> CoinbaseExchangeClient {
    let (_clock, hub) = hub();
    let secrets = Arc::new(InMemorySecretSource::from_parts(
        "cbx-key",
        CBX_SECRET,
        Some("pass-phrase"),
    ));
    CoinbaseExchangeClient::new(
        &config(ExchangeId::CoinbaseExchange, &srv.base),
        secrets,
        &hub,
    )
    .unwrap()
}

#[tokio::test]
async fn coinbase_exchange_order_headers_and_signature() {
    let srv = Capture::start(|_, _| {
        Stub::json(200, &format!(r#"{{"id":"d0c5340b-6d6c-49d9-b567-48c4bfca13d2","price":"1.0","size":"1.0","product_id":"BTC-USD","side":"buy","type":"limit","time_in_force":"GTC","post_only":false,"created_at":"2026-11-22T10:00:00.000Z","fill_fees":"0","filled_size":"0","executed_value":"0","status":"pending","settled":false,"client_oid":"{CID}"}}"#))
    })
    .await;
    let c = cbx_client(&srv);
    let ack = c.place_order(&order()).await.unwrap();
    assert_eq!(
        ack.exchange_order_id.as_str(),
        "d0c5340b-6d6c-49d9-b567-48c4bfca13d2"
    );

    let req = &srv.requests()[0];
    let body = format!(
        r#"{{"client_oid":"{CID}","price":"1","product_id":"BTC-USD","side":"buy","size":"1","time_in_force":"GTC","type":"limit"}}"#
    );
    assert_eq!(req.body_str(), body);
    let ts = T0.as_secs().to_string();
    assert_eq!(req.header("cb-access-key"), "cbx-key");
    assert_eq!(req.header("cb-access-timestamp"), ts);
    assert_eq!(req.header("cb-access-passphrase"), "pass-phrase");
    assert_eq!(
        req.header("cb-access-sign"),
        access_sign(CBX_SECRET, &ts, "POST", "/orders", &body).unwrap()
    );
}

#[tokio::test]
async fn coinbase_exchange_signs_path_with_query_and_pages_fills() {
    let srv = Capture::start(|_, _| Stub::json(200, r#"[{"trade_id":74,"product_id":"BTC-USD","order_id":"d50ec984-77a8-460a-b958-66f114b0de9b","user_id":"u","profile_id":"p","liquidity":"T","price":"10.00","size":"0.01","fee":"0.00025","created_at":"2026-11-22T22:21:08.000Z","side":"buy","settled":true,"usd_volume":"0.1"}]"#)).await;
    let c = cbx_client(&srv);
    let fills = c
        .fills_since(&Symbol::parse("BTC/USD").unwrap(), T0)
        .await
        .unwrap();
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0].trade_id.as_str(), "74");
    let req = &srv.requests()[0];
    let path = format!("/fills?{}", req.query.clone().unwrap());
    assert_eq!(path, "/fills?product_id=BTC-USD&limit=1000");
    let ts = T0.as_secs().to_string();
    assert_eq!(
        req.header("cb-access-sign"),
        access_sign(CBX_SECRET, &ts, "GET", &path, "").unwrap()
    );
}

#[tokio::test]
async fn coinbase_exchange_unknown_client_oid_is_none() {
    let srv = Capture::start(|_, _| Stub::json(404, r#"{"message":"NotFound"}"#)).await;
    let c = cbx_client(&srv);
    let got = c
        .order_by_client_id(
            &Symbol::parse("BTC/USD").unwrap(),
            &ClientOrderId::parse(CID).unwrap(),
        )
        .await
        .unwrap();
    assert!(got.is_none());
    assert_eq!(srv.requests()[0].path, format!("/orders/client:{CID}"));
}

#[tokio::test]
async fn fail_coinbase_exchange_refuses_non_uuid_client_ids_before_sending() {
    let srv = Capture::start(|_, _| Stub::json(200, "{}")).await;
    let c = cbx_client(&srv);
    let o = OrderRequest::new(
        ClientOrderId::parse("not-a-uuid").unwrap(),
        Symbol::parse("BTC/USD").unwrap(),
        Side::Sell,
        OrderType::Market,
        Decimal::ONE,
    )
    .unwrap();
    assert!(matches!(
        c.place_order(&o).await,
        Err(ExchangeError::Config {
            what: "client_order_id",
            ..
        })
    ));
    assert!(matches!(
        c.key_permissions().await,
        Err(ExchangeError::Unsupported { .. })
    ));
    assert_eq!(srv.count(), 0);
}

#[tokio::test]
async fn fail_a_bare_404_is_not_proof_of_absence() {
    let srv = Capture::start(|_, _| Stub::json(404, "404 page not found")).await;
    let c = cbx_client(&srv);
    let sym = Symbol::parse("BTC/USD").unwrap();
    let r = c
        .order_by_client_id(&sym, &ClientOrderId::parse(CID).unwrap())
        .await;
    assert!(r.is_err(), "{r:?}");
}

/// Regression (chaos test): a cancel of an order that is already closed answered
/// DUPLICATE_CANCEL_REQUEST and was not reported as "no such open order".
#[tokio::test]
async fn coinbase_cancel_of_a_closed_order_is_unknown_order() {
    let srv = Capture::start(|_, _| {
        Stub::json(
            200,
            r#"{"results":[{"success":false,"failure_reason":"DUPLICATE_CANCEL_REQUEST","order_id":"0c0b0a7e-0000-4000-a000-000000000005"}]}"#,
        )
    })
    .await;
    let c = cb_client(&srv);
    let id = ExchangeOrderId::parse("0c0b0a7e-0000-4000-a000-000000000005").unwrap();
    let err = c
        .cancel_order(&Symbol::parse("BTC/USD").unwrap(), &OrderRef::Exchange(id))
        .await
        .unwrap_err();
    assert_eq!(err.reject_kind(), Some(RejectKind::UnknownOrder), "{err}");
}

/// Coinbase has no lookup by client id: an order this client placed is found with one request
/// by its exchange id (`order_ids`), not by scanning the order history.
#[tokio::test]
async fn coinbase_lookup_of_an_order_it_placed_is_one_request() {
    let srv = Capture::start(|req, _| {
        if req.method == "POST" {
            return Stub::json(200, &format!(r#"{{"success":true,"success_response":{{"order_id":"o-7","product_id":"BTC-USD","side":"BUY","client_order_id":"{CID}"}}}}"#));
        }
        Stub::json(200, &format!(r#"{{"orders":[{{"order_id":"o-7","product_id":"BTC-USD","side":"BUY","client_order_id":"{CID}","status":"FILLED","order_configuration":{{"market_market_ioc":{{"base_size":"1"}}}},"filled_size":"1","average_filled_price":"100"}}],"has_next":false,"cursor":""}}"#))
    })
    .await;
    let c = cb_client(&srv);
    c.place_order(&order()).await.unwrap();
    let o = c
        .order_by_client_id(
            &Symbol::parse("BTC/USD").unwrap(),
            &ClientOrderId::parse(CID).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.exchange_order_id.as_str(), "o-7");
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2, "the order, then one lookup");
    assert_eq!(reqs[1].query.as_deref(), Some("order_ids=o-7&limit=100"));
}
