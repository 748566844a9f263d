//! Test harness (feature `testing`) for this crate and the crates built on it.
//!
//! - [`sqlite`]: a migrated store in a fresh temp dir (deleted with the last clone).
//! - [`postgres`]: a migrated store in a fresh schema `tg_test_<unix>_<random>` of the server
//!   at `TRADEGUARD_TEST_POSTGRES` (default [`DEFAULT_POSTGRES_URL`]); every pooled connection
//!   sets `search_path` to it, and the schema is dropped with the last clone of the store.
//! - When the server is absent: a `SKIPPED: postgres unavailable (...)` line on stderr and
//!   `None`, unless `TRADEGUARD_REQUIRE_SERVICES=1`, which turns absence into a panic.
//! - [`backend_tests!`](crate::backend_tests): one test body, run once per backend.
//!
//! ```ignore
//! // in another crate: [dev-dependencies] tradeguard-store = { workspace = true, features = ["testing"] }
//! tradeguard_store::backend_tests! {
//!     async fn meta_roundtrip(store) {
//!         let key = tradeguard_store::MetaKey::new("k").unwrap();
//!         store.meta_put(&key, "v").await.unwrap();
//!         assert_eq!(store.meta_get(&key).await.unwrap().as_deref(), Some("v"));
//!     }
//! }
//! // expands to tests `meta_roundtrip::sqlite` and `meta_roundtrip::postgres`.
//! ```

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{PgSchema, Store, StoreOptions};

/// PostgreSQL URL used when `TRADEGUARD_TEST_POSTGRES` is unset.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://root@127.0.0.1:5432/test";

/// Test schemas older than this are dropped by the next test run (left behind by a crash).
const STALE_SCHEMA_AGE: Duration = Duration::from_secs(3600);

/// How long to wait for a test service before declaring it unavailable.
pub const SERVICE_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// True when `TRADEGUARD_REQUIRE_SERVICES=1`: absent services fail tests instead of skipping.
pub fn require_services() -> bool {
    std::env::var("TRADEGUARD_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// Reports an absent service: panics under `TRADEGUARD_REQUIRE_SERVICES=1`, otherwise writes
/// `SKIPPED: <service> unavailable (<reason>)` to stderr, past the test harness's capture.
pub fn service_unavailable(service: &str, env_var: &str, reason: &str) {
    let test = std::thread::current().name().unwrap_or("?").to_owned();
    if require_services() {
        panic!(
            "{service} unavailable ({reason}) and TRADEGUARD_REQUIRE_SERVICES=1; start {service} or point {env_var} at it"
        );
    }
    let line = format!("SKIPPED: {service} unavailable ({reason}) in test {test}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Removes the password from a URL so it can be printed.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{masked}@{host}")
        }
        None => url.to_owned(),
    }
}

