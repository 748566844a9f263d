//! `tradeguard bench gateway` figures: signed requests per second through the full
//! authentication path (signature, digest, window, nonce, principal, rate limit, scope) over
//! loopback, and, on the same server and cores in the same run, a bare endpoint that only
//! verifies one Ed25519 signature per request; their `ratio` and p50/p99 latencies (after an
//! untimed warm-up of both, measured in alternating slices so that other load on the machine
//! weighs on both alike). Plain HTTP on loopback, so both sides measure the same transport
//! and TLS cost does not dilute the comparison. The client signs on the same cores in both
//! runs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde::Serialize;
use tradeguard_crypto::did::encode_ed25519_did;
use tradeguard_crypto::envelope::RecipientKey;
use tradeguard_crypto::sign::{Ed25519SigningKey, Ed25519VerifyingKey};
use tradeguard_httpsig::SigningKey;
use tradeguard_store::Store;

use crate::audit::MemoryAudit;
use crate::clock::{Clock, SystemClock};
use crate::config::GatewayConfig;
use crate::keys::GatewayKeys;
use crate::principal::PrincipalRecord;
use crate::scope::{Scope, ScopeSet};
use crate::state::GatewayBuilder;
use crate::tls::{Handle, Transport};

/// How hard to drive the server.
#[derive(Debug, Clone, Copy)]
pub struct BenchOptions {
    /// Requests per measurement.
    pub requests: usize,
    /// Concurrent client connections.
    pub concurrency: usize,
}

/// The figures, printed as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Requests per measurement.
    pub requests: usize,
    /// Concurrent connections.
    pub concurrency: usize,
    /// Signed requests per second through the full authentication path.
    pub signed_rps: f64,
    /// Requests per second on the bare one-signature endpoint.
    pub bare_rps: f64,
    /// `signed_rps / bare_rps` (goal: at least 0.7).
    pub ratio: f64,
    /// Latency percentiles, microseconds.
    pub signed_p50_us: u64,
    /// 99th percentile, signed path.
    pub signed_p99_us: u64,
    /// 50th percentile, bare endpoint.
    pub bare_p50_us: u64,
    /// 99th percentile, bare endpoint.
    pub bare_p99_us: u64,
}

/// [`run`] on a scratch SQLite database in a new directory under the system temp dir, removed
/// afterwards (what `tradeguard bench gateway` runs).
pub async fn run_scratch(opts: BenchOptions) -> Result<BenchReport, String> {
    let tag = tradeguard_crypto::random::array::<8>().map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("tradeguard-bench-{}", hex::encode(tag)));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let result = async {
        let store = Store::open_sqlite(&dir.join("bench.db"))
            .await
            .map_err(|e| e.to_string())?;
        store.migrate().await.map_err(|e| e.to_string())?;
        run(store, opts).await
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Runs both measurements against a gateway on `store` (a scratch database), on loopback.
pub async fn run(store: Store, opts: BenchOptions) -> Result<BenchReport, String> {
    let key = Arc::new(Ed25519SigningKey::generate().map_err(|e| e.to_string())?);
    let did = encode_ed25519_did(&key.verifying_key());
    let config = GatewayConfig {
        rate_per_second: 1_000_000,
        rate_burst: 1_000_000,
        ..GatewayConfig::default()
    };
    let rk = RecipientKey::generate_x25519().map_err(|e| e.to_string())?;
    let gw_keys = GatewayKeys::new(
        vec![rk.public_key()],
        Arc::new(Ed25519SigningKey::generate().map_err(|e| e.to_string())?),
    );
    let state = GatewayBuilder::new(store, gw_keys, Arc::new(MemoryAudit::default()))
        .config(config)
        .build()
        .await
        .map_err(|e| e.to_string())?;
    let p = PrincipalRecord::ed25519(&did, ScopeSet::of(&[Scope::Read]), "bench")
        .map_err(|e| e.to_string())?;
    state
        .directory
        .put(&p, SystemClock.now_ms())
        .await
        .map_err(|e| e.to_string())?;
    let vk = key.verifying_key();
    let bare = Router::new().route(
        "/bench/bare",
        post(move |h: HeaderMap, body: axum::body::Bytes| bare_verify(vk, h, body)),
    );
    let app = crate::api::router(state).merge(bare);
    let handle = Handle::new();
    let server = tokio::spawn(crate::tls::serve(
        app,
        "127.0.0.1:0".parse().map_err(|_| "addr")?,
        Transport::DangerousPlainHttp,
        handle.clone(),
    ));
    let addr = handle.listening().await.ok_or("server did not bind")?;
    let signed_kind = Kind::Signed {
        key: key.clone(),
        did: Arc::new(did),
    };
    let bare_kind = Kind::Bare { key };
    // Untimed warm-up of both paths (connections, allocator, caches), so neither measurement
    // pays the start-up cost the other does not.
    let warm = BenchOptions {
        requests: (opts.requests / 10).clamp(opts.concurrency.max(1), 2_000),
        concurrency: opts.concurrency,
    };
    drive(addr, warm, signed_kind.clone()).await?;
    drive(addr, warm, bare_kind.clone()).await?;
    // Alternating slices: load from anything else on the machine falls on both alike.
    let slice = BenchOptions {
        requests: opts.requests.div_ceil(SLICES).max(opts.concurrency.max(1)),
        concurrency: opts.concurrency,
    };
    let (mut signed, mut bare) = (Run::default(), Run::default());
    for _ in 0..SLICES {
        signed.add(drive(addr, slice, signed_kind.clone()).await?);
        bare.add(drive(addr, slice, bare_kind.clone()).await?);
    }
    handle.graceful_shutdown(Some(Duration::from_secs(1)));
    let _ = server.await;
    Ok(BenchReport {
        requests: opts.requests,
        concurrency: opts.concurrency,
        signed_rps: signed.rps(),
        bare_rps: bare.rps(),
        ratio: if bare.rps() > 0.0 {
            signed.rps() / bare.rps()
        } else {
            0.0
        },
        signed_p50_us: signed.pct(0.5),
        signed_p99_us: signed.pct(0.99),
        bare_p50_us: bare.pct(0.5),
        bare_p99_us: bare.pct(0.99),
    })
}

async fn bare_verify(
    vk: Ed25519VerifyingKey,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let sig = headers
        .get("x-signature")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| tradeguard_crypto::b64::decode(s).ok());
    match sig {
        Some(sig) if vk.verify(&body, &sig).is_ok() => StatusCode::OK,
        _ => StatusCode::UNAUTHORIZED,
    }
}

