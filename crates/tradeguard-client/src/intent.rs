//! Sealed per-trade intents (`POST /v1/intents`): what a bot sends so that someone watching
//! the link learns neither what it trades, nor who it is, nor which packets are real.
//!
//! Each order becomes one packet: signed by the principal inside, padded to the gateway's one
//! packet size, sealed with HPKE to the gateway's key with a one-use ephemeral key (taken from
//! a pool refilled in the background). With every real packet go `dummies` more (default 2),
//! built from the same order with plausible values and a flag inside the seal; all are sent in
//! a random order, with no header naming the principal. Every answer is the same `202` of the
//! same length; only this client can read it (it is sealed under a key from its packet).
//!
//! Constant-rate mode: call [`IntentClient::tick`] every T ms from your own timer; it sends the
//! next queued order, or a dummy when none is queued.
//!
//! Status: [`IntentClient::status`] sends a sealed query naming routing ids; the answer comes
//! back sealed. Routing ids are `HMAC-SHA256(routing key, seed)[..16]` with the routing key
//! the operator gave this principal; the gateway also returns each id in its answer.
//!
//! ```no_run
//! # async fn run() -> Result<(), tradeguard_client::intent::IntentSendError> {
//! use std::path::Path;
//! use serde_json::json;
//! use tradeguard_client::intent::{IntentClient, IntentOptions};
//! use tradeguard_client::{ClientConfig, PrincipalKey, Trust};
//!
//! let key = PrincipalKey::load_pem_file(Path::new("bot.key"))?;
//! let config = ClientConfig::new("https://127.0.0.1:8443", Trust::pinned_file(Path::new("cert.pem"))?);
//! let bot = IntentClient::connect(&config, key, None, IntentOptions::default()).await?;
//! let sent = bot.send(json!({"client_order_id": "c-1", "profile": "p1", "symbol": "BTC/USD",
//!     "side": "buy", "type": "limit", "price": "50000", "quantity": "0.01"})).await?;
//! println!("{:?}", sent.routing_id);
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use tradeguard_crypto::hpke::{Aead, Kem, PublicKey};
use tradeguard_crypto::intent::response::{ResponseKey, open_response};
use tradeguard_crypto::intent::{
    DEFAULT_POOL_SIZE, IntentError, IntentPayload, IntentSealer, KeyPool, PacketSizes, Protections,
    RoutingId, RoutingKey, ScorePolicy, SignedIntent,
};
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_crypto::{b64, random};
use url::Url;

use crate::sign::{Clock, SystemClock};
use crate::transport::{endpoint, http_client};
use crate::{ClientConfig, ClientError, PrincipalKey, Problem};

/// How intents are sent.
#[derive(Debug, Clone)]
pub struct IntentOptions {
    /// Dummies per real intent (default 2).
    pub dummies: usize,
    /// Constant-rate mode: the caller sends with [`IntentClient::tick`] on a fixed period, so
    /// the stream itself hides the real packets (counted as dummies in force).
    pub constant_rate: bool,
    /// Seal with X-Wing (post-quantum hybrid) instead of X25519.
    pub post_quantum: bool,
    /// The AEAD (default AES-256-GCM).
    pub aead: Aead,
    /// Packet sizes; must be the gateway's.
    pub sizes: PacketSizes,
    /// Weights and threshold: below it nothing is sent (no unsecured fallback).
    pub score: ScorePolicy,
    /// Pre-generated ephemeral keys (default 100).
    pub pool_size: usize,
}

impl Default for IntentOptions {
    fn default() -> Self {
        Self {
            dummies: 2,
            constant_rate: false,
            post_quantum: false,
            aead: Aead::Aes256Gcm,
            sizes: PacketSizes::default(),
            score: ScorePolicy::default(),
            pool_size: DEFAULT_POOL_SIZE,
        }
    }
}

