//! Where the gateway finds a principal's routing key (the key routing ids are derived with).

use std::collections::HashMap;
use std::sync::RwLock;

use tradeguard_crypto::intent::RoutingKey;
use tradeguard_crypto::mac::hmac_sha256_parts;
use tradeguard_crypto::secret::SecretKey;

/// The routing keys of principals.
pub trait RoutingKeys: Send + Sync {
    /// The routing key shared with `did`, if there is one.
    fn key(&self, did: &str) -> Option<RoutingKey>;
}

/// Routing keys derived from one gateway secret (held by the vault):
/// `HMAC-SHA256(master, "tradeguard/v1 routing key\n" ‖ did)`. Nothing to store per
/// principal; the operator hands each bot its key once ([`DerivedRoutingKeys::key`] offline),
/// and a new master gives every principal a new key.
pub struct DerivedRoutingKeys {
    master: SecretKey<32>,
}

/// Domain separation of the routing key derivation.
pub const ROUTING_KEY_LABEL: &[u8] = b"tradeguard/v1 routing key\n";

impl DerivedRoutingKeys {
    /// Derivation from `master`.
    pub fn new(master: SecretKey<32>) -> Self {
        Self { master }
    }

    /// The routing key of `did` (also what the operator gives the bot).
    pub fn derive(&self, did: &str) -> RoutingKey {
        let raw = hmac_sha256_parts(
            self.master.expose_secret(),
            &[ROUTING_KEY_LABEL, did.as_bytes()],
        );
        RoutingKey::from_bytes(&raw).unwrap_or_else(|_| unreachable!("32-byte HMAC output"))
    }
}

impl RoutingKeys for DerivedRoutingKeys {
    fn key(&self, did: &str) -> Option<RoutingKey> {
        Some(self.derive(did))
    }
}

/// Routing keys held in memory (tests, demos).
#[derive(Default)]
pub struct MemoryRoutingKeys(RwLock<HashMap<String, [u8; 32]>>);

impl MemoryRoutingKeys {
    /// Sets the key of `did`.
    pub fn insert(&self, did: &str, key: &RoutingKey) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        map.insert(did.to_owned(), *key.expose_secret());
    }
}

impl RoutingKeys for MemoryRoutingKeys {
    fn key(&self, did: &str) -> Option<RoutingKey> {
        let map = self.0.read().unwrap_or_else(|p| p.into_inner());
        map.get(did).and_then(|k| RoutingKey::from_bytes(k).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_differ_per_principal_and_master() {
        let a = DerivedRoutingKeys::new(SecretKey::from_slice(&[1; 32]).unwrap());
        let b = DerivedRoutingKeys::new(SecretKey::from_slice(&[2; 32]).unwrap());
        let k = |d: &DerivedRoutingKeys, did| *d.derive(did).expose_secret();
        assert_ne!(k(&a, "did:key:z6MkA"), k(&a, "did:key:z6MkB"));
        assert_ne!(k(&a, "did:key:z6MkA"), k(&b, "did:key:z6MkA"));
        assert_eq!(k(&a, "did:key:z6MkA"), k(&a, "did:key:z6MkA"));
    }
}
