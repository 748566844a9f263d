//! Parsers of untrusted request input, without I/O: the body size limit, JSON bodies, the
//! bearer token and integer query parameters. The handlers' own body types and checks live beside them (re-exported from
//! [`crate::api`]); `fuzz/` drives all of them.

use axum::body::{Body, Bytes};
use serde::de::DeserializeOwned;

use crate::auth::{METRICS_TOKEN_PREFIX, SESSION_PREFIX};
use crate::error::{GatewayError, Result};

/// Length of a session token: the prefix and 32 random bytes in unpadded base64url.
pub const SESSION_TOKEN_LEN: usize = SESSION_PREFIX.len() + 43;

/// Reads the whole body, refusing one longer than `limit` bytes with
/// [`GatewayError::BodyTooLarge`].
pub async fn read_limited(body: Body, limit: usize) -> Result<Bytes> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| GatewayError::BodyTooLarge { limit })
}

/// True when the media type (parameters ignored, case-insensitive) is `application/json`.
pub fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// Parses a JSON request body: an empty body reads as `null` (accepted only by bodies that are
/// optional), any other body must be `application/json` holding an object (or `null`); serde
/// alone would also read a struct from an array. Errors name the position, never the input.
pub fn parse_json_body<T: DeserializeOwned>(content_type: Option<&str>, bytes: &[u8]) -> Result<T> {
    if bytes.is_empty() {
        return serde_json::from_slice(b"null")
            .map_err(|_| GatewayError::invalid("body", "a JSON body is required"));
    }
    if !is_json(content_type) {
        return Err(GatewayError::invalid(
            "content-type",
            "must be application/json",
        ));
    }
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | Some(b'n') => {}
        _ => return Err(GatewayError::invalid("body", "must be a JSON object")),
    }
    serde_json::from_slice(bytes).map_err(|e| {
        GatewayError::invalid(
            "body",
            format!(
                "is not the expected JSON ({:?} at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ),
        )
    })
}

/// The bearer token of an `Authorization` value: scheme `Bearer` (case-insensitive, RFC 9110
/// §11.1), one space, then `tgs_` (a session) or `tgm_` (the metrics scrape token) and 43
/// base64url characters. Anything else is `None`, so a malformed token never reaches the
/// store.
pub fn parse_bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    let well_formed = scheme.eq_ignore_ascii_case("bearer")
        && token.len() == SESSION_TOKEN_LEN
        && (token.starts_with(SESSION_PREFIX) || token.starts_with(METRICS_TOKEN_PREFIX))
        && token[SESSION_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then_some(token)
}

/// Reads exactly the query parameters `names` (each with its minimum): every one present
/// once, each a decimal integer from its minimum to `i64::MAX` without sign or leading zero,
/// no other parameter. A refusal names the parameter (400), never its value.
pub fn query_integers<const N: usize>(
    query: Option<&str>,
    names: [(&str, u64); N],
) -> Result<[u64; N]> {
    let out = query_optional_integers(query, names)?;
    let mut values = [0; N];
    for (i, v) in out.into_iter().enumerate() {
        values[i] = v.ok_or_else(|| GatewayError::invalid(names[i].0, "is required"))?;
    }
    Ok(values)
}

/// As [`query_integers`], but each parameter may be left out (`None`).
pub fn query_optional_integers<const N: usize>(
    query: Option<&str>,
    names: [(&str, u64); N],
) -> Result<[Option<u64>; N]> {
    let mut out = [None; N];
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(i) = names.iter().position(|(n, _)| *n == name) else {
            return Err(GatewayError::invalid(
                "query",
                format!(
                    "has an unknown parameter; this endpoint takes {}",
                    names.map(|(n, _)| n).join(", ")
                ),
            ));
        };
        let (name, min) = names[i];
        if out[i].is_some() {
            return Err(GatewayError::invalid(name, "is given more than once"));
        }
        out[i] = Some(parse_u64(value, min).ok_or_else(|| {
            GatewayError::invalid(
                name,
                format!("must be a decimal integer from {min} to {}", i64::MAX),
            )
        })?);
    }
    Ok(out)
}

