//! Verification of Coinbase Advanced Trade JWTs (CDP keys), one per request.
//!
//! `Authorization: Bearer <JWT>`; header `{alg: ES256|EdDSA, kid: <key name>, nonce, typ}`;
//! claims `{sub: <key name>, iss, nbf, exp, uri: "<METHOD> <host><path>"}` (or `uris: [..]`).
//! The signature must verify under the key named by `kid` with the algorithm of that key; the
//! token must be current (`nbf <= now < exp`) and live at most 2 minutes (`exp - nbf <= 120`);
//! `uri` must name this request's method and path (no query) on this host or api.coinbase.com,
//! with or without a scheme (ccxt sends `http://` against a loopback base); a token is accepted
//! once ("generate a different JWT for each unique API request").
//!
//! See: https://docs.cdp.coinbase.com/get-started/authentication/jwt-authentication ;
//! exchanges.md §3.2.

use std::collections::HashMap;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde_json::Value;
use tradeguard_crypto::digest::sha256;

use crate::accounts::{Permissions, Verifier};
use crate::engine::AccountId;
use crate::http::Req;
use crate::venue::VenueCore;

/// Longest accepted JWT lifetime (`exp - nbf`), in seconds.
pub const MAX_LIFETIME_S: u64 = 120;

/// A request whose JWT was checked.
pub(crate) struct Authed {
    pub(crate) key: String,
    pub(crate) account: AccountId,
    pub(crate) permissions: Permissions,
}

/// Tokens already used, by SHA-256 of the token, with their expiry (ms).
#[derive(Default)]
pub(crate) struct SeenTokens(HashMap<[u8; 32], u64>);

impl SeenTokens {
    fn first_use(&mut self, token: &str, exp_ms: u64, now: u64) -> bool {
        if self.0.len() > 10_000 {
            self.0.retain(|_, exp| *exp > now);
        }
        self.0.insert(sha256(token.as_bytes()), exp_ms).is_none()
    }
}

fn b64json(part: &str) -> Option<Value> {
    serde_json::from_slice(&tradeguard_crypto::b64::decode(part).ok()?).ok()
}

/// Checks the bearer JWT; the error is the reason, for `error_details`.
pub(crate) fn verify(
    core: &VenueCore,
    seen: &mut SeenTokens,
    req: &Req,
) -> Result<Authed, &'static str> {
    let token = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or("missing bearer token")?;
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("malformed JWT");
    };
    let header = b64json(h).ok_or("malformed JWT header")?;
    let claims = b64json(p).ok_or("malformed JWT claims")?;
    let sig = tradeguard_crypto::b64::decode(s).map_err(|_| "malformed JWT signature")?;
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or("JWT header has no kid")?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let signing_input = &token[..h.len() + 1 + p.len()];
    let now = core.now_ms();
    let authed = core.with_keys(|keys| {
        let record = keys.get(kid).ok_or("unknown API key")?;
        let ok = match (&record.verifier, alg) {
            (Verifier::EcP256(pk), "ES256") => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, pk)
                .verify(signing_input.as_bytes(), &sig)
                .is_ok(),
            (Verifier::Ed25519(pk), "EdDSA") => pk.verify(signing_input.as_bytes(), &sig).is_ok(),
            _ => return Err("JWT alg does not match the key type"),
        };
        if !ok {
            return Err("invalid JWT signature");
        }
        if !record.ip_allowed(req.ip()) {
            return Err("IP address not allowed for this key");
        }
        Ok(Authed {
            key: kid.to_owned(),
            account: record.account,
            permissions: record.permissions,
        })
    })?;
    if claims.get("sub").and_then(Value::as_str) != Some(kid) {
        return Err("JWT sub does not match kid");
    }
    let exp_ms = check_times(&claims, now)?;
    check_uri(&claims, req)?;
    if !seen.first_use(token, exp_ms, now) {
        return Err("JWT already used; generate a new JWT for each request");
    }
    Ok(authed)
}

/// Checks `nbf <= now < exp` and `exp - nbf <= 120`; returns exp in ms.
pub(crate) fn check_times(claims: &Value, now_ms: u64) -> Result<u64, &'static str> {
    let nbf = claims
        .get("nbf")
        .and_then(Value::as_u64)
        .ok_or("JWT has no nbf")?;
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or("JWT has no exp")?;
    if exp.saturating_sub(nbf) > MAX_LIFETIME_S {
        return Err("JWT lifetime exceeds 2 minutes");
    }
    if now_ms < nbf.saturating_mul(1000) {
        return Err("JWT not yet valid");
    }
    if now_ms >= exp.saturating_mul(1000) {
        return Err("JWT expired");
    }
    Ok(exp.saturating_mul(1000))
}

fn check_uri(claims: &Value, req: &Req) -> Result<(), &'static str> {
    let host = req.header("host").unwrap_or_default();
    let matches = |uri: &str| {
        let Some((method, target)) = uri.split_once(' ') else {
            return false;
        };
        let target = target
            .strip_prefix("https://")
            .or_else(|| target.strip_prefix("http://"))
            .unwrap_or(target);
        let Some(slash) = target.find('/') else {
            return false;
        };
        let (h, path) = target.split_at(slash);
        method == req.method.as_str() && path == req.path && (h == host || h == "api.coinbase.com")
    };
    let uri_ok = claims
        .get("uri")
        .and_then(Value::as_str)
        .is_some_and(matches);
    let uris_ok = claims
        .get("uris")
        .and_then(Value::as_array)
        .is_some_and(|list| list.iter().filter_map(Value::as_str).any(matches));
    if uri_ok || uris_ok {
        Ok(())
    } else {
        Err("JWT uri does not match the request")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn time_rules_table() {
        let now = 1_700_000_000_500u64;
        let cases = [
            (
                json!({"nbf": 1_700_000_000u64, "exp": 1_700_000_120u64}),
                Ok(1_700_000_120_000),
            ),
            (
                json!({"nbf": 1_700_000_000u64, "exp": 1_700_000_121u64}),
                Err("JWT lifetime exceeds 2 minutes"),
            ),
            (
                json!({"nbf": 1_699_999_880u64, "exp": 1_700_000_000u64}),
                Err("JWT expired"),
            ),
            (
                json!({"nbf": 1_700_000_001u64, "exp": 1_700_000_100u64}),
                Err("JWT not yet valid"),
            ),
            (json!({"exp": 1_700_000_100u64}), Err("JWT has no nbf")),
        ];
        for (i, (claims, want)) in cases.into_iter().enumerate() {
            assert_eq!(check_times(&claims, now), want, "TC{} failed", i + 1);
        }
    }
}
