//! A gateway for schemathesis (tests/interop/schemathesis_run.sh): the real `/v1` router,
//! authentication, scopes, quorum, store-backed audit log and risk engine over a SQLite
//! database in `--dir`, served as plain HTTP on 127.0.0.1 (loopback only). Only the exchange
//! side is an in-memory fake (orders rest until cancelled; balances are fixed).
//!
//! It writes into `--dir`: `gateway.db`, `controller.key` (the PKCS#8 PEM private key of a
//! controller principal holding every scope) and `url` (the base URL, written last, so a
//! script can wait for it); it prints `listening on <url> as <did>` and serves until killed.
//!
//! Evidence: the audit log's checkpoint, entries and proofs come from the store-backed log
//! (a checkpoint is signed every second while the log grows); `GET /v1/analytics` is a
//! report over the in-memory balances, signed with the gateway key and bound to the latest
//! checkpoint.
//!
//! Quorum: `resume` needs 1 of 1 (the controller, so a fuzzed halt can be undone); principal,
//! risk-limit and credential changes need 2 of 2 (the controller and a key nobody holds), so
//! generated proposals stay open and never revoke the controller.
//!
//! Usage: `cargo run -p tradeguard-gateway --example schema_server -- --dir DIR`

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rust_decimal::Decimal;
use tradeguard_analytics::{self as analytics, Timestamp};
use tradeguard_audit::keys::LogSigner;
use tradeguard_audit::log::AuditLog;
use tradeguard_crypto::did::encode_ed25519_did;
use tradeguard_crypto::envelope::RecipientKey;
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_gateway::audit::AuditLogSink;
use tradeguard_gateway::clock::{Clock, SystemClock};
use tradeguard_gateway::config::{GatewayConfig, LockoutPolicy, QuorumAction, QuorumRule};
use tradeguard_gateway::evidence::{EvidenceError, ReportSource, StoredLogEvidence};
use tradeguard_gateway::intents::{IntentConfig, IntentIntake, MemoryRoutingKeys};
use tradeguard_gateway::keys::GatewayKeys;
use tradeguard_gateway::principal::PrincipalRecord;
use tradeguard_gateway::scope::{Scope, ScopeSet};
use tradeguard_gateway::state::GatewayBuilder;
use tradeguard_gateway::tls::{self, Handle, Transport};
use tradeguard_gateway::venue::{
    BalanceView, OrderCanceller, OrderRouter, OrderView, ProfileBook, StaticRisk, VenueCancel,
    VenueError,
};
use tradeguard_risk::ids::{AccountId, Asset, Exchange, ProfileId};
use tradeguard_risk::limits::PortfolioLimits;
use tradeguard_risk::market::{Balance, InstrumentRules, Market, Portfolio};
use tradeguard_risk::profile::{Profile, ProfileType};
use tradeguard_risk::state::ProfileState;
use tradeguard_risk::{Order, RiskApproved};
use tradeguard_store::Store;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let dir = parse_dir()?;
    std::fs::create_dir_all(&dir)?;
    let store = Store::open_sqlite(&dir.join("gateway.db")).await?;
    store.migrate().await?;

    let controller = Ed25519SigningKey::generate()?;
    let did = encode_ed25519_did(&controller.verifying_key());
    write_private(
        &dir.join("controller.key"),
        controller.to_pkcs8_pem().expose_secret(), // the client's own key, for the hook
    )?;
    let absent = encode_ed25519_did(&Ed25519SigningKey::generate()?.verifying_key());

    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let audit = tradeguard_audit::log::AuditLog::open(
        store.clone(),
        LogSigner::new(
            "schema-server.tradeguard.test/log",
            Ed25519SigningKey::generate()?,
        )?,
        tradeguard_audit::event::Redactor::new(SecretBytes::new(
            tradeguard_crypto::random::array::<32>()?.to_vec(),
        ))?,
        Arc::new(tradeguard_audit::clock::SystemClock),
    )
    .await?;
    let recipient = RecipientKey::generate_x25519()?;
    let gateway_seed = tradeguard_crypto::random::array::<32>()?;
    let keys = GatewayKeys::new(
        vec![recipient.public_key()],
        Arc::new(Ed25519SigningKey::from_seed(&gateway_seed)?),
    );
    audit.checkpoint().await?;
    tokio::spawn(checkpoints(audit.clone()));
    let reports = Arc::new(BalanceReports {
        log: audit.clone(),
        key: Ed25519SigningKey::from_seed(&gateway_seed)?,
    });
    // POST /v1/intents answers every packet alike; schemathesis sends it bodies that never open.
    let intake = Arc::new(IntentIntake::new(
        recipient,
        Box::new(MemoryRoutingKeys::default()),
        IntentConfig::default(),
    ));
    let venues = Arc::new(MemoryVenues::default());
    // Orders are checked against p1's open orders; GET /v1/portfolio and
    // POST /v1/rebalance/{profile} plan over the same state.
    let gate = Arc::new(risk(clock.clone()).with_open_orders(venues.clone()));
    let evidence = Arc::new(StoredLogEvidence(audit.clone()));
    let state = GatewayBuilder::new(store, keys, Arc::new(AuditLogSink(Arc::new(audit))))
        .config(config(&did, &absent))
        .clock(clock.clone())
        .venues(gate.clone(), venues.clone(), venues)
        .portfolios(gate)
        .intents(intake)
        .evidence(evidence)
        .reports(reports)
        .build()
        .await?;
    let record = PrincipalRecord::ed25519(&did, ScopeSet::of(&Scope::ALL), "schemathesis")?;
    state.directory.put(&record, SystemClock.now_ms()).await?;

    let handle = Handle::new();
    let app = tradeguard_gateway::api::router(state);
    let server = tokio::spawn(tls::serve(
        app,
        "127.0.0.1:0".parse()?,
        Transport::DangerousPlainHttp,
        handle.clone(),
    ));
    let addr = handle.listening().await.ok_or("the server did not bind")?;
    let url = format!("http://{addr}");
    std::fs::write(dir.join("url"), &url)?;
    println!("listening on {url} as {did}");
    server.await??;
    Ok(())
}

