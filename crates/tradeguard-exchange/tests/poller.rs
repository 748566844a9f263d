//! The polling service against a loopback Binance: snapshots, fills stored once, a fill the
//! ledger refused fetched again, and the connectivity status through failures and a ban.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use support::{Capture, Stub, T0, config, hub};
use tradeguard_exchange::binance::BinanceClient;
use tradeguard_exchange::ledger::{
    FillRecord, InMemoryLedger, LedgerEntry, LedgerError, OrderLedger, OrderPlacer, Transition,
};
use tradeguard_exchange::model::{
    AccountId, ClientOrderId, ExchangeId, Fill, OrderRequest, Symbol, UnixMillis,
};
use tradeguard_exchange::poller::{
    Connectivity, MemoryPollStore, PolledAccount, Poller, PollerConfig,
};
use tradeguard_exchange::{Exchange, InMemorySecretSource, SystemClock};

fn trade(id: u64, t: i64) -> String {
    format!(
        r#"{{"symbol":"BTCUSDT","id":{id},"orderId":7,"orderListId":-1,"price":"100.0","qty":"0.5","quoteQty":"50.0","commission":"0.01","commissionAsset":"USDT","time":{t},"isBuyer":true,"isMaker":false,"isBestMatch":true}}"#
    )
}

fn param(query: &str, name: &str) -> i64 {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
        .unwrap_or(0)
}

/// Trades 1 (before T0) and, once `second` is set, 2 (after T0), filtered by
/// `startTime`/`endTime` as Binance does.
fn trades(query: &str, second: bool) -> String {
    let (start, end) = (param(query, "startTime"), param(query, "endTime"));
    let mut all = vec![(1, T0.0 - 1000)];
    if second {
        all.push((2, T0.0 + 5000));
    }
    let page: Vec<String> = all
        .into_iter()
        .filter(|(_, t)| *t >= start && *t <= end)
        .map(|(id, t)| trade(id, t))
        .collect();
    format!("[{}]", page.join(","))
}

