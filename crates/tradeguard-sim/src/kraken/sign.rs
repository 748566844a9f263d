//! Verification of Kraken private calls.
//!
//! `API-Sign = base64(HMAC-SHA512(base64decode(secret), uri_path || SHA256(nonce || post_data)))`,
//! `post_data` being the exact body (form or JSON) including the nonce. The nonce must be
//! strictly greater than the last one accepted for the key; it is recorded only once the
//! signature is valid, so a forged request cannot burn nonces.
//!
//! See: https://docs.kraken.com/api/docs/guides/spot-rest-auth ; exchanges.md §2.2.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tradeguard_crypto::ct::ct_eq;
use tradeguard_crypto::digest::sha256_parts;
use tradeguard_crypto::mac::hmac_sha512;

use crate::accounts::{Permissions, Verifier};
use crate::engine::AccountId;
use crate::http::{Req, form_pairs};
use crate::venue::VenueCore;

/// A private call whose key, signature and nonce were checked.
pub(crate) struct Authed {
    pub(crate) api_key: String,
    pub(crate) account: AccountId,
    pub(crate) permissions: Permissions,
}

/// The body's parameters: form pairs, or the top-level fields of a JSON object.
pub(crate) fn body_params(req: &Req) -> Vec<(String, String)> {
    let is_json = req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"));
    if !is_json {
        return form_pairs(req.body_str());
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(&req.body)
    else {
        return Vec::new();
    };
    map.into_iter()
        .map(|(k, v)| {
            let s = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, s)
        })
        .collect()
}

/// The Kraken signature of `body` for `path` under the decoded secret.
pub fn api_sign(secret: &[u8], path: &str, nonce: &str, body: &[u8]) -> [u8; 64] {
    let digest = sha256_parts(&[nonce.as_bytes(), body]);
    let mut msg = path.as_bytes().to_vec();
    msg.extend_from_slice(&digest);
    hmac_sha512(secret, &msg)
}

/// Checks key, signature and nonce, in that order; errors are Kraken's own strings.
pub(crate) fn verify(
    core: &VenueCore,
    nonces: &mut HashMap<String, u64>,
    req: &Req,
    params: &[(String, String)],
) -> Result<Authed, &'static str> {
    let api_key = req
        .header("api-key")
        .filter(|k| !k.is_empty())
        .ok_or("EAPI:Invalid key")?;
    let nonce_str = crate::http::param(params, "nonce").ok_or("EAPI:Invalid nonce")?;
    let nonce: u64 = nonce_str.parse().map_err(|_| "EAPI:Invalid nonce")?;
    let given = req
        .header("api-sign")
        .and_then(|s| STANDARD.decode(s).ok())
        .ok_or("EAPI:Invalid signature")?;
    core.with_keys(|keys| {
        let record = keys.get(api_key).ok_or("EAPI:Invalid key")?;
        if !record.ip_allowed(req.ip()) {
            return Err("EGeneral:Permission denied");
        }
        let Verifier::Hmac(secret) = &record.verifier else {
            return Err("EAPI:Invalid key");
        };
        let expected = api_sign(secret.expose_secret(), &req.path, nonce_str, &req.body);
        if !ct_eq(&given, &expected) {
            return Err("EAPI:Invalid signature");
        }
        let last = nonces.entry(api_key.to_owned()).or_insert(0);
        if nonce <= *last {
            return Err("EAPI:Invalid nonce");
        }
        *last = nonce;
        Ok(Authed {
            api_key: api_key.to_owned(),
            account: record.account,
            permissions: record.permissions,
        })
    })
}
