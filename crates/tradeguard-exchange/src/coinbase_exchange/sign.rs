//! Coinbase Exchange request signing: `CB-ACCESS-SIGN = base64(HMAC-SHA256(
//! base64decode(secret), timestamp || METHOD || requestPath || body))`, with the key, the
//! timestamp and the passphrase in `CB-ACCESS-*` headers.
//!
//! See: <https://docs.cdp.coinbase.com/exchange/rest-api/authentication>; exchanges.md 4.2.
//! The request path includes the query string, as ccxt signs it (exchanges.md 4.2, 4.3).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::credentials::ApiCredential;
use crate::error::ExchangeError;
use crate::model::{ExchangeId, UnixMillis};

/// The `CB-ACCESS-SIGN` value.
pub fn access_sign(
    secret_b64: &str,
    timestamp: &str,
    method: &str,
    request_path: &str,
    body: &str,
) -> Result<String, ExchangeError> {
    let key = Zeroizing::new(STANDARD.decode(secret_b64.trim()).map_err(|_| {
        config(
            "api_secret",
            "the API secret is not base64; copy the whole secret shown when the key was created",
        )
    })?);
    let tag = tradeguard_crypto::mac::hmac_sha256_parts(
        &key,
        &[
            timestamp.as_bytes(),
            method.as_bytes(),
            request_path.as_bytes(),
            body.as_bytes(),
        ],
    );
    Ok(STANDARD.encode(tag))
}

/// The `CB-ACCESS-TIMESTAMP` value: whole seconds since the epoch.
pub fn timestamp(now: UnixMillis) -> String {
    now.as_secs().to_string()
}

/// The four `CB-ACCESS-*` headers for one request.
pub fn headers(
    credential: &ApiCredential,
    now: UnixMillis,
    method: &str,
    request_path: &str,
    body: &str,
) -> Result<Vec<(&'static str, Zeroizing<String>)>, ExchangeError> {
    let passphrase = credential.passphrase.as_ref().ok_or_else(|| {
        config(
            "passphrase",
            "Coinbase Exchange keys need the passphrase chosen when the key was created",
        )
    })?;
    let ts = timestamp(now);
    // Exposed here because this is the signer; the value goes only into the HMAC key.
    let sig = access_sign(
        credential.api_secret.expose_secret(),
        &ts,
        method,
        request_path,
        body,
    )?;
    Ok(vec![
        ("CB-ACCESS-KEY", Zeroizing::new(credential.api_key.clone())),
        ("CB-ACCESS-SIGN", Zeroizing::new(sig)),
        ("CB-ACCESS-TIMESTAMP", Zeroizing::new(ts)),
        // The passphrase is a header by protocol; the copy is wiped when the request is dropped
        // and the transport marks the header sensitive so it never appears in Debug output.
        (
            "CB-ACCESS-PASSPHRASE",
            Zeroizing::new(passphrase.expose_secret().to_owned()),
        ),
    ])
}

fn config(what: &'static str, reason: &str) -> ExchangeError {
    ExchangeError::Config {
        exchange: ExchangeId::CoinbaseExchange,
        what,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeguard_crypto::secret::SecretString;

    #[test]
    fn fail_missing_passphrase_or_bad_secret() {
        let mut cred = ApiCredential {
            api_key: "k".into(),
            api_secret: SecretString::new("eHh4".into()),
            passphrase: None,
        };
        let r = headers(&cred, UnixMillis(0), "GET", "/accounts", "");
        assert!(matches!(
            r,
            Err(ExchangeError::Config {
                what: "passphrase",
                ..
            })
        ));
        cred.passphrase = Some(SecretString::new("p".into()));
        cred.api_secret = SecretString::new("***".into());
        let r = headers(&cred, UnixMillis(0), "GET", "/accounts", "");
        assert!(matches!(
            r,
            Err(ExchangeError::Config {
                what: "api_secret",
                ..
            })
        ));
    }

    #[test]
    fn timestamp_is_whole_seconds() {
        assert_eq!(timestamp(UnixMillis(1_795_386_067_999)), "1795386067");
    }
}
