//! The exchange order ledger and the poller's snapshots (migration 0004), used by
//! `tradeguard-exchange`, which owns the formats: this module stores rows, states as their
//! names, decimals as exact strings and JSON as text, and never interprets them.
//!
//! An order row is inserted once per `(account, client_order_id)` ([`Store::order_insert`]
//! reports a repeat instead of failing) and then changed only by compare-and-set on its
//! `version` ([`Store::order_update`]), so a writer that read a stale row loses cleanly and
//! can read again. Fills are inserted once per `(account, trade_id)`.

use sqlx::any::AnyRow;

use crate::row::RowDecoder;
use crate::{Result, Store};

const ORDER_COLUMNS: &str = "account, client_order_id, exchange, request, state, exchange_order_id, \
     filled_quantity, created_ms, sent_ms, updated_ms, last_error, version";

/// The columns of `exchange_fills`, in [`FillRow`] order.
pub(crate) const FILL_COLUMNS: &str =
    "account, trade_id, symbol, exchange_order_id, client_order_id, time_ms, fill";

/// The states that are final (no further change): the open ones are all the others.
const FINAL_STATES: &str = "('rejected', 'filled', 'cancelled')";

/// One order of the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRow {
    /// The exchange account label.
    pub account: String,
    /// The gateway's client order id.
    pub client_order_id: String,
    /// The exchange (`binance`, `coinbase`, ...).
    pub exchange: String,
    /// The order as requested (JSON).
    pub request: String,
    /// The ledger state's name (`new`, `sent`, `acknowledged`, ...).
    pub state: String,
    /// The exchange's order id, once known.
    pub exchange_order_id: Option<String>,
    /// Filled quantity (exact decimal string).
    pub filled_quantity: String,
    /// When the order was recorded, Unix ms.
    pub created_ms: i64,
    /// When it was handed to the exchange, Unix ms.
    pub sent_ms: Option<i64>,
    /// Last change, Unix ms.
    pub updated_ms: i64,
    /// Why it was rejected or is unknown (never a secret).
    pub last_error: Option<String>,
    /// Row version, 1 on insert, +1 on every update.
    pub version: i64,
}

/// One fill (trade) of an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FillRow {
    /// The exchange account label.
    pub account: String,
    /// The exchange's trade id.
    pub trade_id: String,
    /// The pair (`BTC/USDT`), for per-pair cursors.
    pub symbol: String,
    /// The exchange's order id.
    pub exchange_order_id: String,
    /// The ledger order it belongs to, when known.
    pub client_order_id: Option<String>,
    /// Execution time, Unix ms.
    pub time_ms: i64,
    /// The fill (JSON).
    pub fill: String,
}

/// What a poller snapshot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotKind {
    /// Balances.
    Balances,
    /// Open orders.
    OpenOrders,
    /// Connectivity status.
    Status,
}

impl SnapshotKind {
    fn as_str(self) -> &'static str {
        match self {
            SnapshotKind::Balances => "balances",
            SnapshotKind::OpenOrders => "open_orders",
            SnapshotKind::Status => "status",
        }
    }
}

fn decode_order(row: &AnyRow) -> Result<OrderRow> {
    let d = RowDecoder::new(row, "exchange_orders", "?");
    Ok(OrderRow {
        account: d.text("account")?,
        client_order_id: d.text("client_order_id")?,
        exchange: d.text("exchange")?,
        request: d.text("request")?,
        state: d.text("state")?,
        exchange_order_id: d.opt_text("exchange_order_id")?,
        filled_quantity: d.text("filled_quantity")?,
        created_ms: d.i64("created_ms")?,
        sent_ms: d.opt_i64("sent_ms")?,
        updated_ms: d.i64("updated_ms")?,
        last_error: d.opt_text("last_error")?,
        version: d.i64("version")?,
    })
}

pub(crate) fn decode_fill(row: &AnyRow) -> Result<FillRow> {
    let d = RowDecoder::new(row, "exchange_fills", "?");
    Ok(FillRow {
        account: d.text("account")?,
        trade_id: d.text("trade_id")?,
        symbol: d.text("symbol")?,
        exchange_order_id: d.text("exchange_order_id")?,
        client_order_id: d.opt_text("client_order_id")?,
        time_ms: d.i64("time_ms")?,
        fill: d.text("fill")?,
    })
}

