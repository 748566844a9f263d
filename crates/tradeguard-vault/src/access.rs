//! What an unlocked vault does with credentials: import (a fresh data key under the current
//! KEK), use (decrypt for one closure call, recorded first), remove.

use tradeguard_crypto::envelope::{Envelope, Info};
use tradeguard_crypto::mac::hmac_sha256_parts;
use tradeguard_crypto::secret::{SecretBytes, SecretKey};
use tradeguard_store::vault::{CredentialMetaRow, CredentialRow, KekRow};

use crate::credential::{CredentialId, CredentialMeta, Exchange, ProfileName, Purpose};
use crate::document::CredentialSecret;
use crate::events::{VaultEvent, VaultEventKind};
use crate::seal::{self, Kind};
use crate::vault::{UnlockedVault, data_key_aad, meta_from_row, unwrap_kek};
use crate::{Result, VaultError};

fn credential_aad(id: &str, exchange: &str, profile: &str) -> Vec<u8> {
    seal::aad(
        Kind::Credential,
        &[id.as_bytes(), exchange.as_bytes(), profile.as_bytes()],
    )
}

impl UnlockedVault {
    /// Opens a sealed credential envelope with the gateway's key and stores the credential
    /// under `profile`.
    pub async fn import_envelope(
        &self,
        envelope: &Envelope,
        profile: &ProfileName,
    ) -> Result<CredentialMeta> {
        let opened = self.open_envelope(envelope, Info::Credential)?;
        let credential = CredentialSecret::from_json(opened.expose_secret())?;
        self.import(&credential, profile).await
    }

    /// Stores `credential` under `profile`: a fresh data key wrapped under the current KEK.
    pub async fn import(
        &self,
        credential: &CredentialSecret,
        profile: &ProfileName,
    ) -> Result<CredentialMeta> {
        let exchange = credential.exchange().name();
        let fp = hmac_sha256_parts(
            self.keys.fingerprint.expose_secret(),
            &[
                exchange.as_bytes(),
                b"\0",
                credential.api_key().expose_secret().as_bytes(),
            ],
        );
        let mut tx = self.vault.store.begin().await?;
        if let Some(existing) = tx.vault_credential_id_by_fp(&fp).await? {
            return Err(VaultError::Duplicate { existing });
        }
        let current = tx
            .vault_current_kek()
            .await?
            .ok_or(VaultError::NotInitialized)?;
        tx.rollback().await?;

        let id = CredentialId::generate()?;
        let now = self.vault.clock.now_ms();
        let mut event = VaultEvent::new(VaultEventKind::CredentialImported, now);
        event.credential = Some(id.clone());
        event.kek_version = Some(current.version);
        self.vault.emit(event).await?;

        let (mut tx, kek) = self.claim_current_kek().await?;
        let wrapped = kek.wrapped.as_ref().ok_or_else(|| {
            VaultError::corrupt(
                "vault_keks",
                "wrapped_key",
                &kek.version.to_string(),
                "the current KEK has no key",
            )
        })?;
        let kek_key = unwrap_kek(&self.keys, kek.version, wrapped)?;
        let data_key = SecretKey::<32>::random().map_err(VaultError::Crypto)?;
        let row = CredentialRow {
            meta: CredentialMetaRow {
                id: id.as_str().to_owned(),
                exchange: exchange.to_owned(),
                profile: profile.as_str().to_owned(),
                label: credential.label().to_owned(),
                created_ms: now,
                kek_version: kek.version,
            },
            key_fp: fp.to_vec(),
            data_key: seal::seal(
                &kek_key,
                &data_key_aad(id.as_str(), exchange, profile.as_str(), kek.version),
                data_key.expose_secret(),
            )?,
            secret: seal::seal(
                &data_key,
                &credential_aad(id.as_str(), exchange, profile.as_str()),
                credential.sealed_form()?.expose_secret(),
            )?,
        };
        tx.vault_insert_credential(&row).await.map_err(|e| {
            if e.is_unique_violation() {
                VaultError::Duplicate {
                    existing: "(imported concurrently)".into(),
                }
            } else {
                e.into()
            }
        })?;
        tx.commit().await?;
        meta_from_row(row.meta)
    }

    /// A transaction holding a claim on the current KEK (see `Tx::vault_claim_kek`). A
    /// rotation that retires the KEK between our read and our claim makes us read again.
    async fn claim_current_kek(&self) -> Result<(tradeguard_store::Tx, KekRow)> {
        let mut last = 0;
        for _ in 0..3 {
            let mut tx = self.vault.store.begin().await?;
            let kek = tx.vault_current_kek().await?;
            let kek = kek.ok_or(VaultError::NotInitialized)?;
            if tx.vault_claim_kek(kek.version).await? {
                return Ok((tx, kek));
            }
            last = kek.version;
        }
        Err(VaultError::ConcurrentRotation { version: last })
    }

    /// Decrypts credential `id` for `purpose` and hands it to `f` for one call. The use is
    /// recorded first (refused if the sink refuses); the secret is wiped when `f` returns.
    pub async fn with_secret<R>(
        &self,
        id: &CredentialId,
        purpose: Purpose,
        f: impl FnOnce(&CredentialSecret) -> R,
    ) -> Result<R> {
        let row = self
            .vault
            .store
            .vault_sealed_credential(id.as_str())
            .await?;
        let row = row.ok_or_else(|| VaultError::UnknownCredential { id: id.to_string() })?;
        let c = &row.credential;
        let m = &c.meta;
        let exchange = Exchange::from_name(&m.exchange).map_err(|_| {
            VaultError::corrupt("vault_credentials", "exchange", &m.id, "unknown exchange")
        })?;
        let mut event = VaultEvent::new(VaultEventKind::CredentialUsed, self.vault.clock.now_ms());
        event.credential = Some(id.clone());
        event.purpose = Some(purpose);
        event.kek_version = Some(m.kek_version);
        self.vault.emit(event).await?;

        let kek = unwrap_kek(&self.keys, m.kek_version, &row.kek)?;
        let dk_aad = data_key_aad(&m.id, &m.exchange, &m.profile, m.kek_version);
        let at = ("vault_credentials", "dk_nonce", m.id.as_str());
        let data_key = seal::open_key(&kek, &dk_aad, &c.data_key, Kind::DataKey, at)?;
        let aad = credential_aad(&m.id, &m.exchange, &m.profile);
        let at = ("vault_credentials", "nonce", m.id.as_str());
        let plain: SecretBytes = seal::open(&data_key, &aad, &c.secret, Kind::Credential, at)?;
        let secret =
            CredentialSecret::from_sealed(exchange, m.label.clone(), plain.expose_secret())
                .ok_or_else(|| VaultError::TamperedCiphertext {
                    what: "credential",
                    key: m.id.clone(),
                })?;
        Ok(f(&secret))
    }

    /// Removes credential `id` (its sealed secret is deleted with the row).
    pub async fn remove(&self, id: &CredentialId) -> Result<()> {
        let store = &self.vault.store;
        let meta = store.vault_credential_meta(id.as_str()).await?;
        let meta = meta.ok_or_else(|| VaultError::UnknownCredential { id: id.to_string() })?;
        let mut event =
            VaultEvent::new(VaultEventKind::CredentialRemoved, self.vault.clock.now_ms());
        event.credential = Some(id.clone());
        event.kek_version = Some(meta.kek_version);
        self.vault.emit(event).await?;
        let mut tx = store.begin().await?;
        if !tx.vault_delete_credential(id.as_str()).await? {
            return Err(VaultError::UnknownCredential { id: id.to_string() });
        }
        tx.commit().await?;
        Ok(())
    }
}
