//! Ed25519 note keys (signature type 0x01), verifier keys (`vkey`) and the Go `skey` format.
//!
//! key ID = SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]
//! vkey   = name + "+" + hex(key ID) + "+" + base64(0x01 || public key)
//! skey   = "PRIVATE+KEY+" + name + "+" + hex(key ID) + "+" + base64(0x01 || seed)   (golang.org/x/mod/sumdb/note)

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tradeguard_crypto::digest::sha256_parts;
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::{Ed25519SigningKey, Ed25519VerifyingKey};

use super::{NoteError, NoteSigner, NoteVerifier, check_key_name};

/// The signed-note signature type byte of Ed25519.
pub const ED25519_TYPE: u8 = 0x01;

/// The key ID of a key of any type: `SHA-256(name || 0x0A || type_and_key)[:4]`, big-endian,
/// where `type_and_key` is the signature type identifier followed by the public key.
pub fn vkey_key_id(name: &str, type_and_key: &[u8]) -> u32 {
    let h = sha256_parts(&[name.as_bytes(), b"\n", type_and_key]);
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

fn ed25519_key_id(name: &str, key: &Ed25519VerifyingKey) -> u32 {
    let mut tk = vec![ED25519_TYPE];
    tk.extend_from_slice(key.as_bytes());
    vkey_key_id(name, &tk)
}

/// Parses `name+hex8+base64`, the shape shared by vkeys and skeys.
pub(super) fn split_key(s: &str) -> Result<(&str, u32, Vec<u8>), NoteError> {
    // The name has no `+`; the base64 part may contain some.
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::InvalidKey("expected name+keyid+base64"));
    };
    check_key_name(name)?;
    let id_ok = id.len() == 8
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let key_id =
        u32::from_str_radix(id, 16)
            .ok()
            .filter(|_| id_ok)
            .ok_or(NoteError::InvalidKey(
                "key ID must be 8 lowercase hex digits",
            ))?;
    let bytes = STANDARD
        .decode(b64)
        .map_err(|_| NoteError::InvalidKey("key material is not canonical base64"))?;
    Ok((name, key_id, bytes))
}

/// Verifies Ed25519 signatures of one named key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ed25519NoteVerifier {
    name: String,
    key_id: u32,
    key: Ed25519VerifyingKey,
}

impl Ed25519NoteVerifier {
    /// A verifier for `key` under `name`.
    pub fn new(name: &str, key: Ed25519VerifyingKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let key_id = ed25519_key_id(name, &key);
        Ok(Self {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// Parses a vkey string; its key ID must match the name and key.
    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        let (name, key_id, bytes) = split_key(vkey)?;
        let Some((&ED25519_TYPE, pk)) = bytes.split_first() else {
            return Err(NoteError::InvalidKey(
                "vkey is not an Ed25519 (type 0x01) key",
            ));
        };
        let key = Ed25519VerifyingKey::from_bytes(pk)
            .map_err(|_| NoteError::InvalidKey("Ed25519 public key must be 32 bytes"))?;
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
        let mut tk = vec![ED25519_TYPE];
        tk.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, STANDARD.encode(tk))
    }

    /// The public key.
    pub fn key(&self) -> &Ed25519VerifyingKey {
        &self.key
    }
}

impl NoteVerifier for Ed25519NoteVerifier {
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

/// Signs notes with an Ed25519 key under a name.
pub struct Ed25519NoteSigner {
    name: String,
    key_id: u32,
    key: Ed25519SigningKey,
}

impl std::fmt::Debug for Ed25519NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Ed25519NoteSigner({}+{:08x}, [REDACTED])",
            self.name, self.key_id
        )
    }
}

impl Ed25519NoteSigner {
    /// A signer for `key` under `name`.
    pub fn new(name: &str, key: Ed25519SigningKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let key_id = ed25519_key_id(name, &key.verifying_key());
        Ok(Self {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// Parses a Go-format private key, `PRIVATE+KEY+name+hex(id)+base64(0x01 || seed)`.
    pub fn from_skey(skey: &str) -> Result<Self, NoteError> {
        let rest = skey
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::InvalidKey("skey must start with PRIVATE+KEY+"))?;
        let (name, key_id, bytes) = split_key(rest)?;
        let bytes = SecretBytes::new(bytes);
        let Some((&ED25519_TYPE, seed)) = bytes.expose_secret().split_first() else {
            return Err(NoteError::InvalidKey(
                "skey is not an Ed25519 (type 0x01) key",
            ));
        };
        let key = Ed25519SigningKey::from_seed(seed)
            .map_err(|_| NoteError::InvalidKey("Ed25519 seed must be 32 bytes"))?;
        let s = Self::new(name, key)?;
        if s.key_id != key_id {
            return Err(NoteError::InvalidKey(
                "skey key ID does not match its name and key",
            ));
        }
        Ok(s)
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Ed25519NoteVerifier {
        Ed25519NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }
}

impl NoteSigner for Ed25519NoteSigner {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, NoteError> {
        Ok(self.key.sign(msg).to_vec())
    }
}
