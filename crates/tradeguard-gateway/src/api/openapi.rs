//! The OpenAPI 3.1 document served at `GET /v1/openapi.json`, built from [`ENDPOINTS`] (so
//! every protected route is documented with its scope) plus the request and answer schemas
//! below. A test checks every documented operation against the router.

use serde_json::{Value, json};

use super::{ENDPOINTS, Endpoint, PUBLIC_ENDPOINTS};
use crate::auth::Need;

fn problem_ref() -> Value {
    json!({"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

fn ok_json(schema: Value) -> Value {
    json!({"content": {"application/json": {"schema": schema}}})
}

fn order_request() -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": {
        "client_order_id": {"type": "string"}, "profile": {"type": "string"},
        "symbol": {"type": "string", "description": "BASE/QUOTE"},
        "side": {"enum": ["buy", "sell"]}, "type": {"enum": ["market", "limit"]},
        "price": {"type": "string"}, "quantity": {"type": "string"},
        "require_confirmation": {"type": "boolean"}, "confirmation_token": {"type": "string"}}})
}

/// (request body schema, success status, success schema) of an endpoint.
fn shapes(e: &Endpoint) -> (Option<Value>, &'static str, Value) {
    let obj = json!({"type": "object"});
    let proposal = json!({"type": "object", "properties": {"proposal": {"type": "object"}}});
    match (e.method, e.path) {
        ("POST", "/v1/sessions") => (
            Some(
                json!({"type": ["object", "null"], "additionalProperties": false,
                "properties": {"ttl_secs": {"type": "integer", "minimum": 300}}}),
            ),
            "201",
            json!({"type": "object", "required": ["token", "expires_ms", "scopes"]}),
        ),
        ("POST", "/v1/orders") => (Some(order_request()), "201", obj),
        ("POST", "/v1/halt") => (
            Some(
                json!({"type": ["object", "null"], "additionalProperties": false, "properties": {
                "mode": {"enum": ["HALTED", "REDUCING"]}, "reason": {"type": "string"}}}),
            ),
            "200",
            json!({"type": "object", "required": ["state", "sessions_ended", "cancels", "cancel_ms", "audit", "persisted"]}),
        ),
        ("POST", "/v1/principals") => (
            Some(
                json!({"type": "object", "additionalProperties": false, "required": ["keyid", "scopes"],
                "properties": {"keyid": {"type": "string"}, "kind": {"enum": ["ed25519", "hmac-sha256"]},
                "scopes": {"type": "array", "items": {"$ref": "#/components/schemas/Scope"}},
                "label": {"type": "string"}}}),
            ),
            "202",
            proposal,
        ),
        ("POST", "/v1/approvals") => (
            Some(
                json!({"type": "object", "additionalProperties": false, "required": ["proposal_id"],
                "properties": {"proposal_id": {"type": "string"}}}),
            ),
            "200",
            proposal,
        ),
        ("PUT", "/v1/risk/limits") => (Some(json!({"type": "object"})), "202", proposal),
        ("POST", "/v1/credentials") => (
            Some(json!({"type": "object", "required": ["v", "kem", "kdf", "aead", "enc", "ct"]})),
            "202",
            proposal,
        ),
        ("POST", "/v1/resume") | ("DELETE", "/v1/principals/{keyid}") => (None, "202", proposal),
        _ => (None, "200", obj),
    }
}

fn scope_text(need: Need) -> String {
    match need {
        Need::Scope(s) => format!("Requires scope `{s}`."),
        Need::AnyOf(list) => {
            let names: Vec<&str> = list.iter().map(|s| s.as_str()).collect();
            format!(
                "Requires one of the scopes {}; the caller must also be a configured approver.",
                names.join(", ")
            )
        }
    }
}

fn operation(e: &Endpoint) -> Value {
    let (body, status, schema) = shapes(e);
    let mut responses = serde_json::Map::new();
    responses.insert(status.into(), ok_json(schema));
    for code in [
        "400", "401", "403", "404", "409", "413", "422", "429", "502", "503",
    ] {
        responses.insert(code.into(), problem_ref());
    }
    let params: Vec<Value> = e
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    let mut op = json!({
        "summary": format!("{} {}", e.method, e.path),
        "description": format!("{} Signed per RFC 9421 (ed25519 or hmac-sha256) covering @method, @path, @query, content-digest (and content-type with a body), with created, nonce, keyid and alg; reads also accept a session bearer token.", scope_text(e.need)),
        "security": [{"httpSignature": []}, {"session": []}],
        "parameters": params,
        "responses": responses,
    });
    if let Some(schema) = body {
        op["requestBody"] =
            json!({"required": false, "content": {"application/json": {"schema": schema}}});
    }
    op
}

/// The OpenAPI document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path) in PUBLIC_ENDPOINTS {
        paths.entry(path.to_string()).or_insert_with(|| json!({}))[method.to_lowercase()] = json!({"summary": format!("{method} {path}"), "security": [],
                   "responses": {"200": ok_json(json!({"type": "object"}))}});
    }
    for e in ENDPOINTS {
        paths.entry(e.path.to_string()).or_insert_with(|| json!({}))[e.method.to_lowercase()] =
            operation(e);
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "tradeguard gateway", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "httpSignature": {"type": "apiKey", "in": "header", "name": "Signature",
                    "description": "RFC 9421 Signature and Signature-Input headers, RFC 9530 Content-Digest"},
                "session": {"type": "http", "scheme": "bearer", "description": "read scopes only"}
            },
            "schemas": {
                "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                    "detail": {"type": "string"}, "check": {"type": "string"}, "retry_after": {"type": "integer"}}},
                "Scope": {"enum": crate::scope::Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()}
            }
        }
    })
}