fn parse_dir() -> Result<PathBuf, Error> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (Some("--dir"), Some(dir)) => Ok(PathBuf::from(dir)),
        _ => Err("usage: schema_server --dir DIR".into()),
    }
}

fn write_private(path: &std::path::Path, pem: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)?.write_all(pem.as_bytes())
}

/// Defaults, except: generous lockouts and rate limits (schemathesis sends unsigned and
/// malformed requests from one address on purpose, and many requests at once), and quorums.
fn config(controller: &str, absent: &str) -> GatewayConfig {
    let rule = |required: u32, approvers: &[&str]| QuorumRule {
        required,
        approvers: approvers.iter().map(|s| (*s).to_owned()).collect(),
        proposal_ttl: Duration::from_secs(3600),
    };
    let mut config = GatewayConfig {
        rate_per_second: 100_000,
        rate_burst: 100_000,
        lockout: LockoutPolicy {
            max_failures: 1_000_000,
            window: Duration::from_secs(1),
            lock_for: Duration::from_secs(1),
        },
        ..GatewayConfig::default()
    };
    config
        .quorum
        .insert(QuorumAction::Resume, rule(1, &[controller]));
    for action in [
        QuorumAction::PrincipalChange,
        QuorumAction::RiskLimitChange,
        QuorumAction::CredentialImport,
    ] {
        config.quorum.insert(action, rule(2, &[controller, absent]));
    }
    config
}

/// The real risk engine over a fixed market: profile `p1` on Binance, BTC at 50,000 USD.
fn risk(clock: Arc<dyn Clock>) -> StaticRisk {
    let (btc, usd) = (
        Asset::new("BTC").expect("asset"),
        Asset::new("USD").expect("asset"),
    );
    let targets = [("BTC", 50)]
        .into_iter()
        .map(|(a, w)| (Asset::new(a).expect("asset"), Decimal::new(w, 2)))
        .collect();
    let account = AccountId {
        exchange: Exchange::Binance,
        credential: "main".into(),
    };
    let profile = Profile::with_defaults(
        ProfileId::new("p1").expect("profile"),
        account,
        ProfileType::Moderate,
        usd.clone(),
        targets,
    );
    let mut market = Market::new(usd, Decimal::new(1, 3)).expect("market");
    market
        .set_price(btc.clone(), Decimal::new(50_000, 0))
        .expect("price");
    let rules = InstrumentRules::new(
        Decimal::new(1, 2),
        Decimal::new(1, 5),
        Decimal::new(1, 5),
        Decimal::TEN,
    )
    .expect("rules");
    market.set_instrument(btc.clone(), rules);
    let mut portfolio = Portfolio::with_cash(Decimal::new(100_000, 0)).expect("portfolio");
    let holding = Balance {
        free: Decimal::new(1, 1),
        locked: Decimal::ZERO,
    };
    portfolio.set_holding(btc, holding).expect("holding");
    let book = ProfileBook {
        profile,
        state: ProfileState::new(),
        portfolio,
    };
    StaticRisk::new(PortfolioLimits::default(), market, vec![book], clock)
}

