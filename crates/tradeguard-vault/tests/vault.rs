//! The vault's promises, on SQLite and PostgreSQL: write-only credentials, every use audited
//! (fail closed), and a clear error for each kind of bad input.

mod common;

use std::time::Duration;

use common::*;
use tradeguard_crypto::CryptoError;
use tradeguard_crypto::envelope::{self, Info, RecipientKey};
use tradeguard_crypto::hpke::{Aead, Kdf, Kem, Suite};
use tradeguard_store::{Backend, Store};
use tradeguard_vault::{CredentialId, ProfileName, Purpose, VaultError, VaultEventKind};

/// Overwrites a BYTEA column of one credential row with `bytes` (backend-specific literal).
async fn set_blob(store: &Store, column: &str, id: &CredentialId, bytes: &[u8]) {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let literal = match store.backend() {
        Backend::Sqlite => format!("X'{hex}'"),
        _ => format!("decode('{hex}', 'hex')"),
    };
    let sql = format!("UPDATE vault_credentials SET {column} = {literal} WHERE id = '{id}'");
    tradeguard_store::testing::execute(store, &sql)
        .await
        .unwrap();
}

/// Copies columns from credential `from` onto credential `to`.
async fn copy_columns(store: &Store, columns: &[&str], from: &CredentialId, to: &CredentialId) {
    let sets: Vec<String> = columns
        .iter()
        .map(|c| format!("{c} = (SELECT {c} FROM vault_credentials WHERE id = '{from}')"))
        .collect();
    let sql = format!(
        "UPDATE vault_credentials SET {} WHERE id = '{to}'",
        sets.join(", ")
    );
    tradeguard_store::testing::execute(store, &sql)
        .await
        .unwrap();
}

/// Checks the crypto error inside a `BadEnvelope`.
type Want = fn(&CryptoError) -> bool;

fn seal_credential(
    to: &tradeguard_vault::GatewayPublicKeys,
    kem: Kem,
    doc: &str,
) -> envelope::Envelope {
    let suite = Suite {
        kem,
        kdf: Kdf::HkdfSha256,
        aead: Aead::ChaCha20Poly1305,
    };
    envelope::seal(to.hpke(kem), suite, Info::Credential, doc.as_bytes()).unwrap()
}

