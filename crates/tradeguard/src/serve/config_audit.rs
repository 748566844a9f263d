//! What `serve` records about its configuration file at each start: `config.loaded` with the
//! file's SHA-256 and its top-level sections, and, when the file differs from the one of the
//! previous start, `config.changed` naming the sections and keys (`section.key`) whose values
//! changed. Events carry names only, never values. The previous start's digests are kept in
//! the `meta` row `config.digests`: the file's SHA-256 and one SHA-256 per key over its name
//! and TOML value (the configuration file holds no secrets; those are in the vault).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use tradeguard_audit::event::AuditEvent;
use tradeguard_audit::sink::AuditSink;
use tradeguard_crypto::digest::{sha256, sha256_parts};
use tradeguard_store::{MetaKey, Store};

/// The `meta` key of the previous start's digests.
pub const META_KEY: &str = "config.digests";

/// The digests of one configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigDigest {
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Top-level sections and keys, sorted.
    pub sections: Vec<String>,
    /// `section` or `section.key` → hex SHA-256 of the name and its TOML value.
    pub keys: BTreeMap<String, String>,
}

impl ConfigDigest {
    /// The digests of `text`, a TOML document.
    pub fn of(text: &str) -> Result<Self, toml::de::Error> {
        let table: toml::Table = toml::from_str(text)?;
        let digest = |name: &str, value: &toml::Value| {
            let value = value.to_string();
            hex(&sha256_parts(&[name.as_bytes(), b"\n", value.as_bytes()]))
        };
        let mut keys = BTreeMap::new();
        for (section, value) in &table {
            match value {
                toml::Value::Table(inner) => {
                    for (key, v) in inner {
                        let name = format!("{section}.{key}");
                        keys.insert(name.clone(), digest(&name, v));
                    }
                }
                other => {
                    keys.insert(section.clone(), digest(section, other));
                }
            }
        }
        Ok(Self {
            sha256: hex(&sha256(text.as_bytes())),
            sections: table.keys().cloned().collect(),
            keys,
        })
    }

    /// The form kept in the `meta` row.
    fn to_json(&self) -> Value {
        json!({"sha256": self.sha256, "sections": self.sections, "keys": self.keys})
    }

    /// Reads the `meta` row's form; `None` when it is not one.
    fn from_json(v: &Value) -> Option<Self> {
        let strings = |v: &Value| -> Option<Vec<String>> {
            v.as_array()?
                .iter()
                .map(|s| s.as_str().map(String::from))
                .collect()
        };
        let keys = v["keys"]
            .as_object()?
            .iter()
            .map(|(k, d)| Some((k.clone(), d.as_str()?.to_owned())))
            .collect::<Option<BTreeMap<_, _>>>()?;
        Some(Self {
            sha256: v["sha256"].as_str()?.to_owned(),
            sections: strings(&v["sections"])?,
            keys,
        })
    }

    /// The keys (and keyless sections) added, removed or changed since `previous`, sorted.
    pub fn changed_since(&self, previous: &Self) -> Vec<String> {
        let names: BTreeSet<&String> = self.keys.keys().chain(previous.keys.keys()).collect();
        names
            .into_iter()
            .filter(|n| self.keys.get(*n) != previous.keys.get(*n))
            .cloned()
            .collect()
    }
}

