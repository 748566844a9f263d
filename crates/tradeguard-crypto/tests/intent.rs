//! Sealed intents end to end in the core: seal, open, and one error kind per failure.

use std::sync::Arc;

use serde_json::{Value, json};
use tradeguard_crypto::envelope::{self, Info, RecipientKey};
use tradeguard_crypto::hpke::{Aead, Kdf, Kem, Suite};
use tradeguard_crypto::intent::pad::pad;
use tradeguard_crypto::intent::response;
use tradeguard_crypto::intent::{
    IntentError, IntentPayload, IntentSealer, KeyPool, OpenPolicy, RoutingKey, SignedIntent,
    open_intent,
};
use tradeguard_crypto::sign::Ed25519SigningKey;

const NOW: i64 = 1_767_225_600;

fn order() -> Value {
    json!({"venue": "kraken", "symbol": "XBTUSD", "side": "sell", "type": "limit",
           "qty": "0.25", "price": "97000.5", "client_order_id": "c-1"})
}

fn signed(key: &Ed25519SigningKey, created: i64, dummy: bool) -> SignedIntent {
    IntentPayload::new(order(), &key.verifying_key(), created, dummy)
        .unwrap()
        .sign(key)
        .unwrap()
}

#[test]
fn seal_and_open_every_suite_with_and_without_the_pool() {
    let gw = RecipientKey::generate_with_xwing().unwrap();
    let p = Ed25519SigningKey::generate().unwrap();
    let policy = OpenPolicy::default();
    let pool = Arc::new(KeyPool::start(4).unwrap());
    let mut tc = 0;
    for pk in [gw.public_key(), gw.xwing_public_key().unwrap()] {
        for aead in [Aead::Aes256Gcm, Aead::ChaCha20Poly1305] {
            for pooled in [false, true] {
                let mut sealer = IntentSealer::new(pk.clone(), aead, &policy.sizes);
                if pooled {
                    sealer = sealer.with_pool(Arc::clone(&pool));
                }
                let s = signed(&p, NOW, tc % 2 == 1);
                let sealed = sealer.seal(&s).unwrap();
                let env = &sealed.envelope;
                assert_eq!(
                    env.enc.len() + env.ct.len(),
                    policy.sizes.packet(pk.kem()),
                    "TC{tc}"
                );
                let opened = open_intent(&gw, &policy, &env.to_json(), NOW).unwrap();
                assert_eq!(opened.intent.payload(), s.payload(), "TC{tc}");
                assert_eq!(opened.intent.suite(), sealer.suite(), "TC{tc}");
                assert_eq!(opened.enc, env.enc, "TC{tc}");
                let answer = response::seal_response(opened.response_key, b"ok").unwrap();
                assert_eq!(
                    response::open_response(&sealed.response_key, &answer).unwrap(),
                    b"ok",
                    "TC{tc}"
                );
                tc += 1;
            }
        }
    }
    assert!(
        pool.stats().hits >= 2,
        "the X25519 pooled seals took pool keys"
    );
}

#[test]
fn every_packet_of_a_suite_has_the_same_length() {
    let gw = RecipientKey::generate_x25519().unwrap();
    let p = Ed25519SigningKey::generate().unwrap();
    let sealer = IntentSealer::new(gw.public_key(), Aead::Aes256Gcm, &Default::default());
    let small = IntentPayload::new(json!({}), &p.verifying_key(), NOW, true)
        .unwrap()
        .sign(&p)
        .unwrap();
    let lens: Vec<usize> = [small, signed(&p, NOW, false)]
        .iter()
        .map(|s| sealer.seal(s).unwrap().to_json().len())
        .collect();
    assert_eq!(lens[0], lens[1]);
}

#[test]
fn identical_intents_give_unlinkable_packets_and_routing_ids() {
    let gw = RecipientKey::generate_x25519().unwrap();
    let p = Ed25519SigningKey::generate().unwrap();
    let rk = RoutingKey::generate().unwrap();
    let sealer = IntentSealer::new(gw.public_key(), Aead::Aes256Gcm, &Default::default());
    let (a, b) = (signed(&p, NOW, false), signed(&p, NOW, false));
    assert_eq!(a.payload().order(), b.payload().order());
    let (ea, eb) = (
        sealer.seal(&a).unwrap().envelope,
        sealer.seal(&b).unwrap().envelope,
    );
    assert_ne!(ea.enc, eb.enc, "a fresh ephemeral key each");
    assert_ne!(ea.ct, eb.ct);
    assert_ne!(a.payload().routing_id(&rk), b.payload().routing_id(&rk));
    assert_ne!(a.payload().nonce(), b.payload().nonce());
}

