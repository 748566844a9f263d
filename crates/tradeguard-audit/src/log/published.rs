//! The public keys of the log's signers, kept beside its checkpoints (the `meta` row
//! [`STORED_KEYS_META`], one key per line, every key that ever signed), so that an operator
//! can check a data dir without looking the key up elsewhere.
//!
//! That check proves less than one with a key from an independent source: whoever can rewrite
//! the log can rewrite this row too. `tradeguard audit verify` uses the row only when no
//! `--key` is given, and says so.

use tradeguard_store::{MetaKey, Store};

use crate::AuditError;
use crate::keys::LogKey;

/// The `meta` key under which the log keeps its signers' public keys.
pub const STORED_KEYS_META: &str = "audit.vkeys";

fn meta_key() -> Result<MetaKey, AuditError> {
    Ok(MetaKey::new(STORED_KEYS_META)?)
}

/// Adds `keys` to the stored list (keeping the keys of earlier signers, for old checkpoints).
pub(crate) async fn record_public_keys(store: &Store, keys: &[LogKey]) -> Result<(), AuditError> {
    let key = meta_key()?;
    let stored = store.meta_get(&key).await?.unwrap_or_default();
    let mut lines: Vec<String> = stored.lines().map(str::to_owned).collect();
    let before = lines.len();
    for k in keys.iter().map(LogKey::to_text) {
        if !lines.contains(&k) {
            lines.push(k);
        }
    }
    if lines.len() != before {
        store.meta_put(&key, &lines.join("\n")).await?;
    }
    Ok(())
}

/// The public keys the log has recorded for its signers (empty if none).
pub async fn stored_public_keys(store: &Store) -> Result<Vec<LogKey>, AuditError> {
    let Some(text) = store.meta_get(&meta_key()?).await? else {
        return Ok(Vec::new());
    };
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            LogKey::parse(l).map_err(|e| {
                AuditError::Corrupt(format!("meta row {STORED_KEYS_META} holds a bad key: {e}"))
            })
        })
        .collect()
}
