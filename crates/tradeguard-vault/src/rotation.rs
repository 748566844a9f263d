//! KEK rotation: a new KEK version, every data key re-wrapped under it, the old KEK retired
//! and its wrapped bytes destroyed, all in one store transaction. A crash (or error) at any
//! step rolls everything back: every credential still opens under the old KEK, and the next
//! rotation starts afresh.

use tradeguard_crypto::secret::SecretKey;
use tradeguard_store::vault::KekRow;

use crate::events::{VaultEvent, VaultEventKind};
use crate::seal::{self, Kind};
use crate::vault::{UnlockedVault, data_key_aad, unwrap_kek, wrap_kek};
use crate::{Result, VaultError};

/// What a rotation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotationReport {
    /// The retired KEK version.
    pub from: u32,
    /// The new current KEK version.
    pub to: u32,
    /// How many data keys were re-wrapped.
    pub rewrapped: u64,
}

/// The steps of a rotation, in order; the crash tests inject a failure after each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The transaction has begun.
    Begun,
    /// The old KEK is marked retired.
    Retired,
    /// The new KEK row is inserted.
    NewKekInserted,
    /// The n-th data key (from 0) is re-wrapped.
    Rewrapped(u64),
    /// The old KEK's wrapped bytes are destroyed.
    OldKekDestroyed,
}

impl Step {
    #[cfg(test)]
    fn name(self) -> &'static str {
        match self {
            Self::Begun => "begun",
            Self::Retired => "retired",
            Self::NewKekInserted => "new_kek_inserted",
            Self::Rewrapped(_) => "rewrapped",
            Self::OldKekDestroyed => "old_kek_destroyed",
        }
    }
}

impl UnlockedVault {
    /// True when the current KEK is at least the rotation interval old at `now_ms`.
    pub async fn rotation_due(&self, now_ms: i64) -> Result<bool> {
        let current = self.vault.store.vault_current_kek().await?;
        let current = current.ok_or(crate::VaultError::NotInitialized)?;
        let interval = i64::try_from(self.vault.rotation_interval.as_millis()).unwrap_or(i64::MAX);
        Ok(now_ms.saturating_sub(current.created_ms) >= interval)
    }

    /// Rotates the KEK now (on schedule or on command). Another replica rotating at the same
    /// moment makes one of the two fail with [`VaultError::ConcurrentRotation`], changing
    /// nothing.
    pub async fn rotate_kek(&self) -> Result<RotationReport> {
        self.rotate_with(|_| Ok(())).await
    }

    /// [`Self::rotate_kek`], failing with [`VaultError::InjectedFault`] at `step` (crash tests).
    #[cfg(test)]
    pub(crate) async fn rotate_kek_failing_at(&self, step: Step) -> Result<RotationReport> {
        self.rotate_with(|s| match s == step {
            true => Err(VaultError::InjectedFault(s.name())),
            false => Ok(()),
        })
        .await
    }

    /// The rotation; `fault` is called after each step (a no-op outside the crash tests).
    async fn rotate_with(&self, fault: impl Fn(Step) -> Result<()>) -> Result<RotationReport> {
        let store = &self.vault.store;
        let old = store
            .vault_current_kek()
            .await?
            .ok_or(VaultError::NotInitialized)?;
        let to = old
            .version
            .checked_add(1)
            .ok_or_else(|| VaultError::invalid("KEK version", "exhausted"))?;
        let now = self.vault.clock.now_ms();
        let mut event = VaultEvent::new(VaultEventKind::KekRotated, now);
        event.kek_version = Some(to);
        event.rewrapped = Some(store.vault_count_under_kek(old.version).await?);
        self.vault.emit(event).await?;

        let mut tx = store.begin().await?;
        fault(Step::Begun)?;
        // Retiring first locks the KEK row: a concurrent import waits, then sees it retired.
        if !tx.vault_retire_kek(old.version, now).await? {
            return Err(VaultError::ConcurrentRotation {
                version: old.version,
            });
        }
        fault(Step::Retired)?;
        let key = old.version.to_string();
        let old_wrapped = old.wrapped.as_ref().ok_or_else(|| {
            VaultError::corrupt(
                "vault_keks",
                "wrapped_key",
                &key,
                "the current KEK has no key",
            )
        })?;
        let old_key = unwrap_kek(&self.keys, old.version, old_wrapped)?;
        let new_key = SecretKey::<32>::random().map_err(VaultError::Crypto)?;
        tx.vault_insert_kek(&KekRow {
            version: to,
            wrapped: Some(wrap_kek(&self.keys, to, &new_key)?),
            created_ms: now,
            retired_ms: None,
            wrap_count: 0,
        })
        .await?;
        fault(Step::NewKekInserted)?;
        let mut rewrapped = 0u64;
        for row in tx.vault_wrapped_data_keys(old.version).await? {
            let at = ("vault_credentials", "dk_nonce", row.id.as_str());
            let old_aad = data_key_aad(&row.id, &row.exchange, &row.profile, old.version);
            let data_key = seal::open_key(&old_key, &old_aad, &row.data_key, Kind::DataKey, at)?;
            let new_aad = data_key_aad(&row.id, &row.exchange, &row.profile, to);
            let blob = seal::seal(&new_key, &new_aad, data_key.expose_secret())?;
            if !tx
                .vault_rewrap_data_key(&row.id, old.version, to, &blob)
                .await?
            {
                return Err(VaultError::UnknownCredential { id: row.id });
            }
            fault(Step::Rewrapped(rewrapped))?;
            rewrapped += 1;
        }
        tx.vault_destroy_kek(old.version).await?;
        fault(Step::OldKekDestroyed)?;
        tx.commit().await?;
        tracing::info!(from = old.version, to, rewrapped, "vault KEK rotated");
        Ok(RotationReport {
            from: old.version,
            to,
            rewrapped,
        })
    }
}
