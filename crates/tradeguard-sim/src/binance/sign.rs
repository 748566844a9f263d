//! Verification of Binance SIGNED requests (security types TRADE and USER_DATA).
//!
//! Payload = the query string then the body, concatenated with no separator, each as sent and
//! without the `signature` parameter. HMAC keys: lowercase-or-uppercase hex HMAC-SHA256 keyed
//! with the ASCII secret. Ed25519 keys: base64 signature (percent-encoded on the wire). Timing:
//! `timestamp` in ms or µs; accepted iff `timestamp < serverTime + 1000` and
//! `serverTime - timestamp <= recvWindow` (default 5000, max 60000, up to 3 decimals).
//!
//! See: https://developers.binance.com/docs/binance-spot-api-docs/rest-api (Request Security,
//! Timing security); exchanges.md §1.2.

use rust_decimal::Decimal;
use tradeguard_crypto::ct::ct_eq;
use tradeguard_crypto::mac::hmac_sha256;

use super::model::BinanceError;
use crate::accounts::{KeyRecord, Permissions, Verifier};
use crate::engine::AccountId;
use crate::http::{Req, form_pairs, param};
use crate::venue::VenueCore;

/// What a SIGNED request needs from its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Need {
    /// USER_DATA: any valid key that can read.
    Read,
    /// TRADE: a key with spot trading enabled.
    Trade,
    /// Any valid key (e.g. `apiRestrictions`).
    AnyKey,
}

/// A request whose key, signature and timing were checked.
pub(crate) struct Signed {
    pub(crate) account: AccountId,
    pub(crate) permissions: Permissions,
    pub(crate) ip_restricted: bool,
}

/// The request's parameters: query pairs first (the query string wins), then body pairs.
pub(crate) fn params(req: &Req) -> Vec<(String, String)> {
    let mut pairs = req.query_pairs();
    pairs.extend(form_pairs(req.body_str()));
    pairs
}

/// Checks key, permissions, signature and timing, in that order.
pub(crate) fn verify(
    core: &VenueCore,
    req: &Req,
    pairs: &[(String, String)],
    need: Need,
) -> Result<Signed, BinanceError> {
    let api_key = req
        .header("x-mbx-apikey")
        .filter(|k| !k.is_empty())
        .ok_or(BinanceError::BadApiKeyFormat)?;
    core.with_keys(|keys| {
        let record = keys.get(api_key).ok_or(BinanceError::RejectedKey)?;
        check_key(record, req, need)?;
        check_signature(record, req, pairs)?;
        check_timing(pairs, core.now_ms())?;
        Ok(Signed {
            account: record.account,
            permissions: record.permissions,
            ip_restricted: !record.ip_allowlist.is_empty(),
        })
    })
}

fn check_key(record: &KeyRecord, req: &Req, need: Need) -> Result<(), BinanceError> {
    let allowed = match need {
        Need::Read => record.permissions.read,
        Need::Trade => record.permissions.trade,
        Need::AnyKey => true,
    };
    if !allowed || !record.ip_allowed(req.ip()) {
        return Err(BinanceError::RejectedKey);
    }
    Ok(())
}

fn check_signature(
    record: &KeyRecord,
    req: &Req,
    pairs: &[(String, String)],
) -> Result<(), BinanceError> {
    let given = param(pairs, "signature")
        .filter(|s| !s.is_empty())
        .ok_or(BinanceError::Mandatory("signature"))?;
    let payload = format!(
        "{}{}",
        without_signature(&req.query),
        without_signature(req.body_str())
    );
    let ok = match &record.verifier {
        Verifier::Hmac(secret) => hex::decode(given.to_ascii_lowercase()).is_ok_and(|sig| {
            ct_eq(
                &sig,
                &hmac_sha256(secret.expose_secret(), payload.as_bytes()),
            )
        }),
        Verifier::Ed25519(pk) => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(given)
                .is_ok_and(|sig| pk.verify(payload.as_bytes(), &sig).is_ok())
        }
        Verifier::EcP256(_) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(BinanceError::InvalidSignature)
    }
}

/// The raw query or body with every `signature=` parameter removed, other bytes untouched.
pub(crate) fn without_signature(raw: &str) -> String {
    if raw.is_empty() {
        return String::new();
    }
    raw.split('&')
        .filter(|p| !p.starts_with("signature="))
        .collect::<Vec<_>>()
        .join("&")
}

fn check_timing(pairs: &[(String, String)], now_ms: u64) -> Result<(), BinanceError> {
    let ts: u64 = param(pairs, "timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or(BinanceError::Mandatory("timestamp"))?;
    // 16 digits or more: microseconds.
    let ts_us = if ts >= 10_000_000_000_000 {
        ts
    } else {
        ts.saturating_mul(1000)
    };
    let window_ms = match param(pairs, "recvWindow") {
        None => Decimal::from(5000),
        Some(w) => w
            .parse::<Decimal>()
            .map_err(|_| BinanceError::BadRecvWindow)?,
    };
    if window_ms > Decimal::from(60_000) || window_ms < Decimal::ZERO || window_ms.scale() > 3 {
        return Err(BinanceError::BadRecvWindow);
    }
    let window_us =
        u64::try_from((window_ms * Decimal::from(1000)).trunc().mantissa()).unwrap_or(0);
    let server_us = now_ms.saturating_mul(1000);
    if ts_us >= server_us + 1_000_000 {
        return Err(BinanceError::TimestampAhead);
    }
    if server_us.saturating_sub(ts_us) > window_us {
        return Err(BinanceError::OutsideRecvWindow);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &str) -> Vec<(String, String)> {
        form_pairs(s)
    }

    #[test]
    fn signature_is_stripped_wherever_it_is() {
        assert_eq!(without_signature("a=1&signature=ab&b=2"), "a=1&b=2");
        assert_eq!(without_signature("signature=ab"), "");
        assert_eq!(without_signature(""), "");
    }

    #[test]
    fn timing_rules_table() {
        let now = 1_700_000_000_000u64;
        let cases: Vec<(String, Result<(), BinanceError>)> = vec![
            (format!("timestamp={now}"), Ok(())),
            (format!("timestamp={}", now - 5000), Ok(())),
            (
                format!("timestamp={}", now - 5001),
                Err(BinanceError::OutsideRecvWindow),
            ),
            (
                format!("timestamp={}&recvWindow=60000", now - 60_000),
                Ok(()),
            ),
            (
                format!("timestamp={}&recvWindow=60001", now),
                Err(BinanceError::BadRecvWindow),
            ),
            (format!("timestamp={}", now + 999), Ok(())),
            (
                format!("timestamp={}", now + 1000),
                Err(BinanceError::TimestampAhead),
            ),
            (format!("timestamp={}", (now - 4000) * 1000), Ok(())),
            (
                format!("timestamp={}&recvWindow=0.5", now - 1),
                Err(BinanceError::OutsideRecvWindow),
            ),
            (
                "recvWindow=5000".to_owned(),
                Err(BinanceError::Mandatory("timestamp")),
            ),
        ];
        for (i, (q, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                check_timing(&pairs(&q), now),
                want,
                "TC{} failed: {q}",
                i + 1
            );
        }
    }
}
