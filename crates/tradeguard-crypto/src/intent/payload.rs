//! The inner payload of a sealed intent, its canonical signing input and its strict parser.
//!
//! On the wire (inside the seal, before padding) the payload is one JSON object:
//!
//! ```text
//! {"created":1767225600,"dummy":false,"nonce":"<16 bytes, b64url>","order":{...},
//!  "principal":"did:key:z6Mk...","routing":"<16 bytes, b64url>","sig":"<64 bytes, b64url>","v":1}
//! ```
//!
//! A status query carries `"query":["<routing id, 32 hex>", ...]` (1 to 8 ids) in place of
//! `order`; exactly one of the two is present. `sig` is the principal's Ed25519 signature over
//! `tradeguard/v1 intent signature\n` followed by the RFC 8785 (JCS) canonical form of the
//! object without `sig`. The parser is strict: an
//! unknown, missing, duplicated (at any depth) or mistyped member is an error naming it.

use std::fmt;

use serde_json::{Map, Value};

use super::IntentError;
use super::routing::{RoutingId, RoutingKey};
use super::strict_json::parse_object;
use crate::did::{decode_ed25519_did, encode_ed25519_did};
use crate::sign::{Ed25519SigningKey, Ed25519VerifyingKey};
use crate::{b64, jcs, random};

/// Length of the replay nonce (128 bits).
pub const NONCE_LEN: usize = 16;
/// Length of the per-intent random value the routing id is derived from.
pub const ROUTING_SEED_LEN: usize = 16;
/// Prefix of the signed message, so an intent signature is never valid for anything else.
pub const SIGNATURE_CONTEXT: &[u8] = b"tradeguard/v1 intent signature\n";
/// Latest accepted creation time: 2^53 seconds, the largest integer JSON carries exactly.
const MAX_CREATED: i64 = 1 << 53;
/// Most routing ids one status query may ask about.
pub const MAX_QUERY: usize = 8;
const MEMBERS: [&str; 9] = [
    "v",
    "order",
    "query",
    "principal",
    "nonce",
    "created",
    "dummy",
    "routing",
    "sig",
];

/// What a packet asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// An order (a JSON object, handed to the order path).
    Order(Value),
    /// The status of earlier intents, by routing id (1 to [`MAX_QUERY`], no repeats).
    Query(Vec<RoutingId>),
}

/// What a principal signs: an order (or a status query) and everything that makes the
/// packet unique.
#[derive(Clone, PartialEq)]
pub struct IntentPayload {
    body: Body,
    principal_did: String,
    principal: Ed25519VerifyingKey,
    nonce: [u8; NONCE_LEN],
    created: i64,
    dummy: bool,
    routing_seed: [u8; ROUTING_SEED_LEN],
}

impl IntentPayload {
    /// A new payload with a fresh random nonce and routing seed. `order` must be a JSON object
    /// with a canonical form; `created` is the Unix time in seconds.
    pub fn new(
        order: Value,
        principal: &Ed25519VerifyingKey,
        created: i64,
        dummy: bool,
    ) -> Result<Self, IntentError> {
        Self::from_parts(
            order,
            principal,
            random::array()?,
            created,
            dummy,
            random::array()?,
        )
    }

    /// A status query for the intents with these routing ids, with a fresh nonce.
    pub fn new_query(
        ids: Vec<RoutingId>,
        principal: &Ed25519VerifyingKey,
        created: i64,
    ) -> Result<Self, IntentError> {
        let did = encode_ed25519_did(principal);
        let (nonce, seed) = (random::array()?, random::array()?);
        Self::with_did(
            Body::Query(ids),
            did,
            *principal,
            nonce,
            created,
            false,
            seed,
        )
    }

    /// A payload from explicit parts (tests, replays of recorded traffic). Use [`Self::new`]
    /// for real intents: a repeated nonce is refused as a replay.
    pub fn from_parts(
        order: Value,
        principal: &Ed25519VerifyingKey,
        nonce: [u8; NONCE_LEN],
        created: i64,
        dummy: bool,
        routing_seed: [u8; ROUTING_SEED_LEN],
    ) -> Result<Self, IntentError> {
        let did = encode_ed25519_did(principal);
        let body = Body::Order(order);
        Self::with_did(body, did, *principal, nonce, created, dummy, routing_seed)
    }