/// Appends `config.loaded`, and `config.changed` when the file differs from the previous
/// start's; then keeps these digests for the next start. `Err` when an event is not recorded.
pub async fn record(
    store: &Store,
    log: &dyn AuditSink,
    digest: &ConfigDigest,
) -> anyhow::Result<()> {
    let key = MetaKey::new(META_KEY)?;
    let previous: Option<ConfigDigest> = match store.meta_get(&key).await? {
        Some(text) => serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| ConfigDigest::from_json(&v)),
        None => None,
    };
    let mut loaded = AuditEvent::of("config.loaded")?
        .field("sha256", digest.sha256.as_str())?
        .field("sections", digest.sections.clone())?;
    if let Some(p) = &previous {
        loaded = loaded.field("previous_sha256", p.sha256.as_str())?;
    }
    append(log, &loaded).await?;
    if let Some(p) = previous.as_ref().filter(|p| p.sha256 != digest.sha256) {
        let changed = AuditEvent::of("config.changed")?
            .field("sha256", digest.sha256.as_str())?
            .field("previous_sha256", p.sha256.as_str())?
            .field("changed", digest.changed_since(p))?;
        append(log, &changed).await?;
    }
    store.meta_put(&key, &digest.to_json().to_string()).await?;
    Ok(())
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn append(log: &dyn AuditSink, event: &AuditEvent) -> anyhow::Result<()> {
    log.append(event)
        .await
        .map(drop)
        .map_err(|e| anyhow::anyhow!("audit log did not record `{}`: {e}", event.kind().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeguard_audit::event::Redactor;
    use tradeguard_audit::sink::MemorySink;
    use tradeguard_crypto::secret::SecretBytes;

    const FIRST: &str = "[server]\nlisten = \"127.0.0.1:8443\"\n\n[accounts.main]\n\
        exchange = \"kraken\"\ncredential = \"cred-secret-id\"\n\n[security]\nmax_failed_attempts = 5\n";

    fn texts(sink: &MemorySink) -> Vec<String> {
        sink.entries()
            .into_iter()
            .map(|e| String::from_utf8(e).unwrap())
            .collect()
    }

    async fn store(dir: &tempfile::TempDir) -> Store {
        let store = Store::open_sqlite(&dir.path().join("t.db")).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    #[tokio::test]
    async fn loaded_at_every_start_changed_only_when_the_file_changed() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let sink = MemorySink::new(Redactor::new(SecretBytes::new(vec![5; 32])).unwrap());
        let first = ConfigDigest::of(FIRST).unwrap();
        assert_eq!(first.sections, ["accounts", "security", "server"]);
        record(&store, &sink, &first).await.unwrap();
        let entries = texts(&sink);
        assert_eq!(entries.len(), 1);
        assert!(entries[0].contains("config.loaded") && entries[0].contains(&first.sha256));

        // Same file again: loaded, not changed.
        record(&store, &sink, &first).await.unwrap();
        assert_eq!(texts(&sink).len(), 2);

        let second_text = FIRST
            .replace("cred-secret-id", "cred-other-id")
            .replace("max_failed_attempts = 5", "max_failed_attempts = 6")
            + "\n[polling]\ninterval_secs = 5\n";
        let second = ConfigDigest::of(&second_text).unwrap();
        assert_eq!(
            second.changed_since(&first),
            [
                "accounts.main",
                "polling.interval_secs",
                "security.max_failed_attempts"
            ]
        );
        record(&store, &sink, &second).await.unwrap();
        let entries = texts(&sink);
        assert_eq!(entries.len(), 4, "{entries:?}");
        let changed = &entries[3];
        assert!(changed.contains("config.changed"), "{changed}");
        for name in [
            "accounts.main",
            "security.max_failed_attempts",
            "polling.interval_secs",
        ] {
            assert!(changed.contains(name), "{name} in {changed}");
        }
        assert!(!changed.contains("server.listen"), "{changed}");
        for entry in &entries {
            assert!(!entry.contains("cred-"), "no values: {entry}");
        }
    }

    #[tokio::test]
    async fn an_event_the_log_refuses_fails_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let sink = MemorySink::new(Redactor::new(SecretBytes::new(vec![5; 32])).unwrap());
        sink.set_refuse(true);
        let digest = ConfigDigest::of(FIRST).unwrap();
        assert!(record(&store, &sink, &digest).await.is_err());
        let key = MetaKey::new(META_KEY).unwrap();
        assert_eq!(store.meta_get(&key).await.unwrap(), None, "nothing kept");
    }
}
