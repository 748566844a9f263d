//! The canary: a planted secret goes through import, use, rotation, error paths and removal;
//! afterwards no log line, error message, audit event or byte of the SQLite database (and its
//! WAL) contains it, in clear, hex or base64.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

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

#[tokio::test(flavor = "current_thread")]
async fn canary_never_reaches_logs_errors_events_or_disk() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let random: [u8; 16] = tradeguard_crypto::random::array().unwrap();
    let canary = format!("CANARY{}", hex::encode(random));
    let key_canary = format!("APIKEY{}", hex::encode(&random[..8]));
    let pass_canary = format!("PASSPH{}", hex::encode(&random[8..]));
    let mut needles = forms(&canary);
    needles.extend(forms(&key_canary));
    needles.extend(forms(&pass_canary));

    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("tradeguard.db");
    let store = Store::open_sqlite(&db).await.unwrap();
    store.migrate().await.unwrap();
    let f = fixture(&store);
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
    tradeguard_store::testing::execute(&store, "UPDATE vault_credentials SET profile = 'moved'")
        .await
        .unwrap();
    record(
        v.with_secret(&meta.id, Purpose::SignRequest, |_| ())
            .await
            .unwrap_err(),
    );
    tradeguard_store::testing::execute(&store, "UPDATE vault_credentials SET profile = 'main'")
        .await
        .unwrap();

    // Removal.
    v.remove(&meta.id).await.unwrap();
    record(v.remove(&meta.id).await.unwrap_err());
    assert_eq!(errors.len(), 15);

    // Scan: errors, events, logs, then every byte on disk (with the WAL before and after close).
    for e in &errors {
        assert_clean(e.as_bytes(), &needles, &format!("error `{e}`"));
    }
    let events = format!("{:?}", f.sink.events());
    assert!(events.contains("CredentialUsed") && events.contains("KekRotated"));
    assert_clean(events.as_bytes(), &needles, "audit events");
    let mut disk = Vec::new();
    for name in ["tradeguard.db", "tradeguard.db-wal", "tradeguard.db-shm"] {
        if let Ok(bytes) = std::fs::read(tmp.path().join(name)) {
            disk.extend(bytes);
        }
    }
    assert!(disk.len() > 4096, "the database was read");
    assert_clean(&disk, &needles, "the SQLite files (open)");
    drop(v);
    store.close().await;
    for name in ["tradeguard.db", "tradeguard.db-wal"] {
        if let Ok(bytes) = std::fs::read(tmp.path().join(name)) {
            assert_clean(&bytes, &needles, &format!("{name} (closed)"));
        }
    }
    let logs = logs.0.lock().unwrap().clone();
    assert!(
        logs.len() > 1000,
        "the subscriber captured the run ({} bytes)",
        logs.len()
    );
    assert!(
        String::from_utf8_lossy(&logs).contains("REDACTED"),
        "the closure's log line was captured"
    );
    assert_clean(&logs, &needles, "the logs");

    // The test can fail: the planted value is findable when it is there.
    assert!(
        std::panic::catch_unwind(|| assert_clean(doc.as_bytes(), &needles, "self-test")).is_err()
    );
}
