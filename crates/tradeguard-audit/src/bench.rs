//! `tradeguard bench audit`: the audit log's figures, measured in this process on a fresh
//! SQLite database in a temporary directory (WAL, `synchronous=FULL`: every commit is
//! durable).
//!
//! - durable appends per second: one caller appending one event at a time (one transaction
//!   each, committed before the next); many concurrent callers appending one event at a time
//!   (group commit: the events that arrive during a commit share the next one, each caller
//!   still waits for its own); and one caller appending batches of 100;
//! - a log of `entries` entries (default one million) built in batches, then at that size:
//!   inclusion-proof and consistency-proof generation from the stored nodes (mean over many
//!   random proofs, each verified), and full verification of the stored log and of its export.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_store::Store;

use crate::AuditError;
use crate::clock::SystemClock;
use crate::event::{AuditEvent, Redactor};
use crate::export::verify_export;
use crate::keys::LogSigner;
use crate::log::{AuditLog, consistency_proof, inclusion_proof, tree_head};
use crate::store_verify::verify_store;

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// Size of the large log (one million for the published figures).
    pub entries: u64,
    /// Seconds spent on each durable-append measurement.
    pub append_seconds: f64,
    /// Random proofs generated per kind at the large size.
    pub proofs: u32,
    /// Concurrent callers in the group-commit measurement.
    pub concurrency: usize,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            entries: 1_000_000,
            append_seconds: 3.0,
            proofs: 1_000,
            concurrency: 64,
        }
    }
}

/// A typical event: order submission with a redacted credential id.
fn event(i: u64) -> Result<AuditEvent, AuditError> {
    AuditEvent::of("order.submitted")?
        .field("profile", "momentum-btc")?
        .field("exchange", "binance")?
        .field("client_order_id", format!("tg-{i:012}"))?
        .field("symbol", "BTCUSDT")?
        .field("side", if i.is_multiple_of(2) { "buy" } else { "sell" })?
        .field("qty", "0.015")?
        .field("price", "64250.10")?
        .sensitive("credential_id", "cred-binance-main")
}

