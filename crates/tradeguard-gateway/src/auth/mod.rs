//! Request authentication: RFC 9421 signatures (every request may carry one; state-changing
//! requests must), bearer sessions (reads only), lockouts and per-principal rate limits.
//!
//! The checks, in order, each refusing with a problem document that names it:
//! `lockout` (address) → `signature-missing` → `signature-format` → `covered-components` →
//! `keyid` / `keyid-revoked` → `lockout` (key) → `algorithm` → `created-window` → `signature`
//! → `content-digest` → `nonce-replay`; then the rate limit.

mod extract;
mod lockout;
mod trail;

use std::net::IpAddr;
use std::time::Duration;

use axum::http::request::Parts;
use axum::http::{Method, header};
use tradeguard_crypto::digest::{sha256, sha256_parts};
use tradeguard_httpsig::{HttpSigError, RequestParts};
use tradeguard_store::cache::{Quota, RateDecision};

pub use extract::{Authenticated, Need};
pub use lockout::Lockouts;
pub use trail::AuthTrail;

use crate::error::{GatewayError, Result};
use crate::principal::{AuthMethod, KeyKind, Principal};
use crate::scope::{Scope, ScopeSet};
use crate::state::AppState;

/// The authentication check that refused a request (named in the problem document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthCheck {
    /// No `Signature`/`Signature-Input` (nor a session for a read).
    SignatureMissing,
    /// The signature headers are malformed or lack `keyid`, `alg`, `created` or `nonce`.
    SignatureFormat,
    /// A required component is not covered, or a covered one is absent.
    CoveredComponents,
    /// `keyid` names no principal.
    KeyId,
    /// `keyid` names a revoked principal.
    KeyRevoked,
    /// `alg` is not the principal's algorithm.
    Algorithm,
    /// `created` is outside the window (or `expires` has passed).
    CreatedWindow,
    /// The signature does not verify.
    Signature,
    /// `Content-Digest` is missing, malformed or does not match the body.
    ContentDigest,
    /// The nonce was already used.
    NonceReplay,
    /// The bearer session is unknown, expired, or used for a state-changing request.
    Session,
}

impl AuthCheck {
    /// The name in problem documents.
    pub fn name(self) -> &'static str {
        match self {
            Self::SignatureMissing => "signature-missing",
            Self::SignatureFormat => "signature-format",
            Self::CoveredComponents => "covered-components",
            Self::KeyId => "keyid",
            Self::KeyRevoked => "keyid-revoked",
            Self::Algorithm => "algorithm",
            Self::CreatedWindow => "created-window",
            Self::Signature => "signature",
            Self::ContentDigest => "content-digest",
            Self::NonceReplay => "nonce-replay",
            Self::Session => "session",
        }
    }
}

/// Components every signature must cover; `content-type` too when there is a body.
pub const REQUIRED_COMPONENTS: [&str; 4] = ["@method", "@path", "@query", "content-digest"];

/// [`REQUIRED_COMPONENTS`] and `content-type`, for requests with a body.
pub const REQUIRED_WITH_BODY: [&str; 5] = [
    "@method",
    "@path",
    "@query",
    "content-digest",
    "content-type",
];

/// Prefix of bearer session tokens.
pub const SESSION_PREFIX: &str = "tgs_";

/// Prefix of the metrics scrape token (`tradeguard metrics-token`): a bearer token that opens
/// `GET /metrics` only, lives until it is replaced or revoked, and survives a halt (a halt is
/// when monitoring matters most).
pub const METRICS_TOKEN_PREFIX: &str = "tgm_";

/// The meta key (tradeguard-store) holding the SHA-256, hex, of the metrics scrape token;
/// absent or empty: there is none.
pub const METRICS_TOKEN_META: &str = "gw.metrics_token_sha256";

/// The principal a metrics scrape runs as.
pub const METRICS_SCRAPER: &str = "tradeguard:metrics-scraper";

/// A failed attempt: the error, and the keyid it was made with, if any.
struct Failure {
    error: GatewayError,
    /// The keyid the request named, if it got that far (audited as a sensitive field).
    key: Option<NamedKey>,
}

