//! `POST /v1/sessions`: a 256-bit bearer token for reads, stored only as its SHA-256.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tradeguard_crypto::{b64, random};
use tradeguard_store::gateway::SessionRow;

use crate::audit::GatewayEvent;
use crate::auth::{Authenticated, SESSION_PREFIX, session_hash};
use crate::config::MIN_SESSION_TTL;
use crate::error::{GatewayError, Result};
use crate::principal::{AuthMethod, Principal};
use crate::state::AppState;

/// Optional session parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    /// A shorter lifetime than the configured one, in seconds (at least 300).
    #[serde(default, deserialize_with = "integer")]
    pub ttl_secs: Option<u64>,
}

/// A JSON Schema `integer`: `1104` or `1104.0` (the same number), never `1104.5`.
fn integer<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<u64>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    if let Some(v) = n.as_u64() {
        return Ok(Some(v));
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&f) => Ok(Some(f as u64)),
        _ => Err(serde::de::Error::custom(
            "ttl_secs must be a whole number of seconds",
        )),
    }
}

/// Opens a session for the signing principal.
pub async fn open(
    State(state): State<AppState>,
    auth: Authenticated<Principal, Option<SessionRequest>>,
) -> Result<(StatusCode, Json<Value>)> {
    if auth.principal.method != AuthMethod::Signature {
        return Err(GatewayError::Denied {
            reason: "a session cannot open another session; sign the request".into(),
        });
    }
    let max = state.config.session_ttl;
    let ttl = match auth.body.and_then(|b| b.ttl_secs) {
        None => max,
        Some(s) if Duration::from_secs(s) >= MIN_SESSION_TTL && Duration::from_secs(s) <= max => {
            Duration::from_secs(s)
        }
        Some(_) => {
            return Err(GatewayError::invalid(
                "ttl_secs",
                format!("must be between 300 and {}", max.as_secs()),
            ));
        }
    };
    let raw = random::array::<32>().map_err(|_| GatewayError::Internal {
        reason: "random number generator failed".into(),
    })?;
    let token = format!("{SESSION_PREFIX}{}", b64::encode(&raw));
    let now = state.clock.now_ms();
    let expires = now + i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 4);
    let event = GatewayEvent::new("session.open")
        .field("principal", auth.principal.keyid.as_str())
        .field("expires_ms", expires);
    state
        .audit
        .append(event)
        .await
        .map_err(|_| GatewayError::AuditUnavailable)?;
    let row = SessionRow {
        token_hash: session_hash(&token),
        principal: auth.principal.keyid.clone(),
        created_ms: now,
        expires_ms: expires,
    };
    state.store.gw_session_insert(&row).await?;
    state.metrics.session_opened();
    let body = json!({"token": token, "expires_ms": expires, "scopes": ["read"]});
    Ok((StatusCode::CREATED, Json(body)))
}

/// Deletes expired sessions every `every` until the process ends.
pub fn spawn_cleanup(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match state
                .store
                .gw_sessions_delete_expired(state.clock.now_ms())
                .await
            {
                Ok(n) if n > 0 => {
                    tracing::info!(removed = n, "expired sessions removed");
                    let event = GatewayEvent::new("session.ended")
                        .field("reason", "expired")
                        .field("count", n);
                    if let Err(e) = state.audit.append(event).await {
                        tracing::warn!(error = %e, "ended sessions not audited");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "session cleanup failed"),
            }
        }
    })
}
