//! [`Venues`]: the gateway's [`OrderRouter`] and [`OrderCanceller`] over
//! `tradeguard-exchange`: one connector per `[accounts.<name>]`, all built from one
//! [`ConnectorHub`] (shared rate budgets, breakers, Kraken nonces), signing with the vault
//! ([`super::secrets::VaultSecrets`]) and placing through an [`OrderPlacer`] over the order
//! ledger (recorded before sending, never re-sent blind).
//!
//! Order ids in the API are `<account>:<client order id>`. The halt's cancel-all is in
//! [`super::halt`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tradeguard_exchange::ledger::{LedgerEntry, OrderLedger, OrderPlacer, OrderState, Placement};
use tradeguard_exchange::model::{
    AccountId, Asset, ClientOrderId, OrderRequest, OrderType, Side, Symbol, TimeInForce,
};
use tradeguard_exchange::{Clock as ExClock, ConnectorHub, Exchange};
use tradeguard_gateway::venue::{BalanceView, OrderRouter, OrderView, VenueError};
use tradeguard_risk::order::{OrderType as RiskType, Side as RiskSide};
use tradeguard_risk::{Order, RiskApproved};
use tradeguard_vault::{CredentialId, UnlockedVault};

use super::config::AccountSection;
use super::order_events::Cause;
use super::risk::LiveRisk;
use super::secrets::VaultSecrets;

/// One exchange account as `serve` runs it.
#[derive(Clone)]
pub struct Account {
    /// `[accounts.<name>]`.
    pub name: String,
    /// Its connector.
    pub exchange: Arc<dyn Exchange>,
    /// Places, resolves and cancels through the ledger.
    pub placer: Arc<OrderPlacer>,
    /// The id the ledger keys it by.
    pub id: AccountId,
    /// The order ledger.
    pub ledger: Arc<dyn OrderLedger>,
    /// Set once the exchange confirmed the key cannot withdraw or transfer (see
    /// [`check_key`]); orders to the account are refused until then.
    pub key_checked: Arc<std::sync::atomic::AtomicBool>,
    /// `dangerous_accept_unverified_permissions` of the account.
    pub dangerous_unverified: bool,
}

/// What checking an account's key found.
pub enum KeyCheck {
    /// The key may be used (with the exchange's report, `None` when accepted unverified).
    Passed(tradeguard_exchange::permissions::KeyReport),
    /// The exchange could not be asked; the account stays closed and is asked again.
    Unreachable(String),
}

/// Asks the exchange what `a`'s key may do. A key that can withdraw or transfer (or whose
/// permissions cannot be known, unless the account accepts that) is an error: `serve` does
/// not start with it. An unreachable exchange closes only this account until a later check
/// passes, so one exchange's outage does not keep the gateway (and its halt) down.
pub async fn check_key(a: &Account) -> anyhow::Result<KeyCheck> {
    use tradeguard_exchange::permissions::{KeyRefusal, verify_key};
    match verify_key(&*a.exchange, &a.name, a.dangerous_unverified).await {
        Ok(report) => {
            a.key_checked
                .store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(KeyCheck::Passed(report))
        }
        Err(KeyRefusal::Exchange { source, .. }) => Ok(KeyCheck::Unreachable(source.to_string())),
        Err(refusal) => Err(anyhow::anyhow!("[accounts.{}]: {refusal}", a.name)),
    }
}

