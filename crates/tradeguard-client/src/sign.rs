//! The signature every request carries (DESIGN.md "HTTP API"): RFC 9421 over `@method`,
//! `@authority`, `@path`, `@query`, `content-digest` (RFC 9530 sha-256, over the empty body
//! too) and, with a body, `content-type`; parameters `created`, `nonce` (128 random bits,
//! base64url), `keyid` and `alg`.

use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, header};
use tradeguard_httpsig::{Component, HttpSigError, RequestParts, SignatureParams};

use crate::{ClientError, PrincipalKey};

/// The label of the client's signature.
pub const LABEL: &str = "sig1";

/// Where `created` comes from; tests inject a fixed clock.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// What is signed: the request line parts as sent, and the body.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The method.
    pub method: &'a str,
    /// `host[:port]`, as in the `Host` header.
    pub authority: &'a str,
    /// The percent-encoded path.
    pub path: &'a str,
    /// The query without `?`.
    pub query: Option<&'a str>,
    /// The JSON body, if any.
    pub body: Option<&'a [u8]>,
}

/// The headers to send with `req`: `content-type` (with a body), `content-digest`,
/// `signature-input` and `signature`.
pub fn signed_headers(
    key: &PrincipalKey,
    req: &Outgoing<'_>,
    created: u64,
) -> Result<HeaderMap, ClientError> {
    let mut headers = HeaderMap::new();
    let digest = tradeguard_httpsig::content_digest(req.body.unwrap_or_default());
    headers.insert("content-digest", value(&digest)?);
    let mut components = vec![
        Component::Method,
        Component::Authority,
        Component::Path,
        Component::Query,
        Component::field("content-digest")?,
    ];
    if req.body.is_some() {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        components.push(Component::field("content-type")?);
    }
    let parts = RequestParts::new(req.method, req.authority, req.path, req.query, &headers);
    let mut params = SignatureParams::new(LABEL, components);
    params.created = Some(created);
    params.nonce = Some(nonce()?);
    params.keyid = Some(key.keyid().to_owned());
    params.alg = Some(key.signing_key().algorithm());
    let signed = tradeguard_httpsig::sign(&parts, &key.signing_key(), &params)?;
    headers.insert("signature-input", value(&signed.signature_input)?);
    headers.insert("signature", value(&signed.signature)?);
    Ok(headers)
}

/// 128 random bits, unpadded base64url (22 characters).
fn nonce() -> Result<String, ClientError> {
    let raw = tradeguard_crypto::random::array::<16>()
        .map_err(|e| ClientError::Config(format!("cannot make a nonce: {e}")))?;
    Ok(tradeguard_crypto::b64::encode(&raw))
}

fn value(s: &str) -> Result<HeaderValue, ClientError> {
    HeaderValue::from_str(s).map_err(|_| {
        ClientError::Sign(HttpSigError::MalformedHeader {
            header: "signature-input",
            reason: "a signed value is not a valid header value".into(),
        })
    })
}

#[cfg(test)]
mod tests {
    use tradeguard_crypto::sign::Ed25519SigningKey;

    use super::*;

    #[test]
    fn signs_what_the_gateway_requires_and_verifies() {
        let key = PrincipalKey::ed25519(Ed25519SigningKey::generate().unwrap());
        let body = br#"{"reason":"test"}"#;
        let req = Outgoing {
            method: "POST",
            authority: "127.0.0.1:8443",
            path: "/v1/halt",
            query: None,
            body: Some(body),
        };
        let h = signed_headers(&key, &req, 1_700_000_000).unwrap();
        let parts = RequestParts::new("POST", "127.0.0.1:8443", "/v1/halt", None, &h);
        let parsed = tradeguard_httpsig::parse_request(&parts, Some(LABEL)).unwrap();
        parsed
            .require_components(&[
                "@method",
                "@authority",
                "@path",
                "@query",
                "content-digest",
                "content-type",
            ])
            .unwrap();
        assert_eq!(parsed.keyid(), Some(key.keyid()));
        assert_eq!(parsed.nonce().map(str::len), Some(22));
        assert_eq!(parsed.alg(), Some(tradeguard_httpsig::Algorithm::Ed25519));
        let PrincipalKey::Ed25519 { key: k, .. } = &key else {
            unreachable!()
        };
        parsed.verify_ed25519(&k.verifying_key()).unwrap();
        let digest = h["content-digest"].to_str().unwrap();
        tradeguard_httpsig::verify_content_digest(digest, body).unwrap();
        // A second signature of the same request has a fresh nonce.
        let again = signed_headers(&key, &req, 1_700_000_000).unwrap();
        assert_ne!(again["signature-input"], h["signature-input"]);
    }
}
