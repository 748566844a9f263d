//! The credential vault's tables (migration 0002): KDF parameters, key-encryption keys,
//! sealed credentials and the gateway's sealed keys. Used by `tradeguard-vault`, which owns
//! every format; this module stores nonces and ciphertexts and never sees a key in clear.
//!
//! Concurrency: an import bumps the current KEK's `wrap_count` ([`Tx::vault_claim_kek`]) and
//! a rotation retires it ([`Tx::vault_retire_kek`]); both are conditional UPDATEs of the same
//! row, so on PostgreSQL one waits for the other and the loser sees the KEK retired, and on
//! SQLite the write lock taken at `BEGIN` serialises them. A data key is therefore never
//! wrapped under a KEK that a concurrent rotation is destroying.

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::row::RowDecoder;
use crate::{Backend, Result, Store, StoreError, Tx};

/// A nonce and an AEAD ciphertext (ciphertext ‖ tag), as the vault sealed them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedBlob {
    /// The AEAD nonce.
    pub nonce: Vec<u8>,
    /// Ciphertext ‖ tag.
    pub ciphertext: Vec<u8>,
}

/// The passphrase KDF parameters and check value (one row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultParamsRow {
    /// KDF name (`argon2id`).
    pub kdf: String,
    /// Memory cost in KiB.
    pub m_cost_kib: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Parallelism.
    pub p_cost: u32,
    /// The salt.
    pub salt: Vec<u8>,
    /// The passphrase check value.
    pub check_value: Vec<u8>,
    /// When the vault was created, Unix milliseconds.
    pub created_ms: i64,
}

/// One key-encryption key version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KekRow {
    /// Version, from 1.
    pub version: u32,
    /// The wrapped key; `None` once a rotation destroyed it.
    pub wrapped: Option<SealedBlob>,
    /// When it was created, Unix milliseconds.
    pub created_ms: i64,
    /// When a rotation retired it; `None` for the current KEK.
    pub retired_ms: Option<i64>,
    /// How many data keys were wrapped under it by imports.
    pub wrap_count: u64,
}

/// A credential's metadata (everything but its key material).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialMetaRow {
    /// Credential id.
    pub id: String,
    /// Exchange name.
    pub exchange: String,
    /// Profile name.
    pub profile: String,
    /// Label.
    pub label: String,
    /// When it was imported, Unix milliseconds.
    pub created_ms: i64,
    /// The KEK version its data key is wrapped under.
    pub kek_version: u32,
}

/// A full credential row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialRow {
    /// Metadata.
    pub meta: CredentialMetaRow,
    /// Keyed fingerprint of the API key (duplicate detection).
    pub key_fp: Vec<u8>,
    /// The data key wrapped under KEK `meta.kek_version`.
    pub data_key: SealedBlob,
    /// The secret fields sealed under the data key.
    pub secret: SealedBlob,
}

/// A credential row with the wrapped KEK its data key needs, read in one statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedCredentialRow {
    /// The credential.
    pub credential: CredentialRow,
    /// KEK `credential.meta.kek_version`, still wrapped under the master key.
    pub kek: SealedBlob,
}

/// A data key to re-wrap during a rotation, with the identity its wrapping is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedDataKeyRow {
    /// Credential id.
    pub id: String,
    /// Exchange name.
    pub exchange: String,
    /// Profile name.
    pub profile: String,
    /// The wrapped data key.
    pub data_key: SealedBlob,
}

/// One of the gateway's sealed private keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayKeyRow {
    /// Key name (`x25519`, `xwing`, `ed25519`).
    pub name: String,
    /// The public key, in clear.
    pub public_key: Vec<u8>,
    /// The private key sealed under the master key.
    pub sealed: SealedBlob,
    /// When it was created, Unix milliseconds.
    pub created_ms: i64,
}

const KEK_COLS: &str = "version, nonce, wrapped_key, created_ms, retired_ms, wrap_count";
const CRED_COLS: &str = "c.id, c.exchange, c.profile, c.label, c.created_ms, c.kek_version, \
                         c.key_fp, c.dk_nonce, c.wrapped_dk, c.nonce, c.ciphertext";

type Sql<T> = std::result::Result<T, sqlx::Error>;