/// `account_status` is the HTTP status `/api/v3/account` answers with (changed by the test);
/// trade 2 exists once that status is no longer 200.
async fn server(account_status: Arc<AtomicU16>) -> Capture {
    Capture::start(move |req, _| match req.path.as_str() {
        "/api/v3/account" => match account_status.load(Ordering::SeqCst) {
            200 => Stub::json(
                200,
                r#"{"balances":[{"asset":"USDT","free":"1000.0","locked":"0.0"}]}"#,
            ),
            418 => Stub::json(418, r#"{"code":-1003,"msg":"banned"}"#).header("retry-after", "120"),
            s => Stub::json(s, "unavailable"),
        },
        "/api/v3/openOrders" => Stub::json(200, "[]"),
        "/api/v3/myTrades" => {
            let second = account_status.load(Ordering::SeqCst) != 200;
            Stub::json(200, &trades(req.query.as_deref().unwrap_or(""), second))
        }
        _ => Stub::json(404, "{}"),
    })
    .await
}

#[tokio::test]
async fn polls_snapshots_stores_each_fill_once_and_tracks_connectivity() {
    let account_status = Arc::new(AtomicU16::new(200));
    let srv = server(account_status.clone()).await;
    let (clock, hub) = hub();
    let mut cfg = config(ExchangeId::Binance, &srv.base);
    cfg.retry = tradeguard_exchange::retry::RetryPolicy::none();
    let secrets = Arc::new(InMemorySecretSource::from_parts("k", "s", None));
    let ex: Arc<dyn Exchange> = Arc::new(BinanceClient::new(&cfg, secrets, &hub).unwrap());
    let acct = AccountId::parse("binance-main").unwrap();
    let store = Arc::new(MemoryPollStore::new());
    let poller = Poller::new(
        vec![PolledAccount {
            account: acct.clone(),
            exchange: ex,
            symbols: vec![Symbol::parse("BTC/USDT").unwrap()],
            placer: None,
        }],
        store.clone(),
        clock.clone(),
        PollerConfig::default(),
    );
    assert_eq!(poller.status()[0].state, Connectivity::Unknown);

    let s = poller.poll_once().await;
    assert_eq!(s[0].state, Connectivity::Connected);
    assert_eq!(store.balances(&acct)[0].asset.as_str(), "USDT");
    assert_eq!(store.fills(&acct).len(), 1);

    clock.advance(Duration::from_secs(300));
    account_status.store(503, Ordering::SeqCst);
    let s = poller.poll_once().await;
    assert!(
        matches!(s[0].state, Connectivity::Degraded { .. }),
        "{:?}",
        s[0].state
    );
    assert_eq!(s[0].consecutive_failures, 1);
    let fills = store.fills(&acct);
    assert_eq!(
        fills
            .iter()
            .map(|f| f.trade_id.as_str())
            .collect::<Vec<_>>(),
        ["1", "2"],
        "each fill once"
    );
    // The second fills query starts at the newest fill already seen.
    let last_trades = srv
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v3/myTrades")
        .last()
        .unwrap();
    assert!(
        last_trades
            .query
            .unwrap()
            .contains(&format!("startTime={}", T0.0 - 1000))
    );

    account_status.store(418, Ordering::SeqCst);
    clock.advance(Duration::from_secs(300));
    let s = poller.poll_once().await;
    assert!(
        matches!(s[0].state, Connectivity::Banned { .. }),
        "{:?}",
        s[0].state
    );
    assert_eq!(store.status(&acct).unwrap().state, s[0].state);
}

#[tokio::test]
async fn run_polls_on_the_interval_until_shutdown() {
    let srv = server(Arc::new(AtomicU16::new(200))).await;
    let hub = tradeguard_exchange::ConnectorHub::system();
    let secrets = Arc::new(InMemorySecretSource::from_parts("k", "s", None));
    let ex: Arc<dyn Exchange> = Arc::new(
        BinanceClient::new(&config(ExchangeId::Binance, &srv.base), secrets, &hub).unwrap(),
    );
    let store = Arc::new(MemoryPollStore::new());
    let poller = Arc::new(Poller::new(
        vec![PolledAccount {
            account: AccountId::parse("a").unwrap(),
            exchange: ex,
            symbols: Vec::new(),
            placer: None,
        }],
        store,
        Arc::new(SystemClock),
        PollerConfig {
            interval: Duration::from_millis(40),
            ..PollerConfig::default()
        },
    ));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let p = poller.clone();
    let task = tokio::spawn(async move { p.run(rx).await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("stops on shutdown")
        .unwrap();
    let polls = srv
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v3/account")
        .count();
    assert!(polls >= 2, "{polls} polls");
}

/// An in-memory ledger that refuses to record one trade id while `refuse` is set (as the
/// gateway's ledger does when the audit log does not take the fill).
struct RefusingLedger {
    inner: InMemoryLedger,
    refuse: std::sync::Mutex<Option<&'static str>>,
}

#[async_trait::async_trait]
impl OrderLedger for RefusingLedger {
    async fn record_intent(
        &self,
        account: &AccountId,
        exchange: ExchangeId,
        request: &OrderRequest,
        at: UnixMillis,
    ) -> Result<LedgerEntry, LedgerError> {
        self.inner
            .record_intent(account, exchange, request, at)
            .await
    }
    async fn transition(
        &self,
        account: &AccountId,
        id: &ClientOrderId,
        t: Transition,
    ) -> Result<LedgerEntry, LedgerError> {
        self.inner.transition(account, id, t).await
    }
    async fn get(
        &self,
        account: &AccountId,
        id: &ClientOrderId,
    ) -> Result<Option<LedgerEntry>, LedgerError> {
        self.inner.get(account, id).await
    }
    async fn open_entries(&self, account: &AccountId) -> Result<Vec<LedgerEntry>, LedgerError> {
        self.inner.open_entries(account).await
    }
    async fn all_entries(&self, account: &AccountId) -> Result<Vec<LedgerEntry>, LedgerError> {
        self.inner.all_entries(account).await
    }
    async fn record_fill(
        &self,
        account: &AccountId,
        fill: &Fill,
    ) -> Result<FillRecord, LedgerError> {
        if *self.refuse.lock().unwrap() == Some(fill.trade_id.as_str()) {
            return Err(LedgerError::Storage("audit log refused".into()));
        }
        self.inner.record_fill(account, fill).await
    }
    async fn fills(&self, account: &AccountId) -> Result<Vec<Fill>, LedgerError> {
        self.inner.fills(account).await
    }
}

/// Regression: a fill the ledger could not record used to be saved and passed by the cursor
/// anyway, so the ledger (and the audit log behind it) never got it. Now the cursor stops
/// before it and the next poll records it.
#[tokio::test]
async fn fill_the_ledger_refused_is_fetched_again_at_the_next_poll() {
    let account_status = Arc::new(AtomicU16::new(503)); // trades 1 and 2 both exist
    let srv = server(account_status).await;
    let (clock, hub) = hub();
    let mut cfg = config(ExchangeId::Binance, &srv.base);
    cfg.retry = tradeguard_exchange::retry::RetryPolicy::none();
    let secrets = Arc::new(InMemorySecretSource::from_parts("k", "s", None));
    let ex: Arc<dyn Exchange> = Arc::new(BinanceClient::new(&cfg, secrets, &hub).unwrap());
    let acct = AccountId::parse("binance-main").unwrap();
    let ledger = Arc::new(RefusingLedger {
        inner: InMemoryLedger::new(),
        refuse: std::sync::Mutex::new(Some("2")),
    });
    let placer = OrderPlacer::new(ex.clone(), ledger.clone(), acct.clone(), clock.clone());
    let store = Arc::new(MemoryPollStore::new());
    let poller = Poller::new(
        vec![PolledAccount {
            account: acct.clone(),
            exchange: ex,
            symbols: vec![Symbol::parse("BTC/USDT").unwrap()],
            placer: Some(Arc::new(placer)),
        }],
        store.clone(),
        clock.clone(),
        PollerConfig::default(),
    );
    let ids = |fills: Vec<Fill>| -> Vec<String> {
        fills
            .iter()
            .map(|f| f.trade_id.as_str().to_owned())
            .collect()
    };
    poller.poll_once().await;
    assert_eq!(ids(ledger.fills(&acct).await.unwrap()), ["1"]);
    assert_eq!(
        ids(store.fills(&acct)),
        ["1"],
        "saved only what the ledger took"
    );
    *ledger.refuse.lock().unwrap() = None;
    clock.advance(Duration::from_secs(300));
    poller.poll_once().await;
    assert_eq!(ids(ledger.fills(&acct).await.unwrap()), ["1", "2"]);
    assert_eq!(ids(store.fills(&acct)), ["1", "2"]);
}
