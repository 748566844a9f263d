//! `tradeguard audit`: offline verification, export, checkpoint and proofs of the audit log.
//!
//! The log is read from a data dir (`<DIR>/tradeguard.db`, never created or migrated here) or
//! a database URL (`--db postgres://…`); `verify` also reads an exported file (`--log`).
//! The trusted key always comes from the command line (`--key`): a key found in the data
//! being verified would prove nothing. Exit codes: 0 ok; 1 the log could not be read;
//! 2 invalid input, including a log that fails verification (one line on stderr says which
//! entry or checkpoint and why).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use tradeguard_audit::export::verify_export;
use tradeguard_audit::keys::LogKey;
use tradeguard_audit::log::{
    consistency_proof, export_entries, inclusion_proof, latest_checkpoint,
};
use tradeguard_audit::store_verify::verify_store;
use tradeguard_audit::verify::{Finding, VerifyReport};
use tradeguard_store::Store;

/// The SQLite file inside a data dir.
const DB_FILE: &str = "tradeguard.db";

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

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the tree, check every checkpoint signature and their consistency, and name
    /// the first entry changed, removed, inserted or reordered.
    Verify {
        /// Verify an exported log (JSON lines) instead of the data dir.
        #[arg(long, value_name = "FILE")]
        log: Option<PathBuf>,
        /// The gateway's public key: a vkey, a did:key, or base64(url) Ed25519 (repeat for the
        /// ML-DSA-65 vkey).
        #[arg(long, value_name = "PUBKEY", required = true)]
        key: Vec<String>,
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
    },
}

/// Runs `tradeguard audit`.
pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(dispatch(args.command))
}

async fn dispatch(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify {
            log,
            key,
            json,
            source,
        } => verify(log, &key, json, &source).await,
        AuditCommand::Export { out, source } => export(&out, &source).await,
        AuditCommand::Checkpoint { source } => {
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
        } => proof(seq, size, from, to, &source).await,
    }
}

fn invalid(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

async fn verify(
    log: Option<PathBuf>,
    keys: &[String],
    json: bool,
    source: &Source,
) -> anyhow::Result<ExitCode> {
    let keys = match keys
        .iter()
        .map(|k| LogKey::parse(k))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(k) => k,
        Err(e) => return Ok(invalid(&format!("--key: {e}"))),
    };
    let result: Result<VerifyReport, Finding> = match &log {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            verify_export(&bytes, &keys).map(|(report, _)| report)
        }
        None => verify_store(&open(source).await?, &keys).await?,
    };
    match result {
        Ok(report) if json => println!("{}", report.to_json()),
        Ok(report) => println!(
            "ok: {} entries, {} signed by {} (tree size {}, root {}), {} not yet checkpointed",
            report.entries,
            report.checkpoints.max(1),
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

/// Opens the log's database without creating or migrating anything.
async fn open(source: &Source) -> anyhow::Result<Store> {
    if let Some(url) = &source.db {
        return Store::connect(url)
            .await
            .context("cannot connect to the database");
    }
    let path = source.data_dir.join(DB_FILE);
    if !path.is_file() {
        bail!(
            "{} not found; pass --data-dir DIR (the directory `tradeguard init` created) or --db URL",
            path.display()
        );
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
            verify(None, &keys, false, &source(dir.path()))
                .await
                .unwrap(),
            ok
        );
        assert_eq!(export(&out, &source(dir.path())).await.unwrap(), ok);
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(text.lines().count(), 21, "20 entries then the checkpoint");
        assert_eq!(
            verify(Some(out.clone()), &keys, true, &source(dir.path()))
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
            verify(Some(out), &keys, false, &source(dir.path()))
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
            verify(None, &other, false, &source(dir.path()))
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

    #[tokio::test]
    async fn fail_missing_data_dir_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let err = open(&source(&dir.path().join("nope"))).await.unwrap_err();
        assert!(err.to_string().contains("not found"), "{err}");
        assert!(!dir.path().join("nope").exists());
    }
}