/// Runs the benchmark in a fresh temporary directory (removed afterwards).
pub async fn run(config: &BenchConfig) -> Result<Value, AuditError> {
    let dir = scratch_dir()?;
    let result = run_in(&dir, config).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn scratch_dir() -> Result<PathBuf, AuditError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "tradeguard-bench-audit-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

async fn open_log(path: &Path) -> Result<AuditLog, AuditError> {
    let store = Store::open_sqlite(path).await?;
    store.migrate().await?;
    let signer = LogSigner::new(
        "bench.tradeguard/audit",
        Ed25519SigningKey::generate().map_err(|_| AuditError::InvalidEvent("rng"))?,
    )?;
    let redactor =
        Redactor::new(SecretBytes::random(32).map_err(|_| AuditError::InvalidEvent("rng"))?)?;
    AuditLog::open(store, signer, redactor, Arc::new(SystemClock)).await
}

async fn run_in(dir: &Path, config: &BenchConfig) -> Result<Value, AuditError> {
    let budget = Duration::from_secs_f64(config.append_seconds.clamp(0.1, 60.0));
    let small = open_log(&dir.join("append.db")).await?;
    let single = appends(&small, budget, 1).await?;
    let commits_before = small.commits();
    let grouped = concurrent_appends(&small, budget, config.concurrency.max(1)).await?;
    let grouped_commits = small.commits() - commits_before;
    let batched = appends(&small, budget, 100).await?;
    small.store().close().await;

    let log = open_log(&dir.join("large.db")).await?;
    let build = build(&log, config.entries).await?;
    let cp = log.checkpoint().await?;
    let n = cp.unverified().size();
    let root = *cp.unverified().root();
    let samples = config.proofs.max(1);
    let start = Instant::now();
    let mut inclusion_len = 0;
    for i in 0..samples {
        let p = inclusion_proof(log.store(), pick(i, n), n).await?;
        p.verify(&root)?;
        inclusion_len = p.hashes.len();
    }
    let inclusion = (
        start.elapsed().as_secs_f64() / f64::from(samples),
        inclusion_len,
    );
    let heads = sample_heads(&log, n).await?;
    let start = Instant::now();
    let mut consistency_len = 0;
    for i in 0..samples {
        let (size1, root1) = heads[i as usize % heads.len()];
        let p = consistency_proof(log.store(), size1, n).await?;
        p.verify(&root1, &root)?;
        consistency_len = p.hashes.len();
    }
    let consistency = (
        start.elapsed().as_secs_f64() / f64::from(samples),
        consistency_len,
    );

    let keys = log.public_keys();
    let start = Instant::now();
    let verified = verify_store(log.store(), &keys)
        .await?
        .map_err(|f| AuditError::Corrupt(f.to_string()))?;
    let verify_store_s = start.elapsed().as_secs_f64();
    let mut export = Vec::new();
    crate::log::export_entries(log.store(), &mut export, &cp).await?;
    let start = Instant::now();
    verify_export(&export, &keys).map_err(|f| AuditError::Corrupt(f.to_string()))?;
    let verify_export_s = start.elapsed().as_secs_f64();

    Ok(json!({
        "bench": "audit",
        "database": "sqlite (WAL, synchronous=FULL), temporary directory",
        "appends": {
            "durable_entries_per_sec": round(single.0),
            "what": "one caller, one event per append; append returns after its transaction committed (fsync)",
            "measured_entries": single.1,
            "group_commit": {
                "durable_entries_per_sec": round(grouped.0),
                "concurrent_callers": config.concurrency.max(1),
                "measured_entries": grouped.1,
                "entries_per_transaction": round(grouped.1 as f64 / grouped_commits.max(1) as f64),
                "what": "each caller appends one event at a time and waits for its commit; events arriving during a commit share the next transaction",
            },
            "batched_100_entries_per_sec": round(batched.0),
        },
        "large_log": {
            "entries": n,
            "build_seconds": round(build.0),
            "build_entries_per_sec": round(n as f64 / build.0),
            "build_batch": build.1,
            "inclusion_proof": { "mean_us": round(inclusion.0 * 1e6), "hashes": inclusion.1, "samples": config.proofs, "what": "read O(log n) nodes in one query, assemble, verify" },
            "consistency_proof": { "mean_us": round(consistency.0 * 1e6), "hashes": consistency.1, "samples": config.proofs, "what": "random older size to the full size; read nodes, assemble, verify" },
            "full_verification": {
                "store_seconds": round(verify_store_s),
                "export_seconds": round(verify_export_s),
                "export_bytes": export.len(),
                "what": "read every entry, check canonical form, seq and prev links, rebuild the tree, compare every checkpoint root and (store) every stored node",
                "verified_entries": verified.entries,
            },
        },
    }))
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A deterministic spread of indices below `n`.
fn pick(i: u32, n: u64) -> u64 {
    (u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11) % n.max(1)
}

/// Appends for about `budget` in transactions of `batch` events: (entries/s, entries).
async fn appends(log: &AuditLog, budget: Duration, batch: u64) -> Result<(f64, u64), AuditError> {
    let events: Vec<AuditEvent> = (0..batch).map(event).collect::<Result<_, _>>()?;
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < budget {
        log.append_batch(&events).await?;
        n += batch;
    }
    Ok((n as f64 / start.elapsed().as_secs_f64(), n))
}

/// `callers` tasks each appending one event at a time for about `budget`: (entries/s,
/// entries).
async fn concurrent_appends(
    log: &AuditLog,
    budget: Duration,
    callers: usize,
) -> Result<(f64, u64), AuditError> {
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..callers as u64 {
        let log = log.clone();
        tasks.spawn(async move {
            let mut n = 0u64;
            while start.elapsed() < budget {
                log.append(&event(c * 1_000_000 + n)?).await?;
                n += 1;
            }
            Ok::<u64, AuditError>(n)
        });
    }
    let mut total = 0;
    while let Some(done) = tasks.join_next().await {
        total += done.map_err(|_| AuditError::Corrupt("a bench task panicked".into()))??;
    }
    Ok((total as f64 / start.elapsed().as_secs_f64(), total))
}

/// Builds a log of `entries` entries in durable batches: (seconds, batch size).
async fn build(log: &AuditLog, entries: u64) -> Result<(f64, u64), AuditError> {
    const BATCH: u64 = 5_000;
    let start = Instant::now();
    let mut done = 0;
    while done < entries {
        let k = BATCH.min(entries - done);
        let events: Vec<AuditEvent> = (done..done + k).map(event).collect::<Result<_, _>>()?;
        log.append_batch(&events).await?;
        done += k;
    }
    Ok((start.elapsed().as_secs_f64(), BATCH))
}

/// Tree heads at 64 spread sizes, for consistency proofs from them.
async fn sample_heads(
    log: &AuditLog,
    n: u64,
) -> Result<Vec<(u64, crate::merkle::Hash)>, AuditError> {
    let mut out = Vec::new();
    for i in 0..64u32 {
        let size = pick(i, n) + 1;
        out.push((size, tree_head(log.store(), size).await?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn small_run_reports_every_figure() {
        let cfg = BenchConfig {
            entries: 3_000,
            append_seconds: 0.1,
            proofs: 20,
            concurrency: 8,
        };
        let v = run(&cfg).await.unwrap();
        assert!(v["appends"]["durable_entries_per_sec"].as_f64().unwrap() > 0.0);
        assert!(
            v["appends"]["group_commit"]["entries_per_transaction"]
                .as_f64()
                .unwrap()
                >= 1.0
        );
        assert_eq!(v["large_log"]["entries"], 3_000);
        assert_eq!(
            v["large_log"]["full_verification"]["verified_entries"],
            3_000
        );
        assert!(
            v["large_log"]["inclusion_proof"]["mean_us"]
                .as_f64()
                .unwrap()
                > 0.0
        );
    }
}
