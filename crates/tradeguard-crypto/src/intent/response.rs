//! The gateway's answer to a packet: one fixed-size sealed blob, whatever the packet was.
//!
//! Both sides derive a one-use response key from the packet's HPKE context (RFC 9180 §5.3
//! `Export("tradeguard/v1 intent response", 32)`, as Oblivious HTTP does for its responses).
//! The gateway pads its answer to [`RESPONSE_PADDED`] bytes and seals it with AES-256-GCM under
//! that key (zero nonce: the key seals exactly one message). A packet that did not open gets
//! [`decoy_response`]: random bytes of the same length. An observer sees the same status, the
//! same length and bytes that look random for a real intent, a dummy, a status query and a
//! refused packet; only the sender can read its answer.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::Zeroizing;

use super::IntentError;
use super::pad::{pad, unpad};
use crate::hpke::{Context, Suite};
use crate::random;
use crate::secret::SecretKey;

/// The HPKE exporter context of the response key.
pub const RESPONSE_CONTEXT: &[u8] = b"tradeguard/v1 intent response";
/// Padded size of every answer's plaintext.
pub const RESPONSE_PADDED: usize = 1024;
/// Size of every sealed answer (padded plaintext and tag).
pub const RESPONSE_LEN: usize = RESPONSE_PADDED + 16;

/// The one-use key that seals the answer to one packet.
pub struct ResponseKey(SecretKey<32>);

impl std::fmt::Debug for ResponseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseKey([REDACTED])")
    }
}

impl ResponseKey {
    /// The key exported from a packet's HPKE context (sender or receiver side).
    pub fn export(ctx: &Context, suite: Suite) -> Result<Self, IntentError> {
        let raw = Zeroizing::new(ctx.export(suite, RESPONSE_CONTEXT, 32)?);
        Ok(Self(SecretKey::from_slice(&raw)?))
    }

    /// The key from bytes exported elsewhere (32 bytes).
    pub fn from_exported(raw: &[u8]) -> Result<Self, IntentError> {
        Ok(Self(SecretKey::from_slice(raw)?))
    }

    fn aead(&self) -> Result<LessSafeKey, IntentError> {
        UnboundKey::new(&AES_256_GCM, self.0.expose_secret())
            .map(LessSafeKey::new)
            .map_err(|_| IntentError::Crypto(crate::CryptoError::Internal("response key")))
    }
}

/// Seals `body` (at most [`RESPONSE_PADDED`] - 4 bytes) as the answer; consumes the key.
pub fn seal_response(key: ResponseKey, body: &[u8]) -> Result<Vec<u8>, IntentError> {
    let mut buf = pad(body, RESPONSE_PADDED)?.to_vec();
    key.aead()?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key([0; 12]),
            Aad::empty(),
            &mut buf,
        )
        .map_err(|_| IntentError::Crypto(crate::CryptoError::Internal("response seal")))?;
    Ok(buf)
}

/// The answer to a packet that did not open: random bytes, as long as a sealed answer.
pub fn decoy_response() -> Result<Vec<u8>, IntentError> {
    let mut buf = vec![0u8; RESPONSE_LEN];
    random::fill(&mut buf)?;
    Ok(buf)
}

/// Opens an answer with the key kept from sealing the packet.
pub fn open_response(key: &ResponseKey, sealed: &[u8]) -> Result<Vec<u8>, IntentError> {
    if sealed.len() != RESPONSE_LEN {
        return Err(IntentError::Padding {
            reason: "the answer is not the fixed answer size",
        });
    }
    let mut buf = sealed.to_vec();
    let plain = key
        .aead()?
        .open_in_place(
            Nonce::assume_unique_for_key([0; 12]),
            Aad::empty(),
            &mut buf,
        )
        .map_err(|_| IntentError::OpenFailed)?;
    Ok(unpad(plain, RESPONSE_PADDED)?.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpke::{self, Kem, PrivateKey};

    fn pair() -> (ResponseKey, ResponseKey) {
        let sk = PrivateKey::generate(Kem::X25519HkdfSha256).unwrap();
        let suite = Suite::default();
        let (enc, s) = hpke::setup_sender(suite, &sk.public_key(), b"i").unwrap();
        let r = hpke::setup_receiver(suite, &sk, &enc, b"i").unwrap();
        (
            ResponseKey::export(&s, suite).unwrap(),
            ResponseKey::export(&r, suite).unwrap(),
        )
    }

    #[test]
    fn both_sides_derive_the_same_key_and_every_answer_has_one_length() {
        let (client, gateway) = pair();
        let sealed = seal_response(gateway, br#"{"ack":"received"}"#).unwrap();
        assert_eq!(sealed.len(), RESPONSE_LEN);
        assert_eq!(decoy_response().unwrap().len(), RESPONSE_LEN);
        assert_eq!(
            open_response(&client, &sealed).unwrap(),
            br#"{"ack":"received"}"#
        );
    }

    #[test]
    fn fail_another_packets_key_or_altered_answer() {
        let (_, gateway) = pair();
        let (other_client, _) = pair();
        let sealed = seal_response(gateway, b"x").unwrap();
        assert_eq!(
            open_response(&other_client, &sealed),
            Err(IntentError::OpenFailed)
        );
        let (client, gateway) = pair();
        let mut sealed = seal_response(gateway, b"x").unwrap();
        sealed[3] ^= 1;
        assert_eq!(
            open_response(&client, &sealed),
            Err(IntentError::OpenFailed)
        );
        assert!(open_response(&client, &sealed[1..]).is_err());
        assert!(
            seal_response(pair().1, &[0u8; RESPONSE_PADDED]).is_err(),
            "too long is refused"
        );
    }
}