/// Builds one connector per account, each signing with its vault credential. Refuses a
/// credential that is missing or belongs to another exchange.
pub async fn connect(
    hub: &ConnectorHub,
    accounts: &BTreeMap<String, AccountSection>,
    vault: &Arc<UnlockedVault>,
    ledger: Arc<dyn OrderLedger>,
    clock: Arc<dyn ExClock>,
) -> anyhow::Result<BTreeMap<String, Account>> {
    let known = vault.list().await?;
    let runtime = tokio::runtime::Handle::current();
    let mut out = BTreeMap::new();
    for (name, section) in accounts {
        let cfg = &section.connector;
        let id = CredentialId::parse(&section.credential)
            .map_err(|e| anyhow::anyhow!("[accounts.{name}] credential: {e}"))?;
        let meta = known.iter().find(|m| m.id == id).ok_or_else(|| {
            anyhow::anyhow!(
                "[accounts.{name}] names credential `{id}`, which is not in the vault; import it (`tradeguard credentials import`) or fix the id (`tradeguard credentials list`)"
            )
        })?;
        if meta.exchange.name() != cfg.exchange.as_str() {
            anyhow::bail!(
                "[accounts.{name}] is on {} but credential `{id}` is for {}",
                cfg.exchange,
                meta.exchange
            );
        }
        let secrets = Arc::new(VaultSecrets::new(
            vault.clone(),
            id,
            cfg.exchange,
            runtime.clone(),
        ));
        let exchange = hub
            .connect(cfg, secrets)
            .map_err(|e| anyhow::anyhow!("[accounts.{name}]: {e}"))?;
        let placer = Arc::new(OrderPlacer::new(
            exchange.clone(),
            ledger.clone(),
            cfg.account.clone(),
            clock.clone(),
        ));
        let account = Account {
            name: name.clone(),
            exchange,
            placer,
            id: cfg.account.clone(),
            ledger: ledger.clone(),
            key_checked: Arc::default(),
            dangerous_unverified: section.dangerous_accept_unverified_permissions,
        };
        out.insert(name.clone(), account);
    }
    Ok(out)
}

/// Balance re-reads after orders are at least this far apart per account (orders in between
/// share one re-read), so a busy trader does not spend the account's rate budget on them.
const REFRESH_SPACING: Duration = Duration::from_secs(2);

/// Re-reads `account`'s balances after orders, so the risk gate checks the next order against
/// what the exchange holds now rather than at the last poll. Notifications coalesce.
fn refresher(account: &Account, risk: Arc<LiveRisk>) -> Arc<tokio::sync::Notify> {
    let notify = Arc::new(tokio::sync::Notify::new());
    let (wake, exchange, name) = (
        notify.clone(),
        account.exchange.clone(),
        account.name.clone(),
    );
    tokio::spawn(async move {
        loop {
            wake.notified().await;
            tokio::time::sleep(REFRESH_SPACING / 4).await;
            match exchange.balances().await {
                Ok(b) => risk.set_balances(&name, b),
                Err(e) => tracing::warn!(account = %name, error = %e, "balances after an order"),
            }
            tokio::time::sleep(REFRESH_SPACING).await;
        }
    });
    notify
}

/// The exchange side of the gateway.
pub struct Venues {
    accounts: BTreeMap<String, Account>,
    ledger: Arc<dyn OrderLedger>,
    risk: Arc<LiveRisk>,
    refreshers: BTreeMap<String, Arc<tokio::sync::Notify>>,
    pub(super) cancel_attempts: u32,
    pub(super) cancel_backoff: Duration,
}

impl Venues {
    /// Over `accounts`, recording in `ledger`; `risk` maps profiles to accounts, keeps the
    /// balances, and from now on reads each profile's open orders from `ledger`.
    pub fn new(
        accounts: BTreeMap<String, Account>,
        ledger: Arc<dyn OrderLedger>,
        risk: Arc<LiveRisk>,
    ) -> Self {
        let refreshers = accounts
            .values()
            .map(|a| (a.name.clone(), refresher(a, risk.clone())))
            .collect();
        let ids = accounts.values().map(|a| (a.name.clone(), a.id.clone()));
        risk.set_open_orders(ledger.clone(), ids.collect());
        Self {
            accounts,
            ledger,
            risk,
            refreshers,
            cancel_attempts: 10,
            cancel_backoff: Duration::from_millis(300),
        }
    }

    /// The accounts.
    pub fn accounts(&self) -> &BTreeMap<String, Account> {
        &self.accounts
    }

