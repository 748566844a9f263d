//! The base-mode key schedule (RFC 9180 §5.1) and the encryption context (§5.2).

use std::sync::RwLock;

use zeroize::Zeroizing;

use super::aead::{AeadKey, NK, NN};
use super::kdf::{NH, labeled_expand, labeled_extract};
use super::suite::Suite;
use crate::CryptoError;
use crate::secret::SecretKey;

/// Base mode identifier.
const MODE_BASE: u8 = 0x00;

/// The key schedule context for one (suite, info): `mode ‖ psk_id_hash ‖ info_hash`.
type KeyScheduleContext = [u8; 1 + 2 * NH];

/// An HPKE encryption context: an AEAD key, a base nonce and a sequence number.
pub struct Context {
    aead: AeadKey,
    base_nonce: [u8; NN],
    seq: u64,
    /// Kept to derive the exporter secret when [`Context::export`] is called (rarely: intents
    /// and credentials never export), rather than on every setup.
    secret: SecretKey<NH>,
    ksc: KeyScheduleContext,
}

/// Key schedule contexts already computed. They hash public values only (the suite, an empty
/// psk_id and the `info` string), and a gateway uses a handful of (suite, info) pairs, so
/// computing them once saves two HMACs per message.
static KSC_CACHE: RwLock<Vec<KscEntry>> = RwLock::new(Vec::new());
/// One cached context: the suite id, the `info` and the context.
type KscEntry = ([u8; 10], Vec<u8>, KeyScheduleContext);
/// More distinct (suite, info) pairs than this are computed each time, not cached.
const KSC_CACHE_MAX: usize = 32;

fn key_schedule_context(sid: &[u8; 10], info: &[u8]) -> KeyScheduleContext {
    let cache = KSC_CACHE.read().unwrap_or_else(|e| e.into_inner());
    if let Some((_, _, ksc)) = cache.iter().find(|(s, i, _)| s == sid && i == info) {
        return *ksc;
    }
    drop(cache);
    let psk_id_hash = labeled_extract(sid, b"", b"psk_id_hash", b"");
    let info_hash = labeled_extract(sid, b"", b"info_hash", info);
    let mut ksc = [0u8; 1 + 2 * NH];
    ksc[0] = MODE_BASE;
    ksc[1..1 + NH].copy_from_slice(&psk_id_hash);
    ksc[1 + NH..].copy_from_slice(&info_hash);
    let mut cache = KSC_CACHE.write().unwrap_or_else(|e| e.into_inner());
    if cache.len() < KSC_CACHE_MAX && !cache.iter().any(|(s, i, _)| s == sid && i == info) {
        cache.push((*sid, info.to_vec(), ksc));
    }
    ksc
}

/// KeySchedule(mode_base, shared_secret, info, psk = "", psk_id = "").
pub fn key_schedule(suite: Suite, shared: &[u8], info: &[u8]) -> Result<Context, CryptoError> {
    let sid = suite.hpke_suite_id();
    let ksc = key_schedule_context(&sid, info);
    let secret_bytes = Zeroizing::new(labeled_extract(&sid, shared, b"secret", b""));
    let secret = SecretKey::<NH>::from_slice(&secret_bytes[..])?;
    let mut key = Zeroizing::new([0u8; NK]);
    labeled_expand(&sid, secret.expose_secret(), b"key", &ksc, &mut key[..])?;
    let mut base_nonce = [0u8; NN];
    labeled_expand(
        &sid,
        secret.expose_secret(),
        b"base_nonce",
        &ksc,
        &mut base_nonce,
    )?;
    Ok(Context {
        aead: AeadKey::new(suite.aead, &key[..])?,
        base_nonce,
        seq: 0,
        secret,
        ksc,
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
        let sid = suite.hpke_suite_id();
        let mut exporter = Zeroizing::new([0u8; NH]);
        labeled_expand(
            &sid,
            self.secret.expose_secret(),
            b"exp",
            &self.ksc,
            &mut exporter[..],
        )?;
        let mut out = vec![0u8; len];
        labeled_expand(&sid, &exporter[..], b"sec", context, &mut out)?;
        Ok(out)
    }
}
