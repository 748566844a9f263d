//! The AEADs of our suites on aws-lc-rs.

use aws_lc_rs::aead::{AES_256_GCM, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};

use super::suite::Aead;
use crate::CryptoError;

/// Key length (Nk) for both AEADs.
pub const NK: usize = 32;
/// Nonce length (Nn).
pub const NN: usize = 12;

/// A keyed AEAD.
pub struct AeadKey(LessSafeKey);

impl AeadKey {
    /// Keys `aead` with `key` (32 bytes).
    pub fn new(aead: Aead, key: &[u8]) -> Result<Self, CryptoError> {
        let alg = match aead {
            Aead::Aes256Gcm => &AES_256_GCM,
            Aead::ChaCha20Poly1305 => &CHACHA20_POLY1305,
        };
        let unbound = UnboundKey::new(alg, key).map_err(|_| CryptoError::Internal("AEAD key"))?;
        Ok(Self(LessSafeKey::new(unbound)))
    }

    /// Encrypts `pt` and appends the tag.
    pub fn seal(&self, nonce: [u8; NN], aad: &[u8], pt: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut buf = Vec::with_capacity(pt.len() + self.0.algorithm().tag_len());
        buf.extend_from_slice(pt);
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .map_err(|_| CryptoError::Internal("AEAD seal"))?;
        Ok(buf)
    }

    /// Decrypts and authenticates `ct` (ciphertext ‖ tag). `None` when it does not authenticate.
    pub fn open(&self, nonce: [u8; NN], aad: &[u8], ct: &[u8]) -> Option<Vec<u8>> {
        let mut buf = ct.to_vec();
        let n = self
            .0
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .ok()?
            .len();
        buf.truncate(n);
        Some(buf)
    }
}
