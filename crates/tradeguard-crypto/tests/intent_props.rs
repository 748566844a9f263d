//! Property tests for the intent padding and the payload parser.

use proptest::prelude::*;
use serde_json::{Value, json};
use tradeguard_crypto::intent::pad::{pad, unpad};
use tradeguard_crypto::intent::payload::SIGNATURE_CONTEXT;
use tradeguard_crypto::intent::{IntentPayload, SignedIntent};
use tradeguard_crypto::jcs;
use tradeguard_crypto::sign::Ed25519SigningKey;

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[a-zA-Z0-9 ._\u{e9}\u{20ac}\u{1f600}\\\\\"\n\u{1}-]{0,12}".prop_map(Value::String),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
    ]
}

fn json_object() -> impl Strategy<Value = Value> {
    let value = json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop::collection::btree_map("[a-z_]{1,8}", value, 0..6)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

proptest! {
    #[test]
    fn pad_then_unpad_gives_the_payload(payload in prop::collection::vec(any::<u8>(), 0..300), extra in 0usize..64) {
        let len = payload.len() + 4 + extra;
        let padded = pad(&payload, len).unwrap();
        prop_assert_eq!(padded.len(), len);
        prop_assert_eq!(unpad(&padded, len).unwrap(), &payload[..]);
    }

    #[test]
    fn pad_refuses_what_does_not_fit(payload in prop::collection::vec(any::<u8>(), 1..300)) {
        prop_assert!(pad(&payload, payload.len() + 3).is_err());
    }

    #[test]
    fn unpad_never_panics_and_accepts_only_what_pad_makes(buf in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(payload) = unpad(&buf, buf.len()) {
            prop_assert_eq!(&pad(payload, buf.len()).unwrap()[..], &buf[..]);
        }
    }

    #[test]
    fn signed_payloads_round_trip_and_verify(order in json_object(), created in 0i64..4_000_000_000, dummy: bool, nonce: [u8; 16], seed: [u8; 16]) {
        let key = Ed25519SigningKey::from_seed(&[9u8; 32]).unwrap();
        let s = IntentPayload::from_parts(order, &key.verifying_key(), nonce, created, dummy, seed)
            .unwrap().sign(&key).unwrap();
        let bytes = s.to_bytes().unwrap();
        let back = SignedIntent::parse(&bytes).unwrap();
        // Compared by encoding: JSON does not keep 0.0 apart from 0 (both are the double 0).
        prop_assert_eq!(back.to_bytes().unwrap(), bytes.clone());
        prop_assert_eq!(back.signature(), s.signature());
        // The encoding and the signed input are RFC 8785 canonical: fixed points of JCS.
        let reparsed: Value = serde_json::from_slice(&bytes).unwrap();
        prop_assert_eq!(jcs::canonicalize(&reparsed).unwrap().into_bytes(), bytes);
        let input = s.payload().signing_input().unwrap();
        let unsigned = input.strip_prefix(SIGNATURE_CONTEXT).unwrap();
        let reparsed: Value = serde_json::from_slice(unsigned).unwrap();
        let canonical = jcs::canonicalize(&reparsed).unwrap();
        prop_assert_eq!(canonical.as_bytes(), unsigned);
        prop_assert!(back.verify().is_ok());
    }

    #[test]
    fn parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = SignedIntent::parse(&bytes);
    }

    /// Byte flips in a valid payload: what still parses round-trips, and verifies only if it
    /// parsed to the very same intent.
    #[test]
    fn mutated_payloads_round_trip_or_fail(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let key = Ed25519SigningKey::from_seed(&[9u8; 32]).unwrap();
        let order = json!({"symbol": "ETH-USD", "side": "buy", "qty": "1.5", "n": 3});
        let good = IntentPayload::from_parts(order, &key.verifying_key(), [3; 16], 1_700_000_000, false, [4; 16])
            .unwrap().sign(&key).unwrap();
        let mut bytes = good.to_bytes().unwrap();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if let Ok(s) = SignedIntent::parse(&bytes) {
            let encoded = s.to_bytes().unwrap();
            let again = SignedIntent::parse(&encoded).unwrap();
            prop_assert_eq!(again.to_bytes().unwrap(), encoded);
            prop_assert_eq!(s.clone().verify().is_ok(), s == good);
        }
    }
}