impl Store {
    /// The KDF parameters, or `None` before `tradeguard init`.
    pub async fn vault_params(&self) -> Result<Option<VaultParamsRow>> {
        let mut conn = self.acquire().await?;
        let row = sqlx::query(
            "SELECT kdf, m_cost_kib, t_cost, p_cost, salt, check_value, created_ms \
             FROM vault_params WHERE id = 1",
        )
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| self.err(e).in_row("vault_params", "1"))?;
        row.map(|r| decode_params(&r)).transpose()
    }

    /// Every KEK version, ascending.
    pub async fn vault_keks(&self) -> Result<Vec<KekRow>> {
        let mut conn = self.acquire().await?;
        let sql = format!("SELECT {KEK_COLS} FROM vault_keks ORDER BY version");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.err(e).in_row("vault_keks", "?"))?;
        rows.iter().map(decode_kek).collect()
    }

    /// The current (unretired) KEK, if any.
    pub async fn vault_current_kek(&self) -> Result<Option<KekRow>> {
        let mut conn = self.acquire().await?;
        current_kek(&mut conn, self.backend()).await
    }

    /// Every credential's metadata, ordered by profile, exchange and id.
    pub async fn vault_credentials(&self) -> Result<Vec<CredentialMetaRow>> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "SELECT {CRED_COLS} FROM vault_credentials c ORDER BY c.profile, c.exchange, c.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.err(e).in_row("vault_credentials", "?"))?;
        rows.iter()
            .map(|r| decode_credential(r).map(|c| c.meta))
            .collect()
    }

    /// One credential's metadata, or `None` when no credential has this id.
    pub async fn vault_credential_meta(&self, id: &str) -> Result<Option<CredentialMetaRow>> {
        let mut conn = self.acquire().await?;
        let sql = format!("SELECT {CRED_COLS} FROM vault_credentials c WHERE c.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| self.err(e).in_row("vault_credentials", id))?;
        row.map(|r| decode_credential(&r).map(|c| c.meta))
            .transpose()
    }

    /// One credential with its wrapped KEK, or `None` when no credential has this id. A
    /// credential whose KEK was destroyed is a [`StoreError::CorruptRow`].
    pub async fn vault_sealed_credential(&self, id: &str) -> Result<Option<SealedCredentialRow>> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "SELECT {CRED_COLS}, k.nonce AS kek_nonce, k.wrapped_key AS kek_wrapped \
             FROM vault_credentials c JOIN vault_keks k ON k.version = c.kek_version \
             WHERE c.id = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| self.err(e).in_row("vault_credentials", id))?;
        let Some(row) = row else { return Ok(None) };
        let credential = decode_credential(&row)?;
        let d = RowDecoder::new(&row, "vault_keks", id);
        let (nonce, wrapped) = (d.opt_bytes("kek_nonce")?, d.opt_bytes("kek_wrapped")?);
        let (Some(nonce), Some(ciphertext)) = (nonce, wrapped) else {
            let reason = "the KEK this credential needs was destroyed".to_owned();
            return Err(d.corrupt("wrapped_key", reason));
        };
        Ok(Some(SealedCredentialRow {
            credential,
            kek: SealedBlob { nonce, ciphertext },
        }))
    }

    /// How many credentials have their data key wrapped under KEK `version`.
    pub async fn vault_count_under_kek(&self, version: u32) -> Result<u64> {
        let mut conn = self.acquire().await?;
        let row = sqlx::query("SELECT COUNT(*) AS n FROM vault_credentials WHERE kek_version = $1")
            .bind(i64::from(version))
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        RowDecoder::new(&row, "vault_credentials", "?").int("n")
    }

    /// The gateway's sealed keys, by name.
    pub async fn vault_gateway_keys(&self) -> Result<Vec<GatewayKeyRow>> {
        let mut conn = self.acquire().await?;
        let rows = sqlx::query(
            "SELECT name, public_key, nonce, sealed, created_ms FROM vault_gateway_keys ORDER BY name",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| self.err(e).in_row("vault_gateway_keys", "?"))?;
        rows.iter().map(decode_gateway_key).collect()
    }
}

impl Tx {
    /// Stores the KDF parameters; a second call fails with [`StoreError::Constraint`].
    pub async fn vault_insert_params(&mut self, p: &VaultParamsRow) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO vault_params (id, kdf, m_cost_kib, t_cost, p_cost, salt, check_value, created_ms) \
             VALUES (1, $1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(p.kdf.as_str())
        .bind(i64::from(p.m_cost_kib))
        .bind(i64::from(p.t_cost))
        .bind(i64::from(p.p_cost))
        .bind(p.salt.as_slice())
        .bind(p.check_value.as_slice())
        .bind(p.created_ms)
        .execute(self.conn())
        .await;
        done.map(drop).map_err(|e| self.err(e))
    }

