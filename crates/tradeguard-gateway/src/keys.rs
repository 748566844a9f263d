//! [`GatewayKeys`]: the gateway's public keys (served at `GET /v1/keys`) and its signer.
//! The private keys live in `tradeguard-vault`; the gateway only needs the HPKE public keys
//! to publish and something that signs with its Ed25519 key.

use std::sync::Arc;

use serde_json::{Value, json};
use tradeguard_crypto::did::encode_ed25519_did;
use tradeguard_crypto::hpke::PublicKey;
use tradeguard_crypto::sign::{Ed25519SigningKey, Ed25519VerifyingKey};

/// Signs with the gateway's Ed25519 key (held by the vault).
pub trait GatewaySigner: Send + Sync {
    /// The public half.
    fn verifying_key(&self) -> Ed25519VerifyingKey;
    /// An Ed25519 signature over `msg`.
    fn sign(&self, msg: &[u8]) -> [u8; 64];
}

impl GatewaySigner for Ed25519SigningKey {
    fn verifying_key(&self) -> Ed25519VerifyingKey {
        Ed25519SigningKey::verifying_key(self)
    }

    fn sign(&self, msg: &[u8]) -> [u8; 64] {
        Ed25519SigningKey::sign(self, msg)
    }
}

/// The keys the gateway is constructed with.
#[derive(Clone)]
pub struct GatewayKeys {
    hpke: Vec<PublicKey>,
    signer: Arc<dyn GatewaySigner>,
}

impl std::fmt::Debug for GatewayKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayKeys")
            .field("hpke", &self.hpke.len())
            .field("did", &self.did())
            .finish()
    }
}

impl GatewayKeys {
    /// Keys from the HPKE public keys (X25519 first, X-Wing when enabled) and the signer.
    pub fn new(hpke: Vec<PublicKey>, signer: Arc<dyn GatewaySigner>) -> Self {
        Self { hpke, signer }
    }

    /// The signer.
    pub fn signer(&self) -> &Arc<dyn GatewaySigner> {
        &self.signer
    }

    /// The gateway's `did:key`.
    pub fn did(&self) -> String {
        encode_ed25519_did(&self.signer.verifying_key())
    }

    /// The JSON of `GET /v1/keys` and `tradeguard keys` (DESIGN.md).
    pub fn to_json(&self) -> Value {
        let hpke: Vec<Value> = self
            .hpke
            .iter()
            .map(|k| json!({"kem": k.kem().name(), "public_key": k.to_base64url()}))
            .collect();
        json!({
            "hpke": hpke,
            "signing": {
                "alg": "ed25519",
                "public_key": self.signer.verifying_key().to_base64url(),
                "did": self.did(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeguard_crypto::envelope::RecipientKey;

    #[test]
    fn json_has_the_design_shape() {
        let rk = RecipientKey::generate_with_xwing().unwrap();
        let hpke = vec![rk.public_key(), rk.xwing_public_key().unwrap()];
        let keys = GatewayKeys::new(hpke, Arc::new(Ed25519SigningKey::generate().unwrap()));
        let j = keys.to_json();
        assert_eq!(j["hpke"][0]["kem"], "X25519-HKDF-SHA256");
        assert_eq!(j["hpke"][1]["kem"], "X-Wing");
        assert_eq!(j["signing"]["alg"], "ed25519");
        assert!(
            j["signing"]["did"]
                .as_str()
                .unwrap()
                .starts_with("did:key:z6Mk")
        );
        let pk =
            tradeguard_crypto::b64::decode(j["hpke"][0]["public_key"].as_str().unwrap()).unwrap();
        assert_eq!(pk, rk.public_key().as_bytes());
    }
}