    fn view(&self, account: &str, e: &LedgerEntry) -> OrderView {
        let r = &e.request;
        let profiles = self.risk.profiles_of(account);
        OrderView {
            id: format!("{account}:{}", r.client_order_id()),
            client_order_id: r.client_order_id().as_str().to_owned(),
            profile: match profiles.as_slice() {
                [one] => one.as_str().to_owned(),
                _ => String::new(),
            },
            symbol: r.symbol().to_string(),
            side: match r.side() {
                Side::Buy => "buy".into(),
                Side::Sell => "sell".into(),
            },
            quantity: r.quantity(),
            price: r.price(),
            status: status(e.state).into(),
        }
    }

    /// Cancels order `id` (`<account>:<client order id>`), logged as cancelled by `cause`; the
    /// account's balances are read again after it.
    pub async fn cancel_as(&self, id: &str, cause: Cause) -> Result<OrderView, VenueError> {
        let not_found = || VenueError::NotFound(id.to_owned());
        let (name, cid) = id.split_once(':').ok_or_else(not_found)?;
        let account = self.accounts.get(name).ok_or_else(not_found)?;
        let cid = ClientOrderId::parse(cid).map_err(|_| not_found())?;
        let done = cause.scope(account.placer.cancel(&cid)).await;
        self.refresh_balances(account);
        match done {
            Ok(e) => Ok(self.view(name, &e)),
            Err(tradeguard_exchange::ledger::OrderError::Ledger(
                tradeguard_exchange::ledger::LedgerError::NotFound(_),
            )) => Err(not_found()),
            Err(e) => Err(VenueError::Failed(format!("{name}: {e}"))),
        }
    }

    /// Asks for the account's balances to be re-read after an order (see [`refresher`]).
    fn refresh_balances(&self, account: &Account) {
        if let Some(n) = self.refreshers.get(&account.name) {
            n.notify_one();
        }
    }

    fn account(&self, name: &str) -> Result<&Account, VenueError> {
        self.accounts
            .get(name)
            .ok_or_else(|| VenueError::Failed(format!("account `{name}` is not configured")))
    }
}

/// The API's name for a ledger state.
fn status(s: OrderState) -> &'static str {
    match s {
        OrderState::Acknowledged => "open",
        OrderState::Filled => "filled",
        OrderState::Cancelled => "cancelled",
        OrderState::Rejected => "rejected",
        OrderState::New | OrderState::Sent | OrderState::Unknown => "unknown",
    }
}

/// The exchange's request for a risk-approved order.
pub fn request(order: &Order) -> Result<OrderRequest, VenueError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| VenueError::Failed(format!("{what}: {e}"));
    let cid = ClientOrderId::parse(order.client_order_id().as_str())
        .map_err(|e| bad("client_order_id", &e))?;
    let asset =
        |a: &tradeguard_risk::ids::Asset| Asset::parse(a.as_str()).map_err(|e| bad("symbol", &e));
    let symbol = Symbol::new(
        asset(order.symbol().base())?,
        asset(order.symbol().quote())?,
    );
    let side = match order.side() {
        RiskSide::Buy => Side::Buy,
        RiskSide::Sell => Side::Sell,
    };
    let order_type = match order.order_type() {
        RiskType::Market => OrderType::Market,
        RiskType::Limit { price } => OrderType::Limit {
            price,
            time_in_force: TimeInForce::Gtc,
        },
    };
    OrderRequest::new(cid, symbol, side, order_type, order.quantity()).map_err(|e| bad("order", &e))
}

