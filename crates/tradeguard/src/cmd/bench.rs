//! `tradeguard bench <area>`: benchmark figures as JSON, measured in this process.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_lc_rs::agreement::{self, PrivateKey, UnparsedPublicKey, X25519};
use clap::{Args, Subcommand};
use serde_json::json;
use tradeguard_crypto::envelope::{self, Info, RecipientKey};
use tradeguard_crypto::hpke::{Aead, Kdf, Kem, Suite};

/// Arguments of `tradeguard bench`.
#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    area: BenchArea,
    /// Seconds to spend on each measured operation.
    #[arg(long, default_value_t = 1.0, global = true)]
    seconds: f64,
}

/// What to measure.
#[derive(Subcommand)]
enum BenchArea {
    /// Envelope seals and opens per second per suite (one core), beside raw aws-lc-rs X25519.
    Crypto,
    /// Pre-trade checks and rebalancing plans per second (50-asset portfolio, one thread).
    Risk,
    /// Signed exchange requests per second per exchange and key type (signing only, no
    /// network, one thread).
    Exchange,
    /// The audit log on SQLite (WAL, synchronous=FULL) in a temporary directory: durable
    /// appends per second (one caller, 64 concurrent callers with group commit, batches of
    /// 100; `--seconds` each), inclusion- and consistency-proof time and full verification
    /// time at `--entries` entries.
    Audit {
        /// Size of the large log.
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
    },
    /// The gateway on loopback (plain HTTP, scratch SQLite): signed requests per second
    /// through the full authentication path beside a bare endpoint that verifies one Ed25519
    /// signature, on the same server and cores in the same run; their ratio (goal: at least
    /// 0.7) and p50/p99 latencies.
    Gateway {
        /// Requests per measurement.
        #[arg(long, default_value_t = 20_000)]
        requests: usize,
        /// Concurrent client connections.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
    /// Sealed intents sealed and opened per second (one core), beside raw aws-lc-rs X25519.
    Intents {
        /// Also run the Python peer (pyhpke) with this interpreter, in the same run.
        #[arg(long, requires = "peer_script")]
        peer_python: Option<std::path::PathBuf>,
        /// The peer script: crates/tradeguard-crypto/tests/interop/pyhpke_bench.py.
        #[arg(long, requires = "peer_python")]
        peer_script: Option<std::path::PathBuf>,
    },
}

/// Runs the benchmark and prints its JSON.
pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let budget = Duration::from_secs_f64(args.seconds.clamp(0.05, 60.0));
    let report = match args.area {
        BenchArea::Crypto => crypto(budget)?,
        BenchArea::Risk => crate::cmd::risk::bench_risk(budget)?,
        BenchArea::Exchange => tradeguard_exchange::bench::signing_rates_for(budget),
        BenchArea::Audit { entries } => crate::cmd::audit::bench(budget, entries)?,
        BenchArea::Gateway {
            requests,
            concurrency,
        } => gateway(requests, concurrency)?,
        BenchArea::Intents {
            peer_python,
            peer_script,
        } => {
            let peer = peer_python
                .zip(peer_script)
                .map(|(python, script)| crate::cmd::intents::Peer { python, script });
            crate::cmd::intents::bench_intents(budget, peer.as_ref())?
        }
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// `tradeguard bench gateway`: [`tradeguard_gateway::bench::run_scratch`] on a multi-threaded
/// runtime (one worker per core; server and client share them).
fn gateway(requests: usize, concurrency: usize) -> anyhow::Result<serde_json::Value> {
    let opts = tradeguard_gateway::bench::BenchOptions {
        requests,
        concurrency,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime
        .block_on(tradeguard_gateway::bench::run_scratch(opts))
        .map_err(|e| anyhow::anyhow!("gateway benchmark failed: {e}"))?;
    Ok(serde_json::to_value(report)?)
}

/// Calls `op` repeatedly for about `budget` and returns operations per second.
pub fn rate(budget: Duration, mut op: impl FnMut()) -> f64 {
    for _ in 0..16 {
        op(); // warm-up
    }
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed() < budget {
        for _ in 0..32 {
            op();
        }
        n += 32;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A credential of realistic size (about 200 bytes), sealed in every measurement.
const CREDENTIAL: &[u8] = br#"{"exchange":"binance","api_key":"vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A","api_secret":"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j","passphrase":null,"label":"main"}"#;

fn crypto(budget: Duration) -> anyhow::Result<serde_json::Value> {
    let recipient = RecipientKey::generate_with_xwing()?;
    let raw = raw_x25519(budget)?;
    let allowed = 1.0 / (1.0 / raw.0 + 1.0 / raw.1);
    let mut suites = Vec::new();
    for kem in [Kem::X25519HkdfSha256, Kem::XWing] {
        for aead in [Aead::Aes256Gcm, Aead::ChaCha20Poly1305] {
            let suite = Suite {
                kem,
                kdf: Kdf::HkdfSha256,
                aead,
            };
            let pk = match kem {
                Kem::X25519HkdfSha256 => recipient.public_key(),
                Kem::XWing => recipient.xwing_public_key().expect("generated with X-Wing"),
            };
            let sample = envelope::seal(&pk, suite, Info::Credential, CREDENTIAL)?.to_json();
            let seal = rate(budget, || {
                let env = envelope::seal(&pk, suite, Info::Credential, CREDENTIAL);
                black_box(env.map(|e| e.to_json()).ok());
            });
            let open = rate(budget, || {
                black_box(envelope::open_json(&recipient, Info::Credential, &sample).ok());
            });
            let mut entry = json!({
                "kem": kem.name(), "kdf": "HKDF-SHA256", "aead": aead.name(),
                "envelope_bytes": sample.len(),
                "seals_per_sec": round(seal), "opens_per_sec": round(open),
            });
            if kem == Kem::X25519HkdfSha256 {
                entry["ratio"] = json!(round(seal / allowed));
                entry["open_ratio"] = json!(round(open / raw.1));
            }
            suites.push(entry);
        }
    }
    Ok(json!({
        "bench": "crypto",
        "threads": 1,
        "seconds_per_measurement": budget.as_secs_f64(),
        "plaintext_bytes": CREDENTIAL.len(),
        "what": "seal = fresh ephemeral key + HPKE base-mode seal + JSON encoding; \
                 open = strict JSON parse + HPKE open",
        "raw_aws_lc_rs_x25519": {
            "keygens_per_sec": round(raw.0),
            "dh_per_sec": round(raw.1),
            "keygen_plus_dh_per_sec": round(allowed),
        },
        "ratio_definition": "seals_per_sec / keygen_plus_dh_per_sec (X25519 suites); \
                             open_ratio = opens_per_sec / dh_per_sec",
        "suites": suites,
    }))
}

/// Raw aws-lc-rs X25519: (key generations per second, Diffie-Hellmans per second).
fn raw_x25519(budget: Duration) -> anyhow::Result<(f64, f64)> {
    let keygen = rate(budget, || {
        let k = PrivateKey::generate(&X25519).expect("keygen");
        black_box(k.compute_public_key().expect("public key"));
    });
    let sk = PrivateKey::generate(&X25519).map_err(|_| anyhow::anyhow!("keygen failed"))?;
    let peer = PrivateKey::generate(&X25519)
        .and_then(|k| k.compute_public_key())
        .map_err(|_| anyhow::anyhow!("keygen failed"))?;
    let peer = peer.as_ref().to_vec();
    let dh = rate(budget, || {
        let out = agreement::agree(
            &sk,
            UnparsedPublicKey::new(&X25519, &peer),
            (),
            |s| Ok(s[0]),
        );
        black_box(out.ok());
    });
    Ok((keygen, dh))
}
