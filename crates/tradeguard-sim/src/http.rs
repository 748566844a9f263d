//! The parts of an HTTP request the venues look at, read once, raw (signatures cover raw bytes).

use std::net::{IpAddr, Ipv4Addr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};

use crate::server::ConnMeta;

/// Largest request body a simulator reads.
const MAX_BODY: usize = 1 << 20;

/// One request, with its query string and body exactly as sent.
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) path: String,
    /// The raw query string without `?` (empty if none).
    pub(crate) query: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) conn: Option<ConnMeta>,
}

impl Req {
    /// Reads the request (body capped at 1 MiB).
    pub(crate) async fn read(request: Request) -> Result<Self, Response> {
        let (parts, body) = request.into_parts();
        let conn = parts
            .extensions
            .get::<ConnectInfo<ConnMeta>>()
            .map(|c| c.0.clone());
        let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
            (
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
            )
                .into_response()
        })?;
        Ok(Self {
            method: parts.method,
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            headers: parts.headers,
            body,
            conn,
        })
    }

    /// A header as text (None if absent or not visible ASCII).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The client's IP (loopback when unknown).
    pub(crate) fn ip(&self) -> IpAddr {
        self.conn
            .as_ref()
            .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.remote.ip())
    }

    /// The body as UTF-8 (empty if it is not).
    pub(crate) fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or_default()
    }

    /// Decoded `application/x-www-form-urlencoded` pairs of the query string.
    pub(crate) fn query_pairs(&self) -> Vec<(String, String)> {
        form_pairs(&self.query)
    }

    /// Closes the connection without an answer (fault injection).
    pub(crate) fn drop_connection(&self) {
        if let Some(c) = &self.conn {
            c.drop_connection();
        }
    }
}

/// Decodes a form-encoded string into pairs, in order.
pub(crate) fn form_pairs(raw: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect()
}

/// The value of the first pair named `name`.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A JSON response with a status.
pub(crate) fn json(status: u16, value: &serde_json::Value) -> Response {
    let status = axum::http::StatusCode::from_u16(status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// Sets a header on a response (ignored if the value is not a valid header value).
pub(crate) fn set_header(resp: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = axum::http::HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}
