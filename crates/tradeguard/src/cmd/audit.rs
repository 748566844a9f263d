//! `tradeguard audit`: offline verification, export, checkpoint and proofs of the audit log.
//!
//! The log is read from a data dir (`<DIR>/tradeguard.db`, never created or migrated here) or
//! a database URL (`--db postgres://…`); `verify` also reads an exported file (`--log`).
//!
//! The trusted key comes from `--key`: a key in any form the gateway publishes, or a file
//! holding one (one per line, or the JSON of `tradeguard keys --data-dir DIR`). Without
//! `--key`, `verify` of a data dir falls back to the keys the log stored beside its
//! checkpoints and says so on stderr: that catches edits that did not also replace the key,
//! while a key from an independent copy catches those too. An export always needs `--key`.
//!
//! `checkpoint` and `proof` also ask a running gateway (`--url`, requests signed with the
//! principal key `--key`, default `<data dir>/controller.key`, TLS pinned to `--cert`, default
//! `<data dir>/tls/cert.pem`): the same output from `GET /v1/audit/checkpoint` and
//! `GET /v1/audit/proof/*`, sizes defaulting to the gateway's latest checkpoint.
//!
//! Exit codes: 0 ok; 1 the log could not be read (or the gateway not reached); 2 invalid input
//! (no data dir there, a bad key, a proof beyond the log), including a log that fails
//! verification (one line on stderr says which entry or checkpoint and why).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use tradeguard_audit::export::verify_export_with;
use tradeguard_audit::keys::LogKey;
use tradeguard_audit::log::{
    STORED_KEYS_META, consistency_proof, export_entries, inclusion_proof, latest_checkpoint,
    stored_public_keys,
};
use tradeguard_audit::store_verify::verify_store_with;
use tradeguard_audit::verify::{Finding, VerifyReport};
use tradeguard_store::Store;

use tradeguard_audit::checkpoint::SignedCheckpoint;
use tradeguard_client::{Client, ClientError};

use super::client::{self, Conn};
use super::datadir::{DB_FILE, Invalid};

/// Arguments of `tradeguard audit`.
#[derive(Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

/// Where the stored log is.
#[derive(Args)]
struct Source {
    /// Data dir holding tradeguard.db.
    #[arg(
        long,
        env = "TRADEGUARD_DATA",
        default_value = "./tradeguard-data",
        value_name = "DIR"
    )]
    data_dir: PathBuf,
    /// Database URL instead of the data dir (postgres://… or sqlite://…).
    #[arg(long, value_name = "URL")]
    db: Option<String>,
}

/// A running gateway to ask instead of the data dir.
#[derive(Args)]
struct Remote {
    /// Ask the gateway at this URL (`https://host:port`) instead of reading the data dir.
    #[arg(long, value_name = "URL", conflicts_with = "db")]
    url: Option<String>,
    /// With --url: the principal key that signs the requests (Ed25519 PKCS#8 PEM, scope
    /// `read`). Default: `<data dir>/controller.key`.
    #[arg(long = "key", value_name = "FILE", requires = "url")]
    principal_key: Option<PathBuf>,
    /// With --url: the gateway certificate to trust, and only it (PEM). Default:
    /// `<data dir>/tls/cert.pem` if present, else the platform's trust store.
    #[arg(long, value_name = "FILE", requires = "url")]
    cert: Option<PathBuf>,
}

