//! The start sequence of `tradeguard serve`, the server's life, and its graceful stop.
//!
//! Start: harden the process, open and migrate the store, unlock the vault, open the audit
//! log (checkpoints signed with the gateway's Ed25519 key), connect every account (keys that
//! can withdraw are refused), reconcile the order ledger with each exchange, poll once, build
//! the gateway and serve. Stop (SIGTERM/SIGINT): stop accepting, give requests in flight
//! `shutdown_grace_secs`, stop the background tasks, resolve orders whose placement outcome
//! is unknown (those still unknown stay so in the ledger for the next start's
//! reconciliation), record the stop and sign a final checkpoint.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use tokio::sync::watch;
use tradeguard_audit::event::AuditEvent;
use tradeguard_audit::log::AuditLog;
use tradeguard_crypto::secret::SecretString;
use tradeguard_exchange::ConnectorHub;
use tradeguard_exchange::ledger::OrderLedger;
use tradeguard_exchange::poller::{PolledAccount, Poller, PollerConfig};
use tradeguard_gateway::audit::AuditLogSink;
use tradeguard_gateway::clock::Clock as _;
use tradeguard_gateway::keys::{GatewayKeys, GatewaySigner};
use tradeguard_gateway::state::{AppState, GatewayBuilder};
use tradeguard_store::Store;
use tradeguard_store::cache::RedisCaches;
use tradeguard_vault::{SinkError, UnlockedVault, Vault, VaultEvent, VaultEventSink};

use super::audit::{self, VaultAudit};
use super::config::ServeConfig;
use super::market::PublicMarkets;
use super::risk::LiveRisk;
use super::tasks::{MarketFeed, PollLoop};
use super::venues::{self, Venues};
use super::{bootstrap, evidence, ledger};

/// What `serve` needs besides the configuration file.
pub struct Options {
    /// The checked configuration (flags already applied).
    pub config: ServeConfig,
    /// The data dir.
    pub data_dir: PathBuf,
    /// The vault passphrase.
    pub passphrase: SecretString,
}

/// Vault events before the audit log is open are refused; after, they go to the log.
#[derive(Default)]
struct LateSink(OnceLock<VaultAudit>);

#[async_trait]
impl VaultEventSink for LateSink {
    async fn record(&self, event: &VaultEvent) -> Result<(), SinkError> {
        match self.0.get() {
            Some(sink) => sink.record(event).await,
            None => Err(SinkError {
                reason: "the audit log is not open yet".into(),
            }),
        }
    }
}

/// Signs with the gateway key the vault holds (no copy of it outside the vault).
struct VaultSigner(
    Arc<UnlockedVault>,
    tradeguard_crypto::sign::Ed25519VerifyingKey,
);

impl GatewaySigner for VaultSigner {
    fn verifying_key(&self) -> tradeguard_crypto::sign::Ed25519VerifyingKey {
        self.1
    }
    fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg)
    }
}

fn now_ms() -> i64 {
    tradeguard_gateway::clock::SystemClock.now_ms()
}

async fn open_store(opts: &Options) -> anyhow::Result<Store> {
    match &opts.config.store.url {
        Some(url) => {
            let store = Store::connect(url)
                .await
                .context("cannot connect to [store] url")?;
            store
                .migrate()
                .await
                .context("cannot migrate the database")?;
            Ok(store)
        }
        None => crate::cmd::datadir::open_store(&opts.data_dir).await,
    }
}

/// Everything running, for the stop.
struct Running {
    store: Store,
    log: AuditLog,
    venues: Arc<Venues>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    intake: Option<Arc<tradeguard_gateway::intents::IntentIntake>>,
}

