//! The equity history of a running `serve`: after each poll, one valuation per profile and
//! per exchange account goes to the store (`equity_snapshots`, migration 0006), for the
//! signed report's returns, volatility and drawdowns ([`super::equity_report`]).
//!
//! Values are taken at the prices the risk gate uses ([`LiveRisk::marks`](super::risk::LiveRisk::marks)):
//! a profile is its quote-asset cash plus the assets it targets (profiles sharing an account
//! share its cash, as in the checks); an account is everything it holds, in the quote asset of
//! its first profile. A scope holding an asset without a price is not written (a value that
//! leaves the asset out would be a false loss); the first time, a warning names the asset.
//! Balances older than the poll interval (the account's last poll failed) are not written
//! either. A scope gets at most one snapshot per poll interval, across restarts too. Each
//! snapshot stores the quantities it valued and its external flow since the scope's previous
//! snapshot (deposits, withdrawals: what fills do not explain, [`super::flows`]).
//!
//! With the snapshots written, the prices they were valued at go to `price_marks` (migration
//! 0007) at the same time, for the report's asset correlation ([`price_marks`]); two accounts
//! pricing one asset in one quote at the same time keep the first account's price.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rust_decimal::Decimal;
use tradeguard_exchange::model::{Balance, Fill, UnixMillis};
use tradeguard_risk::ids::{Asset, ProfileId};
use tradeguard_risk::market::{Market, Portfolio, ValuationError};
use tradeguard_store::Store;
use tradeguard_store::equity::{EquityRow, EquityScope};
use tradeguard_store::prices::PriceMarkRow;

use super::config::ServeConfig;
use super::flows::{FlowTracker, Holdings, Stored};

/// The time now, for [`EquityRecorder::record`].
pub fn now() -> UnixMillis {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    UnixMillis(since.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
}

/// One risk gate of an account: its market and its profiles' portfolios.
pub struct GateMarks {
    /// The quote asset and the last prices the checks use.
    pub market: Market,
    /// Each profile's cash and target holdings.
    pub profiles: Vec<(ProfileId, Portfolio)>,
}

/// What one account is valued from.
pub struct Marks {
    /// Every balance of the account at its last poll.
    pub balances: Vec<Balance>,
    /// How long ago they were read.
    pub age: Duration,
    /// The account's gates, the first one giving the account's quote asset.
    pub gates: Vec<GateMarks>,
}

/// A scope left out because `asset` has no price.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Unpriced {
    /// Profile or account.
    pub kind: EquityScope,
    /// Its name.
    pub scope: String,
    /// The asset without a price.
    pub asset: String,
}

/// The snapshots of one account and its profiles at `at`, and the scopes left out.
pub fn snapshots(
    account: &str,
    exchange: &str,
    marks: &Marks,
    at: UnixMillis,
) -> (Vec<EquityRow>, Vec<Unpriced>) {
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    let row =
        |kind, scope: &str, quote: &Asset, (assets, value): Valued, held: Holdings| EquityRow {
            kind,
            scope: scope.to_owned(),
            time_ms: at.0,
            exchange: exchange.to_owned(),
            quote: quote.as_str().to_owned(),
            value: value.normalize().to_string(),
            flow: "0".to_owned(),
            assets: serde_json::to_string(&assets).unwrap_or_default(),
            holdings: serde_json::to_string(&held).ok(),
        };
    for g in &marks.gates {
        for (id, portfolio) in &g.profiles {
            match profile_assets(portfolio, &g.market) {
                Ok(assets) => rows.push(row(
                    EquityScope::Profile,
                    id.as_str(),
                    g.market.quote(),
                    assets,
                    profile_holdings(portfolio, g.market.quote()),
                )),
                Err(asset) => missing.push(Unpriced {
                    kind: EquityScope::Profile,
                    scope: id.as_str().to_owned(),
                    asset,
                }),
            }
        }
    }
    if let Some(first) = marks.gates.first() {
        match account_assets(&marks.balances, &first.market) {
            Ok(assets) => rows.push(row(
                EquityScope::Account,
                account,
                first.market.quote(),
                assets,
                account_holdings(&marks.balances),
            )),
            Err(asset) => missing.push(Unpriced {
                kind: EquityScope::Account,
                scope: account.to_owned(),
                asset,
            }),
        }
    }
    (rows, missing)
}