#[derive(Clone)]
enum Kind {
    Signed {
        key: Arc<Ed25519SigningKey>,
        did: Arc<String>,
    },
    Bare {
        key: Arc<Ed25519SigningKey>,
    },
}

/// Measurements are taken in this many alternating slices per path.
const SLICES: usize = 10;

/// Latencies (microseconds, sorted by [`Run::pct`]) and the time they took.
#[derive(Default)]
struct Run {
    lat: Vec<u64>,
    secs: f64,
}

impl Run {
    fn add(&mut self, other: Run) {
        self.lat.extend(other.lat);
        self.secs += other.secs;
    }

    fn rps(&self) -> f64 {
        if self.secs > 0.0 {
            self.lat.len() as f64 / self.secs
        } else {
            0.0
        }
    }

    fn pct(&mut self, p: f64) -> u64 {
        self.lat.sort_unstable();
        let i = ((self.lat.len() as f64 - 1.0) * p) as usize;
        self.lat.get(i).copied().unwrap_or(0)
    }
}

static NONCE: AtomicU64 = AtomicU64::new(0);

fn request(
    client: &reqwest::Client,
    addr: SocketAddr,
    kind: &Kind,
) -> Result<reqwest::RequestBuilder, String> {
    let n = NONCE.fetch_add(1, Ordering::Relaxed);
    let authority = addr.to_string();
    match kind {
        Kind::Signed { key, did } => {
            let unsigned = crate::client::Unsigned {
                method: axum::http::Method::GET,
                authority: &authority,
                path: "/v1/state",
                query: None,
                body: None,
            };
            let nonce = format!("bench-{n:016}");
            let fresh = crate::client::Freshness {
                keyid: did,
                created: u64::try_from(SystemClock.now_secs()).unwrap_or(0),
                nonce: &nonce,
            };
            let headers =
                crate::client::signed_headers(&unsigned, &SigningKey::Ed25519(key), &fresh)
                    .map_err(|e| e.to_string())?;
            Ok(client
                .get(format!("http://{authority}/v1/state"))
                .headers(headers))
        }
        Kind::Bare { key } => {
            let body = format!("bench-{n:016}");
            let sig = tradeguard_crypto::b64::encode(&key.sign(body.as_bytes()));
            Ok(client
                .post(format!("http://{authority}/bench/bare"))
                .header("x-signature", sig)
                .body(body))
        }
    }
}

async fn drive(addr: SocketAddr, opts: BenchOptions, kind: Kind) -> Result<Run, String> {
    let client = reqwest::Client::builder()
        .build()
        .map_err(|e| e.to_string())?;
    let per_task = opts.requests.div_ceil(opts.concurrency.max(1));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..opts.concurrency.max(1) {
        let (client, kind) = (client.clone(), kind.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_task);
            for _ in 0..per_task {
                let t = Instant::now();
                let resp = request(&client, addr, &kind)?
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !resp.status().is_success() {
                    return Err(format!("bench request refused with {}", resp.status()));
                }
                lat.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
            }
            Ok::<_, String>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())??);
    }
    Ok(Run {
        lat: all,
        secs: started.elapsed().as_secs_f64(),
    })
}
