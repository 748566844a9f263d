//! RFC 9421 HTTP Message Signatures and RFC 9530 `Content-Digest`, the narrow profile the
//! gateway accepts: one signature per request, derived components `@method`, `@path`,
//! `@query`, `@authority`, `@scheme`, `@target-uri` and plain header fields (no component
//! parameters), algorithms `ed25519` and `hmac-sha256`.
//!
//! Interim: `tradeguard-httpsig` will own this (with the Appendix B vectors); its API is
//! expected to match [`parse`], [`signature_base`], [`verify_ed25519`], [`verify_hmac`] and
//! [`check_content_digest`], so the gateway switches by changing this module to re-exports.

use axum::http::request::Parts;
use sfv::{BareItem, Dictionary, FieldType, InnerList, Item, ListEntry, Parser};
use tradeguard_crypto::digest::sha256;
use tradeguard_crypto::sign::Ed25519VerifyingKey;

/// Why a signature or digest was rejected (no header value is ever quoted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigError {
    /// `Signature-Input` or `Signature` is not a valid structured field or not our profile.
    #[error("malformed {field}: {reason}")]
    Malformed {
        /// The header at fault.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A covered component is not present in the request.
    #[error("covered component `{0}` is missing from the request")]
    ComponentMissing(String),
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// `Content-Digest` is malformed or does not match the body.
    #[error("content-digest {0}")]
    Digest(&'static str),
}

/// A parsed `Signature-Input` / `Signature` pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSignature {
    /// The signature label (`sig1`).
    pub label: String,
    /// The covered component identifiers, in order (`@method`, `content-digest`, ...).
    pub components: Vec<String>,
    /// `keyid` parameter.
    pub keyid: Option<String>,
    /// `alg` parameter.
    pub alg: Option<String>,
    /// `created` parameter, Unix seconds.
    pub created: Option<i64>,
    /// `expires` parameter, Unix seconds.
    pub expires: Option<i64>,
    /// `nonce` parameter.
    pub nonce: Option<String>,
    /// The signature bytes.
    pub signature: Vec<u8>,
    /// The serialized inner list, the value of `@signature-params`.
    params: String,
}

fn malformed(field: &'static str, reason: &'static str) -> SigError {
    SigError::Malformed { field, reason }
}

/// Parses the two headers. Exactly one signature label is accepted.
pub fn parse(signature_input: &str, signature: &str) -> Result<ParsedSignature, SigError> {
    const SI: &str = "signature-input";
    let inputs: Dictionary = Parser::new(signature_input)
        .parse()
        .map_err(|_| malformed(SI, "not a structured-field dictionary"))?;
    let sigs: Dictionary = Parser::new(signature)
        .parse()
        .map_err(|_| malformed("signature", "not a structured-field dictionary"))?;
    if inputs.len() != 1 || sigs.len() != 1 {
        return Err(malformed(SI, "exactly one signature is accepted"));
    }
    let (label, entry) = inputs.iter().next().ok_or(malformed(SI, "empty"))?;
    let ListEntry::InnerList(list) = entry else {
        return Err(malformed(SI, "member must be an inner list"));
    };
    let sig = match sigs.get(label.as_str()) {
        Some(ListEntry::Item(Item {
            bare_item: BareItem::ByteSequence(b),
            ..
        })) => b.clone(),
        Some(_) => return Err(malformed("signature", "member must be a byte sequence")),
        None => return Err(malformed("signature", "label differs from signature-input")),
    };
    let mut parsed = ParsedSignature {
        label: label.as_str().to_owned(),
        components: components(list)?,
        keyid: None,
        alg: None,
        created: None,
        expires: None,
        nonce: None,
        signature: sig,
        params: serialize_inner_list(list)?,
    };
    for (key, value) in &list.params {
        let int = || {
            value
                .as_integer()
                .map(i64::from)
                .ok_or(malformed(SI, "created/expires must be integers"))
        };
        let string = || {
            value
                .as_string()
                .map(|s| s.as_str().to_owned())
                .ok_or(malformed(SI, "keyid/alg/nonce must be strings"))
        };
        match key.as_str() {
            "created" => parsed.created = Some(int()?),
            "expires" => parsed.expires = Some(int()?),
            "keyid" => parsed.keyid = Some(string()?),
            "alg" => parsed.alg = Some(string()?),
            "nonce" => parsed.nonce = Some(string()?),
            "tag" => {}
            _ => return Err(malformed(SI, "unknown signature parameter")),
        }
    }
    Ok(parsed)
}

