//! The log's signing keys and the public keys auditors verify with.
//!
//! The gateway signs each checkpoint with its Ed25519 key under the log's origin as key name,
//! and, with the post-quantum option, adds an ML-DSA-65 line under the same name. Auditors
//! give the public key in any of the forms the gateway publishes: a signed-note vkey
//! (`origin+keyid+base64`), a `did:key:z6Mk…`, or the raw key in base64url or base64 (the
//! `GET /v1/keys` form). Keys without a name are bound to the checkpoint's origin.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use tradeguard_crypto::did::decode_ed25519_did;
use tradeguard_crypto::sign::{Ed25519SigningKey, Ed25519VerifyingKey, MlDsa65SigningKey};

use crate::checkpoint::{Checkpoint, SignedCheckpoint, VerifiedCheckpoint};
use crate::note::{
    Ed25519NoteSigner, Ed25519NoteVerifier, MlDsa65NoteSigner, MlDsa65NoteVerifier, NoteError,
    NoteSigner, NoteVerifier,
};

/// Signs checkpoints for one log.
#[derive(Debug)]
pub struct LogSigner {
    ed25519: Ed25519NoteSigner,
    mldsa: Option<MlDsa65NoteSigner>,
}

impl LogSigner {
    /// A signer for the log `origin` (also the key name) with the gateway's Ed25519 key.
    pub fn new(origin: &str, key: Ed25519SigningKey) -> Result<Self, NoteError> {
        Ok(Self {
            ed25519: Ed25519NoteSigner::new(origin, key)?,
            mldsa: None,
        })
    }

    /// Adds an ML-DSA-65 signature line to every checkpoint (the post-quantum option).
    pub fn with_mldsa65(mut self, key: MlDsa65SigningKey) -> Result<Self, NoteError> {
        self.mldsa = Some(MlDsa65NoteSigner::new(self.origin(), key)?);
        Ok(self)
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        self.ed25519.name()
    }

    /// Signs a checkpoint body.
    pub fn sign(&self, checkpoint: &Checkpoint) -> Result<SignedCheckpoint, NoteError> {
        match &self.mldsa {
            Some(pq) => checkpoint.sign(&[&self.ed25519, pq]),
            None => checkpoint.sign(&[&self.ed25519]),
        }
    }

    /// The keys that verify this signer's checkpoints.
    pub fn public_keys(&self) -> Vec<LogKey> {
        let mut keys = vec![LogKey::Vkey(self.ed25519.verifier())];
        if let Some(pq) = &self.mldsa {
            keys.push(LogKey::MlDsa65(pq.verifier()));
        }
        keys
    }
}

/// A public key an auditor trusts for checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogKey {
    /// An Ed25519 vkey: name and key.
    Vkey(Ed25519NoteVerifier),
    /// An Ed25519 key without a name: trusted under the checkpoint's own origin.
    Ed25519(Ed25519VerifyingKey),
    /// An ML-DSA-65 vkey.
    MlDsa65(MlDsa65NoteVerifier),
}

impl LogKey {
    /// Parses a vkey, a `did:key`, or a raw 32-byte Ed25519 key in base64url or base64.
    pub fn parse(s: &str) -> Result<Self, NoteError> {
        let s = s.trim();
        if s.starts_with("did:key:") {
            let key = decode_ed25519_did(s)
                .map_err(|_| NoteError::InvalidKey("not an Ed25519 did:key"))?;
            return Ok(Self::Ed25519(key));
        }
        if s.contains('+') && s.split('+').count() >= 3 {
            if let Ok(v) = Ed25519NoteVerifier::from_vkey(s) {
                return Ok(Self::Vkey(v));
            }
            if let Ok(v) = MlDsa65NoteVerifier::from_vkey(s) {
                return Ok(Self::MlDsa65(v));
            }
        }
        let raw = URL_SAFE_NO_PAD.decode(s).or_else(|_| STANDARD.decode(s));
        match raw
            .ok()
            .and_then(|b| Ed25519VerifyingKey::from_bytes(&b).ok())
        {
            Some(key) => Ok(Self::Ed25519(key)),
            None => Err(NoteError::InvalidKey(
                "expected a vkey (name+keyid+base64), a did:key, or a 32-byte Ed25519 key in base64",
            )),
        }
    }

