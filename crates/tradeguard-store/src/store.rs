//! [`Store`]: a pooled connection to SQLite or PostgreSQL through sqlx's `Any` driver.

use std::path::Path;
use std::sync::{Arc, Once};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, AssertSqlSafe, ConnectOptions, Connection};

use crate::{Result, StoreError};

/// How long a SQLite connection waits for the write lock by default before failing with
/// [`StoreError::Contention`].
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite: one file in the data dir (the default).
    Sqlite,
    /// PostgreSQL: shared by several gateway replicas.
    Postgres,
}

impl Backend {
    /// Lower-case name, as used in URLs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    /// Picks the backend from a URL scheme (`sqlite:`, `postgres:`, `postgresql:`).
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => Err(StoreError::Config {
                reason: "database URL must start with `sqlite:` or `postgres:`".into(),
            }),
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A PostgreSQL schema name: `[a-z_][a-z0-9_]{0,62}`, so it can be spliced into `SET search_path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgSchema(String);

impl PgSchema {
    /// Parses a schema name, rejecting anything but lower-case ASCII letters, digits and `_`.
    pub fn new(name: &str) -> Result<Self> {
        let mut chars = name.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if first_ok && rest_ok && name.len() <= 63 {
            Ok(Self(name.to_owned()))
        } else {
            Err(StoreError::Config {
                reason: "PostgreSQL schema must match [a-z_][a-z0-9_]{0,62}".into(),
            })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Pool settings for [`Store::connect_with`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Maximum pooled connections (SQLite: keep it small, writes are serialised anyway).
    pub max_connections: u32,
    /// How long to wait for a pooled connection before [`StoreError::Unavailable`].
    pub acquire_timeout: Duration,
    /// PostgreSQL only: the schema every pooled connection uses (`SET search_path`); it must
    /// exist. `None` uses the server's default search path.
    pub pg_schema: Option<PgSchema>,
    /// SQLite only: how long a connection waits for the write lock before
    /// [`StoreError::Contention`].
    pub sqlite_busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
            pg_schema: None,
            sqlite_busy_timeout: SQLITE_BUSY_TIMEOUT,
        }
    }
}

/// A handle to the database: cheap to clone (an `Arc`ed pool), safe to share across tasks.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    _keepalive: Option<Arc<dyn Send + Sync>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

static DRIVERS: Once = Once::new();

impl Store {
    /// Opens (creating if missing) a SQLite database file: WAL journal, `synchronous=FULL`,
    /// foreign keys on, busy timeout [`SQLITE_BUSY_TIMEOUT`], at most 4 connections.
    pub async fn open_sqlite(path: &Path) -> Result<Self> {
        Self::open_sqlite_with(
            path,
            StoreOptions {
                max_connections: 4,
                ..StoreOptions::default()
            },
        )
        .await
    }

    /// [`Store::open_sqlite`] with explicit pool settings.
    pub async fn open_sqlite_with(path: &Path, options: StoreOptions) -> Result<Self> {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        let url = opts.to_url_lossy();
        let store = Self::connect_parsed(url.as_str(), Backend::Sqlite, options).await?;
        store.enable_wal().await?;
        Ok(store)
    }

    /// Connects to a `sqlite:` or `postgres:` URL with default [`StoreOptions`].
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, StoreOptions::default()).await
    }

    /// Connects to a `sqlite:` or `postgres:` URL. A SQLite URL gets the same settings as
    /// [`Store::open_sqlite`] (add `?mode=rwc` to create the file); in-memory SQLite is refused
    /// because each pooled connection would see a different database.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Self> {
        let backend = Backend::from_url(url)?;
        if backend == Backend::Sqlite && (url.contains(":memory:") || url.contains("mode=memory")) {
            return Err(StoreError::Config {
                reason: "in-memory SQLite is not supported (each pooled connection would get its own database); use a file".into(),
            });
        }
        let store = Self::connect_parsed(url, backend, options).await?;
        if backend == Backend::Sqlite {
            store.enable_wal().await?;
        }
        Ok(store)
    }

    async fn connect_parsed(url: &str, backend: Backend, options: StoreOptions) -> Result<Self> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let connect: AnyConnectOptions = url.parse().map_err(|_| StoreError::Config {
            reason: "database URL could not be parsed".into(),
        })?;
        let schema = options.pg_schema.clone();
        let busy = options.sqlite_busy_timeout;
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .after_connect(move |conn, _meta| {
                let schema = schema.clone();
                Box::pin(
                    async move { configure_connection(conn, backend, schema.as_ref(), busy).await },
                )
            })
            .connect_with(connect)
            .await
            .map_err(|e| StoreError::from_sqlx(backend, e))?;
        Ok(Self {
            pool,
            backend,
            _keepalive: None,
        })
    }

    /// Keeps `value` alive as long as any clone of this store (used by the test harness to
    /// hold a temp dir).
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) fn with_keepalive(mut self, value: Arc<dyn Send + Sync>) -> Self {
        self._keepalive = Some(value);
        self
    }

    /// Switches the database file to WAL once; the mode is persistent in the file.
    async fn enable_wal(&self) -> Result<()> {
        let mut conn = self.acquire().await?;
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode = WAL")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        if mode.eq_ignore_ascii_case("wal") {
            Ok(())
        } else {
            Err(StoreError::Config {
                reason: format!(
                    "SQLite refused WAL mode (journal_mode is `{mode}`); put the data dir on a local filesystem"
                ),
            })
        }
    }

    /// Which database this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every pooled connection; later calls fail with [`StoreError::Internal`].
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool, for the repository modules of this crate.
    #[allow(dead_code)]
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// One pooled connection, for the repository modules of this crate.
    pub(crate) async fn acquire(&self) -> Result<PoolConnection<Any>> {
        self.pool.acquire().await.map_err(|e| self.err(e))
    }

    /// Maps a driver error with this store's backend.
    pub(crate) fn err(&self, e: sqlx::Error) -> StoreError {
        StoreError::from_sqlx(self.backend, e)
    }
}

/// Per-connection settings, run on every new pooled connection.
async fn configure_connection(
    conn: &mut AnyConnection,
    backend: Backend,
    schema: Option<&PgSchema>,
    busy: Duration,
) -> std::result::Result<(), sqlx::Error> {
    match backend {
        Backend::Sqlite => {
            let busy_ms = busy.as_millis();
            sqlx::raw_sql(AssertSqlSafe(format!(
                "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {busy_ms};"
            )))
            .execute(&mut *conn)
            .await?;
        }
        Backend::Postgres => {
            if let Some(schema) = schema {
                // Safe to splice: PgSchema admits only [a-z0-9_].
                sqlx::raw_sql(AssertSqlSafe(format!(
                    "SET search_path TO {}",
                    schema.as_str()
                )))
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    conn.ping().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pragma(store: &Store, name: &str) -> i64 {
        let mut conn = store.acquire().await.unwrap();
        sqlx::query_scalar(AssertSqlSafe(format!("PRAGMA {name}")))
            .fetch_one(&mut *conn)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn sqlite_connections_are_durable_wal_with_foreign_keys() {
        let store = crate::testing::sqlite().await;
        // Check every pooled connection, not only the first.
        let conns: Vec<_> = futures_join_all(&store, 4).await;
        drop(conns);
        assert_eq!(pragma(&store, "synchronous").await, 2, "synchronous=FULL");
        assert_eq!(pragma(&store, "foreign_keys").await, 1);
        assert_eq!(pragma(&store, "busy_timeout").await, 5000);
        let mut conn = store.acquire().await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }

    /// Holds `n` connections at once so the pool opens that many.
    async fn futures_join_all(store: &Store, n: usize) -> Vec<PoolConnection<Any>> {
        let mut held = Vec::new();
        for _ in 0..n {
            held.push(store.acquire().await.unwrap());
        }
        for conn in &mut held {
            let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            assert_eq!(sync, 2);
        }
        held
    }

    #[test]
    fn pg_schema_rules() {
        let long = "a".repeat(64);
        let cases: [(&str, bool); 6] = [
            ("tg_test_1_ab", true),
            ("_x", true),
            ("1abc", false),
            ("a-b", false),
            ("a;drop", false),
            (&long, false),
        ];
        for (i, (name, ok)) in cases.iter().enumerate() {
            assert_eq!(PgSchema::new(name).is_ok(), *ok, "TC{} failed", i + 1);
        }
    }

    crate::backend_tests! {
        /// Placeholder rule: `$N` works on both backends, numbers may repeat and appear out
        /// of order.
        async fn dollar_placeholders_work_and_repeat(store) {
            let mut conn = store.acquire().await.unwrap();
            let row: (i64, String, i64) = sqlx::query_as("SELECT $2 + $2, $1, $2")
                .bind("text")
                .bind(21_i64)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            assert_eq!(row, (42, "text".to_owned(), 21));
        }
    }
}
