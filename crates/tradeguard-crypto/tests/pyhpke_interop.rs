//! Envelopes sealed by Python's `pyhpke` (an independent RFC 9180 implementation) open here.
//!
//! `tests/interop/pyhpke_seal.py --out DIR` writes `DIR/pyhpke/cases.json`; this test reads DIR
//! from `TRADEGUARD_INTEROP_DIR`. Without it the test prints SKIPPED, unless
//! `TRADEGUARD_REQUIRE_INTEROP=1` (set by `.ci/run`), which makes its absence a failure.
//! pyhpke has no X-Wing, so the cases cover X25519 with both AEADs.

use std::path::PathBuf;

use serde_json::Value;
use tradeguard_crypto::CryptoError;
use tradeguard_crypto::b64;
use tradeguard_crypto::envelope::{self, Info, RecipientKey};
use tradeguard_crypto::hpke::{Kem, PrivateKey};

fn cases_file() -> Option<PathBuf> {
    let required = std::env::var("TRADEGUARD_REQUIRE_INTEROP").is_ok_and(|v| v == "1");
    let found = std::env::var_os("TRADEGUARD_INTEROP_DIR")
        .map(|d| PathBuf::from(d).join("pyhpke/cases.json"))
        .filter(|p| p.is_file());
    if found.is_none() {
        assert!(
            !required,
            "TRADEGUARD_REQUIRE_INTEROP=1 but no pyhpke cases: run tests/interop/pyhpke_seal.py --out DIR and set TRADEGUARD_INTEROP_DIR=DIR"
        );
        println!(
            "SKIPPED pyhpke interop: set TRADEGUARD_INTEROP_DIR (see tests/interop/pyhpke_seal.py)"
        );
    }
    found
}

#[test]
fn pyhpke_sealed_credentials_open_and_bad_ones_fail() {
    let Some(path) = cases_file() else { return };
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let sk = b64::decode(doc["recipient_private_key"].as_str().unwrap()).unwrap();
    let recipient = RecipientKey::new(
        PrivateKey::from_bytes(Kem::X25519HkdfSha256, &sk).unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(
        recipient.public_key().to_base64url(),
        doc["recipient_public_key"].as_str().unwrap(),
        "the recipient key pair derived here matches pyhpke's"
    );
    let cases = doc["cases"].as_array().unwrap();
    let (mut opened, mut refused) = (0, 0);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let json = case["envelope"].as_str().unwrap();
        let result = envelope::open_json(&recipient, Info::Credential, json);
        if case["opens"].as_bool().unwrap() {
            let plain = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            let want = case["plaintext"].as_str().unwrap().as_bytes();
            assert_eq!(plain.expose_secret(), want, "{name}: plaintext differs");
            opened += 1;
        } else {
            match result {
                Err(CryptoError::OpenFailed { .. }) => refused += 1,
                other => panic!("{name}: expected OpenFailed, got {:?}", other.err()),
            }
        }
    }
    assert!(
        opened >= 2 && refused >= 4,
        "too few cases in {}",
        path.display()
    );
    println!(
        "pyhpke interop ({}): {opened} opened, {refused} refused as they must be",
        doc["generator"]
    );
}
