//! The price marks of `tradeguard serve` (migration 0007): the price of an asset in a quote
//! asset at the time an equity snapshot was valued at it, used by the signed report's asset
//! correlation. Prices are exact decimal strings this module never interprets.
//!
//! A mark is written once per `(quote, asset, time_ms)`: [`Store::price_marks_append`] skips
//! a repeat instead of failing or overwriting.

use sqlx::any::AnyRow;

use crate::row::RowDecoder;
use crate::{Result, Store};

const COLUMNS: &str = "quote, asset, time_ms, price";

/// The price of one asset at one time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceMarkRow {
    /// The asset `price` is in.
    pub quote: String,
    /// The asset priced.
    pub asset: String,
    /// When, Unix ms.
    pub time_ms: i64,
    /// Price of one `asset` in `quote` (exact decimal string).
    pub price: String,
}

fn decode(row: &AnyRow) -> Result<PriceMarkRow> {
    let d = RowDecoder::new(row, "price_marks", "?");
    Ok(PriceMarkRow {
        quote: d.text("quote")?,
        asset: d.text("asset")?,
        time_ms: d.i64("time_ms")?,
        price: d.text("price")?,
    })
}

impl Store {
    /// Appends `marks` in one transaction (all or none). Returns how many were new; a mark
    /// whose quote, asset and time are already stored is skipped.
    pub async fn price_marks_append(&self, marks: &[PriceMarkRow]) -> Result<usize> {
        if marks.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "INSERT INTO price_marks ({COLUMNS}) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (quote, asset, time_ms) DO NOTHING"
        );
        let mut tx = self.begin().await?;
        let mut new = 0;
        for m in marks {
            let done = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(m.quote.as_str())
                .bind(m.asset.as_str())
                .bind(m.time_ms)
                .bind(m.price.as_str())
                .execute(tx.conn())
                .await;
            new += usize::from(done.map_err(|e| tx.err(e))?.rows_affected() == 1);
        }
        tx.commit().await?;
        Ok(new)
    }

    /// Every mark in `quote` with `from_ms <= time_ms < until_ms`, oldest first (then by
    /// asset).
    pub async fn price_marks_range(
        &self,
        quote: &str,
        from_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<PriceMarkRow>> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM price_marks WHERE quote = $1 AND time_ms >= $2 \
             AND time_ms < $3 ORDER BY time_ms, asset"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(quote)
            .bind(from_ms)
            .bind(until_ms)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        rows.iter().map(decode).collect()
    }

    /// The mark of `asset` in `quote` nearest `time_ms`: the latest at or before it, else the
    /// earliest after it (a fill before the first valuation).
    pub async fn price_mark_near(
        &self,
        quote: &str,
        asset: &str,
        time_ms: i64,
    ) -> Result<Option<PriceMarkRow>> {
        let mut conn = self.acquire().await?;
        let before = format!(
            "SELECT {COLUMNS} FROM price_marks WHERE quote = $1 AND asset = $2 AND time_ms <= $3 \
             ORDER BY time_ms DESC LIMIT 1"
        );
        let after = format!(
            "SELECT {COLUMNS} FROM price_marks WHERE quote = $1 AND asset = $2 AND time_ms > $3 \
             ORDER BY time_ms LIMIT 1"
        );
        for sql in [before, after] {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(quote)
                .bind(asset)
                .bind(time_ms)
                .fetch_optional(&mut *conn)
                .await
                .map_err(|e| self.err(e))?;
            if let Some(r) = row {
                return decode(&r).map(Some);
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(quote: &str, asset: &str, t: i64, price: &str) -> PriceMarkRow {
        PriceMarkRow {
            quote: quote.into(),
            asset: asset.into(),
            time_ms: t,
            price: price.into(),
        }
    }

    crate::backend_tests! {
        /// Appended once per quote, asset and time, all in one call; a range is one quote,
        /// half-open and oldest first.
        async fn price_marks_round_trip(store) {
            assert_eq!(store.price_marks_append(&[]).await.unwrap(), 0);
            let first = [
                mark("USD", "BTC", 2_000, "50000.125"),
                mark("USD", "ETH", 2_000, "3000"),
                mark("USDT", "BTC", 2_000, "50010"),
                mark("USD", "BTC", 1_000, "49000"),
            ];
            assert_eq!(store.price_marks_append(&first).await.unwrap(), 4);
            let again = [mark("USD", "BTC", 2_000, "1"), mark("USD", "BTC", 3_000, "51000")];
            assert_eq!(store.price_marks_append(&again).await.unwrap(), 1, "the repeat is skipped");
            let all = store.price_marks_range("USD", 0, i64::MAX).await.unwrap();
            let got: Vec<(&str, i64, &str)> =
                all.iter().map(|m| (m.asset.as_str(), m.time_ms, m.price.as_str())).collect();
            assert_eq!(
                got,
                [("BTC", 1_000, "49000"), ("BTC", 2_000, "50000.125"), ("ETH", 2_000, "3000"), ("BTC", 3_000, "51000")]
            );
            assert_eq!(all[1], first[0], "every column back");
            let mid = store.price_marks_range("USD", 2_000, 3_000).await.unwrap();
            assert_eq!(mid.len(), 2, "from included, until excluded");
            let usdt = store.price_marks_range("USDT", 0, i64::MAX).await.unwrap();
            assert_eq!(usdt, [first[2].clone()]);

            let near = |t| store.price_mark_near("USD", "BTC", t);
            assert_eq!(near(2_500).await.unwrap().unwrap().time_ms, 2_000, "latest before");
            assert_eq!(near(2_000).await.unwrap().unwrap().time_ms, 2_000, "at");
            assert_eq!(near(10).await.unwrap().unwrap().time_ms, 1_000, "else earliest after");
            assert!(store.price_mark_near("USD", "XRP", 2_000).await.unwrap().is_none());
        }
    }
}
