//! Sealing a signed intent into one fixed-size envelope, and opening one with every check.

use std::sync::Arc;

use super::pad::{enc_len, pad, unpad};
use super::payload::{SignedIntent, VerifiedIntent};
use super::pool::KeyPool;
use super::response::{RESPONSE_CONTEXT, ResponseKey};
use super::{IntentError, PacketSizes};
use crate::envelope::{self, Envelope, Info, Opened, RecipientKey};
use crate::hpke::{self, Aead, Kdf, Kem, PublicKey, Suite};

/// How far an intent's creation time may lie from the gateway's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeWindow {
    /// Oldest accepted age in seconds (default 300, the signed-request window of DESIGN.md).
    pub max_age_secs: i64,
    /// Largest accepted clock skew into the future in seconds (default 30).
    pub max_future_secs: i64,
}

impl Default for TimeWindow {
    fn default() -> Self {
        Self {
            max_age_secs: 300,
            max_future_secs: 30,
        }
    }
}

impl TimeWindow {
    /// Checks a creation time against `now` (both Unix seconds).
    pub fn check(&self, created: i64, now: i64) -> Result<(), IntentError> {
        let age = now.saturating_sub(created);
        if age > self.max_age_secs {
            return Err(IntentError::TooOld {
                age_secs: age,
                max_secs: self.max_age_secs,
            });
        }
        if -age > self.max_future_secs {
            return Err(IntentError::FromTheFuture {
                ahead_secs: -age,
                max_secs: self.max_future_secs,
            });
        }
        Ok(())
    }
}

/// Seals intents for one gateway key: pad to the packet size, HPKE base mode with
/// `info` = `tradeguard/v1 intent`, a one-use ephemeral key per intent.
pub struct IntentSealer {
    recipient: PublicKey,
    suite: Suite,
    padded_len: usize,
    pool: Option<Arc<KeyPool>>,
}

impl IntentSealer {
    /// A sealer for `recipient` (its KEM chooses X25519 or X-Wing) with `aead`.
    pub fn new(recipient: PublicKey, aead: Aead, sizes: &PacketSizes) -> Self {
        let suite = Suite {
            kem: recipient.kem(),
            kdf: Kdf::HkdfSha256,
            aead,
        };
        Self {
            recipient,
            suite,
            padded_len: sizes.padded_len(suite.kem),
            pool: None,
        }
    }

    /// Takes ephemeral keys from `pool` (X25519 only; an X-Wing sealer ignores it, since an
    /// X-Wing encapsulation has no separable key pair to pre-generate).
    pub fn with_pool(mut self, pool: Arc<KeyPool>) -> Self {
        if self.suite.kem == Kem::X25519HkdfSha256 {
            self.pool = Some(pool);
        }
        self
    }

    /// The suite used.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The largest payload one packet carries.
    pub fn capacity(&self) -> usize {
        self.padded_len - 4
    }

    /// Seals `intent`.
    pub fn seal(&self, intent: &SignedIntent) -> Result<SealedIntent, IntentError> {
        self.seal_payload(&zeroize::Zeroizing::new(intent.to_bytes()?))
    }

    /// Pads and seals an already encoded payload.
    pub fn seal_payload(&self, payload: &[u8]) -> Result<SealedIntent, IntentError> {
        let padded = pad(payload, self.padded_len)?;
        let info = Info::Intent.as_bytes();
        let (enc, mut ctx) = match &self.pool {
            Some(pool) => {
                hpke::setup_sender_with_ephemeral(self.suite, &self.recipient, info, pool.take()?)?
            }
            None => hpke::setup_sender(self.suite, &self.recipient, info)?,
        };
        let ct = ctx.seal(b"", &padded)?;
        let response_key = ResponseKey::export(&ctx, self.suite)?;
        let envelope = Envelope {
            suite: self.suite,
            enc,
            ct,
        };
        Ok(SealedIntent {
            envelope,
            response_key,
        })
    }
}

/// A sealed packet and the key that opens the gateway's answer to it.
#[derive(Debug)]
pub struct SealedIntent {
    /// The envelope (send [`Envelope::to_json`]).
    pub envelope: Envelope,
    /// Opens the answer ([`super::response::open_response`]); keep it until the answer came.
    pub response_key: ResponseKey,
}

impl SealedIntent {
    /// The envelope JSON, as sent to `POST /v1/intents`.
    pub fn to_json(&self) -> String {
        self.envelope.to_json()
    }
}

/// Everything an opening needs besides the packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenPolicy {
    /// The packet size per KEM.
    pub sizes: PacketSizes,
    /// The accepted creation times.
    pub window: TimeWindow,
}

/// An opened, verified intent with the encapsulated key it arrived under (its ephemeral
/// public key, which a gateway can keep in its replay cache to see that it is never reused)
/// and the key that seals the answer to it.
pub struct OpenedIntent {
    /// The intent; its signature verified against the principal it names.
    pub intent: Opened<VerifiedIntent>,
    /// The envelope's encapsulated key.
    pub enc: Vec<u8>,
    /// Seals the answer ([`super::response::seal_response`]).
    pub response_key: ResponseKey,
}

/// Parses and opens a sealed intent: envelope JSON, packet size, HPKE open, padding, payload,
/// signature, creation time, in that order; each failure is its own [`IntentError`].
/// `now` is the Unix time in seconds. Whether the principal is known, may trade, and whether
/// the nonce is fresh are the caller's checks.
pub fn open_intent(
    recipient: &RecipientKey,
    policy: &OpenPolicy,
    json: &str,
    now: i64,
) -> Result<OpenedIntent, IntentError> {
    let env = Envelope::from_json(json)?;
    let kem = env.suite.kem;
    let found = env.enc.len() + env.ct.len();
    let expected = policy.sizes.packet(kem);
    if found != expected || env.enc.len() != enc_len(kem) {
        return Err(IntentError::PacketSize { expected, found });
    }
    let (opened, exported) =
        envelope::open_exporting(recipient, Info::Intent, &env, RESPONSE_CONTEXT, 32)?;
    let response_key = ResponseKey::from_exported(exported.expose_secret())?;
    let intent = opened.try_map(|padded| {
        let payload = unpad(padded.expose_secret(), policy.sizes.padded_len(kem))?;
        SignedIntent::parse(payload)?.verify()
    })?;
    policy.window.check(intent.payload().created(), now)?;
    Ok(OpenedIntent {
        intent,
        enc: env.enc,
        response_key,
    })
}
