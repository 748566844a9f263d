//! The principal key a client signs with, and the `keyid` the gateway knows it by.

use std::path::Path;

use tradeguard_crypto::secret::{SecretBytes, SecretString};
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_httpsig::SigningKey;

use crate::ClientError;

/// A principal's signing key. `Debug` shows the key id, never the key.
pub enum PrincipalKey {
    /// An Ed25519 key; its `keyid` is its `did:key`.
    Ed25519 {
        /// The private key.
        key: Ed25519SigningKey,
        /// `did:key:z6Mk...`.
        did: String,
    },
    /// A shared HMAC-SHA256 key registered under `keyid`.
    HmacSha256 {
        /// The key id the gateway knows.
        keyid: String,
        /// The shared secret.
        secret: SecretBytes,
    },
}

impl PrincipalKey {
    /// An Ed25519 principal.
    pub fn ed25519(key: Ed25519SigningKey) -> Self {
        let did = tradeguard_crypto::did::encode_ed25519_did(&key.verifying_key());
        Self::Ed25519 { key, did }
    }

    /// A shared-key principal.
    pub fn hmac_sha256(keyid: impl Into<String>, secret: SecretBytes) -> Self {
        Self::HmacSha256 {
            keyid: keyid.into(),
            secret,
        }
    }

    /// Reads an Ed25519 PKCS#8 PEM file, as `tradeguard init` writes `<data dir>/controller.key`.
    /// On Unix the file must not be readable by group or others (like ssh, the client refuses
    /// a key others could have copied).
    pub fn load_pem_file(path: &Path) -> Result<Self, ClientError> {
        let err = |reason: String| ClientError::Key {
            path: path.to_owned(),
            reason,
        };
        check_private(path).map_err(err)?;
        let pem = std::fs::read_to_string(path)
            .map(SecretString::new)
            .map_err(|e| {
                err(format!(
                    "cannot read it ({e}); pass --key or set TRADEGUARD_KEY"
                ))
            })?;
        let key = Ed25519SigningKey::from_pkcs8_pem(pem.expose_secret()).map_err(|e| {
            err(format!(
                "{e}; expected the Ed25519 PKCS#8 PEM `tradeguard init` writes"
            ))
        })?;
        Ok(Self::ed25519(key))
    }

    /// The `keyid` signatures carry: the `did:key` or the HMAC key id.
    pub fn keyid(&self) -> &str {
        match self {
            Self::Ed25519 { did, .. } => did,
            Self::HmacSha256 { keyid, .. } => keyid,
        }
    }

    /// The key in the form `tradeguard-httpsig` signs with.
    pub fn signing_key(&self) -> SigningKey<'_> {
        match self {
            Self::Ed25519 { key, .. } => SigningKey::Ed25519(key),
            Self::HmacSha256 { secret, .. } => SigningKey::HmacSha256(secret),
        }
    }
}

impl std::fmt::Debug for PrincipalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let alg = self.signing_key().algorithm();
        write!(f, "PrincipalKey({alg}, {})", self.keyid())
    }
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read it ({e}); pass --key or set TRADEGUARD_KEY"))?;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "is readable by others (mode {:o}); run `chmod 600` on it, and replace the key if \
             others could have read it",
            mode & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_key(mode: u32) -> (tempfile::TempDir, std::path::PathBuf, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("controller.key");
        let key = Ed25519SigningKey::generate().unwrap();
        std::fs::write(&path, key.to_pkcs8_pem().expose_secret()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let did = tradeguard_crypto::did::encode_ed25519_did(&key.verifying_key());
        (dir, path, did)
    }

    #[test]
    fn loads_the_init_key_and_names_its_did() {
        let (_dir, path, did) = write_key(0o600);
        let key = PrincipalKey::load_pem_file(&path).unwrap();
        assert_eq!(key.keyid(), did);
        assert!(format!("{key:?}").contains(&did));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_key_others_can_read() {
        let (_dir, path, _) = write_key(0o644);
        let err = PrincipalKey::load_pem_file(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn refuses_what_is_not_a_key_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let err = PrincipalKey::load_pem_file(&path).unwrap_err().to_string();
        assert!(err.contains("PKCS#8") && !err.contains("c2VjcmV0"), "{err}");
    }
}
