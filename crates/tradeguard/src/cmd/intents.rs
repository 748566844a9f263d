//! Sealed intents from the command line: `tradeguard intent send|status` (through
//! `tradeguard_client::intent`) and `tradeguard bench intents`.
//!
//! `intent send` seals the order (JSON, from `--order`, `@FILE` or `-` for stdin) with the
//! principal's key, sends it with `--dummies` dummies (default 2) in a random order, and prints
//! the routing id. With `--constant-rate-ms T` it sends one packet every T ms for `--ticks`
//! ticks instead: the order on the first, dummies on the others. `intent status ID...` asks for
//! up to 8 intents inside a sealed query. The routing key (32 bytes, base64url, from the
//! operator) comes from `--routing-key FILE` or `TRADEGUARD_ROUTING_KEY`; without it the gateway
//! still returns each routing id in its sealed answer. The operator gets a principal's key
//! with `intent routing-key --principal DID` (offline on the data dir, with the passphrase).

use std::hint::black_box;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{Value, json};
use tradeguard_client::intent::{IntentClient, IntentOptions, IntentQueue, IntentSendError};
use tradeguard_client::{ClientConfig, ClientError, PrincipalKey, Trust};
use tradeguard_crypto::envelope::{self, Envelope, Info, RecipientKey};
use tradeguard_crypto::hpke::{Aead, Kem, PrivateKey};
use tradeguard_crypto::intent::pad::unpad;
use tradeguard_crypto::intent::{
    IntentPayload, IntentSealer, KeyPool, OpenPolicy, SignedIntent, open_intent,
};
use tradeguard_crypto::intent::{RoutingId, RoutingKey};
use tradeguard_crypto::sign::Ed25519SigningKey;

use aws_lc_rs::agreement::{self, PrivateKey as AgreementKey, UnparsedPublicKey, X25519};

use crate::cmd::bench::rate;
use crate::cmd::client::{Conn, GATEWAY_CERT_FILE};

/// `tradeguard intent ...`.
#[derive(clap::Args, Debug)]
pub struct IntentArgs {
    #[command(subcommand)]
    cmd: IntentCmd,
    #[command(flatten)]
    conn: Conn,
    /// The routing key this principal shares with the gateway (a file holding it as
    /// base64url).
    #[arg(
        long,
        global = true,
        env = "TRADEGUARD_ROUTING_KEY",
        value_name = "FILE|KEY"
    )]
    routing_key: Option<String>,
    /// Seal with X-Wing (post-quantum hybrid) instead of X25519.
    #[arg(long, global = true)]
    post_quantum: bool,
    /// Bytes of every X25519 packet: the gateway's `[intents] packet_size`.
    #[arg(long, global = true, value_name = "BYTES", default_value_t = tradeguard_crypto::intent::pad::DEFAULT_X25519_PACKET)]
    packet_size: usize,
    /// Bytes of every X-Wing packet: the gateway's `[intents] packet_size_xwing`.
    #[arg(long, global = true, value_name = "BYTES", default_value_t = tradeguard_crypto::intent::pad::DEFAULT_XWING_PACKET)]
    packet_size_xwing: usize,
}

#[derive(clap::Subcommand, Debug)]
enum IntentCmd {
    /// Seal and send one order (a `POST /v1/orders` body) with its dummies.
    Send {
        /// The order JSON, `@FILE`, or `-` for stdin.
        #[arg(long)]
        order: String,
        /// Dummies sent with it (ignored in constant-rate mode).
        #[arg(long, default_value_t = 2)]
        dummies: usize,
        /// Constant-rate mode: one packet every this many milliseconds.
        #[arg(long, value_name = "MS", requires = "ticks")]
        constant_rate_ms: Option<u64>,
        /// Constant-rate mode: how many packets in all (the order, then dummies).
        #[arg(long, value_name = "N")]
        ticks: Option<u32>,
    },
    /// The status of intents by routing id (32 hex digits each, at most 8).
    Status {
        /// Routing ids.
        #[arg(required = true, num_args = 1..=8)]
        ids: Vec<String>,
    },
    /// The routing key of a principal, derived from the routing secret sealed in the data
    /// dir's vault (offline, needs the passphrase). Hand it to the principal's operator once,
    /// over a channel you trust; it is what `--routing-key` takes.
    RoutingKey {
        /// The principal's `did:key`.
        #[arg(long, value_name = "DID")]
        principal: String,
        /// Write the key (base64url) to this new file, mode 0600, instead of printing it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        passphrase: crate::cmd::datadir::PassphraseArg,
    },
}

