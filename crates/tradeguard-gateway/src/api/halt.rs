//! The emergency stop. `POST /v1/halt` switches to HALTED in memory before anything else
//! (no order starts after that), waits for placements already past their state check, then
//! persists and broadcasts the state, ends every session, cancels every open order on every
//! venue, records it in the audit log and calls the alert webhook. `{"mode":"reducing"}`
//! switches to REDUCING instead (only exposure-reducing orders; open orders stay).

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::audit::GatewayEvent;
use crate::auth::Authenticated;
use crate::error::{GatewayError, Result};
use crate::principal::Principal;
use crate::state::AppState;
use crate::trading::TradingMode;
use crate::venue::VenueCancel;

/// Halt options.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HaltRequest {
    /// `HALTED` (default) or `REDUCING`.
    pub mode: Option<TradingMode>,
    /// Free text for the audit log (at most 500 characters).
    pub reason: Option<String>,
}

/// What the halt did.
#[derive(Debug, Clone, Serialize)]
pub struct HaltReport {
    /// The state now in force.
    pub state: TradingMode,
    /// Sessions ended.
    pub sessions_ended: u64,
    /// Per venue: orders cancelled and orders that could not be confirmed.
    pub cancels: Vec<VenueCancel>,
    /// Milliseconds from the halt call to the last cancel confirmation.
    pub cancel_ms: u64,
    /// `recorded`, or `failed` (the halt proceeds anyway: it is the safe state).
    pub audit: &'static str,
    /// False when the state could not be stored (then it is not broadcast either and a
    /// restart would forget it): retry the halt.
    pub persisted: bool,
}

/// `POST /v1/halt`.
pub async fn halt(
    State(state): State<AppState>,
    auth: Authenticated<Principal, Option<HaltRequest>>,
) -> Result<Json<HaltReport>> {
    let started = Instant::now();
    let req = auth.body.unwrap_or_default();
    let mode = req.mode.unwrap_or(TradingMode::Halted);
    if mode == TradingMode::Active {
        return Err(GatewayError::invalid(
            "mode",
            "must be HALTED or REDUCING; resuming needs the quorum",
        ));
    }
    let reason: String = req.reason.unwrap_or_default().chars().take(500).collect();
    let who = auth.principal.keyid.as_str();
    let now = state.clock.now_ms();
    state.trading.set_local(mode);
    state.metrics.halt(mode);
    let _exclusive = state.order_gate.write().await;
    // Every step after the in-memory switch runs even if an earlier one fails: stopping the
    // orders matters more than the bookkeeping, and each failure is reported.
    let persisted = match state
        .trading
        .set(mode, who, &reason, now, state.bus.as_ref())
        .await
    {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, "halt not persisted; this replica is halted, others may not be");
            false
        }
    };
    let event = GatewayEvent::new("trading.halt")
        .field("mode", mode.as_str())
        .field("by", who)
        .field("reason", reason.as_str());
    let audit = match state.audit.append(event).await {
        Ok(()) => "recorded",
        Err(e) => {
            tracing::error!(error = %e, "halt not audited; halting anyway");
            "failed"
        }
    };
    let (sessions_ended, cancels) = if mode == TradingMode::Halted {
        let ended = state
            .store
            .gw_sessions_delete_all()
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "sessions not ended by the halt");
                0
            });
        let event = GatewayEvent::new("session.ended")
            .field("reason", "halt")
            .field("count", ended);
        if let Err(e) = state.audit.append(event).await {
            tracing::error!(error = %e, "ended sessions not audited; halting anyway");
        }
        (ended, state.canceller.cancel_all().await)
    } else {
        (0, Vec::new())
    };
    let cancel_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let report = HaltReport {
        state: mode,
        sessions_ended,
        cancels,
        cancel_ms,
        audit,
        persisted,
    };
    if let Some(alerts) = state.alerts.clone() {
        let alert = json!({"event": "trading.halt", "mode": mode, "by": who, "at_ms": now,
            "cancels": report.cancels});
        tokio::spawn(async move {
            if let Err(e) = alerts.alert(&alert).await {
                tracing::error!(reason = %e, "halt alert not delivered");
            }
        });
    }
    Ok(Json(report))
}

/// `GET /v1/state`: the trading state.
pub async fn state(
    State(state): State<AppState>,
    _auth: Authenticated<Principal, ()>,
) -> Json<Value> {
    Json(json!({"state": state.trading.mode()}))
}
