//! Ed25519 (RFC 8032, Wycheproof) and ML-DSA-65 (Wycheproof, FIPS 204) vectors; see vectors/README.md.

use serde_json::Value;
use tradeguard_crypto::sign::{
    Ed25519SigningKey, Ed25519VerifyingKey, MlDsa65SigningKey, MlDsa65VerifyingKey,
};

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("hex")
}

fn load(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("vector file")).expect("json")
}

#[test]
fn rfc8032_ed25519_sign_and_verify() {
    let v = load("tests/vectors/rfc8032/ed25519.json");
    for t in v["tests"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        let sk = Ed25519SigningKey::from_seed(&h(&t["secret_key"])).unwrap();
        let vk = sk.verifying_key();
        assert_eq!(
            vk.as_bytes().to_vec(),
            h(&t["public_key"]),
            "{name} public key"
        );
        let sig = sk.sign(&h(&t["message"]));
        assert_eq!(sig.to_vec(), h(&t["signature"]), "{name} signature");
        vk.verify(&h(&t["message"]), &sig).unwrap();
    }
}

#[test]
fn wycheproof_ed25519_verify() {
    let v = load("tests/vectors/wycheproof/ed25519_test.json");
    let mut n = 0;
    for g in v["testGroups"].as_array().unwrap() {
        let vk = Ed25519VerifyingKey::from_bytes(&h(&g["publicKey"]["pk"])).unwrap();
        for t in g["tests"].as_array().unwrap() {
            let got = vk.verify(&h(&t["msg"]), &h(&t["sig"])).is_ok();
            let want = t["result"] == "valid";
            assert_eq!(got, want, "TC{} ({}) failed", t["tcId"], t["comment"]);
            n += 1;
        }
    }
    assert_eq!(n, 151);
}

#[test]
fn wycheproof_mldsa65_verify() {
    let v = load("tests/vectors/wycheproof/mldsa_65_verify_test.json");
    let mut checked = 0;
    for g in v["testGroups"].as_array().unwrap() {
        let pk = h(&g["publicKey"]);
        let Ok(vk) = MlDsa65VerifyingKey::from_bytes(&pk) else {
            // Groups with malformed keys: every test in them must be invalid.
            for t in g["tests"].as_array().unwrap() {
                assert_eq!(t["result"], "invalid", "TC{}: key rejected", t["tcId"]);
            }
            continue;
        };
        for t in g["tests"].as_array().unwrap() {
            if t.get("ctx")
                .is_some_and(|c| !c.as_str().unwrap_or("").is_empty())
            {
                continue; // we sign and verify with the empty context only
            }
            let got = vk.verify(&h(&t["msg"]), &h(&t["sig"])).is_ok();
            assert_eq!(
                got,
                t["result"] == "valid",
                "TC{} ({}) failed",
                t["tcId"],
                t["comment"]
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} ML-DSA cases ran");
}

#[test]
fn wycheproof_mldsa65_keygen_from_seed() {
    let v = load("tests/vectors/wycheproof/mldsa_65_sign_seed_test.json");
    for (i, g) in v["testGroups"].as_array().unwrap().iter().enumerate() {
        let seed = h(&g["privateSeed"]);
        if g["tests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["result"] == "invalid")
        {
            assert!(
                MlDsa65SigningKey::from_seed(&seed).is_err(),
                "group {i}: bad seed accepted"
            );
            continue;
        }
        let sk = MlDsa65SigningKey::from_seed(&seed).unwrap();
        assert_eq!(
            sk.verifying_key().as_bytes(),
            h(&g["publicKey"]).as_slice(),
            "group {i}"
        );
        // Our signatures are hedged (randomized), so compare by verification, not bytes.
        let sig = sk.sign(b"tradeguard").unwrap();
        sk.verifying_key().verify(b"tradeguard", &sig).unwrap();
    }
}
