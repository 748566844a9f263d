//! The base-mode key schedule (RFC 9180 §5.1) and the encryption context (§5.2).

use zeroize::Zeroizing;

use super::aead::{AeadKey, NK, NN};
use super::kdf::{NH, labeled_expand, labeled_extract};
use super::suite::Suite;
use crate::CryptoError;
use crate::secret::SecretBytes;

/// Base mode identifier.
const MODE_BASE: u8 = 0x00;

/// An HPKE encryption context: an AEAD key, a base nonce and a sequence number.
pub struct Context {
    aead: AeadKey,
    base_nonce: [u8; NN],
    seq: u64,
    exporter_secret: SecretBytes,
}

/// KeySchedule(mode_base, shared_secret, info, psk = "", psk_id = "").
pub fn key_schedule(suite: Suite, shared: &[u8], info: &[u8]) -> Result<Context, CryptoError> {
    let sid = suite.hpke_suite_id();
    let psk_id_hash = labeled_extract(&sid, b"", b"psk_id_hash", b"");
    let info_hash = labeled_extract(&sid, b"", b"info_hash", info);
    let mut ksc = [0u8; 1 + 2 * NH];
    ksc[0] = MODE_BASE;
    ksc[1..1 + NH].copy_from_slice(&psk_id_hash);
    ksc[1 + NH..].copy_from_slice(&info_hash);

    let secret = Zeroizing::new(labeled_extract(&sid, shared, b"secret", b""));
    let mut key = Zeroizing::new([0u8; NK]);
    labeled_expand(&sid, &secret[..], b"key", &ksc, &mut key[..])?;
    let mut base_nonce = [0u8; NN];
    labeled_expand(&sid, &secret[..], b"base_nonce", &ksc, &mut base_nonce)?;
    let mut exporter = Zeroizing::new(vec![0u8; NH]);
    labeled_expand(&sid, &secret[..], b"exp", &ksc, &mut exporter[..])?;
    Ok(Context {
        aead: AeadKey::new(suite.aead, &key[..])?,
        base_nonce,
        seq: 0,
        exporter_secret: SecretBytes::new(std::mem::take(&mut *exporter)),
    })
}

impl Context {
    fn next_nonce(&mut self) -> Result<[u8; NN], CryptoError> {
        let mut nonce = self.base_nonce;
        for (n, s) in nonce[NN - 8..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        self.seq = self
            .seq
            .checked_add(1)
            .ok_or(CryptoError::Internal("HPKE sequence number overflow"))?;
        Ok(nonce)
    }

    /// Seals the next message.
    pub fn seal(&mut self, aad: &[u8], pt: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce = self.next_nonce()?;
        self.aead.seal(nonce, aad, pt)
    }

    /// Opens the next message; `None` when it does not authenticate (the sequence number then
    /// does not advance).
    pub fn open(&mut self, aad: &[u8], ct: &[u8]) -> Option<Vec<u8>> {
        let seq = self.seq;
        let nonce = self.next_nonce().ok()?;
        let pt = self.aead.open(nonce, aad, ct);
        if pt.is_none() {
            self.seq = seq;
        }
        pt
    }

    /// Export(exporter_context, L) (RFC 9180 §5.3).
    pub fn export(&self, suite: Suite, context: &[u8], len: usize) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; len];
        labeled_expand(
            &suite.hpke_suite_id(),
            self.exporter_secret.expose_secret(),
            b"sec",
            context,
            &mut out,
        )?;
        Ok(out)
    }
}
