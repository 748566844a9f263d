//! Aggregated-only mode (`[analytics] aggregated_only = true`), for users whose compliance
//! rules forbid keeping trade-level records. The order ledger still records each fill when it
//! arrives (it needs them while the order is open: deduplication, how much is filled), and
//! the audit log's `order.filled` withholds the trade ([`super::order_events`]). Once a
//! fill's order is final and the fill is two poll intervals old (the equity history's flows,
//! [`super::flows`], read it until the next snapshot, after a restart too), or, for a fill of
//! an order placed outside the gateway, once it is also [`ORPHAN_GRACE_MS`] old,
//! [`FillFolder`] folds it into its account's totals for its UTC
//! day (trades, volume and fees in the report's base currency, migration 0008) and deletes it,
//! [`FOLD_BATCH`] fills per transaction. What stays of the fill is the HMAC of its trade id
//! (the value the audit log holds, so the same trade polled again is not counted twice) and
//! the newest folded time per pair (the poller's cursor).
//!
//! A fill is valued as the signed report values it ([`counted_fill`]): volume at its own
//! price; a fee paid in the traded asset at the fill's price, one paid in a third asset (BNB)
//! at that asset's nearest price mark (migration 0007). A fill in another quote asset than
//! the report's base currency, or one analytics would refuse, is not in the report either: it
//! is deleted without being counted. A fill whose fee asset has no price mark at all is kept,
//! with one warning, until a mark exists.
//!
//! The report ([`activity_ledger`]) adds the stored totals to the fills not folded yet, over a
//! window widened to whole UTC days ([`whole_days`]), and says so in its conventions.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use rust_decimal::Decimal;
use tradeguard_analytics::ledger::{Asset, ExchangeId, Fill, Ledger, ProfileId};
use tradeguard_analytics::{
    AccountAggregate, AggregatedLedger, AnalyticsError, OrderCounts, PriceBook, Timestamp,
    fill_in_base,
};
use tradeguard_audit::event::Redactor;
use tradeguard_exchange::model as ex;
use tradeguard_store::fill_aggregates::AggregateRow;
use tradeguard_store::orders::FillRow;
use tradeguard_store::{Store, StoreError, Tx};

use super::evidence::analytics_fill;

/// A fill of no ledger order is folded once it is this old (an order the gateway placed may
/// get its first fill before its exchange id is recorded).
pub const ORPHAN_GRACE_MS: i64 = 10 * 60 * 1000;

/// Fills folded per transaction (SQLite holds its write lock for one).
pub const FOLD_BATCH: i64 = 500;

const DAY_MS: i64 = 86_400_000;

/// What the conventions of a report with folded fills add.
pub const STATEMENT: &str = "; fills folded into daily totals (aggregated-only mode) are \
     counted by UTC day, so the window is widened to whole UTC days";

/// Why a fold stopped (the batch in progress was rolled back; the next poll tries again).
#[derive(Debug, thiserror::Error)]
pub enum FoldError {
    /// The database failed.
    #[error("fill aggregation: {0}")]
    Store(#[from] StoreError),
    /// Another gateway replica changed the same day's totals first.
    #[error(
        "fill aggregation: the totals of {account} for day {day} changed under this fold (another replica); retried at the next poll"
    )]
    Contention {
        /// The account.
        account: String,
        /// The UTC day number.
        day: i64,
    },
    /// A stored total is not a decimal, or adding to it overflows.
    #[error(
        "fill aggregation: the stored {what} of account {account}, profile {profile}, UTC day {day} is not a decimal or overflows; its fills are kept until the row in table fill_aggregates is repaired"
    )]
    Corrupt {
        /// The account.
        account: String,
        /// The profile.
        profile: String,
        /// The UTC day number.
        day: i64,
        /// The column.
        what: &'static str,
    },
}

/// Why a fill cannot be counted.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    /// The database failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The fee was paid in an asset with no price mark in the base currency.
    #[error(
        "a fill's fee is in {asset}, which has no price in {base} yet (the price marks of the equity history); it is counted once {asset} has one"
    )]
    FeeUnpriced {
        /// The fee's asset.
        asset: String,
        /// The base currency.
        base: String,
    },
    /// The fee's value overflows.
    #[error("a fill's fee overflows when valued")]
    Overflow,
}

/// One account whose fills are folded.
#[derive(Clone, Debug)]
pub struct FoldAccount {
    /// `[accounts.<name>]`, the ledger's account id.
    pub account: String,
    /// The profile its activity is reported under (its only profile, else the account name).
    pub profile: String,
    /// `binance`, `coinbase`, `coinbaseexchange` or `kraken`.
    pub exchange: String,
}

