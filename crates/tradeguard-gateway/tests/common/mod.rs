//! Test harness: a gateway over a test store, a manual clock, memory audit, fake venues
//! (three simulated exchanges' worth of open orders) and signing principals.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use rust_decimal::Decimal;
use serde_json::Value;
use tower::ServiceExt;
use tradeguard_crypto::did::encode_ed25519_did;
use tradeguard_crypto::envelope::RecipientKey;
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_gateway::audit::MemoryAudit;
use tradeguard_gateway::client::{Freshness, Unsigned, signed_request};
use tradeguard_gateway::clock::{Clock, ManualClock};
use tradeguard_gateway::config::GatewayConfig;
use tradeguard_gateway::keys::GatewayKeys;
use tradeguard_gateway::principal::{MemoryHmacKeys, PrincipalRecord};
use tradeguard_gateway::scope::{Scope, ScopeSet};
use tradeguard_gateway::state::{AppState, GatewayBuilder};
use tradeguard_gateway::venue::{
    AlertSink, BalanceView, OrderCanceller, OrderRouter, OrderView, ProfileBook, StaticRisk,
    VenueCancel, VenueError,
};
use tradeguard_httpsig::SigningKey;
use tradeguard_risk::ids::{AccountId, Asset, Exchange, ProfileId};
use tradeguard_risk::limits::PortfolioLimits;
use tradeguard_risk::market::{InstrumentRules, Market, Portfolio};
use tradeguard_risk::profile::{Profile, ProfileType};
use tradeguard_risk::state::ProfileState;
use tradeguard_risk::{Order, RiskApproved};
use tradeguard_store::Store;
use tradeguard_store::cache::{EventBus, MemoryEventBus, MemoryRateLimiter, MemoryReplayCache};

/// Start of the manual clock (2023-11-14).
pub const T0_MS: i64 = 1_700_000_000_000;

pub const HOST: &str = "gw.test:8443";

pub const VENUES: [&str; 3] = ["binance-main", "coinbase-main", "kraken-main"];

/// Three venues' open orders, in memory.
#[derive(Default)]
pub struct FakeVenues {
    pub orders: Mutex<Vec<(String, OrderView)>>,
    next: AtomicU64,
    /// Cancels fail this many times per order before succeeding (retry path).
    pub flaky: AtomicU64,
}

impl FakeVenues {
    pub fn open_count(&self) -> usize {
        let o = self.orders.lock().unwrap();
        o.iter().filter(|(_, v)| v.status == "open").count()
    }

    /// Puts `n` open orders on each venue directly (as if placed earlier).
    pub fn seed_open(&self, n: usize) {
        let mut o = self.orders.lock().unwrap();
        for venue in VENUES {
            for i in 0..n {
                let id = format!("{venue}-{i}");
                o.push((venue.to_owned(), view(&id, "open")));
            }
        }
    }
}

fn view(id: &str, status: &str) -> OrderView {
    OrderView {
        id: id.into(),
        client_order_id: id.into(),
        profile: "p1".into(),
        symbol: "BTC/USD".into(),
        side: "buy".into(),
        quantity: Decimal::ONE,
        price: None,
        status: status.into(),
    }
}

#[async_trait]
impl OrderRouter for FakeVenues {
    async fn place(&self, order: RiskApproved<Order>) -> Result<OrderView, VenueError> {
        let o = order.into_inner();
        let n = self.next.fetch_add(1, Ordering::SeqCst) as usize;
        let venue = VENUES[n % 3].to_owned();
        let v = OrderView {
            id: format!("gw-{n}"),
            client_order_id: o.client_order_id().as_str().into(),
            profile: o.profile().as_str().into(),
            symbol: o.symbol().to_string(),
            side: format!("{:?}", o.side()).to_lowercase(),
            quantity: o.quantity(),
            price: o.limit_price(),
            status: "open".into(),
        };
        self.orders.lock().unwrap().push((venue, v.clone()));
        Ok(v)
    }

    async fn cancel(&self, id: &str) -> Result<OrderView, VenueError> {
        let mut o = self.orders.lock().unwrap();
        let (_, v) = o
            .iter_mut()
            .find(|(_, v)| v.id == id)
            .ok_or(VenueError::NotFound(id.into()))?;
        v.status = "cancelled".into();
        Ok(v.clone())
    }

    async fn orders(&self) -> Result<Vec<OrderView>, VenueError> {
        Ok(self
            .orders
            .lock()
            .unwrap()
            .iter()
            .map(|(_, v)| v.clone())
            .collect())
    }