/// Runs the gateway until `shutdown` resolves; `ready` gets the bound address once serving.
pub async fn run(
    mut opts: Options,
    shutdown: impl Future<Output = ()>,
    ready: impl FnOnce(SocketAddr, &str, Option<&std::path::Path>),
) -> anyhow::Result<()> {
    let hardening = tradeguard_vault::harden::apply(Default::default());
    let store = open_store(&opts).await?;
    let late = Arc::new(LateSink::default());
    let vault = Vault::new(store.clone(), late.clone())
        .with_rotation_interval(opts.config.kek_rotation())
        .unlock(&opts.passphrase)
        .await?;
    opts.passphrase = SecretString::new(String::new()); // wiped: not needed any more
    let vault = Arc::new(vault);
    let log = audit::open(&store, &vault).await?;
    let log_sink: Arc<dyn tradeguard_audit::sink::AuditSink> = Arc::new(log.clone());
    let _ = late.0.set(VaultAudit(log_sink.clone()));
    let start = AuditEvent::of("serve.started")
        .and_then(|e| e.field("version", env!("CARGO_PKG_VERSION")))
        .and_then(|e| e.field("accounts", opts.config.accounts.len()))
        .and_then(|e| e.field("hardening_warnings", hardening.warnings().len()));
    audit::record(&log, start).await?;
    super::config_audit::record(&store, &log, &opts.config.digest).await?;
    if let Some(did) = bootstrap::controller(&store, &opts.data_dir, now_ms()).await? {
        let e = AuditEvent::of("principal.bootstrap")
            .and_then(|e| e.field("keyid", did.as_str()))
            .and_then(|e| e.field("scopes", "trade,read,halt"));
        audit::record(&log, e).await?;
    }

    let (state, running) = start_gateway(&opts, store, vault, log).await?;
    let listen = opts.config.server.listen;
    let listener = bootstrap::listener(&opts.config.server, &opts.data_dir, listen).await?;
    let app = tradeguard_gateway::api::router(state);
    let handle = tradeguard_gateway::tls::Handle::new();
    let mut server = tokio::spawn(tradeguard_gateway::tls::serve(
        app,
        listen,
        listener.transport,
        handle.clone(),
    ));
    let bound = tokio::select! {
        a = handle.listening() => a.context("the server stopped before it listened")?,
        r = &mut server => return Err(anyhow::anyhow!("the server did not start: {}", flatten(r))),
    };
    ready(bound, listener.scheme, listener.cert.as_deref());
    tokio::select! {
        () = shutdown => {}
        r = &mut server => {
            stop(running, "server failed").await;
            return Err(anyhow::anyhow!("the server stopped: {}", flatten(r)));
        }
    }
    let grace = Duration::from_secs(opts.config.server.shutdown_grace_secs);
    tracing::info!(
        grace_secs = grace.as_secs(),
        "stopping: no new connections; waiting for requests in flight"
    );
    handle.graceful_shutdown(Some(grace));
    let _ = server.await;
    stop(running, "signal").await;
    Ok(())
}

fn flatten(
    r: Result<Result<(), tradeguard_gateway::tls::TlsError>, tokio::task::JoinError>,
) -> String {
    match r {
        Ok(Ok(())) => "it ended".into(),
        Ok(Err(e)) => e.to_string(),
        Err(e) => e.to_string(),
    }
}

