//! Quorum approvals: resume, principal changes, risk-limit changes and credential imports
//! are proposals that run only when M distinct approvers of the action (N configured keys)
//! have signed an approval before the proposal expires. An action without a configured rule
//! cannot be done at all (default deny).

use serde::Serialize;
use serde_json::{Value, json};
use tradeguard_crypto::random;
use tradeguard_store::gateway::{ApprovalRow, ProposalRow};

use crate::audit::GatewayEvent;
use crate::config::QuorumAction;
use crate::error::{GatewayError, Result};
use crate::principal::{Principal, PrincipalRecord};
use crate::scope::ScopeSet;
use crate::state::AppState;
use crate::trading::TradingMode;

/// Runs an approved change that lives in another crate: risk limits (tradeguard-risk's
/// configuration) or a credential import (tradeguard-vault opens the sealed envelope).
#[async_trait::async_trait]
pub trait ProposalExecutor: Send + Sync {
    /// Applies `payload`; `Err` carries a reason without secrets.
    async fn execute(
        &self,
        action: QuorumAction,
        payload: &Value,
    ) -> std::result::Result<(), String>;
}

/// A proposal as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposalView {
    /// Its id (approve with `POST /v1/approvals {"proposal_id": ...}`).
    pub id: String,
    /// The action.
    pub action: String,
    /// The change.
    pub payload: Value,
    /// Who proposed it.
    pub proposer: String,
    /// Approvals so far.
    pub approvals: i64,
    /// Approvals needed.
    pub required: i64,
    /// Expiry, Unix ms.
    pub expires_ms: i64,
    /// `open`, `approved`, `expired` or `failed`.
    pub status: String,
}

fn view(p: &ProposalRow, approvals: i64) -> ProposalView {
    ProposalView {
        id: p.id.clone(),
        action: p.action.clone(),
        payload: serde_json::from_str(&p.payload).unwrap_or(Value::Null),
        proposer: p.proposer.clone(),
        approvals,
        required: p.required,
        expires_ms: p.expires_ms,
        status: p.status.clone(),
    }
}

async fn audit(state: &AppState, event: GatewayEvent) -> Result<()> {
    state
        .audit
        .append(event)
        .await
        .map_err(|_| GatewayError::AuditUnavailable)
}

/// Opens a proposal for `action`; if the proposer is itself an approver its request counts
/// as the first approval (and may complete the quorum).
pub async fn propose(
    state: &AppState,
    action: QuorumAction,
    payload: Value,
    proposer: &Principal,
    evidence: &str,
) -> Result<ProposalView> {
    let Some(rule) = state.config.quorum.get(&action) else {
        return Err(GatewayError::Denied {
            reason: format!(
                "no quorum is configured for `{}`, so no one may do it; the operator configures approvers",
                action.as_str()
            ),
        });
    };
    let now = state.clock.now_ms();
    let id = hex::encode(random::array::<16>().map_err(|_| GatewayError::Internal {
        reason: "random number generator failed".into(),
    })?);
    let row = ProposalRow {
        id: id.clone(),
        action: action.as_str().to_owned(),
        payload: payload.to_string(),
        proposer: proposer.keyid.clone(),
        required: i64::from(rule.required),
        created_ms: now,
        expires_ms: now + i64::try_from(rule.proposal_ttl.as_millis()).unwrap_or(i64::MAX / 4),
        status: "open".into(),
        decided_ms: None,
    };
    let event = GatewayEvent::new("quorum.propose")
        .field("proposal", id.as_str())
        .field("action", action.as_str())
        .field("proposer", proposer.keyid.as_str());
    audit(state, event).await?;
    state.store.gw_proposal_insert(&row).await?;
    if rule.approvers.contains(&proposer.keyid) {
        return approve(state, &id, proposer, evidence).await;
    }
    Ok(view(&row, 0))
}

