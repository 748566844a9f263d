//! Binance request signing: HMAC-SHA256 (hex) or Ed25519 (base64) over the query string
//! followed by the body.
//!
//! See: <https://developers.binance.com/docs/binance-spot-api-docs/rest-api> ("Request
//! Security", "SIGNED Endpoint Examples"); exchanges.md section 1.2.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tradeguard_crypto::sign::Ed25519SigningKey;

use crate::credentials::ApiCredential;
use crate::error::ExchangeError;
use crate::model::ExchangeId;
use crate::pem;

/// Which kind of Binance API key a credential holds, read from the secret's form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinanceKeyKind {
    /// An HMAC secret key (a 64-character string, used as raw ASCII bytes).
    Hmac,
    /// An Ed25519 private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    Ed25519,
}

impl BinanceKeyKind {
    /// Reads the kind from the secret: PEM means Ed25519, anything else HMAC.
    pub fn of_secret(secret: &str) -> Self {
        if pem::is_pem(secret) {
            BinanceKeyKind::Ed25519
        } else {
            BinanceKeyKind::Hmac
        }
    }
}

/// Percent-encodes `params` as `k=v&k=v` in the given order: the REST signature payload.
/// Non-ASCII characters become upper-case `%XX` escapes, as Binance requires before signing.
pub fn encode_params(params: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.extend(url::form_urlencoded::byte_serialize(k.as_bytes()));
        out.push('=');
        out.extend(url::form_urlencoded::byte_serialize(v.as_bytes()));
    }
    out
}

/// HMAC-SHA256 of `payload` keyed with the secret's ASCII bytes, as lower-case hex.
pub fn hmac_signature(secret: &str, payload: &str) -> String {
    hex::encode(tradeguard_crypto::mac::hmac_sha256(
        secret.as_bytes(),
        payload.as_bytes(),
    ))
}

/// Ed25519 signature of `payload`, standard base64 (percent-encode it when sending).
pub fn ed25519_signature(key: &Ed25519SigningKey, payload: &str) -> String {
    STANDARD.encode(key.sign(payload.as_bytes()))
}

/// Reads an Ed25519 PKCS#8 PEM private key. RSA and other keys are refused with a remedy.
pub fn ed25519_key(secret_pem: &str) -> Result<Ed25519SigningKey, ExchangeError> {
    let (label, der) = pem::decode(secret_pem).ok_or_else(|| config("not a readable PEM block"))?;
    if label != "PRIVATE KEY" {
        return Err(config(
            "expected an Ed25519 `PRIVATE KEY` PEM; RSA keys are not supported, create an Ed25519 API key",
        ));
    }
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----",
        zeroize::Zeroizing::new(STANDARD.encode(der.as_slice())).as_str()
    );
    let pem = zeroize::Zeroizing::new(pem);
    Ed25519SigningKey::from_pkcs8_pem(&pem).map_err(|_| {
        config("the PEM is not a PKCS#8 Ed25519 key; RSA keys are not supported, create an Ed25519 API key")
    })
}

/// Signs `payload` with `credential`, choosing HMAC or Ed25519 from the secret's form.
/// Returns the value of the `signature` parameter before percent-encoding.
pub fn sign(credential: &ApiCredential, payload: &str) -> Result<String, ExchangeError> {
    let secret = credential.api_secret.expose_secret(); // needed: this is the signer
    match BinanceKeyKind::of_secret(secret) {
        BinanceKeyKind::Hmac => {
            if secret.is_empty() {
                return Err(config("the HMAC secret is empty"));
            }
            Ok(hmac_signature(secret, payload))
        }
        BinanceKeyKind::Ed25519 => Ok(ed25519_signature(&ed25519_key(secret)?, payload)),
    }
}

fn config(reason: &str) -> ExchangeError {
    ExchangeError::Config {
        exchange: ExchangeId::Binance,
        what: "api_secret",
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::InMemorySecretSource;
    use crate::credentials::with_credential;

    #[test]
    fn key_kind_follows_the_secret_form() {
        assert_eq!(BinanceKeyKind::of_secret("NhqPtmdS"), BinanceKeyKind::Hmac);
        assert_eq!(
            BinanceKeyKind::of_secret("-----BEGIN PRIVATE KEY-----\n"),
            BinanceKeyKind::Ed25519
        );
    }

    #[test]
    fn ed25519_pem_round_trip_signs_verifiably() {
        let key = Ed25519SigningKey::generate().unwrap();
        let pem = key.to_pkcs8_pem();
        let src = InMemorySecretSource::from_parts("k", pem.expose_secret(), None);
        let sig = with_credential(ExchangeId::Binance, &src, "t", |c| sign(c, "a=1")).unwrap();
        let raw = STANDARD.decode(sig).unwrap();
        key.verifying_key().verify(b"a=1", &raw).unwrap();
    }

    #[test]
    fn fail_rsa_or_garbage_pem() {
        let cases = [
            "-----BEGIN RSA PRIVATE KEY-----\nAAEC\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nAAEC\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\n",
        ];
        for (i, pem) in cases.iter().enumerate() {
            let src = InMemorySecretSource::from_parts("k", pem, None);
            let r = with_credential(ExchangeId::Binance, &src, "t", |c| sign(c, "a=1"));
            assert!(
                matches!(r, Err(ExchangeError::Config { .. })),
                "TC{i} failed: {r:?}"
            );
        }
    }
}
