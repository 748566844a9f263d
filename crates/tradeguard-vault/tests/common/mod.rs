//! Shared helpers for the vault's integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use tradeguard_crypto::secret::SecretString;
use tradeguard_store::Store;
use tradeguard_vault::{
    CredentialMeta, CredentialSecret, KdfParams, ManualClock, MemorySink, ProfileName,
    UnlockedVault, Vault,
};

pub const PASSPHRASE: &str = "correct horse battery staple";

pub fn pass(s: &str) -> SecretString {
    SecretString::new(s.to_owned())
}

/// A vault on `store` with cheap KDF parameters, a manual clock at 1_000_000 ms and a memory sink.
pub struct Fixture {
    pub vault: Vault,
    pub sink: Arc<MemorySink>,
    pub clock: Arc<ManualClock>,
}

pub fn fixture(store: &Store) -> Fixture {
    let sink = Arc::new(MemorySink::new());
    let clock = Arc::new(ManualClock::new(1_000_000));
    let vault = Vault::new(store.clone(), sink.clone()).with_clock(clock.clone());
    Fixture { vault, sink, clock }
}

pub async fn init(f: &Fixture) -> UnlockedVault {
    f.vault
        .init(&pass(PASSPHRASE), KdfParams::dangerous_insecure_for_tests())
        .await
        .expect("init")
}

pub fn credential_json(exchange: &str, api_key: &str, api_secret: &str) -> String {
    let passphrase = if exchange == "coinbaseexchange" {
        "\"pp-1\""
    } else {
        "null"
    };
    format!(
        r#"{{"exchange":"{exchange}","api_key":"{api_key}","api_secret":"{api_secret}","passphrase":{passphrase},"label":"test {exchange}"}}"#
    )
}

pub fn credential(exchange: &str, api_key: &str, api_secret: &str) -> CredentialSecret {
    CredentialSecret::from_json(credential_json(exchange, api_key, api_secret).as_bytes()).unwrap()
}

pub async fn import(
    v: &UnlockedVault,
    exchange: &str,
    api_key: &str,
    profile: &str,
) -> CredentialMeta {
    let secret = format!("secret-of-{api_key}");
    v.import(
        &credential(exchange, api_key, &secret),
        &ProfileName::new(profile).unwrap(),
    )
    .await
    .expect("import")
}

/// The API secret of credential `meta`, read through the only door.
pub async fn secret_of(v: &UnlockedVault, meta: &CredentialMeta) -> String {
    v.with_secret(&meta.id, tradeguard_vault::Purpose::SignRequest, |c| {
        c.api_secret().expose_secret().to_owned()
    })
    .await
    .expect("with_secret")
}
