//! Prints, as JSON, requests signed by tradeguard-httpsig, for the Python interop script
//! (`tests/interop/httpsig_interop.py`) to verify with `http-message-signatures`.
//!
//! Keys are fixed test keys (printed with their public halves); `created` is the current time
//! so that the Python verifier's age check passes. Usage: `interop_sign > signed.json`.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_httpsig::{Algorithm, Component, RequestParts, SignatureParams, SigningKey};

struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    query: Option<&'static str>,
    body: &'static str,
    components: &'static [&'static str],
    hmac: bool,
}

const CASES: [Case; 3] = [
    Case {
        name: "rust_ed25519_order",
        method: "POST",
        path: "/v1/orders",
        query: Some("dry_run=true"),
        body: r#"{"symbol":"BTC-USD","side":"buy","qty":"0.01"}"#,
        components: &[
            "@method",
            "@authority",
            "@path",
            "@query",
            "content-digest",
            "content-type",
        ],
        hmac: false,
    },
    Case {
        name: "rust_hmac_halt",
        method: "POST",
        path: "/v1/halt",
        query: None,
        body: r#"{"reason":"interop"}"#,
        components: &[
            "@method",
            "@authority",
            "@path",
            "@query",
            "content-digest",
            "content-type",
        ],
        hmac: true,
    },
    Case {
        name: "rust_ed25519_target_uri",
        method: "GET",
        path: "/v1/balances",
        query: Some("exchange=kraken&asset=BTC"),
        body: "",
        components: &["@method", "@target-uri", "@scheme", "@authority"],
        hmac: false,
    },
];

fn main() {
    let ed = Ed25519SigningKey::from_seed(&[0x42; 32]).expect("seed");
    let did = tradeguard_crypto::did::encode_ed25519_did(&ed.verifying_key());
    let secret = SecretBytes::new((0u8..32).collect());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let cases: Vec<Value> = CASES
        .iter()
        .enumerate()
        .map(|(i, c)| sign_case(c, i, now, &ed, &did, &secret))
        .collect();
    let out = json!({
        "ed25519_public_key_b64url": ed.verifying_key().to_base64url(),
        "ed25519_keyid": did,
        "hmac_secret_b64": STANDARD.encode(secret.expose_secret()),
        "hmac_keyid": "hmac-interop",
        "cases": cases,
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("json"));
}

fn sign_case(
    c: &Case,
    i: usize,
    now: u64,
    ed: &Ed25519SigningKey,
    did: &str,
    secret: &SecretBytes,
) -> Value {
    let authority = "127.0.0.1:8443";
    let mut headers = HeaderMap::new();
    if !c.body.is_empty() {
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let digest = tradeguard_httpsig::content_digest(c.body.as_bytes());
        headers.insert("content-digest", digest.parse().expect("digest header"));
    }
    let parts =
        RequestParts::new(c.method, authority, c.path, c.query, &headers).with_scheme("https");
    let components = c
        .components
        .iter()
        .map(|s| s.parse::<Component>().expect("component"));
    let mut p = SignatureParams::new("sig", components.collect());
    p.created = Some(now);
    p.nonce = Some(format!("interop-nonce-{i}"));
    let key = if c.hmac {
        p.keyid = Some("hmac-interop".into());
        p.alg = Some(Algorithm::HmacSha256);
        SigningKey::HmacSha256(secret)
    } else {
        p.keyid = Some(did.to_owned());
        SigningKey::Ed25519(ed)
    };
    let signed = tradeguard_httpsig::sign(&parts, &key, &p).expect("sign");
    let mut header_list: Vec<Value> = headers
        .iter()
        .map(|(n, v)| json!([n.as_str(), v.to_str().expect("ascii")]))
        .collect();
    header_list.push(json!(["signature-input", signed.signature_input]));
    header_list.push(json!(["signature", signed.signature]));
    json!({
        "name": c.name,
        "alg": key.algorithm().as_str(),
        "method": c.method,
        "scheme": "https",
        "authority": authority,
        "path": c.path,
        "query": c.query,
        "headers": header_list,
        "body": c.body,
        "components": c.components,
    })
}
