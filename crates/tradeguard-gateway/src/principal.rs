//! Principals: who may talk to the gateway. Each is a `did:key` (Ed25519) or an HMAC key id,
//! with scopes; revoked principals are refused. The [`Directory`] keeps them in memory (the
//! authentication path never waits for the database) and reloads from the store on change.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::Serialize;
use tradeguard_crypto::did::decode_ed25519_did;
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::Ed25519VerifyingKey;
use tradeguard_store::Store;
use tradeguard_store::gateway::PrincipalRow;

use crate::error::{GatewayError, Result};
use crate::scope::ScopeSet;

/// How a principal's requests are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    /// `ed25519` with the key named by the `did:key`.
    Ed25519(Ed25519VerifyingKey),
    /// `hmac-sha256` with a shared key held by [`HmacKeys`].
    Hmac,
}

impl KeyKind {
    /// The RFC 9421 `alg` name.
    pub fn alg(&self) -> &'static str {
        match self {
            Self::Ed25519(_) => "ed25519",
            Self::Hmac => "hmac-sha256",
        }
    }
}

/// A principal as the gateway knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalRecord {
    /// `did:key:...` or HMAC key id.
    pub keyid: String,
    /// How it signs.
    pub kind: KeyKind,
    /// What it may do.
    pub scopes: ScopeSet,
    /// Operator's label.
    pub label: String,
    /// Revoked principals are refused.
    pub revoked: bool,
}

impl PrincipalRecord {
    /// An Ed25519 principal from its `did:key`.
    pub fn ed25519(did: &str, scopes: ScopeSet, label: &str) -> Result<Self> {
        let key =
            decode_ed25519_did(did).map_err(|e| GatewayError::invalid("did", e.to_string()))?;
        Ok(Self {
            keyid: did.to_owned(),
            kind: KeyKind::Ed25519(key),
            scopes,
            label: label.to_owned(),
            revoked: false,
        })
    }

    /// A shared-key principal (its key must be in [`HmacKeys`]).
    pub fn hmac(keyid: &str, scopes: ScopeSet, label: &str) -> Result<Self> {
        if keyid.is_empty() || keyid.len() > 256 || keyid.starts_with("did:") {
            return Err(GatewayError::invalid(
                "keyid",
                "must be 1-256 bytes and not a did",
            ));
        }
        Ok(Self {
            keyid: keyid.to_owned(),
            kind: KeyKind::Hmac,
            scopes,
            label: label.to_owned(),
            revoked: false,
        })
    }

    fn from_row(row: &PrincipalRow) -> Result<Self> {
        let scopes = ScopeSet::from_csv(&row.scopes).ok_or_else(|| GatewayError::Internal {
            reason: format!("principal `{}` has an unknown scope stored", row.keyid),
        })?;
        let mut p = match row.kind.as_str() {
            "ed25519" => Self::ed25519(&row.keyid, scopes, &row.label)?,
            _ => Self::hmac(&row.keyid, scopes, &row.label)?,
        };
        p.revoked = row.revoked;
        Ok(p)
    }

    /// The stored form.
    pub fn to_row(&self, created_ms: i64) -> PrincipalRow {
        PrincipalRow {
            keyid: self.keyid.clone(),
            kind: self.kind.alg().to_owned(),
            scopes: self.scopes.to_csv(),
            label: self.label.clone(),
            revoked: self.revoked,
            created_ms,
            revoked_ms: None,
        }
    }
}

/// How the caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    /// An RFC 9421 signature on this request.
    Signature,
    /// A bearer session token (read scopes only).
    Session,
}

/// The authenticated caller of one request, with the scopes in effect for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// Key id (`did:key` or HMAC key id).
    pub keyid: String,
    /// Scopes in effect (for a session: read only).
    pub scopes: ScopeSet,
    /// How it authenticated.
    pub method: AuthMethod,
}

/// Shared HMAC keys of `hmac-sha256` principals (held by the vault).
pub trait HmacKeys: Send + Sync {
    /// The key for `keyid`, if one is held.
    fn key(&self, keyid: &str) -> Option<SecretBytes>;
}

/// HMAC keys in memory (tests, demos).
#[derive(Default)]
pub struct MemoryHmacKeys(RwLock<HashMap<String, SecretBytes>>);

impl MemoryHmacKeys {
    /// Adds or replaces a key.
    pub fn insert(&self, keyid: &str, key: SecretBytes) {
        self.0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(keyid.to_owned(), key);
    }
}

impl HmacKeys for MemoryHmacKeys {
    fn key(&self, keyid: &str) -> Option<SecretBytes> {
        let map = self.0.read().unwrap_or_else(|p| p.into_inner());
        map.get(keyid)
            .map(|k| SecretBytes::from_slice(k.expose_secret()))
    }
}

/// The principals, in memory, backed by the store.
#[derive(Clone)]
pub struct Directory {
    store: Store,
    map: Arc<RwLock<HashMap<String, Arc<PrincipalRecord>>>>,
}

impl Directory {
    /// Loads every principal from the store.
    pub async fn load(store: Store) -> Result<Self> {
        let dir = Self {
            store,
            map: Arc::default(),
        };
        dir.reload().await?;
        Ok(dir)
    }

    /// Re-reads the store (after a change here or on another replica).
    pub async fn reload(&self) -> Result<()> {
        let rows = self.store.gw_principals().await?;
        let map = rows
            .iter()
            .map(|r| PrincipalRecord::from_row(r).map(|p| (p.keyid.clone(), Arc::new(p))))
            .collect::<Result<HashMap<_, _>>>()?;
        *self.map.write().unwrap_or_else(|p| p.into_inner()) = map;
        Ok(())
    }

    /// Reloads whenever another replica announces a principal change (or messages were
    /// lost), until the bus closes.
    pub async fn follow(self, bus: Arc<dyn tradeguard_store::cache::EventBus>) -> Result<()> {
        use tradeguard_store::cache::BusEvent;
        let mut sub = bus.subscribe().await?;
        while let Some(event) = sub.recv().await {
            let relevant = matches!(&event, BusEvent::Gap)
                || matches!(&event, BusEvent::Message(m) if m == "principals");
            if relevant && let Err(e) = self.reload().await {
                tracing::warn!(error = %e, "principal reload failed");
            }
        }
        Ok(())
    }

    /// The principal with this key id, revoked or not (shared: the authentication path
    /// copies nothing).
    pub fn get(&self, keyid: &str) -> Option<Arc<PrincipalRecord>> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        map.get(keyid).cloned()
    }

    /// Every principal, by key id.
    pub fn list(&self) -> Vec<PrincipalRecord> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<_> = map.values().map(|p| PrincipalRecord::clone(p)).collect();
        all.sort_by(|a, b| a.keyid.cmp(&b.keyid));
        all
    }

    /// Adds or replaces a principal (durable, then visible here).
    pub async fn put(&self, p: &PrincipalRecord, now_ms: i64) -> Result<()> {
        self.store.gw_principal_upsert(&p.to_row(now_ms)).await?;
        self.reload().await
    }

    /// Revokes a principal and ends its sessions; false if unknown or already revoked.
    pub async fn revoke(&self, keyid: &str, now_ms: i64) -> Result<bool> {
        let changed = self.store.gw_principal_revoke(keyid, now_ms).await?;
        self.reload().await?;
        Ok(changed)
    }
}
