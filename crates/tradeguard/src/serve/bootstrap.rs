//! First-start chores: the TLS certificate (the operator's, or a self-signed one kept in the
//! data dir) and the single-controller policy (the controller key `init` wrote becomes the
//! only principal, with `trade`, `read` and `halt`, when no principal exists yet).

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use tradeguard_crypto::did::encode_ed25519_did;
use tradeguard_crypto::secret::SecretString;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_gateway::principal::{Directory, PrincipalRecord};
use tradeguard_gateway::scope::{Scope, ScopeSet};
use tradeguard_gateway::tls::{self, Transport};
use tradeguard_store::Store;

use super::config::ServerSection;

/// The self-signed certificate's files inside a data dir.
pub const TLS_DIR: &str = "tls";
/// Certificate (PEM).
pub const TLS_CERT: &str = "cert.pem";
/// Private key (PKCS#8 PEM, mode 0600).
pub const TLS_KEY: &str = "key.pem";

/// How the server will talk, and a line describing it.
pub struct Listener {
    /// TLS or plain HTTP.
    pub transport: Transport,
    /// `https` or `http`.
    pub scheme: &'static str,
    /// The certificate clients should pin, when it is the data dir's own.
    pub cert: Option<PathBuf>,
}

/// The transport for `server`: plain HTTP when asked (loopback only), the configured
/// certificate, or the data dir's self-signed one (made on first start when `init` did not).
pub async fn listener(
    server: &ServerSection,
    dir: &Path,
    listen: SocketAddr,
) -> anyhow::Result<Listener> {
    if server.dangerous_plain_http {
        anyhow::ensure!(
            listen.ip().is_loopback(),
            "dangerous_plain_http serves plain HTTP on loopback only, not {listen}; use TLS"
        );
        return Ok(Listener {
            transport: Transport::DangerousPlainHttp,
            scheme: "http",
            cert: None,
        });
    }
    let (cert, key, own) = match (&server.tls_cert, &server.tls_key) {
        (Some(c), Some(k)) => (c.clone(), k.clone(), false),
        _ => {
            let d = dir.join(TLS_DIR);
            let (c, k) = (d.join(TLS_CERT), d.join(TLS_KEY));
            if !c.is_file() || !k.is_file() {
                make_self_signed(&d, &c, &k, listen)?;
            }
            (c, k, true)
        }
    };
    let config = tls::load_pem_files(&cert, &key).await?;
    Ok(Listener {
        transport: Transport::Tls(config),
        scheme: "https",
        cert: own.then_some(cert),
    })
}

fn make_self_signed(d: &Path, cert: &Path, key: &Path, listen: SocketAddr) -> anyhow::Result<()> {
    let mut hosts = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !listen.ip().is_unspecified() && !listen.ip().is_loopback() {
        hosts.push(listen.ip().to_string());
    }
    let made = tls::self_signed(&hosts)?;
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(d)
        .with_context(|| format!("cannot create {}", d.display()))?;
    write_file(key, made.key_pem.expose_secret().as_bytes(), 0o600)?;
    write_file(cert, made.cert_pem.as_bytes(), 0o644)?;
    tracing::info!(cert = %cert.display(), "made a self-signed TLS certificate; clients pin it");
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The `did:key` of the controller key file `init` wrote (its private half is read only to
/// derive the public key, and wiped).
pub fn controller_did(path: &Path) -> anyhow::Result<String> {
    let pem = SecretString::new(
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    let key = Ed25519SigningKey::from_pkcs8_pem(pem.expose_secret())
        .with_context(|| format!("{} is not an Ed25519 PKCS#8 key", path.display()))?;
    Ok(encode_ed25519_did(&key.verifying_key()))
}

/// Registers the controller (`trade`, `read`, `halt`) when the store has no principal yet.
/// Returns its `did:key` when it did.
pub async fn controller(store: &Store, dir: &Path, now_ms: i64) -> anyhow::Result<Option<String>> {
    let directory = Directory::load(store.clone()).await?;
    if !directory.list().is_empty() {
        return Ok(None);
    }
    let path = dir.join(crate::cmd::datadir::CONTROLLER_KEY_FILE);
    if !path.is_file() {
        tracing::warn!(path = %path.display(), "no principal and no controller key: nobody can use this gateway");
        return Ok(None);
    }
    let did = controller_did(&path)?;
    let scopes = ScopeSet::of(&[Scope::Trade, Scope::Read, Scope::Halt]);
    let record = PrincipalRecord::ed25519(&did, scopes, "controller")?;
    directory.put(&record, now_ms).await?;
    Ok(Some(did))
}
