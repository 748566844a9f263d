//! Where and how the client connects: the gateway URL, the certificate it trusts, and the rule
//! that plain HTTP is only for loopback.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use url::{Host, Url};

use crate::ClientError;

/// Which certificates the client accepts from the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trust {
    /// Only this certificate (PEM): the gateway's self-signed certificate from `init`, or the
    /// CA that issued its certificate. No platform root is trusted besides it.
    Pinned(Vec<u8>),
    /// The platform's trust store, for a gateway with a publicly issued certificate.
    PlatformRoots,
}

impl Trust {
    /// [`Trust::Pinned`] to the PEM certificate in `path`.
    pub fn pinned_file(path: &Path) -> Result<Self, ClientError> {
        let pem = std::fs::read(path).map_err(|e| {
            ClientError::Config(format!(
                "gateway certificate {}: {e}; pass the certificate the gateway serves (PEM)",
                path.display()
            ))
        })?;
        Ok(Self::Pinned(pem))
    }
}

/// How to reach the gateway.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Base URL, `https://host:port` (or `http://127.0.0.1:port` for loopback only).
    pub url: String,
    /// Which certificates to accept (ignored for plain HTTP on loopback).
    pub trust: Trust,
    /// Limit for the whole call.
    pub timeout: Duration,
    /// Limit for connecting.
    pub connect_timeout: Duration,
}

impl ClientConfig {
    /// A configuration for `url` trusting `trust`, with 30 s / 10 s time limits.
    pub fn new(url: impl Into<String>, trust: Trust) -> Self {
        Self {
            url: url.into(),
            trust,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The parsed base URL and the `@authority` it signs.
pub(crate) struct Endpoint {
    pub(crate) base: Url,
    pub(crate) authority: String,
}

/// Checks the URL: http(s), a host, no credentials, query or fragment, plain HTTP only to a
/// loopback host.
pub(crate) fn endpoint(url: &str) -> Result<Endpoint, ClientError> {
    let base = Url::parse(url).map_err(|e| {
        ClientError::Config(format!("gateway URL: {e}; expected https://host:port"))
    })?;
    let bad =
        |what: &str| ClientError::Config(format!("gateway URL {what}; expected https://host:port"));
    if !base.username().is_empty() || base.password().is_some() {
        return Err(bad("must not carry credentials"));
    }
    if base.query().is_some() || base.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    if !matches!(base.path(), "" | "/") {
        return Err(bad("must not have a path"));
    }
    let host = base.host().ok_or_else(|| bad("has no host"))?;
    match base.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(ClientError::Config(format!(
                "plain http is allowed only to a loopback address (127.0.0.1, ::1, localhost), \
                 not {host}; use https"
            )));
        }
        other => return Err(bad(&format!("has scheme `{other}`"))),
    }
    let authority = match base.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    Ok(Endpoint { base, authority })
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
    }
}

/// The HTTP client: no redirects (a redirected request would lose its signature's meaning),
/// no proxies from the environment, certificates per `trust`.
pub(crate) fn http_client(config: &ClientConfig) -> Result<reqwest::Client, ClientError> {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(config.timeout)
        .connect_timeout(config.connect_timeout)
        .user_agent(concat!("tradeguard-client/", env!("CARGO_PKG_VERSION")));
    if let Trust::Pinned(pem) = &config.trust {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| ClientError::Config(format!("gateway certificate is not PEM ({e})")))?;
        if certs.is_empty() {
            return Err(ClientError::Config(
                "gateway certificate file holds no certificate".into(),
            ));
        }
        b = b.tls_certs_only(certs);
    }
    b.build()
        .map_err(|e| ClientError::Config(format!("cannot set up the HTTP client: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let cases: [(&str, Result<&str, &str>); 11] = [
            ("https://gw.example:8443", Ok("gw.example:8443")),
            ("https://GW.example", Ok("gw.example")),
            ("https://gw.example:443/", Ok("gw.example")),
            ("http://127.0.0.1:8443", Ok("127.0.0.1:8443")),
            ("http://[::1]:8443", Ok("[::1]:8443")),
            ("http://localhost:8443", Ok("localhost:8443")),
            ("http://10.0.0.5:8443", Err("loopback")),
            ("http://gw.example", Err("loopback")),
            ("https://u:p@gw.example", Err("credentials")),
            ("https://gw.example/api", Err("path")),
            ("ftp://gw.example", Err("scheme")),
        ];
        for (i, (url, want)) in cases.iter().enumerate() {
            match (want, endpoint(url)) {
                (Ok(a), Ok(e)) => assert_eq!(e.authority, *a, "TC{i} failed"),
                (Err(s), Err(e)) => assert!(e.to_string().contains(s), "TC{i} failed: {e}"),
                (w, g) => panic!("TC{i} failed: want {w:?}, got {:?}", g.map(|e| e.authority)),
            }
        }
    }
}
