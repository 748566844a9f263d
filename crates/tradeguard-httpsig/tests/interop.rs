//! RFC 9421 interop with Python's `http-message-signatures` (PyPI, pinned in
//! tests/interop/requirements.txt).
//!
//! `tests/interop/httpsig_interop.py --out DIR --signer target/debug/examples/interop_sign`
//! writes `DIR/httpsig/python_signed.json` (requests the library signed, ed25519 and
//! hmac-sha256) and `DIR/httpsig/python_verdicts.json` (its verdicts on requests this crate
//! signed, plus tampered copies). This test reads DIR from `TRADEGUARD_INTEROP_DIR`: every
//! Python-signed request must verify here (a tampered copy must not), and every verdict must be
//! the expected one. Without the variable it prints SKIPPED, unless
//! `TRADEGUARD_REQUIRE_INTEROP=1`, which makes its absence a failure (for CI).

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::Ed25519VerifyingKey;
use tradeguard_httpsig::{HttpSigError, Param, RequestParts, VerifyingKey};

fn interop_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TRADEGUARD_INTEROP_DIR").map(PathBuf::from);
    if dir.is_none() {
        assert!(
            std::env::var("TRADEGUARD_REQUIRE_INTEROP").as_deref() != Ok("1"),
            "TRADEGUARD_REQUIRE_INTEROP=1 but TRADEGUARD_INTEROP_DIR is not set; run \
             tests/interop/httpsig_interop.py first (see .ci/run)"
        );
        println!("SKIPPED: TRADEGUARD_INTEROP_DIR not set (run tests/interop/httpsig_interop.py)");
    }
    dir
}

fn read(dir: &std::path::Path, name: &str) -> Value {
    let path = dir.join("httpsig").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run httpsig_interop.py", path.display()));
    serde_json::from_str(&text).expect("interop JSON")
}

/// Parses, checks the profile's parameters, the digest and the signature of one case.
fn verify_case(case: &Value, path: &str, key: VerifyingKey<'_>) -> Result<(), HttpSigError> {
    let mut headers = HeaderMap::new();
    for h in case["headers"].as_array().expect("headers") {
        headers.append(
            HeaderName::from_bytes(h[0].as_str().unwrap().as_bytes()).unwrap(),
            HeaderValue::from_str(h[1].as_str().unwrap()).unwrap(),
        );
    }
    let parts = RequestParts::new(
        case["method"].as_str().unwrap(),
        case["authority"].as_str().unwrap(),
        path,
        case["query"].as_str(),
        &headers,
    )
    .with_scheme(case["scheme"].as_str().unwrap());
    let parsed = tradeguard_httpsig::parse_request(&parts, Some("sig"))?;
    parsed.require_params(&[Param::Created, Param::KeyId])?;
    parsed.require_components(&["@method", "@authority"])?;
    if let Some(digest) = headers.get("content-digest") {
        parsed.require_components(&["content-digest"])?;
        let body = case["body"].as_str().unwrap().as_bytes();
        tradeguard_httpsig::verify_content_digest(digest.to_str().unwrap(), body)?;
    }
    parsed.verify(key)
}

#[test]
fn python_signed_requests_verify() {
    let Some(dir) = interop_dir() else { return };
    let file = read(&dir, "python_signed.json");
    let pk = URL_SAFE_NO_PAD
        .decode(file["ed25519_public_key_b64url"].as_str().unwrap())
        .unwrap();
    let vk = Ed25519VerifyingKey::from_bytes(&pk).unwrap();
    let secret = SecretBytes::new(
        STANDARD
            .decode(file["hmac_secret_b64"].as_str().unwrap())
            .unwrap(),
    );
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 4, "expected at least 4 Python-signed cases");
    let mut algs = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let key = match case["alg"].as_str().unwrap() {
            "ed25519" => VerifyingKey::Ed25519(&vk),
            "hmac-sha256" => VerifyingKey::HmacSha256(&secret),
            other => panic!("{name}: unexpected alg {other}"),
        };
        algs.push(key.algorithm());
        let path = case["path"].as_str().unwrap();
        verify_case(case, path, key).unwrap_or_else(|e| panic!("{name}: {e}"));
        let tampered = verify_case(case, &format!("{path}/x"), key);
        assert!(
            matches!(tampered, Err(HttpSigError::BadSignature { .. })),
            "{name}: tampered path gave {tampered:?}"
        );
    }
    assert!(algs.contains(&tradeguard_httpsig::Algorithm::Ed25519));
    assert!(algs.contains(&tradeguard_httpsig::Algorithm::HmacSha256));
    println!("{} Python-signed requests verified", cases.len());
}

#[test]
fn python_verifies_our_signatures() {
    let Some(dir) = interop_dir() else { return };
    let file = read(&dir, "python_verdicts.json");
    let verdicts = file["verdicts"].as_array().unwrap();
    let accepted = verdicts.iter().filter(|v| v["expected"] == true).count();
    assert!(
        accepted >= 3,
        "expected at least 3 untampered requests, got {accepted}"
    );
    assert!(verdicts.len() > accepted, "expected tampered copies too");
    for v in verdicts {
        assert_eq!(
            v["verified"], v["expected"],
            "{}: http-message-signatures said {}",
            v["name"], v["error"]
        );
    }
    println!(
        "http-message-signatures: {} verdicts as expected",
        verdicts.len()
    );
}