fn components(list: &InnerList) -> Result<Vec<String>, SigError> {
    let mut out: Vec<String> = Vec::with_capacity(list.items.len());
    for item in &list.items {
        let name = item
            .bare_item
            .as_string()
            .ok_or(malformed("signature-input", "components must be strings"))?
            .as_str();
        if !item.params.is_empty() {
            return Err(malformed(
                "signature-input",
                "component parameters are not supported",
            ));
        }
        if name.is_empty() || name != name.to_ascii_lowercase() {
            return Err(malformed(
                "signature-input",
                "component names must be lower case",
            ));
        }
        if out.iter().any(|c| c == name) {
            return Err(malformed("signature-input", "a component is listed twice"));
        }
        out.push(name.to_owned());
    }
    Ok(out)
}

fn serialize_inner_list(list: &InnerList) -> Result<String, SigError> {
    let wrapper: sfv::List = vec![ListEntry::InnerList(list.clone())];
    wrapper
        .serialize()
        .ok_or(malformed("signature-input", "cannot be serialized"))
}

/// The value of one covered component in `parts`.
fn component_value(parts: &Parts, name: &str) -> Result<String, SigError> {
    let missing = || SigError::ComponentMissing(name.to_owned());
    match name {
        "@method" => Ok(parts.method.as_str().to_owned()),
        "@path" => Ok(match parts.uri.path() {
            "" => "/".to_owned(),
            p => p.to_owned(),
        }),
        "@query" => Ok(format!("?{}", parts.uri.query().unwrap_or(""))),
        "@authority" => authority(parts).ok_or_else(missing),
        "@scheme" => Ok(parts
            .uri
            .scheme_str()
            .unwrap_or("https")
            .to_ascii_lowercase()),
        "@target-uri" => {
            let auth = authority(parts).ok_or_else(missing)?;
            let scheme = parts.uri.scheme_str().unwrap_or("https");
            let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            Ok(format!("{scheme}://{auth}{pq}"))
        }
        n if n.starts_with('@') => Err(malformed(
            "signature-input",
            "unsupported derived component",
        )),
        header => {
            let values: Vec<&str> = parts
                .headers
                .get_all(header)
                .iter()
                .map(|v| v.to_str().map(str::trim))
                .collect::<Result<_, _>>()
                .map_err(|_| malformed("header", "covered header is not visible ASCII"))?;
            if values.is_empty() {
                return Err(missing());
            }
            Ok(values.join(", "))
        }
    }
}

fn authority(parts: &Parts) -> Option<String> {
    parts
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| parts.headers.get("host")?.to_str().ok().map(str::to_owned))
        .map(|a| a.to_ascii_lowercase())
}

/// The signature base (RFC 9421 §2.5) of `sig` over the request `parts`.
pub fn signature_base(sig: &ParsedSignature, parts: &Parts) -> Result<Vec<u8>, SigError> {
    build_base(&sig.components, &sig.params, parts)
}

