//! RFC 9421 Appendix B vectors (tests/vectors/rfc9421/, source and section in each file):
//! B.2.5 (hmac-sha256) and B.2.6 (ed25519) signed and verified, B.4 transformations, and the
//! hostile variations in fail_cases.json, one test per case.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_httpsig::{
    Component, HttpSigError, RequestParts, SignatureParams, SigningKey, VerifyingKey,
};

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors/rfc9421")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("vector JSON")
}

/// A request from a vector file, owning what [`RequestParts`] borrows.
struct Req {
    method: String,
    scheme: Option<String>,
    authority: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
}

impl Req {
    fn from_json(v: &Value) -> Self {
        let mut headers = HeaderMap::new();
        for h in v["headers"].as_array().expect("headers") {
            append(&mut headers, h[0].as_str().unwrap(), h[1].as_str().unwrap());
        }
        Self {
            method: v["method"].as_str().unwrap().to_owned(),
            scheme: v["scheme"].as_str().map(str::to_owned),
            authority: v["authority"].as_str().unwrap().to_owned(),
            path: v["path"].as_str().unwrap().to_owned(),
            query: v["query"].as_str().map(str::to_owned),
            headers,
        }
    }

    fn parts(&self) -> RequestParts<'_> {
        let p = RequestParts::new(
            &self.method,
            &self.authority,
            &self.path,
            self.query.as_deref(),
            &self.headers,
        );
        match &self.scheme {
            Some(s) => p.with_scheme(s),
            None => p,
        }
    }
}

fn append(headers: &mut HeaderMap, name: &str, value: &str) {
    headers.append(
        HeaderName::from_bytes(name.as_bytes()).unwrap(),
        HeaderValue::from_str(value).unwrap(),
    );
}

fn ed25519_key() -> Ed25519SigningKey {
    let keys = load("keys.json");
    Ed25519SigningKey::from_pkcs8_pem(keys["test-key-ed25519"]["private_pem"].as_str().unwrap())
        .expect("B.1.4 key")
}

fn shared_secret() -> SecretBytes {
    let keys = load("keys.json");
    let b64 = keys["test-shared-secret"]["base64"].as_str().unwrap();
    SecretBytes::new(STANDARD.decode(b64).expect("B.1.5 secret"))
}

fn params_of(v: &Value) -> SignatureParams {
    let components = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().parse::<Component>().unwrap())
        .collect();
    let mut p = SignatureParams::new(v["label"].as_str().unwrap(), components);
    p.created = v["created"].as_u64();
    p.keyid = v["keyid"].as_str().map(str::to_owned);
    p
}

/// Signing reproduces the vector's base and headers (and, both algorithms being
/// deterministic, its exact signature); parsing rebuilds the same base; verifying accepts.
fn sign_and_verify(file: &str, key: SigningKey<'_>, vkey: VerifyingKey<'_>) {
    let v = load(file);
    let req = Req::from_json(&v["request"]);
    let params = params_of(&v);
    let base = tradeguard_httpsig::signature_base(&req.parts(), &params).unwrap();
    assert_eq!(
        String::from_utf8(base).unwrap(),
        v["signature_base"].as_str().unwrap()
    );
    let signed = tradeguard_httpsig::sign(&req.parts(), &key, &params).unwrap();
    assert_eq!(
        signed.signature_input,
        v["signature_input"].as_str().unwrap()
    );
    assert!(v["deterministic"].as_bool().unwrap());
    assert_eq!(signed.signature, v["signature"].as_str().unwrap());

    let label = v["label"].as_str();
    let (input, sig) = (
        v["signature_input"].as_str().unwrap(),
        v["signature"].as_str().unwrap(),
    );
    let parsed = tradeguard_httpsig::parse(&req.parts(), input, sig, label).unwrap();
    assert_eq!(
        parsed.signature_base(),
        v["signature_base"].as_str().unwrap().as_bytes()
    );
    assert_eq!(parsed.keyid(), v["keyid"].as_str());
    assert_eq!(parsed.created(), Some(1_618_884_473));
    parsed.verify(vkey).unwrap();
    // The same, picking the only signature without naming it.
    tradeguard_httpsig::parse(&req.parts(), input, sig, None)
        .unwrap()
        .verify(vkey)
        .unwrap();
}

#[test]
fn b2_5_hmac_sha256() {
    let secret = shared_secret();
    sign_and_verify(
        "b2_5_hmac_sha256.json",
        SigningKey::HmacSha256(&secret),
        VerifyingKey::HmacSha256(&secret),
    );
}

#[test]
fn b2_6_ed25519() {
    let key = ed25519_key();
    let vk = key.verifying_key();
    let keys = load("keys.json");
    let x = keys["test-key-ed25519"]["public_x_base64url"]
        .as_str()
        .unwrap();
    assert_eq!(vk.to_base64url(), x, "B.1.4 public key");
    sign_and_verify(
        "b2_6_ed25519.json",
        SigningKey::Ed25519(&key),
        VerifyingKey::Ed25519(&vk),
    );
}

