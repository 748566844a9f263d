//! Envelope round trips, hostile inputs, and interop with the independent `hpke` crate.

use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use proptest::prelude::*;
use tradeguard_crypto::CryptoError;
use tradeguard_crypto::envelope::{self, Envelope, Info, RecipientKey};
use tradeguard_crypto::hpke::{Aead, Kdf, Kem, PrivateKey, Suite};

const ALL_SUITES: [Suite; 4] = [
    Suite {
        kem: Kem::X25519HkdfSha256,
        kdf: Kdf::HkdfSha256,
        aead: Aead::Aes256Gcm,
    },
    Suite {
        kem: Kem::X25519HkdfSha256,
        kdf: Kdf::HkdfSha256,
        aead: Aead::ChaCha20Poly1305,
    },
    Suite {
        kem: Kem::XWing,
        kdf: Kdf::HkdfSha256,
        aead: Aead::Aes256Gcm,
    },
    Suite {
        kem: Kem::XWing,
        kdf: Kdf::HkdfSha256,
        aead: Aead::ChaCha20Poly1305,
    },
];

fn recipient() -> RecipientKey {
    RecipientKey::generate_with_xwing().unwrap()
}

fn public_for(r: &RecipientKey, kem: Kem) -> tradeguard_crypto::hpke::PublicKey {
    match kem {
        Kem::X25519HkdfSha256 => r.public_key(),
        Kem::XWing => r.xwing_public_key().unwrap(),
    }
}

#[test]
fn every_suite_round_trips_through_json() {
    let r = recipient();
    for (i, suite) in ALL_SUITES.iter().enumerate() {
        let env =
            envelope::seal(&public_for(&r, suite.kem), *suite, Info::Credential, b"{}").unwrap();
        let opened = envelope::open_json(&r, Info::Credential, &env.to_json()).unwrap();
        assert_eq!(opened.expose_secret(), b"{}", "TC{i} failed");
        assert_eq!(opened.suite(), *suite, "TC{i} failed");
    }
}

#[test]
fn two_seals_of_the_same_message_differ() {
    let r = recipient();
    let a = envelope::seal(&r.public_key(), Suite::default(), Info::Intent, b"same").unwrap();
    let b = envelope::seal(&r.public_key(), Suite::default(), Info::Intent, b"same").unwrap();
    assert_ne!(a.enc, b.enc, "each envelope must use a fresh ephemeral key");
    assert_ne!(a.ct, b.ct);
}

fn sealed_json(r: &RecipientKey) -> serde_json::Value {
    let env = envelope::seal(
        &r.public_key(),
        Suite::default(),
        Info::Credential,
        b"secret",
    )
    .unwrap();
    serde_json::from_str(&env.to_json()).unwrap()
}

#[test]
fn fail_hostile_envelopes_name_the_field() {
    let r = recipient();
    let good = sealed_json(&r);
    let with = |k: &str, v: serde_json::Value| {
        let mut j = good.clone();
        j[k] = v;
        j.to_string()
    };
    let without = |k: &str| {
        let mut j = good.clone();
        j.as_object_mut().unwrap().remove(k);
        j.to_string()
    };
    let good_s = good.to_string();
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "json"),
        ("[]".into(), "json"),
        ("{".into(), "json"),
        (good_s[..good_s.len() / 2].to_string(), "json"),
        (format!("{good_s} {{}}"), "json"),
        (with("extra", "x".into()), "json"),
        (good_s.replacen("\"v\":1", "\"v\":1,\"v\":1", 1), "json"),
        (without("v"), "v"),
        (with("v", 2.into()), "v"),
        (with("v", "1".into()), "v"),
        (without("kem"), "kem"),
        (with("kem", "P-256".into()), "kem"),
        (with("kdf", "HKDF-SHA512".into()), "kdf"),
        (with("aead", "AES-128-GCM".into()), "aead"),
        (with("aead", 3.into()), "aead"),
        (without("enc"), "enc"),
        (with("enc", "not base64!".into()), "enc"),
        (with("enc", "AAAA".into()), "enc"),
        (
            with("enc", format!("{}=", good["enc"].as_str().unwrap()).into()),
            "enc",
        ),
        (without("ct"), "ct"),
        (with("ct", "AAAA".into()), "ct"),
        (with("kem", "X-Wing".into()), "enc"),
        ("x".repeat(300 * 1024), "json"),
    ];
    for (i, (json, field)) in cases.iter().enumerate() {
        match envelope::open_json(&r, Info::Credential, json) {
            Err(CryptoError::MalformedEnvelope { field: f, .. }) => assert_eq!(f, *field, "TC{i}"),
            Err(CryptoError::UnsupportedSuite { field: f, .. }) => assert_eq!(f, *field, "TC{i}"),
            Err(other) => panic!("TC{i}: unexpected error {other}"),
            Ok(_) => panic!("TC{i}: accepted a hostile envelope"),
        }
    }
}

