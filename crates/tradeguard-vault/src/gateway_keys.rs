//! The gateway's own keys: HPKE recipient keys (X25519 and X-Wing) that credentials and
//! intents are sealed to, and the Ed25519 key that signs checkpoints and reports.
//!
//! `init` generates them and stores each private key sealed under the master key, bound to
//! its name and public key; the public keys are stored in clear so that
//! [`GatewayPublicKeys`] (the `GET /v1/keys` document) is available without the passphrase.

use serde_json::{Value, json};
use tradeguard_crypto::b64;
use tradeguard_crypto::did::{decode_ed25519_did, encode_ed25519_did};
use tradeguard_crypto::envelope::RecipientKey;
use tradeguard_crypto::hpke::{Kem, PrivateKey, PublicKey};
use tradeguard_crypto::secret::SecretKey;
use tradeguard_crypto::sign::{Ed25519SigningKey, Ed25519VerifyingKey};
use tradeguard_store::vault::GatewayKeyRow;

use crate::seal::{self, Kind};
use crate::{Result, VaultError};

const X25519: &str = "x25519";
const XWING: &str = "xwing";
const ED25519: &str = "ed25519";
const TABLE: &str = "vault_gateway_keys";

/// The gateway's public keys: what `tradeguard keys` prints and `GET /v1/keys` serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayPublicKeys {
    /// HPKE X25519-HKDF-SHA256 public key.
    pub x25519: PublicKey,
    /// HPKE X-Wing public key.
    pub xwing: PublicKey,
    /// Ed25519 signing public key.
    pub ed25519: Ed25519VerifyingKey,
}

impl GatewayPublicKeys {
    /// The signing key's `did:key`.
    pub fn did(&self) -> String {
        encode_ed25519_did(&self.ed25519)
    }

    /// The HPKE public key for `kem`.
    pub fn hpke(&self, kem: Kem) -> &PublicKey {
        match kem {
            Kem::X25519HkdfSha256 => &self.x25519,
            Kem::XWing => &self.xwing,
        }
    }

    /// The DESIGN.md `/v1/keys` document.
    pub fn to_json(&self) -> String {
        json!({
            "hpke": [
                {"kem": Kem::X25519HkdfSha256.name(), "public_key": self.x25519.to_base64url()},
                {"kem": Kem::XWing.name(), "public_key": self.xwing.to_base64url()},
            ],
            "signing": {"alg": "ed25519", "public_key": self.ed25519.to_base64url(), "did": self.did()},
        })
        .to_string()
    }

    /// Parses a `/v1/keys` document (for `tradeguard seal --recipient keys.json`). Both HPKE
    /// keys are required; the `did` must match the signing key.
    pub fn from_json(json: &str) -> Result<Self> {
        let bad = |reason: &str| VaultError::invalid("keys document", reason.to_owned());
        let doc: Value = serde_json::from_str(json).map_err(|_| bad("is not JSON"))?;
        let mut x25519 = None;
        let mut xwing = None;
        for entry in doc["hpke"]
            .as_array()
            .ok_or_else(|| bad("`hpke` must be an array"))?
        {
            let kem = Kem::from_name(entry["kem"].as_str().unwrap_or_default())
                .map_err(|_| bad("`hpke[].kem` is not X25519-HKDF-SHA256 or X-Wing"))?;
            let raw = b64::decode(entry["public_key"].as_str().unwrap_or_default())
                .map_err(|_| bad("`hpke[].public_key` is not unpadded base64url"))?;
            let key = PublicKey::from_bytes(kem, &raw)
                .map_err(|_| bad("`hpke[].public_key` has the wrong length"))?;
            match kem {
                Kem::X25519HkdfSha256 => x25519 = Some(key),
                Kem::XWing => xwing = Some(key),
            }
        }
        let signing = &doc["signing"];
        if signing["alg"] != "ed25519" {
            return Err(bad("`signing.alg` must be ed25519"));
        }
        let raw = b64::decode(signing["public_key"].as_str().unwrap_or_default())
            .map_err(|_| bad("`signing.public_key` is not unpadded base64url"))?;
        let ed25519 = Ed25519VerifyingKey::from_bytes(&raw)
            .map_err(|_| bad("`signing.public_key` must be 32 bytes"))?;
        let did = decode_ed25519_did(signing["did"].as_str().unwrap_or_default())
            .map_err(|_| bad("`signing.did` is not an Ed25519 did:key"))?;
        if did != ed25519 {
            return Err(bad("`signing.did` does not match `signing.public_key`"));
        }
        Ok(Self {
            x25519: x25519.ok_or_else(|| bad("has no X25519-HKDF-SHA256 key"))?,
            xwing: xwing.ok_or_else(|| bad("has no X-Wing key"))?,
            ed25519,
        })
    }

    /// Reads the public keys from their rows (no passphrase needed).
    pub(crate) fn from_rows(rows: &[GatewayKeyRow]) -> Result<Self> {
        let find = |name: &str| {
            rows.iter().find(|r| r.name == name).ok_or_else(|| {
                VaultError::corrupt(TABLE, "name", name, "row missing (was init interrupted?)")
            })
        };
        let hpke = |name: &str, kem: Kem| {
            PublicKey::from_bytes(kem, &find(name)?.public_key).map_err(|_| {
                VaultError::corrupt(TABLE, "public_key", name, "wrong length or encoding")
            })
        };
        let ed = Ed25519VerifyingKey::from_bytes(&find(ED25519)?.public_key)
            .map_err(|_| VaultError::corrupt(TABLE, "public_key", ED25519, "must be 32 bytes"))?;
        Ok(Self {
            x25519: hpke(X25519, Kem::X25519HkdfSha256)?,
            xwing: hpke(XWING, Kem::XWing)?,
            ed25519: ed,
        })
    }
}