/// What one fold did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Folded {
    /// Fills added to the totals and deleted.
    pub counted: usize,
    /// Fills deleted without being counted (not in the report's base currency, or already
    /// counted by an earlier fold).
    pub dropped: usize,
    /// Fills kept because their fee has no price yet.
    pub kept: usize,
}

impl Folded {
    fn add(&mut self, o: Folded) {
        self.counted += o.counted;
        self.dropped += o.dropped;
        self.kept += o.kept;
    }
}

/// `f` as the signed report counts it, valued in `base` (see the module documentation).
/// `Ok(None)`: not in the report (another quote asset, or a record analytics refuses).
pub async fn counted_fill(
    store: &Store,
    base: &Asset,
    f: &ex::Fill,
    profile: &ProfileId,
    exchange: &ExchangeId,
) -> Result<Option<Fill>, ValueError> {
    let Some(mut fill) = analytics_fill(f, profile, exchange) else {
        return Ok(None);
    };
    if fill.quote != *base {
        return Ok(None);
    }
    if fill.fee.is_zero() || fill.fee_asset == fill.quote {
        fill.fee_asset = fill.quote.clone();
        return Ok(Some(fill));
    }
    let price = if fill.fee_asset == fill.base {
        fill.price
    } else {
        let unpriced = || ValueError::FeeUnpriced {
            asset: fill.fee_asset.as_str().to_owned(),
            base: base.as_str().to_owned(),
        };
        let mark = store
            .price_mark_near(base.as_str(), fill.fee_asset.as_str(), f.time.0)
            .await?
            .ok_or_else(unpriced)?;
        mark.price
            .parse::<Decimal>()
            .ok()
            .filter(|p| *p > Decimal::ZERO)
            .ok_or_else(unpriced)?
    };
    fill.fee = fill.fee.checked_mul(price).ok_or(ValueError::Overflow)?;
    fill.fee_asset = fill.quote.clone();
    Ok(Some(fill))
}

/// Folds the fills of final orders into daily totals (see the module documentation).
pub struct FillFolder {
    store: Store,
    redactor: Redactor,
    base: Asset,
    accounts: Vec<FoldAccount>,
    /// How old a fill must be to be folded.
    hold_ms: i64,
    /// Fills (by trade digest) already warned about as kept.
    warned: Mutex<HashSet<String>>,
    /// Fills per transaction ([`FOLD_BATCH`]).
    batch: i64,
}

/// One day's addition to an account's totals.
struct DayDelta {
    trades: i64,
    volume: Decimal,
    fees: Decimal,
    first_ms: i64,
    last_ms: i64,
}

/// How one fill is folded.
enum Plan {
    Count { volume: Decimal, fee: Decimal },
    Drop,
    Keep(String),
}

impl FillFolder {
    /// Folds the fills of `accounts` in `store` once they are `hold_ms` old, valued in
    /// `base`; `redactor` is the audit log's, so tombstones are the HMACs its `order.filled`
    /// entries hold.
    pub fn new(
        store: Store,
        redactor: Redactor,
        base: &str,
        accounts: Vec<FoldAccount>,
        hold_ms: i64,
    ) -> Result<Self, AnalyticsError> {
        Ok(Self {
            store,
            redactor,
            base: Asset::new(base)?,
            accounts,
            hold_ms,
            warned: Mutex::default(),
            batch: FOLD_BATCH,
        })
    }

    /// Folds every account's foldable fills at `now_ms`; failures are logged and retried at
    /// the next call.
    pub async fn fold_all(&self, now_ms: i64) -> Folded {
        let mut all = Folded::default();
        for a in &self.accounts {
            match self.fold(a, now_ms).await {
                Ok(f) => all.add(f),
                Err(e) => tracing::warn!(account = %a.account, error = %e, "fills not aggregated"),
            }
        }
        if all.counted + all.dropped > 0 {
            tracing::info!(
                counted = all.counted,
                dropped = all.dropped,
                kept = all.kept,
                "fills folded into daily totals"
            );
        }
        all
    }