/// Connects the exchanges, reconciles, polls once and builds the gateway state.
async fn start_gateway(
    opts: &Options,
    store: Store,
    vault: Arc<UnlockedVault>,
    log: AuditLog,
) -> anyhow::Result<(AppState, Running)> {
    let config = &opts.config;
    let hub = ConnectorHub::system();
    let clock = hub.clock();
    let exchanges: BTreeMap<String, _> = config
        .accounts
        .iter()
        .map(|(n, a)| (n.clone(), a.connector.exchange))
        .collect();
    let gw_clock = Arc::new(tradeguard_gateway::clock::SystemClock);
    let risk = Arc::new(LiveRisk::new(&config.risk, &exchanges, gw_clock)?);
    let folder = ledger::folder(&store, log.redactor(), &risk, config)?;
    let ledger: Arc<dyn OrderLedger> = ledger::open(
        &store,
        Arc::new(log.clone()),
        log.redactor(),
        folder.is_some(),
        &risk,
        &config.accounts,
    );
    let accounts = venues::connect(
        &hub,
        &config.accounts,
        &vault,
        ledger.clone(),
        clock.clone(),
    )
    .await?;
    for a in accounts.values() {
        let checked = venues::check_key(a).await?;
        super::tasks::record_key_check(&log, a, &checked).await?;
    }
    let since = tradeguard_exchange::model::UnixMillis(now_ms() - 24 * 3600 * 1000);
    for (name, a) in &accounts {
        let r = a.placer.reconcile(&risk.symbols(name), since).await?;
        let e = AuditEvent::of("serve.reconciled")
            .and_then(|e| e.field("account", name.as_str()))
            .and_then(|e| e.field("never_sent", r.never_sent))
            .and_then(|e| e.field("resolved", r.resolved))
            .and_then(|e| e.field("still_unknown", r.still_unknown.len()))
            .and_then(|e| e.field("updated", r.updated))
            .and_then(|e| e.field("foreign_orders", r.foreign_orders.len()))
            .and_then(|e| e.field("new_fills", r.new_fills))
            .and_then(|e| e.field("errors", r.errors.len()));
        audit::record(&log, e).await?;
        for err in &r.errors {
            tracing::warn!(account = %name, error = %err, "reconciliation");
        }
    }
    let mut markets = Vec::new();
    let mut polled = Vec::new();
    for (name, a) in &accounts {
        let symbols = risk.symbols(name);
        markets.push(MarketFeed {
            account: name.clone(),
            source: PublicMarkets::new(&config.accounts[name].connector)?,
            symbols: symbols.clone(),
        });
        polled.push(PolledAccount {
            account: a.id.clone(),
            exchange: a.exchange.clone(),
            symbols,
            placer: Some(a.placer.clone()),
        });
    }
    let interval = Duration::from_secs(config.polling.interval_secs);
    let poller_config = PollerConfig {
        interval,
        initial_lookback: Duration::from_secs(24 * 3600),
    };
    // Every scope is tracked from the start, so the first poll's fills count in its flows.
    let flows = Arc::new(super::flows::FlowTracker::default());
    for name in accounts.keys() {
        use tradeguard_store::equity::EquityScope;
        flows.register(EquityScope::Account, name, name);
        for p in risk.profiles_of(name) {
            flows.register(EquityScope::Profile, p.as_str(), name);
        }
    }
    let persisted = ledger::Persisted::new(&store, risk.clone(), flows.clone());
    for a in accounts.values() {
        persisted.restore(&a.id).await;
    }
    let poller = Poller::new(polled, Arc::new(persisted), clock, poller_config);
    let venues = Arc::new(Venues::new(accounts, ledger, risk.clone()));

    let hpke = vault.public_keys()?;
    let signer = VaultSigner(vault.clone(), hpke.ed25519);
    let keys = GatewayKeys::new(
        vec![hpke.x25519.clone(), hpke.xwing.clone()],
        Arc::new(signer),
    );
    let gateway_audit = Arc::new(AuditLogSink(Arc::new(log.clone())));
    let mut builder = GatewayBuilder::new(store.clone(), keys, gateway_audit)
        .config(config.gateway.clone())
        .venues(risk.clone(), venues.clone(), venues.clone())
        .portfolios(risk.clone());
    let intake = super::intents::intake(&vault, &config.intents).await?;
    if let Some(i) = &intake {
        builder = builder.intents(i.clone());
    }
    if let Some(url) = &config.store.redis_url {
        let prefix = format!("tradeguard:{}:", store.installation_id().await?);
        let redis = RedisCaches::connect(url, &prefix)
            .await
            .context("cannot connect to [store] redis_url")?;
        builder = builder.caches(
            Arc::new(redis.replay_cache()),
            Arc::new(redis.rate_limiter()),
            Arc::new(redis.event_bus()),
        );
    }
    builder = builder
        .evidence(Arc::new(evidence::StoredLogEvidence(log.clone())))
        .reports(Arc::new(evidence::ServeReports::new(
            log.clone(),
            vault.clone(),
            &store,
            &venues,
            risk.clone(),
            config,
        )));
    let state = builder.build().await?;

    let check_every = Duration::from_secs(config.polling.rebalance_check_secs);
    let scheduler = match super::rebalance::Scheduler::new(
        state.clone(),
        risk.clone(),
        &config.risk,
        check_every,
    ) {
        Some(s) => {
            let ttl = Duration::from_secs(config.polling.rebalance_order_ttl_secs);
            let s = s.with_order_ttl(venues.clone(), ttl);
            Some(s.resume(&store, &venues, now_ms()).await)
        }
        None => None,
    };
    let poll = PollLoop {
        poller,
        markets,
        risk,
        venues: venues.clone(),
        trading: state.trading.clone(),
        audit: log.clone(),
        equity: super::equity::EquityRecorder::for_accounts(store.clone(), interval, config, flows),
        folder,
    };
    poll.once().await;
    let (stop, stopped) = watch::channel(false);
    let rotation = super::tasks::rotation_check_period(config.kek_rotation());
    let checkpoint = Duration::from_secs(config.audit.checkpoint_secs);
    let mut tasks = vec![
        tokio::spawn(poll.run(interval, stopped.clone())),
        tokio::spawn(super::tasks::rotate_keys(vault, rotation, stopped.clone())),
        tokio::spawn(audit::checkpoints(log.clone(), checkpoint, stopped.clone())),
        tokio::spawn(super::tasks::report_suppressed_failures(
            state.clone(),
            stopped.clone(),
        )),
    ];
    tasks.extend(scheduler.map(|s| tokio::spawn(s.run(stopped))));
    let running = Running {
        store,
        log,
        venues,
        stop,
        tasks,
        intake,
    };
    Ok((state, running))
}

/// Stops the background tasks, resolves what can be resolved, records the stop and signs a
/// final checkpoint.
async fn stop(r: Running, why: &str) {
    let _ = r.stop.send(true);
    for t in r.tasks {
        let _ = tokio::time::timeout(Duration::from_secs(30), t).await;
    }
    let mut unknown = 0usize;
    for (name, a) in r.venues.accounts() {
        match a.placer.resolve_pending().await {
            Ok(list) => {
                unknown += list
                    .iter()
                    .filter(|x| {
                        matches!(x, tradeguard_exchange::ledger::Resolution::Pending { .. })
                    })
                    .count();
            }
            Err(e) => {
                tracing::warn!(account = %name, error = %e, "could not resolve pending orders")
            }
        }
    }
    if let Some(i) = &r.intake
        && let Err(e) = super::intents::record_stats(&r.log, i).await
    {
        tracing::error!(error = %e, "intent counters not audited");
    }
    let e = AuditEvent::of("serve.stopped")
        .and_then(|e| e.field("reason", why))
        .and_then(|e| e.field("orders_unknown", unknown));
    if let Err(e) = audit::record(&r.log, e).await {
        tracing::error!(error = %e, "stop not audited");
    }
    match r.log.checkpoint().await {
        Ok(cp) => tracing::info!(
            size = cp.unverified().size(),
            "final audit checkpoint signed"
        ),
        Err(e) => tracing::error!(error = %e, "final audit checkpoint failed"),
    }
    r.store.close().await;
}
