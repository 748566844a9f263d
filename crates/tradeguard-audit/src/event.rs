//! What the rest of the system records: an [`AuditEvent`] is a kind plus named fields, some of
//! them sensitive. A sensitive value (token, key id, address) never reaches the log: the
//! [`Redactor`] replaces it with `hmac-sha256:<hex>` under a per-installation key, so an
//! operator who knows a value can still find its entries ([`Redactor::search_value`]), as
//! Vault's audit devices do, while a reader of the log learns nothing about it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use tradeguard_crypto::mac::hmac_sha256;
use tradeguard_crypto::secret::{SecretBytes, SecretString};

use crate::AuditError;

/// The prefix of a redacted value.
pub const HMAC_PREFIX: &str = "hmac-sha256:";

fn valid_name(s: &str, max: usize, extra: &str) -> bool {
    (1..=max).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(c))
}

/// An event kind such as `order.submitted` or `auth.failure`: 1–64 of `[a-z0-9._-]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventKind(String);

impl EventKind {
    /// Parses a kind.
    pub fn new(kind: &str) -> Result<Self, AuditError> {
        if valid_name(kind, 64, "._-") {
            Ok(Self(kind.to_owned()))
        } else {
            Err(AuditError::InvalidEvent(
                "event kind must be 1-64 characters of [a-z0-9._-]",
            ))
        }
    }

    /// The kind as written in entries.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One field value: public (written as is) or sensitive (written as its HMAC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldValue {
    /// A value written into the entry unchanged. Use strings for money and large integers.
    Public(Value),
    /// A value written only as `hmac-sha256:<hex>`; never printed.
    Sensitive(SecretString),
}

/// An event to append: a kind and named fields (names 1–64 of `[a-z0-9_]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    kind: EventKind,
    fields: BTreeMap<String, FieldValue>,
}

impl AuditEvent {
    /// An event with no fields.
    pub fn new(kind: EventKind) -> Self {
        Self {
            kind,
            fields: BTreeMap::new(),
        }
    }

    /// Parses `kind` and starts an event.
    pub fn of(kind: &str) -> Result<Self, AuditError> {
        Ok(Self::new(EventKind::new(kind)?))
    }

    /// Adds a public field.
    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Result<Self, AuditError> {
        self.insert(name, FieldValue::Public(value.into()))?;
        Ok(self)
    }

    /// Adds a sensitive field (token, key id, address): only its HMAC is logged.
    pub fn sensitive(mut self, name: &str, value: &str) -> Result<Self, AuditError> {
        self.insert(
            name,
            FieldValue::Sensitive(SecretString::new(value.to_owned())),
        )?;
        Ok(self)
    }

    /// Adds a sensitive field from a value already held as a secret.
    pub fn sensitive_secret(
        mut self,
        name: &str,
        value: &SecretString,
    ) -> Result<Self, AuditError> {
        self.insert(name, FieldValue::Sensitive(value.clone()))?;
        Ok(self)
    }

    fn insert(&mut self, name: &str, value: FieldValue) -> Result<(), AuditError> {
        if !valid_name(name, 64, "_") {
            return Err(AuditError::InvalidEvent(
                "field names must be 1-64 characters of [a-z0-9_]",
            ));
        }
        if self.fields.insert(name.to_owned(), value).is_some() {
            return Err(AuditError::InvalidEvent("a field name was given twice"));
        }
        Ok(())
    }

    /// The kind.
    pub fn kind(&self) -> &EventKind {
        &self.kind
    }

    /// The fields, by name.
    pub fn fields(&self) -> &BTreeMap<String, FieldValue> {
        &self.fields
    }
}

/// Replaces sensitive values by their HMAC-SHA256 under the installation's audit key.
#[derive(Clone)]
pub struct Redactor {
    key: SecretBytes,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor([REDACTED])")
    }
}

impl Redactor {
    /// Smallest accepted key, in bytes.
    pub const MIN_KEY_LEN: usize = 32;

    /// A redactor with the installation's audit HMAC key (at least 32 bytes).
    pub fn new(key: SecretBytes) -> Result<Self, AuditError> {
        if key.len() < Self::MIN_KEY_LEN {
            return Err(AuditError::InvalidEvent(
                "the audit HMAC key must be at least 32 bytes",
            ));
        }
        Ok(Self { key })
    }

    /// The logged form of a sensitive `value`: `hmac-sha256:<64 hex digits>`. Search the log
    /// for this string to find the entries that mention `value`.
    pub fn search_value(&self, value: &str) -> String {
        // The key is exposed only to compute the MAC.
        let tag = hmac_sha256(self.key.expose_secret(), value.as_bytes());
        format!("{HMAC_PREFIX}{}", hex::encode(tag))
    }

    /// The event's fields as they are written into an entry.
    pub fn protect(&self, event: &AuditEvent) -> Map<String, Value> {
        event
            .fields
            .iter()
            .map(|(name, value)| {
                let logged = match value {
                    FieldValue::Public(v) => v.clone(),
                    // Exposed only to compute its HMAC; the value itself is not kept.
                    FieldValue::Sensitive(s) => Value::String(self.search_value(s.expose_secret())),
                };
                (name.clone(), logged)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor() -> Redactor {
        Redactor::new(SecretBytes::new(vec![7; 32])).unwrap()
    }

    #[test]
    fn sensitive_values_become_searchable_hmacs() {
        let e = AuditEvent::of("auth.success")
            .unwrap()
            .field("principal", "did:key:z6Mk")
            .unwrap()
            .sensitive("token", "s3cr3t-token")
            .unwrap();
        let fields = redactor().protect(&e);
        let token = fields["token"].as_str().unwrap();
        assert!(token.starts_with(HMAC_PREFIX) && token.len() == HMAC_PREFIX.len() + 64);
        assert!(!token.contains("s3cr3t"));
        assert_eq!(token, redactor().search_value("s3cr3t-token"));
        assert!(!format!("{e:?}").contains("s3cr3t"));
    }

    #[test]
    fn fail_bad_names_and_keys() {
        assert!(EventKind::new("").is_err());
        assert!(EventKind::new("Order.Submitted").is_err());
        assert!(AuditEvent::of("x").unwrap().field("a-b", 1).is_err());
        assert!(
            AuditEvent::of("x")
                .unwrap()
                .field("a", 1)
                .unwrap()
                .field("a", 2)
                .is_err()
        );
        assert!(Redactor::new(SecretBytes::new(vec![0; 31])).is_err());
    }
}