#[test]
fn fail_wrong_info_wrong_key_and_tampering_do_not_open() {
    let r = recipient();
    let env = envelope::seal(&r.public_key(), Suite::default(), Info::Credential, b"k").unwrap();
    let other = recipient();
    let mut flipped_ct = env.clone();
    flipped_ct.ct[0] ^= 1;
    let mut flipped_tag = env.clone();
    *flipped_tag.ct.last_mut().unwrap() ^= 0x80;
    let mut flipped_enc = env.clone();
    flipped_enc.enc[5] ^= 1;
    let mut other_suite = env.clone();
    other_suite.suite.aead = Aead::ChaCha20Poly1305;
    let cases: [(&RecipientKey, Info, &Envelope); 6] = [
        (&r, Info::Intent, &env),
        (&other, Info::Credential, &env),
        (&r, Info::Credential, &flipped_ct),
        (&r, Info::Credential, &flipped_tag),
        (&r, Info::Credential, &flipped_enc),
        (&r, Info::Credential, &other_suite),
    ];
    for (i, (key, info, e)) in cases.iter().enumerate() {
        let err = envelope::open(key, *info, e)
            .err()
            .unwrap_or_else(|| panic!("TC{i} opened"));
        assert!(
            matches!(err, CryptoError::OpenFailed { .. }),
            "TC{i}: {err}"
        );
        assert!(
            err.to_string().contains("seal it again"),
            "TC{i}: message must say what to do"
        );
    }
}

#[test]
fn fail_xwing_envelope_when_xwing_is_off() {
    let with_pq = recipient();
    let classic_only = RecipientKey::new(
        PrivateKey::from_bytes(
            Kem::X25519HkdfSha256,
            with_pq
                .key_for(Kem::X25519HkdfSha256)
                .unwrap()
                .to_secret_bytes()
                .expose_secret(),
        )
        .unwrap(),
        None,
    )
    .unwrap();
    let suite = ALL_SUITES[2];
    let env = envelope::seal(
        &with_pq.xwing_public_key().unwrap(),
        suite,
        Info::Credential,
        b"k",
    )
    .unwrap();
    let err = envelope::open(&classic_only, Info::Credential, &env)
        .err()
        .unwrap();
    assert!(
        matches!(err, CryptoError::UnsupportedSuite { field: "kem", .. }),
        "{err}"
    );
}

#[test]
fn interop_hpke_crate_seals_we_open_x25519() {
    type K = hpke::kem::X25519HkdfSha256;
    let r = recipient();
    let pk = <K as hpke::Kem>::PublicKey::from_bytes(r.public_key().as_bytes()).unwrap();
    let info = Info::Credential.as_bytes();
    let (enc, ct) = hpke::single_shot_seal::<hpke::aead::AesGcm256, hpke::kdf::HkdfSha256, K>(
        &OpModeS::Base,
        &pk,
        info,
        b"from rust-hpke",
        b"",
    )
    .unwrap();
    let env = Envelope {
        suite: Suite::default(),
        enc: enc.to_bytes().to_vec(),
        ct,
    };
    let opened = envelope::open_json(&r, Info::Credential, &env.to_json()).unwrap();
    assert_eq!(opened.expose_secret(), b"from rust-hpke");
}

#[test]
fn interop_we_seal_hpke_crate_opens_xwing_chacha() {
    type K = hpke::kem::XWing;
    let (sk, pk) = <K as hpke::Kem>::gen_keypair();
    let our_pk =
        tradeguard_crypto::hpke::PublicKey::from_bytes(Kem::XWing, &pk.to_bytes()).unwrap();
    let suite = ALL_SUITES[3];
    let env = envelope::seal(&our_pk, suite, Info::Intent, b"to rust-hpke").unwrap();
    let enc = <K as hpke::Kem>::EncappedKey::from_bytes(&env.enc).unwrap();
    let pt = hpke::single_shot_open::<hpke::aead::ChaCha20Poly1305, hpke::kdf::HkdfSha256, K>(
        &OpModeR::Base,
        &sk,
        &enc,
        Info::Intent.as_bytes(),
        &env.ct,
        b"",
    )
    .unwrap();
    assert_eq!(pt, b"to rust-hpke");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn parser_never_panics(s in ".{0,400}") {
        let _ = Envelope::from_json(&s);
    }

    #[test]
    fn parser_never_panics_on_near_valid(field in 0usize..6, junk in "[A-Za-z0-9_=+/ -]{0,60}") {
        let names = ["v", "kem", "kdf", "aead", "enc", "ct"];
        let doc = format!(r#"{{"v":1,"kem":"X25519-HKDF-SHA256","kdf":"HKDF-SHA256","aead":"AES-256-GCM","enc":"{0}","ct":"{0}","{1}":"{0}"}}"#, junk, names[field]);
        prop_assert!(Envelope::from_json(&doc).is_err());
    }

    #[test]
    fn seal_open_round_trip(pt in proptest::collection::vec(any::<u8>(), 0..2048), suite in 0usize..2) {
        let r = RecipientKey::generate_x25519().unwrap();
        let env = envelope::seal(&r.public_key(), ALL_SUITES[suite], Info::Intent, &pt).unwrap();
        let parsed = Envelope::from_json(&env.to_json()).unwrap();
        prop_assert_eq!(&parsed, &env);
        let opened = envelope::open(&r, Info::Intent, &parsed).unwrap();
        prop_assert_eq!(opened.expose_secret(), pt.as_slice());
    }
}