/// The prices `rows` (snapshots of `marks`' account) were valued at: one mark per quote asset,
/// asset and time, the quote asset itself left out. A profile is valued at its gate's market,
/// the account at the first gate's.
pub fn price_marks(marks: &Marks, rows: &[EquityRow]) -> Vec<PriceMarkRow> {
    let mut out: BTreeMap<(String, String, i64), String> = BTreeMap::new();
    for r in rows {
        let Some(market) = market_of(marks, r) else {
            continue;
        };
        let Ok(assets) = serde_json::from_str::<BTreeMap<String, Decimal>>(&r.assets) else {
            continue;
        };
        for name in assets.keys().filter(|a| *a != market.quote().as_str()) {
            let Some(price) = Asset::new(name).ok().and_then(|a| market.price(&a)) else {
                continue;
            };
            let key = (r.quote.clone(), name.clone(), r.time_ms);
            out.entry(key)
                .or_insert_with(|| price.normalize().to_string());
        }
    }
    out.into_iter()
        .map(|((quote, asset, time_ms), price)| PriceMarkRow {
            quote,
            asset,
            time_ms,
            price,
        })
        .collect()
}

/// The market `r`'s scope is valued at: a profile's gate, the account's first gate.
fn market_of<'m>(marks: &'m Marks, r: &EquityRow) -> Option<&'m Market> {
    let gate = match r.kind {
        EquityScope::Account => marks.gates.first(),
        EquityScope::Profile => marks
            .gates
            .iter()
            .find(|g| g.profiles.iter().any(|(id, _)| id.as_str() == r.scope)),
    };
    gate.map(|g| &g.market)
}

/// Each held asset's value and their total.
type Valued = (BTreeMap<String, Decimal>, Decimal);

/// A profile's quantities: its cash under the quote asset and each target asset, held or not.
fn profile_holdings(p: &Portfolio, quote: &Asset) -> Holdings {
    let total =
        |b: tradeguard_risk::market::Balance| b.free.checked_add(b.locked).unwrap_or(b.free);
    let mut out: Holdings = p
        .holdings()
        .map(|(a, b)| (a.as_str().to_owned(), total(*b).normalize()))
        .collect();
    out.insert(quote.as_str().to_owned(), total(p.cash()).normalize());
    out
}

/// An account's quantities: every asset it holds.
fn account_holdings(balances: &[Balance]) -> Holdings {
    balances
        .iter()
        .filter_map(|b| Some((b.asset.as_str().to_owned(), b.free.checked_add(b.locked)?)))
        .filter(|(_, q)| !q.is_zero())
        .map(|(a, q)| (a, q.normalize()))
        .collect()
}

/// The profile's holdings valued (the cash under the quote asset), or the asset without a
/// price.
fn profile_assets(p: &Portfolio, market: &Market) -> Result<Valued, String> {
    let v = p.value(market).map_err(|e| match e {
        ValuationError::MissingPrice(a) => a.as_str().to_owned(),
        ValuationError::Overflow => "(value overflow)".to_owned(),
    })?;
    let mut out: BTreeMap<String, Decimal> = v
        .values
        .iter()
        .filter(|(_, v)| !v.is_zero())
        .map(|(a, v)| (a.as_str().to_owned(), v.normalize()))
        .collect();
    if !v.cash.is_zero() {
        out.insert(market.quote().as_str().to_owned(), v.cash.normalize());
    }
    Ok((out, v.total))
}

/// Every balance valued at `market`'s prices, or the first asset held without a price.
fn account_assets(balances: &[Balance], market: &Market) -> Result<Valued, String> {
    let mut out = BTreeMap::new();
    let mut total = Decimal::ZERO;
    for b in balances {
        let held = b
            .free
            .checked_add(b.locked)
            .ok_or_else(|| b.asset.to_string())?;
        if held.is_zero() {
            continue;
        }
        let name = b.asset.as_str();
        let price = if name == market.quote().as_str() {
            Some(Decimal::ONE)
        } else {
            Asset::new(name).ok().and_then(|a| market.price(&a))
        };
        let value = price
            .and_then(|p| held.checked_mul(p))
            .ok_or_else(|| name.to_owned())?;
        total = total.checked_add(value).ok_or("(value overflow)")?;
        out.insert(name.to_owned(), value.normalize());
    }
    Ok((out, total))
}