fn build_base(components: &[String], params: &str, parts: &Parts) -> Result<Vec<u8>, SigError> {
    let mut base = String::with_capacity(256);
    for c in components {
        let v = component_value(parts, c)?;
        if v.contains('\n') {
            return Err(malformed("header", "covered value contains a newline"));
        }
        base.push_str(&format!("\"{c}\": {v}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {params}"));
    Ok(base.into_bytes())
}

/// Verifies an `ed25519` signature over `base`.
pub fn verify_ed25519(
    base: &[u8],
    signature: &[u8],
    key: &Ed25519VerifyingKey,
) -> Result<(), SigError> {
    key.verify(base, signature)
        .map_err(|_| SigError::BadSignature)
}

/// Verifies an `hmac-sha256` signature over `base` (constant time).
pub fn verify_hmac(base: &[u8], signature: &[u8], key: &[u8]) -> Result<(), SigError> {
    if tradeguard_crypto::mac::verify_hmac_sha256(key, base, signature) {
        Ok(())
    } else {
        Err(SigError::BadSignature)
    }
}

/// The `Content-Digest` value for `body` (`sha-256=:<base64>:`).
pub fn content_digest(body: &[u8]) -> String {
    let item = Item::new(BareItem::ByteSequence(sha256(body).to_vec()));
    let mut dict = Dictionary::new();
    dict.insert(sfv::key_ref("sha-256").to_owned(), ListEntry::Item(item));
    dict.serialize().unwrap_or_default()
}

/// Checks a `Content-Digest` header against `body`: `sha-256` must be present and match;
/// `sha-512`, if also present, must match too; other algorithms are ignored.
pub fn check_content_digest(header: &str, body: &[u8]) -> Result<(), SigError> {
    let dict: Dictionary = Parser::new(header)
        .parse()
        .map_err(|_| SigError::Digest("is not a structured-field dictionary"))?;
    let bytes = |alg: &str| match dict.get(alg) {
        Some(ListEntry::Item(Item {
            bare_item: BareItem::ByteSequence(b),
            ..
        })) => Ok(Some(b)),
        Some(_) => Err(SigError::Digest("member is not a byte sequence")),
        None => Ok(None),
    };
    let sha256_value = bytes("sha-256")?.ok_or(SigError::Digest("lacks sha-256"))?;
    if !tradeguard_crypto::ct::ct_eq(sha256_value, &sha256(body)) {
        return Err(SigError::Digest("does not match the body"));
    }
    if let Some(v) = bytes("sha-512")?
        && !tradeguard_crypto::ct::ct_eq(v, &tradeguard_crypto::digest::sha512(body))
    {
        return Err(SigError::Digest("does not match the body"));
    }
    Ok(())
}

/// How a request is signed (client side: tests, the bench and the CLI).
pub enum SigningKey<'a> {
    /// A principal's Ed25519 key.
    Ed25519(&'a tradeguard_crypto::sign::Ed25519SigningKey),
    /// A shared HMAC key.
    Hmac(&'a [u8]),
}

/// Signature parameters chosen by the signer.
#[derive(Debug, Clone)]
pub struct SignParams<'a> {
    /// Covered components, in order.
    pub components: &'a [&'a str],
    /// `keyid`.
    pub keyid: &'a str,
    /// `created`, Unix seconds.
    pub created: i64,
    /// `nonce`.
    pub nonce: &'a str,
    /// The label (`sig1`).
    pub label: &'a str,
}