impl Store {
    /// Inserts a new order (its `version` is stored as 1). Returns false, writing nothing,
    /// when the account already has this client order id.
    pub async fn order_insert(&self, o: &OrderRow) -> Result<bool> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "INSERT INTO exchange_orders ({ORDER_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1) \
             ON CONFLICT (account, client_order_id) DO NOTHING"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&o.account)
            .bind(&o.client_order_id)
            .bind(&o.exchange)
            .bind(&o.request)
            .bind(&o.state)
            .bind(o.exchange_order_id.as_deref())
            .bind(&o.filled_quantity)
            .bind(o.created_ms)
            .bind(o.sent_ms)
            .bind(o.updated_ms)
            .bind(o.last_error.as_deref())
            .execute(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes `o`'s changeable fields if the stored row still has `o.version`, and bumps the
    /// version. Returns false, writing nothing, when another writer changed it first.
    pub async fn order_update(&self, o: &OrderRow) -> Result<bool> {
        let mut conn = self.acquire().await?;
        let done = sqlx::query(
            "UPDATE exchange_orders SET state = $1, exchange_order_id = $2, filled_quantity = $3, \
             sent_ms = $4, updated_ms = $5, last_error = $6, version = version + 1 \
             WHERE account = $7 AND client_order_id = $8 AND version = $9",
        )
        .bind(&o.state)
        .bind(o.exchange_order_id.as_deref())
        .bind(&o.filled_quantity)
        .bind(o.sent_ms)
        .bind(o.updated_ms)
        .bind(o.last_error.as_deref())
        .bind(&o.account)
        .bind(&o.client_order_id)
        .bind(o.version)
        .execute(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        Ok(done.rows_affected() == 1)
    }

    /// One order.
    pub async fn order_get(
        &self,
        account: &str,
        client_order_id: &str,
    ) -> Result<Option<OrderRow>> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM exchange_orders WHERE account = $1 AND client_order_id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account)
            .bind(client_order_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        row.as_ref().map(decode_order).transpose()
    }

    /// The orders of `account` not in a final state, oldest first.
    pub async fn orders_open(&self, account: &str) -> Result<Vec<OrderRow>> {
        self.orders_where(account, &format!("state NOT IN {FINAL_STATES}"))
            .await
    }

    /// Every order of `account`, oldest first.
    pub async fn orders_all(&self, account: &str) -> Result<Vec<OrderRow>> {
        self.orders_where(account, "1 = 1").await
    }

    async fn orders_where(&self, account: &str, cond: &str) -> Result<Vec<OrderRow>> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM exchange_orders WHERE account = $1 AND {cond} \
             ORDER BY created_ms, client_order_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        rows.iter().map(decode_order).collect()
    }

    /// The client order id of the order with this exchange id, if the ledger has it.
    pub async fn order_client_id(
        &self,
        account: &str,
        exchange_order_id: &str,
    ) -> Result<Option<String>> {
        let mut conn = self.acquire().await?;
        let row = sqlx::query(
            "SELECT client_order_id FROM exchange_orders \
             WHERE account = $1 AND exchange_order_id = $2 ORDER BY created_ms LIMIT 1",
        )
        .bind(account)
        .bind(exchange_order_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        row.as_ref()
            .map(|r| {
                RowDecoder::new(r, "exchange_orders", exchange_order_id).text("client_order_id")
            })
            .transpose()
    }

    /// Inserts a fill. Returns false, writing nothing, when the trade id is already stored.
    pub async fn fill_insert(&self, f: &FillRow) -> Result<bool> {
        let mut conn = self.acquire().await?;
        let done = sqlx::query(
            "INSERT INTO exchange_fills \
             (account, trade_id, symbol, exchange_order_id, client_order_id, time_ms, fill) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account, trade_id) DO NOTHING",
        )
        .bind(&f.account)
        .bind(&f.trade_id)
        .bind(&f.symbol)
        .bind(&f.exchange_order_id)
        .bind(f.client_order_id.as_deref())
        .bind(f.time_ms)
        .bind(&f.fill)
        .execute(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        Ok(done.rows_affected() == 1)
    }

    /// The stored fill with this trade id, if any.
    pub async fn fill_get(&self, account: &str, trade_id: &str) -> Result<Option<FillRow>> {
        let mut conn = self.acquire().await?;
        let row = sqlx::query(
            "SELECT account, trade_id, symbol, exchange_order_id, client_order_id, time_ms, fill \
             FROM exchange_fills WHERE account = $1 AND trade_id = $2",
        )
        .bind(account)
        .bind(trade_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        row.as_ref().map(decode_fill).transpose()
    }

    /// Every fill of `account`, oldest first.
    pub async fn fills_all(&self, account: &str) -> Result<Vec<FillRow>> {
        let mut conn = self.acquire().await?;
        let rows = sqlx::query(
            "SELECT account, trade_id, symbol, exchange_order_id, client_order_id, time_ms, fill \
             FROM exchange_fills WHERE account = $1 ORDER BY time_ms, trade_id",
        )
        .bind(account)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        rows.iter().map(decode_fill).collect()
    }

    /// The fills of `account` executed after `after_ms`, oldest first.
    pub async fn fills_after(&self, account: &str, after_ms: i64) -> Result<Vec<FillRow>> {
        let mut conn = self.acquire().await?;
        let rows = sqlx::query(
            "SELECT account, trade_id, symbol, exchange_order_id, client_order_id, time_ms, fill \
             FROM exchange_fills WHERE account = $1 AND time_ms > $2 ORDER BY time_ms, trade_id",
        )
        .bind(account)
        .bind(after_ms)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        rows.iter().map(decode_fill).collect()
    }

    /// The time of the newest stored fill of `symbol` for `account` (a poller's cursor),
    /// counting fills folded into aggregates and deleted since (migration 0008).
    pub async fn fills_latest_time(&self, account: &str, symbol: &str) -> Result<Option<i64>> {
        let mut conn = self.acquire().await?;
        let row = sqlx::query(
            "SELECT time_ms FROM ( \
               SELECT time_ms FROM exchange_fills WHERE account = $1 AND symbol = $2 \
               UNION ALL \
               SELECT time_ms FROM fill_cursors WHERE account = $1 AND symbol = $2) t \
             ORDER BY time_ms DESC LIMIT 1",
        )
        .bind(account)
        .bind(symbol)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        row.as_ref()
            .map(|r| RowDecoder::new(r, "exchange_fills", symbol).i64("time_ms"))
            .transpose()
    }

    /// Replaces the `kind` snapshot of `account` (JSON `body`, taken at `at_ms`).
    pub async fn snapshot_put(
        &self,
        account: &str,
        kind: SnapshotKind,
        at_ms: i64,
        body: &str,
    ) -> Result<()> {
        let mut conn = self.acquire().await?;
        sqlx::query(
            "INSERT INTO exchange_snapshots (account, kind, at_ms, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account, kind) DO UPDATE SET at_ms = excluded.at_ms, body = excluded.body",
        )
        .bind(account)
        .bind(kind.as_str())
        .bind(at_ms)
        .bind(body)
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(|e| self.err(e))
    }

    /// The `kind` snapshot of `account`: (taken at, JSON body).
    pub async fn snapshot_get(
        &self,
        account: &str,
        kind: SnapshotKind,
    ) -> Result<Option<(i64, String)>> {
        let mut conn = self.acquire().await?;
        let row = sqlx::query(
            "SELECT at_ms, body FROM exchange_snapshots WHERE account = $1 AND kind = $2",
        )
        .bind(account)
        .bind(kind.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        row.as_ref()
            .map(|r| {
                let d = RowDecoder::new(r, "exchange_snapshots", account);
                Ok((d.i64("at_ms")?, d.text("body")?))
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(cid: &str, state: &str, created: i64) -> OrderRow {
        OrderRow {
            account: "acct".into(),
            client_order_id: cid.into(),
            exchange: "kraken".into(),
            request: "{}".into(),
            state: state.into(),
            exchange_order_id: None,
            filled_quantity: "0".into(),
            created_ms: created,
            sent_ms: None,
            updated_ms: created,
            last_error: None,
            version: 1,
        }
    }

    fn fill(trade: &str, symbol: &str, t: i64) -> FillRow {
        FillRow {
            account: "acct".into(),
            trade_id: trade.into(),
            symbol: symbol.into(),
            exchange_order_id: "X1".into(),
            client_order_id: None,
            time_ms: t,
            fill: "{}".into(),
        }
    }

    crate::backend_tests! {
        /// Insert once, compare-and-set updates, open orders, fills once, snapshots replace.
        async fn orders_round_trip(store) {
            assert!(store.order_insert(&order("c1", "new", 1)).await.unwrap());
            assert!(!store.order_insert(&order("c1", "sent", 2)).await.unwrap(), "repeat");
            assert!(store.order_insert(&order("c2", "filled", 2)).await.unwrap());
            let mut o = store.order_get("acct", "c1").await.unwrap().unwrap();
            assert_eq!((o.state.as_str(), o.version), ("new", 1));
            o.state = "acknowledged".into();
            o.exchange_order_id = Some("X1".into());
            o.filled_quantity = "0.00100000".into();
            assert!(store.order_update(&o).await.unwrap());
            assert!(!store.order_update(&o).await.unwrap(), "stale version loses");
            let got = store.order_get("acct", "c1").await.unwrap().unwrap();
            assert_eq!((got.version, got.filled_quantity.as_str()), (2, "0.00100000"));
            let open = store.orders_open("acct").await.unwrap();
            assert_eq!(open.iter().map(|o| o.client_order_id.as_str()).collect::<Vec<_>>(), ["c1"]);
            assert_eq!(store.orders_all("acct").await.unwrap().len(), 2);
            assert_eq!(store.order_client_id("acct", "X1").await.unwrap().as_deref(), Some("c1"));
            assert_eq!(store.order_client_id("acct", "X2").await.unwrap(), None);

            assert!(store.fill_insert(&fill("t2", "BTC/USD", 20)).await.unwrap());
            assert!(store.fill_insert(&fill("t1", "BTC/USD", 10)).await.unwrap());
            assert!(!store.fill_insert(&fill("t1", "BTC/USD", 10)).await.unwrap(), "once");
            assert!(store.fill_insert(&fill("t3", "ETH/USD", 30)).await.unwrap());
            let all = store.fills_all("acct").await.unwrap();
            assert_eq!(all.iter().map(|f| f.trade_id.as_str()).collect::<Vec<_>>(), ["t1", "t2", "t3"]);
            assert_eq!(store.fills_latest_time("acct", "BTC/USD").await.unwrap(), Some(20));
            assert_eq!(store.fills_latest_time("acct", "XRP/USD").await.unwrap(), None);
            assert!(store.fill_get("acct", "t3").await.unwrap().is_some());
            let after = store.fills_after("acct", 10).await.unwrap();
            assert_eq!(after.iter().map(|f| f.trade_id.as_str()).collect::<Vec<_>>(), ["t2", "t3"]);

            store.snapshot_put("acct", SnapshotKind::Balances, 5, "[1]").await.unwrap();
            store.snapshot_put("acct", SnapshotKind::Balances, 6, "[2]").await.unwrap();
            assert_eq!(
                store.snapshot_get("acct", SnapshotKind::Balances).await.unwrap(),
                Some((6, "[2]".to_owned()))
            );
            assert_eq!(store.snapshot_get("acct", SnapshotKind::Status).await.unwrap(), None);
        }

        /// The CHECK constraint refuses a state name the ledger does not define.
        async fn fail_unknown_order_state(store) {
            let err = store.order_insert(&order("c9", "lost", 1)).await.unwrap_err();
            assert!(matches!(err, crate::StoreError::Constraint { .. }), "{err}");
        }
    }
}
