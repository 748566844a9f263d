//! Ed25519 (RFC 8032) and ML-DSA-65 (FIPS 204) signatures on aws-lc-rs.

use aws_lc_rs::signature::{
    self, ED25519, Ed25519KeyPair, KeyPair, ML_DSA_65, ML_DSA_65_SIGNING, PqdsaKeyPair,
    UnparsedPublicKey,
};
use base64::Engine;
use zeroize::Zeroizing;

use crate::CryptoError;
use crate::secret::{SecretKey, SecretString};

/// Ed25519 private key. Holds the 32-byte seed (wiped on drop) and the expanded key pair.
pub struct Ed25519SigningKey {
    seed: SecretKey<32>,
    pair: Ed25519KeyPair,
}

/// DER prefix of a PKCS#8 v1 Ed25519 private key (RFC 8410 §7), followed by the 32-byte seed.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

impl Ed25519SigningKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, CryptoError> {
        let seed = SecretKey::<32>::random()?;
        Self::from_seed(seed.expose_secret())
    }

    /// The key for a 32-byte RFC 8032 seed.
    pub fn from_seed(seed: &[u8]) -> Result<Self, CryptoError> {
        let seed = SecretKey::<32>::from_slice(seed).map_err(|_| CryptoError::InvalidKey {
            what: "Ed25519 seed",
            reason: "must be 32 bytes",
        })?;
        let pair = Ed25519KeyPair::from_seed_unchecked(seed.expose_secret()).map_err(|_| {
            CryptoError::InvalidKey {
                what: "Ed25519 seed",
                reason: "rejected by the key parser",
            }
        })?;
        Ok(Self { seed, pair })
    }

    /// Reads a PKCS#8 v1 PEM (`-----BEGIN PRIVATE KEY-----`) as written by [`Self::to_pkcs8_pem`]
    /// and by `openssl genpkey -algorithm ed25519`.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, CryptoError> {
        let der = Zeroizing::new(pem_decode(pem, "PRIVATE KEY").ok_or(
            CryptoError::InvalidKey {
                what: "Ed25519 PKCS#8 PEM",
                reason: "not a PEM `PRIVATE KEY` block",
            },
        )?);
        match der.strip_prefix(&PKCS8_ED25519_PREFIX[..]) {
            Some(seed) if seed.len() == 32 => Self::from_seed(seed),
            _ => Err(CryptoError::InvalidKey {
                what: "Ed25519 PKCS#8 PEM",
                reason: "not a PKCS#8 v1 Ed25519 key",
            }),
        }
    }

    /// The key as PKCS#8 v1 PEM, for `controller.key` files (write it with mode 0600).
    pub fn to_pkcs8_pem(&self) -> SecretString {
        let mut der = Zeroizing::new(Vec::with_capacity(48));
        der.extend_from_slice(&PKCS8_ED25519_PREFIX);
        der.extend_from_slice(self.seed.expose_secret());
        SecretString::new(pem_encode(&der, "PRIVATE KEY"))
    }

    /// The 32-byte seed, for sealing into the vault.
    pub fn expose_seed(&self) -> &[u8; 32] {
        self.seed.expose_secret()
    }

    /// Signs `msg` (deterministic, RFC 8032).
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        out.copy_from_slice(self.pair.sign(msg).as_ref());
        out
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> Ed25519VerifyingKey {
        let mut pk = [0u8; 32];
        pk.copy_from_slice(self.pair.public_key().as_ref());
        Ed25519VerifyingKey(pk)
    }
}

/// Ed25519 public key (32 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ed25519VerifyingKey([u8; 32]);

impl Ed25519VerifyingKey {
    /// Parses a raw 32-byte public key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::InvalidKey {
            what: "Ed25519 public key",
            reason: "must be 32 bytes",
        })?;
        Ok(Self(arr))
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Checks `sig` over `msg` (strict RFC 8032 verification).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(msg, sig)
            .map_err(|_| CryptoError::BadSignature)
    }

    /// The key as unpadded base64url (the form `GET /v1/keys` uses).
    pub fn to_base64url(&self) -> String {
        crate::b64::encode(&self.0)
    }
}

