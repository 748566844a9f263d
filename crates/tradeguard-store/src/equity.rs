//! The equity history of `tradeguard serve` (migration 0006): one valuation per profile and
//! per exchange account and time, used by the signed report. `tradeguard serve` owns the
//! formats: this module stores rows, decimals as exact strings and the per-asset values as
//! JSON text, and never interprets them.
//!
//! A snapshot is written once per `(scope_kind, scope, time_ms)`:
//! [`Store::equity_append`] reports a repeat instead of failing or overwriting.

use sqlx::any::AnyRow;

use crate::row::RowDecoder;
use crate::{Result, Store};

const COLUMNS: &str = "scope_kind, scope, time_ms, exchange, quote, value, flow, assets, holdings";

/// What a snapshot values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EquityScope {
    /// One risk profile: its cash and the assets it targets.
    Profile,
    /// One exchange account: everything it holds.
    Account,
}

impl EquityScope {
    /// The stored name (`profile`, `account`).
    pub fn as_str(self) -> &'static str {
        match self {
            EquityScope::Profile => "profile",
            EquityScope::Account => "account",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "profile" => Some(EquityScope::Profile),
            "account" => Some(EquityScope::Account),
            _ => None,
        }
    }
}

/// One valuation of a profile or an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EquityRow {
    /// Profile or account.
    pub kind: EquityScope,
    /// The profile id or the account name.
    pub scope: String,
    /// When it was valued, Unix ms.
    pub time_ms: i64,
    /// The exchange the account is on (`binance`, `kraken`, ...).
    pub exchange: String,
    /// The asset `value` is in.
    pub quote: String,
    /// Value in `quote` (exact decimal string).
    pub value: String,
    /// External flow (deposits minus withdrawals) since the previous snapshot, in `quote`.
    pub flow: String,
    /// Each held asset's value in `quote` (a JSON object).
    pub assets: String,
    /// When the balances were read and each held asset's quantity (JSON, owned by `serve`);
    /// `None` in snapshots written before migration 0009.
    pub holdings: Option<String>,
}

fn decode(row: &AnyRow) -> Result<EquityRow> {
    let d = RowDecoder::new(row, "equity_snapshots", "?");
    let kind = d.text("scope_kind")?;
    Ok(EquityRow {
        kind: EquityScope::parse(&kind)
            .ok_or_else(|| d.corrupt("scope_kind", "not profile or account".into()))?,
        scope: d.text("scope")?,
        time_ms: d.i64("time_ms")?,
        exchange: d.text("exchange")?,
        quote: d.text("quote")?,
        value: d.text("value")?,
        flow: d.text("flow")?,
        assets: d.text("assets")?,
        holdings: d.opt_text("holdings")?,
    })
}

impl Store {
    /// Appends one snapshot. Returns false, writing nothing, when the scope already has a
    /// snapshot at this time.
    pub async fn equity_append(&self, r: &EquityRow) -> Result<bool> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "INSERT INTO equity_snapshots ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (scope_kind, scope, time_ms) DO NOTHING"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(r.kind.as_str())
            .bind(r.scope.as_str())
            .bind(r.time_ms)
            .bind(r.exchange.as_str())
            .bind(r.quote.as_str())
            .bind(r.value.as_str())
            .bind(r.flow.as_str())
            .bind(r.assets.as_str())
            .bind(r.holdings.as_deref())
            .execute(&mut *conn)
            .await
            .map(|done| done.rows_affected() == 1)
            .map_err(|e| self.err(e))
    }

    /// Every snapshot with `from_ms <= time_ms < until_ms`, oldest first (then by kind and
    /// scope).
    pub async fn equity_range(&self, from_ms: i64, until_ms: i64) -> Result<Vec<EquityRow>> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM equity_snapshots WHERE time_ms >= $1 AND time_ms < $2 \
             ORDER BY time_ms, scope_kind, scope"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(from_ms)
            .bind(until_ms)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        rows.iter().map(decode).collect()
    }

    /// The newest snapshot of one scope, if any.
    pub async fn equity_latest(&self, kind: EquityScope, scope: &str) -> Result<Option<EquityRow>> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM equity_snapshots WHERE scope_kind = $1 AND scope = $2 \
             ORDER BY time_ms DESC LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(kind.as_str())
            .bind(scope)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        row.as_ref().map(decode).transpose()
    }

    /// The time of the newest snapshot of one scope, if any.
    pub async fn equity_latest_ms(&self, kind: EquityScope, scope: &str) -> Result<Option<i64>> {
        let mut conn = self.acquire().await?;
        let row = sqlx::query(
            "SELECT time_ms FROM equity_snapshots WHERE scope_kind = $1 AND scope = $2 \
             ORDER BY time_ms DESC LIMIT 1",
        )
        .bind(kind.as_str())
        .bind(scope)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        row.as_ref()
            .map(|r| RowDecoder::new(r, "equity_snapshots", scope).i64("time_ms"))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: EquityScope, scope: &str, t: i64, value: &str) -> EquityRow {
        EquityRow {
            kind,
            scope: scope.into(),
            time_ms: t,
            exchange: "kraken".into(),
            quote: "USD".into(),
            value: value.into(),
            flow: "0".into(),
            assets: r#"{"USD":"1"}"#.into(),
            holdings: (kind == EquityScope::Account).then(|| r#"{"USD":"1"}"#.into()),
        }
    }

    crate::backend_tests! {
        /// Appended once per scope and time; a range is half-open and oldest first.
        async fn equity_round_trip(store) {
            use EquityScope::{Account, Profile};
            assert_eq!(store.equity_latest_ms(Profile, "core").await.unwrap(), None);
            assert!(store.equity_append(&row(Profile, "core", 2_000, "100.5")).await.unwrap());
            assert!(store.equity_append(&row(Account, "core", 2_000, "300")).await.unwrap());
            assert!(store.equity_append(&row(Profile, "core", 1_000, "99")).await.unwrap());
            assert!(store.equity_append(&row(Profile, "core", 3_000, "101")).await.unwrap());
            assert!(
                !store.equity_append(&row(Profile, "core", 2_000, "7")).await.unwrap(),
                "a second snapshot at the same time is refused"
            );
            let all = store.equity_range(0, i64::MAX).await.unwrap();
            let got: Vec<(EquityScope, i64, &str)> =
                all.iter().map(|r| (r.kind, r.time_ms, r.value.as_str())).collect();
            assert_eq!(
                got,
                [(Profile, 1_000, "99"), (Account, 2_000, "300"), (Profile, 2_000, "100.5"), (Profile, 3_000, "101")]
            );
            assert_eq!(all[2], row(Profile, "core", 2_000, "100.5"), "every column back");
            let mid = store.equity_range(2_000, 3_000).await.unwrap();
            assert_eq!(mid.len(), 2, "from included, until excluded");
            assert_eq!(store.equity_latest_ms(Profile, "core").await.unwrap(), Some(3_000));
            assert_eq!(store.equity_latest_ms(Account, "core").await.unwrap(), Some(2_000));
            assert_eq!(store.equity_latest_ms(Account, "other").await.unwrap(), None);
            let latest = store.equity_latest(Profile, "core").await.unwrap().unwrap();
            assert_eq!(latest, row(Profile, "core", 3_000, "101"));
            let account = store.equity_latest(Account, "core").await.unwrap().unwrap();
            assert_eq!(account.holdings.as_deref(), Some(r#"{"USD":"1"}"#), "quantities back");
            assert!(store.equity_latest(Account, "other").await.unwrap().is_none());
        }
    }
}
