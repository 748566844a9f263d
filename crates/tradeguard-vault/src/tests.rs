//! Crash-safety of KEK rotation: fail at every step, reopen, and check nothing was lost and
//! a later rotation completes (both backends).

use std::sync::Arc;

use tradeguard_crypto::secret::SecretString;
use tradeguard_store::Store;

use crate::rotation::Step;
use crate::{CredentialSecret, KdfParams, MemorySink, ProfileName, Purpose, Vault, VaultError};

const PASSPHRASE: &str = "rotation test passphrase";

fn steps(credentials: u64) -> Vec<Step> {
    let mut s = vec![Step::Begun, Step::Retired, Step::NewKekInserted];
    s.extend((0..credentials).map(Step::Rewrapped));
    s.push(Step::OldKekDestroyed);
    s
}

async fn secrets(vault: &Vault) -> Vec<(String, String)> {
    let unlocked = vault
        .unlock(&SecretString::new(PASSPHRASE.into()))
        .await
        .unwrap();
    let mut out = Vec::new();
    for m in unlocked.list().await.unwrap() {
        let s = unlocked
            .with_secret(&m.id, Purpose::SignRequest, |c| {
                c.api_secret().expose_secret().to_owned()
            })
            .await
            .unwrap_or_else(|e| panic!("credential {} lost: {e}", m.id));
        out.push((m.id.to_string(), s));
    }
    out
}

async fn rotation_survives_a_failure_at_every_step(store: Store) {
    let sink = Arc::new(MemorySink::new());
    let vault = Vault::new(store.clone(), sink.clone());
    let unlocked = vault
        .init(
            &SecretString::new(PASSPHRASE.into()),
            KdfParams::dangerous_insecure_for_tests(),
        )
        .await
        .unwrap();
    let profile = ProfileName::new("main").unwrap();
    for (i, ex) in ["binance", "kraken", "coinbase"].iter().enumerate() {
        let doc = format!(r#"{{"exchange":"{ex}","api_key":"key-{i}","api_secret":"secret-{i}"}}"#);
        let c = CredentialSecret::from_json(doc.as_bytes()).unwrap();
        unlocked.import(&c, &profile).await.unwrap();
    }
    let before = secrets(&vault).await;
    assert_eq!(before.len(), 3);
    drop(unlocked);

    for (i, step) in steps(3).into_iter().enumerate() {
        // A fresh process each time: unlock from the store, crash mid-rotation.
        let unlocked = vault
            .unlock(&SecretString::new(PASSPHRASE.into()))
            .await
            .unwrap();
        let err = unlocked.rotate_kek_failing_at(step).await.unwrap_err();
        assert!(
            matches!(err, VaultError::InjectedFault(_)),
            "TC{i} ({step:?}): {err}"
        );
        drop(unlocked);
        assert_eq!(
            secrets(&vault).await,
            before,
            "TC{i} ({step:?}) lost a credential"
        );
        let keks = store.vault_keks().await.unwrap();
        assert_eq!(
            keks.len(),
            1,
            "TC{i} ({step:?}): the failed rotation left a KEK behind"
        );
        assert!(keks[0].retired_ms.is_none() && keks[0].wrapped.is_some());
    }

    let unlocked = vault
        .unlock(&SecretString::new(PASSPHRASE.into()))
        .await
        .unwrap();
    let report = unlocked.rotate_kek().await.unwrap();
    assert_eq!((report.from, report.to, report.rewrapped), (1, 2, 3));
    assert_eq!(secrets(&vault).await, before);
    let keks = store.vault_keks().await.unwrap();
    assert!(keks[0].wrapped.is_none(), "the retired KEK is destroyed");
    assert!(keks[1].retired_ms.is_none());
    let again = unlocked.rotate_kek().await.unwrap();
    assert_eq!((again.from, again.to), (2, 3));
    assert_eq!(secrets(&vault).await, before);
}

tradeguard_store::backend_tests! {
    async fn rotation_crash_at_each_step_loses_nothing(store) {
        rotation_survives_a_failure_at_every_step(store).await;
    }
}