/// ML-DSA-65 private key (FIPS 204), for the post-quantum option.
pub struct MlDsa65SigningKey {
    seed: SecretKey<32>,
    pair: PqdsaKeyPair,
}

impl MlDsa65SigningKey {
    /// Length of an ML-DSA-65 signature in bytes.
    pub const SIGNATURE_LEN: usize = 3309;

    /// A fresh random key.
    pub fn generate() -> Result<Self, CryptoError> {
        let seed = SecretKey::<32>::random()?;
        Self::from_seed(seed.expose_secret())
    }

    /// The key for a 32-byte FIPS 204 seed (ξ).
    pub fn from_seed(seed: &[u8]) -> Result<Self, CryptoError> {
        let seed = SecretKey::<32>::from_slice(seed).map_err(|_| CryptoError::InvalidKey {
            what: "ML-DSA-65 seed",
            reason: "must be 32 bytes",
        })?;
        let pair =
            PqdsaKeyPair::from_seed(&ML_DSA_65_SIGNING, seed.expose_secret()).map_err(|_| {
                CryptoError::InvalidKey {
                    what: "ML-DSA-65 seed",
                    reason: "rejected by the key parser",
                }
            })?;
        Ok(Self { seed, pair })
    }

    /// The 32-byte seed, for sealing into the vault.
    pub fn expose_seed(&self) -> &[u8; 32] {
        self.seed.expose_secret()
    }

    /// Signs `msg` (hedged: randomized as FIPS 204 recommends).
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut sig = vec![0u8; Self::SIGNATURE_LEN];
        let n = self
            .pair
            .sign(msg, &mut sig)
            .map_err(|_| CryptoError::Internal("ML-DSA-65 sign"))?;
        sig.truncate(n);
        Ok(sig)
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> MlDsa65VerifyingKey {
        MlDsa65VerifyingKey(self.pair.public_key().as_ref().to_vec())
    }
}

/// ML-DSA-65 public key (1952 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlDsa65VerifyingKey(Vec<u8>);

impl MlDsa65VerifyingKey {
    /// Length of an encoded ML-DSA-65 public key.
    pub const LEN: usize = 1952;

    /// Parses a raw encoded public key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != Self::LEN {
            return Err(CryptoError::InvalidKey {
                what: "ML-DSA-65 public key",
                reason: "must be 1952 bytes",
            });
        }
        Ok(Self(bytes.to_vec()))
    }

    /// The encoded key.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Checks `sig` over `msg` (empty context string).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        signature::UnparsedPublicKey::new(&ML_DSA_65, &self.0)
            .verify(msg, sig)
            .map_err(|_| CryptoError::BadSignature)
    }
}

fn pem_encode(der: &[u8], label: &str) -> String {
    let b64 = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(der));
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn pem_decode(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = pem.trim().strip_prefix(&begin)?.strip_suffix(&end)?;
    let b64: Zeroizing<String> = Zeroizing::new(body.split_whitespace().collect());
    base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_keeps_the_key() {
        let k = Ed25519SigningKey::generate().unwrap();
        let pem = k.to_pkcs8_pem();
        let k2 = Ed25519SigningKey::from_pkcs8_pem(pem.expose_secret()).unwrap();
        assert_eq!(k.verifying_key(), k2.verifying_key());
    }

    #[test]
    fn fail_pem_of_another_kind() {
        let cases = [
            "",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
        ];
        for (i, pem) in cases.iter().enumerate() {
            assert!(
                Ed25519SigningKey::from_pkcs8_pem(pem).is_err(),
                "TC{i} failed"
            );
        }
    }

    #[test]
    fn mldsa_sign_verify_and_reject_tampering() {
        let k = MlDsa65SigningKey::generate().unwrap();
        let sig = k.sign(b"checkpoint").unwrap();
        assert_eq!(sig.len(), MlDsa65SigningKey::SIGNATURE_LEN);
        let vk = k.verifying_key();
        vk.verify(b"checkpoint", &sig).unwrap();
        assert_eq!(
            vk.verify(b"checkpoinT", &sig),
            Err(CryptoError::BadSignature)
        );
    }
}