/// A keyid a request named, and whether a principal has it (then failures count against
/// that key's lockout).
struct NamedKey {
    id: Box<str>,
    known: bool,
}

impl From<GatewayError> for Failure {
    fn from(error: GatewayError) -> Self {
        Self { error, key: None }
    }
}

/// The check name an authentication refusal is audited under; `None` for other errors.
fn refused_check(e: &GatewayError) -> Option<&'static str> {
    match e {
        GatewayError::Unauthenticated { check, .. } => Some(check.name()),
        GatewayError::LockedOut { .. } => Some("lockout"),
        _ => None,
    }
}

fn fail(check: AuthCheck, detail: impl Into<String>) -> Failure {
    GatewayError::auth(check, detail).into()
}

/// Authenticates one request; `body` is the whole body, `peer` the client address.
pub async fn authenticate(
    state: &AppState,
    parts: &Parts,
    body: &[u8],
    peer: Option<IpAddr>,
) -> Result<(Principal, String)> {
    let now = state.clock.now_ms();
    let locked = peer.map_or(Ok(()), |ip| state.lockouts.check_addr(ip, now));
    let attempt = if let Err(e) = locked {
        Err(Failure::from(e))
    } else if parts.headers.contains_key(header::AUTHORIZATION) {
        session(state, parts, now).await.map(|p| (p, String::new()))
    } else {
        signature(state, parts, body, now).await
    };
    match attempt {
        Ok((p, evidence)) => {
            rate_limit(state, &p.keyid).await?;
            Ok((p, evidence))
        }
        Err(f) => {
            if matches!(f.error, GatewayError::Unauthenticated { .. }) {
                if let Some(ip) = peer {
                    state.lockouts.failure(state, &format!("addr:{ip}")).await;
                }
                if let Some(k) = f.key.as_ref().filter(|k| k.known).map(|k| &k.id) {
                    state.lockouts.failure(state, &format!("key:{k}")).await;
                }
            }
            if let Some(check) = refused_check(&f.error) {
                let refusal = trail::Refusal {
                    check,
                    parts,
                    keyid: f.key.as_ref().map(|k| &*k.id),
                    peer,
                };
                state.auth_trail.failure(state, refusal).await;
            }
            Err(f.error)
        }
    }
}

fn header_str<'a>(parts: &'a Parts, name: &str) -> std::result::Result<Option<&'a str>, Failure> {
    match parts.headers.get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| {
            fail(
                AuthCheck::SignatureFormat,
                format!("header `{name}` is not ASCII"),
            )
        }),
    }
}