/// Signs a checkpoint every second when the log grew.
async fn checkpoints(log: AuditLog) {
    let mut signed = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Ok(size) = log.store().audit_size().await
            && size != signed
            && log.checkpoint().await.is_ok()
        {
            signed = size;
        }
    }
}

/// The signed report over the in-memory balances (profile `p1`, 100,000 USD on Binance),
/// bound to the latest checkpoint.
struct BalanceReports {
    log: AuditLog,
    key: Ed25519SigningKey,
}

#[async_trait]
impl ReportSource for BalanceReports {
    async fn signed_report(&self) -> Result<Vec<u8>, EvidenceError> {
        let unavailable = |e: &dyn std::fmt::Display| EvidenceError::Unavailable(e.to_string());
        let cp = self
            .log
            .latest_checkpoint()
            .await?
            .ok_or_else(|| EvidenceError::NotYet("signed checkpoint".into()))?;
        let c = cp.unverified();
        let now = Timestamp::from_unix_seconds(SystemClock.now_ms() / 1000)
            .ok_or_else(|| unavailable(&"clock before 1970"))?;
        let usd = analytics::ledger::Asset::new("USD").map_err(|e| unavailable(&e))?;
        let snapshot = analytics::ledger::HoldingsSnapshot {
            time: now,
            profile: analytics::ledger::ProfileId::new("p1").map_err(|e| unavailable(&e))?,
            exchange: analytics::ledger::ExchangeId::new("binance").map_err(|e| unavailable(&e))?,
            holdings: [(usd.clone(), Decimal::new(100_000, 0))].into(),
        };
        let ledger = analytics::ledger::Ledger {
            base_currency: usd,
            fills: Vec::new(),
            orders: Vec::new(),
            snapshots: vec![snapshot],
            prices: Vec::new(),
            flows: Vec::new(),
            rebalances: Vec::new(),
        };
        let body = analytics::analyze_ledger(&ledger, &analytics::Conventions::default())
            .map_err(|e| unavailable(&e))?;
        let report = analytics::Report {
            format: analytics::ReportFormat,
            generated_at: now,
            checkpoint: analytics::CheckpointRef::new(c.origin(), c.size(), *c.root().as_bytes())
                .map_err(|e| unavailable(&e))?,
            body: analytics::ReportBody::Ledger(Box::new(body)),
        };
        analytics::sign_report(&report, &self.key).map_err(|e| unavailable(&e))
    }
}

/// The exchange side, in memory: placed orders rest until cancelled.
#[derive(Default)]
struct MemoryVenues {
    orders: std::sync::Mutex<Vec<OrderView>>,
    next: AtomicU64,
}

impl MemoryVenues {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<OrderView>> {
        self.orders.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl OrderRouter for MemoryVenues {
    async fn place(&self, order: RiskApproved<Order>) -> Result<OrderView, VenueError> {
        let o = order.into_inner();
        let view = OrderView {
            id: format!("mem-{}", self.next.fetch_add(1, Ordering::Relaxed)),
            client_order_id: o.client_order_id().as_str().into(),
            profile: o.profile().as_str().into(),
            symbol: o.symbol().to_string(),
            side: format!("{:?}", o.side()).to_lowercase(),
            quantity: o.quantity(),
            price: o.limit_price(),
            status: "open".into(),
        };
        self.lock().push(view.clone());
        Ok(view)
    }

    async fn cancel(&self, id: &str) -> Result<OrderView, VenueError> {
        let mut orders = self.lock();
        let order = orders
            .iter_mut()
            .find(|o| o.id == id)
            .ok_or_else(|| VenueError::NotFound(id.into()))?;
        order.status = "cancelled".into();
        Ok(order.clone())
    }

    async fn orders(&self) -> Result<Vec<OrderView>, VenueError> {
        Ok(self.lock().iter().rev().cloned().collect())
    }

    async fn balances(&self) -> Result<Vec<BalanceView>, VenueError> {
        Ok(vec![BalanceView {
            account: "binance-main".into(),
            asset: "USD".into(),
            free: Decimal::new(100_000, 0),
            locked: Decimal::ZERO,
        }])
    }
}

#[async_trait]
impl OrderCanceller for MemoryVenues {
    async fn cancel_all(&self) -> Vec<VenueCancel> {
        let mut report = VenueCancel {
            venue: "binance-main".into(),
            ..VenueCancel::default()
        };
        for order in self.lock().iter_mut().filter(|o| o.status == "open") {
            order.status = "cancelled".into();
            report.cancelled.push(order.id.clone());
        }
        vec![report]
    }
}
