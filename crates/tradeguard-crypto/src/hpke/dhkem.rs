//! DHKEM(X25519, HKDF-SHA256) (RFC 9180 §4.1) on aws-lc-rs X25519.

use aws_lc_rs::agreement::{self, PrivateKey, UnparsedPublicKey, X25519};
use zeroize::Zeroizing;

use super::kdf::{labeled_expand, labeled_extract};
use crate::CryptoError;
use crate::secret::SecretKey;

/// Length of an X25519 public key / encapsulated key (Npk = Nenc).
pub const NPK: usize = 32;
/// KEM suite id: "KEM" ‖ I2OSP(0x0020, 2).
const SUITE_ID: &[u8] = b"KEM\x00\x20";

/// A KEM shared secret (Nsecret = 32), wiped on drop.
pub type SharedSecret = Zeroizing<[u8; 32]>;

/// An X25519 private key, its aws-lc-rs form, and its public key.
pub struct X25519Private {
    bytes: SecretKey<32>,
    key: PrivateKey,
    public: [u8; NPK],
}

impl X25519Private {
    /// A fresh random key.
    pub fn generate() -> Result<Self, CryptoError> {
        Self::from_bytes(SecretKey::<32>::random()?.expose_secret())
    }

    /// A key from its 32 private bytes.
    pub fn from_bytes(sk: &[u8]) -> Result<Self, CryptoError> {
        let invalid = CryptoError::InvalidKey {
            what: "X25519 private key",
            reason: "must be 32 bytes",
        };
        let bytes = SecretKey::<32>::from_slice(sk).map_err(|_| invalid.clone())?;
        let key = PrivateKey::from_private_key(&X25519, sk).map_err(|_| invalid)?;
        let public = public_of(&key)?;
        Ok(Self { bytes, key, public })
    }

    /// RFC 9180 §7.1.3 DeriveKeyPair for X25519.
    pub fn derive(ikm: &[u8]) -> Result<Self, CryptoError> {
        let dkp_prk = Zeroizing::new(labeled_extract(SUITE_ID, b"", b"dkp_prk", ikm));
        let mut sk = Zeroizing::new([0u8; 32]);
        labeled_expand(SUITE_ID, &dkp_prk[..], b"sk", b"", &mut sk[..])?;
        Self::from_bytes(&sk[..])
    }

    /// The private bytes, for sealing into the vault.
    pub fn expose_secret(&self) -> &[u8; 32] {
        self.bytes.expose_secret()
    }

    /// The public key.
    pub fn public_key(&self) -> &[u8; NPK] {
        &self.public
    }
}

fn public_of(key: &PrivateKey) -> Result<[u8; NPK], CryptoError> {
    let pk = key
        .compute_public_key()
        .map_err(|_| CryptoError::Internal("X25519 public key"))?;
    let mut out = [0u8; NPK];
    out.copy_from_slice(pk.as_ref());
    Ok(out)
}

/// DH(sk, pk); refuses an all-zero result (a small-order peer key), as RFC 9180 §7.1.4 requires.
fn dh(sk: &PrivateKey, pk: &[u8]) -> Result<SharedSecret, CryptoError> {
    let bad = CryptoError::InvalidKey {
        what: "X25519 public key",
        reason: "not a valid curve point for key agreement",
    };
    let out = agreement::agree(sk, UnparsedPublicKey::new(&X25519, pk), bad.clone(), |s| {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(s);
        Ok(out)
    })?;
    if out.iter().all(|b| *b == 0) {
        return Err(bad);
    }
    Ok(out)
}

fn extract_and_expand(dh: &[u8], enc: &[u8], pk_r: &[u8]) -> Result<SharedSecret, CryptoError> {
    let mut kem_context = [0u8; 2 * NPK];
    kem_context[..NPK].copy_from_slice(enc);
    kem_context[NPK..].copy_from_slice(pk_r);
    let eae_prk = Zeroizing::new(labeled_extract(SUITE_ID, b"", b"eae_prk", dh));
    let mut shared = Zeroizing::new([0u8; 32]);
    labeled_expand(
        SUITE_ID,
        &eae_prk[..],
        b"shared_secret",
        &kem_context,
        &mut shared[..],
    )?;
    Ok(shared)
}

fn check_len(pk: &[u8], what: &'static str) -> Result<(), CryptoError> {
    if pk.len() != NPK {
        return Err(CryptoError::InvalidKey {
            what,
            reason: "must be 32 bytes",
        });
    }
    Ok(())
}

/// A one-use X25519 ephemeral key pair for the sender side.
///
/// The private key lives only inside aws-lc-rs (AWS-LC wipes it with `OPENSSL_cleanse` when the
/// key is freed, `crypto/mem.c` `OPENSSL_free`); its public key is computed once, when the key is
/// made, so a pre-generated key costs one Diffie-Hellman when used. [`encap_with`] takes it by
/// value: a key can be used once only, and it is freed (wiped) as the encapsulation ends.
pub struct EphemeralX25519 {
    key: PrivateKey,
    public: [u8; NPK],
}

impl EphemeralX25519 {
    /// A fresh random key pair (one X25519 key generation).
    pub fn generate() -> Result<Self, CryptoError> {
        let key = PrivateKey::generate(&X25519).map_err(|_| CryptoError::Rng)?;
        let public = public_of(&key)?;
        Ok(Self { key, public })
    }

    /// The key pair RFC 9180 `DeriveKeyPair(ikm_e)` gives (test vectors only).
    pub fn derive(ikm_e: &[u8]) -> Result<Self, CryptoError> {
        let sk = X25519Private::derive(ikm_e)?;
        Ok(Self {
            key: sk.key,
            public: sk.public,
        })
    }

    /// The public key, which becomes `enc`.
    pub fn public_key(&self) -> &[u8; NPK] {
        &self.public
    }
}

/// Encap(pkR) with a fresh ephemeral key: returns (shared_secret, enc).
pub fn encap(pk_r: &[u8]) -> Result<(SharedSecret, Vec<u8>), CryptoError> {
    check_len(pk_r, "X25519 public key")?;
    encap_with(EphemeralX25519::generate()?, pk_r)
}

/// Encap with the ephemeral key derived from `ikm_e` (test vectors only).
pub fn encap_derand(pk_r: &[u8], ikm_e: &[u8]) -> Result<(SharedSecret, Vec<u8>), CryptoError> {
    check_len(pk_r, "X25519 public key")?;
    encap_with(EphemeralX25519::derive(ikm_e)?, pk_r)
}

/// Encap(pkR) with a given ephemeral key, consumed: one Diffie-Hellman and the KEM's HKDF.
/// Every sender path ([`encap`], [`encap_derand`], pooled keys) goes through here, so the
/// RFC 9180 vectors prove it.
pub fn encap_with(
    sk_e: EphemeralX25519,
    pk_r: &[u8],
) -> Result<(SharedSecret, Vec<u8>), CryptoError> {
    check_len(pk_r, "X25519 public key")?;
    let dh = dh(&sk_e.key, pk_r)?;
    let shared = extract_and_expand(&dh[..], &sk_e.public, pk_r)?;
    Ok((shared, sk_e.public.to_vec()))
}

/// Decap(enc, skR): returns the shared secret.
pub fn decap(sk_r: &X25519Private, enc: &[u8]) -> Result<SharedSecret, CryptoError> {
    check_len(enc, "encapsulated X25519 key")?;
    let dh = dh(&sk_r.key, enc)?;
    extract_and_expand(&dh[..], enc, &sk_r.public)
}
