//! How API credentials reach a signer: only through [`SecretSource`], one call at a time.
//!
//! The vault implements [`SecretSource`]: it unseals the credential, lends it to the closure
//! for the duration of one signing call, and wipes it afterwards. Connectors never store a
//! secret in their own fields. [`InMemorySecretSource`] serves tests and the simulator demo.

use std::fmt;

use tradeguard_crypto::secret::SecretString;

use crate::error::ExchangeError;
use crate::model::ExchangeId;

/// One exchange API credential. The secret parts are zeroized on drop and never printed.
#[derive(Clone)]
pub struct ApiCredential {
    /// The public key id (`X-MBX-APIKEY`, Kraken `API-Key`, Coinbase key name).
    pub api_key: String,
    /// The secret: an HMAC secret, a base64 key, or a PEM private key, depending on the exchange.
    pub api_secret: SecretString,
    /// Coinbase Exchange's passphrase; `None` elsewhere.
    pub passphrase: Option<SecretString>,
}

impl fmt::Debug for ApiCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.api_key.chars().take(4).collect();
        f.debug_struct("ApiCredential")
            .field("api_key", &format_args!("{shown}…"))
            .field("api_secret", &"[REDACTED]")
            .field(
                "passphrase",
                &self.passphrase.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

/// A source of one credential, lent to a closure for one call.
///
/// `purpose` says why the secret is needed (`"binance POST /api/v3/order"`), so the vault can
/// audit or refuse it. Implementations must not keep copies of what they lend.
pub trait SecretSource: Send + Sync {
    /// Calls `f` with the credential. Errors from `f` are returned unchanged; a source that
    /// cannot provide the credential (vault sealed, credential removed) returns
    /// [`ExchangeError::Config`] naming the credential, never its value.
    fn with_secret(
        &self,
        purpose: &str,
        f: &mut dyn FnMut(&ApiCredential) -> Result<(), ExchangeError>,
    ) -> Result<(), ExchangeError>;
}

/// Borrows the credential from `source` for one computation that returns a value.
pub fn with_credential<T>(
    exchange: ExchangeId,
    source: &dyn SecretSource,
    purpose: &str,
    f: impl FnOnce(&ApiCredential) -> Result<T, ExchangeError>,
) -> Result<T, ExchangeError> {
    let mut f = Some(f);
    let mut out = None;
    source.with_secret(purpose, &mut |cred| {
        if let Some(f) = f.take() {
            out = Some(f(cred)?);
        }
        Ok(())
    })?;
    out.ok_or_else(|| ExchangeError::Config {
        exchange,
        what: "secret source",
        reason: format!("the secret source did not call the signer for `{purpose}`"),
    })
}

/// A credential held in memory, for tests and the simulator demo. Production code uses the
/// vault's implementation.
#[derive(Clone, Debug)]
pub struct InMemorySecretSource {
    credential: ApiCredential,
}

impl InMemorySecretSource {
    /// Holds `credential` for the lifetime of this value.
    pub fn new(credential: ApiCredential) -> Self {
        Self { credential }
    }

    /// Convenience: key and secret, no passphrase.
    pub fn from_parts(api_key: &str, api_secret: &str, passphrase: Option<&str>) -> Self {
        Self::new(ApiCredential {
            api_key: api_key.to_owned(),
            api_secret: SecretString::new(api_secret.to_owned()),
            passphrase: passphrase.map(|p| SecretString::new(p.to_owned())),
        })
    }
}

impl SecretSource for InMemorySecretSource {
    fn with_secret(
        &self,
        _purpose: &str,
        f: &mut dyn FnMut(&ApiCredential) -> Result<(), ExchangeError>,
    ) -> Result<(), ExchangeError> {
        f(&self.credential)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secret_and_passphrase() {
        let src = InMemorySecretSource::from_parts(
            "vmPUZE6mv9SD5VNHk4",
            "canary-secret-77",
            Some("canary-pass-88"),
        );
        let printed = format!("{src:?}");
        assert!(!printed.contains("canary"), "{printed}");
        assert!(!printed.contains("vmPUZE6mv9"), "{printed}");
        assert!(printed.contains("REDACTED"));
    }

    #[test]
    fn with_credential_returns_the_closure_value() {
        let src = InMemorySecretSource::from_parts("k", "s3cret", None);
        let n =
            with_credential(ExchangeId::Kraken, &src, "test", |c| Ok(c.api_secret.len())).unwrap();
        assert_eq!(n, 6);
    }
}
