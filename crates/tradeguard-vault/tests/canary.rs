//! The canary: a planted secret goes through import, use, rotation, error paths and removal;
//! afterwards no log line, error message, audit event or byte of the database contains it, in
//! clear, hex or base64. SQLite: every byte of the file and its WAL. PostgreSQL: a `pg_dump`
//! of the test database (the server's own files are not readable from here).

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use common::*;
use tradeguard_crypto::envelope::{self, Info};
use tradeguard_crypto::hpke::Suite;
use tradeguard_store::Store;
use tradeguard_vault::{CredentialSecret, ProfileName, Purpose, VaultError};

/// Everything the tracing subscriber writes.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The byte strings that would betray `secret`: itself, hex, and base64 at each alignment.
fn forms(secret: &str) -> Vec<Vec<u8>> {
    let raw = secret.as_bytes();
    let mut out = vec![
        raw.to_vec(),
        hex::encode(raw).into_bytes(),
        hex::encode_upper(raw).into_bytes(),
    ];
    for engine in [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
        for pad in 0..3 {
            let mut shifted = vec![b'x'; pad];
            shifted.extend_from_slice(raw);
            let b64 = engine.encode(&shifted);
            // Skip the characters the neighbouring bytes could change.
            out.push(b64.as_bytes()[4..b64.len() - 4].to_vec());
        }
    }
    out
}

/// True when `needle` (empty: always) occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_clean(haystack: &[u8], needles: &[Vec<u8>], what: &str) {
    for n in needles {
        let found = haystack.windows(n.len()).any(|w| w == n.as_slice());
        assert!(
            !found,
            "the canary leaked into {what} (form {})",
            String::from_utf8_lossy(n)
        );
    }
}

/// The log buffer behind a global TRACE subscriber, installed once for this test binary.
fn logs() -> &'static Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
}

/// Checks the database: `(phase, needles, a string the database must hold)`.
type ScanDb<'a> = dyn Fn(&str, &[Vec<u8>], &str) + 'a;

/// What a run left to scan.
struct Run {
    needles: Vec<Vec<u8>>,
    doc: String,
    errors: Vec<String>,
    events: String,
}