/// Why an intent was not sent or not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntentSendError {
    /// Transport, configuration or gateway error (see [`ClientError`]).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The intent could not be built or sealed (too large, below the score threshold, ...).
    #[error(transparent)]
    Intent(#[from] IntentError),
    /// The gateway opened the packet and refused it; `reason` is its check (`replay`,
    /// `unknown_principal`, `below_threshold`, ...).
    #[error("the gateway refused the intent: {reason}")]
    Refused {
        /// The gateway's reason.
        reason: String,
    },
    /// The answer does not open with this packet's key: the gateway could not open the packet
    /// (wrong gateway key, packet size or clock) or something on the way replaced the answer.
    #[error(
        "the gateway's answer cannot be read: it did not open the packet (check the gateway \
         key, packet sizes and clock) or the answer was altered"
    )]
    Unreadable,
}

/// One sealed packet, ready to send.
#[derive(Debug)]
pub struct Packet {
    /// The envelope JSON (the whole request body).
    pub json: String,
    /// True for the real intent, false for a dummy (known to this client only).
    pub real: bool,
    /// Its routing id, when this client has a routing key.
    pub routing_id: Option<RoutingId>,
    response_key: ResponseKey,
}

/// What the gateway answered to one packet, and what an observer saw of it.
#[derive(Debug, Clone)]
pub struct Answered {
    /// HTTP status (always 202 from a tradeguard gateway).
    pub status: u16,
    /// Bytes of the request body.
    pub request_len: usize,
    /// Bytes of the answer body.
    pub response_len: usize,
    /// From sending the request to having the whole answer.
    pub elapsed: Duration,
    /// The opened answer: `{"ack":"received","routing_id":..}`, `{"ack":"status",..}` or
    /// `{"ack":"refused","reason":..}`.
    pub answer: Value,
}

/// A real intent that the gateway received.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Its routing id (from the gateway's answer, or computed here).
    pub routing_id: Option<RoutingId>,
    /// Packets sent for it (the real one and its dummies).
    pub packets: usize,
}

/// Orders waiting for constant-rate mode.
#[derive(Debug, Default)]
pub struct IntentQueue(Mutex<VecDeque<Value>>);

impl IntentQueue {
    /// Queues an order for the next tick.
    pub fn push(&self, order: Value) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(order);
    }

    fn pop(&self) -> Option<Value> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).pop_front()
    }
}

/// A bot's sealed-intent client for one gateway and one Ed25519 principal.
pub struct IntentClient {
    http: reqwest::Client,
    url: Url,
    key: Ed25519SigningKey,
    sealer: IntentSealer,
    routing: Option<RoutingKey>,
    options: IntentOptions,
    clock: Arc<dyn Clock>,
    template: Mutex<Value>,
}

