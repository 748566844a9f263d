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

/// Authenticates the request, then checks the scope its route declares.
async fn authorize(
    state: &AppState,
    parts: &axum::http::request::Parts,
    bytes: &[u8],
    peer: Option<std::net::IpAddr>,
) -> Result<(Principal, String)> {
    let (principal, evidence) = crate::auth::authenticate(state, parts, bytes, peer).await?;
    state.auth_trail.success(state, &principal).await?;
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
    Ok((principal, evidence))
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
        let bytes = crate::input::read_limited(body, limit).await?;
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let (principal, evidence) = authorize(state, &parts, &bytes, peer)
            .await
            .inspect_err(|e| state.metrics.auth_refused(e))?;
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let body = crate::input::parse_json_body(content_type, &bytes)?;
        Ok(Self {
            principal,
            body,
            evidence,
        })
    }
}
