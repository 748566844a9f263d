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

/// Longest `keyid` of `POST /v1/principals`, in characters.
pub const MAX_KEYID_CHARS: usize = 256;
/// Longest `label` of `POST /v1/principals`, in characters.
pub const MAX_LABEL_CHARS: usize = 200;

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
    let kind = check_new_principal(&b)?;
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

/// Checks a principal to add before a proposal is opened (so a bad one never collects
/// approvals): a shape error is a 400, a `keyid` that does not fit its `kind` a 422. Returns
/// the kind.
pub fn check_new_principal(b: &NewPrincipal) -> Result<&'static str> {
    let kind = match b.kind.as_deref() {
        None | Some("ed25519") => "ed25519",
        Some("hmac-sha256") => "hmac-sha256",
        Some(_) => {
            return Err(GatewayError::invalid(
                "kind",
                "must be ed25519 or hmac-sha256",
            ));
        }
    };
    if b.keyid.is_empty() || b.keyid.chars().count() > MAX_KEYID_CHARS {
        return Err(GatewayError::invalid(
            "keyid",
            "must be 1 to 256 characters",
        ));
    }
    if b.label.chars().count() > MAX_LABEL_CHARS {
        return Err(GatewayError::invalid(
            "label",
            "must be at most 200 characters",
        ));
    }
    let checked = match kind {
        "ed25519" => crate::principal::PrincipalRecord::ed25519(&b.keyid, b.scopes, &b.label),
        _ => crate::principal::PrincipalRecord::hmac(&b.keyid, b.scopes, &b.label),
    };
    checked.map(drop).map_err(|e| match e {
        GatewayError::InvalidRequest { field, reason } => {
            GatewayError::unprocessable(field, reason)
        }
        other => other,
    })?;
    Ok(kind)
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
    check_envelope(&auth.body)?;
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

/// Checks a sealed credential without opening it: the documented shape (else 400), then that
/// the envelope decodes (else 422).
pub fn check_envelope(body: &Value) -> Result<()> {
    let _shape: EnvelopeShape = serde_json::from_value(body.clone()).map_err(|_| {
        GatewayError::invalid(
            "envelope",
            "must be {v:1, kem, kdf, aead, enc, ct} with the documented names and base64url strings",
        )
    })?;
    tradeguard_crypto::envelope::Envelope::from_json(&body.to_string())
        .map_err(|e| GatewayError::unprocessable("envelope", e.to_string()))?;
    Ok(())
}

/// The documented shape of a sealed credential (checked before the envelope is decoded, so
/// a shape error is a 400 and an envelope that does not decode a 422).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeShape {
    #[serde(rename = "v")]
    _v: EnvelopeVersion,
    #[serde(rename = "kem")]
    _kem: EnvelopeKem,
    #[serde(rename = "kdf")]
    _kdf: EnvelopeKdf,
    #[serde(rename = "aead")]
    _aead: EnvelopeAead,
    #[serde(rename = "enc", deserialize_with = "base64url")]
    _enc: (),
    #[serde(rename = "ct", deserialize_with = "base64url")]
    _ct: (),
}

#[derive(Deserialize)]
#[serde(try_from = "u64")]
struct EnvelopeVersion;

impl TryFrom<u64> for EnvelopeVersion {
    type Error = &'static str;
    fn try_from(v: u64) -> std::result::Result<Self, Self::Error> {
        if v == 1 { Ok(Self) } else { Err("v must be 1") }
    }
}

#[derive(Deserialize)]
enum EnvelopeKem {
    #[serde(rename = "X25519-HKDF-SHA256")]
    X25519,
    #[serde(rename = "X-Wing")]
    XWing,
}

#[derive(Deserialize)]
enum EnvelopeKdf {
    #[serde(rename = "HKDF-SHA256")]
    HkdfSha256,
}

#[derive(Deserialize)]
enum EnvelopeAead {
    #[serde(rename = "AES-256-GCM")]
    Aes256Gcm,
    #[serde(rename = "ChaCha20-Poly1305")]
    ChaCha20Poly1305,
}

/// The base64url alphabet without padding (the OpenAPI pattern `^[A-Za-z0-9_-]+$`).
pub const BASE64URL_PATTERN: &str = "^[A-Za-z0-9_-]+$";

fn base64url<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<(), D::Error> {
    let s = String::deserialize(d)?;
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(serde::de::Error::custom("not base64url"))
    }
}
