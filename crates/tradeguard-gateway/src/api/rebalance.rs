//! Portfolios and rebalancing. `GET /v1/portfolio` shows each profile's holdings, value,
//! current and target weights and state. `POST /v1/rebalance/{profile}` computes the
//! profile's plan (its strategy and randomization, over live balances, prices and open
//! orders); with `"dry_run": true` it answers the plan, otherwise each planned order goes
//! through the path of `POST /v1/orders` (idempotency claim, audit, state check, risk gate,
//! router) under the id `<plan id><index>`. Refused while HALTED; audited as
//! `rebalance.planned` and `rebalance.executed`. [`rebalance`] is the same path for callers
//! inside the process (the scheduler of `tradeguard serve`).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tradeguard_risk::ids::ProfileId;
use tradeguard_risk::profile::TradingState;

use super::orders::{OrderRequest, place};
use crate::audit::GatewayEvent;
use crate::auth::Authenticated;
use crate::error::{GatewayError, Result};
use crate::portfolio::{PlanError, PlanView, PortfolioView, new_plan_id};
use crate::principal::Principal;
use crate::state::AppState;
use crate::trading::TradingMode;

/// The body of `POST /v1/rebalance/{profile}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebalanceRequest {
    /// `true`: answer the plan without trading.
    pub dry_run: bool,
}

/// What one planned order became.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderOutcome {
    /// The order's client order id.
    pub client_order_id: String,
    /// The status `POST /v1/orders` answered (201 placed; 4xx refused; 5xx failed).
    pub status: u16,
    /// Its body: the order, or a problem document.
    pub body: Value,
}

/// The answer of `POST /v1/rebalance/{profile}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RebalanceOutcome {
    /// The plan.
    #[serde(flatten)]
    pub plan: PlanView,
    /// Whether nothing was traded on purpose.
    pub dry_run: bool,
    /// The profile's state when planned (the stricter of the gateway's and its own).
    pub state: TradingState,
    /// One entry per planned order (empty on a dry run).
    pub results: Vec<OrderOutcome>,
}

impl RebalanceOutcome {
    /// Orders placed (answered 201).
    pub fn placed(&self) -> usize {
        self.results.iter().filter(|r| r.status == 201).count()
    }
}

/// The gateway's trading mode as a profile state.
fn gateway_state(mode: TradingMode) -> TradingState {
    match mode {
        TradingMode::Active => TradingState::Active,
        TradingMode::Reducing => TradingState::Reducing,
        TradingMode::Halted => TradingState::Halted,
    }
}

fn plan_error(e: PlanError) -> GatewayError {
    match e {
        PlanError::UnknownProfile(_) => GatewayError::NotFound {
            what: "profile".into(),
        },
        PlanError::Disabled => GatewayError::Conflict {
            slug: "rebalancing-disabled",
            reason: e.to_string(),
        },
        other => GatewayError::Conflict {
            slug: "plan-unavailable",
            reason: format!("no plan can be computed now: {other}; retry after the next poll"),
        },
    }
}

/// `GET /v1/portfolio`.
pub async fn portfolio(
    State(state): State<AppState>,
    _auth: Authenticated<Principal, ()>,
) -> Result<Json<Value>> {
    let global = gateway_state(state.trading.mode());
    let mut list: Vec<PortfolioView> = state.portfolios.portfolios().await.map_err(plan_error)?;
    for p in &mut list {
        p.state = p.state.max(global);
    }
    Ok(Json(json!({"portfolios": list})))
}

/// `POST /v1/rebalance/{profile}`.
pub async fn post(
    State(state): State<AppState>,
    Path(profile): Path<String>,
    auth: Authenticated<Principal, RebalanceRequest>,
) -> Result<Json<RebalanceOutcome>> {
    let profile = ProfileId::new(&profile).map_err(|_| GatewayError::NotFound {
        what: "profile".into(),
    })?;
    rebalance(&state, &auth.principal, &profile, auth.body.dry_run)
        .await
        .map(Json)
}

async fn audit(state: &AppState, event: GatewayEvent) -> Result<()> {
    state
        .audit
        .append(event)
        .await
        .map_err(|_| GatewayError::AuditUnavailable)
}