/// Records `approver`'s approval; runs the action when it completes the quorum.
pub async fn approve(
    state: &AppState,
    id: &str,
    approver: &Principal,
    evidence: &str,
) -> Result<ProposalView> {
    let Some(p) = state.store.gw_proposal(id).await? else {
        return Err(GatewayError::NotFound {
            what: "proposal".into(),
        });
    };
    let action = QuorumAction::parse(&p.action).ok_or_else(|| GatewayError::Internal {
        reason: "stored proposal has an unknown action".into(),
    })?;
    let is_approver = state
        .config
        .quorum
        .get(&action)
        .is_some_and(|r| r.approvers.contains(&approver.keyid));
    if !is_approver {
        return Err(GatewayError::Denied {
            reason: format!("the caller is not an approver for `{}`", action.as_str()),
        });
    }
    let event = GatewayEvent::new("quorum.approve")
        .field("proposal", id)
        .field("approver", approver.keyid.as_str());
    audit(state, event).await?;
    let now = state.clock.now_ms();
    let a = ApprovalRow {
        proposal_id: id.to_owned(),
        approver: approver.keyid.clone(),
        approved_ms: now,
        evidence: evidence.to_owned(),
    };
    let (count, newly) = match state.store.gw_approve(&a).await {
        Ok(r) => r,
        Err(e) if e.is_unique_violation() => {
            return Err(GatewayError::Conflict {
                slug: "already-approved",
                reason: "this approver already approved the proposal; another approver must sign"
                    .into(),
            });
        }
        Err(tradeguard_store::StoreError::NotFound { .. }) => {
            return Err(GatewayError::Conflict {
                slug: "proposal-closed",
                reason:
                    "the proposal is no longer open (expired or already decided); propose again"
                        .into(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let mut status = if newly { "approved" } else { "open" }.to_owned();
    if newly && let Err(e) = execute(state, action, &p).await {
        state
            .store
            .gw_proposal_transition(id, "approved", "failed", now)
            .await?;
        tracing::warn!(error = %e, proposal = id, "approved proposal failed to run");
        status = "failed".into();
    }
    let mut v = view(&p, count);
    v.status = status;
    Ok(v)
}

async fn execute(state: &AppState, action: QuorumAction, p: &ProposalRow) -> Result<()> {
    let payload: Value = serde_json::from_str(&p.payload).unwrap_or(Value::Null);
    let now = state.clock.now_ms();
    match action {
        QuorumAction::Resume => {
            state
                .trading
                .set(
                    TradingMode::Active,
                    &p.proposer,
                    "quorum resume",
                    now,
                    state.bus.as_ref(),
                )
                .await?;
        }
        QuorumAction::PrincipalChange => principal_change(state, &payload, now).await?,
        QuorumAction::RiskLimitChange | QuorumAction::CredentialImport => {
            let Some(executor) = state.executors.get(&action) else {
                return Err(GatewayError::Denied {
                    reason: format!("no executor is wired for `{}`", action.as_str()),
                });
            };
            executor
                .execute(action, &payload)
                .await
                .map_err(|reason| GatewayError::Internal { reason })?;
        }
    }
    let event = GatewayEvent::new("quorum.execute")
        .field("proposal", p.id.as_str())
        .field("action", action.as_str());
    audit(state, event).await
}

async fn principal_change(state: &AppState, payload: &Value, now: i64) -> Result<()> {
    let keyid = payload["keyid"].as_str().unwrap_or("");
    match payload["op"].as_str() {
        Some("add") => {
            let scopes: ScopeSet = serde_json::from_value(payload["scopes"].clone())
                .map_err(|_| GatewayError::invalid("scopes", "unknown scope"))?;
            let label = payload["label"].as_str().unwrap_or("");
            let record = match payload["kind"].as_str() {
                Some("hmac-sha256") => PrincipalRecord::hmac(keyid, scopes, label)?,
                _ => PrincipalRecord::ed25519(keyid, scopes, label)?,
            };
            state.directory.put(&record, now).await?;
        }
        Some("remove") => {
            state.directory.revoke(keyid, now).await?;
        }
        _ => return Err(GatewayError::invalid("op", "must be add or remove")),
    }
    if let Err(e) = state.bus.publish("principals").await {
        tracing::warn!(error = %e, "principal change broadcast failed");
    }
    Ok(())
}

/// Open proposals with their approval counts (expired ones are closed first).
pub async fn open_proposals(state: &AppState) -> Result<Vec<ProposalView>> {
    state
        .store
        .gw_proposals_expire(state.clock.now_ms())
        .await?;
    let mut out = Vec::new();
    for p in state.store.gw_proposals_open().await? {
        let n = state.store.gw_approvals(&p.id).await?.len();
        out.push(view(&p, i64::try_from(n).unwrap_or(i64::MAX)));
    }
    Ok(out)
}

/// The JSON payload of a principal addition.
pub fn add_principal_payload(keyid: &str, kind: &str, scopes: ScopeSet, label: &str) -> Value {
    json!({"op": "add", "keyid": keyid, "kind": kind, "scopes": scopes, "label": label})
}
