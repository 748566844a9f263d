//! [`AppState`]: everything a handler needs, built once by [`GatewayBuilder`].

use std::ops::Deref;
use std::sync::Arc;

use async_trait::async_trait;
use tradeguard_risk::check::Refusal;
use tradeguard_risk::{Order, RiskApproved};
use tradeguard_store::Store;
use tradeguard_store::cache::{
    EventBus, MemoryEventBus, MemoryRateLimiter, MemoryReplayCache, RateLimiter, ReplayCache,
};

use crate::audit::AuditSink;
use crate::auth::Lockouts;
use crate::clock::{Clock, SystemClock};
use crate::config::GatewayConfig;
use crate::error::Result;
use crate::keys::GatewayKeys;
use crate::principal::{Directory, HmacKeys, MemoryHmacKeys};
use crate::trading::TradingState;
use crate::venue::{
    AlertSink, BalanceView, Checked, OrderCanceller, OrderRouter, OrderView, RiskGate, VenueCancel,
    VenueError, WebhookAlert,
};

/// Shared state of one gateway replica (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The parts of [`AppState`].
pub struct Inner {
    /// Tunables.
    pub config: GatewayConfig,
    /// Public keys and signer.
    pub keys: GatewayKeys,
    /// The database.
    pub store: Store,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Principals.
    pub directory: Directory,
    /// HMAC keys of shared-key principals.
    pub hmac_keys: Arc<dyn HmacKeys>,
    /// Nonces seen.
    pub replay: Arc<dyn ReplayCache>,
    /// Rate limits and failure counters.
    pub limiter: Arc<dyn RateLimiter>,
    /// Halt and lockout broadcasts.
    pub bus: Arc<dyn EventBus>,
    /// ACTIVE / REDUCING / HALTED.
    pub trading: TradingState,
    /// Active lockouts.
    pub lockouts: Lockouts,
    /// What authentication leaves in the audit log (bounded failures, windowed successes).
    pub auth_trail: crate::auth::AuthTrail,
    /// The audit log.
    pub audit: Arc<dyn AuditSink>,
    /// Pre-trade checks.
    pub risk: Arc<dyn RiskGate>,
    /// Order placement.
    pub router: Arc<dyn OrderRouter>,
    /// Cancel-everything for the halt.
    pub canceller: Arc<dyn OrderCanceller>,
    /// Profiles' portfolios and rebalancing plans.
    pub portfolios: Arc<dyn crate::portfolio::Portfolios>,
    /// Alert on halt.
    pub alerts: Option<Arc<dyn AlertSink>>,
    /// Executors of approved risk-limit changes and credential imports.
    pub executors: std::collections::BTreeMap<
        crate::config::QuorumAction,
        Arc<dyn crate::quorum::ProposalExecutor>,
    >,
    /// Order placements hold it shared; the halt takes it exclusively after switching to
    /// HALTED, so every placement already past its state check has finished before the
    /// halt cancels open orders.
    pub order_gate: tokio::sync::RwLock<()>,
    /// Profiles with a rebalance running in this replica (a second one is refused meanwhile).
    pub rebalancing: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// The sealed-intent intake (`POST /v1/intents`), when configured.
    pub intents: Option<Arc<crate::intents::IntentIntake>>,
    /// The audit log's checkpoints, entries and proofs (`GET /v1/audit/*`), when wired.
    pub evidence: Option<Arc<dyn crate::evidence::AuditEvidence>>,
    /// The signed performance report (`GET /v1/analytics`), when wired.
    pub reports: Option<Arc<dyn crate::evidence::ReportSource>>,
    /// What this replica counted (`GET /metrics`).
    pub metrics: crate::metrics::Metrics,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// How often expired sessions are deleted.
pub const SESSION_CLEANUP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Builds an [`AppState`]: the store, keys and audit sink are required; everything else has
/// a single-process default (memory caches, system clock, no exchange wired).
pub struct GatewayBuilder {
    store: Store,
    keys: GatewayKeys,
    audit: Arc<dyn AuditSink>,
    config: GatewayConfig,
    clock: Arc<dyn Clock>,
    hmac_keys: Arc<dyn HmacKeys>,
    replay: Arc<dyn ReplayCache>,
    limiter: Arc<dyn RateLimiter>,
    bus: Arc<dyn EventBus>,
    risk: Arc<dyn RiskGate>,
    router: Arc<dyn OrderRouter>,
    canceller: Arc<dyn OrderCanceller>,
    portfolios: Arc<dyn crate::portfolio::Portfolios>,
    alerts: Option<Arc<dyn AlertSink>>,
    intents: Option<Arc<crate::intents::IntentIntake>>,
    evidence: Option<Arc<dyn crate::evidence::AuditEvidence>>,
    reports: Option<Arc<dyn crate::evidence::ReportSource>>,
    executors: std::collections::BTreeMap<
        crate::config::QuorumAction,
        Arc<dyn crate::quorum::ProposalExecutor>,
    >,
}

impl GatewayBuilder {
    /// A builder with defaults.
    pub fn new(store: Store, keys: GatewayKeys, audit: Arc<dyn AuditSink>) -> Self {
        Self {
            store,
            keys,
            audit,
            config: GatewayConfig::default(),
            clock: Arc::new(SystemClock),
            hmac_keys: Arc::new(MemoryHmacKeys::default()),
            replay: Arc::new(MemoryReplayCache::new(4_000_000)),
            limiter: Arc::new(MemoryRateLimiter::new(1_000_000)),
            bus: Arc::new(MemoryEventBus::new(1024)),
            risk: Arc::new(Unwired),
            router: Arc::new(Unwired),
            canceller: Arc::new(Unwired),
            portfolios: Arc::new(Unwired),
            alerts: None,
            intents: None,
            evidence: None,
            reports: None,
            executors: std::collections::BTreeMap::new(),
        }
    }

