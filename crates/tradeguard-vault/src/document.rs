//! The credential document of DESIGN.md and the secret type the signing closure sees.
//!
//! The document is `{"exchange":"binance|coinbase|coinbaseexchange|kraken","api_key":"..",
//! "api_secret":"..","passphrase":null,"label":".."}`. It is parsed strictly (unknown or
//! duplicate fields, a missing or empty required field, an unknown exchange are errors that
//! name the field) and errors never quote a value: serde's own messages can quote what they
//! failed on, so values are taken as JSON and checked here.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use tradeguard_crypto::secret::SecretString;

use crate::credential::Exchange;
use crate::{Result, VaultError};

/// Largest credential document accepted.
pub const MAX_CREDENTIAL_JSON: usize = 64 * 1024;
/// Longest label accepted (characters).
pub const MAX_LABEL_CHARS: usize = 64;

/// A credential's secret fields. The only way to reach one in the vault is the closure of
/// `UnlockedVault::with_secret`; no vault API returns it. `Debug` is redacted.
pub struct CredentialSecret {
    exchange: Exchange,
    api_key: SecretString,
    api_secret: SecretString,
    passphrase: Option<SecretString>,
    label: String,
}

impl fmt::Debug for CredentialSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialSecret")
            .field("exchange", &self.exchange)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl CredentialSecret {
    /// Parses and validates a credential document (the plaintext of a sealed credential).
    pub fn from_json(json: &[u8]) -> Result<Self> {
        if json.len() > MAX_CREDENTIAL_JSON {
            return Err(VaultError::invalid(
                "credential",
                "document is larger than 64 KiB",
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(json);
        let fields = de.deserialize_map(FieldsVisitor).map_err(|e| {
            let what = match e.classify() {
                serde_json::error::Category::Eof => "is truncated",
                serde_json::error::Category::Syntax => "is not valid JSON",
                _ => "is not a JSON object with unique keys",
            };
            VaultError::invalid(
                "credential",
                format!("document {what} (line {}, column {})", e.line(), e.column()),
            )
        })?;
        de.end()
            .map_err(|_| VaultError::invalid("credential", "document has data after the object"))?;
        Self::from_fields(fields)
    }

    fn from_fields(mut f: BTreeMap<String, serde_json::Value>) -> Result<Self> {
        const KNOWN: [&str; 5] = ["exchange", "api_key", "api_secret", "passphrase", "label"];
        if let Some(unknown) = f.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            // Echo the name only when it looks like a field name: a secret pasted as a key
            // (a malformed document) must not come back in the error.
            let plain =
                unknown.len() <= 24 && unknown.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            let name = if plain {
                format!("`{unknown}`")
            } else {
                "(name not shown)".to_owned()
            };
            let known = KNOWN.join(", ");
            return Err(VaultError::invalid(
                "credential",
                format!("unknown field {name}; expected {known}"),
            ));
        }
        let exchange = match f.remove("exchange") {
            Some(serde_json::Value::String(s)) => Exchange::from_name(&s)?,
            Some(_) => return Err(VaultError::invalid("exchange", "must be a string")),
            None => {
                return Err(VaultError::invalid(
                    "exchange",
                    format!("is missing; expected one of {}", Exchange::NAMES),
                ));
            }
        };
        let api_key = take_secret(&mut f, "api_key")?.ok_or_else(|| missing("api_key"))?;
        let api_secret = take_secret(&mut f, "api_secret")?.ok_or_else(|| missing("api_secret"))?;
        let passphrase = take_secret(&mut f, "passphrase")?;
        if exchange.needs_passphrase() && passphrase.is_none() {
            return Err(VaultError::invalid(
                "passphrase",
                "is required for coinbaseexchange keys",
            ));
        }
        let label = match f.remove("label") {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s,
            Some(_) => return Err(VaultError::invalid("label", "must be a string")),
        };
        Ok(Self {
            exchange,
            api_key,
            api_secret,
            passphrase,
            label: check_label(label)?,
        })
    }

    /// Rebuilds a credential from the vault's sealed form (secret fields) and its row.
    pub(crate) fn from_sealed(exchange: Exchange, label: String, sealed: &[u8]) -> Option<Self> {
        let mut fields = match serde_json::from_slice::<serde_json::Value>(sealed) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return None,
        };
        let mut take = |k: &str| match fields.remove(k) {
            Some(serde_json::Value::String(s)) => Some(Some(SecretString::new(s))),
            Some(serde_json::Value::Null) | None => Some(None),
            Some(_) => None,
        };
        Some(Self {
            exchange,
            api_key: take("k")??,
            api_secret: take("s")??,
            passphrase: take("p")?,
            label,
        })
    }

    /// The secret fields in the vault's sealed form (`{"k":..,"s":..,"p":..}`), zeroized on
    /// drop. Serialised from borrowed fields into a buffer sized for the worst case (every
    /// byte escaped as `\uXXXX`), so no copy is left behind by a reallocation.
    pub(crate) fn sealed_form(&self) -> Result<tradeguard_crypto::secret::SecretBytes> {
        #[derive(serde::Serialize)]
        struct Sealed<'a> {
            k: &'a str,
            s: &'a str,
            p: Option<&'a str>,
        }
        let fields = Sealed {
            k: self.api_key.expose_secret(),
            s: self.api_secret.expose_secret(),
            p: self.passphrase.as_ref().map(SecretString::expose_secret),
        };
        let len = fields.k.len() + fields.s.len() + fields.p.map_or(0, str::len);
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(6 * len + 32));
        serde_json::to_writer(&mut *out, &fields)
            .map_err(|_| VaultError::invalid("credential", "could not be serialised"))?;
        Ok(tradeguard_crypto::secret::SecretBytes::new(std::mem::take(
            &mut *out,
        )))
    }

    /// The exchange.
    pub fn exchange(&self) -> Exchange {
        self.exchange
    }

    /// The API key.
    pub fn api_key(&self) -> &SecretString {
        &self.api_key
    }

    /// The API secret.
    pub fn api_secret(&self) -> &SecretString {
        &self.api_secret
    }

    /// The passphrase (Coinbase Exchange keys).
    pub fn passphrase(&self) -> Option<&SecretString> {
        self.passphrase.as_ref()
    }

    /// The label.
    pub fn label(&self) -> &str {
        &self.label
    }
}

