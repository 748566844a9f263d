//! Kraken request signing: `API-Sign = base64(HMAC-SHA512(base64decode(secret),
//! uri_path || SHA256(nonce || post_data)))`, and the strictly increasing nonce.
//!
//! See: <https://docs.kraken.com/api/docs/guides/spot-rest-auth>; exchanges.md section 2.2.

use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::error::ExchangeError;
use crate::model::{ExchangeId, UnixMillis};

/// The `API-Sign` header for a private call.
///
/// `uri_path` is the path from `/0/private` on; `post_data` is the exact encoded body,
/// including `nonce=...`; `nonce` is the same nonce as a decimal string.
pub fn api_sign(
    secret_b64: &str,
    uri_path: &str,
    nonce: &str,
    post_data: &[u8],
) -> Result<String, ExchangeError> {
    let key = Zeroizing::new(STANDARD.decode(secret_b64.trim()).map_err(|_| {
        ExchangeError::Config {
            exchange: ExchangeId::Kraken,
            what: "api_secret",
            reason: "the private key is not base64; copy the whole key from Kraken's API page"
                .to_owned(),
        }
    })?);
    let inner = tradeguard_crypto::digest::sha256_parts(&[nonce.as_bytes(), post_data]);
    let mut msg = Vec::with_capacity(uri_path.len() + inner.len());
    msg.extend_from_slice(uri_path.as_bytes());
    msg.extend_from_slice(&inner);
    Ok(STANDARD.encode(tradeguard_crypto::mac::hmac_sha512(&key, &msg)))
}

/// Issues nonces for one API key: milliseconds since the epoch, bumped so each nonce is
/// strictly greater than the previous one even when the clock stalls or steps back.
/// Share one `NonceSource` (in an `Arc`) between every client that uses the same key.
///
/// It also hands out the key's sending turn: a request must take its nonce and travel to
/// Kraken while holding the turn, so that nonces arrive in the order they were issued
/// (Kraken refuses a nonce lower than one it has already accepted).
#[derive(Debug, Default)]
pub struct NonceSource {
    last: Mutex<u64>,
    turn: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl NonceSource {
    /// A source that has issued nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next nonce: `max(now, previous + 1)`.
    pub fn next(&self, now: UnixMillis) -> u64 {
        let now = u64::try_from(now.0).unwrap_or(0);
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        *last = now.max(last.saturating_add(1));
        *last
    }

    /// The lock every client of this key holds from taking a nonce until the answer arrives.
    pub fn send_turn(&self) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        self.turn.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_strictly_increase_even_if_the_clock_steps_back() {
        let n = NonceSource::new();
        let seq = [
            n.next(UnixMillis(1_000)),
            n.next(UnixMillis(1_000)),
            n.next(UnixMillis(900)),
            n.next(UnixMillis(2_000)),
        ];
        assert_eq!(seq, [1_000, 1_001, 1_002, 2_000]);
    }

    #[test]
    fn fail_secret_that_is_not_base64() {
        let r = api_sign("not base64!", "/0/private/Balance", "1", b"nonce=1");
        assert!(matches!(r, Err(ExchangeError::Config { .. })));
    }
}
