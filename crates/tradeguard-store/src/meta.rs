//! The `meta` table: installation-level key/value settings (migration 0001).

use std::borrow::Cow;

use sqlx::AnyConnection;

use crate::row::RowDecoder;
use crate::{Result, Store, StoreError, Tx};

const TABLE: &str = "meta";

/// A key of the `meta` table: 1 to 128 characters of `[a-z0-9._-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MetaKey(Cow<'static, str>);

impl MetaKey {
    /// The random identifier of this installation, created on first use
    /// ([`Store::installation_id`]).
    pub const INSTALLATION_ID: Self = Self(Cow::Borrowed("installation_id"));

    /// Parses a key.
    pub fn new(key: &str) -> Result<Self> {
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        if (1..=128).contains(&key.len()) && key.chars().all(ok_char) {
            Ok(Self(Cow::Owned(key.to_owned())))
        } else {
            Err(StoreError::Config {
                reason: "meta key must be 1 to 128 characters of [a-z0-9._-]".into(),
            })
        }
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Store {
    /// The value stored under `key`, if any.
    pub async fn meta_get(&self, key: &MetaKey) -> Result<Option<String>> {
        let mut conn = self.acquire().await?;
        let got = get(&mut conn, key).await.map_err(|e| self.err(e));
        got.map_err(|e| e.in_row(TABLE, key.as_str()))?
    }

    /// Stores `value` under `key`, replacing any previous value.
    pub async fn meta_put(&self, key: &MetaKey, value: &str) -> Result<()> {
        let mut conn = self.acquire().await?;
        put(&mut conn, key, value).await.map_err(|e| self.err(e))
    }

    /// Stores `value` under a new `key`; an existing key fails with [`StoreError::Constraint`]
    /// (`meta_pkey`, see [`StoreError::is_unique_violation`]).
    pub async fn meta_insert(&self, key: &MetaKey, value: &str) -> Result<()> {
        let mut conn = self.acquire().await?;
        insert(&mut conn, key, value).await.map_err(|e| self.err(e))
    }

    /// This installation's random 128-bit identifier (32 hex digits), created on first call.
    /// Concurrent first calls from several replicas agree on one value.
    pub async fn installation_id(&self) -> Result<String> {
        let key = MetaKey::INSTALLATION_ID;
        let fresh = random_hex_id()?;
        let mut conn = self.acquire().await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key.as_str())
            .bind(fresh)
            .execute(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        get(&mut conn, &key)
            .await
            .map_err(|e| self.err(e))??
            .ok_or_else(|| StoreError::NotFound {
                what: "meta key `installation_id`".into(),
            })
    }
}

impl Tx {
    /// [`Store::meta_get`] inside this transaction.
    pub async fn meta_get(&mut self, key: &MetaKey) -> Result<Option<String>> {
        let got = get(self.conn(), key).await;
        got.map_err(|e| self.err(e).in_row(TABLE, key.as_str()))?
    }

    /// [`Store::meta_put`] inside this transaction.
    pub async fn meta_put(&mut self, key: &MetaKey, value: &str) -> Result<()> {
        let done = put(self.conn(), key, value).await;
        done.map_err(|e| self.err(e))
    }

    /// [`Store::meta_insert`] inside this transaction.
    pub async fn meta_insert(&mut self, key: &MetaKey, value: &str) -> Result<()> {
        let done = insert(self.conn(), key, value).await;
        done.map_err(|e| self.err(e))
    }
}

/// Outer error: the query failed; inner: the row was corrupt.
async fn get(
    conn: &mut AnyConnection,
    key: &MetaKey,
) -> std::result::Result<Result<Option<String>>, sqlx::Error> {
    let row = sqlx::query("SELECT value FROM meta WHERE key = $1")
        .bind(key.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(row
        .map(|row| RowDecoder::new(&row, TABLE, key.as_str()).text("value"))
        .transpose())
}

async fn put(conn: &mut AnyConnection, key: &MetaKey, value: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key.as_str())
    .bind(value)
    .execute(conn)
    .await
    .map(drop)
}

async fn insert(conn: &mut AnyConnection, key: &MetaKey, value: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
        .bind(key.as_str())
        .bind(value)
        .execute(conn)
        .await
        .map(drop)
}

fn random_hex_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| StoreError::Internal {
        reason: "the OS random number generator failed".into(),
    })?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_key_rules() {
        let long = "a".repeat(129);
        let cases: [(&str, bool); 7] = [
            ("installation_id", true),
            ("schema.v1-x", true),
            ("", false),
            ("Upper", false),
            ("sp ace", false),
            ("semi;colon", false),
            (&long, false),
        ];
        for (i, (key, ok)) in cases.iter().enumerate() {
            assert_eq!(MetaKey::new(key).is_ok(), *ok, "TC{} failed", i + 1);
        }
    }
}