/// Plants the canary in `store`'s vault and takes it through import, use, rotation, error
/// paths and removal; `scan_db(phase, needles, must_contain)` checks the database mid-way.
async fn plant_and_exercise(store: &Store, scan_db: &ScanDb<'_>) -> Run {
    logs();
    let random: [u8; 16] = tradeguard_crypto::random::array().unwrap();
    let canary = format!("CANARY{}", hex::encode(random));
    let key_canary = format!("APIKEY{}", hex::encode(&random[..8]));
    let pass_canary = format!("PASSPH{}", hex::encode(&random[8..]));
    let mut needles = forms(&canary);
    needles.extend(forms(&key_canary));
    needles.extend(forms(&pass_canary));

    let f = fixture(store);
    let v = init(&f).await;
    let mut errors: Vec<String> = Vec::new();
    let mut record = |e: VaultError| errors.push(format!("{e} | {e:?}"));

    // Import, sealed to the gateway.
    let doc = format!(
        r#"{{"exchange":"coinbaseexchange","api_key":"{key_canary}","api_secret":"{canary}","passphrase":"{pass_canary}","label":"canary"}}"#
    );
    let keys = v.public_keys().unwrap();
    let sealed = envelope::seal(
        &keys.x25519,
        Suite::default(),
        Info::Credential,
        doc.as_bytes(),
    )
    .unwrap();
    let profile = ProfileName::new("main").unwrap();
    let meta = v.import_envelope(&sealed, &profile).await.unwrap();
    tracing::debug!(?meta, "imported");

    // Use: the closure, and only the closure, sees it.
    let seen = v
        .with_secret(&meta.id, Purpose::SignRequest, |c| {
            tracing::info!(credential = ?c, key = ?c.api_key(), secret = ?c.api_secret(), "signing");
            c.api_secret().expose_secret() == canary
                && c.api_key().expose_secret() == key_canary
                && c.passphrase().map(|p| p.expose_secret() == pass_canary) == Some(true)
        })
        .await
        .unwrap();
    assert!(seen, "the closure did not get the planted secret");

    // Rotation.
    let report = v.rotate_kek().await.unwrap();
    assert_eq!(report.rewrapped, 1);
    assert!(
        v.with_secret(&meta.id, Purpose::CheckPermissions, |c| c
            .api_secret()
            .expose_secret()
            == canary)
            .await
            .unwrap()
    );

    // Error paths: duplicate import, malformed documents carrying the secret, a wrong
    // passphrase, a refusing sink, a tampered row.
    record(v.import_envelope(&sealed, &profile).await.unwrap_err());
    let bad_docs = [
        format!(r#"{{"exchange":"ftx","api_key":"{key_canary}","api_secret":"{canary}"}}"#),
        format!(r#"{{"exchange":"binance","api_key":"{key_canary}","api_secret":["{canary}"]}}"#),
        format!(r#"{{"exchange":"binance","api_key":"k","api_secret":"s","{canary}":1}}"#),
        format!(r#"{{"exchange":"binance","api_key":"k","api_secret":"{canary}"#),
        format!(
            r#"{{"exchange":"binance","api_key":"k","api_secret":"{canary}","label":"{canary}{canary}{canary}"}}"#
        ),
    ];
    for d in &bad_docs {
        record(CredentialSecret::from_json(d.as_bytes()).unwrap_err());
        let env = envelope::seal(
            &keys.x25519,
            Suite::default(),
            Info::Credential,
            d.as_bytes(),
        )
        .unwrap();
        record(v.import_envelope(&env, &profile).await.unwrap_err());
    }
    record(f.vault.unlock(&pass(&canary)).await.unwrap_err());
    f.sink.set_refuse(true);
    record(
        v.with_secret(&meta.id, Purpose::SignRequest, |_| ())
            .await
            .unwrap_err(),
    );
    f.sink.set_refuse(false);
    tradeguard_store::testing::execute(store, "UPDATE vault_credentials SET profile = 'moved'")
        .await
        .unwrap();
    record(
        v.with_secret(&meta.id, Purpose::SignRequest, |_| ())
            .await
            .unwrap_err(),
    );
    tradeguard_store::testing::execute(store, "UPDATE vault_credentials SET profile = 'main'")
        .await
        .unwrap();

    // The database while the credential is stored (its id must be found: the scan sees it).
    scan_db("with the credential stored", &needles, meta.id.as_str());

    // Removal.
    v.remove(&meta.id).await.unwrap();
    record(v.remove(&meta.id).await.unwrap_err());
    assert_eq!(errors.len(), 15);
    let events = format!("{:?}", f.sink.events());
    Run {
        needles,
        doc,
        errors,
        events,
    }
}

/// Errors, events and logs must be clean; the scanner must be able to fail.
fn scan_the_rest(run: &Run) {
    for e in &run.errors {
        assert_clean(e.as_bytes(), &run.needles, &format!("error `{e}`"));
    }
    assert!(run.events.contains("CredentialUsed") && run.events.contains("KekRotated"));
    assert_clean(run.events.as_bytes(), &run.needles, "audit events");
    let logs = logs().0.lock().unwrap().clone();
    assert!(
        logs.len() > 1000,
        "the subscriber captured the run ({} bytes)",
        logs.len()
    );
    assert!(
        String::from_utf8_lossy(&logs).contains("REDACTED"),
        "the closure's log line was captured"
    );
    assert_clean(&logs, &run.needles, "the logs");
    let planted =
        std::panic::catch_unwind(|| assert_clean(run.doc.as_bytes(), &run.needles, "self-test"));
    assert!(
        planted.is_err(),
        "the scanner finds the planted value where it is"
    );
}

/// Every byte of the SQLite files of `dir`; must hold `must_contain` (proof the scan sees data).
fn sqlite_bytes(dir: &std::path::Path, must_contain: &str) -> Vec<u8> {
    let mut disk = Vec::new();
    for name in ["tradeguard.db", "tradeguard.db-wal", "tradeguard.db-shm"] {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            disk.extend(bytes);
        }
    }
    assert!(
        contains(&disk, must_contain.as_bytes()),
        "the SQLite files do not hold `{must_contain}`"
    );
    disk
}

#[tokio::test(flavor = "current_thread")]
async fn canary_never_reaches_logs_errors_events_or_the_sqlite_files() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&tmp.path().join("tradeguard.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let dir = tmp.path().to_owned();
    let scan = |phase: &str, needles: &[Vec<u8>], must: &str| {
        assert_clean(
            &sqlite_bytes(&dir, must),
            needles,
            &format!("the SQLite files ({phase})"),
        );
    };
    let run = plant_and_exercise(&store, &scan).await;
    scan("after removal, open", &run.needles, "");
    store.close().await;
    scan("after removal, closed", &run.needles, "");
    scan_the_rest(&run);
}

/// A `pg_dump` of the whole test database (every schema, ours included).
fn pg_dump() -> Option<Vec<u8>> {
    let url = tradeguard_store::testing::postgres_url();
    let out = std::process::Command::new("pg_dump")
        .arg("--data-only")
        .arg(&url)
        .output();
    match out {
        Ok(o) if o.status.success() => Some(o.stdout),
        Ok(o) => panic!("pg_dump failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            tradeguard_store::testing::service_unavailable("pg_dump", "PATH", &e.to_string());
            None
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn canary_never_reaches_logs_errors_events_or_a_postgres_dump() {
    let Some(store) = tradeguard_store::testing::postgres().await else {
        return;
    };
    let scan = |phase: &str, needles: &[Vec<u8>], must: &str| {
        if let Some(dump) = pg_dump() {
            assert!(
                contains(&dump, must.as_bytes()),
                "the dump does not hold `{must}`"
            );
            assert_clean(&dump, needles, &format!("the PostgreSQL dump ({phase})"));
        }
    };
    let run = plant_and_exercise(&store, &scan).await;
    scan("after removal", &run.needles, "");
    scan_the_rest(&run);
}