    /// Stores one of the gateway's sealed keys.
    pub async fn vault_insert_gateway_key(&mut self, k: &GatewayKeyRow) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO vault_gateway_keys (name, public_key, nonce, sealed, created_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(k.name.as_str())
        .bind(k.public_key.as_slice())
        .bind(k.sealed.nonce.as_slice())
        .bind(k.sealed.ciphertext.as_slice())
        .bind(k.created_ms)
        .execute(self.conn())
        .await;
        done.map(drop).map_err(|e| self.err(e))
    }

    /// Stores a new KEK version (current: `retired_ms` is ignored and stored NULL).
    pub async fn vault_insert_kek(&mut self, k: &KekRow) -> Result<()> {
        let wrapped = k.wrapped.as_ref().ok_or(StoreError::InvalidInput {
            what: "KEK",
            rule: "a new KEK must carry its wrapped key",
        })?;
        let done = sqlx::query(
            "INSERT INTO vault_keks (version, nonce, wrapped_key, created_ms, retired_ms, wrap_count) \
             VALUES ($1, $2, $3, $4, NULL, 0)",
        )
        .bind(i64::from(k.version))
        .bind(wrapped.nonce.as_slice())
        .bind(wrapped.ciphertext.as_slice())
        .bind(k.created_ms)
        .execute(self.conn())
        .await;
        done.map(drop).map_err(|e| self.err(e))
    }

    /// [`Store::vault_current_kek`] inside this transaction.
    pub async fn vault_current_kek(&mut self) -> Result<Option<KekRow>> {
        let backend = self.backend();
        current_kek(self.conn(), backend).await
    }

    /// Counts one more data key under KEK `version` if it is still current; `false` when a
    /// rotation retired it meanwhile (re-read the current KEK and wrap under that one).
    pub async fn vault_claim_kek(&mut self, version: u32) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE vault_keks SET wrap_count = wrap_count + 1 \
             WHERE version = $1 AND retired_ms IS NULL",
        )
        .bind(i64::from(version))
        .execute(self.conn())
        .await;
        done.map(|r| r.rows_affected() == 1)
            .map_err(|e| self.err(e))
    }

    /// Retires KEK `version` if it is still current; `false` when another rotation did first.
    pub async fn vault_retire_kek(&mut self, version: u32, now_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE vault_keks SET retired_ms = $2 WHERE version = $1 AND retired_ms IS NULL",
        )
        .bind(i64::from(version))
        .bind(now_ms)
        .execute(self.conn())
        .await;
        done.map(|r| r.rows_affected() == 1)
            .map_err(|e| self.err(e))
    }

    /// Destroys the wrapped bytes of a retired KEK (after every data key was re-wrapped).
    pub async fn vault_destroy_kek(&mut self, version: u32) -> Result<()> {
        let done = sqlx::query(
            "UPDATE vault_keks SET nonce = NULL, wrapped_key = NULL \
             WHERE version = $1 AND retired_ms IS NOT NULL",
        )
        .bind(i64::from(version))
        .execute(self.conn())
        .await;
        done.map(drop).map_err(|e| self.err(e))
    }

    /// The id of the credential with this API-key fingerprint, if any.
    pub async fn vault_credential_id_by_fp(&mut self, key_fp: &[u8]) -> Result<Option<String>> {
        let done = sqlx::query("SELECT id FROM vault_credentials WHERE key_fp = $1")
            .bind(key_fp)
            .fetch_optional(self.conn())
            .await;
        let row = done.map_err(|e| self.err(e).in_row("vault_credentials", "?"))?;
        row.map(|r| RowDecoder::new(&r, "vault_credentials", "?").text("id"))
            .transpose()
    }

    /// Stores a sealed credential.
    pub async fn vault_insert_credential(&mut self, c: &CredentialRow) -> Result<()> {
        let m = &c.meta;
        let done = sqlx::query(
            "INSERT INTO vault_credentials (id, exchange, profile, label, created_ms, kek_version, \
             key_fp, dk_nonce, wrapped_dk, nonce, ciphertext) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(m.id.as_str())
        .bind(m.exchange.as_str())
        .bind(m.profile.as_str())
        .bind(m.label.as_str())
        .bind(m.created_ms)
        .bind(i64::from(m.kek_version))
        .bind(c.key_fp.as_slice())
        .bind(c.data_key.nonce.as_slice())
        .bind(c.data_key.ciphertext.as_slice())
        .bind(c.secret.nonce.as_slice())
        .bind(c.secret.ciphertext.as_slice())
        .execute(self.conn())
        .await;
        done.map(drop).map_err(|e| self.err(e))
    }

    /// The data keys wrapped under KEK `version`, for re-wrapping.
    pub async fn vault_wrapped_data_keys(
        &mut self,
        version: u32,
    ) -> Result<Vec<WrappedDataKeyRow>> {
        let done = sqlx::query(
            "SELECT id, exchange, profile, dk_nonce, wrapped_dk FROM vault_credentials \
             WHERE kek_version = $1 ORDER BY id",
        )
        .bind(i64::from(version))
        .fetch_all(self.conn())
        .await;
        let rows = done.map_err(|e| self.err(e).in_row("vault_credentials", "?"))?;
        rows.iter().map(decode_wrapped_dk).collect()
    }

    /// Replaces a credential's wrapped data key, moving it from KEK `from` to KEK `to`;
    /// `false` when the row is gone or no longer under `from`.
    pub async fn vault_rewrap_data_key(
        &mut self,
        id: &str,
        from: u32,
        to: u32,
        data_key: &SealedBlob,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE vault_credentials SET kek_version = $3, dk_nonce = $4, wrapped_dk = $5 \
             WHERE id = $1 AND kek_version = $2",
        )
        .bind(id)
        .bind(i64::from(from))
        .bind(i64::from(to))
        .bind(data_key.nonce.as_slice())
        .bind(data_key.ciphertext.as_slice())
        .execute(self.conn())
        .await;
        done.map(|r| r.rows_affected() == 1)
            .map_err(|e| self.err(e))
    }

    /// Deletes a credential; `false` when there was none with this id.
    pub async fn vault_delete_credential(&mut self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM vault_credentials WHERE id = $1")
            .bind(id)
            .execute(self.conn())
            .await;
        done.map(|r| r.rows_affected() == 1)
            .map_err(|e| self.err(e))
    }
}

