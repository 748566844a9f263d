//! Quorum-guarded administration: resume, principals, approvals.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Authenticated;
use crate::config::QuorumAction;
use crate::error::{GatewayError, Result};
use crate::principal::Principal;
use crate::quorum::{self, ProposalView};
use crate::scope::ScopeSet;
use crate::state::AppState;

fn answer(p: ProposalView) -> (StatusCode, Json<Value>) {
    let status = if p.status == "open" {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    (status, Json(json!({"proposal": p})))
}

/// `POST /v1/resume`: proposes a return to ACTIVE.
pub async fn resume(
    State(state): State<AppState>,
    auth: Authenticated<Principal, ()>,
) -> Result<(StatusCode, Json<Value>)> {
    let p = quorum::propose(
        &state,
        QuorumAction::Resume,
        json!({}),
        &auth.principal,
        &auth.evidence,
    )
    .await?;
    Ok(answer(p))
}

/// A principal to add.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPrincipal {
    /// `did:key:...` (ed25519) or an HMAC key id.
    pub keyid: String,
    /// `ed25519` (default) or `hmac-sha256`.
    pub kind: Option<String>,
    /// Its scopes.
    pub scopes: ScopeSet,
    /// A label.
    #[serde(default)]
    pub label: String,
}

/// `POST /v1/principals`: proposes adding (or changing) a principal.
pub async fn add_principal(
    State(state): State<AppState>,
    auth: Authenticated<Principal, NewPrincipal>,
) -> Result<(StatusCode, Json<Value>)> {
    let b = auth.body;
    let kind = b.kind.as_deref().unwrap_or("ed25519");
    // Validate now, so a bad proposal never collects approvals.
    match kind {
        "ed25519" => drop(crate::principal::PrincipalRecord::ed25519(
            &b.keyid, b.scopes, &b.label,
        )?),
        "hmac-sha256" => drop(crate::principal::PrincipalRecord::hmac(
            &b.keyid, b.scopes, &b.label,
        )?),
        _ => {
            return Err(GatewayError::invalid(
                "kind",
                "must be ed25519 or hmac-sha256",
            ));
        }
    }
    if b.label.len() > 200 {
        return Err(GatewayError::invalid("label", "must be at most 200 bytes"));
    }
    let payload = quorum::add_principal_payload(&b.keyid, kind, b.scopes, &b.label);
    let p = quorum::propose(
        &state,
        QuorumAction::PrincipalChange,
        payload,
        &auth.principal,
        &auth.evidence,
    )
    .await?;
    Ok(answer(p))
}

/// `DELETE /v1/principals/{keyid}`: proposes revoking a principal.
pub async fn remove_principal(
    State(state): State<AppState>,
    Path(keyid): Path<String>,
    auth: Authenticated<Principal, ()>,
) -> Result<(StatusCode, Json<Value>)> {
    if state.directory.get(&keyid).is_none() {
        return Err(GatewayError::NotFound {
            what: "principal".into(),
        });
    }
    let payload = json!({"op": "remove", "keyid": keyid});
    let p = quorum::propose(
        &state,
        QuorumAction::PrincipalChange,
        payload,
        &auth.principal,
        &auth.evidence,
    )
    .await?;
    Ok(answer(p))
}

/// `GET /v1/principals`.
pub async fn list_principals(
    State(state): State<AppState>,
    _auth: Authenticated<Principal, ()>,
) -> Json<Value> {
    let list: Vec<Value> = state
        .directory
        .list()
        .into_iter()
        .map(|p| json!({"keyid": p.keyid, "kind": p.kind.alg(), "scopes": p.scopes, "label": p.label, "revoked": p.revoked}))
        .collect();
    Json(json!({"principals": list}))
}

/// The body of `POST /v1/approvals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    /// The proposal to approve.
    pub proposal_id: String,
}

/// `POST /v1/approvals`: approves a proposal (the caller must be one of its approvers).
pub async fn approve(
    State(state): State<AppState>,
    auth: Authenticated<Principal, ApprovalRequest>,
) -> Result<(StatusCode, Json<Value>)> {
    let p = quorum::approve(
        &state,
        &auth.body.proposal_id,
        &auth.principal,
        &auth.evidence,
    )
    .await?;
    Ok(answer(p))
}

/// `GET /v1/approvals`: open proposals.
pub async fn list_approvals(
    State(state): State<AppState>,
    _auth: Authenticated<Principal, ()>,
) -> Result<Json<Value>> {
    Ok(Json(
        json!({"proposals": quorum::open_proposals(&state).await?}),
    ))
}

/// `PUT /v1/risk/limits`: proposes new risk limits (a JSON object, applied by the risk
/// executor once approved).
pub async fn change_risk_limits(
    State(state): State<AppState>,
    auth: Authenticated<Principal, Value>,
) -> Result<(StatusCode, Json<Value>)> {
    if !auth.body.is_object() {
        return Err(GatewayError::invalid(
            "body",
            "must be a JSON object of limits",
        ));
    }
    let payload = json!({"limits": auth.body});
    let p = quorum::propose(
        &state,
        QuorumAction::RiskLimitChange,
        payload,
        &auth.principal,
        &auth.evidence,
    )
    .await?;
    Ok(answer(p))
}

/// `POST /v1/credentials`: proposes importing an HPKE-sealed credential (the envelope stays
/// sealed until the vault opens it after approval).
pub async fn import_credential(
    State(state): State<AppState>,
    auth: Authenticated<Principal, Value>,
) -> Result<(StatusCode, Json<Value>)> {
    tradeguard_crypto::envelope::Envelope::from_json(&auth.body.to_string())
        .map_err(|e| GatewayError::invalid("envelope", e.to_string()))?;
    let payload = json!({"envelope": auth.body});
    let p = quorum::propose(
        &state,
        QuorumAction::CredentialImport,
        payload,
        &auth.principal,
        &auth.evidence,
    )
    .await?;
    Ok(answer(p))
}