fn fail(gw: &RecipientKey, json: &str) -> IntentError {
    match open_intent(gw, &OpenPolicy::default(), json, NOW) {
        Ok(_) => panic!("opened"),
        Err(e) => e,
    }
}

/// Seals `plaintext` as an intent envelope without the sealer's padding (hostile senders).
fn raw(gw: &RecipientKey, info: Info, plaintext: &[u8]) -> String {
    envelope::seal(&gw.public_key(), Suite::default(), info, plaintext)
        .unwrap()
        .to_json()
}

#[test]
fn fail_each_opening_check_has_its_own_error() {
    let gw = RecipientKey::generate_x25519().unwrap();
    let other = RecipientKey::generate_x25519().unwrap();
    let p = Ed25519SigningKey::generate().unwrap();
    let sizes = OpenPolicy::default().sizes;
    let padded = sizes.padded_len(Kem::X25519HkdfSha256);
    let good = signed(&p, NOW, false).to_bytes().unwrap();
    let mut forged: Value = serde_json::from_slice(&good).unwrap();
    forged["order"]["qty"] = json!("25");
    let forged = forged.to_string();
    let mut bad_pad = pad(&good, padded).unwrap().to_vec();
    bad_pad[padded - 1] = 1;
    let sealer = IntentSealer::new(gw.public_key(), Aead::Aes256Gcm, &sizes);
    let mut tampered = sealer.seal(&signed(&p, NOW, false)).unwrap().envelope;
    tampered.ct[100] ^= 1;
    let cases: Vec<(String, &str)> = vec![
        ("{".into(), "envelope"),
        (r#"{"v":1,"kem":"P-256"}"#.into(), "unsupported_suite"),
        (raw(&gw, Info::Intent, &good), "packet_size"),
        (
            raw(&gw, Info::Credential, &pad(&good, padded).unwrap()),
            "open_failed",
        ),
        (
            IntentSealer::new(other.public_key(), Aead::Aes256Gcm, &sizes)
                .seal(&signed(&p, NOW, false))
                .unwrap()
                .to_json(),
            "open_failed",
        ),
        (tampered.to_json(), "open_failed"),
        (raw(&gw, Info::Intent, &bad_pad), "padding"),
        (
            raw(&gw, Info::Intent, &pad(b"{}", padded).unwrap()),
            "payload",
        ),
        (
            raw(&gw, Info::Intent, &pad(forged.as_bytes(), padded).unwrap()),
            "bad_signature",
        ),
        (
            sealer
                .seal(&signed(&p, NOW - 301, false))
                .unwrap()
                .to_json(),
            "too_old",
        ),
        (
            sealer.seal(&signed(&p, NOW + 31, false)).unwrap().to_json(),
            "from_the_future",
        ),
    ];
    for (i, (json, kind)) in cases.iter().enumerate() {
        assert_eq!(fail(&gw, json).kind(), *kind, "TC{i} failed");
    }
    // The edges of the window are accepted.
    for created in [NOW - 300, NOW + 30] {
        let json = sealer.seal(&signed(&p, created, false)).unwrap().to_json();
        assert!(open_intent(&gw, &OpenPolicy::default(), &json, NOW).is_ok());
    }
}

#[test]
fn fail_xwing_packet_when_the_gateway_has_no_xwing_key() {
    let with = RecipientKey::generate_with_xwing().unwrap();
    let without = RecipientKey::generate_x25519().unwrap();
    let p = Ed25519SigningKey::generate().unwrap();
    let sealer = IntentSealer::new(
        with.xwing_public_key().unwrap(),
        Aead::Aes256Gcm,
        &Default::default(),
    );
    let json = sealer.seal(&signed(&p, NOW, false)).unwrap().to_json();
    assert_eq!(fail(&without, &json).kind(), "unsupported_suite");
    let suite = Suite {
        kem: Kem::XWing,
        kdf: Kdf::HkdfSha256,
        aead: Aead::Aes256Gcm,
    };
    assert_eq!(sealer.suite(), suite);
}

#[test]
fn fail_too_large_an_order_is_refused_not_truncated() {
    let gw = RecipientKey::generate_x25519().unwrap();
    let p = Ed25519SigningKey::generate().unwrap();
    let sealer = IntentSealer::new(gw.public_key(), Aead::Aes256Gcm, &Default::default());
    let big = json!({"note": "x".repeat(1000)});
    let s = IntentPayload::new(big, &p.verifying_key(), NOW, false)
        .unwrap()
        .sign(&p)
        .unwrap();
    assert!(matches!(
        sealer.seal(&s),
        Err(IntentError::PayloadTooLarge { capacity: 972, .. })
    ));
}
