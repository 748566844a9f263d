//! [`Vault`] (locked: metadata and public keys only) and [`UnlockedVault`] (after the
//! passphrase: open envelopes and sign here; import, use and remove in `access`; rotation in
//! `rotation`).

use std::sync::Arc;
use std::time::Duration;

use tradeguard_crypto::ct::ct_eq;
use tradeguard_crypto::envelope::{self, Envelope, Info, Opened};
use tradeguard_crypto::secret::{SecretBytes, SecretKey, SecretString};
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_store::Store;
use tradeguard_store::vault::{CredentialMetaRow, KekRow, SealedBlob, VaultParamsRow};

use crate::clock::{Clock, SystemClock};
use crate::credential::{CredentialId, CredentialMeta, Exchange, ProfileName};
use crate::events::{VaultEvent, VaultEventKind, VaultEventSink};
use crate::gateway_keys::{GatewayKeys, GatewayPublicKeys};
use crate::kdf::{KdfParams, MasterKeys, SALT_LEN};
use crate::seal::{self, Kind};
use crate::{Result, VaultError};

/// Default KEK rotation interval.
pub const DEFAULT_ROTATION_INTERVAL: Duration = Duration::from_secs(24 * 3600);
/// Shortest passphrase `init` accepts (characters).
pub const MIN_PASSPHRASE_CHARS: usize = 8;
const KDF_NAME: &str = "argon2id";

/// The vault before the passphrase: lists metadata and public keys, and unlocks.
#[derive(Clone)]
pub struct Vault {
    pub(crate) store: Store,
    pub(crate) sink: Arc<dyn VaultEventSink>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rotation_interval: Duration,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// The vault after the passphrase. Holds the keys derived from the master key (never the
/// master key itself) and the gateway's unsealed private keys; all are wiped on drop.
pub struct UnlockedVault {
    pub(crate) vault: Vault,
    pub(crate) keys: MasterKeys,
    gateway: GatewayKeys,
}

impl std::fmt::Debug for UnlockedVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnlockedVault").finish_non_exhaustive()
    }
}

impl Vault {
    /// A vault over a migrated store; events go to `sink`. System clock, rotation every 24 h.
    pub fn new(store: Store, sink: Arc<dyn VaultEventSink>) -> Self {
        Self {
            store,
            sink,
            clock: Arc::new(SystemClock),
            rotation_interval: DEFAULT_ROTATION_INTERVAL,
        }
    }

    /// Uses `clock` for event times and the rotation schedule.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Rotates the KEK every `interval` (see [`UnlockedVault::rotation_due`]).
    pub fn with_rotation_interval(mut self, interval: Duration) -> Self {
        self.rotation_interval = interval;
        self
    }

    /// True when this database holds a vault.
    pub async fn is_initialized(&self) -> Result<bool> {
        Ok(self.store.vault_params().await?.is_some())
    }