/// Digits only, no sign, no leading zero, at least `min`, at most `i64::MAX` (what the store
/// holds).
fn parse_u64(s: &str, min: u64) -> Option<u64> {
    let canonical = !s.is_empty()
        && s.len() <= 19
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    let v: u64 = if canonical { s.parse().ok()? } else { None? };
    (v >= min && v <= i64::MAX as u64).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        let token = format!("tgs_{}", "A".repeat(43));
        let cases = [
            (format!("Bearer {token}"), true),
            (format!("bearer {token}"), true),
            (format!("BEARER {token}"), true),
            (format!("Bearer  {token}"), false),
            (format!("Bearer {token} "), false),
            (format!("Basic {token}"), false),
            (format!("Bearer {}", &token[..46]), false),
            (format!("Bearer tgs_{}", "+".repeat(43)), false),
            (format!("Bearer tgx_{}", "A".repeat(43)), false),
            (format!("Bearer tgm_{}", "A".repeat(43)), true),
            (format!("Bearer tgm_{}", "A".repeat(42)), false),
            ("Bearer".to_owned(), false),
            (String::new(), false),
        ];
        for (i, (value, ok)) in cases.iter().enumerate() {
            assert_eq!(parse_bearer(value).is_some(), *ok, "TC{} failed", i + 1);
        }
        assert_eq!(
            parse_bearer(&format!("Bearer {token}")),
            Some(token.as_str())
        );
    }

    #[test]
    fn json_bodies() {
        #[derive(serde::Deserialize, Debug)]
        struct B {
            #[allow(dead_code)]
            a: Option<u8>,
        }
        let json = Some("application/json; charset=utf-8");
        let cases: [(Option<&str>, &[u8], bool); 8] = [
            (json, b"{\"a\":1}", true),
            (json, b" \n{}", true),
            (Some("Application/JSON"), b"{}", true),
            (json, b"[1]", false),
            (json, b"\"x\"", false),
            (Some("text/plain"), b"{}", false),
            (None, b"{}", false),
            (json, b"{\"a\":1} x", false),
        ];
        for (i, (ct, body, ok)) in cases.iter().enumerate() {
            let r = parse_json_body::<B>(*ct, body);
            assert_eq!(r.is_ok(), *ok, "TC{} failed: {r:?}", i + 1);
        }
        assert!(
            parse_json_body::<Option<B>>(None, b"").is_ok(),
            "empty is null"
        );
        assert!(parse_json_body::<B>(None, b"").is_err(), "a required body");
    }

    #[test]
    fn query_integers_are_exact() {
        let names = [("start", 0), ("end", 1)];
        let ok = [("start=0&end=1", [0, 1]), ("end=9&start=3", [3, 9])];
        for (i, (q, want)) in ok.into_iter().enumerate() {
            assert_eq!(
                query_integers(Some(q), names).unwrap(),
                want,
                "TC{i} failed"
            );
        }
        let bad = [
            "start=0",
            "start=0&end=0",
            "start=-1&end=2",
            "start=01&end=2",
            "start=+1&end=2",
            "start=1&end=2&start=1",
            "start=1&end=2&x=1",
            "start=&end=2",
            "start=1&end=9223372036854775808",
            "start=1&end=99999999999999999999",
            "start=a&end=2",
        ];
        for (i, q) in bad.into_iter().enumerate() {
            let e = query_integers(Some(q), names).unwrap_err();
            assert!(
                matches!(e, GatewayError::InvalidRequest { .. }),
                "TC{i} failed: {q}"
            );
        }
        assert_eq!(parse_u64("9223372036854775807", 0), Some(i64::MAX as u64));
    }

    #[test]
    fn optional_query_integers_may_be_left_out() {
        let names = [("from", 0), ("to", 1)];
        let ok = [
            (None, [None, None]),
            (Some(""), [None, None]),
            (Some("to=5"), [None, Some(5)]),
            (Some("from=0&to=5"), [Some(0), Some(5)]),
        ];
        for (i, (q, want)) in ok.into_iter().enumerate() {
            assert_eq!(
                query_optional_integers(q, names).unwrap(),
                want,
                "TC{i} failed"
            );
        }
        for (i, q) in ["to=0", "from=1&from=1", "from=-1", "since=1"]
            .iter()
            .enumerate()
        {
            assert!(
                query_optional_integers(Some(q), names).is_err(),
                "TC{i} failed: {q}"
            );
        }
    }
}