    /// `from_parts` with the `did:key` already encoded (the parser has it).
    fn with_did(
        body: Body,
        principal_did: String,
        principal: Ed25519VerifyingKey,
        nonce: [u8; NONCE_LEN],
        created: i64,
        dummy: bool,
        routing_seed: [u8; ROUTING_SEED_LEN],
    ) -> Result<Self, IntentError> {
        match &body {
            Body::Order(order) if !order.is_object() => {
                return Err(bad("order", "is not a JSON object"));
            }
            Body::Query(ids) if ids.is_empty() || ids.len() > MAX_QUERY => {
                return Err(bad("query", "must list 1 to 8 routing ids"));
            }
            Body::Query(ids) if (1..ids.len()).any(|i| ids[..i].contains(&ids[i])) => {
                return Err(bad("query", "lists a routing id twice"));
            }
            _ => {}
        }
        if !(0..=MAX_CREATED).contains(&created) {
            return Err(bad("created", "is before 1970 or beyond 2^53 seconds"));
        }
        Ok(Self {
            body,
            principal_did,
            principal,
            nonce,
            created,
            dummy,
            routing_seed,
        })
    }

    /// What the packet asks for.
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// The order (a JSON object), as the principal wrote it; `None` for a status query.
    pub fn order(&self) -> Option<&Value> {
        match &self.body {
            Body::Order(o) => Some(o),
            Body::Query(_) => None,
        }
    }

    /// The routing ids a status query asks about; `None` for an order.
    pub fn query(&self) -> Option<&[RoutingId]> {
        match &self.body {
            Body::Query(ids) => Some(ids),
            Body::Order(_) => None,
        }
    }

    /// The principal's `did:key`.
    pub fn principal_did(&self) -> &str {
        &self.principal_did
    }

    /// The principal's public key (the one the signature is checked against).
    pub fn principal(&self) -> &Ed25519VerifyingKey {
        &self.principal
    }

    /// The replay nonce.
    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    /// Creation time, Unix seconds.
    pub fn created(&self) -> i64 {
        self.created
    }

    /// True for a dummy packet (opened, counted, dropped by the gateway).
    pub fn is_dummy(&self) -> bool {
        self.dummy
    }

    /// The per-intent random value the routing id is derived from.
    pub fn routing_seed(&self) -> &[u8; ROUTING_SEED_LEN] {
        &self.routing_seed
    }

    /// This intent's routing id under the principal's routing key.
    pub fn routing_id(&self, key: &RoutingKey) -> RoutingId {
        RoutingId::derive(key, &self.routing_seed)
    }