/// Signs `parts` (whose `Content-Digest`, if covered, must already be set) and returns the
/// `Signature-Input` and `Signature` header values.
pub fn sign(
    parts: &Parts,
    key: &SigningKey<'_>,
    p: &SignParams<'_>,
) -> Result<(String, String), SigError> {
    let alg = match key {
        SigningKey::Ed25519(_) => "ed25519",
        SigningKey::Hmac(_) => "hmac-sha256",
    };
    let bad = |_| malformed("signature-input", "invalid parameter");
    let items = p
        .components
        .iter()
        .map(|c| sfv::StringRef::from_str(c).map(|s| Item::new(BareItem::String(s.to_owned()))))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let mut list = InnerList::new(items);
    list.params.insert(
        sfv::key_ref("created").to_owned(),
        BareItem::Integer(sfv::Integer::try_from(p.created).map_err(bad)?),
    );
    for (k, v) in [("keyid", p.keyid), ("alg", alg), ("nonce", p.nonce)] {
        let s = sfv::StringRef::from_str(v).map_err(bad)?.to_owned();
        list.params
            .insert(sfv::key_ref(k).to_owned(), BareItem::String(s));
    }
    let params = serialize_inner_list(&list)?;
    let comps: Vec<String> = p.components.iter().map(|c| (*c).to_owned()).collect();
    let base = build_base(&comps, &params, parts)?;
    let sig = match key {
        SigningKey::Ed25519(k) => k.sign(&base).to_vec(),
        SigningKey::Hmac(k) => tradeguard_crypto::mac::hmac_sha256(k, &base).to_vec(),
    };
    let mut sig_dict = Dictionary::new();
    let label = sfv::KeyRef::from_str(p.label).map_err(bad)?.to_owned();
    sig_dict.insert(
        label.clone(),
        ListEntry::Item(Item::new(BareItem::ByteSequence(sig))),
    );
    let mut in_dict = Dictionary::new();
    in_dict.insert(label, ListEntry::InnerList(list));
    Ok((
        in_dict.serialize().unwrap_or_default(),
        sig_dict.serialize().unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use tradeguard_crypto::sign::Ed25519SigningKey;

    fn parts(method: &str, uri: &str, digest: Option<&str>) -> Parts {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "gw.example");
        if let Some(d) = digest {
            b = b
                .header("content-digest", d)
                .header("content-type", "application/json");
        }
        b.body(()).unwrap().into_parts().0
    }

    const COMPS: &[&str] = &[
        "@method",
        "@path",
        "@query",
        "content-digest",
        "content-type",
    ];

    #[test]
    fn sign_parse_verify_round_trip_both_algorithms() {
        let body = br#"{"a":1}"#;
        let p = parts("POST", "/v1/orders?x=1", Some(&content_digest(body)));
        let key = Ed25519SigningKey::generate().unwrap();
        for (i, k) in [
            SigningKey::Ed25519(&key),
            SigningKey::Hmac(b"secret-key-32-bytes-long-enough!"),
        ]
        .iter()
        .enumerate()
        {
            let sp = SignParams {
                components: COMPS,
                keyid: "k1",
                created: 1_700_000_000,
                nonce: "n-1",
                label: "sig1",
            };
            let (si, s) = sign(&p, k, &sp).unwrap();
            let parsed = parse(&si, &s).unwrap();
            assert_eq!(parsed.keyid.as_deref(), Some("k1"), "TC{i}");
            assert_eq!(parsed.created, Some(1_700_000_000));
            assert_eq!(parsed.components, COMPS);
            let base = signature_base(&parsed, &p).unwrap();
            let ok = match k {
                SigningKey::Ed25519(k) => {
                    verify_ed25519(&base, &parsed.signature, &k.verifying_key())
                }
                SigningKey::Hmac(k) => verify_hmac(&base, &parsed.signature, k),
            };
            assert!(ok.is_ok(), "TC{i} failed");
            // The same signature over another path fails.
            let other = parts("POST", "/v1/halt?x=1", Some(&content_digest(body)));
            let base = signature_base(&parsed, &other).unwrap();
            assert!(verify_hmac(&base, &parsed.signature, b"x").is_err());
        }
    }

    #[test]
    fn base_matches_rfc9421_layout() {
        let p = parts("GET", "/v1/orders", None);
        let base = build_base(
            &["@method".into(), "@path".into(), "@query".into()],
            "(\"@method\")",
            &p,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(base).unwrap(),
            "\"@method\": GET\n\"@path\": /v1/orders\n\"@query\": ?\n\"@signature-params\": (\"@method\")"
        );
    }

    #[test]
    fn content_digest_checks() {
        // RFC 9530 §B.1 example: {"hello": "world"}\n
        let body = b"{\"hello\": \"world\"}\n";
        let d = content_digest(body);
        assert_eq!(d, "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:");
        assert!(check_content_digest(&d, body).is_ok());
        let cases = [
            (d.as_str(), b"{}".as_slice(), "does not match the body"),
            ("sha-512=:AAAA:", body.as_slice(), "lacks sha-256"),
            (
                "sha-256=abc",
                body.as_slice(),
                "member is not a byte sequence",
            ),
            (
                "((",
                body.as_slice(),
                "is not a structured-field dictionary",
            ),
        ];
        for (i, (h, b, want)) in cases.iter().enumerate() {
            assert_eq!(
                check_content_digest(h, b),
                Err(SigError::Digest(want)),
                "TC{} failed",
                i + 1
            );
        }
    }

    #[test]
    fn fail_malformed_inputs() {
        let cases = [
            ("sig1=(\"@method\")", "sig2=:AAAA:"),
            (
                "sig1=(\"@method\"), sig2=(\"@path\")",
                "sig1=:AAAA:, sig2=:AAAA:",
            ),
            ("sig1=\"@method\"", "sig1=:AAAA:"),
            ("sig1=(\"@method\";sf)", "sig1=:AAAA:"),
            ("sig1=(\"@method\" \"@method\")", "sig1=:AAAA:"),
            ("sig1=(\"@method\");created=\"x\"", "sig1=:AAAA:"),
            ("sig1=(\"@method\");weird=1", "sig1=:AAAA:"),
            ("sig1=(\"Host\")", "sig1=:AAAA:"),
            ("sig1=(@method)", "sig1=:AAAA:"),
        ];
        for (i, (si, s)) in cases.iter().enumerate() {
            assert!(
                matches!(parse(si, s), Err(SigError::Malformed { .. })),
                "TC{} failed",
                i + 1
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(si in ".{0,200}", s in ".{0,200}") {
            let _ = parse(&si, &s);
            let _ = check_content_digest(&si, s.as_bytes());
        }
    }
}