impl std::fmt::Debug for IntentClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntentClient")
            .field("url", &self.url.as_str())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl IntentClient {
    /// A client sealing to `gateway_key` (X25519 or X-Wing, from `GET /v1/keys`).
    pub fn new(
        config: &ClientConfig,
        key: PrincipalKey,
        gateway_key: PublicKey,
        routing: Option<RoutingKey>,
        options: IntentOptions,
    ) -> Result<Self, IntentSendError> {
        let PrincipalKey::Ed25519 { key, .. } = key else {
            return Err(ClientError::Config(
                "sealed intents are signed with an Ed25519 principal key, not a shared HMAC key"
                    .into(),
            )
            .into());
        };
        let ep = endpoint(&config.url)?;
        let mut url = ep.base;
        url.set_path("/v1/intents");
        let pool = Arc::new(KeyPool::start(options.pool_size).map_err(IntentError::from)?);
        let sealer = IntentSealer::new(gateway_key, options.aead, &options.sizes).with_pool(pool);
        Ok(Self {
            http: http_client(config)?,
            url,
            key,
            sealer,
            routing,
            options,
            clock: Arc::new(SystemClock),
            template: Mutex::new(default_template()),
        })
    }

    /// Fetches the gateway's key from `GET /v1/keys` (public, unsigned) and builds the client.
    pub async fn connect(
        config: &ClientConfig,
        key: PrincipalKey,
        routing: Option<RoutingKey>,
        options: IntentOptions,
    ) -> Result<Self, IntentSendError> {
        let http = http_client(config)?;
        let mut url = endpoint(&config.url)?.base;
        url.set_path("/v1/keys");
        let base = config.url.clone();
        let keys: Value = http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| ClientError::Connect {
                url: base,
                reason: e.to_string(),
            })?
            .json()
            .await
            .map_err(|e| ClientError::Decode {
                reason: e.to_string(),
            })?;
        let kem = if options.post_quantum {
            Kem::XWing
        } else {
            Kem::X25519HkdfSha256
        };
        let gateway_key = gateway_key(&keys, kem)?;
        Self::new(config, key, gateway_key, routing, options)
    }

    /// The same client with another clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The principal's `did:key` (inside every packet, never outside).
    pub fn did(&self) -> String {
        tradeguard_crypto::did::encode_ed25519_did(&self.key.verifying_key())
    }

    /// The protections this client puts in force, as the score counts them.
    pub fn protections(&self) -> Protections {
        Protections {
            ephemeral_key: true, // one pooled or fresh key per packet, never reused
            aead: true,
            nonce: true, // a fresh 128-bit nonce in every payload
            dummies: self.options.dummies > 0 || self.options.constant_rate,
            routing_id: self.routing.is_some(),
        }
    }

    /// The real packet for `order` and its dummies, in a random order (nothing sent yet).
    pub fn prepare(&self, order: Value) -> Result<Vec<Packet>, IntentSendError> {
        self.options.score.check(&self.protections())?;
        let mut packets = Vec::with_capacity(1 + self.options.dummies);
        packets.push(self.packet(self.signed(order.clone(), false)?, true)?);
        for _ in 0..self.options.dummies {
            let dummy = plausible(&order)?;
            packets.push(self.packet(self.signed(dummy, true)?, false)?);
        }
        shuffle(&mut packets)?;
        *self.template.lock().unwrap_or_else(|p| p.into_inner()) = order;
        Ok(packets)
    }

    /// Sends `order` as a real intent with its dummies. Orders are idempotent on
    /// `client_order_id`: after an unknown outcome, sending the same order again is safe.
    pub async fn send(&self, order: Value) -> Result<Sent, IntentSendError> {
        let packets = self.prepare(order)?;
        let mut sent = None;
        for p in &packets {
            let a = self.post(p).await;
            if p.real {
                sent = Some(self.received(p, a?)?);
            }
        }
        let mut sent = sent.unwrap_or_else(|| unreachable!("prepare makes one real packet"));
        sent.packets = packets.len();
        Ok(sent)
    }

    /// One constant-rate tick: the next queued order, or a dummy when the queue is empty.
    pub async fn tick(&self, queue: &IntentQueue) -> Result<Option<Sent>, IntentSendError> {
        self.options.score.check(&self.protections())?;
        match queue.pop() {
            Some(order) => {
                let p = self.packet(self.signed(order.clone(), false)?, true)?;
                *self.template.lock().unwrap_or_else(|p| p.into_inner()) = order;
                let a = self.post(&p).await?;
                self.received(&p, a).map(Some)
            }
            None => {
                let template = self
                    .template
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                let p = self.packet(self.signed(plausible(&template)?, true)?, false)?;
                self.post(&p).await?;
                Ok(None)
            }
        }
    }

    /// Asks for the status of up to 8 intents, inside a sealed query.
    pub async fn status(&self, ids: &[RoutingId]) -> Result<Value, IntentSendError> {
        let now = self.now();
        let q = IntentPayload::new_query(ids.to_vec(), &self.key.verifying_key(), now)?
            .sign(&self.key)?;
        let a = self.post(&self.packet(q, false)?).await?;
        match a.answer["ack"].as_str() {
            Some("status") => Ok(a.answer["status"].clone()),
            _ => Err(refused(&a.answer)),
        }
    }

    /// Posts one packet and opens the answer.
    pub async fn post(&self, packet: &Packet) -> Result<Answered, IntentSendError> {
        let start = Instant::now();
        let resp = self
            .http
            .post(self.url.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(packet.json.clone())
            .send()
            .await
            .map_err(|e| transport(&self.url, &e))?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| transport(&self.url, &e))?;
        let elapsed = start.elapsed();
        if status != 202 {
            return Err(match serde_json::from_slice::<Problem>(&bytes) {
                Ok(problem) => ClientError::Problem {
                    status,
                    problem: Box::new(problem),
                },
                Err(_) => ClientError::Http { status },
            }
            .into());
        }
        let body: Value = serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            reason: e.to_string(),
        })?;
        let sealed = body["answer"]
            .as_str()
            .and_then(|s| b64::decode(s).ok())
            .ok_or(IntentSendError::Unreadable)?;
        let plain = open_response(&packet.response_key, &sealed)
            .map_err(|_| IntentSendError::Unreadable)?;
        let answer = serde_json::from_slice(&plain).map_err(|_| IntentSendError::Unreadable)?;
        Ok(Answered {
            status,
            request_len: packet.json.len(),
            response_len: bytes.len(),
            elapsed,
            answer,
        })
    }

    fn received(&self, p: &Packet, a: Answered) -> Result<Sent, IntentSendError> {
        if a.answer["ack"] != "received" {
            return Err(refused(&a.answer));
        }
        let from_gateway = a.answer["routing_id"]
            .as_str()
            .and_then(RoutingId::from_hex);
        Ok(Sent {
            routing_id: from_gateway.or(p.routing_id),
            packets: 1,
        })
    }

    fn now(&self) -> i64 {
        i64::try_from(self.clock.now_unix()).unwrap_or(i64::MAX)
    }

    fn signed(&self, order: Value, dummy: bool) -> Result<SignedIntent, IntentError> {
        IntentPayload::new(order, &self.key.verifying_key(), self.now(), dummy)?.sign(&self.key)
    }

    fn packet(&self, s: SignedIntent, real: bool) -> Result<Packet, IntentError> {
        let routing_id = self.routing.as_ref().map(|k| s.payload().routing_id(k));
        let sealed = self.sealer.seal(&s)?;
        Ok(Packet {
            json: sealed.to_json(),
            real,
            routing_id,
            response_key: sealed.response_key,
        })
    }
}