async fn signature(
    state: &AppState,
    parts: &Parts,
    body: &[u8],
    now_ms: i64,
) -> std::result::Result<(Principal, String), Failure> {
    let (Some(si), Some(s)) = (
        header_str(parts, "signature-input")?,
        header_str(parts, "signature")?,
    ) else {
        return Err(fail(
            AuthCheck::SignatureMissing,
            "sign the request per RFC 9421 (Signature-Input and Signature headers)",
        ));
    };
    let format = |e: HttpSigError| fail(AuthCheck::SignatureFormat, e.to_string());
    let rp = RequestParts::from_http(parts).map_err(format)?;
    let parsed = tradeguard_httpsig::parse(&rp, si, s, None).map_err(|e| match e {
        HttpSigError::ComponentNotInMessage { .. } | HttpSigError::ComponentNotCovered { .. } => {
            fail(AuthCheck::CoveredComponents, e.to_string())
        }
        other => format(other),
    })?;
    let (Some(keyid), Some(alg), Some(_), Some(nonce)) = (
        parsed.keyid(),
        parsed.alg(),
        parsed.created(),
        parsed.nonce(),
    ) else {
        return Err(fail(
            AuthCheck::SignatureFormat,
            "the signature must carry keyid, alg, created and nonce parameters",
        ));
    };
    let required: &[&str] = if body.is_empty() {
        &REQUIRED_COMPONENTS
    } else {
        &REQUIRED_WITH_BODY
    };
    parsed
        .require_components(required)
        .map_err(|e| fail(AuthCheck::CoveredComponents, e.to_string()))?;
    let Some(record) = state.directory.get(keyid) else {
        return Err(Failure {
            key: Some(NamedKey {
                id: keyid.into(),
                known: false,
            }),
            ..fail(AuthCheck::KeyId, "keyid names no principal of this gateway")
        });
    };
    let known = |check: AuthCheck, detail: String| Failure {
        error: GatewayError::auth(check, detail),
        key: Some(NamedKey {
            id: record.keyid.as_str().into(),
            known: true,
        }),
    };
    if record.revoked {
        return Err(known(
            AuthCheck::KeyRevoked,
            "this principal was revoked".into(),
        ));
    }
    state
        .lockouts
        .check_key(keyid, now_ms)
        .map_err(|error| Failure {
            error,
            key: Some(NamedKey {
                id: keyid.into(),
                known: false,
            }),
        })?;
    if alg.as_str() != record.kind.alg() {
        let detail = format!("this principal signs with `{}`", record.kind.alg());
        return Err(known(AuthCheck::Algorithm, detail));
    }
    let window = state.config.signature_window.as_secs();
    let now_s = u64::try_from(now_ms.div_euclid(1000)).unwrap_or(0);
    if let Err(e) = parsed.check_freshness(now_s, window) {
        let detail = format!("{e}; check the client's clock");
        return Err(known(AuthCheck::CreatedWindow, detail));
    }
    let verified = match &record.kind {
        KeyKind::Ed25519(k) => parsed.verify_ed25519(k).is_ok(),
        KeyKind::Hmac => state
            .hmac_keys
            .key(keyid)
            .is_some_and(|k| parsed.verify_hmac(&k).is_ok()),
    };
    if !verified {
        let detail = "the signature does not verify with this principal's key".into();
        return Err(known(AuthCheck::Signature, detail));
    }
    let digest = header_str(parts, "content-digest")?.unwrap_or("");
    if let Err(e) = tradeguard_httpsig::verify_content_digest(digest, body) {
        return Err(known(AuthCheck::ContentDigest, e.to_string()));
    }
    if nonce.len() < 8 || nonce.len() > 128 {
        let detail = "nonce must be 8 to 128 characters".into();
        return Err(known(AuthCheck::SignatureFormat, detail));
    }
    let nonce_key = nonce_key(keyid, nonce);
    let ttl = state
        .config
        .signature_window
        .saturating_mul(2)
        .min(Duration::from_secs(86_400));
    let fresh = state
        .replay
        .check_and_insert(&nonce_key, ttl)
        .await
        .map_err(GatewayError::from)?;
    if !fresh {
        let detail = "this nonce was already used; sign every request with a fresh nonce".into();
        return Err(known(AuthCheck::NonceReplay, detail));
    }
    let principal = Principal {
        keyid: record.keyid.clone(),
        scopes: record.scopes,
        method: AuthMethod::Signature,
    };
    // Evidence is kept by quorum proposals and approvals, which never are reads.
    let evidence = if parts.method == Method::GET || parts.method == Method::HEAD {
        String::new()
    } else {
        format!("signature-input: {si}\nsignature: {s}")
    };
    Ok((principal, evidence))
}

/// `prefix` and the lowercase hex of `digest`, in one allocation.
fn hex_key(prefix: &str, digest: &[u8; 32]) -> String {
    let mut hex = [0u8; 64];
    // Cannot fail: the buffer is exactly twice the digest.
    let _ = hex::encode_to_slice(digest, &mut hex);
    let mut key = String::with_capacity(prefix.len() + hex.len());
    key.push_str(prefix);
    key.extend(hex.iter().map(|&b| char::from(b)));
    key
}

/// The replay-cache key of a nonce: `gw:nonce:` and the hex SHA-256 of `keyid LF nonce`
/// (the same key on every replica and version, so a nonce is single-use across them).
pub fn nonce_key(keyid: &str, nonce: &str) -> String {
    hex_key(
        "gw:nonce:",
        &sha256_parts(&[keyid.as_bytes(), b"\n", nonce.as_bytes()]),
    )
}

