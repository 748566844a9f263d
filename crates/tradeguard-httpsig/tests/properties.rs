//! Property tests for the header parsers: no input panics, and what `sign` writes `parse`
//! reads back unchanged (components, parameters, base) and verifies.

use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_httpsig::{
    Algorithm, Component, RequestParts, SignatureParams, SigningKey, VerifyingKey,
};

const FIELDS: [&str; 4] = ["content-type", "content-digest", "x-a", "date"];

fn component() -> impl Strategy<Value = Component> {
    prop_oneof![
        Just(Component::Method),
        Just(Component::Authority),
        Just(Component::Scheme),
        Just(Component::Path),
        Just(Component::Query),
        Just(Component::TargetUri),
        (0..FIELDS.len()).prop_map(|i| Component::field(FIELDS[i]).unwrap()),
    ]
}

/// RFC 8941 String content: printable ASCII, quotes and backslashes included.
fn sf_text() -> impl Strategy<Value = String> {
    "[ -~]{0,40}"
}

fn params() -> impl Strategy<Value = SignatureParams> {
    (
        "[a-z*][a-z0-9_.*-]{0,10}",
        proptest::collection::vec(component(), 0..8),
        proptest::option::of(0u64..=999_999_999_999_999),
        proptest::option::of(0u64..=999_999_999_999_999),
        proptest::option::of(sf_text()),
        proptest::option::of(sf_text()),
        proptest::option::of(sf_text()),
        any::<bool>(),
    )
        .prop_map(
            |(label, mut comps, created, expires, nonce, keyid, tag, alg)| {
                let mut seen = Vec::new();
                comps.retain(|c| {
                    let fresh = !seen.contains(c);
                    seen.push(c.clone());
                    fresh
                });
                let mut p = SignatureParams::new(label, comps);
                (p.created, p.expires, p.nonce, p.keyid, p.tag) =
                    (created, expires, nonce, keyid, tag);
                p.alg = alg.then_some(Algorithm::Ed25519);
                p
            },
        )
}

/// Header values with inner spaces and tabs and surrounding whitespace (which §2.1 strips).
fn headers() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec("[ \t]?[!-~]([ -~\t]{0,20}[!-~])?[ \t]?", FIELDS.len())
}

fn header_map(values: &[String]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, v) in FIELDS.iter().zip(values) {
        h.append(
            HeaderName::from_static(name),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

proptest! {
    #[test]
    fn parse_never_panics(input in ".{0,300}", sig in ".{0,300}", label in proptest::option::of("[a-z]{1,4}")) {
        let headers = HeaderMap::new();
        let parts = RequestParts::new("GET", "h", "/", None, &headers);
        let _ = tradeguard_httpsig::parse(&parts, &input, &sig, label.as_deref());
    }

    #[test]
    fn parse_never_panics_on_near_valid_input(
        comps in "[\"@a-zA-Z ;=-]{0,60}", params in "[a-z0-9;=\"-]{0,60}", b64 in "[A-Za-z0-9+/=:]{0,100}",
    ) {
        let headers = HeaderMap::new();
        let parts = RequestParts::new("GET", "h", "/", Some("q"), &headers).with_scheme("https");
        let input = format!("sig=({comps}){params}");
        let sig = format!("sig=:{b64}");
        let _ = tradeguard_httpsig::parse(&parts, &input, &sig, Some("sig"));
    }

    #[test]
    fn content_digest_never_panics(header in ".{0,300}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = tradeguard_httpsig::verify_content_digest(&header, &body);
    }

    #[test]
    fn content_digest_round_trip(body in proptest::collection::vec(any::<u8>(), 0..256), flip in any::<u8>()) {
        let header = tradeguard_httpsig::content_digest(&body);
        prop_assert!(tradeguard_httpsig::verify_content_digest(&header, &body).is_ok());
        let mut other = body.clone();
        other.push(flip);
        prop_assert!(tradeguard_httpsig::verify_content_digest(&header, &other).is_err());
    }

    #[test]
    fn sign_parse_round_trip(
        p in params(), values in headers(), path in "(/[a-zA-Z0-9%._~-]{0,8}){0,3}",
        query in proptest::option::of("[a-zA-Z0-9=&%+]{0,20}"), hmac in any::<bool>(),
    ) {
        let headers = header_map(&values);
        let parts = RequestParts::new("POST", "Example.COM:8443", &path, query.as_deref(), &headers)
            .with_scheme("https");
        let ed = Ed25519SigningKey::from_seed(&[7; 32]).unwrap();
        let vk = ed.verifying_key();
        let secret = SecretBytes::new(vec![9; 32]);
        let mut p = p;
        let (key, vkey) = if hmac {
            p.alg = p.alg.map(|_| Algorithm::HmacSha256);
            (SigningKey::HmacSha256(&secret), VerifyingKey::HmacSha256(&secret))
        } else {
            (SigningKey::Ed25519(&ed), VerifyingKey::Ed25519(&vk))
        };
        let signed = tradeguard_httpsig::sign(&parts, &key, &p).unwrap();
        let parsed = tradeguard_httpsig::parse(&parts, &signed.signature_input, &signed.signature, None).unwrap();
        prop_assert_eq!(parsed.label(), p.label.as_str());
        prop_assert_eq!(parsed.components(), p.components.as_slice());
        prop_assert_eq!(parsed.created(), p.created);
        prop_assert_eq!(parsed.expires(), p.expires);
        prop_assert_eq!(parsed.nonce(), p.nonce.as_deref());
        prop_assert_eq!(parsed.keyid(), p.keyid.as_deref());
        prop_assert_eq!(parsed.tag(), p.tag.as_deref());
        prop_assert_eq!(parsed.alg(), p.alg);
        let base = tradeguard_httpsig::signature_base(&parts, &p).unwrap();
        prop_assert_eq!(parsed.signature_base(), base.as_slice());
        prop_assert!(parsed.verify(vkey).is_ok());
    }

    #[test]
    fn component_names_round_trip(c in component()) {
        prop_assert_eq!(c.name().parse::<Component>().unwrap(), c);
    }
}