    /// RFC 8785 form of the payload without `sig`, written directly: the members in their
    /// canonical (sorted) order, the order object through [`jcs::canonicalize`]. The other
    /// values need no escaping (base64url, base58, hex and `did:key:` characters; integers up
    /// to 2^53, which JCS writes in plain decimal). `order` sorts before `principal`, `query`
    /// after it. A test checks it against the generic path.
    fn unsigned_canonical(&self) -> Result<String, IntentError> {
        let (order, query) = match &self.body {
            Body::Order(o) => (
                format!(r#""order":{},"#, jcs::canonicalize(o)?),
                String::new(),
            ),
            Body::Query(ids) => {
                let ids: Vec<String> = ids.iter().map(|id| format!(r#""{id}""#)).collect();
                (String::new(), format!(r#""query":[{}],"#, ids.join(",")))
            }
        };
        Ok(format!(
            r#"{{"created":{},"dummy":{},"nonce":"{}",{order}"principal":"{}",{query}"routing":"{}","v":1}}"#,
            self.created,
            self.dummy,
            b64::encode(&self.nonce),
            self.principal_did,
            b64::encode(&self.routing_seed),
        ))
    }

    /// The exact bytes the principal signs: the context prefix and the canonical payload.
    pub fn signing_input(&self) -> Result<Vec<u8>, IntentError> {
        let canonical = self.unsigned_canonical()?;
        let mut out = Vec::with_capacity(SIGNATURE_CONTEXT.len() + canonical.len());
        out.extend_from_slice(SIGNATURE_CONTEXT);
        out.extend_from_slice(canonical.as_bytes());
        Ok(out)
    }

    /// Signs the payload with the principal's key, which must be the one it names.
    pub fn sign(self, key: &Ed25519SigningKey) -> Result<SignedIntent, IntentError> {
        if key.verifying_key() != self.principal {
            return Err(bad("principal", "is not the did:key of the signing key"));
        }
        let unsigned = self.unsigned_canonical()?;
        let mut input = Vec::with_capacity(SIGNATURE_CONTEXT.len() + unsigned.len());
        input.extend_from_slice(SIGNATURE_CONTEXT);
        input.extend_from_slice(unsigned.as_bytes());
        let signature = key.sign(&input);
        let encoded = Some(with_signature(&unsigned, &signature));
        Ok(SignedIntent {
            payload: self,
            signature,
            encoded,
        })
    }
}

impl fmt::Debug for IntentPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntentPayload")
            .field("principal", &self.principal_did)
            .field("created", &self.created)
            .field("dummy", &self.dummy)
            .field("body", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

/// The full canonical form from the unsigned one: `sig` sorts just before `v`, the last
/// member, so it is inserted before `,"v":1}`.
fn with_signature(unsigned: &str, signature: &[u8; 64]) -> Vec<u8> {
    let head = unsigned.strip_suffix(r#","v":1}"#).unwrap_or(unsigned);
    format!(r#"{head},"sig":"{}","v":1}}"#, b64::encode(signature)).into_bytes()
}

/// A payload with its signature, as carried inside the seal. Not yet verified.
#[derive(Clone, Debug)]
pub struct SignedIntent {
    payload: IntentPayload,
    signature: [u8; 64],
    /// The canonical encoding, kept from signing (a parsed intent computes it on demand).
    encoded: Option<Vec<u8>>,
}

impl PartialEq for SignedIntent {
    fn eq(&self, other: &Self) -> bool {
        self.payload == other.payload && self.signature == other.signature
    }
}

impl SignedIntent {
    /// The signed payload.
    pub fn payload(&self) -> &IntentPayload {
        &self.payload
    }

    /// The signature bytes.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The canonical JSON form (what is padded and sealed).
    pub fn to_bytes(&self) -> Result<Vec<u8>, IntentError> {
        match &self.encoded {
            Some(bytes) => Ok(bytes.clone()),
            None => Ok(with_signature(
                &self.payload.unsigned_canonical()?,
                &self.signature,
            )),
        }
    }

    /// Parses a payload strictly (see the module docs). The signature is not checked here.
    pub fn parse(bytes: &[u8]) -> Result<Self, IntentError> {
        let mut m = parse_object(bytes).map_err(|reason| bad("json", reason))?;
        if m.keys().any(|k| !MEMBERS.contains(&k.as_str())) {
            return Err(bad("json", "has an unknown member"));
        }
        match take(&mut m, "v")?.as_u64() {
            Some(1) => {}
            _ => return Err(bad("v", "is not the number 1")),
        }
        let body = match (m.remove("order"), m.remove("query")) {
            (Some(order), None) => Body::Order(order),
            (None, Some(query)) => Body::Query(parse_query(query)?),
            (None, None) => return Err(bad("order", "is missing (or a query)")),
            (Some(_), Some(_)) => return Err(bad("query", "is set together with order")),
        };
        let did = take_str(&mut m, "principal")?;
        // The decoded bytes start 0xed 0x01 (no leading zero, so no leading '1'), and base58
        // without leading '1's is one-to-one: the accepted string is the canonical encoding.
        let principal =
            decode_ed25519_did(&did).map_err(|_| bad("principal", "is not an Ed25519 did:key"))?;
        let nonce = take_bytes::<NONCE_LEN>(&mut m, "nonce")?;
        let created = take(&mut m, "created")?
            .as_i64()
            .ok_or(bad("created", "is not an integer number of seconds"))?;
        let dummy = take(&mut m, "dummy")?
            .as_bool()
            .ok_or(bad("dummy", "is not a boolean"))?;
        let routing = take_bytes::<ROUTING_SEED_LEN>(&mut m, "routing")?;
        let signature = take_bytes::<64>(&mut m, "sig")?;
        let payload =
            IntentPayload::with_did(body, did, principal, nonce, created, dummy, routing)?;
        Ok(Self {
            payload,
            signature,
            encoded: None,
        })
    }

    /// Checks the signature against the key the payload names. Whether that principal is
    /// known and may trade is the gateway's decision, made on the returned value.
    pub fn verify(self) -> Result<VerifiedIntent, IntentError> {
        let input = self
            .payload
            .signing_input()
            .map_err(|_| bad("order", "has no canonical JSON form"))?;
        self.payload
            .principal
            .verify(&input, &self.signature)
            .map_err(|_| IntentError::BadSignature)?;
        Ok(VerifiedIntent(self))
    }
}

/// An intent whose signature verified against the principal it names (proof by type: only
/// [`SignedIntent::verify`] makes one).
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedIntent(SignedIntent);

impl VerifiedIntent {
    /// The verified payload.
    pub fn payload(&self) -> &IntentPayload {
        &self.0.payload
    }

    /// The payload, consumed (to hand the order on).
    pub fn into_payload(self) -> IntentPayload {
        self.0.payload
    }
}

fn parse_query(v: Value) -> Result<Vec<RoutingId>, IntentError> {
    let Value::Array(items) = v else {
        return Err(bad("query", "is not an array"));
    };
    items
        .iter()
        .map(|i| i.as_str().and_then(RoutingId::from_hex))
        .collect::<Option<Vec<_>>>()
        .ok_or(bad(
            "query",
            "holds something other than 32-hex-digit routing ids",
        ))
}

fn bad(field: &'static str, reason: &'static str) -> IntentError {
    IntentError::Payload { field, reason }
}

fn take(m: &mut Map<String, Value>, field: &'static str) -> Result<Value, IntentError> {
    m.remove(field).ok_or(bad(field, "is missing"))
}

fn take_str(m: &mut Map<String, Value>, field: &'static str) -> Result<String, IntentError> {
    match take(m, field)? {
        Value::String(s) => Ok(s),
        _ => Err(bad(field, "is not a string")),
    }
}

fn take_bytes<const N: usize>(
    m: &mut Map<String, Value>,
    field: &'static str,
) -> Result<[u8; N], IntentError> {
    let raw =
        b64::decode(&take_str(m, field)?).map_err(|_| bad(field, "is not unpadded base64url"))?;
    raw.try_into()
        .map_err(|_| bad(field, "has the wrong length"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The direct canonical writer agrees with the generic RFC 8785 path.
    pub(crate) fn generic_canonical(p: &IntentPayload, sig: Option<&[u8; 64]>) -> String {
        let mut v = json!({
            "v": 1,
            "principal": p.principal_did,
            "nonce": b64::encode(&p.nonce),
            "created": p.created,
            "dummy": p.dummy,
            "routing": b64::encode(&p.routing_seed),
        });
        match &p.body {
            Body::Order(o) => v["order"] = o.clone(),
            Body::Query(ids) => {
                v["query"] = ids.iter().map(|i| json!(i.to_hex())).collect();
            }
        }
        if let Some(sig) = sig {
            v["sig"] = json!(b64::encode(sig));
        }
        jcs::canonicalize(&v).unwrap()
    }

    #[test]
    fn direct_canonical_form_is_rfc8785() {
        let s = signed();
        let p = s.payload();
        assert_eq!(p.unsigned_canonical().unwrap(), generic_canonical(p, None));
        let want = generic_canonical(p, Some(s.signature())).into_bytes();
        assert_eq!(s.to_bytes().unwrap(), want, "kept from signing");
        let parsed = SignedIntent::parse(&want).unwrap();
        assert_eq!(parsed.to_bytes().unwrap(), want, "computed after parsing");
        let q = query();
        assert_eq!(
            q.to_bytes().unwrap(),
            generic_canonical(q.payload(), Some(q.signature())).into_bytes()
        );
    }

    fn query() -> SignedIntent {
        let ids = vec![
            RoutingId::from_hex(&"ab".repeat(16)).unwrap(),
            RoutingId::from_hex(&"01".repeat(16)).unwrap(),
        ];
        IntentPayload::new_query(ids, &key().verifying_key(), 1_767_225_600)
            .unwrap()
            .sign(&key())
            .unwrap()
    }

    #[test]
    fn query_round_trip_and_verify() {
        let q = query();
        let back = SignedIntent::parse(&q.to_bytes().unwrap()).unwrap();
        assert_eq!(back, q);
        assert_eq!(back.payload().query().unwrap().len(), 2);
        assert!(back.payload().order().is_none());
        back.verify().unwrap();
    }

    #[test]
    fn fail_bad_queries() {
        let good: Value = serde_json::from_slice(&query().to_bytes().unwrap()).unwrap();
        let id = "ab".repeat(16);
        let cases: Vec<(Value, &str)> = vec![
            (json!([]), "query"),
            (json!([id.clone(), id.clone()]), "query"),
            (json!(vec![id.clone(); 9]), "query"),
            (json!(["AB".repeat(16)]), "query"),
            (json!([7]), "query"),
            (json!(id), "query"),
        ];
        for (i, (q, field)) in cases.into_iter().enumerate() {
            let mut v = good.clone();
            v["query"] = q;
            let err = SignedIntent::parse(v.to_string().as_bytes()).unwrap_err();
            assert!(
                matches!(err, IntentError::Payload { field: f, .. } if f == field),
                "TC{i}: {err:?}"
            );
        }
        let mut both = good.clone();
        both["order"] = json!({});
        assert!(matches!(
            SignedIntent::parse(both.to_string().as_bytes()),
            Err(IntentError::Payload { field: "query", .. })
        ));
    }

    fn key() -> Ed25519SigningKey {
        Ed25519SigningKey::from_seed(&[7u8; 32]).unwrap()
    }

    fn signed() -> SignedIntent {
        let order = json!({"symbol": "BTC-USDT", "side": "buy", "qty": "0.01"});
        IntentPayload::from_parts(
            order,
            &key().verifying_key(),
            [1; 16],
            1_767_225_600,
            false,
            [2; 16],
        )
        .unwrap()
        .sign(&key())
        .unwrap()
    }

    #[test]
    fn round_trip_and_verify() {
        let s = signed();
        let bytes = s.to_bytes().unwrap();
        let back = SignedIntent::parse(&bytes).unwrap();
        assert_eq!(back, s);
        let v = back.verify().unwrap();
        assert_eq!(v.payload().created(), 1_767_225_600);
    }

    #[test]
    fn fail_each_member_altered() {
        let good: Value = serde_json::from_slice(&signed().to_bytes().unwrap()).unwrap();
        let did = good["principal"].as_str().unwrap().to_string();
        let cases: Vec<(&str, Value, &str)> = vec![
            ("v", json!(2), "v"),
            ("v", json!("1"), "v"),
            ("order", json!([1]), "order"),
            ("principal", json!("did:key:zXYZ"), "principal"),
            ("principal", json!(format!("{did} ")), "principal"),
            (
                "principal",
                json!(format!("did:key:z1{}", &did[9..])),
                "principal",
            ),
            ("nonce", json!("AAAA"), "nonce"),
            ("nonce", json!("AAAAAAAAAAAAAAAAAAAAAA=="), "nonce"),
            ("created", json!(1.5), "created"),
            ("created", json!(-1), "created"),
            ("dummy", json!(0), "dummy"),
            ("routing", json!(7), "routing"),
            ("sig", json!(""), "sig"),
            ("extra", json!(1), "json"),
        ];
        for (i, (member, value, field)) in cases.into_iter().enumerate() {
            let mut v = good.clone();
            v[member] = value;
            let err = SignedIntent::parse(v.to_string().as_bytes()).unwrap_err();
            assert!(
                matches!(err, IntentError::Payload { field: f, .. } if f == field),
                "TC{i} failed: {err:?}"
            );
        }
        for (i, member) in MEMBERS.iter().filter(|m| **m != "query").enumerate() {
            let mut v = good.clone();
            v.as_object_mut().unwrap().remove(*member);
            let err = SignedIntent::parse(v.to_string().as_bytes()).unwrap_err();
            assert!(
                matches!(err, IntentError::Payload { field, .. } if field == *member),
                "missing TC{i} failed: {err:?}"
            );
        }
    }

    #[test]
    fn fail_signature_over_other_content() {
        let mut v: Value = serde_json::from_slice(&signed().to_bytes().unwrap()).unwrap();
        v["order"]["qty"] = json!("10");
        let s = SignedIntent::parse(v.to_string().as_bytes()).unwrap();
        assert_eq!(s.verify(), Err(IntentError::BadSignature));
        let mut v: Value = serde_json::from_slice(&signed().to_bytes().unwrap()).unwrap();
        v["dummy"] = json!(true);
        let s = SignedIntent::parse(v.to_string().as_bytes()).unwrap();
        assert_eq!(s.verify(), Err(IntentError::BadSignature));
    }

    #[test]
    fn fail_signing_with_another_key() {
        let other = Ed25519SigningKey::from_seed(&[8u8; 32]).unwrap();
        let p = IntentPayload::new(json!({}), &key().verifying_key(), 0, true).unwrap();
        assert!(matches!(
            p.sign(&other),
            Err(IntentError::Payload {
                field: "principal",
                ..
            })
        ));
    }

    #[test]
    fn fail_duplicate_member_inside_the_order() {
        let text = String::from_utf8(signed().to_bytes().unwrap()).unwrap();
        let dup = text.replacen("\"qty\":\"0.01\"", "\"qty\":\"0.01\",\"qty\":\"5\"", 1);
        assert_ne!(dup, text);
        assert!(matches!(
            SignedIntent::parse(dup.as_bytes()),
            Err(IntentError::Payload { field: "json", .. })
        ));
    }

    #[test]
    fn debug_redacts_the_order() {
        let printed = format!("{:?}", signed());
        assert!(!printed.contains("BTC-USDT"), "{printed}");
    }
}