    /// Creates the vault: KDF parameters, KEK version 1 and the gateway's keys. Fails with
    /// [`VaultError::AlreadyInitialized`] when one exists.
    pub async fn init(
        &self,
        passphrase: &SecretString,
        params: KdfParams,
    ) -> Result<UnlockedVault> {
        if passphrase.expose_secret().chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(VaultError::invalid(
                "passphrase",
                format!("must be at least {MIN_PASSPHRASE_CHARS} characters"),
            ));
        }
        if self.is_initialized().await? {
            return Err(VaultError::AlreadyInitialized);
        }
        let salt: [u8; SALT_LEN] =
            tradeguard_crypto::random::array().map_err(VaultError::Crypto)?;
        let keys = derive(passphrase, salt.to_vec(), params).await?;
        let gateway = GatewayKeys::generate()?;
        let now = self.clock.now_ms();
        let kek = SecretKey::<32>::random().map_err(VaultError::Crypto)?;
        let kek_row = KekRow {
            version: 1,
            wrapped: Some(wrap_kek(&keys, 1, &kek)?),
            created_ms: now,
            retired_ms: None,
            wrap_count: 0,
        };
        let params_row = VaultParamsRow {
            kdf: KDF_NAME.into(),
            m_cost_kib: params.m_cost_kib,
            t_cost: params.t_cost,
            p_cost: params.p_cost,
            salt: salt.to_vec(),
            check_value: keys.check_value.to_vec(),
            created_ms: now,
        };
        let gateway_rows = gateway.seal(&keys.gateway, now)?;
        let mut event = VaultEvent::new(VaultEventKind::Initialized, now);
        event.kek_version = Some(1);
        self.emit(event).await?;
        let mut tx = self.store.begin().await?;
        tx.vault_insert_params(&params_row).await.map_err(|e| {
            if e.is_unique_violation() {
                VaultError::AlreadyInitialized
            } else {
                e.into()
            }
        })?;
        tx.vault_insert_kek(&kek_row).await?;
        for row in &gateway_rows {
            tx.vault_insert_gateway_key(row).await?;
        }
        tx.commit().await?;
        Ok(UnlockedVault {
            vault: self.clone(),
            keys,
            gateway,
        })
    }

    /// Derives the master key from `passphrase` with the stored parameters, checks it, and
    /// unseals the gateway's keys. A wrong passphrase is [`VaultError::WrongPassphrase`] and
    /// changes nothing.
    pub async fn unlock(&self, passphrase: &SecretString) -> Result<UnlockedVault> {
        let p = self
            .store
            .vault_params()
            .await?
            .ok_or(VaultError::NotInitialized)?;
        let corrupt =
            |column: &str, reason: &str| VaultError::corrupt("vault_params", column, "1", reason);
        if p.kdf != KDF_NAME {
            return Err(corrupt("kdf", "unknown KDF (expected argon2id)"));
        }
        if !(8..=64).contains(&p.salt.len()) {
            return Err(corrupt("salt", "must be 8 to 64 bytes"));
        }
        if p.check_value.len() != 32 {
            return Err(corrupt("check_value", "must be 32 bytes"));
        }
        let params = KdfParams {
            m_cost_kib: p.m_cost_kib,
            t_cost: p.t_cost,
            p_cost: p.p_cost,
        };
        params
            .validate()
            .map_err(|_| corrupt("m_cost_kib", "Argon2id parameters out of range"))?;
        let keys = derive(passphrase, p.salt, params).await?;
        if !ct_eq(&keys.check_value, &p.check_value) {
            return Err(VaultError::WrongPassphrase);
        }
        let rows = self.store.vault_gateway_keys().await?;
        let gateway = GatewayKeys::unseal(&rows, &keys.gateway)?;
        Ok(UnlockedVault {
            vault: self.clone(),
            keys,
            gateway,
        })
    }

    /// The gateway's public keys (no passphrase needed).
    pub async fn public_keys(&self) -> Result<GatewayPublicKeys> {
        if !self.is_initialized().await? {
            return Err(VaultError::NotInitialized);
        }
        GatewayPublicKeys::from_rows(&self.store.vault_gateway_keys().await?)
    }

    /// Every credential's metadata (no passphrase needed; there are no secrets in it).
    pub async fn list(&self) -> Result<Vec<CredentialMeta>> {
        self.store
            .vault_credentials()
            .await?
            .into_iter()
            .map(meta_from_row)
            .collect()
    }

    /// Records an event, refusing the operation if the sink refuses it.
    pub(crate) async fn emit(&self, event: VaultEvent) -> Result<()> {
        self.sink
            .record(&event)
            .await
            .map_err(|e| VaultError::SinkRefused {
                event: event.kind.name(),
                reason: e.reason,
            })
    }
}

async fn derive(passphrase: &SecretString, salt: Vec<u8>, params: KdfParams) -> Result<MasterKeys> {
    let passphrase = passphrase.clone();
    // Argon2id with 64 MiB takes a while: keep it off the async worker threads.
    tokio::task::spawn_blocking(move || MasterKeys::derive(&passphrase, &salt, params))
        .await
        .map_err(|_| {
            VaultError::Crypto(tradeguard_crypto::CryptoError::Internal("Argon2id task"))
        })?
}

pub(crate) fn kek_aad(version: u32) -> Vec<u8> {
    seal::aad(Kind::Kek, &[&version.to_be_bytes()])
}

