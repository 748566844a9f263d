//! `POST /v1/intents`: answer first, act after.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tradeguard_crypto::b64;

use std::sync::Arc;

use super::IntentIntake;
use super::intake::{After, Received};
use super::status::{IntentState, IntentStatus};
use crate::audit::GatewayEvent;
use crate::auth::Authenticated;
use crate::principal::Principal;
use crate::problem::Problem;
use crate::state::AppState;

/// `POST /v1/intents`: one sealed packet in, one fixed-size sealed answer out (202).
pub async fn post(State(state): State<AppState>, body: Bytes) -> Response {
    let Some(intake) = state.intents.clone() else {
        return Problem::new(
            "intents-disabled",
            "Sealed intents are not enabled",
            StatusCode::NOT_FOUND,
            "this gateway has no intent intake configured; use POST /v1/orders",
        )
        .into_response();
    };
    let Received { answer, after } = intake.receive(&state, &body).await;
    let response = (
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "application/json")],
        format!(r#"{{"v":1,"answer":"{}"}}"#, b64::encode(&answer)),
    )
        .into_response();
    if !matches!(after, After::Nothing) {
        intake.enqueue(&state, after);
    }
    response
}

/// The work left after answering, run on the intake's clock tick rather than when its packet
/// arrived: a real order's execution must not slow the answer to its own packet (nor to the
/// one right after it), or timing would tell real packets from dummies.
pub(crate) async fn run_after(state: AppState, intake: Arc<IntentIntake>, after: After) {
    match after {
        After::Nothing => {}
        After::Refused { reason, principal } => {
            audit_refusal(&state, &intake, reason, principal).await;
        }
        After::Execute {
            id,
            principal,
            order,
        } => {
            let status = execute(state, principal, order).await;
            if let Some(id) = id {
                intake.status().complete(&id, status);
            }
        }
    }
}

async fn audit_refusal(
    state: &AppState,
    intake: &IntentIntake,
    reason: &'static str,
    principal: Option<String>,
) {
    let mut event = GatewayEvent::new("intent.refused").field("reason", reason);
    match principal {
        Some(did) => event = event.sensitive("principal", did),
        None => match intake.anonymous_audit_budget(state.clock.now_ms()) {
            Some(0) => {}
            Some(suppressed) => event = event.field("unaudited_before", suppressed),
            None => return,
        },
    }
    if let Err(e) = state.audit.append(event).await {
        tracing::error!(error = %e, reason, "intent refusal not audited");
    }
}

/// Runs the order path as the principal and reports what it said.
async fn execute(state: AppState, principal: Principal, order: Value) -> IntentStatus {
    let two_step = order.get("confirmation_token").is_some()
        || order.get("require_confirmation") == Some(&Value::Bool(true));
    if two_step {
        return refused(
            "intent-two-step",
            "a sealed intent cannot use two-step confirmation; send the order alone",
        );
    }
    let body = match serde_json::from_value(order) {
        Ok(b) => b,
        Err(_) => {
            return refused(
                "invalid-order",
                "the order is not a POST /v1/orders body; see /v1/openapi.json",
            );
        }
    };
    let auth = Authenticated {
        principal,
        body,
        evidence: String::new(),
    };
    let response = match crate::api::place_order(State(state), auth).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    let code = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let result = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let state = match code.as_u16() {
        200..=299 => IntentState::Placed,
        400..=499 => IntentState::Refused,
        _ => IntentState::Failed,
    };
    IntentStatus {
        state,
        http_status: Some(code.as_u16()),
        result: Some(result),
    }
}

fn refused(slug: &str, detail: &str) -> IntentStatus {
    let p = Problem::new(
        slug,
        "Intent refused",
        StatusCode::UNPROCESSABLE_ENTITY,
        detail,
    );
    IntentStatus {
        state: IntentState::Refused,
        http_status: Some(422),
        result: serde_json::to_value(p).ok(),
    }
}
