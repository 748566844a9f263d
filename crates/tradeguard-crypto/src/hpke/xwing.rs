//! X-Wing (draft-connolly-cfrg-xwing-kem) as an HPKE KEM (draft-ietf-hpke-pq, id 0x647a), on the
//! RustCrypto `x-wing` crate. The X-Wing shared secret is HPKE's shared secret directly.

use x_wing::{
    Ciphertext, Decapsulate, DecapsulationKey, Decapsulator, ENCAPSULATION_RANDOMNESS_SIZE,
    EncapsulationKey, KeyExport,
};
use zeroize::Zeroizing;

use super::dhkem::SharedSecret;
use crate::CryptoError;
use crate::secret::SecretKey;

/// An X-Wing decapsulation key (its 32-byte seed) with its encoded public key.
pub struct XWingPrivate {
    seed: SecretKey<32>,
    key: DecapsulationKey,
}

impl XWingPrivate {
    /// A fresh random key.
    pub fn generate() -> Result<Self, CryptoError> {
        Self::from_bytes(SecretKey::<32>::random()?.expose_secret())
    }

    /// A key from its 32-byte seed.
    pub fn from_bytes(sk: &[u8]) -> Result<Self, CryptoError> {
        let seed = SecretKey::<32>::from_slice(sk).map_err(|_| CryptoError::InvalidKey {
            what: "X-Wing private key",
            reason: "must be 32 bytes",
        })?;
        let key = DecapsulationKey::from(*seed.expose_secret());
        Ok(Self { seed, key })
    }

    /// The seed, for sealing into the vault.
    pub fn expose_secret(&self) -> &[u8; 32] {
        self.seed.expose_secret()
    }

    /// The encoded public key (1216 bytes).
    pub fn public_key_bytes(&self) -> Vec<u8> {
        self.key.encapsulation_key().to_bytes().to_vec()
    }

    /// Decap(enc): the shared secret.
    pub fn decap(&self, enc: &[u8]) -> Result<SharedSecret, CryptoError> {
        let ct = Ciphertext::try_from(enc).map_err(|_| CryptoError::InvalidKey {
            what: "encapsulated X-Wing key",
            reason: "must be 1120 bytes",
        })?;
        let ss = self.key.decapsulate(&ct);
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&ss);
        Ok(out)
    }
}

/// Parses an encoded X-Wing public key.
pub fn parse_public(pk: &[u8]) -> Result<EncapsulationKey, CryptoError> {
    EncapsulationKey::try_from(pk).map_err(|_| CryptoError::InvalidKey {
        what: "X-Wing public key",
        reason: "must be 1216 bytes with a valid ML-KEM-768 part",
    })
}

/// Encap(pkR) with fresh randomness from the system CSPRNG: (shared_secret, enc).
pub fn encap(pk_r: &[u8]) -> Result<(SharedSecret, Vec<u8>), CryptoError> {
    let mut eseed = Zeroizing::new([0u8; ENCAPSULATION_RANDOMNESS_SIZE]);
    crate::random::fill(&mut eseed[..])?;
    encap_derand(pk_r, &eseed[..])
}

/// Encap with the given 64 bytes of randomness (test vectors; `encap` for real use).
pub fn encap_derand(pk_r: &[u8], eseed: &[u8]) -> Result<(SharedSecret, Vec<u8>), CryptoError> {
    let ek = parse_public(pk_r)?;
    let eseed: [u8; ENCAPSULATION_RANDOMNESS_SIZE] =
        eseed.try_into().map_err(|_| CryptoError::InvalidKey {
            what: "X-Wing encapsulation randomness",
            reason: "must be 64 bytes",
        })?;
    let eseed = Zeroizing::new(eseed);
    let (ct, ss) = ek.encapsulate_deterministic(&(*eseed).into());
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&ss);
    Ok((out, ct.to_vec()))
}

#[cfg(test)]
mod tests {
    //! draft-connolly-cfrg-xwing-kem-10 vectors (tests/vectors/xwing, see its README).
    use super::*;

    #[test]
    fn draft_xwing_kem_vectors() {
        let text = include_str!("../../tests/vectors/xwing/test-vectors.json");
        let v: serde_json::Value = serde_json::from_str(text).expect("vector json");
        let h = |x: &serde_json::Value| {
            let s = x.as_str().expect("hex");
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
                .collect::<Vec<u8>>()
        };
        for (i, t) in v.as_array().expect("array").iter().enumerate() {
            let sk = XWingPrivate::from_bytes(&h(&t["sk"])).expect("sk");
            assert_eq!(sk.public_key_bytes(), h(&t["pk"]), "TC{i} pk");
            let (ss, ct) = encap_derand(&h(&t["pk"]), &h(&t["eseed"])).expect("encap");
            assert_eq!(ct, h(&t["ct"]), "TC{i} ct");
            assert_eq!(ss.to_vec(), h(&t["ss"]), "TC{i} ss");
            assert_eq!(
                sk.decap(&ct).expect("decap").to_vec(),
                h(&t["ss"]),
                "TC{i} decap"
            );
        }
    }
}
