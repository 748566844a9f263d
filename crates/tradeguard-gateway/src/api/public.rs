//! Public endpoints: health and the gateway's public keys.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::state::AppState;

/// `GET /v1/health`.
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /v1/keys`: the same JSON as `tradeguard keys`.
pub async fn keys(State(state): State<AppState>) -> Json<Value> {
    Json(state.keys.to_json())
}

/// `GET /v1/openapi.json`.
pub async fn openapi(State(state): State<AppState>) -> Json<Value> {
    Json(super::openapi::document(&state.config))
}