pub(crate) fn data_key_aad(id: &str, exchange: &str, profile: &str, kek_version: u32) -> Vec<u8> {
    seal::aad(
        Kind::DataKey,
        &[
            id.as_bytes(),
            exchange.as_bytes(),
            profile.as_bytes(),
            &kek_version.to_be_bytes(),
        ],
    )
}

pub(crate) fn wrap_kek(keys: &MasterKeys, version: u32, kek: &SecretKey<32>) -> Result<SealedBlob> {
    seal::seal(&keys.kek_wrap, &kek_aad(version), kek.expose_secret())
}

pub(crate) fn unwrap_kek(
    keys: &MasterKeys,
    version: u32,
    blob: &SealedBlob,
) -> Result<SecretKey<32>> {
    let key = version.to_string();
    seal::open_key(
        &keys.kek_wrap,
        &kek_aad(version),
        blob,
        Kind::Kek,
        ("vault_keks", "nonce", &key),
    )
}

pub(crate) fn meta_from_row(r: CredentialMetaRow) -> Result<CredentialMeta> {
    let corrupt = |column: &str, reason: &str| {
        VaultError::corrupt("vault_credentials", column, &r.id, reason)
    };
    Ok(CredentialMeta {
        id: CredentialId::parse(&r.id).map_err(|_| corrupt("id", "not a credential id"))?,
        exchange: Exchange::from_name(&r.exchange)
            .map_err(|_| corrupt("exchange", "unknown exchange"))?,
        profile: ProfileName::new(&r.profile)
            .map_err(|_| corrupt("profile", "not a profile name"))?,
        label: r.label,
        created_ms: r.created_ms,
        kek_version: r.kek_version,
    })
}

impl UnlockedVault {
    /// The locked handle (metadata, public keys).
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Every credential's metadata.
    pub async fn list(&self) -> Result<Vec<CredentialMeta>> {
        self.vault.list().await
    }

    /// The gateway's public keys.
    pub fn public_keys(&self) -> Result<GatewayPublicKeys> {
        self.gateway.public()
    }

    /// Opens an envelope sealed to the gateway (X25519 or X-Wing) for `info`.
    pub fn open_envelope(&self, envelope: &Envelope, info: Info) -> Result<Opened<SecretBytes>> {
        envelope::open(&self.gateway.recipient, info, envelope).map_err(VaultError::BadEnvelope)
    }

    /// Parses and opens an envelope document.
    pub fn open_envelope_json(&self, json: &str, info: Info) -> Result<Opened<SecretBytes>> {
        let envelope = Envelope::from_json(json).map_err(VaultError::BadEnvelope)?;
        self.open_envelope(&envelope, info)
    }

    /// Signs `msg` with the gateway's Ed25519 key.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.gateway.signing.sign(msg)
    }

    /// An owned copy of the gateway's Ed25519 signing key, for signers that take ownership
    /// (the audit log's checkpoint signer). It zeroizes on drop like the vault's own copy.
    pub fn gateway_signing_key(&self) -> Result<Ed25519SigningKey> {
        Ed25519SigningKey::from_seed(self.gateway.signing.expose_seed()).map_err(VaultError::Crypto)
    }

    /// An owned copy of the gateway's HPKE private keys (X25519 and X-Wing), for the sealed
    /// intent intake, which opens packets outside the vault. It zeroizes on drop.
    pub fn intent_recipient(&self) -> Result<envelope::RecipientKey> {
        use tradeguard_crypto::hpke::{Kem, PrivateKey};
        let copy = |kem: Kem| {
            let k = self
                .gateway
                .recipient
                .key_for(kem)
                .ok_or(VaultError::Crypto(
                    tradeguard_crypto::CryptoError::Internal("HPKE key"),
                ))?;
            PrivateKey::from_bytes(kem, k.to_secret_bytes().expose_secret())
                .map_err(VaultError::Crypto)
        };
        envelope::RecipientKey::new(copy(Kem::X25519HkdfSha256)?, Some(copy(Kem::XWing)?))
            .map_err(VaultError::Crypto)
    }
}
