//! Sealed envelopes: the JSON form of DESIGN.md around one HPKE base-mode message.
//!
//! `{"v":1,"kem":"X25519-HKDF-SHA256","kdf":"HKDF-SHA256","aead":"AES-256-GCM","enc":"<b64url>","ct":"<b64url>"}`
//! with `info` = `tradeguard/v1 credential` or `tradeguard/v1 intent` and an empty `aad`.
//! Parsing is strict: unknown or duplicate fields, a missing field, a wrong type, bad base64, a
//! wrong length or an unknown suite is an error naming the field, never a panic.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::CryptoError;
use crate::b64;
use crate::hpke::{self, Aead, Kdf, Kem, PrivateKey, PublicKey, Suite};
use crate::secret::SecretBytes;

/// Largest envelope document accepted (bytes); larger input is refused before parsing.
pub const MAX_ENVELOPE_JSON: usize = 256 * 1024;
/// The AEAD tag length; a ciphertext shorter than this cannot be valid.
const TAG_LEN: usize = 16;

/// What an envelope is for; bound into the HPKE key schedule as `info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Info {
    /// An exchange credential for the vault.
    Credential,
    /// A sealed per-trade intent.
    Intent,
}

impl Info {
    /// The HPKE `info` bytes.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            Self::Credential => b"tradeguard/v1 credential",
            Self::Intent => b"tradeguard/v1 intent",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Credential => "tradeguard/v1 credential",
            Self::Intent => "tradeguard/v1 intent",
        }
    }
}

/// A parsed envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The ciphersuite named in the envelope.
    pub suite: Suite,
    /// The encapsulated key.
    pub enc: Vec<u8>,
    /// Ciphertext ‖ tag.
    pub ct: Vec<u8>,
}

/// A value that came out of an envelope that authenticated: proof that it was opened.
pub struct Opened<T> {
    value: T,
    suite: Suite,
}

impl<T> Opened<T> {
    /// The suite it was sealed with.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The opened value.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// Transforms the opened value, keeping the proof.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Opened<U> {
        Opened {
            value: f(self.value),
            suite: self.suite,
        }
    }
}

impl<T> Opened<T> {
    /// Transforms the opened value with a check that may fail, keeping the proof on success.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Opened<U>, E> {
        Ok(Opened {
            value: f(self.value)?,
            suite: self.suite,
        })
    }
}

impl<T> Deref for Opened<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// The private keys a recipient opens envelopes with: X25519 always, X-Wing when enabled.
pub struct RecipientKey {
    x25519: PrivateKey,
    xwing: Option<PrivateKey>,
}

impl RecipientKey {
    /// A fresh X25519-only recipient.
    pub fn generate_x25519() -> Result<Self, CryptoError> {
        Self::new(PrivateKey::generate(Kem::X25519HkdfSha256)?, None)
    }

    /// Fresh X25519 and X-Wing keys.
    pub fn generate_with_xwing() -> Result<Self, CryptoError> {
        Self::new(
            PrivateKey::generate(Kem::X25519HkdfSha256)?,
            Some(PrivateKey::generate(Kem::XWing)?),
        )
    }

    /// A recipient from existing keys; each must be of its named KEM.
    pub fn new(x25519: PrivateKey, xwing: Option<PrivateKey>) -> Result<Self, CryptoError> {
        let wrong = |what| CryptoError::InvalidKey {
            what,
            reason: "belongs to another KEM",
        };
        if x25519.kem() != Kem::X25519HkdfSha256 {
            return Err(wrong("X25519 private key"));
        }
        if xwing.as_ref().is_some_and(|k| k.kem() != Kem::XWing) {
            return Err(wrong("X-Wing private key"));
        }
        Ok(Self { x25519, xwing })
    }

    /// The X25519 public key (the default for sealing).
    pub fn public_key(&self) -> PublicKey {
        self.x25519.public_key()
    }

    /// The X-Wing public key, when the post-quantum option is on.
    pub fn xwing_public_key(&self) -> Option<PublicKey> {
        self.xwing.as_ref().map(PrivateKey::public_key)
    }

    /// The private key for `kem`, if this recipient has one.
    pub fn key_for(&self, kem: Kem) -> Option<&PrivateKey> {
        match kem {
            Kem::X25519HkdfSha256 => Some(&self.x25519),
            Kem::XWing => self.xwing.as_ref(),
        }
    }
}

/// Seals `plaintext` to `recipient` with a fresh ephemeral key.
pub fn seal(
    recipient: &PublicKey,
    suite: Suite,
    info: Info,
    plaintext: &[u8],
) -> Result<Envelope, CryptoError> {
    let (enc, mut ctx) = hpke::setup_sender(suite, recipient, info.as_bytes())?;
    let ct = ctx.seal(b"", plaintext)?;
    Ok(Envelope { suite, enc, ct })
}

/// Opens `envelope` for the purpose `info`. The plaintext is returned as a secret.
pub fn open(
    recipient: &RecipientKey,
    info: Info,
    envelope: &Envelope,
) -> Result<Opened<SecretBytes>, CryptoError> {
    open_with_context(recipient, info, envelope).map(|(opened, _)| opened)
}

/// Opens `envelope` like [`open`] and also exports `len` bytes from its HPKE context under
/// `exporter_context` (RFC 9180 §5.3), for keys bound to this one message (a response key).
pub fn open_exporting(
    recipient: &RecipientKey,
    info: Info,
    envelope: &Envelope,
    exporter_context: &[u8],
    len: usize,
) -> Result<(Opened<SecretBytes>, SecretBytes), CryptoError> {
    let (opened, ctx) = open_with_context(recipient, info, envelope)?;
    let exported = SecretBytes::new(ctx.export(envelope.suite, exporter_context, len)?);
    Ok((opened, exported))
}