tradeguard_store::backend_tests! {
    /// Import (plain and sealed with both KEMs), use, list, remove; each step emits its event.
    async fn import_use_list_remove_with_events(store) {
        let f = fixture(&store);
        let v = init(&f).await;
        let a = import(&v, "binance", "key-a", "main").await;
        let keys = f.vault.public_keys().await.unwrap();
        assert_eq!(keys, v.public_keys().unwrap(), "public keys readable without the passphrase");
        let doc = credential_json("coinbaseexchange", "key-b", "secret-b");
        let b = v.import_envelope(&seal_credential(&keys, Kem::XWing, &doc), &ProfileName::new("alt").unwrap()).await.unwrap();
        let doc = credential_json("kraken", "key-c", "secret-c");
        let c = v.import_envelope(&seal_credential(&keys, Kem::X25519HkdfSha256, &doc), &ProfileName::new("alt").unwrap()).await.unwrap();

        assert_eq!(secret_of(&v, &a).await, "secret-of-key-a");
        let pp = v.with_secret(&b.id, Purpose::CheckPermissions, |c| c.passphrase().map(|p| p.expose_secret().to_owned())).await.unwrap();
        assert_eq!(pp.as_deref(), Some("pp-1"));
        let listed = f.vault.list().await.unwrap();
        assert_eq!(listed.len(), 3);
        assert_eq!(listed.iter().map(|m| m.profile.as_str()).collect::<Vec<_>>(), ["alt", "alt", "main"]);
        assert!(listed.iter().all(|m| m.kek_version == 1));
        assert_eq!(listed.iter().find(|m| m.id == c.id).unwrap().label, "test kraken");

        v.remove(&c.id).await.unwrap();
        assert_eq!(f.vault.list().await.unwrap().len(), 2);
        let gone = v.with_secret(&c.id, Purpose::SignRequest, |_| ()).await.unwrap_err();
        assert!(matches!(gone, VaultError::UnknownCredential { .. }), "{gone}");

        let kinds: Vec<_> = f.sink.events().iter().map(|e| e.kind).collect();
        use VaultEventKind::*;
        assert_eq!(kinds, [Initialized, CredentialImported, CredentialImported, CredentialImported, CredentialUsed, CredentialUsed, CredentialRemoved]);
        let used = &f.sink.events()[5];
        assert_eq!((used.credential.as_ref(), used.purpose, used.at_ms), (Some(&b.id), Some(Purpose::CheckPermissions), 1_000_000));
    }

    /// A wrong passphrase is a clear error and changes nothing; the right one still works.
    async fn fail_wrong_passphrase_changes_nothing(store) {
        let f = fixture(&store);
        let v = init(&f).await;
        let a = import(&v, "binance", "key-a", "main").await;
        drop(v);
        let params = store.vault_params().await.unwrap();
        let err = f.vault.unlock(&pass("correct horse battery stapler")).await.unwrap_err();
        assert!(matches!(err, VaultError::WrongPassphrase), "{err}");
        assert!(err.to_string().contains("wrong passphrase"));
        assert_eq!(store.vault_params().await.unwrap(), params);
        let v = f.vault.unlock(&pass(PASSPHRASE)).await.unwrap();
        assert_eq!(secret_of(&v, &a).await, "secret-of-key-a");
        let again = f.vault.init(&pass(PASSPHRASE), tradeguard_vault::KdfParams::dangerous_insecure_for_tests()).await.unwrap_err();
        assert!(matches!(again, VaultError::AlreadyInitialized), "{again}");
    }

    /// Before init: no public keys, no unlock.
    async fn fail_not_initialized(store) {
        let f = fixture(&store);
        assert!(matches!(f.vault.unlock(&pass(PASSPHRASE)).await, Err(VaultError::NotInitialized)));
        assert!(matches!(f.vault.public_keys().await, Err(VaultError::NotInitialized)));
        let short = f.vault.init(&pass("short"), tradeguard_vault::KdfParams::dangerous_insecure_for_tests()).await.unwrap_err();
        assert!(matches!(short, VaultError::Invalid { field: "passphrase", .. }), "{short}");
    }

    /// Ciphertexts copied between records, altered, or re-labelled never open.
    async fn fail_tampered_or_moved_ciphertext(store) {
        let f = fixture(&store);
        let v = init(&f).await;
        let a = import(&v, "binance", "key-a", "main").await;
        let b = import(&v, "binance", "key-b", "main").await;
        let c = import(&v, "kraken", "key-c", "main").await;
        let d = import(&v, "kraken", "key-d", "main").await;
        let e = import(&v, "kraken", "key-e", "main").await;

        copy_columns(&store, &["nonce", "ciphertext"], &a.id, &b.id).await;
        copy_columns(&store, &["dk_nonce", "wrapped_dk"], &a.id, &c.id).await;
        set_blob(&store, "ciphertext", &d.id, &[0x41; 64]).await;
        tradeguard_store::testing::execute(&store, &format!("UPDATE vault_credentials SET profile = 'other' WHERE id = '{}'", e.id)).await.unwrap();

        let cases = [(&b, "credential"), (&c, "data key"), (&d, "credential"), (&e, "data key")];
        for (i, (m, what)) in cases.iter().enumerate() {
            let err = v.with_secret(&m.id, Purpose::SignRequest, |_| panic!("closure must not run")).await.unwrap_err();
            match &err {
                VaultError::TamperedCiphertext { what: w, key } => {
                    assert_eq!((*w, key.as_str()), (*what, m.id.as_str()), "TC{} failed: {err}", i + 1);
                }
                other => panic!("TC{} failed: {other}", i + 1),
            }
            assert!(err.to_string().contains("restore"), "TC{} has no remedy: {err}", i + 1);
        }
        assert_eq!(secret_of(&v, &a).await, "secret-of-key-a", "the source record still opens");
    }

    /// A row of the wrong type or length is a corrupt-row error naming table, column and id.
    async fn fail_corrupt_row(store) {
        let f = fixture(&store);
        let v = init(&f).await;
        let a = import(&v, "binance", "key-a", "main").await;
        let b = import(&v, "binance", "key-b", "main").await;
        set_blob(&store, "dk_nonce", &a.id, &[1, 2, 3]).await;
        tradeguard_store::testing::execute(&store, &format!("UPDATE vault_credentials SET exchange = 'mtgox' WHERE id = '{}'", b.id)).await.unwrap();
        let cases = [(&a, "dk_nonce"), (&b, "exchange")];
        for (i, (m, column)) in cases.iter().enumerate() {
            let err = v.with_secret(&m.id, Purpose::SignRequest, |_| ()).await.unwrap_err();
            let VaultError::CorruptRow { table, column: col, key, .. } = &err else { panic!("TC{} failed: {err}", i + 1) };
            assert_eq!((table.as_str(), col.as_str(), key.as_str()), ("vault_credentials", *column, m.id.as_str()), "TC{} failed", i + 1);
            assert!(!err.to_string().contains("mtgox"), "TC{} quotes the value: {err}", i + 1);
        }
        let list = f.vault.list().await.unwrap_err();
        assert!(matches!(list, VaultError::CorruptRow { .. }), "{list}");
    }

    /// Bad envelopes: truncated, sealed to another gateway, sealed for another purpose.
    async fn fail_bad_envelopes(store) {
        let f = fixture(&store);
        let v = init(&f).await;
        let keys = v.public_keys().unwrap();
        let doc = credential_json("binance", "key-a", "secret-a");
        let good = seal_credential(&keys, Kem::X25519HkdfSha256, &doc).to_json();
        let truncated = &good[..good.len() - 10];
        let other = RecipientKey::generate_x25519().unwrap();
        let wrong_key = envelope::seal(&other.public_key(), Suite::default(), Info::Credential, doc.as_bytes()).unwrap().to_json();
        let wrong_info = envelope::seal(&keys.x25519, Suite::default(), Info::Intent, doc.as_bytes()).unwrap().to_json();
        let profile = ProfileName::new("main").unwrap();
        let cases: [(&str, Want); 3] = [
            (truncated, |e| matches!(e, CryptoError::MalformedEnvelope { .. })),
            (&wrong_key, |e| matches!(e, CryptoError::OpenFailed { .. })),
            (&wrong_info, |e| matches!(e, CryptoError::OpenFailed { .. })),
        ];
        for (i, (json, want)) in cases.iter().enumerate() {
            let err = match tradeguard_crypto::envelope::Envelope::from_json(json) {
                Ok(env) => v.import_envelope(&env, &profile).await.unwrap_err(),
                Err(e) => VaultError::BadEnvelope(e),
            };
            let VaultError::BadEnvelope(inner) = &err else { panic!("TC{} failed: {err}", i + 1) };
            assert!(want(inner), "TC{} failed: {err}", i + 1);
            assert!(!err.to_string().contains("secret-a"));
        }
        let Err(err) = v.open_envelope_json(truncated, Info::Credential) else {
            panic!("a truncated envelope opened")
        };
        assert!(matches!(err, VaultError::BadEnvelope(CryptoError::MalformedEnvelope { .. })), "{err}");
        assert!(f.vault.list().await.unwrap().is_empty());
    }

    /// The same API key twice is refused, naming the credential that holds it.
    async fn fail_duplicate_and_unknown(store) {
        let f = fixture(&store);
        let v = init(&f).await;
        let a = import(&v, "binance", "key-a", "main").await;
        let err = v.import(&credential("binance", "key-a", "other"), &ProfileName::new("alt").unwrap()).await.unwrap_err();
        assert!(matches!(&err, VaultError::Duplicate { existing } if *existing == a.id.to_string()), "{err}");
        import(&v, "kraken", "key-a", "main").await; // same key string on another exchange is another key
        let unknown = CredentialId::generate().unwrap();
        assert!(matches!(v.remove(&unknown).await, Err(VaultError::UnknownCredential { .. })));
    }

    /// A refusing sink refuses the operation and nothing changes.
    async fn fail_closed_when_the_sink_refuses(store) {
        let f = fixture(&store);
        let v = init(&f).await;
        let a = import(&v, "binance", "key-a", "main").await;
        f.sink.set_refuse(true);
        let refused = |r: Result<_, VaultError>| matches!(r, Err(VaultError::SinkRefused { .. }));
        assert!(refused(v.import(&credential("kraken", "key-b", "s"), &ProfileName::new("main").unwrap()).await.map(drop)));
        let mut ran = false;
        assert!(refused(v.with_secret(&a.id, Purpose::SignRequest, |_| ran = true).await));
        assert!(!ran, "the closure ran although the use was not recorded");
        assert!(refused(v.remove(&a.id).await));
        assert!(refused(v.rotate_kek().await.map(drop)));
        f.sink.set_refuse(false);
        let listed = f.vault.list().await.unwrap();
        assert_eq!((listed.len(), listed[0].kek_version), (1, 1));
        assert_eq!(secret_of(&v, &a).await, "secret-of-key-a");
    }

    /// Rotation is due after the interval; it re-wraps under the next KEK version.
    async fn rotation_schedule_and_rewrap(store) {
        let f = fixture(&store);
        let vault = f.vault.clone().with_rotation_interval(Duration::from_secs(3600));
        let v = vault.init(&pass(PASSPHRASE), tradeguard_vault::KdfParams::dangerous_insecure_for_tests()).await.unwrap();
        let a = import(&v, "binance", "key-a", "main").await;
        assert!(!v.rotation_due(1_000_000 + 3_599_999).await.unwrap());
        assert!(v.rotation_due(1_000_000 + 3_600_000).await.unwrap());
        f.clock.advance(3_600_000);
        let r = v.rotate_kek().await.unwrap();
        assert_eq!((r.from, r.to, r.rewrapped), (1, 2, 1));
        assert!(!v.rotation_due(tradeguard_vault::Clock::now_ms(&*f.clock)).await.unwrap());
        assert_eq!(f.vault.list().await.unwrap()[0].kek_version, 2);
        assert_eq!(secret_of(&v, &a).await, "secret-of-key-a");
        let b = import(&v, "kraken", "key-b", "main").await;
        assert_eq!(b.kek_version, 2);
        let ev = f.sink.events().into_iter().find(|e| e.kind == VaultEventKind::KekRotated).unwrap();
        assert_eq!((ev.kek_version, ev.rewrapped), (Some(2), Some(1)));
    }

    /// The gateway signs with the key it publishes; the owned copy signs the same.
    async fn gateway_signs_with_its_published_key(store) {
        let f = fixture(&store);
        let v = init(&f).await;
        let keys = f.vault.public_keys().await.unwrap();
        keys.ed25519.verify(b"checkpoint", &v.sign(b"checkpoint")).unwrap();
        let owned = v.gateway_signing_key().unwrap();
        assert_eq!(owned.verifying_key(), keys.ed25519);
        assert!(keys.did().starts_with("did:key:z6Mk"));
        let json: serde_json::Value = serde_json::from_str(&keys.to_json()).unwrap();
        assert_eq!(json["hpke"][1]["kem"], "X-Wing");
        assert_eq!(json["signing"]["did"], keys.did());
    }

    /// Imports racing a rotation: all succeed (an import that loses the race for the KEK reads
    /// the new one) and every one opens afterwards: no data key was wrapped under the KEK the
    /// rotation destroyed.
    async fn imports_racing_a_rotation_lose_nothing(store) {
        let f = fixture(&store);
        let v = std::sync::Arc::new(init(&f).await);
        let mut tasks = Vec::new();
        for i in 0..8 {
            let vi = v.clone();
            tasks.push(tokio::spawn(async move {
                let c = credential("binance", &format!("race-{i}"), "s");
                vi.import(&c, &ProfileName::new("main").unwrap()).await.map(Some)
            }));
            if i == 3 {
                let vr = v.clone();
                tasks.push(tokio::spawn(async move { vr.rotate_kek().await.map(|_| None) }));
            }
        }
        let mut imported = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(Some(_)) => imported += 1,
                Ok(None) => {}
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        let listed = f.vault.list().await.unwrap();
        assert_eq!((listed.len(), imported), (8, 8));
        for m in &listed {
            assert_eq!(secret_of(&v, m).await, "s", "{} lost", m.id);
        }
        assert_eq!(store.vault_current_kek().await.unwrap().unwrap().version, 2);
    }
}
