//! Client side of the gateway's request signing: builds a request signed the way the gateway
//! requires (RFC 9421 over `@method`, `@authority`, `@path`, `@query`, `content-digest` and,
//! with a body, `content-type`; `created`, `nonce`, `keyid`, `alg`). Used by the tests, the
//! bench and the CLI client until `tradeguard-client` takes it over.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, header};
use tradeguard_httpsig::{Component, HttpSigError, RequestParts, SignatureParams, SigningKey};

/// One request to sign.
#[derive(Debug, Clone)]
pub struct Unsigned<'a> {
    /// HTTP method.
    pub method: Method,
    /// Host (and port) the request is sent to.
    pub authority: &'a str,
    /// Path, percent-encoded.
    pub path: &'a str,
    /// Query without `?`.
    pub query: Option<&'a str>,
    /// JSON body, if any.
    pub body: Option<Vec<u8>>,
}

/// Freshness parameters.
#[derive(Debug, Clone)]
pub struct Freshness<'a> {
    /// `keyid`: the principal's `did:key` or HMAC key id.
    pub keyid: &'a str,
    /// `created`, Unix seconds.
    pub created: u64,
    /// `nonce`, unique per request.
    pub nonce: &'a str,
}

/// The headers of a signed request (without Host).
pub fn signed_headers(
    req: &Unsigned<'_>,
    key: &SigningKey<'_>,
    fresh: &Freshness<'_>,
) -> Result<HeaderMap, HttpSigError> {
    let body = req.body.as_deref().unwrap_or(b"");
    let mut headers = HeaderMap::new();
    let digest = tradeguard_httpsig::content_digest(body);
    headers.insert("content-digest", header_value(&digest)?);
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
    let parts = RequestParts::new(
        req.method.as_str(),
        req.authority,
        req.path,
        req.query,
        &headers,
    );
    let mut params = SignatureParams::new("sig1", components);
    params.created = Some(fresh.created);
    params.nonce = Some(fresh.nonce.to_owned());
    params.keyid = Some(fresh.keyid.to_owned());
    params.alg = Some(key.algorithm());
    let signed = tradeguard_httpsig::sign(&parts, key, &params)?;
    headers.insert("signature-input", header_value(&signed.signature_input)?);
    headers.insert("signature", header_value(&signed.signature)?);
    Ok(headers)
}

fn header_value(v: &str) -> Result<HeaderValue, HttpSigError> {
    HeaderValue::from_str(v).map_err(|_| HttpSigError::MalformedHeader {
        header: "signature",
        reason: "not a valid header value".into(),
    })
}

/// A complete signed `http::Request` (origin-form URI plus `Host`), for in-process use.
pub fn signed_request(
    req: Unsigned<'_>,
    key: &SigningKey<'_>,
    fresh: &Freshness<'_>,
) -> Result<Request<Body>, HttpSigError> {
    let headers = signed_headers(&req, key, fresh)?;
    let uri = match req.query {
        Some(q) => format!("{}?{q}", req.path),
        None => req.path.to_owned(),
    };
    let mut builder = Request::builder()
        .method(req.method.clone())
        .uri(uri)
        .header(header::HOST, req.authority);
    for (name, value) in &headers {
        builder = builder.header(name, value);
    }
    builder
        .body(Body::from(req.body.unwrap_or_default()))
        .map_err(|_| HttpSigError::MalformedHeader {
            header: "request",
            reason: "could not be built".into(),
        })
}
