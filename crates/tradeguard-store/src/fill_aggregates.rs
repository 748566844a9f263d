//! Aggregated-only mode of `tradeguard serve` (migration 0008): fills folded into per-day
//! totals and then deleted from the order ledger's `exchange_fills` (migration 0004).
//! `tradeguard serve` owns the formats and the arithmetic: this module stores rows, decimals
//! as exact strings, and never interprets them.
//!
//! A fold is one [`Tx`]: [`Tx::fill_take`] deletes a fill and returns it (a fill another
//! writer took first comes back `None`, so it is folded once), [`Tx::fill_tombstone`] and
//! [`Tx::fill_cursor_advance`] keep what deduplication and the poller need, and the day's
//! totals change by compare-and-set ([`Tx::aggregate_insert`], [`Tx::aggregate_update`]).

use sqlx::any::AnyRow;

use crate::orders::{FILL_COLUMNS, FillRow, decode_fill};
use crate::row::RowDecoder;
use crate::{Result, Store, Tx};

const COLUMNS: &str = "account, profile, day, exchange, quote, trade_count, volume, fees, \
     first_fill_ms, last_fill_ms, version";

/// One account's fill totals for one profile and one UTC day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregateRow {
    /// The exchange account label.
    pub account: String,
    /// The profile the fills were reported under.
    pub profile: String,
    /// The UTC day: Unix ms divided by 86,400,000, rounded down.
    pub day: i64,
    /// The exchange (`binance`, `kraken`, ...).
    pub exchange: String,
    /// The asset `volume` and `fees` are valued in.
    pub quote: String,
    /// Number of fills (at least 1).
    pub trade_count: i64,
    /// Volume in `quote` (exact decimal string).
    pub volume: String,
    /// Fees in `quote` (exact decimal string).
    pub fees: String,
    /// Time of the day's earliest fill, Unix ms.
    pub first_fill_ms: i64,
    /// Time of the day's latest fill, Unix ms.
    pub last_fill_ms: i64,
    /// Row version, 1 on insert, +1 on every update.
    pub version: i64,
}

fn decode(row: &AnyRow) -> Result<AggregateRow> {
    let d = RowDecoder::new(row, "fill_aggregates", "?");
    Ok(AggregateRow {
        account: d.text("account")?,
        profile: d.text("profile")?,
        day: d.i64("day")?,
        exchange: d.text("exchange")?,
        quote: d.text("quote")?,
        trade_count: d.i64("trade_count")?,
        volume: d.text("volume")?,
        fees: d.text("fees")?,
        first_fill_ms: d.i64("first_fill_ms")?,
        last_fill_ms: d.i64("last_fill_ms")?,
        version: d.i64("version")?,
    })
}

impl Store {
    /// Up to `limit` fills of `account` that may be folded, in `(time_ms, trade_id)` order
    /// after `after`: those of an order the ledger holds in a final state executed at or
    /// before `before_ms`, and those of no ledger order (placed outside the gateway) executed before
    /// `orphan_before_ms`.
    pub async fn fills_foldable(
        &self,
        account: &str,
        before_ms: i64,
        orphan_before_ms: i64,
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<FillRow>> {
        let (after_ms, after_id) = after.unwrap_or((i64::MIN, ""));
        let mut conn = self.acquire().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FILL_COLUMNS} FROM exchange_fills f WHERE f.account = $1 AND ( \
               (f.time_ms <= $6 AND EXISTS (SELECT 1 FROM exchange_orders o \
                 WHERE o.account = f.account AND o.exchange_order_id = f.exchange_order_id \
                 AND o.state IN ('rejected', 'filled', 'cancelled'))) \
               OR (f.time_ms < $2 AND NOT EXISTS (SELECT 1 FROM exchange_orders o \
                 WHERE o.account = f.account AND o.exchange_order_id = f.exchange_order_id))) \
             AND (f.time_ms > $3 OR (f.time_ms = $3 AND f.trade_id > $4)) \
             ORDER BY f.time_ms, f.trade_id LIMIT $5"
        )))
        .bind(account)
        .bind(orphan_before_ms)
        .bind(after_ms)
        .bind(after_id)
        .bind(limit)
        .bind(before_ms)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        rows.iter().map(decode_fill).collect()
    }

    /// True when a fill with this trade digest was folded for `account`.
    pub async fn fill_tombstoned(&self, account: &str, digest: &str) -> Result<bool> {
        let mut conn = self.acquire().await?;
        let row = sqlx::query(
            "SELECT 1 AS found FROM fill_tombstones WHERE account = $1 AND trade_digest = $2",
        )
        .bind(account)
        .bind(digest)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        Ok(row.is_some())
    }

    /// The totals of the days `from_day` (inclusive) to `until_day` (exclusive), every
    /// account, ordered by day, account and profile.
    pub async fn aggregates_between_days(
        &self,
        from_day: i64,
        until_day: i64,
    ) -> Result<Vec<AggregateRow>> {
        let mut conn = self.acquire().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM fill_aggregates WHERE day >= $1 AND day < $2 \
             ORDER BY day, account, profile, quote"
        )))
        .bind(from_day)
        .bind(until_day)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        rows.iter().map(decode).collect()
    }
}

