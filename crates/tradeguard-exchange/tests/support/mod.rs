//! A loopback HTTP server for connector tests: it records every request exactly as received
//! (method, URI, headers, body bytes) and answers what the test's responder says.

#![allow(dead_code)]

pub mod sim;
pub mod vclock;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tradeguard_exchange::model::{AccountId, ExchangeId, UnixMillis};
use tradeguard_exchange::{ConnectorConfig, ConnectorHub, ManualClock};

/// A fixed test time: 2026-11-22T22:21:07Z (1795386067000 ms).
pub const T0: UnixMillis = UnixMillis(1_795_386_067_000);

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Captured {
    pub method: String,
    /// Path and query as sent (absolute form when it came through a proxy).
    pub uri: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Captured {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// What to answer.
#[derive(Clone, Debug)]
pub struct Stub {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Stub {
    pub fn json(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn delayed(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

type Responder = Box<dyn Fn(&Captured, usize) -> Stub + Send + Sync>;

struct Inner {
    seen: Mutex<Vec<Captured>>,
    responder: Responder,
}

/// The server; it stops when the test's runtime ends.
#[derive(Clone)]
pub struct Capture {
    pub base: url::Url,
    inner: Arc<Inner>,
}

impl Capture {
    pub async fn start(
        responder: impl Fn(&Captured, usize) -> Stub + Send + Sync + 'static,
    ) -> Self {
        let inner = Arc::new(Inner {
            seen: Mutex::new(Vec::new()),
            responder: Box::new(responder),
        });
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Self {
            base: url::Url::parse(&format!("http://{addr}")).unwrap(),
            inner,
        }
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.inner.seen.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.inner.seen.lock().unwrap().len()
    }
}

async fn handle(State(inner): State<Arc<Inner>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap().to_vec();
    let captured = Captured {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    };
    let stub = {
        let mut seen = inner.seen.lock().unwrap();
        let n = seen.len();
        seen.push(captured.clone());
        (inner.responder)(&captured, n)
    };
    if !stub.delay.is_zero() {
        tokio::time::sleep(stub.delay).await;
    }
    let mut resp = Response::builder().status(StatusCode::from_u16(stub.status).unwrap());
    for (k, v) in &stub.headers {
        resp = resp.header(*k, v);
    }
    resp.header("content-type", "application/json")
        .body(Body::from(stub.body))
        .unwrap()
}

/// A server that accepts each connection, reads the request, and closes without answering.
pub async fn dropping_server() -> (url::Url, Arc<Mutex<usize>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(Mutex::new(0usize));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            use tokio::io::AsyncReadExt;
            let mut buf = vec![0u8; 65536];
            let _ = sock.read(&mut buf).await;
            *c.lock().unwrap() += 1;
            drop(sock);
        }
    });
    (url::Url::parse(&format!("http://{addr}")).unwrap(), count)
}

/// A loopback URL nobody listens on.
pub async fn closed_port() -> url::Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    url::Url::parse(&format!("http://{addr}")).unwrap()
}

/// A config for `exchange` against `base`, short timeouts, fast retries.
pub fn config(exchange: ExchangeId, base: &url::Url) -> ConnectorConfig {
    let mut c = ConnectorConfig::new(exchange, AccountId::parse("test-account").unwrap())
        .with_base_url(base.clone());
    c.timeout = Duration::from_millis(500);
    c.connect_timeout = Duration::from_millis(500);
    c
}

/// A hub on a manual clock reading [`T0`].
pub fn hub() -> (Arc<ManualClock>, ConnectorHub) {
    let clock = Arc::new(ManualClock::new(T0));
    (clock.clone(), ConnectorHub::new(clock))
}
