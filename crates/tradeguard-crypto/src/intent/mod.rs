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
//! - [`seal`]: [`IntentSealer`] and [`open_intent`]; [`response`]: the fixed-size sealed
//!   answer, readable only by the packet's sender.
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
//! let sealed = sealer.seal(&signed).unwrap();
//! let (packet, packet_key) = (sealed.to_json(), sealed.response_key);
//!
//! let opened = intent::open_intent(&gateway, &policy, &packet, now).unwrap();
//! assert_eq!(opened.intent.payload().order().unwrap()["qty"], "0.01");
//! assert!(!opened.intent.payload().is_dummy());
//!
//! let answer = intent::response::seal_response(opened.response_key, br#"{"ack":1}"#).unwrap();
//! let read = intent::response::open_response(&packet_key, &answer).unwrap();
//! assert_eq!(read, br#"{"ack":1}"#);
//! ```

mod error;
pub mod pad;
pub mod payload;
pub mod pool;
pub mod response;
pub mod routing;
pub mod score;
pub mod seal;
mod strict_json;

pub use error::IntentError;
pub use pad::PacketSizes;
pub use payload::{Body, IntentPayload, SignedIntent, VerifiedIntent};
pub use pool::{DEFAULT_POOL_SIZE, KeyPool, PoolStats};
pub use response::ResponseKey;
pub use routing::{RoutingId, RoutingKey};
pub use score::{Protections, ScorePolicy, ScoreWeights};
pub use seal::{IntentSealer, OpenPolicy, OpenedIntent, SealedIntent, TimeWindow, open_intent};
