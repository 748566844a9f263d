//! Verification of Coinbase Exchange requests.
//!
//! `CB-ACCESS-SIGN = base64(HMAC-SHA256(base64decode(secret), timestamp + METHOD + requestPath +
//! body))`; the timestamp (seconds, decimals allowed) must be within 30 s of the server's time;
//! the passphrase is compared with the salted hash the venue keeps. `requestPath` is accepted
//! with the query string (as ccxt signs it) or without it (as the docs describe it).
//!
//! See: https://docs.cdp.coinbase.com/exchange/rest-api/authentication ; exchanges.md §4.2.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rust_decimal::Decimal;
use tradeguard_crypto::ct::ct_eq;
use tradeguard_crypto::mac::hmac_sha256;

use crate::accounts::{Permissions, Verifier};
use crate::engine::AccountId;
use crate::http::Req;
use crate::venue::VenueCore;

/// Largest accepted distance between `CB-ACCESS-TIMESTAMP` and the server's time.
pub const TIMESTAMP_WINDOW_MS: u64 = 30_000;

/// A request whose key, signature, timestamp and passphrase were checked.
pub(crate) struct Authed {
    pub(crate) account: AccountId,
    pub(crate) permissions: Permissions,
}

/// An authentication failure: HTTP status and Coinbase's message.
pub(crate) type AuthError = (u16, &'static str);

/// The CB-ACCESS-SIGN value for a prehash under the decoded secret.
pub fn access_sign(
    secret: &[u8],
    timestamp: &str,
    method: &str,
    request_path: &str,
    body: &[u8],
) -> [u8; 32] {
    let mut msg = format!("{timestamp}{method}{request_path}").into_bytes();
    msg.extend_from_slice(body);
    hmac_sha256(secret, &msg)
}

/// Checks key, signature, timestamp and passphrase, in that order.
pub(crate) fn verify(core: &VenueCore, req: &Req) -> Result<Authed, AuthError> {
    let key = req
        .header("cb-access-key")
        .filter(|k| !k.is_empty())
        .ok_or((401, "Invalid API Key"))?;
    let ts = req
        .header("cb-access-timestamp")
        .ok_or((400, "invalid timestamp"))?;
    let given = req
        .header("cb-access-sign")
        .and_then(|s| STANDARD.decode(s).ok())
        .ok_or((400, "invalid signature"))?;
    let passphrase = req.header("cb-access-passphrase").unwrap_or_default();
    core.with_keys(|keys| {
        let record = keys.get(key).ok_or((401, "Invalid API Key"))?;
        if !record.ip_allowed(req.ip()) {
            return Err((401, "Invalid API Key"));
        }
        let Verifier::Hmac(secret) = &record.verifier else {
            return Err((401, "Invalid API Key"));
        };
        let method = req.method.as_str();
        let with_query = if req.query.is_empty() {
            req.path.clone()
        } else {
            format!("{}?{}", req.path, req.query)
        };
        let ok = [with_query.as_str(), req.path.as_str()].iter().any(|path| {
            ct_eq(
                &given,
                &access_sign(secret.expose_secret(), ts, method, path, &req.body),
            )
        });
        if !ok {
            return Err((400, "invalid signature"));
        }
        check_timestamp(ts, core.now_ms())?;
        if !record.passphrase_matches(passphrase) {
            return Err((401, "Invalid Passphrase"));
        }
        Ok(Authed {
            account: record.account,
            permissions: record.permissions,
        })
    })
}

fn check_timestamp(ts: &str, now_ms: u64) -> Result<(), AuthError> {
    let secs: Decimal = ts.parse().map_err(|_| (400, "invalid timestamp"))?;
    let ms = (secs * Decimal::from(1000)).trunc();
    let now = Decimal::from(now_ms);
    if (now - ms).abs() > Decimal::from(TIMESTAMP_WINDOW_MS) {
        return Err((400, "request timestamp expired"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_window_table() {
        let now = 1_795_386_067_000u64;
        let cases = [
            ("1795386067", Ok(())),
            ("1795386067.512", Ok(())),
            ("1795386037", Ok(())),
            ("1795386036.9", Err((400, "request timestamp expired"))),
            ("1795386097", Ok(())),
            ("1795386098", Err((400, "request timestamp expired"))),
            ("soon", Err((400, "invalid timestamp"))),
        ];
        for (i, (ts, want)) in cases.into_iter().enumerate() {
            assert_eq!(check_timestamp(ts, now), want, "TC{} failed: {ts}", i + 1);
        }
    }
}