    /// Folds `a`'s foldable fills, [`FOLD_BATCH`] per transaction.
    pub async fn fold(&self, a: &FoldAccount, now_ms: i64) -> Result<Folded, FoldError> {
        let before = now_ms.saturating_sub(self.hold_ms);
        let orphan_before = now_ms.saturating_sub(self.hold_ms.max(ORPHAN_GRACE_MS));
        let mut out = Folded::default();
        let mut after: Option<(i64, String)> = None;
        loop {
            let page = self
                .store
                .fills_foldable(
                    &a.account,
                    before,
                    orphan_before,
                    after.as_ref().map(|(t, id)| (*t, id.as_str())),
                    self.batch,
                )
                .await?;
            let Some(last) = page.last() else {
                return Ok(out);
            };
            after = Some((last.time_ms, last.trade_id.clone()));
            let full = page.len() as i64 == self.batch;
            out.add(self.fold_batch(a, page).await?);
            if !full {
                return Ok(out);
            }
        }
    }

    /// Folds `rows` in one transaction.
    async fn fold_batch(&self, a: &FoldAccount, rows: Vec<FillRow>) -> Result<Folded, FoldError> {
        let mut out = Folded::default();
        let mut days: BTreeMap<i64, DayDelta> = BTreeMap::new();
        let mut tx = self.store.begin().await?;
        for row in rows {
            let digest = self.redactor.search_value(&row.trade_id);
            let plan = self.plan(&row, a).await?;
            if let Plan::Keep(why) = &plan {
                self.warn_once(a, &digest, why);
                out.kept += 1;
                continue;
            }
            // Taken by another replica since it was read: that replica folds it.
            let Some(taken) = tx.fill_take(&a.account, &row.trade_id).await? else {
                continue;
            };
            // Already tombstoned: counted by an earlier fold, then stored again by a writer
            // that had seen the row before that fold deleted it.
            let first = tx.fill_tombstone(&a.account, &digest).await?;
            tx.fill_cursor_advance(&a.account, &taken.symbol, taken.time_ms)
                .await?;
            let (Plan::Count { volume, fee }, true) = (plan, first) else {
                out.dropped += 1;
                continue;
            };
            out.counted += 1;
            let day = taken.time_ms.div_euclid(DAY_MS);
            let corrupt = |what| FoldError::Corrupt {
                account: a.account.clone(),
                profile: a.profile.clone(),
                day,
                what,
            };
            let d = days.entry(day).or_insert(DayDelta {
                trades: 0,
                volume: Decimal::ZERO,
                fees: Decimal::ZERO,
                first_ms: taken.time_ms,
                last_ms: taken.time_ms,
            });
            d.trades += 1;
            d.volume = d.volume.checked_add(volume).ok_or(corrupt("volume"))?;
            d.fees = d.fees.checked_add(fee).ok_or(corrupt("fees"))?;
            d.first_ms = d.first_ms.min(taken.time_ms);
            d.last_ms = d.last_ms.max(taken.time_ms);
        }
        for (day, d) in days {
            self.add_day(&mut tx, a, day, d).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    fn warn_once(&self, a: &FoldAccount, digest: &str, why: &str) {
        let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        if warned.insert(digest.to_owned()) {
            tracing::warn!(account = %a.account, trade = %digest, reason = %why, "fill kept, not aggregated yet");
        }
    }

    /// How `row` is folded: its volume and fee in the base currency, dropped, or kept.
    async fn plan(&self, row: &FillRow, a: &FoldAccount) -> Result<Plan, FoldError> {
        let Ok(f) = serde_json::from_str::<ex::Fill>(&row.fill) else {
            return Ok(Plan::Keep("the stored fill is not a fill".into()));
        };
        let (Ok(profile), Ok(exchange)) = (
            ProfileId::new(a.profile.as_str()),
            ExchangeId::new(a.exchange.as_str()),
        ) else {
            return Ok(Plan::Drop);
        };
        let fill = match counted_fill(&self.store, &self.base, &f, &profile, &exchange).await {
            Ok(Some(fill)) => fill,
            Ok(None) => return Ok(Plan::Drop),
            Err(ValueError::Store(e)) => return Err(e.into()),
            Err(e) => return Ok(Plan::Keep(e.to_string())),
        };
        let book = PriceBook::new(self.base.clone(), &[]);
        Ok(match fill_in_base(&fill, &book) {
            Ok((volume, fee)) => Plan::Count { volume, fee },
            Err(e) => Plan::Keep(e.to_string()),
        })
    }

    /// Adds `d` to the stored totals of `a` on `day` (compare-and-set).
    async fn add_day(
        &self,
        tx: &mut Tx,
        a: &FoldAccount,
        day: i64,
        d: DayDelta,
    ) -> Result<(), FoldError> {
        let corrupt = |what| FoldError::Corrupt {
            account: a.account.clone(),
            profile: a.profile.clone(),
            day,
            what,
        };
        let lost = || FoldError::Contention {
            account: a.account.clone(),
            day,
        };
        let quote = self.base.as_str();
        let Some(mut row) = tx.aggregate_get(&a.account, &a.profile, day, quote).await? else {
            let row = AggregateRow {
                account: a.account.clone(),
                profile: a.profile.clone(),
                day,
                exchange: a.exchange.clone(),
                quote: quote.to_owned(),
                trade_count: d.trades,
                volume: d.volume.normalize().to_string(),
                fees: d.fees.normalize().to_string(),
                first_fill_ms: d.first_ms,
                last_fill_ms: d.last_ms,
                version: 1,
            };
            return if tx.aggregate_insert(&row).await? {
                Ok(())
            } else {
                Err(lost())
            };
        };
        let sum = |stored: &str, add: Decimal, what| {
            stored
                .parse::<Decimal>()
                .ok()
                .and_then(|v| v.checked_add(add))
                .map(|v| v.normalize().to_string())
                .ok_or_else(|| corrupt(what))
        };
        row.volume = sum(&row.volume, d.volume, "volume")?;
        row.fees = sum(&row.fees, d.fees, "fees")?;
        row.trade_count = row
            .trade_count
            .checked_add(d.trades)
            .ok_or_else(|| corrupt("trade_count"))?;
        row.first_fill_ms = row.first_fill_ms.min(d.first_ms);
        row.last_fill_ms = row.last_fill_ms.max(d.last_ms);
        if tx.aggregate_update(&row).await? {
            Ok(())
        } else {
            Err(lost())
        }
    }
}

/// `[from, until)` widened to whole UTC days: from the start of `from`'s day to the end of the
/// day holding `until - 1` (an empty window stays empty).
pub fn whole_days(from_ms: i64, until_ms: i64) -> (i64, i64) {
    if until_ms <= from_ms {
        return (from_ms, until_ms);
    }
    let first = from_ms.div_euclid(DAY_MS);
    let last = until_ms.saturating_sub(1).div_euclid(DAY_MS);
    (
        first.saturating_mul(DAY_MS),
        last.saturating_add(1).saturating_mul(DAY_MS),
    )
}

/// The UTC day numbers `[first, end)` of a window [`whole_days`] returned.
pub fn day_numbers(from_ms: i64, until_ms: i64) -> (i64, i64) {
    (from_ms.div_euclid(DAY_MS), until_ms.div_euclid(DAY_MS))
}

/// The report's activity with folded fills: `raw` (the fills not folded yet and the orders)
/// with the stored daily totals in `stored` added; totals in another quote asset than
/// `raw`'s base currency are left out.
pub fn activity_ledger(
    raw: Ledger,
    stored: &[AggregateRow],
) -> Result<AggregatedLedger, AnalyticsError> {
    let base = raw.base_currency.clone();
    let mut ledger = AggregatedLedger::from_ledger(raw)?;
    for (index, r) in stored.iter().enumerate() {
        if r.quote != base.as_str() {
            continue;
        }
        let decimal = |s: &str| {
            s.parse::<Decimal>()
                .map_err(|_| AnalyticsError::InvalidRecord {
                    kind: "daily fill total (table fill_aggregates)",
                    index,
                    reason: "its volume or fees are not a decimal",
                })
        };
        let time = |ms: i64| Timestamp::from_unix_seconds(ms.div_euclid(1000));
        ledger.absorb(&AccountAggregate {
            profile: ProfileId::new(r.profile.as_str())?,
            exchange: ExchangeId::new(r.exchange.as_str())?,
            trade_count: u64::try_from(r.trade_count).unwrap_or(0),
            volume: decimal(&r.volume)?,
            fees: decimal(&r.fees)?,
            orders: OrderCounts::default(),
            first_fill: time(r.first_fill_ms),
            last_fill: time(r.last_fill_ms),
        })?;
    }
    Ok(ledger)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::Value;
    use tradeguard_analytics::{ActivityStats, Conventions, analyze_ledger};
    use tradeguard_audit::entry::Entry;
    use tradeguard_audit::sink::MemorySink;
    use tradeguard_crypto::secret::SecretBytes;
    use tradeguard_exchange::ledger::{OrderLedger, OrderState, Transition};
    use tradeguard_exchange::model::{
        AccountId, ClientOrderId, ExchangeOrderId, OrderRequest, OrderType, Side, Symbol, TradeId,
        UnixMillis,
    };

    use super::super::order_events::{AccountNames, AuditedLedger};
    use super::*;
    use tradeguard_analytics::ledger::PriceQuote;

    const DAY1: i64 = 1_780_000_000_000;

    struct Fixture {
        store: Store,
        ledger: AuditedLedger,
        sink: Arc<MemorySink>,
        redactor: Redactor,
        folder: FillFolder,
        account: AccountId,
    }

    async fn fixture() -> Fixture {
        on(tradeguard_store::testing::sqlite().await)
    }

    fn on(store: Store) -> Fixture {
        let redactor = Redactor::new(SecretBytes::new(vec![4; 32])).unwrap();
        let sink = Arc::new(MemorySink::new(redactor.clone()));
        let names = AccountNames {
            profile: "core".into(),
            exchange: "kraken".into(),
        };
        let ledger = AuditedLedger::new(
            store.clone(),
            sink.clone(),
            BTreeMap::from([("kraken-main".to_owned(), names)]),
        )
        .with_tombstones(redactor.clone())
        .withholding_trades();
        let account = FoldAccount {
            account: "kraken-main".into(),
            profile: "core".into(),
            exchange: "kraken".into(),
        };
        let folder =
            FillFolder::new(store.clone(), redactor.clone(), "USD", vec![account], 0).unwrap();
        Fixture {
            store,
            ledger,
            sink,
            redactor,
            folder,
            account: AccountId::parse("kraken-main").unwrap(),
        }
    }

    fn symbol(s: &str) -> Symbol {
        Symbol::parse(s).unwrap()
    }

    fn fill(trade: &str, order: &str, sym: &str, qty: i64, price: i64, at: i64) -> ex::Fill {
        ex::Fill {
            trade_id: TradeId::parse(trade).unwrap(),
            exchange_order_id: ExchangeOrderId::parse(order).unwrap(),
            client_order_id: None,
            symbol: symbol(sym),
            side: Side::Buy,
            price: Decimal::from(price),
            quantity: Decimal::new(qty, 3),
            fee: Decimal::new(15, 1),
            fee_asset: None,
            is_maker: Some(false),
            time: UnixMillis(at),
        }
    }

    impl Fixture {
        /// An order acknowledged as `exchange_id`.
        async fn order(&self, cid: &str, sym: &str, exchange_id: &str) -> ClientOrderId {
            let cid = ClientOrderId::parse(cid).unwrap();
            let r = OrderRequest::new(
                cid.clone(),
                symbol(sym),
                Side::Buy,
                OrderType::Market,
                Decimal::ONE,
            )
            .unwrap();
            let l = &self.ledger;
            let ex_id = tradeguard_exchange::model::ExchangeId::Kraken;
            l.record_intent(&self.account, ex_id, &r, UnixMillis(1))
                .await
                .unwrap();
            l.transition(
                &self.account,
                &cid,
                Transition::to(OrderState::Sent, UnixMillis(2)),
            )
            .await
            .unwrap();
            let mut t = Transition::to(OrderState::Acknowledged, UnixMillis(3));
            t.exchange_order_id = Some(ExchangeOrderId::parse(exchange_id).unwrap());
            l.transition(&self.account, &cid, t).await.unwrap();
            cid
        }

        async fn close(&self, cid: &ClientOrderId) {
            let t = Transition::to(OrderState::Filled, UnixMillis(4));
            self.ledger.transition(&self.account, cid, t).await.unwrap();
        }

        async fn record(&self, f: &ex::Fill) -> bool {
            self.ledger.record_fill(&self.account, f).await.unwrap().new
        }

        async fn trade_ids(&self) -> Vec<String> {
            let rows = self.store.fills_all("kraken-main").await.unwrap();
            rows.into_iter().map(|r| r.trade_id).collect()
        }

        fn filled_entries(&self) -> Vec<serde_json::Map<String, Value>> {
            self.sink
                .entries()
                .iter()
                .map(|b| Entry::parse(b).unwrap())
                .filter(|e| e.kind.as_str() == "order.filled")
                .map(|e| e.fields)
                .collect()
        }
    }

    /// The report's raw ledger of `fills` (those in USD), as `ServeReports` builds it.
    fn raw(fills: &[ex::Fill]) -> Ledger {
        let (p, e) = (
            ProfileId::new("core").unwrap(),
            ExchangeId::new("kraken").unwrap(),
        );
        let mut ledger = Ledger {
            base_currency: Asset::new("USD").unwrap(),
            fills: Vec::new(),
            orders: Vec::new(),
            snapshots: Vec::new(),
            prices: Vec::new(),
            flows: Vec::new(),
            rebalances: Vec::new(),
        };
        for f in fills.iter().filter(|f| f.symbol.quote().as_str() == "USD") {
            let fill = analytics_fill(f, &p, &e).unwrap();
            ledger.prices.push(PriceQuote {
                time: fill.time,
                asset: fill.base.clone(),
                price: fill.price,
            });
            ledger.fills.push(fill);
        }
        ledger.fills.sort_by_key(|f| f.time);
        ledger.prices.sort_by_key(|p| p.time);
        ledger
    }

    fn overall(ledger: Ledger, stored: &[AggregateRow]) -> ActivityStats {
        let report = activity_ledger(ledger, stored)
            .unwrap()
            .report(&Conventions::default())
            .unwrap();
        report.overall.activity
    }

    /// Final orders' fills and old orphans are folded and deleted; the open order's fill and a
    /// new orphan stay; a fill in another quote is dropped uncounted. The report from the
    /// stored totals and the fills left equals the report from every fill.
    #[tokio::test]
    async fn folded_totals_give_the_same_activity_as_the_fills() {
        let f = fixture().await;
        let done = f.order("o-1", "BTC/USD", "X1").await;
        f.order("o-2", "ETH/USD", "X2").await;
        let eur = f.order("o-3", "BTC/EUR", "X3").await;
        let now = DAY1 + 3_600_000;
        let fills = [
            fill("t1", "X1", "BTC/USD", 10, 60_000, DAY1),
            fill("t2", "X1", "BTC/USD", 5, 60_100, DAY1 + 1_000),
            fill("t3", "X2", "ETH/USD", 200, 3_000, DAY1 + 2_000),
            fill("t4", "X3", "BTC/EUR", 1, 55_000, DAY1 + 3_000),
            fill(
                "t5",
                "FOREIGN",
                "BTC/USD",
                2,
                59_000,
                now - ORPHAN_GRACE_MS - 1,
            ),
            fill("t6", "FOREIGN", "BTC/USD", 3, 59_500, now - 1_000),
        ];
        for x in &fills {
            assert!(f.record(x).await);
        }
        f.close(&done).await;
        f.close(&eur).await;
        let want = overall(raw(&fills), &[]);
        assert_eq!(want.trade_count, 5, "the EUR fill is not in the report");

        let got = f.folder.fold(&f.folder.accounts[0], now).await.unwrap();
        assert_eq!(
            got,
            Folded {
                counted: 3,
                dropped: 1,
                kept: 0
            }
        );
        assert_eq!(
            f.trade_ids().await,
            ["t3", "t6"],
            "the open order's and the new orphan"
        );
        let stored = f.store.aggregates_between_days(0, i64::MAX).await.unwrap();
        assert_eq!(stored.len(), 1, "{stored:?}");
        assert_eq!(stored[0].trade_count, 3);
        let left: Vec<ex::Fill> = fills
            .iter()
            .filter(|x| ["t3", "t6"].contains(&x.trade_id.as_str()))
            .cloned()
            .collect();
        assert_eq!(overall(raw(&left), &stored), want);
        // With no totals stored, the aggregated path equals the plain report.
        let plain = analyze_ledger(&raw(&fills), &Conventions::default()).unwrap();
        assert_eq!(overall(raw(&fills), &[]), plain.overall.activity);

        // Nothing new to fold; later the orphan is old enough and joins the same day's totals.
        assert_eq!(
            f.folder.fold(&f.folder.accounts[0], now).await.unwrap(),
            Folded::default()
        );
        let later = f
            .folder
            .fold(&f.folder.accounts[0], now + ORPHAN_GRACE_MS)
            .await
            .unwrap();
        assert_eq!(later.counted, 1);
        let stored = f.store.aggregates_between_days(0, i64::MAX).await.unwrap();
        assert_eq!((stored[0].trade_count, stored[0].version), (4, 2));
        let left: Vec<ex::Fill> = fills
            .iter()
            .filter(|x| x.trade_id.as_str() == "t3")
            .cloned()
            .collect();
        assert_eq!(overall(raw(&left), &stored), want);
    }

    /// A folded fill polled again is not recorded, logged or counted again, and the poller's
    /// cursor stays at the newest folded fill; `order.filled` names the trade by the HMAC its
    /// tombstone holds and withholds quantity, price and fee.
    #[tokio::test]
    async fn folded_fills_are_not_counted_twice_and_the_log_withholds_them() {
        let f = fixture().await;
        let done = f.order("o-1", "BTC/USD", "X1").await;
        let t1 = fill("t1", "X1", "BTC/USD", 10, 60_000, DAY1);
        assert!(f.record(&t1).await);
        f.close(&done).await;
        f.folder.fold(&f.folder.accounts[0], DAY1).await.unwrap();
        assert!(f.trade_ids().await.is_empty());
        assert!(!f.record(&t1).await, "tombstoned");
        assert!(f.trade_ids().await.is_empty(), "not stored again");
        let cursor = f
            .store
            .fills_latest_time("kraken-main", "BTC/USD")
            .await
            .unwrap();
        assert_eq!(cursor, Some(DAY1));

        let logged = f.filled_entries();
        assert_eq!(logged.len(), 1, "logged once: {logged:?}");
        let e = &logged[0];
        assert_eq!(e["trade_id"], f.redactor.search_value("t1"));
        assert!(
            f.store
                .fill_tombstoned("kraken-main", e["trade_id"].as_str().unwrap())
                .await
                .unwrap()
        );
        for field in ["qty", "price", "fee", "fee_asset"] {
            assert_eq!(e[field], Value::Null, "{field} withheld: {e:?}");
        }
        assert_eq!(e["client_order_id"], "o-1");
        let text = String::from_utf8(f.sink.entries().concat()).unwrap();
        assert!(
            !text.contains("60000") && !text.contains("\"t1\""),
            "{text}"
        );
    }

    /// A stored total that is not a decimal fails the fold, which changes nothing.
    #[tokio::test]
    async fn fail_corrupt_totals_change_nothing() {
        let f = fixture().await;
        let done = f.order("o-1", "BTC/USD", "X1").await;
        assert!(
            f.record(&fill("t1", "X1", "BTC/USD", 10, 60_000, DAY1))
                .await
        );
        f.close(&done).await;
        let mut tx = f.store.begin().await.unwrap();
        let row = AggregateRow {
            account: "kraken-main".into(),
            profile: "core".into(),
            day: DAY1.div_euclid(DAY_MS),
            exchange: "kraken".into(),
            quote: "USD".into(),
            trade_count: 1,
            volume: "lots".into(),
            fees: "0".into(),
            first_fill_ms: DAY1,
            last_fill_ms: DAY1,
            version: 1,
        };
        assert!(tx.aggregate_insert(&row).await.unwrap());
        tx.commit().await.unwrap();
        let e = f
            .folder
            .fold(&f.folder.accounts[0], DAY1)
            .await
            .unwrap_err();
        assert!(
            matches!(e, FoldError::Corrupt { what: "volume", .. }),
            "{e}"
        );
        assert!(e.to_string().contains("fill_aggregates"), "{e}");
        assert_eq!(f.trade_ids().await, ["t1"], "rolled back");
        assert!(
            !f.store
                .fill_tombstoned("kraken-main", &f.redactor.search_value("t1"))
                .await
                .unwrap()
        );
    }

    impl Fixture {
        async fn fold(&self, now: i64) -> Folded {
            self.folder
                .fold(&self.folder.accounts[0], now)
                .await
                .unwrap()
        }

        async fn totals(&self) -> Vec<AggregateRow> {
            self.store
                .aggregates_between_days(0, i64::MAX)
                .await
                .unwrap()
        }
    }

    tradeguard_store::backend_tests! {
        /// A writer that saw a fill before a fold deleted it stores it again: the next fold
        /// finds its tombstone and deletes it uncounted.
        async fn a_fill_stored_again_after_its_fold_is_not_counted_twice(store) {
            let f = on(store);
            let done = f.order("o-1", "BTC/USD", "X1").await;
            let t1 = fill("t1", "X1", "BTC/USD", 10, 60_000, DAY1);
            assert!(f.record(&t1).await);
            f.close(&done).await;
            assert_eq!(f.fold(DAY1 + 1).await.counted, 1);
            let before = f.totals().await;

            // The stale writer's insert, as SqlLedger does it.
            let row = FillRow {
                account: "kraken-main".into(),
                trade_id: "t1".into(),
                symbol: "BTC/USD".into(),
                exchange_order_id: "X1".into(),
                client_order_id: Some("o-1".into()),
                time_ms: DAY1,
                fill: serde_json::to_string(&t1).unwrap(),
            };
            assert!(f.store.fill_insert(&row).await.unwrap());
            assert_eq!(f.fold(DAY1 + 1).await, Folded { counted: 0, dropped: 1, kept: 0 });
            assert_eq!(f.totals().await, before, "not counted twice");
            assert!(f.trade_ids().await.is_empty());

            // The ledger's own check after its insert: a fill folded while it was recording.
            let inner = tradeguard_exchange::ledger::SqlLedger::new(f.store.clone());
            let t2 = fill("t2", "X1", "BTC/USD", 5, 60_000, DAY1 + 1);
            assert!(inner.record_fill(&f.account, &t2).await.unwrap().new);
            assert_eq!(f.fold(DAY1 + 1).await.counted, 1);
            assert!(inner.record_fill(&f.account, &t2).await.unwrap().new, "the stale insert");
            let digest = f.redactor.search_value("t2");
            assert!(f.store.fill_tombstoned("kraken-main", &digest).await.unwrap());
            // Recorded through the audited ledger while that row is there: not new, and the
            // next fold removes the row uncounted.
            assert!(!f.record(&t2).await);
            assert_eq!(f.fold(DAY1 + 1).await, Folded { counted: 0, dropped: 1, kept: 0 });
            assert_eq!(f.totals().await[0].trade_count, 2);
        }
    }

    /// A fee in the traded asset is valued at the fill's price, one in a third asset at that
    /// asset's nearest price mark; without any mark the fill is kept until one exists.
    #[tokio::test]
    async fn fees_are_valued_as_the_report_values_them() {
        let f = fixture().await;
        let done = f.order("o-1", "BTC/USD", "X1").await;
        let mut in_btc = fill("t1", "X1", "BTC/USD", 10, 60_000, DAY1);
        in_btc.fee = Decimal::new(1, 5);
        in_btc.fee_asset = Some(ex::Asset::parse("BTC").unwrap());
        let mut in_bnb = fill("t2", "X1", "BTC/USD", 10, 60_000, DAY1 + 1_000);
        in_bnb.fee = Decimal::new(2, 2);
        in_bnb.fee_asset = Some(ex::Asset::parse("BNB").unwrap());
        assert!(f.record(&in_btc).await && f.record(&in_bnb).await);
        f.close(&done).await;

        assert_eq!(
            f.fold(DAY1 + 1_000).await,
            Folded {
                counted: 1,
                dropped: 0,
                kept: 1
            }
        );
        assert_eq!(f.trade_ids().await, ["t2"], "kept until BNB has a price");
        assert_eq!(
            f.fold(DAY1 + 1_000).await.kept,
            1,
            "still kept, warned once"
        );
        let mark = tradeguard_store::prices::PriceMarkRow {
            quote: "USD".into(),
            asset: "BNB".into(),
            time_ms: DAY1 + 60_000,
            price: "600".into(),
        };
        f.store.price_marks_append(&[mark]).await.unwrap();
        assert_eq!(f.fold(DAY1 + 1_000).await.counted, 1);
        let t = &f.totals().await[0];
        // 0.00001 BTC at 60,000 + 0.02 BNB at 600 (the nearest mark, after the fill).
        assert_eq!(
            (t.trade_count, t.fees.as_str(), t.volume.as_str()),
            (2, "12.6", "1200")
        );
    }

    /// A final order's fill is folded only once it is the hold old.
    #[tokio::test]
    async fn fills_younger_than_the_hold_wait() {
        let mut f = fixture().await;
        f.folder.hold_ms = 10_000;
        let done = f.order("o-1", "BTC/USD", "X1").await;
        assert!(
            f.record(&fill("t1", "X1", "BTC/USD", 10, 60_000, DAY1))
                .await
        );
        f.close(&done).await;
        assert_eq!(
            f.fold(DAY1 + 9_999).await,
            Folded::default(),
            "younger than the hold"
        );
        assert_eq!(f.fold(DAY1 + 10_000).await.counted, 1);
    }

    /// Many fills fold in several transactions of at most the batch size, all of them.
    #[tokio::test]
    async fn folds_in_batches() {
        let mut f = fixture().await;
        f.folder.batch = 3;
        let done = f.order("o-1", "BTC/USD", "X1").await;
        for i in 0..8 {
            let t = fill(&format!("t{i}"), "X1", "BTC/USD", 1, 60_000, DAY1 + i);
            assert!(f.record(&t).await);
        }
        f.close(&done).await;
        assert_eq!(f.fold(DAY1 + 10).await.counted, 8);
        assert!(f.trade_ids().await.is_empty());
        let t = &f.totals().await[0];
        assert_eq!((t.trade_count, t.version), (8, 3), "three transactions");
    }

    #[test]
    fn windows_widen_to_whole_utc_days() {
        let d = DAY_MS;
        assert_eq!(whole_days(0, d), (0, d));
        assert_eq!(whole_days(d / 2, d + 1), (0, 2 * d));
        assert_eq!(
            whole_days(3 * d, 3 * d),
            (3 * d, 3 * d),
            "empty stays empty"
        );
        assert_eq!(whole_days(-1, 1), (-d, d));
        assert_eq!(day_numbers(0, 2 * d), (0, 2));
        assert_eq!(day_numbers(-d, d), (-1, 1));
    }
}