impl Tx {
    /// Deletes the fill and returns it; `None` when it is not (or no longer) stored.
    pub async fn fill_take(&mut self, account: &str, trade_id: &str) -> Result<Option<FillRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM exchange_fills WHERE account = $1 AND trade_id = $2 \
             RETURNING {FILL_COLUMNS}"
        )))
        .bind(account)
        .bind(trade_id)
        .fetch_optional(self.conn())
        .await
        .map_err(|e| self.err(e))?;
        row.as_ref().map(decode_fill).transpose()
    }

    /// Records that the fill with this trade digest was folded. Returns false when it already
    /// was.
    pub async fn fill_tombstone(&mut self, account: &str, digest: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO fill_tombstones (account, trade_digest) VALUES ($1, $2) \
             ON CONFLICT (account, trade_digest) DO NOTHING",
        )
        .bind(account)
        .bind(digest)
        .execute(self.conn())
        .await
        .map_err(|e| self.err(e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves the folded-fill cursor of `account` and `symbol` to `time_ms` unless it is
    /// already later.
    pub async fn fill_cursor_advance(
        &mut self,
        account: &str,
        symbol: &str,
        time_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO fill_cursors (account, symbol, time_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (account, symbol) DO UPDATE SET time_ms = CASE \
               WHEN excluded.time_ms > fill_cursors.time_ms THEN excluded.time_ms \
               ELSE fill_cursors.time_ms END",
        )
        .bind(account)
        .bind(symbol)
        .bind(time_ms)
        .execute(self.conn())
        .await
        .map(drop)
        .map_err(|e| self.err(e))
    }

    /// The totals of `account` and `profile` on `day` in `quote`, if any.
    pub async fn aggregate_get(
        &mut self,
        account: &str,
        profile: &str,
        day: i64,
        quote: &str,
    ) -> Result<Option<AggregateRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM fill_aggregates \
             WHERE account = $1 AND profile = $2 AND day = $3 AND quote = $4"
        )))
        .bind(account)
        .bind(profile)
        .bind(day)
        .bind(quote)
        .fetch_optional(self.conn())
        .await
        .map_err(|e| self.err(e))?;
        row.as_ref().map(decode).transpose()
    }

    /// Inserts a day's first totals (stored with version 1). Returns false, writing
    /// nothing, when another writer inserted that day first.
    pub async fn aggregate_insert(&mut self, a: &AggregateRow) -> Result<bool> {
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO fill_aggregates ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1) \
             ON CONFLICT (account, profile, day, quote) DO NOTHING"
        )))
        .bind(&a.account)
        .bind(&a.profile)
        .bind(a.day)
        .bind(&a.exchange)
        .bind(&a.quote)
        .bind(a.trade_count)
        .bind(&a.volume)
        .bind(&a.fees)
        .bind(a.first_fill_ms)
        .bind(a.last_fill_ms)
        .execute(self.conn())
        .await
        .map_err(|e| self.err(e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes `a`'s totals if the stored row still has `a.version`, and bumps the version.
    /// Returns false, writing nothing, when another writer changed it first.
    pub async fn aggregate_update(&mut self, a: &AggregateRow) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE fill_aggregates SET trade_count = $1, volume = $2, fees = $3, \
             first_fill_ms = $4, last_fill_ms = $5, version = version + 1 \
             WHERE account = $6 AND profile = $7 AND day = $8 AND quote = $9 AND version = $10",
        )
        .bind(a.trade_count)
        .bind(&a.volume)
        .bind(&a.fees)
        .bind(a.first_fill_ms)
        .bind(a.last_fill_ms)
        .bind(&a.account)
        .bind(&a.profile)
        .bind(a.day)
        .bind(&a.quote)
        .bind(a.version)
        .execute(self.conn())
        .await
        .map_err(|e| self.err(e))?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::OrderRow;

    fn order(cid: &str, state: &str, exchange_order_id: &str) -> OrderRow {
        OrderRow {
            account: "acct".into(),
            client_order_id: cid.into(),
            exchange: "kraken".into(),
            request: "{}".into(),
            state: state.into(),
            exchange_order_id: Some(exchange_order_id.into()),
            filled_quantity: "0".into(),
            created_ms: 1,
            sent_ms: None,
            updated_ms: 1,
            last_error: None,
            version: 1,
        }
    }

    fn fill(trade: &str, order: &str, t: i64) -> FillRow {
        FillRow {
            account: "acct".into(),
            trade_id: trade.into(),
            symbol: "BTC/USD".into(),
            exchange_order_id: order.into(),
            client_order_id: None,
            time_ms: t,
            fill: format!("{{\"t\":\"{trade}\"}}"),
        }
    }

    fn aggregate(day: i64, trades: i64, volume: &str) -> AggregateRow {
        AggregateRow {
            account: "acct".into(),
            profile: "core".into(),
            day,
            exchange: "kraken".into(),
            quote: "USD".into(),
            trade_count: trades,
            volume: volume.into(),
            fees: "0.5".into(),
            first_fill_ms: day * 86_400_000,
            last_fill_ms: day * 86_400_000 + 5,
            version: 1,
        }
    }

    fn ids(rows: &[FillRow]) -> Vec<&str> {
        rows.iter().map(|f| f.trade_id.as_str()).collect()
    }

    crate::backend_tests! {
        /// Final orders' fills and old orphans are foldable; open orders' fills and new
        /// orphans are not.
        async fn foldable_fills(store) {
            store.order_insert(&order("c1", "filled", "X1")).await.unwrap();
            store.order_insert(&order("c2", "acknowledged", "X2")).await.unwrap();
            store.order_insert(&order("c3", "cancelled", "X3")).await.unwrap();
            for f in [fill("t1", "X1", 10), fill("t2", "X2", 11), fill("t3", "X3", 12),
                      fill("t4", "FOREIGN", 13), fill("t5", "FOREIGN", 50)] {
                assert!(store.fill_insert(&f).await.unwrap());
            }
            let got = store.fills_foldable("acct", 100, 20, None, 10).await.unwrap();
            assert_eq!(ids(&got), ["t1", "t3", "t4"]);
            let all = store.fills_foldable("acct", 100, 51, None, 10).await.unwrap();
            assert_eq!(ids(&all), ["t1", "t3", "t4", "t5"]);
            let young = store.fills_foldable("acct", 11, 51, None, 10).await.unwrap();
            assert_eq!(ids(&young), ["t1", "t4", "t5"], "final orders' fills at 11 or before");
            let page = store.fills_foldable("acct", 100, 51, None, 2).await.unwrap();
            assert_eq!(ids(&page), ["t1", "t3"], "limited");
            let next = store.fills_foldable("acct", 100, 51, Some((12, "t3")), 2).await.unwrap();
            assert_eq!(ids(&next), ["t4", "t5"], "after the last of the page");
            assert!(store.fills_foldable("other", 100, 100, None, 10).await.unwrap().is_empty());
        }

        /// A fill is taken once; tombstones and cursors keep what deduplication and the
        /// poller need; the poller's cursor does not go back when rows are deleted.
        async fn take_tombstone_and_cursor(store) {
            store.fill_insert(&fill("t1", "X1", 10)).await.unwrap();
            store.fill_insert(&fill("t2", "X1", 30)).await.unwrap();
            let mut tx = store.begin().await.unwrap();
            let taken = tx.fill_take("acct", "t2").await.unwrap().unwrap();
            assert_eq!(taken, fill("t2", "X1", 30));
            assert!(tx.fill_take("acct", "t2").await.unwrap().is_none(), "taken once");
            assert!(tx.fill_tombstone("acct", "hmac-sha256:aa").await.unwrap());
            assert!(!tx.fill_tombstone("acct", "hmac-sha256:aa").await.unwrap());
            tx.fill_cursor_advance("acct", "BTC/USD", 30).await.unwrap();
            tx.fill_cursor_advance("acct", "BTC/USD", 20).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(ids(&store.fills_all("acct").await.unwrap()), ["t1"]);
            assert!(store.fill_tombstoned("acct", "hmac-sha256:aa").await.unwrap());
            assert!(!store.fill_tombstoned("acct", "hmac-sha256:bb").await.unwrap());
            assert!(!store.fill_tombstoned("other", "hmac-sha256:aa").await.unwrap());
            assert_eq!(store.fills_latest_time("acct", "BTC/USD").await.unwrap(), Some(30),
                "the folded cursor, later than the row left");
            store.fill_insert(&fill("t3", "X1", 40)).await.unwrap();
            assert_eq!(store.fills_latest_time("acct", "BTC/USD").await.unwrap(), Some(40));
            assert_eq!(store.fills_latest_time("acct", "ETH/USD").await.unwrap(), None);

            let mut tx = store.begin().await.unwrap();
            assert!(tx.fill_take("acct", "t1").await.unwrap().is_some());
            tx.rollback().await.unwrap();
            assert_eq!(ids(&store.fills_all("acct").await.unwrap()), ["t1", "t3"], "rolled back");
        }

        /// Day totals: insert once, compare-and-set updates, read by day range.
        async fn aggregates_round_trip(store) {
            let mut tx = store.begin().await.unwrap();
            assert!(tx.aggregate_get("acct", "core", 3, "USD").await.unwrap().is_none());
            assert!(tx.aggregate_insert(&aggregate(3, 1, "10")).await.unwrap());
            assert!(!tx.aggregate_insert(&aggregate(3, 9, "99")).await.unwrap(), "once");
            let mut usdt = aggregate(3, 1, "7");
            usdt.quote = "USDT".into();
            assert!(tx.aggregate_insert(&usdt).await.unwrap(), "another quote, another row");
            let mut a = tx.aggregate_get("acct", "core", 3, "USD").await.unwrap().unwrap();
            assert_eq!(a, aggregate(3, 1, "10"));
            a.trade_count = 2;
            a.volume = "25.5".into();
            assert!(tx.aggregate_update(&a).await.unwrap());
            assert!(!tx.aggregate_update(&a).await.unwrap(), "stale version loses");
            assert!(tx.aggregate_insert(&aggregate(5, 1, "1")).await.unwrap());
            tx.commit().await.unwrap();
            let got = store.aggregates_between_days(3, 5).await.unwrap();
            assert_eq!(got.len(), 2);
            let usd = got.iter().find(|r| r.quote == "USD").unwrap();
            assert_eq!((usd.trade_count, usd.volume.as_str(), usd.version), (2, "25.5", 2));
            assert_eq!(store.aggregates_between_days(0, 10).await.unwrap().len(), 3);
            assert!(store.aggregates_between_days(6, 10).await.unwrap().is_empty());
        }
    }
}
