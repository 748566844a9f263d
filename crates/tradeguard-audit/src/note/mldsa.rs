//! ML-DSA-65 (FIPS 204) note signatures, for the post-quantum option.
//!
//! The signed-note registry (c2sp.org/signed-note, 2026-04) assigns no type byte to plain
//! ML-DSA-65 signatures over the note text: `0x06` is ML-DSA-44 in the *timestamped
//! cosignature* format of c2sp.org/tlog-cosignature, which signs a different message. The spec
//! reserves `0xff` for types without an assigned byte and recommends following it with a
//! longer identifier, so the type identifier here is `0xff || "tradeguard/ml-dsa-65/v1"`:
//!
//! key ID = SHA-256(name || 0x0A || 0xff || "tradeguard/ml-dsa-65/v1" || 1952-byte key)[:4]
//! vkey   = name + "+" + hex(key ID) + "+" + base64(0xff || "tradeguard/ml-dsa-65/v1" || key)
//!
//! The signature is ML-DSA-65 with an empty context over the note text (3309 bytes, hedged).
//! Verifiers that do not know this type ignore the line, as the spec requires, and still check
//! the Ed25519 line.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tradeguard_crypto::sign::{MlDsa65SigningKey, MlDsa65VerifyingKey};

use super::ed25519::split_key;
use super::{NoteError, NoteSigner, NoteVerifier, check_key_name, vkey_key_id};

/// The signature type identifier: `0xff` then `tradeguard/ml-dsa-65/v1`.
pub const MLDSA65_TYPE_ID: &[u8] = b"\xfftradeguard/ml-dsa-65/v1";

fn type_and_key(key: &MlDsa65VerifyingKey) -> Vec<u8> {
    let mut tk = MLDSA65_TYPE_ID.to_vec();
    tk.extend_from_slice(key.as_bytes());
    tk
}

/// Verifies ML-DSA-65 note signatures of one named key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlDsa65NoteVerifier {
    name: String,
    key_id: u32,
    key: MlDsa65VerifyingKey,
}

impl MlDsa65NoteVerifier {
    /// A verifier for `key` under `name`.
    pub fn new(name: &str, key: MlDsa65VerifyingKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let key_id = vkey_key_id(name, &type_and_key(&key));
        Ok(Self {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// Parses a vkey string of this type; its key ID must match the name and key.
    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        let (name, key_id, bytes) = split_key(vkey)?;
        let pk = bytes
            .strip_prefix(MLDSA65_TYPE_ID)
            .ok_or(NoteError::InvalidKey(
                "vkey is not a tradeguard ML-DSA-65 key",
            ))?;
        let key = MlDsa65VerifyingKey::from_bytes(pk)
            .map_err(|_| NoteError::InvalidKey("ML-DSA-65 public key must be 1952 bytes"))?;
        let v = Self::new(name, key)?;
        if v.key_id != key_id {
            return Err(NoteError::InvalidKey(
                "vkey key ID does not match its name and key",
            ));
        }
        Ok(v)
    }

    /// The vkey string.
    pub fn to_vkey(&self) -> String {
        let tk = type_and_key(&self.key);
        format!("{}+{:08x}+{}", self.name, self.key_id, STANDARD.encode(tk))
    }
}

impl NoteVerifier for MlDsa65NoteVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.key.verify(msg, sig).is_ok()
    }
}

/// Signs notes with an ML-DSA-65 key under a name.
pub struct MlDsa65NoteSigner {
    name: String,
    key_id: u32,
    key: MlDsa65SigningKey,
}

impl std::fmt::Debug for MlDsa65NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MlDsa65NoteSigner({}+{:08x}, [REDACTED])",
            self.name, self.key_id
        )
    }
}

impl MlDsa65NoteSigner {
    /// A signer for `key` under `name`.
    pub fn new(name: &str, key: MlDsa65SigningKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let key_id = vkey_key_id(name, &type_and_key(&key.verifying_key()));
        Ok(Self {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// The matching verifier.
    pub fn verifier(&self) -> MlDsa65NoteVerifier {
        MlDsa65NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }
}

impl NoteSigner for MlDsa65NoteSigner {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, NoteError> {
        self.key
            .sign(msg)
            .map_err(|e| NoteError::Signing(e.to_string()))
    }
}