#[async_trait]
impl OrderRouter for Venues {
    async fn place(&self, approved: RiskApproved<Order>) -> Result<OrderView, VenueError> {
        let order = approved.get();
        let name = self
            .risk
            .account_of(order.profile())
            .ok_or_else(|| {
                VenueError::Failed(format!("profile `{}` has no account", order.profile()))
            })?
            .to_owned();
        let req = request(order)?;
        let account = self.account(&name)?;
        if !account
            .key_checked
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err(VenueError::Failed(format!(
                "{name}: the exchange has not confirmed yet that the key cannot withdraw (it was unreachable); orders resume once a poll confirms it"
            )));
        }
        let placed = account
            .placer
            .place(&req)
            .await
            .map_err(|e| VenueError::Failed(format!("{name}: {e}")))?;
        drop(approved.into_inner()); // submitted: the proof is spent
        match placed {
            Placement::Placed(e) => {
                self.refresh_balances(account);
                Ok(self.view(&name, &e))
            }
            Placement::AlreadyRecorded(e) | Placement::Unknown { entry: e, .. } => {
                Ok(self.view(&name, &e))
            }
            Placement::Rejected { error, .. } => Err(VenueError::Failed(format!(
                "{name} refused the order: {error}"
            ))),
        }
    }

    async fn cancel(&self, id: &str) -> Result<OrderView, VenueError> {
        self.cancel_as(id, Cause::CLIENT).await
    }

    async fn orders(&self) -> Result<Vec<OrderView>, VenueError> {
        let mut out = Vec::new();
        for (name, a) in &self.accounts {
            let entries = self
                .ledger
                .open_entries(&a.id)
                .await
                .map_err(|e| VenueError::Failed(e.to_string()))?;
            out.extend(entries.iter().map(|e| (e.created_at, self.view(name, e))));
        }
        out.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        Ok(out.into_iter().map(|(_, v)| v).collect())
    }

    async fn balances(&self) -> Result<Vec<BalanceView>, VenueError> {
        for (name, a) in &self.accounts {
            // The poller and the re-reads after orders keep them fresh; read only the first time.
            if self.risk.balances_age(name).is_some() {
                continue;
            }
            match a.exchange.balances().await {
                Ok(b) => self.risk.set_balances(name, b),
                Err(e) => {
                    tracing::warn!(account = %name, error = %e, "balances: using the last poll")
                }
            }
        }
        Ok(self.risk.balance_views())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use tradeguard_exchange::ledger::InMemoryLedger;
    use tradeguard_exchange::model::ExchangeId;
    use tradeguard_exchange::{ConnectorConfig, InMemorySecretSource};
    use tradeguard_sim::{SimConfig, Venue};

    use super::*;

    fn account(hub: &ConnectorHub, base: &str, key: &str, secret: &str) -> Account {
        let id = AccountId::parse("k").unwrap();
        let mut cfg = ConnectorConfig::new(ExchangeId::Kraken, id.clone())
            .with_base_url(base.parse().unwrap());
        cfg.timeout = Duration::from_secs(2);
        cfg.retry.max_attempts = 1;
        let secrets = Arc::new(InMemorySecretSource::from_parts(key, secret, None));
        let exchange = hub.connect(&cfg, secrets).unwrap();
        let ledger: Arc<dyn OrderLedger> = Arc::new(InMemoryLedger::new());
        let placer = OrderPlacer::new(exchange.clone(), ledger.clone(), id.clone(), hub.clock());
        Account {
            name: "k".into(),
            exchange,
            placer: Arc::new(placer),
            id,
            ledger,
            key_checked: Arc::default(),
            dangerous_unverified: false,
        }
    }

    /// A reachable exchange confirms the key and opens the account; an unreachable one keeps
    /// it closed without failing the start.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn key_checks_open_accounts_only_when_the_exchange_confirms() {
        let sim = tradeguard_sim::start(SimConfig::default()).await.unwrap();
        let hub = ConnectorHub::system();
        let c = sim.keys().get(Venue::Kraken);
        let up = account(&hub, &c.base_url, &c.api_key, c.api_secret.expose_secret());
        assert!(matches!(check_key(&up).await.unwrap(), KeyCheck::Passed(_)));
        assert!(up.key_checked.load(Ordering::SeqCst));
        let down = account(&hub, "http://127.0.0.1:9", "k", "c2VjcmV0");
        assert!(matches!(
            check_key(&down).await.unwrap(),
            KeyCheck::Unreachable(_)
        ));
        assert!(!down.key_checked.load(Ordering::SeqCst));
        sim.shutdown().await;
    }
}
