//! Persistence for tradeguard: SQLite (default, one file in the data dir) or PostgreSQL (shared
//! by several gateway replicas) behind one [`Store`], with one set of migrations.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tradeguard_store::StoreError> {
//! use tradeguard_store::{MetaKey, Store};
//!
//! let store = Store::open_sqlite(std::path::Path::new("tradeguard-data/tradeguard.db")).await?;
//! store.migrate().await?;
//! let id = store.installation_id().await?;
//!
//! let mut tx = store.begin().await?;
//! tx.meta_put(&MetaKey::new("report.format")?, "1").await?;
//! tx.commit().await?; // dropping `tx` instead would roll back
//! # let _ = id; Ok(()) }
//! ```
//!
//! # Errors
//! [`StoreError::class`] says how to react: transient (retry), definitive (reject) or unknown
//! outcome (a COMMIT whose fate is unknown: read back before repeating anything).
//!
//! # Writing SQL (for the repository modules of this crate)
//! SQL lives in this crate; other crates call typed functions on [`Store`] and [`Tx`].
//! - One migration directory, `migrations/NNNN_name.sql`, run on both databases: write portable
//!   SQL. Types: `BIGINT` (integers, times as Unix milliseconds, flags as 0/1), `TEXT`
//!   (strings, decimals as their exact string), `BYTEA` (bytes). No `BOOLEAN`, `NUMERIC`,
//!   `TIMESTAMP`, `SERIAL` or `AUTOINCREMENT`: the `Any` driver maps only integers, floats,
//!   text and blobs, and key generation differs. Use explicit keys or sequence numbers.
//!   `BYTEA` gets NUMERIC affinity in SQLite, which stores blobs unchanged.
//! - Name constraints (`CONSTRAINT orders_pkey PRIMARY KEY (id)`): PostgreSQL reports that
//!   name in [`StoreError::Constraint`]. SQLite reports CHECK names, but for UNIQUE/NOT NULL
//!   only `table.column`.
//! - **Placeholders: always `$1`, `$2`, ... (numbered, a number may repeat).** They work on
//!   both backends through `Any`; `?` fails on PostgreSQL.
//! - Upserts: `INSERT ... ON CONFLICT (key) DO UPDATE SET v = excluded.v` works on both.
//! - Read columns with the crate's `RowDecoder`, never `Row::try_get`: sqlx's decode errors
//!   quote the stored value, the decoder reports table, column and key only.
//! - [`Tx`] on SQLite takes the write lock at `BEGIN`; keep transactions short and never hold
//!   one across a network call to an exchange.
//!
//! # Shared caches
//! [`cache`]: replay cache, rate limits (GCRA) and the halt-broadcast event bus, each in
//! memory (one process) or in Redis (all replicas).
//!
//! # Tests
//! The `testing` feature gives other crates temp-dir SQLite stores, per-test PostgreSQL
//! schemas, unique Redis key prefixes and [`backend_tests!`] to run one body on both SQL
//! backends (see `testing`).

pub mod audit;
pub mod cache;
pub mod equity;
mod error;
mod error_map;
pub mod fill_aggregates;
pub mod gateway;
mod meta;
mod migrate;
pub mod orders;
pub mod prices;
mod row;
mod snapshot;
mod store;
mod tx;
pub mod vault;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{ConstraintKind, ErrorClass, Result, StoreError};
pub use meta::MetaKey;
pub use store::{Backend, PgSchema, SQLITE_BUSY_TIMEOUT, Store, StoreOptions};
pub use tx::Tx;
