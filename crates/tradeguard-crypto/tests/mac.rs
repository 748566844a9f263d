//! HMAC vectors: RFC 4231 case 2 and Wycheproof HMAC-SHA256/512; see vectors/README.md.

use serde_json::Value;
use tradeguard_crypto::mac::{hmac_sha256, hmac_sha512, verify_hmac_sha256};

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

#[test]
fn rfc4231_case2() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string("tests/vectors/rfc4231/case2.json").unwrap())
            .unwrap();
    let (k, d) = (
        b"Jefe".as_slice(),
        b"what do ya want for nothing?".as_slice(),
    );
    assert_eq!(hmac_sha256(k, d).to_vec(), h(&v["hmac_sha256"]));
    assert_eq!(hmac_sha512(k, d).to_vec(), h(&v["hmac_sha512"]));
    assert!(verify_hmac_sha256(k, d, &h(&v["hmac_sha256"])));
}

fn wycheproof(path: &str, mac: fn(&[u8], &[u8]) -> Vec<u8>) {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for g in v["testGroups"].as_array().unwrap() {
        let tag_bytes = g["tagSize"].as_u64().unwrap() as usize / 8;
        for t in g["tests"].as_array().unwrap() {
            let full = mac(&h(&t["key"]), &h(&t["msg"]));
            let got = tradeguard_crypto::ct::ct_eq(&full[..tag_bytes], &h(&t["tag"]));
            assert_eq!(got, t["result"] == "valid", "TC{} failed", t["tcId"]);
        }
    }
}

#[test]
fn wycheproof_hmac_sha256() {
    wycheproof("tests/vectors/wycheproof/hmac_sha256_test.json", |k, m| {
        hmac_sha256(k, m).to_vec()
    });
}

#[test]
fn wycheproof_hmac_sha512() {
    wycheproof("tests/vectors/wycheproof/hmac_sha512_test.json", |k, m| {
        hmac_sha512(k, m).to_vec()
    });
}
