//! HMAC-SHA256 and HMAC-SHA512 (aws-lc-rs), with constant-time verification.

use aws_lc_rs::hmac;

/// HMAC-SHA256 of `msg` under `key`.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    hmac_sha256_parts(key, &[msg])
}

/// HMAC-SHA256 over the concatenation of `parts`.
pub fn hmac_sha256_parts(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, key));
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

/// HMAC-SHA512 of `msg` under `key`.
pub fn hmac_sha512(key: &[u8], msg: &[u8]) -> [u8; 64] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA512, key), msg);
    let mut out = [0u8; 64];
    out.copy_from_slice(tag.as_ref());
    out
}

/// True when `tag` is the HMAC-SHA256 of `msg` under `key` (constant time).
pub fn verify_hmac_sha256(key: &[u8], msg: &[u8], tag: &[u8]) -> bool {
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, key), msg, tag).is_ok()
}