    async fn balances(&self) -> Result<Vec<BalanceView>, VenueError> {
        Ok(vec![BalanceView {
            account: "binance-main".into(),
            asset: "USD".into(),
            free: Decimal::from(100_000),
            locked: Decimal::ZERO,
        }])
    }
}

#[async_trait]
impl OrderCanceller for FakeVenues {
    async fn cancel_all(&self) -> Vec<VenueCancel> {
        let mut reports: Vec<VenueCancel> = VENUES
            .iter()
            .map(|v| VenueCancel {
                venue: (*v).into(),
                ..Default::default()
            })
            .collect();
        // Retry until every order is confirmed (the fake fails `flaky` times first).
        loop {
            let mut pending = 0;
            {
                let mut o = self.orders.lock().unwrap();
                for (venue, v) in o.iter_mut().filter(|(_, v)| v.status == "open") {
                    if self.flaky.load(Ordering::SeqCst) > 0 {
                        self.flaky.fetch_sub(1, Ordering::SeqCst);
                        pending += 1;
                        continue;
                    }
                    v.status = "cancelled".into();
                    let r = reports.iter_mut().find(|r| &r.venue == venue).unwrap();
                    r.cancelled.push(v.id.clone());
                }
            }
            if pending == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        reports
    }
}

/// Records alerts.
#[derive(Default)]
pub struct RecordingAlerts(pub Mutex<Vec<Value>>);

#[async_trait]
impl AlertSink for RecordingAlerts {
    async fn alert(&self, alert: &Value) -> Result<(), String> {
        self.0.lock().unwrap().push(alert.clone());
        Ok(())
    }
}

pub struct Key {
    pub sk: Ed25519SigningKey,
    pub did: String,
}

impl Key {
    pub fn new() -> Self {
        let sk = Ed25519SigningKey::generate().unwrap();
        let did = encode_ed25519_did(&sk.verifying_key());
        Self { sk, did }
    }
}

pub struct Gw {
    pub app: Router,
    pub state: AppState,
    pub clock: ManualClock,
    pub audit: Arc<MemoryAudit>,
    pub venues: Arc<FakeVenues>,
    pub alerts: Arc<RecordingAlerts>,
    pub hmac: Arc<MemoryHmacKeys>,
    nonce: AtomicU64,
}

pub fn risk(clock: ManualClock) -> StaticRisk {
    let (btc, usd) = (Asset::new("BTC").unwrap(), Asset::new("USD").unwrap());
    let targets = [("BTC", 20), ("ETH", 20), ("SOL", 10)]
        .into_iter()
        .map(|(a, w)| (Asset::new(a).unwrap(), Decimal::new(w, 2)))
        .collect();
    let account = AccountId {
        exchange: Exchange::Binance,
        credential: "main".into(),
    };
    let profile = Profile::with_defaults(
        ProfileId::new("p1").unwrap(),
        account,
        ProfileType::Moderate,
        usd.clone(),
        targets,
    );
    let mut market = Market::new(usd, Decimal::new(1, 3)).unwrap();
    market
        .set_price(btc.clone(), Decimal::new(50_000, 0))
        .unwrap();
    let rules = InstrumentRules::new(
        Decimal::new(1, 2),
        Decimal::new(1, 5),
        Decimal::new(1, 5),
        Decimal::TEN,
    )
    .unwrap();
    market.set_instrument(btc.clone(), rules);
    let mut portfolio = Portfolio::with_cash(Decimal::new(100_000, 0)).unwrap();
    let holding = tradeguard_risk::market::Balance {
        free: Decimal::new(1, 1),
        locked: Decimal::ZERO,
    };
    portfolio.set_holding(btc, holding).unwrap();
    let book = ProfileBook {
        profile,
        state: ProfileState::new(),
        portfolio,
    };
    StaticRisk::new(
        PortfolioLimits::default(),
        market,
        vec![book],
        Arc::new(clock),
    )
}

pub fn test_config() -> GatewayConfig {
    GatewayConfig {
        rate_per_second: 1_000_000,
        rate_burst: 1_000_000,
        ..GatewayConfig::default()
    }
}

pub async fn gateway(store: Store, config: GatewayConfig) -> Gw {
    gateway_on_bus(store, config, Arc::new(MemoryEventBus::new(1024))).await
}

pub async fn gateway_on_bus(store: Store, config: GatewayConfig, bus: Arc<dyn EventBus>) -> Gw {
    let caches: Caches = (
        Arc::new(MemoryReplayCache::new(1_000_000)),
        Arc::new(MemoryRateLimiter::new(1_000_000)),
        bus,
    );
    gateway_on_caches(store, config, caches).await
}

/// Replay cache, rate limiter and event bus.
pub type Caches = (
    Arc<dyn tradeguard_store::cache::ReplayCache>,
    Arc<dyn tradeguard_store::cache::RateLimiter>,
    Arc<dyn EventBus>,
);

pub async fn gateway_on_caches(store: Store, config: GatewayConfig, caches: Caches) -> Gw {
    gateway_built(store, config, caches, false).await
}

/// A gateway whose risk gate counts each profile's open orders (as `serve` does), read
/// from the fake venues.
pub async fn gateway_counting_open_orders(store: Store, config: GatewayConfig) -> Gw {
    let caches: Caches = (
        Arc::new(MemoryReplayCache::new(1_000_000)),
        Arc::new(MemoryRateLimiter::new(1_000_000)),
        Arc::new(MemoryEventBus::new(1024)),
    );
    gateway_built(store, config, caches, true).await
}

async fn gateway_built(store: Store, config: GatewayConfig, caches: Caches, open: bool) -> Gw {
    let clock = ManualClock::at_ms(T0_MS);
    let audit = Arc::new(MemoryAudit::default());
    let venues = Arc::new(FakeVenues::default());
    let alerts = Arc::new(RecordingAlerts::default());
    let hmac = Arc::new(MemoryHmacKeys::default());
    let rk = RecipientKey::generate_x25519().unwrap();
    let keys = GatewayKeys::new(
        vec![rk.public_key()],
        Arc::new(Ed25519SigningKey::generate().unwrap()),
    );
    let mut gate = risk(clock.clone());
    if open {
        gate = gate.with_open_orders(venues.clone());
    }
    let gate = Arc::new(gate);
    let state = GatewayBuilder::new(store, keys, audit.clone())
        .config(config)
        .clock(Arc::new(clock.clone()))
        .hmac_keys(hmac.clone())
        .caches(caches.0, caches.1, caches.2)
        .venues(gate.clone(), venues.clone(), venues.clone())
        .portfolios(gate)
        .alerts(alerts.clone())
        .build()
        .await
        .unwrap();
    let app = tradeguard_gateway::api::router(state.clone());
    Gw {
        app,
        state,
        clock,
        audit,
        venues,
        alerts,
        hmac,
        nonce: AtomicU64::new(0),
    }
}

impl Gw {
    pub async fn principal(&self, scopes: &[Scope]) -> Key {
        let key = Key::new();
        let p = PrincipalRecord::ed25519(&key.did, ScopeSet::of(scopes), "test").unwrap();
        self.state
            .directory
            .put(&p, self.clock.now_ms())
            .await
            .unwrap();
        key
    }