    /// Sets who applies approved `action` proposals (risk-limit changes, credential imports).
    pub fn executor(
        mut self,
        action: crate::config::QuorumAction,
        executor: Arc<dyn crate::quorum::ProposalExecutor>,
    ) -> Self {
        self.executors.insert(action, executor);
        self
    }

    /// Sets the configuration.
    pub fn config(mut self, config: GatewayConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets the clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the HMAC key source.
    pub fn hmac_keys(mut self, keys: Arc<dyn HmacKeys>) -> Self {
        self.hmac_keys = keys;
        self
    }

    /// Sets the shared caches (Redis for several replicas).
    pub fn caches(
        mut self,
        replay: Arc<dyn ReplayCache>,
        limiter: Arc<dyn RateLimiter>,
        bus: Arc<dyn EventBus>,
    ) -> Self {
        self.replay = replay;
        self.limiter = limiter;
        self.bus = bus;
        self
    }

    /// Wires the exchange side.
    pub fn venues(
        mut self,
        risk: Arc<dyn RiskGate>,
        router: Arc<dyn OrderRouter>,
        canceller: Arc<dyn OrderCanceller>,
    ) -> Self {
        self.risk = risk;
        self.router = router;
        self.canceller = canceller;
        self
    }

    /// Sets where portfolios and rebalancing plans come from.
    pub fn portfolios(mut self, portfolios: Arc<dyn crate::portfolio::Portfolios>) -> Self {
        self.portfolios = portfolios;
        self
    }

    /// Sets the alert sink (otherwise built from `config.alert_webhook`).
    pub fn alerts(mut self, alerts: Arc<dyn AlertSink>) -> Self {
        self.alerts = Some(alerts);
        self
    }

    /// Enables sealed intents (`POST /v1/intents`).
    pub fn intents(mut self, intake: Arc<crate::intents::IntentIntake>) -> Self {
        self.intents = Some(intake);
        self
    }

    /// Serves the audit log's evidence (`GET /v1/audit/*`).
    pub fn evidence(mut self, evidence: Arc<dyn crate::evidence::AuditEvidence>) -> Self {
        self.evidence = Some(evidence);
        self
    }

    /// Serves the signed performance report (`GET /v1/analytics`).
    pub fn reports(mut self, reports: Arc<dyn crate::evidence::ReportSource>) -> Self {
        self.reports = Some(reports);
        self
    }

    /// Validates the configuration, loads principals, trading state and lockouts, and starts
    /// following the event bus.
    pub async fn build(self) -> Result<AppState> {
        self.config.validate()?;
        let alerts = match (self.alerts, &self.config.alert_webhook) {
            (Some(a), _) => Some(a),
            (None, Some(url)) => Some(Arc::new(
                WebhookAlert::new(url)
                    .map_err(|r| crate::error::GatewayError::invalid("alert_webhook", r))?,
            ) as Arc<dyn AlertSink>),
            (None, None) => None,
        };
        let directory = Directory::load(self.store.clone()).await?;
        let trading = TradingState::load(self.store.clone()).await?;
        let lockouts = Lockouts::default();
        lockouts.load(&self.store, self.clock.now_ms()).await?;
        tokio::spawn(trading.clone().follow(self.bus.clone()));
        tokio::spawn(lockouts.clone().follow(self.bus.clone()));
        tokio::spawn(directory.clone().follow(self.bus.clone()));
        let state = AppState(Arc::new(Inner {
            config: self.config,
            keys: self.keys,
            store: self.store,
            clock: self.clock,
            directory,
            hmac_keys: self.hmac_keys,
            replay: self.replay,
            limiter: self.limiter,
            bus: self.bus,
            trading,
            lockouts,
            auth_trail: crate::auth::AuthTrail::default(),
            audit: self.audit,
            risk: self.risk,
            router: self.router,
            canceller: self.canceller,
            portfolios: self.portfolios,
            alerts,
            executors: self.executors,
            order_gate: tokio::sync::RwLock::new(()),
            rebalancing: Default::default(),
            intents: self.intents,
            evidence: self.evidence,
            reports: self.reports,
            metrics: crate::metrics::Metrics::default(),
        }));
        crate::api::spawn_session_cleanup(state.clone(), SESSION_CLEANUP_EVERY);
        Ok(state)
    }
}

/// The exchange side when none is wired: every trading call is refused.
struct Unwired;

const UNWIRED: &str = "no exchange is wired to this gateway; configure credentials and restart";

#[async_trait]
impl RiskGate for Unwired {
    async fn check(&self, order: Order) -> std::result::Result<Checked, Refusal> {
        Err(Refusal {
            order: Box::new(order),
            reasons: Vec::new(),
        })
    }
}

#[async_trait]
impl OrderRouter for Unwired {
    async fn place(&self, _: RiskApproved<Order>) -> std::result::Result<OrderView, VenueError> {
        Err(VenueError::Failed(UNWIRED.into()))
    }
    async fn cancel(&self, id: &str) -> std::result::Result<OrderView, VenueError> {
        Err(VenueError::NotFound(id.to_owned()))
    }
    async fn orders(&self) -> std::result::Result<Vec<OrderView>, VenueError> {
        Ok(Vec::new())
    }
    async fn balances(&self) -> std::result::Result<Vec<BalanceView>, VenueError> {
        Ok(Vec::new())
    }
}

#[async_trait]
impl crate::portfolio::Portfolios for Unwired {
    async fn portfolios(
        &self,
    ) -> std::result::Result<Vec<crate::portfolio::PortfolioView>, crate::portfolio::PlanError>
    {
        Ok(Vec::new())
    }
    async fn plan(
        &self,
        profile: &tradeguard_risk::ids::ProfileId,
    ) -> std::result::Result<crate::portfolio::ProfilePlan, crate::portfolio::PlanError> {
        Err(crate::portfolio::PlanError::UnknownProfile(
            profile.to_string(),
        ))
    }
}

#[async_trait]
impl OrderCanceller for Unwired {
    async fn cancel_all(&self) -> Vec<VenueCancel> {
        Vec::new()
    }
}