/// Runs `tradeguard intent ...`; prints JSON, exit 2 for what the user must fix.
pub fn run(args: IntentArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    if let IntentCmd::RoutingKey {
        principal,
        out,
        passphrase,
    } = &args.cmd
    {
        let done = rt.block_on(print_routing_key(
            &args.conn.data_dir,
            principal,
            out.as_deref(),
            passphrase,
        ));
        return crate::cmd::datadir::finish(done);
    }
    match rt.block_on(dispatch(args)) {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            let usage = matches!(
                e,
                IntentSendError::Intent(_)
                    | IntentSendError::Client(ClientError::Key { .. } | ClientError::Config(_))
            );
            Ok(ExitCode::from(if usage { 2 } else { 1 }))
        }
    }
}

/// What to do, checked before any connection is made.
enum Job {
    Send(Value),
    AtRate { order: Value, ms: u64, ticks: u32 },
    Status(Vec<RoutingId>),
}

fn job(cmd: IntentCmd) -> Result<Job, IntentSendError> {
    Ok(match cmd {
        IntentCmd::Send {
            order,
            constant_rate_ms: Some(ms),
            ticks,
            ..
        } => Job::AtRate {
            order: read_order(&order)?,
            ms,
            ticks: ticks.unwrap_or(1),
        },
        IntentCmd::Send { order, .. } => Job::Send(read_order(&order)?),
        IntentCmd::RoutingKey { .. } => {
            return Err(usage("`intent routing-key` needs no gateway".into()));
        }
        IntentCmd::Status { ids } => Job::Status(
            ids.iter()
                .map(|s| {
                    RoutingId::from_hex(s).ok_or_else(|| {
                        usage(format!(
                            "`{s}` is not a routing id (32 lower-case hex digits)"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}

async fn dispatch(a: IntentArgs) -> Result<Value, IntentSendError> {
    let dummies = match &a.cmd {
        IntentCmd::Send { dummies, .. } => *dummies,
        IntentCmd::Status { .. } | IntentCmd::RoutingKey { .. } => 2,
    };
    let job = job(a.cmd)?;
    let routing = a.routing_key.as_deref().map(routing_key).transpose()?;
    let constant_rate = matches!(job, Job::AtRate { .. });
    let sizes = tradeguard_crypto::intent::PacketSizes::new(a.packet_size, a.packet_size_xwing)?;
    let options = IntentOptions {
        dummies: if constant_rate { 0 } else { dummies },
        constant_rate,
        post_quantum: a.post_quantum,
        sizes,
        ..IntentOptions::default()
    };
    let client = IntentClient::connect(&config(&a.conn)?, key(&a.conn)?, routing, options).await?;
    match job {
        Job::AtRate { order, ms, ticks } => send_at_constant_rate(&client, order, ms, ticks).await,
        Job::Send(order) => {
            let sent = client.send(order).await?;
            Ok(json!({"routing_id": sent.routing_id.map(|i| i.to_hex()), "packets": sent.packets}))
        }
        Job::Status(ids) => Ok(json!({"status": client.status(&ids).await?})),
    }
}

async fn send_at_constant_rate(
    client: &IntentClient,
    order: Value,
    ms: u64,
    ticks: u32,
) -> Result<Value, IntentSendError> {
    let queue = IntentQueue::default();
    queue.push(order);
    let mut every = tokio::time::interval(Duration::from_millis(ms.max(1)));
    let mut routing_id = None;
    for _ in 0..ticks {
        every.tick().await;
        if let Some(sent) = client.tick(&queue).await? {
            routing_id = sent.routing_id;
        }
    }
    Ok(json!({"routing_id": routing_id.map(|i| i.to_hex()), "packets": ticks}))
}

/// `intent routing-key`: derives the key of `did` from the vault's routing secret and prints
/// it (or writes it to `out`, a new file of mode 0600).
async fn print_routing_key(
    dir: &std::path::Path,
    did: &str,
    out: Option<&std::path::Path>,
    passphrase: &crate::cmd::datadir::PassphraseArg,
) -> anyhow::Result<()> {
    use crate::cmd::datadir::Invalid;
    tradeguard_crypto::did::decode_ed25519_did(did).map_err(|_| {
        Invalid(format!(
            "--principal `{did}` is not an Ed25519 did:key (as `tradeguard principal list` shows)"
        ))
    })?;
    let (vault, sink) = crate::cmd::datadir::unlock(dir, passphrase).await?;
    let key = crate::serve::intents::routing_key_of(&vault, did).await?;
    let event = tradeguard_audit::event::AuditEvent::of("intent.routing_key_issued")
        .and_then(|e| e.field("keyid", did))
        .and_then(|e| e.field("to", if out.is_some() { "file" } else { "stdout" }))
        .and_then(|e| e.field("by", "operator (offline)"));
    sink.record_event(event).await?;
    sink.checkpoint().await?;
    let text = tradeguard_crypto::secret::SecretString::new(tradeguard_crypto::b64::encode(
        key.expose_secret(),
    ));
    match out {
        Some(path) => {
            crate::cmd::datadir::create_secret_file(path, text.expose_secret())?;
            println!(
                "{}",
                json!({"principal": did, "routing_key_file": path.display().to_string()})
            );
        }
        // The one place the key is shown: the operator asked for it to hand it over.
        None => println!(
            "{}",
            json!({"principal": did, "routing_key": text.expose_secret()})
        ),
    }
    Ok(())
}

fn usage(msg: String) -> IntentSendError {
    IntentSendError::Client(ClientError::Config(msg))
}

fn read_order(arg: &str) -> Result<Value, IntentSendError> {
    let text = match arg {
        "-" => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| usage(format!("cannot read the order from stdin: {e}")))?;
            s
        }
        a if a.starts_with('@') => std::fs::read_to_string(&a[1..])
            .map_err(|e| usage(format!("cannot read the order file {}: {e}", &a[1..])))?,
        a => a.to_owned(),
    };
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        usage(format!(
            "the order is not JSON ({e}); pass a POST /v1/orders body"
        ))
    })?;
    if !v.is_object() {
        return Err(usage(
            "the order must be a JSON object (a POST /v1/orders body)".into(),
        ));
    }
    Ok(v)
}

/// The routing key from a file or, failing that, the value itself (base64url of 32 bytes).
fn routing_key(arg: &str) -> Result<RoutingKey, IntentSendError> {
    let text = std::fs::read_to_string(arg).unwrap_or_else(|_| arg.to_owned());
    let text = tradeguard_crypto::secret::SecretString::new(text);
    let raw = tradeguard_crypto::b64::decode(text.expose_secret().trim())
        .map(tradeguard_crypto::secret::SecretBytes::new)
        .map_err(|_| {
            usage(
                "the routing key is not base64url; give the file or value the operator handed out"
                    .into(),
            )
        })?;
    RoutingKey::from_bytes(raw.expose_secret())
        .map_err(|_| usage("the routing key must be 32 bytes".into()))
}

fn key(conn: &Conn) -> Result<PrincipalKey, ClientError> {
    let path = conn
        .key
        .clone()
        .unwrap_or_else(|| conn.data_dir.join("controller.key"));
    PrincipalKey::load_pem_file(&path)
}

fn config(conn: &Conn) -> Result<ClientConfig, ClientError> {
    let url = if conn.url.contains("://") {
        conn.url.clone()
    } else {
        format!("https://{}", conn.url)
    };
    let default_cert = conn.data_dir.join(GATEWAY_CERT_FILE);
    let trust = match &conn.cert {
        Some(path) => Trust::pinned_file(path)?,
        None if default_cert.is_file() => Trust::pinned_file(&default_cert)?,
        None => Trust::PlatformRoots,
    };
    Ok(ClientConfig::new(url, trust))
}

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
    use std::net::SocketAddr;

    use clap::Parser;
    use tradeguard_gateway::audit::MemoryAudit;
    use tradeguard_gateway::intents::{DerivedRoutingKeys, IntentConfig, IntentIntake};
    use tradeguard_gateway::keys::GatewayKeys;
    use tradeguard_gateway::principal::PrincipalRecord;
    use tradeguard_gateway::scope::{Scope, ScopeSet};
    use tradeguard_gateway::state::GatewayBuilder;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        top: Top,
    }

    #[derive(clap::Subcommand)]
    enum Top {
        Intent(IntentArgs),
    }

    fn parse(args: &[&str]) -> IntentArgs {
        let Top::Intent(a) = Cli::try_parse_from(args).unwrap().top;
        a
    }

    /// A gateway with sealed intents on loopback, a trading principal's key file and its
    /// routing key (derived the way an operator would hand it out).
    async fn gateway(dir: &std::path::Path) -> (SocketAddr, Arc<IntentIntake>, String, String) {
        let store = tradeguard_store::Store::open_sqlite(&dir.join("gw.db"))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let rk = RecipientKey::generate_x25519().unwrap();
        let keys = GatewayKeys::new(
            vec![rk.public_key()],
            Arc::new(Ed25519SigningKey::generate().unwrap()),
        );
        let master = tradeguard_crypto::secret::SecretKey::<32>::random().unwrap();
        let derived = DerivedRoutingKeys::new(master.clone());
        let intake = Arc::new(IntentIntake::new(
            rk,
            Box::new(DerivedRoutingKeys::new(master)),
            IntentConfig::default(),
        ));
        let state = GatewayBuilder::new(store, keys, Arc::new(MemoryAudit::default()))
            .intents(intake.clone())
            .build()
            .await
            .unwrap();
        let bot = Ed25519SigningKey::generate().unwrap();
        let did = tradeguard_crypto::did::encode_ed25519_did(&bot.verifying_key());
        let record = PrincipalRecord::ed25519(&did, ScopeSet::of(&[Scope::Trade]), "cli").unwrap();
        state.directory.put(&record, 0).await.unwrap();
        let key_path = dir.join("bot.key");
        std::fs::write(&key_path, bot.to_pkcs8_pem().expose_secret()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let routing = tradeguard_crypto::b64::encode(derived.derive(&did).expose_secret());
        let app = tradeguard_gateway::api::router(state);
        let handle = tradeguard_gateway::tls::Handle::new();
        let h = handle.clone();
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        tokio::spawn(async move {
            tradeguard_gateway::tls::serve(
                app,
                addr,
                tradeguard_gateway::tls::Transport::DangerousPlainHttp,
                h,
            )
            .await
        });
        let addr = handle.listening().await.unwrap();
        (addr, intake, key_path.display().to_string(), routing)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn intent_send_then_status_from_the_command_line() {
        let dir = tempfile::tempdir().unwrap();
        let (addr, intake, key, routing) = gateway(dir.path()).await;
        let url = format!("http://{addr}");
        let order = r#"{"client_order_id":"cli-1","profile":"p1","symbol":"BTC/USD","side":"buy","type":"limit","price":"50000","quantity":"0.01"}"#;
        let base = [
            "t",
            "intent",
            "--url",
            &url,
            "--key",
            &key,
            "--routing-key",
            &routing,
        ];
        let mut send = base.to_vec();
        send.extend(["send", "--order", order]);
        let out = dispatch(parse(&send)).await.unwrap();
        assert_eq!(out["packets"], 3);
        let id = out["routing_id"].as_str().unwrap().to_owned();
        let s = intake.stats();
        assert_eq!((s.real, s.dummies), (1, 2));
        let mut status = base.to_vec();
        status.extend(["status", &id]);
        let out = dispatch(parse(&status)).await.unwrap();
        assert_eq!(out["status"][0]["id"], id.as_str());

        let mut rate = base.to_vec();
        rate.extend([
            "send",
            "--order",
            order,
            "--constant-rate-ms",
            "1",
            "--ticks",
            "3",
        ]);
        let out = dispatch(parse(&rate)).await.unwrap();
        assert_eq!(out["packets"], 3);
        let s = intake.stats();
        assert_eq!((s.real, s.dummies), (2, 4), "one real, then two dummies");
    }

    #[test]
    fn fail_bad_command_line_input() {
        assert!(
            Cli::try_parse_from([
                "t",
                "intent",
                "send",
                "--order",
                "{}",
                "--constant-rate-ms",
                "5"
            ])
            .is_err(),
            "--ticks is required with a rate"
        );
        assert!(Cli::try_parse_from(["t", "intent", "status"]).is_err());
        assert!(read_order("[1]").is_err());
        assert!(read_order("not json").is_err());
        assert!(routing_key("c2hvcnQ").is_err(), "5 bytes");
        assert!(routing_key(&tradeguard_crypto::b64::encode(&[7u8; 32])).is_ok());
    }

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
