//! Serving: TLS with rustls (a real certificate via `--tls-cert/--tls-key`, or the
//! self-signed one `init` makes with [`self_signed`]), or plain HTTP on loopback only,
//! behind [`Transport::DangerousPlainHttp`].

use std::net::SocketAddr;
use std::path::Path;

use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use tradeguard_crypto::secret::SecretString;

/// Handle to stop a running server (graceful shutdown) or learn its bound address.
pub type Handle = axum_server::Handle<SocketAddr>;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// Plain HTTP was asked for on a non-loopback address.
    #[error("plain HTTP is allowed only on a loopback address (127.0.0.1 or ::1); use TLS for {0}")]
    PlainHttpNotLoopback(SocketAddr),
    /// The certificate could not be made or loaded.
    #[error("TLS certificate: {0}; check the --tls-cert/--tls-key files (PEM)")]
    Certificate(String),
    /// Binding or serving failed.
    #[error("server on {addr}: {reason}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// What failed.
        reason: String,
    },
}

/// A freshly generated self-signed certificate and its private key (PEM).
pub struct SelfSigned {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key, PKCS#8 PEM (secret).
    pub key_pem: SecretString,
}

impl std::fmt::Debug for SelfSigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelfSigned").finish_non_exhaustive()
    }
}

/// Generates a self-signed certificate (ECDSA P-256) for `hosts` (DNS names or IPs).
pub fn self_signed(hosts: &[String]) -> Result<SelfSigned, TlsError> {
    let ck = rcgen::generate_simple_self_signed(hosts.to_vec())
        .map_err(|e| TlsError::Certificate(e.to_string()))?;
    Ok(SelfSigned {
        cert_pem: ck.cert.pem(),
        key_pem: SecretString::new(ck.signing_key.serialize_pem()),
    })
}

impl SelfSigned {
    /// The rustls configuration serving this certificate.
    pub async fn config(&self) -> Result<RustlsConfig, TlsError> {
        let key = self.key_pem.expose_secret().as_bytes().to_vec(); // handed to rustls only
        RustlsConfig::from_pem(self.cert_pem.clone().into_bytes(), key)
            .await
            .map_err(|e| TlsError::Certificate(e.to_string()))
    }
}

/// Loads a certificate chain and key from PEM files.
pub async fn load_pem_files(cert: &Path, key: &Path) -> Result<RustlsConfig, TlsError> {
    RustlsConfig::from_pem_file(cert, key)
        .await
        .map_err(|e| TlsError::Certificate(e.to_string()))
}

/// How the server talks to clients.
pub enum Transport {
    /// TLS (rustls, aws-lc-rs provider).
    Tls(RustlsConfig),
    /// Unencrypted HTTP: refused unless the address is loopback.
    DangerousPlainHttp,
}

/// Serves `app` on `addr` until `handle` shuts it down. The peer address reaches handlers
/// (lockouts per address) through `ConnectInfo`.
pub async fn serve(
    app: Router,
    addr: SocketAddr,
    transport: Transport,
    handle: Handle,
) -> Result<(), TlsError> {
    let svc = app.into_make_service_with_connect_info::<SocketAddr>();
    let io = |e: std::io::Error| TlsError::Io {
        addr,
        reason: e.to_string(),
    };
    match transport {
        Transport::Tls(config) => axum_server::bind_rustls(addr, config)
            .handle(handle)
            .serve(svc)
            .await
            .map_err(io),
        Transport::DangerousPlainHttp => {
            if !addr.ip().is_loopback() {
                return Err(TlsError::PlainHttpNotLoopback(addr));
            }
            tracing::warn!(%addr, "serving plain HTTP on loopback (dangerous_plain_http)");
            axum_server::bind(addr)
                .handle(handle)
                .serve(svc)
                .await
                .map_err(io)
        }
    }
}