async fn current_kek(conn: &mut AnyConnection, backend: Backend) -> Result<Option<KekRow>> {
    let sql = format!(
        "SELECT {KEK_COLS} FROM vault_keks WHERE retired_ms IS NULL ORDER BY version DESC LIMIT 1"
    );
    let row: Sql<Option<AnyRow>> = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_optional(conn)
        .await;
    let row = row.map_err(|e| StoreError::from_sqlx(backend, e).in_row("vault_keks", "?"))?;
    row.map(|r| decode_kek(&r)).transpose()
}

fn decode_params(row: &AnyRow) -> Result<VaultParamsRow> {
    let d = RowDecoder::new(row, "vault_params", "1");
    Ok(VaultParamsRow {
        kdf: d.text("kdf")?,
        m_cost_kib: d.int("m_cost_kib")?,
        t_cost: d.int("t_cost")?,
        p_cost: d.int("p_cost")?,
        salt: d.bytes("salt")?,
        check_value: d.bytes("check_value")?,
        created_ms: d.i64("created_ms")?,
    })
}

fn decode_kek(row: &AnyRow) -> Result<KekRow> {
    let version: u32 = RowDecoder::new(row, "vault_keks", "?").int("version")?;
    let key = version.to_string();
    let d = RowDecoder::new(row, "vault_keks", &key);
    let wrapped = match (d.opt_bytes("nonce")?, d.opt_bytes("wrapped_key")?) {
        (Some(nonce), Some(ciphertext)) => Some(SealedBlob { nonce, ciphertext }),
        (None, None) => None,
        _ => {
            return Err(d.corrupt(
                "wrapped_key",
                "nonce and key must be both set or both NULL".into(),
            ));
        }
    };
    Ok(KekRow {
        version,
        wrapped,
        created_ms: d.i64("created_ms")?,
        retired_ms: d.opt_i64("retired_ms")?,
        wrap_count: d.int("wrap_count")?,
    })
}

fn decode_credential(row: &AnyRow) -> Result<CredentialRow> {
    let id = RowDecoder::new(row, "vault_credentials", "?").text("id")?;
    let d = RowDecoder::new(row, "vault_credentials", &id);
    Ok(CredentialRow {
        meta: CredentialMetaRow {
            exchange: d.text("exchange")?,
            profile: d.text("profile")?,
            label: d.text("label")?,
            created_ms: d.i64("created_ms")?,
            kek_version: d.int("kek_version")?,
            id: id.clone(),
        },
        key_fp: d.bytes("key_fp")?,
        data_key: SealedBlob {
            nonce: d.bytes("dk_nonce")?,
            ciphertext: d.bytes("wrapped_dk")?,
        },
        secret: SealedBlob {
            nonce: d.bytes("nonce")?,
            ciphertext: d.bytes("ciphertext")?,
        },
    })
}

fn decode_wrapped_dk(row: &AnyRow) -> Result<WrappedDataKeyRow> {
    let id = RowDecoder::new(row, "vault_credentials", "?").text("id")?;
    let d = RowDecoder::new(row, "vault_credentials", &id);
    Ok(WrappedDataKeyRow {
        exchange: d.text("exchange")?,
        profile: d.text("profile")?,
        data_key: SealedBlob {
            nonce: d.bytes("dk_nonce")?,
            ciphertext: d.bytes("wrapped_dk")?,
        },
        id,
    })
}

