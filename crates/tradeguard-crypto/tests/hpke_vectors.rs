//! RFC 9180 Appendix A (X25519) and draft-ietf-hpke-pq (X-Wing) vectors: see vectors/README.md.

use serde::Deserialize;
use tradeguard_crypto::hpke::{self, Aead, Kdf, Kem, PrivateKey, PublicKey, Suite};

#[derive(Deserialize)]
struct Entry {
    mode: u8,
    kem_id: u16,
    kdf_id: u16,
    aead_id: u16,
    info: String,
    #[serde(rename = "ikmR")]
    ikm_r: String,
    #[serde(rename = "ikmE")]
    ikm_e: String,
    #[serde(rename = "skRm")]
    sk_rm: String,
    #[serde(rename = "pkRm")]
    pk_rm: String,
    enc: String,
    encryptions: Vec<Encryption>,
    exports: Vec<Export>,
}

#[derive(Deserialize)]
struct Encryption {
    aad: String,
    ct: String,
    pt: String,
}

#[derive(Deserialize)]
struct Export {
    exporter_context: String,
    #[serde(rename = "L")]
    len: usize,
    exported_value: String,
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).expect("vector hex")
}

fn load(path: &str) -> Vec<Entry> {
    serde_json::from_str(&std::fs::read_to_string(path).expect("vector file")).expect("vector json")
}

fn check(tc: usize, e: &Entry) {
    assert_eq!(e.mode, 0, "TC{tc}: only base mode is in scope");
    let kem = Kem::from_id(e.kem_id).expect("kem");
    assert_eq!(e.kdf_id, Kdf::HkdfSha256.id());
    let suite = Suite {
        kem,
        kdf: Kdf::HkdfSha256,
        aead: Aead::from_id(e.aead_id).expect("aead"),
    };
    let sk = match kem {
        Kem::X25519HkdfSha256 => {
            let derived = PrivateKey::derive_x25519(&h(&e.ikm_r)).unwrap();
            assert_eq!(
                derived.to_secret_bytes().expose_secret(),
                h(&e.sk_rm),
                "TC{tc} DeriveKeyPair"
            );
            derived
        }
        Kem::XWing => PrivateKey::from_bytes(kem, &h(&e.sk_rm)).unwrap(),
    };
    let pk = sk.public_key();
    assert_eq!(pk.as_bytes(), h(&e.pk_rm), "TC{tc} pkRm");
    let pk = PublicKey::from_bytes(kem, &h(&e.pk_rm)).unwrap();

    let info = h(&e.info);
    let (enc, mut sender) = hpke::setup_sender_derand(suite, &pk, &info, &h(&e.ikm_e)).unwrap();
    assert_eq!(enc, h(&e.enc), "TC{tc} enc");
    if kem == Kem::X25519HkdfSha256 {
        check_pooled_sender(tc, e, suite, &pk, &info);
    }
    let mut receiver = hpke::setup_receiver(suite, &sk, &enc, &info).unwrap();
    for (i, x) in e.encryptions.iter().enumerate() {
        let ct = sender.seal(&h(&x.aad), &h(&x.pt)).unwrap();
        assert_eq!(ct, h(&x.ct), "TC{tc} encryption {i}: seal");
        let pt = receiver.open(&h(&x.aad), &ct).expect("open");
        assert_eq!(pt, h(&x.pt), "TC{tc} encryption {i}: open");
    }
    for (i, x) in e.exports.iter().enumerate() {
        let got = receiver
            .export(suite, &h(&x.exporter_context), x.len)
            .unwrap();
        assert_eq!(got, h(&x.exported_value), "TC{tc} export {i}");
    }
}

/// The sender path for pre-generated (pooled) ephemeral keys, given the vector's ephemeral key,
/// gives the vector's `enc` and ciphertexts.
fn check_pooled_sender(tc: usize, e: &Entry, suite: Suite, pk: &PublicKey, info: &[u8]) {
    let sk_e = hpke::EphemeralX25519::derive(&h(&e.ikm_e)).unwrap();
    let (enc, mut sender) = hpke::setup_sender_with_ephemeral(suite, pk, info, sk_e).unwrap();
    assert_eq!(enc, h(&e.enc), "TC{tc} pooled sender: enc");
    for (i, x) in e.encryptions.iter().enumerate() {
        let ct = sender.seal(&h(&x.aad), &h(&x.pt)).unwrap();
        assert_eq!(ct, h(&x.ct), "TC{tc} pooled sender: encryption {i}");
    }
}

#[test]
fn rfc9180_base_x25519_hkdf_sha256() {
    let entries = load("tests/vectors/hpke-rfc9180/base-x25519-hkdfsha256.json");
    let aeads: Vec<u16> = entries.iter().map(|e| e.aead_id).collect();
    assert_eq!(
        aeads,
        [2, 3],
        "expected the AES-256-GCM and ChaCha20-Poly1305 entries"
    );
    for (tc, e) in entries.iter().enumerate() {
        assert_eq!(e.encryptions.len(), 257);
        check(tc, e);
    }
}

#[test]
fn hpke_pq_xwing_hkdf_sha256() {
    let entries = load("tests/vectors/hpke-pq/xwing-hkdfsha256.json");
    assert_eq!(entries.len(), 1);
    for (tc, e) in entries.iter().enumerate() {
        check(tc, e);
    }
}

#[test]
fn fail_open_out_of_order_does_not_advance() {
    let suite = Suite::default();
    let sk = PrivateKey::generate(Kem::X25519HkdfSha256).unwrap();
    let (enc, mut s) = hpke::setup_sender(suite, &sk.public_key(), b"i").unwrap();
    let c0 = s.seal(b"", b"zero").unwrap();
    let c1 = s.seal(b"", b"one").unwrap();
    let mut r = hpke::setup_receiver(suite, &sk, &enc, b"i").unwrap();
    assert!(
        r.open(b"", &c1).is_none(),
        "message 1 must not open at sequence 0"
    );
    assert_eq!(r.open(b"", &c0).unwrap(), b"zero");
    assert_eq!(r.open(b"", &c1).unwrap(), b"one");
}

#[test]
fn fail_pooled_ephemeral_key_with_xwing() {
    let sk = PrivateKey::generate(Kem::XWing).unwrap();
    let suite = Suite {
        kem: Kem::XWing,
        ..Suite::default()
    };
    let sk_e = hpke::EphemeralX25519::generate().unwrap();
    assert!(hpke::setup_sender_with_ephemeral(suite, &sk.public_key(), b"i", sk_e).is_err());
}

#[test]
fn pooled_ephemeral_key_seal_opens() {
    let suite = Suite::default();
    let sk = PrivateKey::generate(Kem::X25519HkdfSha256).unwrap();
    let sk_e = hpke::EphemeralX25519::generate().unwrap();
    let enc_want = sk_e.public_key().to_vec();
    let (enc, mut s) =
        hpke::setup_sender_with_ephemeral(suite, &sk.public_key(), b"i", sk_e).unwrap();
    assert_eq!(enc, enc_want, "enc is the pooled key's public key");
    let ct = s.seal(b"", b"order").unwrap();
    let mut r = hpke::setup_receiver(suite, &sk, &enc, b"i").unwrap();
    assert_eq!(r.open(b"", &ct).unwrap(), b"order");
}