    /// Parses every key in `text`: the JSON that `tradeguard keys` and `GET /v1/keys` print
    /// (its `signing.public_key`), or one key per line in any form [`LogKey::parse`] takes
    /// (blank lines and `#` comments skipped).
    pub fn parse_many(text: &str) -> Result<Vec<Self>, NoteError> {
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(text)
            && json.is_object()
        {
            let key = json
                .pointer("/signing/public_key")
                .and_then(serde_json::Value::as_str)
                .ok_or(NoteError::InvalidKey(
                    "keys JSON has no signing.public_key (expected the `tradeguard keys` output)",
                ))?;
            return Ok(vec![Self::parse(key)?]);
        }
        let keys = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(Self::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(NoteError::InvalidKey("no key found"));
        }
        Ok(keys)
    }

    /// The key as text that [`LogKey::parse`] reads back: a vkey, or base64url for an
    /// unnamed Ed25519 key.
    pub fn to_text(&self) -> String {
        match self {
            Self::Vkey(v) => v.to_vkey(),
            Self::Ed25519(k) => k.to_base64url(),
            Self::MlDsa65(v) => v.to_vkey(),
        }
    }

    fn verifier_for(&self, origin: &str) -> Result<Box<dyn NoteVerifier>, NoteError> {
        Ok(match self {
            Self::Vkey(v) => Box::new(v.clone()),
            Self::Ed25519(k) => Box::new(Ed25519NoteVerifier::new(origin, *k)?),
            Self::MlDsa65(v) => Box::new(v.clone()),
        })
    }
}

/// Verifies a checkpoint against trusted keys.
pub fn verify_checkpoint(
    cp: SignedCheckpoint,
    keys: &[LogKey],
) -> Result<VerifiedCheckpoint, NoteError> {
    let origin = cp.unverified().origin().to_owned();
    let boxed = keys
        .iter()
        .map(|k| k.verifier_for(&origin))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&dyn NoteVerifier> = boxed.iter().map(AsRef::as_ref).collect();
    cp.verify(&refs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeguard_crypto::did::encode_ed25519_did;

    #[test]
    fn every_published_form_parses_to_the_same_key() {
        let sk = Ed25519SigningKey::generate().unwrap();
        let vk = sk.verifying_key();
        let signer = LogSigner::new("tradeguard.example/log", sk).unwrap();
        let LogKey::Vkey(v) = &signer.public_keys()[0] else {
            panic!("not a vkey")
        };
        let forms = [
            encode_ed25519_did(&vk),
            vk.to_base64url(),
            STANDARD.encode(vk.as_bytes()),
        ];
        for (i, f) in forms.iter().enumerate() {
            assert_eq!(
                LogKey::parse(f).unwrap(),
                LogKey::Ed25519(vk),
                "TC{i} failed"
            );
        }
        assert_eq!(
            LogKey::parse(&v.to_vkey()).unwrap(),
            LogKey::Vkey(v.clone())
        );
    }

    #[test]
    fn keys_json_and_key_lines_parse() {
        let sk = Ed25519SigningKey::from_seed(&[1; 32]).unwrap();
        let vk = sk.verifying_key();
        let signer = LogSigner::new("tradeguard.example/log", sk).unwrap();
        let vkey = signer.public_keys()[0].to_text();
        let json = format!(
            r#"{{"hpke":[],"signing":{{"alg":"ed25519","public_key":"{}","did":"x"}}}}"#,
            vk.to_base64url()
        );
        let lines = format!("# gateway\n\n{vkey}\n{}\n", encode_ed25519_did(&vk));
        assert_eq!(LogKey::parse_many(&json).unwrap(), [LogKey::Ed25519(vk)]);
        assert_eq!(
            LogKey::parse_many(&lines).unwrap(),
            [LogKey::parse(&vkey).unwrap(), LogKey::Ed25519(vk)]
        );
        for key in LogKey::parse_many(&lines).unwrap() {
            assert_eq!(LogKey::parse(&key.to_text()).unwrap(), key);
        }
        for (i, bad) in ["", "# only a comment", r#"{"signing":{}}"#, "AAAA"]
            .iter()
            .enumerate()
        {
            assert!(LogKey::parse_many(bad).is_err(), "TC{i} failed");
        }
    }

    #[test]
    fn fail_unparseable_keys() {
        for (i, s) in ["", "did:key:zQ3s", "AAAA", "a+b+c"].iter().enumerate() {
            assert!(LogKey::parse(s).is_err(), "TC{i} failed");
        }
    }
}
