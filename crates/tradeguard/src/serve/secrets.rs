//! [`VaultSecrets`]: the exchange connectors' [`SecretSource`] over the vault.
//!
//! Every signing call asks the vault for the credential afresh: the vault decrypts it, records
//! the use in the audit log, lends it to the signer for that one call and wipes it. Nothing
//! here keeps a decrypted secret between calls.
//!
//! # Sync over async
//! `SecretSource::with_secret` is synchronous (connectors sign inside a plain function), while
//! `UnlockedVault::with_secret` is async (it reads the store and appends to the audit log). We
//! bridge with [`tokio::task::block_in_place`] + [`tokio::runtime::Handle::block_on`]: the
//! worker thread that is signing gives its other tasks to the runtime's other workers and
//! blocks on the vault future. This needs the multi-thread runtime (`serve` runs on it); on a
//! current-thread runtime `block_in_place` would panic, so that case is refused with an error
//! instead. Called from a thread outside any runtime, it blocks on the runtime handle given
//! at construction.

use std::sync::Arc;

use tokio::runtime::{Handle, RuntimeFlavor};
use tradeguard_exchange::model::ExchangeId;
use tradeguard_exchange::{ApiCredential, ExchangeError, SecretSource};
use tradeguard_vault::{CredentialId, CredentialSecret, Purpose, UnlockedVault};

/// One vault credential, lent to one connector.
pub struct VaultSecrets {
    vault: Arc<UnlockedVault>,
    credential: CredentialId,
    exchange: ExchangeId,
    runtime: Handle,
}

impl VaultSecrets {
    /// A source of `credential` (for a connector of `exchange`), blocking on `runtime` when
    /// called outside it.
    pub fn new(
        vault: Arc<UnlockedVault>,
        credential: CredentialId,
        exchange: ExchangeId,
        runtime: Handle,
    ) -> Self {
        Self {
            vault,
            credential,
            exchange,
            runtime,
        }
    }

    fn error(&self, reason: String) -> ExchangeError {
        ExchangeError::Config {
            exchange: self.exchange,
            what: "credential",
            reason: format!("vault credential `{}`: {reason}", self.credential),
        }
    }
}

/// The vault's purpose for a connector's purpose string (`"binance GET /sapi/v1/account/
/// apiRestrictions"`): permission checks are told apart, everything else signs a request.
fn purpose(of: &str) -> Purpose {
    let lower = of.to_ascii_lowercase();
    if lower.contains("apirestrictions") || lower.contains("permission") {
        Purpose::CheckPermissions
    } else {
        Purpose::SignRequest
    }
}

/// The connector's view of a credential: copies that zeroize on drop, made inside the vault's
/// closure and dropped before it returns.
fn api_credential(c: &CredentialSecret) -> ApiCredential {
    ApiCredential {
        // The key id is sent in a request header; the connector needs it as text.
        api_key: c.api_key().expose_secret().to_owned(),
        api_secret: c.api_secret().clone(),
        passphrase: c.passphrase().cloned(),
    }
}

impl SecretSource for VaultSecrets {
    fn with_secret(
        &self,
        purpose_text: &str,
        f: &mut dyn FnMut(&ApiCredential) -> Result<(), ExchangeError>,
    ) -> Result<(), ExchangeError> {
        let use_it = |secret: &CredentialSecret| {
            let cred = api_credential(secret);
            f(&cred)
        };
        let lend = self
            .vault
            .with_secret(&self.credential, purpose(purpose_text), use_it);
        let result = match Handle::try_current() {
            Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| h.block_on(lend))
            }
            Ok(_) => {
                return Err(self.error(
                    "signing needs the multi-thread async runtime (`tradeguard serve` uses it)"
                        .into(),
                ));
            }
            Err(_) => self.runtime.block_on(lend),
        };
        result.map_err(|e| self.error(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeguard_crypto::secret::SecretString;
    use tradeguard_vault::{KdfParams, MemorySink, ProfileName, Vault, VaultEventKind};

    /// A vault with one Kraken credential, in a temporary SQLite store.
    async fn vault() -> (
        tempfile::TempDir,
        Arc<UnlockedVault>,
        Arc<MemorySink>,
        CredentialId,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = tradeguard_store::Store::open_sqlite(&dir.path().join("v.db"))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let sink = Arc::new(MemorySink::new());
        let pass = SecretString::new("a passphrase for tests".into());
        let vault = Vault::new(store, sink.clone())
            .init(&pass, KdfParams::dangerous_insecure_for_tests())
            .await
            .unwrap();
        let doc = br#"{"exchange":"kraken","api_key":"key-1","api_secret":"c2VjcmV0","passphrase":null,"label":"t"}"#;
        let cred = CredentialSecret::from_json(doc).unwrap();
        let meta = vault
            .import(&cred, &ProfileName::new("p").unwrap())
            .await
            .unwrap();
        (dir, Arc::new(vault), sink, meta.id)
    }

    fn key_of(src: &VaultSecrets) -> Result<String, ExchangeError> {
        tradeguard_exchange::credentials::with_credential(
            ExchangeId::Kraken,
            src,
            "kraken POST /0/private/Balance",
            |c| Ok(c.api_key.clone()),
        )
    }

    /// Each use decrypts afresh and is recorded; a removed credential is gone at once (nothing
    /// was cached); a current-thread runtime is refused rather than blocked.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lends_the_credential_per_call_and_never_caches_it() {
        let (_dir, vault, sink, id) = vault().await;
        let src = Arc::new(VaultSecrets::new(
            vault.clone(),
            id.clone(),
            ExchangeId::Kraken,
            Handle::current(),
        ));
        assert_eq!(key_of(&src).unwrap(), "key-1", "inside the runtime");
        let outside = src.clone();
        let from_thread = std::thread::spawn(move || key_of(&outside)).join().unwrap();
        assert_eq!(from_thread.unwrap(), "key-1", "from a plain thread");
        let uses = sink
            .events()
            .iter()
            .filter(|e| e.kind == VaultEventKind::CredentialUsed)
            .count();
        assert_eq!(uses, 2, "every use is recorded");
        vault.remove(&id).await.unwrap();
        let e = key_of(&src).unwrap_err().to_string();
        assert!(e.contains(id.as_str()), "{e}");
        let refused = std::thread::spawn(move || {
            let current = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            current.block_on(async { key_of(&src) })
        });
        let e = refused.join().unwrap().unwrap_err();
        assert!(e.to_string().contains("multi-thread"), "{e}");
    }

    #[test]
    fn purposes_are_told_apart() {
        let cases = [
            (
                "binance GET /sapi/v1/account/apiRestrictions",
                "check_permissions",
            ),
            ("kraken POST /0/private/AddOrder", "sign_request"),
            ("coinbase key_permissions", "check_permissions"),
        ];
        for (i, (text, want)) in cases.iter().enumerate() {
            assert_eq!(purpose(text).name(), *want, "TC{i} failed");
        }
    }
}
