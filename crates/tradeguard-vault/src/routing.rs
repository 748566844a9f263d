//! The installation's routing secret: 32 random bytes, sealed under the master key like the
//! gateway's private keys (row `routing` of `vault_gateway_keys`, no public half), from which
//! the gateway derives each principal's routing key for sealed intents
//! (`tradeguard_gateway::intents::DerivedRoutingKeys`). Made on first use, so a vault made
//! before routing keys existed gets one at its next unlock; never rotated (a new secret would
//! give every principal a new routing key and orphan the ids of intents in flight).

use tradeguard_crypto::secret::SecretKey;
use tradeguard_store::vault::GatewayKeyRow;

use crate::seal::{self, Kind};
use crate::vault::UnlockedVault;
use crate::{Result, VaultError};

/// The row's name in `vault_gateway_keys`.
const NAME: &str = "routing";
const TABLE: &str = "vault_gateway_keys";

fn aad() -> Vec<u8> {
    seal::aad(Kind::GatewayKey, &[NAME.as_bytes(), b""])
}

impl UnlockedVault {
    /// The installation's routing secret, made and stored (sealed) on first use. Two callers
    /// racing to make it agree on the one stored first.
    pub async fn routing_secret(&self) -> Result<SecretKey<32>> {
        if let Some(k) = self.stored_routing_secret().await? {
            return Ok(k);
        }
        let fresh = SecretKey::<32>::random().map_err(VaultError::Crypto)?;
        let row = GatewayKeyRow {
            name: NAME.to_owned(),
            public_key: Vec::new(),
            sealed: seal::seal(&self.keys.gateway, &aad(), fresh.expose_secret())?,
            created_ms: self.vault.clock.now_ms(),
        };
        let mut tx = self.vault.store.begin().await?;
        match tx.vault_insert_gateway_key(&row).await {
            Ok(()) => {
                tx.commit().await?;
                Ok(fresh)
            }
            Err(e) if e.is_unique_violation() => {
                drop(tx);
                self.stored_routing_secret().await?.ok_or_else(|| {
                    VaultError::corrupt(TABLE, "name", NAME, "row vanished after a conflict")
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn stored_routing_secret(&self) -> Result<Option<SecretKey<32>>> {
        let rows = self.vault.store.vault_gateway_keys().await?;
        let Some(row) = rows.iter().find(|r| r.name == NAME) else {
            return Ok(None);
        };
        let at = (TABLE, "nonce", NAME);
        seal::open_key(
            &self.keys.gateway,
            &aad(),
            &row.sealed,
            Kind::GatewayKey,
            at,
        )
        .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tradeguard_crypto::secret::SecretString;
    use tradeguard_store::Store;

    use crate::{KdfParams, MemorySink, Vault};

    async fn vault(dir: &std::path::Path, name: &str) -> Vault {
        let store = Store::open_sqlite(&dir.join(name)).await.unwrap();
        store.migrate().await.unwrap();
        let vault = Vault::new(store, Arc::new(MemorySink::new()));
        vault
            .init(&pass(), KdfParams::dangerous_insecure_for_tests())
            .await
            .unwrap();
        vault
    }

    fn pass() -> SecretString {
        SecretString::new("routing test passphrase".into())
    }

    async fn routing_secret(vault: &Vault) -> tradeguard_crypto::secret::SecretKey<32> {
        vault
            .unlock(&pass())
            .await
            .unwrap()
            .routing_secret()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn routing_secret_is_made_once_and_kept_sealed_per_installation() {
        let dir = tempfile::tempdir().unwrap();
        let a = vault(dir.path(), "a.db").await;
        let first = routing_secret(&a).await;
        let again = routing_secret(&a).await;
        assert_eq!(
            first.expose_secret(),
            again.expose_secret(),
            "kept across unlocks"
        );
        let b = vault(dir.path(), "b.db").await;
        let other = routing_secret(&b).await;
        assert_ne!(first.expose_secret(), other.expose_secret());
        let rows = a.store.vault_gateway_keys().await.unwrap();
        let row = rows.iter().find(|r| r.name == "routing").unwrap();
        let sealed = &row.sealed.ciphertext;
        assert!(
            !sealed.windows(32).any(|w| w == first.expose_secret()),
            "sealed at rest"
        );
        assert!(a.public_keys().await.is_ok(), "the public keys still read");
    }
}