fn open_with_context(
    recipient: &RecipientKey,
    info: Info,
    envelope: &Envelope,
) -> Result<(Opened<SecretBytes>, hpke::Context), CryptoError> {
    let sk = recipient
        .key_for(envelope.suite.kem)
        .ok_or(CryptoError::UnsupportedSuite {
            field: "kem",
            value: envelope.suite.kem.name().to_string(),
            supported: "X25519-HKDF-SHA256 (X-Wing is off on this gateway)",
        })?;
    let failed = || CryptoError::OpenFailed {
        info: info.name().to_string(),
    };
    let mut ctx = hpke::setup_receiver(envelope.suite, sk, &envelope.enc, info.as_bytes())
        .map_err(|e| match e {
            CryptoError::InvalidKey { .. } => failed(),
            other => other,
        })?;
    let pt = ctx.open(b"", &envelope.ct).ok_or_else(failed)?;
    let opened = Opened {
        value: SecretBytes::new(pt),
        suite: envelope.suite,
    };
    Ok((opened, ctx))
}

/// Parses and opens an envelope document.
pub fn open_json(
    recipient: &RecipientKey,
    info: Info,
    json: &str,
) -> Result<Opened<SecretBytes>, CryptoError> {
    open(recipient, info, &Envelope::from_json(json)?)
}

impl Envelope {
    /// The JSON form (members sorted by name; every value is a fixed ASCII name, base64url
    /// or the number 1, so nothing needs escaping).
    pub fn to_json(&self) -> String {
        format!(
            r#"{{"aead":"{}","ct":"{}","enc":"{}","kdf":"{}","kem":"{}","v":1}}"#,
            self.suite.aead.name(),
            b64::encode(&self.ct),
            b64::encode(&self.enc),
            self.suite.kdf.name(),
            self.suite.kem.name(),
        )
    }

    /// Parses the JSON form strictly.
    pub fn from_json(json: &str) -> Result<Self, CryptoError> {
        if json.len() > MAX_ENVELOPE_JSON {
            return Err(malformed("json", "is larger than 256 KiB"));
        }
        let mut de = serde_json::Deserializer::from_str(json);
        let fields = de.deserialize_map(FieldsVisitor).map_err(|e| {
            malformed(
                "json",
                &format!("is not a JSON object of strings ({})", e.classify_name()),
            )
        })?;
        de.end()
            .map_err(|_| malformed("json", "has trailing data after the object"))?;
        Self::from_fields(fields)
    }

    fn from_fields(mut f: BTreeMap<String, FieldValue>) -> Result<Self, CryptoError> {
        const KNOWN: [&str; 6] = ["v", "kem", "kdf", "aead", "enc", "ct"];
        if let Some(unknown) = f.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            let name: String = unknown.chars().take(40).collect();
            return Err(malformed("json", &format!("has an unknown field `{name}`")));
        }
        match f.remove("v") {
            Some(FieldValue::Number(1)) => {}
            Some(_) => return Err(malformed("v", "must be the number 1")),
            None => return Err(malformed("v", "is missing")),
        }
        let suite = Suite {
            kem: Kem::from_name(&take_str(&mut f, "kem")?)?,
            kdf: Kdf::from_name(&take_str(&mut f, "kdf")?)?,
            aead: Aead::from_name(&take_str(&mut f, "aead")?)?,
        };
        let enc = take_b64(&mut f, "enc")?;
        let ct = take_b64(&mut f, "ct")?;
        let enc_len = match suite.kem {
            Kem::X25519HkdfSha256 => 32,
            Kem::XWing => 1120,
        };
        if enc.len() != enc_len {
            return Err(malformed(
                "enc",
                &format!("must be {enc_len} bytes for {}", suite.kem.name()),
            ));
        }
        if ct.len() < TAG_LEN {
            return Err(malformed(
                "ct",
                "is shorter than the 16-byte authentication tag",
            ));
        }
        Ok(Self { suite, enc, ct })
    }
}

fn malformed(field: &'static str, reason: &str) -> CryptoError {
    CryptoError::MalformedEnvelope {
        field,
        reason: reason.to_string(),
    }
}

fn take_str(
    f: &mut BTreeMap<String, FieldValue>,
    name: &'static str,
) -> Result<String, CryptoError> {
    match f.remove(name) {
        Some(FieldValue::Str(s)) => Ok(s),
        Some(_) => Err(malformed(name, "must be a string")),
        None => Err(malformed(name, "is missing")),
    }
}

fn take_b64(
    f: &mut BTreeMap<String, FieldValue>,
    name: &'static str,
) -> Result<Vec<u8>, CryptoError> {
    let s = take_str(f, name)?;
    b64::decode(&s).map_err(|_| malformed(name, "is not unpadded base64url"))
}

/// A top-level envelope value: the format has only strings and the version number.
enum FieldValue {
    Str(String),
    Number(u64),
    Other,
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = BTreeMap<String, FieldValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an envelope object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = match map.next_value::<serde_json::Value>()? {
                serde_json::Value::String(s) => FieldValue::Str(s),
                serde_json::Value::Number(n) => {
                    n.as_u64().map_or(FieldValue::Other, FieldValue::Number)
                }
                _ => FieldValue::Other,
            };
            if out.insert(key, value).is_some() {
                return Err(de::Error::custom("duplicate field"));
            }
        }
        Ok(out)
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "duplicate field or wrong shape",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

impl PublicKey {
    /// The key as unpadded base64url, as `GET /v1/keys` lists it.
    pub fn to_base64url(&self) -> String {
        b64::encode(self.as_bytes())
    }
}