fn refused(answer: &Value) -> IntentSendError {
    IntentSendError::Refused {
        reason: answer["reason"].as_str().unwrap_or("unknown").to_owned(),
    }
}

fn transport(url: &Url, e: &reqwest::Error) -> ClientError {
    if e.is_connect() || e.is_builder() {
        ClientError::Connect {
            url: url.to_string(),
            reason: e.to_string(),
        }
    } else {
        ClientError::OutcomeUnknown {
            reason: e.to_string(),
        }
    }
}

/// The gateway's public key for `kem` from the `GET /v1/keys` JSON.
pub fn gateway_key(keys: &Value, kem: Kem) -> Result<PublicKey, ClientError> {
    let missing = || {
        ClientError::Config(format!(
            "the gateway publishes no {} key; turn the post-quantum option off or on to match",
            kem.name()
        ))
    };
    let entry = keys["hpke"]
        .as_array()
        .and_then(|l| l.iter().find(|k| k["kem"] == kem.name()))
        .ok_or_else(missing)?;
    let raw = entry["public_key"]
        .as_str()
        .and_then(|s| b64::decode(s).ok())
        .ok_or_else(missing)?;
    PublicKey::from_bytes(kem, &raw).map_err(|e| ClientError::Config(e.to_string()))
}

/// A dummy order shaped like `order`: same members; decimals scaled by a random factor in
/// [0.5, 1.5) at the same scale, `side` random, `client_order_id` random in the same shape.
pub fn plausible(order: &Value) -> Result<Value, IntentError> {
    let Value::Object(members) = order else {
        return Ok(default_template());
    };
    let mut out = Map::new();
    for (k, v) in members {
        let new = match (k.as_str(), v) {
            ("client_order_id", Value::String(s)) => Value::String(same_shape_id(s)?),
            ("side", Value::String(_)) => json!(if random_u64()? % 2 == 0 {
                "buy"
            } else {
                "sell"
            }),
            (_, Value::String(s)) => Value::String(scaled(s)?.unwrap_or_else(|| s.clone())),
            _ => v.clone(),
        };
        out.insert(k.clone(), new);
    }
    Ok(Value::Object(out))
}