/// The SHA-256 under which a session token is stored.
pub fn session_hash(token: &str) -> Vec<u8> {
    sha256(token.as_bytes()).to_vec()
}

async fn session(
    state: &AppState,
    parts: &Parts,
    now_ms: i64,
) -> std::result::Result<Principal, Failure> {
    let value = header_str(parts, header::AUTHORIZATION.as_str())?.unwrap_or("");
    let Some(token) = crate::input::parse_bearer(value) else {
        return Err(fail(
            AuthCheck::Session,
            "Authorization must be `Bearer tgs_...` (or `Bearer tgm_...` for GET /metrics)",
        ));
    };
    if token.starts_with(METRICS_TOKEN_PREFIX) {
        return metrics_scraper(state, parts, token).await;
    }
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return Err(fail(
            AuthCheck::Session,
            "a session grants read scopes only; sign state-changing requests",
        ));
    }
    let row = state
        .store
        .gw_session(&session_hash(token), now_ms)
        .await
        .map_err(GatewayError::from)?;
    let Some(row) = row else {
        return Err(fail(
            AuthCheck::Session,
            "unknown or expired session; open a new one",
        ));
    };
    match state.directory.get(&row.principal) {
        Some(p) if !p.revoked => Ok(Principal {
            keyid: p.keyid.clone(),
            scopes: p.scopes.intersect(ScopeSet::of(&[Scope::Read])),
            method: AuthMethod::Session,
        }),
        _ => Err(fail(
            AuthCheck::KeyRevoked,
            "the session's principal was revoked",
        )),
    }
}

/// The metrics scrape token: `GET /metrics` only, compared in constant time with the hash the
/// operator's `tradeguard metrics-token` stored.
async fn metrics_scraper(
    state: &AppState,
    parts: &Parts,
    token: &str,
) -> std::result::Result<Principal, Failure> {
    let scrape = parts.method == Method::GET || parts.method == Method::HEAD;
    if !scrape || parts.uri.path() != crate::api::METRICS_PATH {
        return Err(fail(
            AuthCheck::Session,
            "the metrics token opens GET /metrics only",
        ));
    }
    let key = tradeguard_store::MetaKey::new(METRICS_TOKEN_META).map_err(GatewayError::from)?;
    let stored = state
        .store
        .meta_get(&key)
        .await
        .map_err(GatewayError::from)?
        .unwrap_or_default();
    let given = hex::encode(sha256(token.as_bytes()));
    if stored.is_empty() || !tradeguard_crypto::ct::ct_eq(stored.as_bytes(), given.as_bytes()) {
        return Err(fail(
            AuthCheck::Session,
            "unknown metrics token; the operator issues one with `tradeguard metrics-token`",
        ));
    }
    Ok(Principal {
        keyid: METRICS_SCRAPER.to_owned(),
        scopes: ScopeSet::of(&[Scope::Read]),
        method: AuthMethod::Session,
    })
}

async fn rate_limit(state: &AppState, keyid: &str) -> Result<()> {
    let c = &state.config;
    let quota = Quota::new(c.rate_per_second, Duration::from_secs(1), c.rate_burst)?;
    let key = hex_key("gw:rate:", &sha256(keyid.as_bytes()));
    match state.limiter.acquire(&key, &quota, 1).await? {
        RateDecision::Allowed { .. } => Ok(()),
        RateDecision::Limited { retry_after } => Err(GatewayError::RateLimited {
            retry_after_secs: retry_after.as_secs_f64().ceil() as u64,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_key_is_the_documented_hash() {
        // The format replicas share through Redis: it must not change between versions.
        let old = format!(
            "gw:nonce:{}",
            hex::encode(sha256(b"did:key:z6Mk\nnonce-0001"))
        );
        assert_eq!(nonce_key("did:key:z6Mk", "nonce-0001"), old);
        assert_eq!(
            hex_key("gw:rate:", &sha256(b"k")),
            format!("gw:rate:{}", hex::encode(sha256(b"k")))
        );
    }
}