/// The PostgreSQL URL for tests.
pub fn postgres_url() -> String {
    std::env::var("TRADEGUARD_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into())
}

/// Redis URL used when `TRADEGUARD_TEST_REDIS` is unset.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// The Redis URL for tests.
pub fn redis_url() -> String {
    std::env::var("TRADEGUARD_TEST_REDIS").unwrap_or_else(|_| DEFAULT_REDIS_URL.into())
}

/// Redis caches under a fresh key prefix `tg_test:<unix>:<random>:` (keys expire by
/// themselves), or `None` (after a SKIPPED line) when the server is absent.
pub async fn redis() -> Option<crate::cache::RedisCaches> {
    redis_at(&redis_url()).await
}

/// [`redis`] for an explicit URL (e.g. another database number).
pub async fn redis_at(url: &str) -> Option<crate::cache::RedisCaches> {
    let mut rand = [0u8; 6];
    getrandom::fill(&mut rand).expect("OS random number generator failed");
    let prefix = format!("tg_test:{}:{}:", unix_secs(), hex::encode(rand));
    let connect = crate::cache::RedisCaches::connect(url, &prefix);
    let reason = match tokio::time::timeout(SERVICE_PROBE_TIMEOUT, connect).await {
        Ok(Ok(caches)) => return Some(caches),
        Ok(Err(e)) => e.to_string(),
        Err(_) => "connection timed out".into(),
    };
    let reason = format!("{reason}; at {}", redact_url(url));
    service_unavailable("redis", "TRADEGUARD_TEST_REDIS", &reason);
    None
}

/// A migrated SQLite store in a fresh temp dir. Panics if that fails (a broken test machine).
pub async fn sqlite() -> Store {
    let store = sqlite_unmigrated().await;
    store
        .migrate()
        .await
        .expect("migrations failed on a fresh SQLite database");
    store
}

/// A SQLite store in a fresh temp dir, with no migration applied.
pub async fn sqlite_unmigrated() -> Store {
    let dir = tempfile::tempdir().expect("cannot create a temp dir");
    let store = Store::open_sqlite(&dir.path().join("test.db"))
        .await
        .expect("cannot open SQLite in a temp dir");
    store.with_keepalive(Arc::new(dir))
}

/// A migrated PostgreSQL store in a fresh schema, or `None` (after a SKIPPED line) when the
/// server is absent.
pub async fn postgres() -> Option<Store> {
    let store = postgres_unmigrated().await?;
    store
        .migrate()
        .await
        .expect("migrations failed on a fresh PostgreSQL schema");
    Some(store)
}

/// A PostgreSQL store in a fresh, empty schema, or `None` when the server is absent.
pub async fn postgres_unmigrated() -> Option<Store> {
    let url = postgres_url();
    let admin = match tokio::time::timeout(SERVICE_PROBE_TIMEOUT, admin_store(&url)).await {
        Ok(Ok(admin)) => admin,
        Ok(Err(e)) => return skip_postgres(&url, &e.to_string()),
        Err(_) => return skip_postgres(&url, "connection timed out"),
    };
    drop_stale_schemas(&admin).await;
    let schema = new_schema_name();
    exec(&admin, &format!("CREATE SCHEMA {}", schema.as_str())).await;
    admin.close().await;
    let options = StoreOptions {
        max_connections: 4,
        pg_schema: Some(schema.clone()),
        ..StoreOptions::default()
    };
    let store = Store::connect_with(&url, options)
        .await
        .expect("PostgreSQL accepted one connection but not the test pool");
    Some(store.with_keepalive(Arc::new(SchemaDropper { url, schema })))
}

fn skip_postgres(url: &str, reason: &str) -> Option<Store> {
    let reason = format!("{reason}; at {}", redact_url(url));
    service_unavailable("postgres", "TRADEGUARD_TEST_POSTGRES", &reason);
    None
}

async fn admin_store(url: &str) -> crate::Result<Store> {
    let options = StoreOptions {
        max_connections: 1,
        acquire_timeout: SERVICE_PROBE_TIMEOUT,
        ..StoreOptions::default()
    };
    Store::connect_with(url, options).await
}

fn new_schema_name() -> PgSchema {
    let mut rand = [0u8; 6];
    getrandom::fill(&mut rand).expect("OS random number generator failed");
    let name = format!("tg_test_{}_{}", unix_secs(), hex::encode(rand));
    PgSchema::new(&name).expect("generated schema name is valid")
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn exec(store: &Store, sql: &str) {
    if let Err(e) = try_exec(store, sql).await {
        panic!("test schema setup failed: {e}");
    }
}

async fn try_exec(store: &Store, sql: &str) -> crate::Result<()> {
    let mut conn = store.acquire().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(|e| store.err(e))
}

/// Runs raw SQL (no binds) on `store`: for tests that must bypass the typed API, e.g. to
/// corrupt a row on purpose or to create a scratch table.
pub async fn execute(store: &Store, sql: &str) -> crate::Result<()> {
    try_exec(store, sql).await
}

/// [`execute`] inside a transaction (e.g. `SET LOCAL lock_timeout = '100ms'`).
pub async fn execute_in(tx: &mut crate::Tx, sql: &str) -> crate::Result<()> {
    let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(tx.conn())
        .await;
    done.map(drop).map_err(|e| tx.err(e))
}

/// Drops `tg_test_<unix>_*` schemas older than [`STALE_SCHEMA_AGE`] (left by crashed runs).
async fn drop_stale_schemas(admin: &Store) {
    let Ok(mut conn) = admin.acquire().await else {
        return;
    };
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'tg_test_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    drop(conn);
    let now = unix_secs();
    for name in rows {
        let created = name.split('_').nth(2).and_then(|s| s.parse::<u64>().ok());
        let stale = created.is_some_and(|t| now.saturating_sub(t) > STALE_SCHEMA_AGE.as_secs());
        if let (true, Ok(schema)) = (stale, PgSchema::new(&name)) {
            exec(
                admin,
                &format!("DROP SCHEMA IF EXISTS {} CASCADE", schema.as_str()),
            )
            .await;
        }
    }
}

/// Drops the test schema when the last clone of the test store goes away. Drop cannot await,
/// so it connects from a short-lived thread with its own runtime.
struct SchemaDropper {
    url: String,
    schema: PgSchema,
}

impl Drop for SchemaDropper {
    fn drop(&mut self) {
        let url = self.url.clone();
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema.as_str());
        let worker = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok(admin) = admin_store(&url).await {
                        // A transaction the test left open would block the DROP, and that
                        // transaction's rollback waits for the runtime this thread blocks.
                        let _ = try_exec(&admin, "SET lock_timeout = '2s'").await;
                        let _ = try_exec(&admin, &sql).await;
                        admin.close().await;
                    }
                });
            }
        });
        // A failure here leaves a uniquely named schema that the next run sweeps.
        let _ = worker.join();
    }
}

/// Runs one async test body against each backend: expands to a module `name` with tests
/// `name::sqlite` and `name::postgres` (the latter skips when PostgreSQL is absent). The body
/// sees the migrated [`Store`] under the given identifier. Needs `tokio` as a dev-dependency.
#[macro_export]
macro_rules! backend_tests {
    ($( $(#[$meta:meta])* async fn $name:ident($store:ident) $body:block )*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$meta])*
            #[tokio::test]
            async fn sqlite() {
                let $store: $crate::Store = $crate::testing::sqlite().await;
                $body
            }

            $(#[$meta])*
            #[tokio::test]
            async fn postgres() {
                let Some($store) = $crate::testing::postgres().await else {
                    return;
                };
                $body
            }
        }
    )*};
}
