//! AES-256-GCM (aws-lc-rs) with random 96-bit nonces, and the associated data that binds each
//! ciphertext to its record.
//!
//! Every key here encrypts few messages (a data key exactly one, a KEK one data key per
//! credential, the gateway key three), far below the 2^32 random-nonce limit.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use tradeguard_crypto::secret::{SecretBytes, SecretKey};
use tradeguard_store::vault::SealedBlob;

use crate::{Result, VaultError};

/// What a ciphertext is; the first part of its associated data, so a ciphertext of one kind
/// never opens as another.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// A KEK wrapped under the master key; bound to its version.
    Kek,
    /// A data key wrapped under a KEK; bound to the credential and the KEK version.
    DataKey,
    /// A credential's secret fields under its data key; bound to the credential.
    Credential,
    /// A gateway private key under the master key; bound to its name and public key.
    GatewayKey,
}

impl Kind {
    fn label(self) -> &'static [u8] {
        match self {
            Self::Kek => b"tradeguard/v1 vault kek",
            Self::DataKey => b"tradeguard/v1 vault data-key",
            Self::Credential => b"tradeguard/v1 vault credential",
            Self::GatewayKey => b"tradeguard/v1 vault gateway-key",
        }
    }

    /// The name used in errors.
    pub fn name(self) -> &'static str {
        match self {
            Self::Kek => "KEK",
            Self::DataKey => "data key",
            Self::Credential => "credential",
            Self::GatewayKey => "gateway key",
        }
    }
}

/// Associated data: the kind's label, then each part length-prefixed (u32, big-endian), so
/// no two different part lists encode the same bytes.
pub(crate) fn aad(kind: Kind, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = kind.label().to_vec();
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_be_bytes());
        out.extend_from_slice(p);
    }
    out
}

fn key(k: &SecretKey<32>) -> Result<LessSafeKey> {
    let unbound = UnboundKey::new(&AES_256_GCM, k.expose_secret())
        .map_err(|_| VaultError::Crypto(tradeguard_crypto::CryptoError::Internal("AES key")))?;
    Ok(LessSafeKey::new(unbound))
}

/// Encrypts `plaintext` under `k` with a fresh random nonce.
pub(crate) fn seal(k: &SecretKey<32>, aad: &[u8], plaintext: &[u8]) -> Result<SealedBlob> {
    let nonce: [u8; NONCE_LEN] = tradeguard_crypto::random::array().map_err(VaultError::Crypto)?;
    let mut buf = plaintext.to_vec();
    key(k)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut buf,
        )
        .map_err(|_| VaultError::Crypto(tradeguard_crypto::CryptoError::Internal("AES seal")))?;
    Ok(SealedBlob {
        nonce: nonce.to_vec(),
        ciphertext: buf,
    })
}

/// Decrypts `blob`. A nonce of the wrong length is a corrupt row (`table`, `nonce_column`,
/// `row_key`); a ciphertext that does not authenticate is [`VaultError::TamperedCiphertext`].
pub(crate) fn open(
    k: &SecretKey<32>,
    aad: &[u8],
    blob: &SealedBlob,
    kind: Kind,
    at: (&str, &str, &str),
) -> Result<SecretBytes> {
    let (table, nonce_column, row_key) = at;
    let nonce: [u8; NONCE_LEN] =
        blob.nonce.as_slice().try_into().map_err(|_| {
            VaultError::corrupt(table, nonce_column, row_key, "nonce must be 12 bytes")
        })?;
    // Zeroizing: a partial plaintext left in the buffer is wiped on every path.
    let mut plain = zeroize::Zeroizing::new(blob.ciphertext.clone());
    let n = key(k)?
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut plain,
        )
        .map(|p| p.len())
        .map_err(|_| VaultError::TamperedCiphertext {
            what: kind.name(),
            key: row_key.to_owned(),
        })?;
    plain.truncate(n);
    Ok(SecretBytes::new(std::mem::take(&mut *plain)))
}

/// Decrypts a 32-byte key.
pub(crate) fn open_key(
    k: &SecretKey<32>,
    aad: &[u8],
    blob: &SealedBlob,
    kind: Kind,
    at: (&str, &str, &str),
) -> Result<SecretKey<32>> {
    let bytes = open(k, aad, blob, kind, at)?;
    SecretKey::from_slice(bytes.expose_secret()).map_err(|_| VaultError::TamperedCiphertext {
        what: kind.name(),
        key: at.2.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: (&str, &str, &str) = ("t", "nonce", "k");

    #[test]
    fn round_trip_and_every_binding_matters() {
        let k = SecretKey::<32>::random().unwrap();
        let a = aad(Kind::Credential, &[b"id", b"binance", b"main"]);
        let blob = seal(&k, &a, b"secret fields").unwrap();
        let opened = open(&k, &a, &blob, Kind::Credential, AT).unwrap();
        assert_eq!(opened.expose_secret(), b"secret fields");
        let wrong = [
            aad(Kind::Credential, &[b"id2", b"binance", b"main"]),
            aad(Kind::Credential, &[b"id", b"kraken", b"main"]),
            aad(Kind::Credential, &[b"id", b"binance", b"mai"]),
            aad(Kind::Credential, &[b"idb", b"inance", b"main"]),
            aad(Kind::DataKey, &[b"id", b"binance", b"main"]),
        ];
        for (i, w) in wrong.iter().enumerate() {
            let e = open(&k, w, &blob, Kind::Credential, AT).unwrap_err();
            assert!(
                matches!(e, VaultError::TamperedCiphertext { .. }),
                "TC{} failed",
                i + 1
            );
        }
    }

    #[test]
    fn fail_flipped_bit_and_short_nonce() {
        let k = SecretKey::<32>::random().unwrap();
        let mut blob = seal(&k, b"a", b"x").unwrap();
        blob.ciphertext[0] ^= 1;
        assert!(matches!(
            open(&k, b"a", &blob, Kind::Kek, AT),
            Err(VaultError::TamperedCiphertext { what: "KEK", .. })
        ));
        blob.nonce.pop();
        assert!(matches!(
            open(&k, b"a", &blob, Kind::Kek, AT),
            Err(VaultError::CorruptRow { .. })
        ));
    }
}