impl Remote {
    /// The signing client, when `--url` was given.
    fn client(&self, source: &Source) -> Option<Result<Client, ClientError>> {
        let url = self.url.clone()?;
        let conn = Conn {
            url,
            key: self.principal_key.clone(),
            cert: self.cert.clone(),
            data_dir: source.data_dir.clone(),
        };
        Some(client::client(&conn))
    }
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the tree, check every checkpoint signature and their consistency, and name
    /// the first entry changed, removed, inserted or reordered.
    Verify {
        /// Verify an exported log (JSON lines) instead of the data dir.
        #[arg(long, value_name = "FILE")]
        log: Option<PathBuf>,
        /// The gateway's public key: a vkey, a did:key, base64(url) Ed25519, or a file holding
        /// keys (one per line, or `tradeguard keys` JSON); repeatable. Optional for a data dir
        /// (then the keys the log stored are used, with a warning); required with --log.
        #[arg(long, value_name = "PUBKEY|FILE")]
        key: Vec<String>,
        /// A checkpoint fetched earlier (`audit checkpoint` output); the log must contain it
        /// and be consistent with it. Repeatable.
        #[arg(long, value_name = "FILE")]
        checkpoint: Vec<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        source: Source,
    },
    /// Write the log up to its latest checkpoint as JSON lines, then that checkpoint.
    Export {
        /// Output file.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        source: Source,
    },
    /// Print the latest signed checkpoint (C2SP tlog-checkpoint).
    Checkpoint {
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        remote: Remote,
    },
    /// Print an inclusion proof (`--seq N [--size S]`) or a consistency proof
    /// (`--from S1 --to S2`) as JSON; sizes default to the latest checkpoint's.
    Proof {
        /// Entry for an inclusion proof.
        #[arg(long, conflicts_with = "from")]
        seq: Option<u64>,
        /// Tree size of the inclusion proof.
        #[arg(long, requires = "seq")]
        size: Option<u64>,
        /// Older size of a consistency proof.
        #[arg(long, requires = "to")]
        from: Option<u64>,
        /// Newer size of a consistency proof.
        #[arg(long)]
        to: Option<u64>,
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        remote: Remote,
    },
}

/// Runs `tradeguard audit`.
pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match runtime.block_on(dispatch(args.command)) {
        Err(e) if e.downcast_ref::<Invalid>().is_some() => Ok(invalid(&format!("{e:#}"))),
        other => other,
    }
}

async fn dispatch(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify {
            log,
            key,
            checkpoint,
            json,
            source,
        } => {
            let held = match read_held(&checkpoint) {
                Ok(h) => h,
                Err(msg) => return Ok(invalid(&msg)),
            };
            verify(log, &key, &held, json, &source).await
        }
        AuditCommand::Export { out, source } => export(&out, &source).await,
        AuditCommand::Checkpoint { source, remote } => {
            if let Some(client) = remote.client(&source) {
                return Ok(answered(remote_checkpoint(client).await));
            }
            let store = open(&source).await?;
            let cp = latest_checkpoint(&store)
                .await?
                .context("the log has no checkpoint yet")?;
            print!("{}", cp.to_text());
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Proof {
            seq,
            size,
            from,
            to,
            source,
            remote,
        } => match remote.client(&source) {
            Some(client) => Ok(answered(remote_proof(client, seq, size, from, to).await)),
            None => proof(seq, size, from, to, &source).await,
        },
    }
}

fn invalid(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

/// The checkpoints an auditor kept: each file holds a signed note, or the
/// `{"checkpoint":"…"}` line of an export.
fn read_held(paths: &[PathBuf]) -> Result<Vec<String>, String> {
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("--checkpoint {}: cannot read it ({e})", p.display()))?;
            if !text.trim_start().starts_with('{') {
                return Ok(text);
            }
            let v: serde_json::Value = serde_json::from_str(text.trim()).map_err(|_| {
                format!(
                    "--checkpoint {}: not a signed note nor a checkpoint line",
                    p.display()
                )
            })?;
            v["checkpoint"].as_str().map(str::to_owned).ok_or_else(|| {
                format!(
                    "--checkpoint {}: JSON without a \"checkpoint\" member",
                    p.display()
                )
            })
        })
        .collect()
}

