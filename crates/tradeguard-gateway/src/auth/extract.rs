//! [`Authenticated`]: the extractor every protected handler takes. It authenticates the
//! request, then checks the scope the route declares with a [`Need`] extension; a route that
//! declares none is refused to everyone (default deny).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::error::{GatewayError, Result};
use crate::principal::Principal;
use crate::scope::{Scope, ScopeSet};
use crate::state::AppState;

/// The scope a route needs, attached to it as a request extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Exactly this scope.
    Scope(Scope),
    /// Any one of these (the handler checks further, e.g. approvals).
    AnyOf(&'static [Scope]),
}

impl Need {
    /// True when `scopes` satisfies the need.
    pub fn allows(self, scopes: ScopeSet) -> bool {
        match self {
            Self::Scope(s) => scopes.contains(s),
            Self::AnyOf(list) => list.iter().any(|s| scopes.contains(*s)),
        }
    }

    fn scope(self) -> Scope {
        match self {
            Self::Scope(s) => s,
            Self::AnyOf(list) => list.first().copied().unwrap_or(Scope::ManagePrincipals),
        }
    }
}

/// An authenticated, authorized request: the caller `principal` and the parsed `body`
/// (`()` for requests without one).
#[derive(Debug)]
pub struct Authenticated<P, T> {
    /// Who sent it, with the scopes in effect.
    pub principal: P,
    /// The JSON body.
    pub body: T,
    /// The signature headers (public evidence for approvals); empty for sessions.
    pub evidence: String,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Authenticated<Principal, T> {
    type Rejection = GatewayError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self> {
        let (parts, body) = req.into_parts();
        let limit = state.config.max_body_bytes;
        let bytes = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| GatewayError::BodyTooLarge { limit })?;
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let (principal, evidence) = crate::auth::authenticate(state, &parts, &bytes, peer).await?;
        let Some(need) = parts.extensions.get::<Need>().copied() else {
            return Err(GatewayError::Denied {
                reason: "this endpoint declares no scope, so no one may call it".into(),
            });
        };
        if !need.allows(principal.scopes) {
            return Err(GatewayError::Forbidden {
                scope: need.scope(),
            });
        }
        let body = parse_body(&parts, &bytes)?;
        Ok(Self {
            principal,
            body,
            evidence,
        })
    }
}

fn parse_body<T: DeserializeOwned>(parts: &axum::http::request::Parts, bytes: &[u8]) -> Result<T> {
    if bytes.is_empty() {
        return serde_json::from_slice(b"null")
            .map_err(|_| GatewayError::invalid("body", "a JSON body is required"));
    }
    let json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|m| m.trim() == "application/json")
        });
    if !json {
        return Err(GatewayError::invalid(
            "content-type",
            "must be application/json",
        ));
    }
    // serde reads a struct from a JSON array too; the API documents objects only.
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | Some(b'n') => {}
        _ => return Err(GatewayError::invalid("body", "must be a JSON object")),
    }
    serde_json::from_slice(bytes).map_err(|e| {
        // serde_json messages can quote input; report only the position and category.
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