fn missing(field: &'static str) -> VaultError {
    VaultError::invalid(field, "is missing or null; it is required")
}

fn check_label(label: String) -> Result<String> {
    if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
        return Err(VaultError::invalid(
            "label",
            format!("must be at most {MAX_LABEL_CHARS} characters, no control characters"),
        ));
    }
    Ok(label)
}

/// A string field moved (not copied) into a secret; `None` when absent or null.
fn take_secret(
    f: &mut BTreeMap<String, serde_json::Value>,
    field: &'static str,
) -> Result<Option<SecretString>> {
    match f.remove(field) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.is_empty() => {
            drop(SecretString::new(s));
            Err(VaultError::invalid(field, "is empty"))
        }
        Some(serde_json::Value::String(s)) => Ok(Some(SecretString::new(s))),
        Some(_) => Err(VaultError::invalid(field, "must be a string")),
    }
}

/// Collects the top-level fields, refusing duplicates.
struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = BTreeMap<String, serde_json::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a credential object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<serde_json::Value>()?;
            if out.insert(key, value).is_some() {
                return Err(de::Error::custom("duplicate field"));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "canary-7d1e-never-print";

    #[test]
    fn parses_the_design_document() {
        let doc = format!(
            r#"{{"exchange":"coinbaseexchange","api_key":"k","api_secret":"{CANARY}","passphrase":"pp","label":"main"}}"#
        );
        let c = CredentialSecret::from_json(doc.as_bytes()).unwrap();
        assert_eq!(c.exchange(), Exchange::CoinbaseExchange);
        assert_eq!(c.api_secret().expose_secret(), CANARY);
        assert_eq!(c.passphrase().unwrap().expose_secret(), "pp");
        assert!(!format!("{c:?}").contains(CANARY));
        let back = CredentialSecret::from_sealed(
            c.exchange(),
            "main".into(),
            c.sealed_form().unwrap().expose_secret(),
        )
        .unwrap();
        assert_eq!(back.api_secret().expose_secret(), CANARY);
    }

    #[test]
    fn fail_bad_documents_name_the_field_never_the_value() {
        let cases: [(&str, &str); 12] = [
            (
                r#"{"exchange":"ftx","api_key":"k","api_secret":"CANARY"}"#,
                "exchange",
            ),
            (r#"{"api_key":"k","api_secret":"CANARY"}"#, "exchange"),
            (r#"{"exchange":"binance","api_secret":"CANARY"}"#, "api_key"),
            (
                r#"{"exchange":"binance","api_key":"CANARY","api_secret":""}"#,
                "api_secret",
            ),
            (
                r#"{"exchange":"binance","api_key":"k","api_secret":12345}"#,
                "api_secret",
            ),
            (
                r#"{"exchange":"binance","api_key":"k","api_secret":"CANARY","extra":1}"#,
                "extra",
            ),
            (
                r#"{"exchange":"coinbaseexchange","api_key":"k","api_secret":"CANARY"}"#,
                "passphrase",
            ),
            (
                r#"{"exchange":"binance","api_key":"k","api_secret":"CANARY","api_secret":"x"}"#,
                "credential",
            ),
            (
                r#"{"exchange":"binance","api_key":"k","api_secret":"CANARY"#,
                "truncated",
            ),
            (
                r#"{"exchange":"binance","api_key":"k","api_secret":"CANARY","label":"a\nb"}"#,
                "label",
            ),
            (r#"["CANARY"]"#, "credential"),
            (
                r#"{"exchange":"binance","api_key":"k","api_secret":"s","CANARY":1}"#,
                "not shown",
            ),
        ];
        for (i, (doc, needle)) in cases.iter().enumerate() {
            let err = CredentialSecret::from_json(doc.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "TC{} failed: {err}", i + 1);
            assert!(
                !err.contains("CANARY") && !err.contains("12345"),
                "TC{} leaked: {err}",
                i + 1
            );
        }
    }
}
