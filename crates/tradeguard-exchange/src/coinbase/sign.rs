//! Coinbase Advanced Trade authentication: a fresh JWT per request, signed ES256 (EC P-256
//! key, SEC1 or PKCS#8 PEM) or EdDSA (Ed25519 key, base64 of seed‖public or of the seed).
//!
//! Header `{"alg","kid":<key name>,"nonce":<random hex>,"typ":"JWT"}`, claims
//! `{"sub":<key name>,"iss":"cdp","nbf":now,"exp":now+120,"uri":"<METHOD> <host><path>"}`.
//! See: <https://docs.cdp.coinbase.com/get-started/authentication/jwt-authentication> and
//! `coinbase/coinbase-advanced-py` `coinbase/jwt_generator.py`; exchanges.md section 3.2.

use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use tradeguard_crypto::sign::Ed25519SigningKey;
use zeroize::Zeroizing;

use crate::credentials::ApiCredential;
use crate::error::ExchangeError;
use crate::model::{ExchangeId, UnixMillis};
use crate::pem;

/// How long a JWT is valid ("Your JWT expires after 2 minutes").
pub const JWT_LIFETIME: Duration = Duration::from_secs(120);

/// A parsed Coinbase CDP signing key.
pub enum CoinbaseKey {
    /// ECDSA P-256 (`alg: ES256`).
    Es256(EcdsaKeyPair),
    /// Ed25519 (`alg: EdDSA`).
    EdDsa(Ed25519SigningKey),
}

impl CoinbaseKey {
    /// Reads the secret: a PEM block is an EC key, anything else base64 Ed25519 material.
    pub fn parse(secret: &str) -> Result<Self, ExchangeError> {
        if pem::is_pem(secret) {
            let (label, der) =
                pem::decode(secret).ok_or_else(|| config("not a readable PEM block"))?;
            if label != "EC PRIVATE KEY" && label != "PRIVATE KEY" {
                return Err(config("expected an `EC PRIVATE KEY` PEM (ECDSA P-256 key)"));
            }
            return EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                .map(CoinbaseKey::Es256)
                .map_err(|_| config("the PEM is not an EC P-256 private key"));
        }
        let raw = Zeroizing::new(
            STANDARD
                .decode(secret.trim())
                .map_err(|_| config("an Ed25519 secret must be base64"))?,
        );
        let key = match raw.len() {
            32 | 64 => Ed25519SigningKey::from_seed(&raw[..32])
                .map_err(|_| config("the Ed25519 seed was refused"))?,
            _ => return Err(config("an Ed25519 secret must decode to 32 or 64 bytes")),
        };
        if raw.len() == 64 && key.verifying_key().as_bytes()[..] != raw[32..] {
            return Err(config(
                "the Ed25519 secret's public half does not match its seed; copy the whole key",
            ));
        }
        Ok(CoinbaseKey::EdDsa(key))
    }

    /// The JWS `alg` name.
    pub fn alg(&self) -> &'static str {
        match self {
            CoinbaseKey::Es256(_) => "ES256",
            CoinbaseKey::EdDsa(_) => "EdDSA",
        }
    }

    /// Signs `msg`: ES256 as the 64-byte `r‖s` JWS form, EdDSA as the 64-byte signature.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ExchangeError> {
        match self {
            CoinbaseKey::Es256(k) => k
                .sign(&SystemRandom::new(), msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| config("ECDSA signing failed")),
            CoinbaseKey::EdDsa(k) => Ok(k.sign(msg).to_vec()),
        }
    }
}

/// The `uri` claim: `"<METHOD> <host[:port]><path>"`, no scheme and no query string.
pub fn jwt_uri(method: &str, url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{method} {host}:{p}{}", url.path()),
        None => format!("{method} {host}{}", url.path()),
    }
}

/// Builds and signs a JWT for one request. `nonce` is random hex, fresh per token.
pub fn build_jwt(
    key_name: &str,
    key: &CoinbaseKey,
    uri: &str,
    now: UnixMillis,
    nonce: &str,
) -> Result<String, ExchangeError> {
    let header = serde_json::json!({
        "alg": key.alg(), "kid": key_name, "nonce": nonce, "typ": "JWT",
    });
    let nbf = now.as_secs();
    let exp = nbf + JWT_LIFETIME.as_secs() as i64;
    // Keys in sorted order, so the bytes are the same with or without serde_json's
    // `preserve_order` feature.
    let claims = serde_json::json!({
        "exp": exp, "iss": "cdp", "nbf": nbf, "sub": key_name, "uri": uri,
    });
    let mut token = URL_SAFE_NO_PAD.encode(header.to_string());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
    let sig = key.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(sig));
    Ok(token)
}

/// The `Authorization` header value (`Bearer <jwt>`) for `method url` with `credential`.
pub fn bearer(
    credential: &ApiCredential,
    method: &str,
    url: &url::Url,
    now: UnixMillis,
) -> Result<String, ExchangeError> {
    // Exposed here because this is the signer: the key is parsed, used once and dropped.
    let key = CoinbaseKey::parse(credential.api_secret.expose_secret())?;
    let nonce = tradeguard_crypto::random::array::<32>()
        .map_err(|_| config("the system random number generator failed"))?;
    let jwt = build_jwt(
        &credential.api_key,
        &key,
        &jwt_uri(method, url),
        now,
        &hex::encode(nonce),
    )?;
    Ok(format!("Bearer {jwt}"))
}

fn config(reason: &str) -> ExchangeError {
    ExchangeError::Config {
        exchange: ExchangeId::Coinbase,
        what: "api_secret",
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_claim_has_no_scheme_and_no_query() {
        let cases = [
            (
                "https://api.coinbase.com/api/v3/brokerage/accounts?limit=5",
                "GET api.coinbase.com/api/v3/brokerage/accounts",
            ),
            (
                "http://127.0.0.1:7702/api/v3/brokerage/orders",
                "GET 127.0.0.1:7702/api/v3/brokerage/orders",
            ),
        ];
        for (i, (u, want)) in cases.iter().enumerate() {
            assert_eq!(
                jwt_uri("GET", &url::Url::parse(u).unwrap()),
                *want,
                "TC{i} failed"
            );
        }
    }

    #[test]
    fn fail_bad_secrets() {
        let cases = [
            "not base64 !",
            "AAEC",
            "-----BEGIN RSA PRIVATE KEY-----\nAAEC\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN EC PRIVATE KEY-----\nAAEC\n-----END EC PRIVATE KEY-----",
        ];
        for (i, s) in cases.iter().enumerate() {
            assert!(CoinbaseKey::parse(s).is_err(), "TC{i} failed");
        }
        // 64 bytes whose second half is not the seed's public key.
        let bad = STANDARD.encode([7u8; 64]);
        assert!(
            CoinbaseKey::parse(&bad).is_err(),
            "mismatched public half accepted"
        );
    }
}
