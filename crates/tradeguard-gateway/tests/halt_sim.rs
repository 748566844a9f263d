//! The halt against three simulated exchanges (tradeguard-sim: Binance, Coinbase, Kraken):
//! resting orders on each, `POST /v1/halt`, then every order is gone from every venue, no
//! order is accepted after the halt returns, and the time from the halt call to the last
//! cancel is printed.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::*;
use rust_decimal::Decimal;
use serde_json::json;
use tradeguard_exchange::model::{
    AccountId, ClientOrderId, ExchangeId, OrderRequest, OrderType, Side, Symbol, TimeInForce,
};
use tradeguard_exchange::{ConnectorConfig, ConnectorHub, Exchange, InMemorySecretSource};
use tradeguard_gateway::scope::Scope;
use tradeguard_gateway::state::GatewayBuilder;
use tradeguard_gateway::venue_exchange::ExchangeCanceller;
use tradeguard_sim::{SimConfig, SimCredential, Venue};

fn connect(hub: &ConnectorHub, c: &SimCredential, id: ExchangeId) -> Arc<dyn Exchange> {
    let secrets = Arc::new(InMemorySecretSource::from_parts(
        &c.api_key,
        c.api_secret.expose_secret(),
        c.passphrase.as_ref().map(|p| p.expose_secret()),
    ));
    let mut cfg = ConnectorConfig::new(
        id,
        AccountId::parse(&format!("{id:?}-halt").to_lowercase()).unwrap(),
    )
    .with_base_url(url::Url::parse(&c.base_url).unwrap());
    cfg.timeout = Duration::from_secs(5);
    hub.connect(&cfg, secrets).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halt_cancels_every_open_order_on_three_simulated_exchanges() {
    let sim = tradeguard_sim::start(SimConfig::default()).await.unwrap();
    let hub = ConnectorHub::system();
    let venues: Vec<(String, Arc<dyn Exchange>, &str)> = vec![
        (
            "binance".into(),
            connect(&hub, sim.keys().get(Venue::Binance), ExchangeId::Binance),
            "USDT",
        ),
        (
            "coinbase".into(),
            connect(&hub, sim.keys().get(Venue::Coinbase), ExchangeId::Coinbase),
            "USD",
        ),
        (
            "kraken".into(),
            connect(&hub, sim.keys().get(Venue::Kraken), ExchangeId::Kraken),
            "USD",
        ),
    ];
    // Resting buys far below the market: they stay open.
    for (label, ex, quote) in &venues {
        for _ in 0..5 {
            let order = OrderRequest::new(
                ClientOrderId::generate().unwrap(),
                Symbol::parse(&format!("BTC/{quote}")).unwrap(),
                Side::Buy,
                OrderType::Limit {
                    price: Decimal::from(30_000),
                    time_in_force: TimeInForce::Gtc,
                },
                Decimal::new(1, 3),
            )
            .unwrap();
            ex.place_order(&order)
                .await
                .unwrap_or_else(|e| panic!("{label}: {e}"));
        }
        assert_eq!(ex.open_orders(None).await.unwrap().len(), 5, "{label}");
    }
    let canceller = ExchangeCanceller::new(
        venues
            .iter()
            .map(|(l, e, _)| (l.clone(), e.clone()))
            .collect(),
    )
    .with_retries(10, Duration::from_millis(50));

    let store = tradeguard_store::testing::sqlite().await;
    let base = gateway(store.clone(), test_config()).await;
    let state = GatewayBuilder::new(store, base.state.keys.clone(), base.audit.clone())
        .config(test_config())
        .clock(Arc::new(base.clock.clone()))
        .venues(
            Arc::new(risk(base.clock.clone())),
            base.venues.clone(),
            Arc::new(canceller),
        )
        .build()
        .await
        .unwrap();
    let app = tradeguard_gateway::api::router(state.clone());
    let controller = base.principal(&[Scope::Halt, Scope::Trade]).await;
    state.directory.reload().await.unwrap();

    let started = Instant::now();
    let (s, report) = send(&app, base.req(&controller, Method::POST, "/v1/halt", None)).await;
    let elapsed = started.elapsed();
    assert_eq!(s, StatusCode::OK, "{report}");
    println!(
        "halt -> last cancel: {} ms (server-side {} ms)",
        elapsed.as_millis(),
        report["cancel_ms"]
    );
    for c in report["cancels"].as_array().unwrap() {
        assert_eq!(c["cancelled"].as_array().unwrap().len(), 5, "{c}");
        assert!(c["failed"].as_array().unwrap().is_empty(), "{c}");
    }
    for (label, ex, _) in &venues {
        assert!(
            ex.open_orders(None).await.unwrap().is_empty(),
            "{label} still has open orders"
        );
    }
    let order = json!({"client_order_id": "late", "profile": "p1", "symbol": "BTC/USD", "side": "sell",
                       "type": "limit", "price": "50000", "quantity": "0.001"});
    let (s, _) = send(
        &app,
        base.req(&controller, Method::POST, "/v1/orders", Some(order)),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "no order after the halt");
    sim.shutdown().await;
}
