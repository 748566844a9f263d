//! Log entries: canonical JSON (RFC 8785), one object per event.
//!
//! ```json
//! {"fields":{..},"kind":"order.submitted","prev":"<base64>","seq":17,"time":"2026-11-23T01:02:03.456Z","v":1}
//! ```
//!
//! `seq` is the entry's index in the tree; `prev` is the leaf hash of entry `seq − 1` (the
//! empty-tree hash for entry 0). The Merkle tree and the signed checkpoints prove the log;
//! `prev` lets a verifier name the entry that was changed, removed, inserted or moved, since
//! each entry vouches for the one before it. The leaf is `SHA-256(0x00 || entry bytes)`.

use serde_json::{Map, Value};
use tradeguard_crypto::jcs;

use crate::AuditError;
use crate::clock::{format_ms, parse_ms};
use crate::event::EventKind;
use crate::merkle::Hash;

/// The entry format version.
pub const ENTRY_VERSION: u64 = 1;

/// Largest accepted entry, in bytes.
pub const MAX_ENTRY_LEN: usize = 64 * 1024;

/// The fields of one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Index in the log.
    pub seq: u64,
    /// Time of the event, Unix milliseconds.
    pub time_ms: i64,
    /// Event kind.
    pub kind: EventKind,
    /// Leaf hash of the previous entry (empty-tree hash for the first).
    pub prev: Hash,
    /// Logged fields (sensitive ones already replaced by their HMAC).
    pub fields: Map<String, Value>,
}

impl Entry {
    /// The canonical bytes that are hashed and stored.
    pub fn encode(&self) -> Result<Vec<u8>, AuditError> {
        let mut obj = Map::new();
        obj.insert("fields".into(), Value::Object(self.fields.clone()));
        obj.insert("kind".into(), self.kind.as_str().into());
        obj.insert("prev".into(), self.prev.to_base64().into());
        obj.insert("seq".into(), self.seq.into());
        obj.insert("time".into(), format_ms(self.time_ms)?.into());
        obj.insert("v".into(), ENTRY_VERSION.into());
        let bytes = jcs::canonicalize(&Value::Object(obj))
            .map_err(|e| AuditError::InvalidEvent(jcs_reason(&e)))?
            .into_bytes();
        if bytes.len() > MAX_ENTRY_LEN {
            return Err(AuditError::InvalidEvent("entry larger than 64 KiB"));
        }
        Ok(bytes)
    }

    /// Parses entry bytes strictly: the exact fields, valid values, and canonical form.
    pub fn parse(bytes: &[u8]) -> Result<Self, &'static str> {
        if bytes.len() > MAX_ENTRY_LEN {
            return Err("entry larger than 64 KiB");
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|_| "not JSON")?;
        let canonical = jcs::canonicalize(&value).map_err(|_| "not canonicalizable")?;
        if canonical.as_bytes() != bytes {
            return Err("not in canonical (RFC 8785) form");
        }
        let Value::Object(mut obj) = value else {
            return Err("not a JSON object");
        };
        let entry = Self {
            seq: take(&mut obj, "seq")?
                .as_u64()
                .ok_or("seq is not a non-negative integer")?,
            time_ms: take_str(&mut obj, "time").and_then(|s| parse_ms(&s).ok_or("bad time"))?,
            kind: EventKind::new(&take_str(&mut obj, "kind")?).map_err(|_| "bad kind")?,
            prev: Hash::from_base64(&take_str(&mut obj, "prev")?).map_err(|_| "bad prev hash")?,
            fields: match take(&mut obj, "fields")? {
                Value::Object(f) => f,
                _ => return Err("fields is not an object"),
            },
        };
        if take(&mut obj, "v")?.as_u64() != Some(ENTRY_VERSION) {
            return Err("unknown entry version");
        }
        if !obj.is_empty() {
            return Err("unknown member");
        }
        Ok(entry)
    }
}

fn take(obj: &mut Map<String, Value>, key: &str) -> Result<Value, &'static str> {
    obj.remove(key).ok_or("missing member")
}

fn take_str(obj: &mut Map<String, Value>, key: &str) -> Result<String, &'static str> {
    match take(obj, key)? {
        Value::String(s) => Ok(s),
        _ => Err("member is not a string"),
    }
}

fn jcs_reason(e: &jcs::JcsError) -> &'static str {
    match e {
        jcs::JcsError::InexactInteger { .. } => {
            "an event field holds an integer beyond 2^53; send it as a string"
        }
        _ => "an event field cannot be written as canonical JSON",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::empty_root;

    fn sample() -> Entry {
        let mut fields = Map::new();
        fields.insert("qty".into(), "0.5".into());
        Entry {
            seq: 3,
            time_ms: 1_795_395_723_456,
            kind: EventKind::new("order.submitted").unwrap(),
            prev: empty_root(),
            fields,
        }
    }

    #[test]
    fn encode_parse_round_trip() {
        let bytes = sample().encode().unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"fields":{"qty":"0.5"},"kind":"order.submitted","prev":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","seq":3,"time":"2026-11-23T01:02:03.456Z","v":1}"#
        );
        assert_eq!(Entry::parse(&bytes), Ok(sample()));
    }

    #[test]
    fn fail_entries_not_strictly_formed() {
        let good = String::from_utf8(sample().encode().unwrap()).unwrap();
        let cases = [
            good.replace("\"seq\":3", "\"seq\":3.5"),
            good.replace("\"seq\":3", "\"seq\":-3"),
            good.replace("{\"fields\"", "{ \"fields\""),
            good.replace(",\"v\":1", ",\"v\":2"),
            good.replace(",\"v\":1", ",\"v\":1,\"x\":1"),
            good.replace(",\"v\":1", ""),
            good.replace("order.submitted", "Order"),
            good.replace(".456Z", "Z"),
            good.replace("47DEQ", "47DE!"),
            good.replace("uFU=", "uFV="),
            good.replace("{\"qty\":\"0.5\"}", "[]"),
            "[]".to_string(),
            good[..good.len() - 1].to_string(),
        ];
        for (i, c) in cases.iter().enumerate() {
            assert!(Entry::parse(c.as_bytes()).is_err(), "TC{i} failed: {c}");
        }
    }
}