fn decode_gateway_key(row: &AnyRow) -> Result<GatewayKeyRow> {
    let name = RowDecoder::new(row, "vault_gateway_keys", "?").text("name")?;
    let d = RowDecoder::new(row, "vault_gateway_keys", &name);
    Ok(GatewayKeyRow {
        public_key: d.bytes("public_key")?,
        sealed: SealedBlob {
            nonce: d.bytes("nonce")?,
            ciphertext: d.bytes("sealed")?,
        },
        created_ms: d.i64("created_ms")?,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(tag: u8) -> SealedBlob {
        SealedBlob {
            nonce: vec![tag; 12],
            ciphertext: vec![tag; 48],
        }
    }

    fn kek(version: u32) -> KekRow {
        KekRow {
            version,
            wrapped: Some(blob(version as u8)),
            created_ms: 1000 * i64::from(version),
            retired_ms: None,
            wrap_count: 0,
        }
    }

    fn credential(id: &str, fp: u8) -> CredentialRow {
        CredentialRow {
            meta: CredentialMetaRow {
                id: id.into(),
                exchange: "binance".into(),
                profile: "main".into(),
                label: "l".into(),
                created_ms: 5,
                kek_version: 1,
            },
            key_fp: vec![fp; 32],
            data_key: blob(7),
            secret: blob(8),
        }
    }

    crate::backend_tests! {
        /// Import, rotate (claim, retire, re-wrap, destroy) and delete round-trip on both
        /// backends, and a credential whose KEK was destroyed reads as a corrupt row.
        async fn vault_rows_round_trip(store) {
            assert!(store.vault_current_kek().await.unwrap().is_none());
            let mut tx = store.begin().await.unwrap();
            tx.vault_insert_kek(&kek(1)).await.unwrap();
            assert!(tx.vault_claim_kek(1).await.unwrap());
            tx.vault_insert_credential(&credential("c1", 1)).await.unwrap();
            tx.commit().await.unwrap();

            let got = store.vault_sealed_credential("c1").await.unwrap().unwrap();
            assert_eq!(got.credential, credential("c1", 1));
            assert_eq!(got.kek, blob(1));

            let mut tx = store.begin().await.unwrap();
            assert_eq!(tx.vault_credential_id_by_fp(&[1; 32]).await.unwrap().as_deref(), Some("c1"));
            assert!(tx.vault_retire_kek(1, 9).await.unwrap());
            assert!(!tx.vault_retire_kek(1, 9).await.unwrap(), "retire is conditional");
            assert!(!tx.vault_claim_kek(1).await.unwrap(), "a retired KEK takes no new keys");
            tx.vault_insert_kek(&kek(2)).await.unwrap();
            let dks = tx.vault_wrapped_data_keys(1).await.unwrap();
            assert_eq!(dks.len(), 1);
            assert!(tx.vault_rewrap_data_key("c1", 1, 2, &blob(9)).await.unwrap());
            tx.vault_destroy_kek(1).await.unwrap();
            tx.commit().await.unwrap();

            let keks = store.vault_keks().await.unwrap();
            assert_eq!(keks[0].wrapped, None);
            assert_eq!(keks[0].retired_ms, Some(9));
            assert_eq!(keks[0].wrap_count, 1);
            assert_eq!(store.vault_current_kek().await.unwrap().unwrap().version, 2);
            let got = store.vault_sealed_credential("c1").await.unwrap().unwrap();
            assert_eq!(got.credential.data_key, blob(9));
            assert_eq!(got.credential.meta.kek_version, 2);

            crate::testing::execute(&store, "UPDATE vault_credentials SET kek_version = 1").await.unwrap();
            let err = store.vault_sealed_credential("c1").await.unwrap_err();
            assert!(matches!(err, StoreError::CorruptRow { ref table, .. } if table == "vault_keks"), "{err}");

            let mut tx = store.begin().await.unwrap();
            let dup = tx.vault_insert_credential(&credential("c2", 1)).await.unwrap_err();
            assert!(dup.is_unique_violation(), "{dup}");
            drop(tx);
            let mut tx = store.begin().await.unwrap();
            assert!(tx.vault_delete_credential("c1").await.unwrap());
            assert!(!tx.vault_delete_credential("c1").await.unwrap());
            tx.commit().await.unwrap();
            assert!(store.vault_credentials().await.unwrap().is_empty());
        }
    }
}
