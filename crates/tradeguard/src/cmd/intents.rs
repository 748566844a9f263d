//! Sealed intents from the command line: `tradeguard bench intents` (and, with the client,
//! `tradeguard intent send`).

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};
use tradeguard_crypto::envelope::{self, Envelope, Info, RecipientKey};
use tradeguard_crypto::hpke::{Aead, Kem, PrivateKey};
use tradeguard_crypto::intent::pad::unpad;
use tradeguard_crypto::intent::{
    IntentPayload, IntentSealer, KeyPool, OpenPolicy, SignedIntent, open_intent,
};
use tradeguard_crypto::sign::Ed25519SigningKey;

use aws_lc_rs::agreement::{self, PrivateKey as AgreementKey, UnparsedPublicKey, X25519};

use crate::cmd::bench::rate;

/// A limit order of realistic size, the content of every measured intent.
fn sample_order(i: u64) -> Value {
    json!({"venue": "binance", "symbol": "BTCUSDT", "side": "buy", "type": "limit",
           "qty": "0.01250000", "price": "97123.45", "time_in_force": "GTC",
           "client_order_id": format!("tg-bench-{i:012}")})
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Where the Python peer benchmark is and how to run it.
pub struct Peer {
    /// The Python interpreter (with pyhpke installed).
    pub python: PathBuf,
    /// `crates/tradeguard-crypto/tests/interop/pyhpke_bench.py`.
    pub script: PathBuf,
}

/// Rounds each measurement is split into. Operations are measured round-robin, one slice
/// each per round, and the best slice counts: on a shared, loaded host every operation then
/// sees the same conditions, and the ratios compare like with like.
const ROUNDS: u32 = 10;

/// One measured operation: returns false when it cannot run again (its key pool is spent).
type Op<'a> = (&'static str, Box<dyn FnMut() -> bool + 'a>);

/// Runs `ops` round-robin for `budget` each in total and returns each one's best rate.
fn interleaved(budget: Duration, ops: &mut [Op<'_>]) -> Vec<f64> {
    let slice = budget / ROUNDS;
    let mut best = vec![0.0f64; ops.len()];
    for _ in 0..ROUNDS {
        for (i, (_, op)) in ops.iter_mut().enumerate() {
            let start = Instant::now();
            let mut n = 0u64;
            while start.elapsed() < slice && op() {
                n += 1;
            }
            best[i] = best[i].max(n as f64 / start.elapsed().as_secs_f64());
        }
    }
    best
}

/// `tradeguard bench intents`: sealed and opened intents per second on one core, beside raw
/// aws-lc-rs X25519 (and the Python peer, when given), as JSON.
pub fn bench_intents(budget: Duration, peer: Option<&Peer>) -> anyhow::Result<Value> {
    let gw = RecipientKey::generate_with_xwing()?;
    let principal = Ed25519SigningKey::generate()?;
    let policy = OpenPolicy::default();
    let signed = sign(&principal, 0, false)?;
    let sealer = IntentSealer::new(gw.public_key(), Aead::Aes256Gcm, &policy.sizes);
    let packet = sealer.seal(&signed)?.to_json();
    // A pool large enough that it never falls to its refill mark while timed, so the pooled
    // seal measures the hot path alone (the key generations were paid before, off the clock).
    let pooled_max = (rate(budget / 20, || {
        black_box(sealer.seal(&signed).ok());
    }) * budget.as_secs_f64()
        * 3.0) as u64
        + 64;
    let pool = Arc::new(KeyPool::start(2 * pooled_max as usize + 2)?);
    let pooled = IntentSealer::new(gw.public_key(), Aead::Aes256Gcm, &policy.sizes)
        .with_pool(Arc::clone(&pool));
    let mut pooled_left = pooled_max;
    let peer_key = AgreementKey::generate(&X25519).map_err(|_| anyhow::anyhow!("keygen"))?;
    let peer_pub = peer_key
        .compute_public_key()
        .map_err(|_| anyhow::anyhow!("keygen"))?;
    let peer_pub = peer_pub.as_ref().to_vec();
    let t = now();
    let mut ops: Vec<Op<'_>> = vec![
        (
            "keygen",
            Box::new(|| {
                let k = AgreementKey::generate(&X25519).expect("keygen");
                black_box(k.compute_public_key().is_ok())
            }),
        ),
        (
            "dh",
            Box::new(|| {
                let pk = UnparsedPublicKey::new(&X25519, &peer_pub);
                black_box(agreement::agree(&peer_key, pk, (), |s| Ok(s[0])).is_ok())
            }),
        ),
        (
            "sign",
            Box::new(|| black_box(sign(&principal, 1, false).is_ok())),
        ),
        (
            "seal",
            Box::new(|| black_box(sealer.seal(&signed).map(|e| e.to_json()).is_ok())),
        ),
        (
            "seal_pooled",
            Box::new(|| {
                if pooled_left == 0 {
                    return false;
                }
                pooled_left -= 1;
                black_box(pooled.seal(&signed).map(|e| e.to_json()).is_ok())
            }),
        ),
        (
            "open",
            Box::new(|| black_box(open_padded(&gw, &policy, &packet).is_ok())),
        ),
        (
            "open_parsed",
            Box::new(|| black_box(open_without_signature(&gw, &policy, &packet).is_ok())),
        ),
        (
            "open_verified",
            Box::new(|| black_box(open_intent(&gw, &policy, &packet, t).is_ok())),
        ),
        (
            "with_dummies",
            Box::new(|| {
                for k in 0..3 {
                    let s = sign(&principal, k, k > 0).expect("sign");
                    black_box(sealer.seal(&s).map(|e| e.to_json()).is_ok());
                }
                true
            }),
        ),
    ];
    let r = interleaved(budget, &mut ops);
    drop(ops);
    anyhow::ensure!(pool.stats().misses == 0, "the key pool ran dry while timed");
    let [
        keygen,
        dh,
        sign_rate,
        seal,
        seal_pooled,
        open,
        open_parsed,
        open_verified,
        with_dummies,
    ] = r[..]
    else {
        anyhow::bail!("measurement count");
    };
    let keygen_plus_dh = 1.0 / (1.0 / keygen + 1.0 / dh);
    let mut report = json!({
        "bench": "intents",
        "threads": 1,
        "seconds_per_measurement": budget.as_secs_f64(),
        "method": format!("operations measured round-robin in {ROUNDS} slices each; the best \
                           slice counts (a loaded, shared host slows all of them alike)"),
        "suite": "X25519-HKDF-SHA256, HKDF-SHA256, AES-256-GCM",
        "packet_size": policy.sizes.packet(Kem::X25519HkdfSha256),
        "envelope_json_bytes": packet.len(),
        "what": {
            "seal": "the signed payload's canonical bytes (kept from signing) padded to the \
                     packet size + HPKE base-mode seal with info 'tradeguard/v1 intent' + \
                     envelope JSON, with a fresh ephemeral key (key generation + DH on this \
                     core)",
            "seal_pooled": "the same with an ephemeral key from a pre-filled KeyPool: one DH \
                            on this core; the key generation was paid earlier by the pool's \
                            thread, and no refill ran while timed",
            "open": "strict envelope parse + size check + HPKE open + unpad: the payload \
                     bytes out of the packet",
            "open_parsed": "open + strict payload parse (no signature check)",
            "open_verified": "open_intent: open + Ed25519 verification of the principal's \
                              signature + time window (what the gateway runs)",
            "real_intents_with_2_dummies": "client cost of one real intent: 3 payloads built, \
                                            signed, padded and sealed with fresh keys",
        },
        "raw_aws_lc_rs_x25519": {
            "keygens_per_sec": round(keygen),
            "dh_per_sec": round(dh),
            "keygen_plus_dh_per_sec": round(keygen_plus_dh),
        },
        "sign_payloads_per_sec": round(sign_rate),
        "seals_per_sec": round(seal),
        "seals_pooled_per_sec": round(seal_pooled),
        "opens_per_sec": round(open),
        "opens_parsed_per_sec": round(open_parsed),
        "opens_verified_per_sec": round(open_verified),
        "real_intents_with_2_dummies_per_sec": round(with_dummies),
        "ratio": round(seal / keygen_plus_dh),
        "pooled_ratio": round(seal_pooled / dh),
        "open_ratio": round(open / dh),
        "open_parsed_ratio": round(open_parsed / dh),
        "ratio_definition": "ratio = seals_per_sec / keygen_plus_dh_per_sec (a fresh-key seal \
                             against what one key generation plus one DH allow); pooled_ratio = \
                             seals_pooled_per_sec / dh_per_sec (the pool's hot path against one \
                             DH); open_ratio = opens_per_sec / dh_per_sec; open_parsed_ratio = \
                             opens_parsed_per_sec / dh_per_sec. Goal: >= 0.8",
        "xwing": xwing_rates(budget, &gw, &policy, &signed)?,
    });
    if let Some(peer) = peer {
        let theirs = run_peer(peer, budget)?;
        report["peer_ours_over_theirs"] = compare(&report, &theirs);
        report["peer"] = theirs;
    }
    Ok(report)
}

fn sign(key: &Ed25519SigningKey, i: u64, dummy: bool) -> anyhow::Result<SignedIntent> {
    let p = IntentPayload::new(sample_order(i), &key.verifying_key(), now(), dummy)?;
    Ok(p.sign(key)?)
}

/// Envelope parse, size check, HPKE open and unpad: the payload bytes out of a packet.
fn open_padded(gw: &RecipientKey, policy: &OpenPolicy, json: &str) -> anyhow::Result<Vec<u8>> {
    let env = Envelope::from_json(json)?;
    let kem = env.suite.kem;
    anyhow::ensure!(env.enc.len() + env.ct.len() == policy.sizes.packet(kem));
    let opened = envelope::open(gw, Info::Intent, &env)?;
    Ok(unpad(opened.expose_secret(), policy.sizes.padded_len(kem))?.to_vec())
}

/// [`open_padded`] and the strict payload parse (no signature check).
fn open_without_signature(
    gw: &RecipientKey,
    policy: &OpenPolicy,
    json: &str,
) -> anyhow::Result<SignedIntent> {
    Ok(SignedIntent::parse(&open_padded(gw, policy, json)?)?)
}

fn xwing_rates(
    budget: Duration,
    gw: &RecipientKey,
    policy: &OpenPolicy,
    signed: &SignedIntent,
) -> anyhow::Result<Value> {
    let pk = gw.xwing_public_key().context("X-Wing key")?;
    let sealer = IntentSealer::new(pk, Aead::Aes256Gcm, &policy.sizes);
    let packet = sealer.seal(signed)?.to_json();
    let seal = rate(budget, || {
        black_box(sealer.seal(signed).map(|e| e.to_json()).ok());
    });
    let open = rate(budget, || {
        black_box(open_padded(gw, policy, &packet).ok());
    });
    Ok(json!({
        "packet_size": policy.sizes.packet(Kem::XWing),
        "envelope_json_bytes": packet.len(),
        "seals_per_sec": round(seal),
        "opens_per_sec": round(open),
    }))
}

/// Runs the Python peer and checks that its sample packet opens here (same protocol).
fn run_peer(peer: &Peer, budget: Duration) -> anyhow::Result<Value> {
    let out = Command::new(&peer.python)
        .arg(&peer.script)
        .arg("--seconds")
        .arg(budget.as_secs_f64().to_string())
        .output()
        .with_context(|| format!("running {}", peer.python.display()))?;
    anyhow::ensure!(
        out.status.success(),
        "the Python peer failed: {}",
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("")
    );
    let mut theirs: Value = serde_json::from_slice(&out.stdout).context("peer JSON")?;
    let sample = theirs
        .as_object_mut()
        .and_then(|o| o.remove("sample"))
        .context("the peer printed no sample packet")?;
    let sk =
        tradeguard_crypto::b64::decode(sample["recipient_private_key"].as_str().unwrap_or(""))?;
    let gw = RecipientKey::new(PrivateKey::from_bytes(Kem::X25519HkdfSha256, &sk)?, None)?;
    let packet = sample["packet"].as_str().context("sample packet")?;
    let opened = open_intent(&gw, &OpenPolicy::default(), packet, now())
        .context("the peer's sample intent does not open here: not the same protocol")?;
    theirs["sample_packet_opens_here"] = json!(!opened.intent.payload().is_dummy());
    Ok(theirs)
}

fn compare(ours: &Value, theirs: &Value) -> Value {
    let ratio = |a: &str, b: &str| match (ours[a].as_f64(), theirs[b].as_f64()) {
        (Some(x), Some(y)) if y > 0.0 => json!(round(x / y)),
        _ => Value::Null,
    };
    json!({
        "seals_per_sec": ratio("seals_per_sec", "seals_per_sec"),
        "opens_per_sec": ratio("opens_per_sec", "opens_per_sec"),
        "opens_parsed_per_sec": ratio("opens_parsed_per_sec", "opens_parsed_per_sec"),
        "opens_verified_per_sec": ratio("opens_verified_per_sec", "opens_verified_per_sec"),
        "real_intents_with_2_dummies_per_sec":
            ratio("real_intents_with_2_dummies_per_sec", "real_intents_with_2_dummies_per_sec"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_report_has_every_figure() {
        let r = bench_intents(Duration::from_millis(20), None).unwrap();
        for key in [
            "seals_per_sec",
            "seals_pooled_per_sec",
            "opens_per_sec",
            "opens_parsed_per_sec",
            "opens_verified_per_sec",
            "real_intents_with_2_dummies_per_sec",
            "ratio",
            "pooled_ratio",
            "open_ratio",
            "open_parsed_ratio",
        ] {
            assert!(
                r[key].as_f64().is_some_and(|x| x > 0.0),
                "{key}: {}",
                r[key]
            );
        }
        assert!(r["raw_aws_lc_rs_x25519"]["dh_per_sec"].as_f64().unwrap() > 0.0);
        assert_eq!(r["packet_size"], 1024);
        assert_eq!(r["xwing"]["packet_size"], 2048);
    }

    #[test]
    fn peer_comparison_divides_matching_figures() {
        let ours = json!({"seals_per_sec": 30.0, "opens_per_sec": 10.0});
        let theirs = json!({"seals_per_sec": 10.0, "opens_per_sec": 0.0});
        let c = compare(&ours, &theirs);
        assert_eq!(c["seals_per_sec"], 3.0);
        assert!(c["opens_per_sec"].is_null(), "no division by zero");
    }
}
