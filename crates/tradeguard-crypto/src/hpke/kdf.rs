//! HPKE's labeled HKDF-SHA256 (RFC 9180 §4): Extract is HMAC-SHA256, Expand is aws-lc-rs HKDF.

use aws_lc_rs::{hkdf, hmac};

use crate::CryptoError;

/// Output length of SHA-256 (Nh).
pub const NH: usize = 32;

/// LabeledExtract(salt, label, ikm) = HMAC(salt, "HPKE-v1" ‖ suite_id ‖ label ‖ ikm).
pub fn labeled_extract(suite_id: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> [u8; NH] {
    let mut ctx = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, salt));
    for part in [b"HPKE-v1".as_slice(), suite_id, label, ikm] {
        ctx.update(part);
    }
    let mut prk = [0u8; NH];
    prk.copy_from_slice(ctx.sign().as_ref());
    prk
}

/// LabeledExpand(prk, label, info, L) = HKDF-Expand(prk, I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖
/// label ‖ info, L), written into `out` (L = `out.len()`, at most 255·Nh).
pub fn labeled_expand(
    suite_id: &[u8],
    prk: &[u8],
    label: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    let len = u16::try_from(out.len()).map_err(|_| CryptoError::Internal("HKDF length"))?;
    let len_be = len.to_be_bytes();
    let parts: [&[u8]; 5] = [&len_be, b"HPKE-v1", suite_id, label, info];
    hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, prk)
        .expand(&parts, OutLen(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| CryptoError::Internal("HKDF-Expand"))
}

struct OutLen(usize);

impl hkdf::KeyType for OutLen {
    fn len(&self) -> usize {
        self.0
    }
}