#[test]
fn b4_transformations() {
    let v = load("b4_transformations.json");
    let vk = ed25519_key().verifying_key();
    for (i, case) in v["cases"].as_array().unwrap().iter().enumerate() {
        let req = Req::from_json(&case["request"]);
        let parsed = tradeguard_httpsig::parse_request(&req.parts(), Some("transform"))
            .unwrap_or_else(|e| panic!("TC{i} failed to parse: {e}"));
        if i == 0 {
            let want = v["signature_base_of_original"].as_str().unwrap();
            assert_eq!(parsed.signature_base(), want.as_bytes(), "TC0 base");
        }
        let valid = case["valid"].as_bool().unwrap();
        assert_eq!(
            parsed.verify_ed25519(&vk).is_ok(),
            valid,
            "TC{i} failed: {}",
            case["description"]
        );
    }
}

/// Variant name of an error, from its `Debug` form.
fn variant(e: &HttpSigError) -> String {
    let dbg = format!("{e:?}");
    dbg.split([' ', '(', '{'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn run_fail_case(name: &str) {
    let all = load("fail_cases.json");
    let case = all["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not in fail_cases.json"));
    let v = load(case["vector"].as_str().unwrap());
    let mut req = Req::from_json(&v["request"]);
    if let Some(m) = case["method"].as_str() {
        req.method = m.to_owned();
    }
    if let Some(p) = case["path"].as_str() {
        req.path = p.to_owned();
    }
    if let Some(a) = case["authority"].as_str() {
        req.authority = a.to_owned();
    }
    if let Some(h) = case["set_header"].as_array() {
        let (n, val) = (h[0].as_str().unwrap(), h[1].as_str().unwrap());
        req.headers.remove(n);
        append(&mut req.headers, n, val);
    }
    if let Some(h) = case["append_header"].as_array() {
        append(
            &mut req.headers,
            h[0].as_str().unwrap(),
            h[1].as_str().unwrap(),
        );
    }
    if let Some(n) = case["remove_header"].as_str() {
        req.headers.remove(n);
    }
    let input = case["signature_input"]
        .as_str()
        .or(v["signature_input"].as_str())
        .unwrap();
    let sig = case["signature"]
        .as_str()
        .or(v["signature"].as_str())
        .unwrap();
    let label = match case.get("label") {
        Some(Value::Null) => None,
        _ => v["label"].as_str(),
    };
    let ed = match case["verify_with_seed_hex"].as_str() {
        Some(h) => Ed25519SigningKey::from_seed(&hex::decode(h).unwrap()).unwrap(),
        None => ed25519_key(),
    };
    let secret = match case["verify_with_secret_hex"].as_str() {
        Some(h) => SecretBytes::new(hex::decode(h).unwrap()),
        None => shared_secret(),
    };
    let vk = ed.verifying_key();
    let key = match v["alg"].as_str().unwrap() {
        "ed25519" => VerifyingKey::Ed25519(&vk),
        _ => VerifyingKey::HmacSha256(&secret),
    };
    let result = tradeguard_httpsig::parse(&req.parts(), input, sig, label)
        .and_then(|parsed| parsed.verify(key));
    let want = case["error"].as_str().unwrap();
    match result {
        Ok(()) => panic!("{name}: accepted, want {want}"),
        Err(e) => assert_eq!(variant(&e), want, "{name}: got {e}"),
    }
}

macro_rules! fail_cases {
    ($($name:ident),* $(,)?) => {
        $( #[test] fn $name() { run_fail_case(stringify!($name)); } )*

        /// Every case in the file has its test above.
        #[test]
        fn every_fail_case_has_a_test() {
            let named = [$(stringify!($name)),*];
            for case in load("fail_cases.json")["cases"].as_array().unwrap() {
                let n = case["name"].as_str().unwrap();
                assert!(named.contains(&n), "add {n} to fail_cases! in tests/rfc9421.rs");
            }
        }
    };
}

fail_cases!(
    fail_changed_method,
    fail_changed_path,
    fail_changed_authority,
    fail_changed_header,
    fail_header_line_added,
    fail_removed_header,
    fail_wrong_ed25519_key,
    fail_wrong_hmac_secret,
    fail_flipped_signature_bit,
    fail_truncated_signature,
    fail_truncated_mac,
    fail_alg_mismatch,
    fail_unknown_alg,
    fail_unknown_param,
    fail_component_parameter,
    fail_duplicate_component,
    fail_uppercase_component,
    fail_signature_params_covered,
    fail_token_component,
    fail_negative_created,
    fail_string_created,
    fail_signature_not_bytes,
    fail_label_missing_in_signature,
    fail_duplicate_label,
    fail_unterminated_input,
    fail_ambiguous_without_label,
);