fn default_template() -> Value {
    json!({"client_order_id": "tg-000000000000000000000000", "profile": "default",
           "symbol": "BTC/USD", "side": "buy", "type": "limit", "price": "50000.00",
           "quantity": "0.0100"})
}

fn random_u64() -> Result<u64, IntentError> {
    Ok(u64::from_le_bytes(random::array()?))
}

/// `s` with its characters after the last `-` replaced by random lower-case hex.
fn same_shape_id(s: &str) -> Result<String, IntentError> {
    let cut = s.rfind('-').map_or(0, |i| i + 1);
    let mut out = s[..cut].to_owned();
    for _ in s[cut..].chars() {
        let d = (random_u64()? % 16) as u32;
        out.push(char::from_digit(d, 16).unwrap_or('0'));
    }
    Ok(out)
}

/// A positive plain decimal scaled by a random factor, at its own scale (`None` otherwise).
fn scaled(s: &str) -> Result<Option<String>, IntentError> {
    let plain = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let Some(d) = plain.then(|| s.parse::<Decimal>().ok()).flatten() else {
        return Ok(None);
    };
    if d <= Decimal::ZERO {
        return Ok(None);
    }
    let factor = Decimal::new(500 + (random_u64()? % 1000) as i64, 3);
    let scale = d.scale();
    let mut v = (d * factor).round_dp(scale);
    if v <= Decimal::ZERO {
        v = d;
    }
    v.rescale(scale);
    Ok(Some(v.to_string()))
}

/// Fisher-Yates with the system CSPRNG.
fn shuffle<T>(items: &mut [T]) -> Result<(), IntentError> {
    for i in (1..items.len()).rev() {
        let j = (random_u64()? % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummies_look_like_the_order() {
        let order = json!({"client_order_id": "bot-7-0a1b2c3d", "profile": "p1",
            "symbol": "BTC/USD", "side": "buy", "type": "limit", "price": "50000.25",
            "quantity": "0.0100"});
        for i in 0..50 {
            let d = plausible(&order).unwrap();
            let m = d.as_object().unwrap();
            assert_eq!(m.len(), 7, "TC{i}");
            let id = m["client_order_id"].as_str().unwrap();
            assert!(id.starts_with("bot-7-") && id.len() == 14, "TC{i}: {id}");
            let price = m["price"].as_str().unwrap();
            assert_eq!(
                price.split('.').nth(1).map(str::len),
                Some(2),
                "TC{i}: {price}"
            );
            let p: Decimal = price.parse().unwrap();
            assert!(
                p >= Decimal::new(25000, 0) && p < Decimal::new(75001, 0),
                "TC{i}: {p}"
            );
            assert_eq!(m["quantity"].as_str().unwrap().len(), 6, "TC{i}");
            assert!(
                ["buy", "sell"].contains(&m["side"].as_str().unwrap()),
                "TC{i}"
            );
            assert_eq!(
                (&m["profile"], &m["symbol"], &m["type"]),
                (&order["profile"], &order["symbol"], &order["type"])
            );
        }
    }

    #[test]
    fn shuffle_moves_things_and_keeps_them() {
        let mut seen_first = [false; 3];
        for _ in 0..200 {
            let mut v = [0, 1, 2];
            shuffle(&mut v).unwrap();
            let mut sorted = v;
            sorted.sort();
            assert_eq!(sorted, [0, 1, 2]);
            seen_first[v[0]] = true;
        }
        assert_eq!(seen_first, [true; 3], "each position can come first");
    }

    #[test]
    fn fail_keys_without_the_wanted_kem() {
        let keys =
            json!({"hpke": [{"kem": "X25519-HKDF-SHA256", "public_key": b64::encode(&[9u8; 32])}]});
        assert!(gateway_key(&keys, Kem::X25519HkdfSha256).is_ok());
        assert!(gateway_key(&keys, Kem::XWing).is_err());
        assert!(gateway_key(&json!({}), Kem::X25519HkdfSha256).is_err());
    }
}
