//! Fixed keys and time shared by the fuzz targets and the seed generator, so seeds made by
//! `cargo run --example make_seeds` open in the targets.

use serde_json::json;
use tradeguard_crypto::envelope::RecipientKey;
use tradeguard_crypto::hpke::{Aead, PrivateKey};
use tradeguard_crypto::intent::{IntentPayload, IntentSealer, OpenPolicy, SignedIntent};
use tradeguard_crypto::sign::Ed25519SigningKey;

/// The time the targets open at.
pub const NOW: i64 = 1_767_225_600;

/// The fixed gateway key (X25519 only).
pub fn recipient() -> RecipientKey {
    let sk = PrivateKey::derive_x25519(b"tradeguard fuzz intent recipient").expect("derive");
    RecipientKey::new(sk, None).expect("recipient")
}

/// A valid signed intent from the fixed principal.
pub fn sample(dummy: bool) -> SignedIntent {
    let key = Ed25519SigningKey::from_seed(&[7u8; 32]).expect("seed");
    let order = json!({"venue": "binance", "symbol": "BTCUSDT", "side": "buy", "type": "limit",
                       "qty": "0.01", "price": "97000", "client_order_id": "fuzz-1"});
    IntentPayload::from_parts(order, &key.verifying_key(), [1; 16], NOW, dummy, [2; 16])
        .and_then(|p| p.sign(&key))
        .expect("sign")
}

/// A sealer to the fixed gateway key.
pub fn sealer() -> IntentSealer {
    IntentSealer::new(
        recipient().public_key(),
        Aead::Aes256Gcm,
        &OpenPolicy::default().sizes,
    )
}