/// The gateway's private keys, unsealed.
pub(crate) struct GatewayKeys {
    pub recipient: RecipientKey,
    pub signing: Ed25519SigningKey,
}

impl GatewayKeys {
    /// Fresh keys.
    pub fn generate() -> Result<Self> {
        Ok(Self {
            recipient: RecipientKey::generate_with_xwing().map_err(VaultError::Crypto)?,
            signing: Ed25519SigningKey::generate().map_err(VaultError::Crypto)?,
        })
    }

    /// The public half.
    pub fn public(&self) -> Result<GatewayPublicKeys> {
        let missing = || VaultError::Crypto(tradeguard_crypto::CryptoError::Internal("X-Wing key"));
        Ok(GatewayPublicKeys {
            x25519: self.recipient.public_key(),
            xwing: self.recipient.xwing_public_key().ok_or_else(missing)?,
            ed25519: self.signing.verifying_key(),
        })
    }

    /// The rows to store: each private key sealed under `key`, bound to name and public key.
    pub fn seal(&self, key: &SecretKey<32>, now_ms: i64) -> Result<Vec<GatewayKeyRow>> {
        let public = self.public()?;
        let x = self.private(Kem::X25519HkdfSha256)?;
        let w = self.private(Kem::XWing)?;
        let entries: [(&str, Vec<u8>, &[u8]); 3] = [
            (X25519, public.x25519.as_bytes().to_vec(), x.expose_secret()),
            (XWING, public.xwing.as_bytes().to_vec(), w.expose_secret()),
            (
                ED25519,
                public.ed25519.as_bytes().to_vec(),
                self.signing.expose_seed(),
            ),
        ];
        entries
            .into_iter()
            .map(|(name, pk, sk)| {
                let aad = seal::aad(Kind::GatewayKey, &[name.as_bytes(), &pk]);
                Ok(GatewayKeyRow {
                    name: name.to_owned(),
                    sealed: seal::seal(key, &aad, sk)?,
                    public_key: pk,
                    created_ms: now_ms,
                })
            })
            .collect()
    }

    fn private(&self, kem: Kem) -> Result<tradeguard_crypto::secret::SecretBytes> {
        let missing = VaultError::Crypto(tradeguard_crypto::CryptoError::Internal("HPKE key"));
        Ok(self
            .recipient
            .key_for(kem)
            .ok_or(missing)?
            .to_secret_bytes())
    }

    /// Unseals the keys and checks each against its stored public key.
    pub fn unseal(rows: &[GatewayKeyRow], key: &SecretKey<32>) -> Result<Self> {
        let public = GatewayPublicKeys::from_rows(rows)?;
        let open = |name: &str| {
            let row = rows
                .iter()
                .find(|r| r.name == name)
                .ok_or_else(|| VaultError::corrupt(TABLE, "name", name, "row missing"))?;
            let aad = seal::aad(Kind::GatewayKey, &[name.as_bytes(), &row.public_key]);
            seal::open(
                key,
                &aad,
                &row.sealed,
                Kind::GatewayKey,
                (TABLE, "nonce", name),
            )
        };
        let mismatch = |name: &str| VaultError::TamperedCiphertext {
            what: "gateway key",
            key: name.to_owned(),
        };
        let hpke = |name: &str, kem: Kem| {
            let k = PrivateKey::from_bytes(kem, open(name)?.expose_secret())
                .map_err(|_| mismatch(name))?;
            if k.public_key() != *public.hpke(kem) {
                return Err(mismatch(name));
            }
            Ok(k)
        };
        let recipient = RecipientKey::new(
            hpke(X25519, Kem::X25519HkdfSha256)?,
            Some(hpke(XWING, Kem::XWing)?),
        )
        .map_err(VaultError::Crypto)?;
        let signing = Ed25519SigningKey::from_seed(open(ED25519)?.expose_secret())
            .map_err(|_| mismatch(ED25519))?;
        if signing.verifying_key() != public.ed25519 {
            return Err(mismatch(ED25519));
        }
        Ok(Self { recipient, signing })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_json_round_trips_and_rejects_a_mismatched_did() {
        let keys = GatewayKeys::generate().unwrap();
        let public = keys.public().unwrap();
        let json = public.to_json();
        assert_eq!(GatewayPublicKeys::from_json(&json).unwrap(), public);
        let other = GatewayKeys::generate().unwrap().public().unwrap();
        let forged = json.replace(&public.did(), &other.did());
        assert!(GatewayPublicKeys::from_json(&forged).is_err());
        assert!(GatewayPublicKeys::from_json("{}").is_err());
    }

    #[test]
    fn seal_unseal_and_fail_on_swapped_public_key() {
        let key = SecretKey::<32>::random().unwrap();
        let keys = GatewayKeys::generate().unwrap();
        let mut rows = keys.seal(&key, 1).unwrap();
        let back = GatewayKeys::unseal(&rows, &key).unwrap();
        assert_eq!(back.public().unwrap(), keys.public().unwrap());
        let other = GatewayKeys::generate().unwrap().public().unwrap();
        rows[0].public_key = other.hpke(Kem::X25519HkdfSha256).as_bytes().to_vec();
        assert!(matches!(
            GatewayKeys::unseal(&rows, &key),
            Err(VaultError::TamperedCiphertext {
                what: "gateway key",
                ..
            })
        ));
    }
}