/// Writes the snapshots after each poll (see the module documentation).
pub struct EquityRecorder {
    store: Store,
    interval: Duration,
    /// `(account name, exchange)` of every account.
    accounts: Vec<(String, &'static str)>,
    last: Mutex<HashMap<(EquityScope, String), i64>>,
    warned: Mutex<HashSet<Unpriced>>,
    flows: Arc<FlowTracker>,
}

impl EquityRecorder {
    /// A recorder for `accounts` (name and exchange) polled every `interval`.
    /// Flows come from `flows`, which the poller feeds the fills.
    pub fn new(
        store: Store,
        interval: Duration,
        accounts: Vec<(String, &'static str)>,
        flows: Arc<FlowTracker>,
    ) -> Self {
        Self {
            store,
            interval,
            accounts,
            last: Mutex::default(),
            warned: Mutex::default(),
            flows,
        }
    }

    /// A recorder for every account of `config`.
    pub fn for_accounts(
        store: Store,
        interval: Duration,
        config: &ServeConfig,
        flows: Arc<FlowTracker>,
    ) -> Self {
        let accounts = config.accounts.iter();
        let accounts = accounts.map(|(n, a)| (n.clone(), a.connector.exchange.as_str()));
        Self::new(store, interval, accounts.collect(), flows)
    }

    /// Values every account and profile from `marks` (an account's [`Marks`], `None` before
    /// its first balances) and stores the snapshots due at `at` (the start of the poll).
    /// Returns how many were written; failures are logged and wait for the next poll.
    pub async fn record(&self, marks: impl Fn(&str) -> Option<Marks>, at: UnixMillis) -> usize {
        self.record_now(marks, at, now()).await
    }

    /// [`Self::record`] with the time now given (a balance read `age` ago was read at
    /// `now - age`).
    async fn record_now(
        &self,
        marks: impl Fn(&str) -> Option<Marks>,
        at: UnixMillis,
        now: UnixMillis,
    ) -> usize {
        let mut written = 0;
        for (account, exchange) in &self.accounts {
            let Some(m) = marks(account) else { continue };
            if m.age > self.interval {
                tracing::debug!(%account, "balances older than the poll interval; no equity snapshot");
                continue;
            }
            let read_at_ms = now
                .0
                .saturating_sub(i64::try_from(m.age.as_millis()).unwrap_or(i64::MAX));
            let (rows, missing) = snapshots(account, exchange, &m, at);
            self.warn_once(missing);
            let mut due = Vec::new();
            for mut r in rows {
                let quantities: Holdings = r
                    .holdings
                    .as_deref()
                    .and_then(|h| serde_json::from_str(h).ok())
                    .unwrap_or_default();
                let stored = Stored {
                    read_at_ms,
                    quantities,
                };
                r.holdings = serde_json::to_string(&stored).ok();
                if !self.seed_flows(&r, account).await {
                    continue;
                }
                let market = market_of(&m, &r);
                let price = |a: &str| Asset::new(a).ok().and_then(|a| market?.price(&a));
                let flow = match self.flows.flow(r.kind, &r.scope, &r.quote, &stored, price) {
                    Ok(f) => f,
                    Err(e) => {
                        tracing::warn!(error = %e, "no equity snapshot");
                        continue;
                    }
                };
                r.flow = flow.normalize().to_string();
                if self.write_if_due(&r).await {
                    self.flows.stored(r.kind, &r.scope, &r.quote, stored);
                    written += 1;
                    due.push(r);
                }
            }
            let marks = price_marks(&m, &due);
            if let Err(e) = self.store.price_marks_append(&marks).await {
                tracing::warn!(error = %e, "price marks not stored; this poll's prices are missing from the asset correlation");
            }
        }
        written
    }

    /// The first time, measures `r`'s scope (of `account`) from its last stored snapshot,
    /// with the ledger's fills since its balances were read. False when the store could not
    /// be read: the snapshot then waits (it would count the flows since as gains).
    async fn seed_flows(&self, r: &EquityRow, account: &str) -> bool {
        self.flows.register(r.kind, &r.scope, account);
        if self.flows.knows(r.kind, &r.scope) {
            return true;
        }
        let last = match self.store.equity_latest(r.kind, &r.scope).await {
            Ok(last) => last,
            Err(e) => {
                tracing::warn!(error = %e, "equity history unreadable; snapshot skipped");
                return false;
            }
        };
        let Some(last) = last else { return true };
        let Some(stored) = last
            .holdings
            .as_deref()
            .and_then(|h| serde_json::from_str::<Stored>(h).ok())
        else {
            return true;
        };
        let fills = match self.store.fills_after(account, stored.read_at_ms).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "order ledger unreadable; snapshot skipped");
                return false;
            }
        };
        let fills: Vec<Fill> = fills
            .iter()
            .filter_map(|f| serde_json::from_str(&f.fill).ok())
            .collect();
        self.flows.fills(account, &fills);
        let values: Holdings = serde_json::from_str(&last.assets).unwrap_or_default();
        self.flows
            .seed(r.kind, &r.scope, &last.quote, stored, &values);
        true
    }

    fn warn_once(&self, missing: Vec<Unpriced>) {
        let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        for m in missing {
            if !warned.contains(&m) {
                tracing::warn!(scope = m.kind.as_str(), name = %m.scope, asset = %m.asset,
                    "held asset has no price; no equity snapshot of this scope until it has one");
                warned.insert(m);
            }
        }
    }

    /// Appends `r` unless its scope has a snapshot less than one interval older.
    async fn write_if_due(&self, r: &EquityRow) -> bool {
        let key = (r.kind, r.scope.clone());
        let known = self.lock_last().get(&key).copied();
        let last = match known {
            Some(t) => Some(t),
            None => match self.store.equity_latest_ms(r.kind, &r.scope).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(error = %e, "equity history unreadable; snapshot skipped");
                    return false;
                }
            },
        };
        let spacing = i64::try_from(self.interval.as_millis()).unwrap_or(i64::MAX);
        if last.is_some_and(|t| r.time_ms < t.saturating_add(spacing)) {
            if let Some(t) = last {
                self.lock_last().insert(key, t);
            }
            return false;
        }
        match self.store.equity_append(r).await {
            Ok(new) => {
                self.lock_last().insert(key, r.time_ms);
                new
            }
            Err(e) => {
                tracing::warn!(error = %e, "equity snapshot not stored; retried at the next poll");
                false
            }
        }
    }

    fn lock_last(&self) -> std::sync::MutexGuard<'_, HashMap<(EquityScope, String), i64>> {
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use tradeguard_risk::market::Balance as RiskBalance;

    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn a(s: &str) -> Asset {
        Asset::new(s).unwrap()
    }

    fn balance(asset: &str, free: &str) -> Balance {
        Balance {
            asset: tradeguard_exchange::model::Asset::parse(asset).unwrap(),
            free: d(free),
            locked: Decimal::ZERO,
        }
    }

    /// Account `k` with 1000 USD and 0.1 BTC (and `extra`), profile `core` targeting BTC;
    /// BTC is priced at 50,000 when `priced`.
    fn marks(priced: bool, extra: Option<Balance>) -> Marks {
        let mut market = Market::new(a("USD"), d("0.001")).unwrap();
        if priced {
            market.set_price(a("BTC"), d("50000")).unwrap();
        }
        let mut p = Portfolio::default();
        p.set_cash(RiskBalance {
            free: d("1000"),
            locked: Decimal::ZERO,
        })
        .unwrap();
        p.set_holding(
            a("BTC"),
            RiskBalance {
                free: d("0.1"),
                locked: Decimal::ZERO,
            },
        )
        .unwrap();
        let mut balances = vec![balance("USD", "1000"), balance("BTC", "0.1")];
        balances.extend(extra);
        Marks {
            balances,
            age: Duration::ZERO,
            gates: vec![GateMarks {
                market,
                profiles: vec![(ProfileId::new("core").unwrap(), p)],
            }],
        }
    }

    #[test]
    fn profile_and_account_valued_at_the_gates_prices() {
        let (rows, missing) = snapshots("k", "kraken", &marks(true, None), UnixMillis(7));
        assert!(missing.is_empty(), "{missing:?}");
        let got: Vec<(EquityScope, &str, &str, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r.kind,
                    r.scope.as_str(),
                    r.value.as_str(),
                    r.assets.as_str(),
                )
            })
            .collect();
        let assets = r#"{"BTC":"5000","USD":"1000"}"#;
        assert_eq!(
            got,
            [
                (EquityScope::Profile, "core", "6000", assets),
                (EquityScope::Account, "k", "6000", assets)
            ]
        );
        assert!(
            rows.iter()
                .all(|r| r.time_ms == 7 && r.quote == "USD" && r.flow == "0")
        );
    }

    #[test]
    fn a_scope_holding_an_unpriced_asset_is_skipped() {
        let cases = [
            // TC0: BTC has no price: neither the profile nor the account is written.
            (
                marks(false, None),
                vec![],
                vec![("core", "BTC"), ("k", "BTC")],
            ),
            // TC1: the account also holds DOGE, which no profile prices: only the profile.
            (
                marks(true, Some(balance("DOGE", "5"))),
                vec!["core"],
                vec![("k", "DOGE")],
            ),
            // TC2: a zero balance of an unpriced asset does not matter.
            (
                marks(true, Some(balance("DOGE", "0"))),
                vec!["core", "k"],
                vec![],
            ),
        ];
        for (i, (m, want_rows, want_missing)) in cases.iter().enumerate() {
            let (rows, missing) = snapshots("k", "kraken", m, UnixMillis(1));
            let got: Vec<&str> = rows.iter().map(|r| r.scope.as_str()).collect();
            assert_eq!(&got, want_rows, "TC{i} failed");
            let got: Vec<(&str, &str)> = missing
                .iter()
                .map(|m| (m.scope.as_str(), m.asset.as_str()))
                .collect();
            assert_eq!(&got, want_missing, "TC{i} failed");
        }
    }

    #[tokio::test]
    async fn one_snapshot_per_scope_per_interval_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("e.db")).await.unwrap();
        store.migrate().await.unwrap();
        let every = Duration::from_secs(5);
        let accounts = vec![("k".to_owned(), "kraken")];
        let flows = Arc::new(FlowTracker::default());
        let rec = EquityRecorder::new(store.clone(), every, accounts.clone(), flows.clone());
        let fed = |_: &str| Some(marks(true, None));
        assert_eq!(
            rec.record(fed, UnixMillis(10_000)).await,
            2,
            "profile and account"
        );
        assert_eq!(
            rec.record(fed, UnixMillis(14_999)).await,
            0,
            "within the interval"
        );
        assert_eq!(
            rec.record(fed, UnixMillis(15_000)).await,
            2,
            "one interval later"
        );
        // A restarted gateway reads the last times from the store.
        let again = EquityRecorder::new(store.clone(), every, accounts, flows);
        assert_eq!(again.record(fed, UnixMillis(16_000)).await, 0);
        assert_eq!(
            again.record(|_: &str| None, UnixMillis(30_000)).await,
            0,
            "no balances yet"
        );
        let stale = |_: &str| {
            Some(Marks {
                age: Duration::from_secs(6),
                ..marks(true, None)
            })
        };
        assert_eq!(
            again.record(stale, UnixMillis(30_000)).await,
            0,
            "balances too old"
        );
        assert_eq!(
            again
                .record(|_: &str| Some(marks(false, None)), UnixMillis(30_000))
                .await,
            0
        );
        let times: Vec<i64> = store
            .equity_range(0, i64::MAX)
            .await
            .unwrap()
            .iter()
            .map(|r| r.time_ms)
            .collect();
        assert_eq!(times, [10_000, 10_000, 15_000, 15_000]);
        let marks: Vec<(String, i64, String)> = store
            .price_marks_range("USD", 0, i64::MAX)
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.asset, m.time_ms, m.price))
            .collect();
        let btc = |t: i64| ("BTC".to_owned(), t, "50000".to_owned());
        assert_eq!(
            marks,
            [btc(10_000), btc(15_000)],
            "marks only with the snapshots written"
        );
    }

    /// Marks of account `k` holding `usd` and `btc` (BTC at 50,000), profile `core` on it.
    fn holding(usd: &str, btc: &str) -> Marks {
        let mut m = marks(true, None);
        m.balances = vec![balance("USD", usd), balance("BTC", btc)];
        let mut p = Portfolio::default();
        p.set_cash(RiskBalance {
            free: d(usd),
            locked: Decimal::ZERO,
        })
        .unwrap();
        p.set_holding(
            a("BTC"),
            RiskBalance {
                free: d(btc),
                locked: Decimal::ZERO,
            },
        )
        .unwrap();
        m.gates[0].profiles[0].1 = p;
        m
    }

    fn btc_fill(id: &str, side: tradeguard_exchange::model::Side, qty: &str, t: i64) -> Fill {
        use tradeguard_exchange::model::{ExchangeOrderId, Symbol, TradeId};
        Fill {
            trade_id: TradeId::parse(id).unwrap(),
            exchange_order_id: ExchangeOrderId::parse("o").unwrap(),
            client_order_id: None,
            symbol: Symbol::parse("BTC/USD").unwrap(),
            side,
            price: d("50000"),
            quantity: d(qty),
            fee: d("1"),
            fee_asset: None,
            is_maker: None,
            time: UnixMillis(t),
        }
    }

    /// A deposit is a flow, a trade explained by its fill is not; after a restart, a fill
    /// the ledger recorded while stopped is explained and a withdrawal is found from the
    /// quantities stored with the last snapshot.
    #[tokio::test]
    async fn snapshots_carry_the_flows_fills_do_not_explain() {
        use tradeguard_exchange::model::Side;
        let store = tradeguard_store::testing::sqlite().await;
        let every = Duration::from_secs(5);
        let accounts = vec![("k".to_owned(), "kraken")];
        let flows = Arc::new(FlowTracker::default());
        let rec = EquityRecorder::new(store.clone(), every, accounts.clone(), flows.clone());
        let at = |s: i64| UnixMillis(s * 1000);
        let run = async |rec: &EquityRecorder, m: Marks, t: i64| {
            rec.record_now(move |_: &str| Some(holding_clone(&m)), at(t), at(t))
                .await
        };
        assert_eq!(run(&rec, holding("1000", "0.1"), 10).await, 2);
        // 500 USD deposited.
        assert_eq!(run(&rec, holding("1500", "0.1"), 15).await, 2);
        // 0.01 BTC bought at 50,000 for 500 USD and a 1 USD fee: no flow.
        flows.fills("k", &[btc_fill("t1", Side::Buy, "0.01", 16_000)]);
        assert_eq!(run(&rec, holding("999", "0.11"), 20).await, 2);

        // Stopped. Meanwhile 0.05 BTC sold (the start-up reconciliation records it in the
        // ledger) and 0.02 BTC withdrawn. A new process with its own tracker.
        let sold = btc_fill("t2", Side::Sell, "0.05", 25_000);
        let row = tradeguard_store::orders::FillRow {
            account: "k".into(),
            trade_id: "t2".into(),
            symbol: "BTC/USD".into(),
            exchange_order_id: "o".into(),
            client_order_id: None,
            time_ms: 25_000,
            fill: serde_json::to_string(&sold).unwrap(),
        };
        store.fill_insert(&row).await.unwrap();
        let again = EquityRecorder::new(store.clone(), every, accounts, Arc::default());
        assert_eq!(run(&again, holding("3498", "0.04"), 30).await, 2);

        let rows = store.equity_range(0, i64::MAX).await.unwrap();
        let flows_of = |kind| -> Vec<String> {
            rows.iter()
                .filter(|r| r.kind == kind)
                .map(|r| r.flow.clone())
                .collect()
        };
        // The withdrawal: 0.02 BTC at 50,000.
        let want = ["0", "500", "0", "-1000"];
        assert_eq!(flows_of(EquityScope::Account), want);
        assert_eq!(flows_of(EquityScope::Profile), want);
        let last: Stored = serde_json::from_str(rows[7].holdings.as_deref().unwrap()).unwrap();
        assert_eq!(last.read_at_ms, 30_000);
        assert_eq!(last.quantities["BTC"], d("0.04"));
    }

    fn holding_clone(m: &Marks) -> Marks {
        Marks {
            balances: m.balances.clone(),
            age: m.age,
            gates: m
                .gates
                .iter()
                .map(|g| GateMarks {
                    market: g.market.clone(),
                    profiles: g.profiles.clone(),
                })
                .collect(),
        }
    }

    #[test]
    fn price_marks_are_the_prices_the_snapshots_were_valued_at() {
        let (rows, _) = snapshots("k", "kraken", &marks(true, None), UnixMillis(7));
        let got = price_marks(&marks(true, None), &rows);
        let want = PriceMarkRow {
            quote: "USD".into(),
            asset: "BTC".into(),
            time_ms: 7,
            price: "50000".into(),
        };
        assert_eq!(
            got,
            [want],
            "one mark for the profile and the account, no USD"
        );
        let (rows, _) = snapshots(
            "k",
            "kraken",
            &marks(true, Some(balance("DOGE", "5"))),
            UnixMillis(7),
        );
        let got = price_marks(&marks(true, Some(balance("DOGE", "5"))), &rows);
        assert_eq!(got.len(), 1, "DOGE has no price: {got:?}");
        assert!(
            price_marks(&marks(true, None), &[]).is_empty(),
            "nothing written, no marks"
        );
    }
}
