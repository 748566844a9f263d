//! Fuzzes `Signature-Input` / `Signature` parsing: no input panics, and a signature that parses
//! round-trips: signing its components and parameters again yields headers that parse to the
//! same components, parameters and signature base.
#![no_main]

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_httpsig::{RequestParts, SignatureParams, SigningKey};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Input: `<signature-input>\n<signature>`.
    let (input, sig) = text.split_once('\n').unwrap_or((text, ""));
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert(
        "date",
        HeaderValue::from_static("Tue, 20 Apr 2021 02:07:55 GMT"),
    );
    let parts = RequestParts::new("POST", "example.com", "/foo", Some("a=b"), &headers)
        .with_scheme("https");
    let Ok(parsed) = tradeguard_httpsig::parse(&parts, input, sig, None) else {
        return;
    };
    let mut p = SignatureParams::new(parsed.label(), parsed.components().to_vec());
    p.created = parsed.created();
    p.expires = parsed.expires();
    p.nonce = parsed.nonce().map(str::to_owned);
    p.keyid = parsed.keyid().map(str::to_owned);
    p.tag = parsed.tag().map(str::to_owned);
    p.alg = parsed
        .alg()
        .filter(|a| *a == tradeguard_httpsig::Algorithm::HmacSha256);
    let secret = SecretBytes::new(vec![1; 32]);
    let signed = tradeguard_httpsig::sign(&parts, &SigningKey::HmacSha256(&secret), &p)
        .expect("what parsed must sign");
    let again = tradeguard_httpsig::parse(&parts, &signed.signature_input, &signed.signature, None)
        .expect("what was signed must parse");
    assert_eq!(again.components(), parsed.components());
    assert_eq!(
        (
            again.created(),
            again.expires(),
            again.nonce(),
            again.keyid(),
            again.tag()
        ),
        (
            parsed.created(),
            parsed.expires(),
            parsed.nonce(),
            parsed.keyid(),
            parsed.tag()
        )
    );
    again.verify_hmac(&secret).expect("own signature verifies");
});
