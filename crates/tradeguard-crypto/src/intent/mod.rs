//! Sealed per-trade intents (issue 7), without I/O: the signed inner payload, padding to one
//! packet size, sealing with `info` = `tradeguard/v1 intent`, strict opening, routing ids, the
//! security score and the pool of pre-generated ephemeral keys.
//!
//! - [`payload`]: what the principal signs (order, `did:key`, nonce, time, dummy flag,
//!   routing seed) and the strict parser.
//! - [`pad`]: the fixed packet size per KEM (default 1 KiB X25519, 2 KiB X-Wing).
//! - [`routing`]: `HMAC-SHA256(routing key, seed)[..16]`.
//! - [`score`]: protections in force, weights, threshold, fail closed.
//! - [`pool`]: one-use X25519 ephemeral keys, refilled by a background thread.
//! - [`seal`]: [`IntentSealer`] and [`open_intent`].
//!
//! ```
//! use std::sync::Arc;
//! use serde_json::json;
//! use tradeguard_crypto::envelope::RecipientKey;
//! use tradeguard_crypto::hpke::Aead;
//! use tradeguard_crypto::intent::{self, IntentPayload, IntentSealer, KeyPool, OpenPolicy};
//! use tradeguard_crypto::sign::Ed25519SigningKey;
//!
//! let gateway = RecipientKey::generate_x25519().unwrap();
//! let principal = Ed25519SigningKey::generate().unwrap();
//! let now = 1_767_225_600;
//! let order = json!({"venue": "binance", "symbol": "BTCUSDT", "side": "buy", "qty": "0.01"});
//! let signed = IntentPayload::new(order, &principal.verifying_key(), now, false).unwrap()
//!     .sign(&principal).unwrap();
//!
//! let policy = OpenPolicy::default();
//! let sealer = IntentSealer::new(gateway.public_key(), Aead::Aes256Gcm, &policy.sizes)
//!     .with_pool(Arc::new(KeyPool::start(4).unwrap()));
//! let packet = sealer.seal(&signed).unwrap().to_json();
//!
//! let opened = intent::open_intent(&gateway, &policy, &packet, now).unwrap();
//! assert_eq!(opened.intent.payload().order()["qty"], "0.01");
//! assert!(!opened.intent.payload().is_dummy());
//! ```

mod error;
pub mod pad;
pub mod payload;
pub mod pool;
pub mod routing;
pub mod score;
pub mod seal;
mod strict_json;

pub use error::IntentError;
pub use pad::PacketSizes;
pub use payload::{IntentPayload, SignedIntent, VerifiedIntent};
pub use pool::{DEFAULT_POOL_SIZE, KeyPool, PoolStats};
pub use routing::{RoutingId, RoutingKey};
pub use score::{Protections, ScorePolicy, ScoreWeights};
pub use seal::{IntentSealer, OpenPolicy, OpenedIntent, TimeWindow, open_intent};