    pub async fn hmac_principal(&self, keyid: &str, secret: &[u8], scopes: &[Scope]) {
        self.hmac.insert(keyid, SecretBytes::from_slice(secret));
        let p = PrincipalRecord::hmac(keyid, ScopeSet::of(scopes), "shared").unwrap();
        self.state
            .directory
            .put(&p, self.clock.now_ms())
            .await
            .unwrap();
    }

    pub fn nonce(&self) -> String {
        format!("nonce-{:08}", self.nonce.fetch_add(1, Ordering::SeqCst))
    }

    /// A request signed by `key` now, with a fresh nonce.
    pub fn req(&self, key: &Key, method: Method, path: &str, body: Option<Value>) -> Request<Body> {
        self.req_with(
            &SigningKey::Ed25519(&key.sk),
            &key.did,
            method,
            path,
            body,
            self.clock.now_secs() as u64,
            &self.nonce(),
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub fn req_with(
        &self,
        key: &SigningKey<'_>,
        keyid: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        created: u64,
        nonce: &str,
    ) -> Request<Body> {
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        let unsigned = Unsigned {
            method,
            authority: HOST,
            path,
            query,
            body: body.map(|b| serde_json::to_vec(&b).unwrap()),
        };
        signed_request(
            unsigned,
            key,
            &Freshness {
                keyid,
                created,
                nonce,
            },
        )
        .unwrap()
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        send(&self.app, req).await
    }
}

pub async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    if !status.is_success() && status != StatusCode::ACCEPTED {
        assert_eq!(
            ct.as_deref(),
            Some("application/problem+json"),
            "error {status} must be a problem document: {json}"
        );
    }
    (status, json)
}

/// The `check` of a problem document.
pub fn check(v: &Value) -> &str {
    v["check"].as_str().unwrap_or("")
}
