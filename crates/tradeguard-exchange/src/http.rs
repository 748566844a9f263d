//! The HTTP layer: reqwest with rustls, per-exchange proxy and timeouts, a response size cap,
//! and transport failures split into "never sent" and "may have been sent".

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use zeroize::Zeroizing;

use crate::config::ConnectorConfig;
use crate::error::ExchangeError;

/// Largest response body read (exchange answers are far smaller).
const MAX_BODY: usize = 8 * 1024 * 1024;
/// `User-Agent` sent to every exchange (Kraken requires one).
const USER_AGENT: &str = concat!("tradeguard/", env!("CARGO_PKG_VERSION"));

/// One request, built (and signed) fresh for each attempt.
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Full URL, query included.
    pub url: Url,
    /// Extra headers; values are wiped after sending and marked sensitive.
    pub headers: Vec<(&'static str, Zeroizing<String>)>,
    /// Body and its content type.
    pub body: Option<(&'static str, Vec<u8>)>,
}

impl HttpRequest {
    /// A request without headers or body.
    pub fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            body: None,
        }
    }
}

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// A transport failure, split by whether the exchange can have seen the request.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The connection was never established: the request did not leave.
    NotSent(String),
    /// The request may have reached the exchange (timeout, connection dropped, body cut).
    MaybeSent(String),
}

/// A configured HTTP client for one exchange.
#[derive(Clone, Debug)]
pub(crate) struct HttpClient {
    inner: reqwest::Client,
}

impl HttpClient {
    /// Builds the client: rustls, the configured proxy (or none: system proxies are ignored),
    /// connect and whole-request timeouts, no redirects.
    pub fn new(cfg: &ConnectorConfig) -> Result<Self, ExchangeError> {
        let mut b = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if let Some(p) = &cfg.proxy {
            let proxy = reqwest::Proxy::all(p.as_str()).map_err(|_| ExchangeError::Config {
                exchange: cfg.exchange,
                what: "proxy",
                reason: "not a usable proxy URL".to_owned(),
            })?;
            b = b.proxy(proxy);
        }
        let inner = b.build().map_err(|e| ExchangeError::Config {
            exchange: cfg.exchange,
            what: "http client",
            reason: format!("could not build the HTTP client: {e}"),
        })?;
        Ok(Self { inner })
    }

    /// Sends `req` and reads the whole response.
    pub async fn send(&self, req: HttpRequest) -> Result<HttpResponse, SendError> {
        let mut rb = self.inner.request(req.method, req.url);
        for (name, value) in &req.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| SendError::NotSent(format!("invalid header name {name}")))?;
            let mut v = HeaderValue::from_str(value)
                .map_err(|_| SendError::NotSent(format!("header {name} has an invalid value")))?;
            v.set_sensitive(true);
            rb = rb.header(name, v);
        }
        if let Some((content_type, body)) = req.body {
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body);
        }
        let mut resp = rb.send().await.map_err(classify)?;
        let status = resp.status().as_u16();
        let headers = std::mem::take(resp.headers_mut());
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| {
            SendError::MaybeSent(format!("response body interrupted: {}", describe(&e)))
        })? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(SendError::MaybeSent(
                    "response body larger than 8 MiB".to_owned(),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

fn classify(e: reqwest::Error) -> SendError {
    if e.is_connect() {
        SendError::NotSent(format!("could not connect: {}", describe(&e)))
    } else if e.is_builder() {
        SendError::NotSent(format!("invalid request: {}", describe(&e)))
    } else {
        SendError::MaybeSent(describe(&e))
    }
}

/// The error and its causes, without the URL (which may carry a signed query string).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_request() {
        "request failed"
    } else if e.is_body() || e.is_decode() {
        "body error"
    } else {
        "transport error"
    };
    let mut out = kind.to_owned();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