fn halted(profile: &ProfileId, global: TradingState) -> GatewayError {
    if global == TradingState::Halted {
        GatewayError::Conflict {
            slug: "trading-halted",
            reason: "trading is HALTED; no rebalance runs until the quorum resumes it".into(),
        }
    } else {
        GatewayError::Conflict {
            slug: "profile-halted",
            reason: format!(
                "profile `{profile}` is HALTED (a breaker or the operator); no rebalance runs until it is resumed"
            ),
        }
    }
}

/// Marks a profile as rebalancing in this replica until dropped.
struct Running<'a> {
    state: &'a AppState,
    profile: String,
}

impl<'a> Running<'a> {
    fn start(state: &'a AppState, profile: &ProfileId) -> Result<Self> {
        let mut set = state.rebalancing.lock().unwrap_or_else(|p| p.into_inner());
        if !set.insert(profile.as_str().to_owned()) {
            return Err(GatewayError::Conflict {
                slug: "rebalance-in-progress",
                reason: format!(
                    "a rebalance of profile `{profile}` is running; retry once it has finished"
                ),
            });
        }
        Ok(Self {
            state,
            profile: profile.as_str().to_owned(),
        })
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut set = self
            .state
            .rebalancing
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        set.remove(&self.profile);
    }
}

/// Plans `profile`'s rebalance as `who` and, unless `dry_run`, places the plan's orders one
/// by one through the path of `POST /v1/orders`. Refused while the gateway or the profile is
/// HALTED (a dry run too, so a halted profile shows no trading intent), and while another
/// rebalance of the profile runs in this replica (409 `rebalance-in-progress`: two plans
/// computed at once would not see each other's orders).
pub async fn rebalance(
    state: &AppState,
    who: &Principal,
    profile: &ProfileId,
    dry_run: bool,
) -> Result<RebalanceOutcome> {
    let _running = if dry_run {
        None
    } else {
        Some(Running::start(state, profile)?)
    };
    let global = gateway_state(state.trading.mode());
    if global == TradingState::Halted {
        return Err(halted(profile, global));
    }
    let planned = state.portfolios.plan(profile).await.map_err(plan_error)?;
    let effective = planned.state.max(global);
    if effective == TradingState::Halted {
        return Err(halted(profile, global));
    }
    let view = PlanView::new(profile, &new_plan_id(profile), &planned.plan);
    let event = GatewayEvent::new("rebalance.planned")
        .field("principal", who.keyid.as_str())
        .field("profile", profile.as_str())
        .field("plan_id", view.plan_id.as_str())
        .field("dry_run", dry_run)
        .field("state", json!(effective))
        .field("orders", json!(view.orders))
        .field("skipped", view.skipped.len());
    audit(state, event).await?;
    let mut outcome = RebalanceOutcome {
        plan: view,
        dry_run,
        state: effective,
        results: Vec::new(),
    };
    if dry_run {
        return Ok(outcome);
    }
    for o in &outcome.plan.orders {
        outcome
            .results
            .push(place_one(state, who, profile, o).await);
    }
    let summary: Vec<Value> = outcome
        .results
        .iter()
        .map(|r| json!({"client_order_id": r.client_order_id, "status": r.status}))
        .collect();
    let event = GatewayEvent::new("rebalance.executed")
        .field("principal", who.keyid.as_str())
        .field("profile", profile.as_str())
        .field("plan_id", outcome.plan.plan_id.as_str())
        .field("orders", Value::Array(summary))
        .field("placed", outcome.placed());
    if let Err(e) = state.audit.append(event).await {
        // Each order was audited on its own path; only the summary is missing.
        tracing::error!(error = %e, "rebalance summary not audited");
    }
    Ok(outcome)
}

/// Places one planned order through `POST /v1/orders`' handler.
async fn place_one(
    state: &AppState,
    who: &Principal,
    profile: &ProfileId,
    o: &crate::portfolio::PlannedOrder,
) -> OrderOutcome {
    let body = OrderRequest {
        client_order_id: Some(o.client_order_id.clone()),
        profile: Some(profile.as_str().to_owned()),
        symbol: Some(o.symbol.clone()),
        side: Some(o.side),
        order_type: Some("limit".into()),
        price: Some(o.price),
        quantity: Some(o.quantity),
        require_confirmation: false,
        confirmation_token: None,
    };
    let auth = Authenticated {
        principal: who.clone(),
        body,
        evidence: String::new(),
    };
    let response = match place(State(state.clone()), auth).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    OrderOutcome {
        client_order_id: o.client_order_id.clone(),
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}