async fn verify(
    log: Option<PathBuf>,
    keys: &[String],
    held: &[String],
    json: bool,
    source: &Source,
) -> anyhow::Result<ExitCode> {
    let given = match parse_keys(keys) {
        Ok(k) => k,
        Err(msg) => return Ok(invalid(&msg)),
    };
    let (result, key_source): (Result<VerifyReport, Finding>, &str) = match &log {
        Some(_) if given.is_empty() => {
            return Ok(invalid(
                "--log needs --key PUBKEY (the gateway's public key, e.g. from `tradeguard keys`)",
            ));
        }
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            (
                verify_export_with(&bytes, &given, held).map(|(r, _)| r),
                "--key",
            )
        }
        None => {
            let store = open(source).await?;
            let (keys, key_source) = if given.is_empty() {
                (stored_public_keys(&store).await?, STORED_KEYS_META)
            } else {
                (given, "--key")
            };
            if keys.is_empty() {
                return Ok(invalid(
                    "the log stores no key and none was given; pass --key PUBKEY (from `tradeguard keys --data-dir DIR`)",
                ));
            }
            if key_source == STORED_KEYS_META {
                eprintln!(
                    "warning: no --key given; trusting the keys stored in the data dir (meta {STORED_KEYS_META}). \
                     This detects edits that did not also replace those keys; pass --key from an independent copy for a full check"
                );
            }
            (verify_store_with(&store, &keys, held).await?, key_source)
        }
    };
    match result {
        Ok(report) if json => {
            let mut out = report.to_json();
            out["key_source"] = key_source.into();
            println!("{out}");
        }
        Ok(report) => println!(
            "ok: {} entries, {} checkpoint(s) signed by {} (latest: tree size {}, root {}), {} entries after it (key from {key_source})",
            report.entries,
            report.checkpoints,
            report.signers.join(", "),
            report.signed_size,
            report.signed_root.to_base64(),
            report.unsigned_tail
        ),
        Err(finding) => {
            if json {
                println!("{}", finding.to_json());
            }
            return Ok(invalid(&format!("audit log does not verify: {finding}")));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Each `--key` value: a file of keys if one exists at that path, else a key.
fn parse_keys(values: &[String]) -> Result<Vec<LogKey>, String> {
    let mut keys = Vec::new();
    for value in values {
        let path = Path::new(value);
        let parsed = if path.is_file() {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--key {}: cannot read it ({e})", path.display()))?;
            LogKey::parse_many(&text).map_err(|e| format!("--key {}: {e}", path.display()))?
        } else {
            vec![LogKey::parse(value).map_err(|e| format!("--key: {e}"))?]
        };
        keys.extend(parsed);
    }
    Ok(keys)
}

async fn export(out: &Path, source: &Source) -> anyhow::Result<ExitCode> {
    let store = open(source).await?;
    let cp = latest_checkpoint(&store)
        .await?
        .context("the log has no checkpoint yet; a running gateway makes one (or `audit checkpoint` on the server)")?;
    let mut buf = Vec::new();
    export_entries(&store, &mut buf, &cp).await?;
    let mut file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    file.write_all(&buf)?;
    file.sync_all()?;
    eprintln!(
        "wrote {} entries and the checkpoint at size {} to {}",
        cp.unverified().size(),
        cp.unverified().size(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn proof(
    seq: Option<u64>,
    size: Option<u64>,
    from: Option<u64>,
    to: Option<u64>,
    source: &Source,
) -> anyhow::Result<ExitCode> {
    let store = open(source).await?;
    let latest = latest_checkpoint(&store)
        .await?
        .map(|c| c.unverified().size());
    let size_or_latest = |s: Option<u64>| {
        s.or(latest)
            .context("no size given and the log has no checkpoint yet")
    };
    let json = match (seq, from) {
        (Some(seq), _) => inclusion_proof(&store, seq, size_or_latest(size)?)
            .await
            .map(|p| p.to_json()),
        (None, Some(from)) => consistency_proof(&store, from, size_or_latest(to)?)
            .await
            .map(|p| p.to_json()),
        (None, None) => {
            return Ok(invalid(
                "give --seq N for an inclusion proof or --from S1 --to S2 for a consistency proof",
            ));
        }
    };
    match json {
        Ok(j) => println!("{j}"),
        Err(e) => return Ok(invalid(&e.to_string())),
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the gateway's answer, or its error with the client commands' exit code.
fn answered(result: Result<String, ClientError>) -> ExitCode {
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(client::exit_code(&e))
        }
    }
}

/// `GET /v1/audit/checkpoint`: the note, as the offline form prints it.
async fn remote_checkpoint(client: Result<Client, ClientError>) -> Result<String, ClientError> {
    client?.audit_checkpoint().await
}

/// `GET /v1/audit/proof/*`: the proof JSON and a newline, as the offline form prints it.
async fn remote_proof(
    client: Result<Client, ClientError>,
    seq: Option<u64>,
    size: Option<u64>,
    from: Option<u64>,
    to: Option<u64>,
) -> Result<String, ClientError> {
    let client = client?;
    let latest = async |given: Option<u64>| match given {
        Some(s) => Ok(s),
        None => checkpoint_size(&client.audit_checkpoint().await?),
    };
    let proof = match (seq, from) {
        (Some(seq), _) => client.inclusion_proof(seq, latest(size).await?).await?,
        (None, Some(from)) => client.consistency_proof(from, latest(to).await?).await?,
        (None, None) => {
            return Err(ClientError::Config(
                "give --seq N for an inclusion proof or --from S1 --to S2 for a consistency proof"
                    .into(),
            ));
        }
    };
    Ok(format!("{proof}\n"))
}

/// The tree size a checkpoint note claims (the proof is checked against the note later).
fn checkpoint_size(note: &str) -> Result<u64, ClientError> {
    let size = SignedCheckpoint::parse(note.as_bytes())
        .map(|c| c.unverified().size())
        .map_err(|e| ClientError::Decode {
            reason: format!("the gateway's checkpoint does not parse: {e}"),
        })?;
    if size == 0 {
        return Err(ClientError::Config(
            "the gateway's latest checkpoint covers no entry yet; nothing to prove".into(),
        ));
    }
    Ok(size)
}

/// `tradeguard bench audit`: [`tradeguard_audit::bench`] with `budget` per append measurement
/// and a log of `entries` entries.
pub fn bench(budget: std::time::Duration, entries: u64) -> anyhow::Result<serde_json::Value> {
    let config = tradeguard_audit::bench::BenchConfig {
        entries,
        append_seconds: budget.as_secs_f64(),
        ..Default::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime
        .block_on(tradeguard_audit::bench::run(&config))
        .context("audit benchmark failed")
}

/// Opens the log's database without creating or migrating anything.
async fn open(source: &Source) -> anyhow::Result<Store> {
    if let Some(url) = &source.db {
        return Store::connect(url)
            .await
            .context("cannot connect to the database");
    }
    let path = source.data_dir.join(DB_FILE);
    if !path.is_file() {
        return Err(Invalid(format!(
            "{} not found; pass --data-dir DIR (the directory `tradeguard init` created) or --db URL",
            path.display()
        ))
        .into());
    }
    Store::open_sqlite(&path)
        .await
        .with_context(|| format!("cannot open {}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tradeguard_audit::clock::ManualClock;
    use tradeguard_audit::event::{AuditEvent, Redactor};
    use tradeguard_audit::keys::LogSigner;
    use tradeguard_audit::log::AuditLog;
    use tradeguard_crypto::secret::SecretBytes;
    use tradeguard_crypto::sign::Ed25519SigningKey;

    use super::*;

    /// A data dir with a 25-entry log checkpointed at 20; returns it and the key (did:key).
    async fn data_dir() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join(DB_FILE)).await.unwrap();
        store.migrate().await.unwrap();
        let key = Ed25519SigningKey::from_seed(&[4; 32]).unwrap();
        let did = tradeguard_crypto::did::encode_ed25519_did(&key.verifying_key());
        let signer = LogSigner::new("tradeguard.test/audit", key).unwrap();
        let redactor = Redactor::new(SecretBytes::new(vec![6; 32])).unwrap();
        let log = AuditLog::open(
            store.clone(),
            signer,
            redactor,
            Arc::new(ManualClock::at(0)),
        )
        .await
        .unwrap();
        for i in 0..25u64 {
            log.append(
                &AuditEvent::of("order.filled")
                    .unwrap()
                    .field("n", i)
                    .unwrap(),
            )
            .await
            .unwrap();
            if i == 19 {
                log.checkpoint().await.unwrap();
            }
        }
        store.close().await;
        (dir, did)
    }

    fn source(dir: &Path) -> Source {
        Source {
            data_dir: dir.to_path_buf(),
            db: None,
        }
    }

    #[tokio::test]
    async fn export_verify_checkpoint_and_proofs_on_a_data_dir() {
        let (dir, did) = data_dir().await;
        let keys = vec![did];
        let out = dir.path().join("audit.jsonl");
        let ok = ExitCode::SUCCESS;
        assert_eq!(
            verify(None, &keys, &[], false, &source(dir.path()))
                .await
                .unwrap(),
            ok
        );
        assert_eq!(export(&out, &source(dir.path())).await.unwrap(), ok);
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(text.lines().count(), 21, "20 entries then the checkpoint");
        assert_eq!(
            verify(Some(out.clone()), &keys, &[], true, &source(dir.path()))
                .await
                .unwrap(),
            ok
        );
        // Without --key: the data dir's stored keys; an export needs --key; a key file in
        // the `tradeguard keys` JSON form.
        assert_eq!(
            verify(None, &[], &[], true, &source(dir.path()))
                .await
                .unwrap(),
            ok
        );
        assert_eq!(
            verify(Some(out.clone()), &[], &[], false, &source(dir.path()))
                .await
                .unwrap(),
            ExitCode::from(2)
        );
        let key_file = dir.path().join("keys.json");
        let raw = tradeguard_crypto::did::decode_ed25519_did(&keys[0]).unwrap();
        let keys_json = serde_json::json!({"signing": {"alg": "ed25519", "public_key": raw.to_base64url(), "did": keys[0]}});
        std::fs::write(&key_file, keys_json.to_string()).unwrap();
        let by_file = vec![key_file.display().to_string()];
        assert_eq!(
            verify(Some(out.clone()), &by_file, &[], false, &source(dir.path()))
                .await
                .unwrap(),
            ok
        );
        let cases = [
            (Some(3), Some(20), None, None),
            (Some(24), Some(25), None, None),
            (None, None, Some(7), Some(25)),
        ];
        for (i, (seq, size, from, to)) in cases.into_iter().enumerate() {
            assert_eq!(
                proof(seq, size, from, to, &source(dir.path()))
                    .await
                    .unwrap(),
                ok,
                "TC{i} failed"
            );
        }
        // A changed entry in the export, a wrong key, a proof beyond the log: invalid input.
        std::fs::write(&out, text.replacen("\"n\":5", "\"n\":6", 1)).unwrap();
        let bad = ExitCode::from(2);
        assert_eq!(
            verify(Some(out), &keys, &[], false, &source(dir.path()))
                .await
                .unwrap(),
            bad
        );
        let other = vec![
            Ed25519SigningKey::from_seed(&[5; 32])
                .unwrap()
                .verifying_key()
                .to_base64url(),
        ];
        assert_eq!(
            verify(None, &other, &[], false, &source(dir.path()))
                .await
                .unwrap(),
            bad
        );
        assert_eq!(
            proof(Some(30), Some(31), None, None, &source(dir.path()))
                .await
                .unwrap(),
            bad
        );
    }

    #[test]
    fn remote_sizes_come_from_the_gateway_checkpoint() {
        let signer = LogSigner::new(
            "tradeguard.test/audit",
            Ed25519SigningKey::from_seed(&[4; 32]).unwrap(),
        )
        .unwrap();
        let note = |size| {
            let body = tradeguard_audit::checkpoint::Checkpoint::new(
                "tradeguard.test/audit",
                size,
                tradeguard_audit::merkle::empty_root(),
            )
            .unwrap();
            signer.sign(&body).unwrap().to_text()
        };
        assert_eq!(checkpoint_size(&note(5)).unwrap(), 5);
        let empty = checkpoint_size(&note(0)).unwrap_err();
        assert!(matches!(empty, ClientError::Config(_)), "{empty}");
        assert_eq!(client::exit_code(&empty), 2);
        let garbage = checkpoint_size("not a note").unwrap_err();
        assert!(matches!(garbage, ClientError::Decode { .. }), "{garbage}");
    }

    #[tokio::test]
    async fn fail_missing_data_dir_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let err = open(&source(&dir.path().join("nope"))).await.unwrap_err();
        assert!(err.to_string().contains("not found"), "{err}");
        assert!(!dir.path().join("nope").exists());
    }
}
