//! The OpenAPI 3.1 document served at `GET /v1/openapi.json`, built from [`ENDPOINTS`] (so
//! every protected route is documented with its scope) plus the request and answer schemas
//! below. A test checks every documented operation against the router, and schemathesis
//! (tests/interop/schemathesis_run.sh) checks the server against the document.
//!
//! The request schemas describe the *shape* the server accepts: a body that does not match is
//! refused with 400. A body of the right shape can still be refused on its meaning with 422
//! (a `keyid` that is no `did:key`, an envelope that does not decode, an order the risk engine
//! refuses) or on the gateway's state with 409 (halted, idempotency key reused).

use serde_json::{Value, json};

use super::orders::DECIMAL_PATTERN;
use super::{ENDPOINTS, Endpoint, PUBLIC_ENDPOINTS};
use crate::auth::Need;
use crate::config::{GatewayConfig, MIN_SESSION_TTL};

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn problem_ref() -> Value {
    json!({"description": "RFC 9457 problem document",
        "content": {"application/problem+json": {"schema": schema_ref("Problem")}}})
}

fn ok_json(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn nullable(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "null"}]})
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "additionalProperties": false, "required": required,
        "properties": properties})
}

/// A request body: its schema and whether it may be left out.
struct Body {
    schema: Value,
    required: bool,
}

/// What one endpoint takes and answers on success.
struct Shape {
    body: Option<Body>,
    ok: Vec<(&'static str, &'static str, Value)>,
}

fn proposal_answers() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "200",
            "the quorum is complete: the action ran",
            schema_ref("ProposalAnswer"),
        ),
        (
            "202",
            "the proposal waits for more approvals",
            schema_ref("ProposalAnswer"),
        ),
    ]
}

fn shape(e: &Endpoint, config: &GatewayConfig) -> Shape {
    let body = |schema: Value, required: bool| Some(Body { schema, required });
    let list = |key: &str, item: &str| {
        object(
            &[key],
            json!({key: {"type": "array", "items": schema_ref(item)}}),
        )
    };
    match (e.method, e.path) {
        ("POST", "/v1/sessions") => Shape {
            body: body(
                nullable(object(
                    &[],
                    json!({"ttl_secs": nullable(json!({"type": "integer",
                    "minimum": MIN_SESSION_TTL.as_secs(), "maximum": config.session_ttl.as_secs()}))}),
                )),
                false,
            ),
            ok: vec![("201", "a read-only session", schema_ref("Session"))],
        },
        ("GET", "/v1/state") => Shape {
            body: None,
            ok: vec![(
                "200",
                "the trading state",
                object(&["state"], json!({"state": schema_ref("TradingMode")})),
            )],
        },
        ("POST", "/v1/orders") => Shape {
            body: body(
                json!({"oneOf": [schema_ref("NewOrder"), schema_ref("Confirmation")]}),
                true,
            ),
            ok: vec![
                (
                    "201",
                    "the order was placed (or this is the recorded answer to the same request)",
                    schema_ref("Order"),
                ),
                (
                    "200",
                    "a preview and a one-time confirmation token (require_confirmation)",
                    schema_ref("Preview"),
                ),
            ],
        },
        ("GET", "/v1/orders") => Shape {
            body: None,
            ok: vec![("200", "every known order", list("orders", "Order"))],
        },
        ("DELETE", "/v1/orders/{id}") => Shape {
            body: None,
            ok: vec![("200", "the cancelled order", schema_ref("Order"))],
        },
        ("GET", "/v1/balances") => Shape {
            body: None,
            ok: vec![("200", "balances", list("balances", "Balance"))],
        },
        ("GET", "/v1/portfolio") => Shape {
            body: None,
            ok: vec![(
                "200",
                "every profile's holdings, value, weights and state",
                list("portfolios", "Portfolio"),
            )],
        },
        ("POST", "/v1/rebalance/{profile}") => Shape {
            body: body(
                object(
                    &["dry_run"],
                    json!({"dry_run": {"type": "boolean",
                    "description": "true: answer the plan without trading"}}),
                ),
                true,
            ),
            ok: vec![(
                "200",
                "the plan, and unless dry_run what each of its orders became",
                schema_ref("Rebalance"),
            )],
        },
        ("POST", "/v1/halt") => Shape {
            body: body(
                nullable(object(
                    &[],
                    json!({
                    "mode": nullable(json!({"enum": ["HALTED", "REDUCING"]})),
                    "reason": nullable(json!({"type": "string", "description": "audited; cut to 500 characters"}))}),
                )),
                false,
            ),
            ok: vec![("200", "what the halt did", schema_ref("HaltReport"))],
        },
        ("GET", "/v1/principals") => Shape {
            body: None,
            ok: vec![(
                "200",
                "every principal",
                list("principals", "PrincipalView"),
            )],
        },
        ("POST", "/v1/principals") => Shape {
            body: body(
                object(
                    &["keyid", "scopes"],
                    json!({
                "keyid": {"type": "string", "minLength": 1, "maxLength": super::admin::MAX_KEYID_CHARS,
                    "description": "did:key (ed25519) or an HMAC key id that does not start with did:"},
                "kind": nullable(json!({"enum": ["ed25519", "hmac-sha256"]})),
                "scopes": {"type": "array", "items": schema_ref("Scope")},
                "label": {"type": "string", "maxLength": super::admin::MAX_LABEL_CHARS}}),
                ),
                true,
            ),
            ok: proposal_answers(),
        },
        ("PUT", "/v1/risk/limits") => Shape {
            body: body(
                json!({"type": "object", "description": "risk limits, applied once approved"}),
                true,
            ),
            ok: proposal_answers(),
        },
        ("POST", "/v1/credentials") => Shape {
            body: body(schema_ref("Envelope"), true),
            ok: proposal_answers(),
        },
        ("GET", "/v1/approvals") => Shape {
            body: None,
            ok: vec![("200", "open proposals", list("proposals", "Proposal"))],
        },
        ("POST", "/v1/approvals") => Shape {
            body: body(
                object(&["proposal_id"], json!({"proposal_id": {"type": "string"}})),
                true,
            ),
            ok: proposal_answers(),
        },
        // GET /metrics: text, see super::metrics::openapi_answer.
        ("GET", "/metrics") => Shape {
            body: None,
            ok: Vec::new(),
        },
        // GET /v1/audit/*, GET /v1/analytics: see super::evidence::openapi.
        ("GET", p) if super::evidence::openapi(p).is_some() => Shape {
            body: None,
            ok: Vec::new(),
        },
        // POST /v1/resume, DELETE /v1/principals/{keyid}
        _ => Shape {
            body: None,
            ok: proposal_answers(),
        },
    }
}

/// OpenAPI links: what a client can do next with an answer (a placed order can be
/// cancelled, an open proposal approved).
fn links(e: &Endpoint, status: &str) -> Option<Value> {
    let proposal = matches!(status, "200" | "202") && shape_is_proposal(e);
    if (e.method, e.path, status) == ("POST", "/v1/orders", "201") {
        Some(
            json!({"CancelOrder": {"operationRef": "#/paths/~1v1~1orders~1{id}/delete",
            "parameters": {"id": "$response.body#/id"}}}),
        )
    } else if proposal {
        Some(
            json!({"Approve": {"operationRef": "#/paths/~1v1~1approvals/post",
            "requestBody": {"proposal_id": "$response.body#/proposal/id"}}}),
        )
    } else {
        None
    }
}

fn shape_is_proposal(e: &Endpoint) -> bool {
    matches!(
        (e.method, e.path),
        ("POST", "/v1/resume")
            | ("POST", "/v1/principals")
            | ("DELETE", "/v1/principals/{keyid}")
            | ("PUT", "/v1/risk/limits")
            | ("POST", "/v1/credentials")
    )
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

fn operation(e: &Endpoint, config: &GatewayConfig) -> Value {
    let shape = shape(e, config);
    let mut responses = serde_json::Map::new();
    for (status, description, schema) in shape.ok {
        let mut answer = ok_json(description, schema);
        if let Some(links) = links(e, status) {
            answer["links"] = links;
        }
        responses.insert(status.into(), answer);
    }
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
        .map(|mut p| {
            if p["name"] == "profile" {
                p["example"] = json!("p1"); // the profile the example servers configure
            }
            p
        })
        .collect();
    let mut op = json!({
        "summary": format!("{} {}", e.method, e.path),
        "description": format!("{} Signed per RFC 9421 (ed25519 or hmac-sha256) covering @method, @path, @query, content-digest (and content-type with a body), with created, nonce, keyid and alg; reads also accept a session bearer token.", scope_text(e.need)),
        "security": [{"httpSignature": []}, {"session": []}],
        "parameters": params,
        "responses": responses,
    });
    if let Some((query, answer)) = super::evidence::openapi(e.path) {
        op["parameters"] = Value::Array(query);
        op["responses"]["200"] = answer;
    }
    if e.path == super::METRICS_PATH {
        op["responses"]["200"] = super::metrics::openapi_answer();
    }
    if let Some(body) = shape.body {
        op["requestBody"] = json!({"required": body.required,
            "content": {"application/json": {"schema": body.schema}}});
    }
    op
}

fn public_operation(method: &str, path: &str) -> Value {
    if (method, path) == ("POST", "/v1/intents") {
        return intents_operation();
    }
    let schema = match path {
        "/v1/health" => object(&["status"], json!({"status": {"const": "ok"}})),
        "/v1/keys" => schema_ref("GatewayKeys"),
        _ => json!({"type": "object"}),
    };
    json!({"summary": format!("{method} {path}"), "security": [],
        "responses": {"200": ok_json("ok", schema)}})
}

/// `POST /v1/intents`: no identity outside the seal, and one answer for every packet (real,
/// dummy, query, or one that does not open), so the only other answers are the intake being
/// off (404) and the body limit (413).
fn intents_operation() -> Value {
    json!({"summary": "POST /v1/intents",
    "description": "One sealed intent packet (an HPKE envelope, info `tradeguard/v1 intent`, padded to the configured packet size). No HTTP authentication: the principal's did:key and Ed25519 signature are inside the seal. Every packet, real, dummy, status query or one that fails to open, is answered 202 with one sealed answer of fixed size.",
    "security": [],
    // Any body is answered alike (a packet that does not open looks like any other), so
    // the schema constrains nothing (an empty body included); a client sends an `Envelope`.
    "requestBody": {"required": false,
        "content": {"application/json": {"schema": {
            "description": "an Envelope (#/components/schemas/Envelope) sealed with info `tradeguard/v1 intent`; any other body, or none, is answered 202 the same way"}}}},
    "responses": {
        "202": ok_json("the sealed answer (unpadded base64url of a fixed-size HPKE-sealed response)",
            object(&["v", "answer"], json!({"v": {"const": 1},
                "answer": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"}}))),
        "404": problem_ref(),
        "413": problem_ref(),
    }})
}

/// The OpenAPI document for a gateway running with `config`.
pub fn document(config: &GatewayConfig) -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path) in PUBLIC_ENDPOINTS {
        paths.entry(path.to_string()).or_insert_with(|| json!({}))[method.to_lowercase()] =
            public_operation(method, path);
    }
    for e in ENDPOINTS {
        paths.entry(e.path.to_string()).or_insert_with(|| json!({}))[e.method.to_lowercase()] =
            operation(e, config);
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
            "schemas": schemas(),
        }
    })
}

/// `GET /v1/portfolio`'s item ([`crate::portfolio::PortfolioView`]).
fn portfolio_schema() -> Value {
    let (string, maybe) = (
        json!({"type": "string"}),
        json!({"type": ["string", "null"]}),
    );
    let holding = object(
        &["asset", "quantity", "price", "value", "weight", "target"],
        json!({"asset": string, "quantity": string, "price": maybe, "value": maybe,
            "weight": maybe, "target": string}),
    );
    object(
        &[
            "profile",
            "account",
            "quote",
            "state",
            "value",
            "cash",
            "holdings",
            "open_orders",
        ],
        json!({"profile": string, "account": string, "quote": string,
            "state": schema_ref("TradingMode"), "value": maybe, "cash": string,
            "holdings": {"type": "array", "items": holding}, "open_orders": {"type": "integer"}}),
    )
}

/// `POST /v1/rebalance/{profile}`'s answer ([`super::RebalanceOutcome`]).
fn rebalance_schema() -> Value {
    let string = json!({"type": "string"});
    let side = json!({"enum": ["buy", "sell"]});
    let order = object(
        &[
            "client_order_id",
            "symbol",
            "side",
            "type",
            "price",
            "quantity",
        ],
        json!({"client_order_id": string, "symbol": string, "side": side,
            "type": {"const": "limit"}, "price": string, "quantity": string}),
    );
    let skipped = object(
        &["asset", "side", "notional", "reason"],
        json!({"asset": string, "side": side, "notional": string, "reason": string}),
    );
    let result = object(
        &["client_order_id", "status", "body"],
        json!({"client_order_id": string, "status": {"type": "integer"},
            "body": {"description": "an Order, or a problem document"}}),
    );
    let array = |items: Value| json!({"type": "array", "items": items});
    object(
        &[
            "plan_id", "profile", "model", "targets", "orders", "skipped", "dry_run", "state",
            "results",
        ],
        json!({"plan_id": string, "profile": string, "model": string,
            "targets": {"type": "object", "additionalProperties": string},
            "orders": array(order), "skipped": array(skipped),
            "dry_run": {"type": "boolean"}, "state": schema_ref("TradingMode"),
            "results": array(result)}),
    )
}

fn schemas() -> Value {
    let decimal = json!({"type": "string", "pattern": DECIMAL_PATTERN});
    let id = |max: u32| json!({"type": "string", "pattern": format!("^[A-Za-z0-9_-]{{1,{max}}}$")});
    let string = json!({"type": "string"});
    let int = json!({"type": "integer"});
    let b64url = json!({"type": "string", "pattern": super::admin::BASE64URL_PATTERN});
    json!({
        "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
            "type": string, "title": string, "status": int, "detail": string,
            "check": string, "retry_after": int}},
        "Scope": {"enum": crate::scope::Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()},
        "TradingMode": {"enum": ["ACTIVE", "REDUCING", "HALTED"]},
        "Session": object(&["token", "expires_ms", "scopes"], json!({
            "token": {"type": "string", "pattern": "^tgs_"}, "expires_ms": int,
            "scopes": {"type": "array", "items": schema_ref("Scope")}})),
        "NewOrder": object(&["client_order_id", "profile", "symbol", "side", "type", "quantity"], json!({
            "client_order_id": id(36), "profile": id(64),
            "symbol": {"type": "string", "pattern": "^[A-Z0-9]{1,20}/[A-Z0-9]{1,20}$", "description": "BASE/QUOTE"},
            "side": {"enum": ["buy", "sell"]},
            "type": {"enum": ["market", "limit"], "description": "a limit order needs a price, a market order takes none (else 422)"},
            "price": nullable(decimal.clone()), "quantity": decimal,
            "require_confirmation": {"type": "boolean"}, "confirmation_token": {"type": "null"}}))
            .as_object().cloned().map(|mut o| {
                o.insert("examples".into(), json!([
                    {"client_order_id": "example-limit-1", "profile": "p1", "symbol": "BTC/USD",
                     "side": "buy", "type": "limit", "price": "50000", "quantity": "0.01"},
                    {"client_order_id": "example-preview-1", "profile": "p1", "symbol": "BTC/USD",
                     "side": "sell", "type": "market", "quantity": "0.01", "require_confirmation": true}]));
                Value::Object(o)
            }).unwrap_or_default(),
        "Confirmation": object(&["confirmation_token"], json!({
            "confirmation_token": string, "require_confirmation": {"const": false},
            "client_order_id": {"type": "null"}, "profile": {"type": "null"}, "symbol": {"type": "null"},
            "side": {"type": "null"}, "type": {"type": "null"}, "price": {"type": "null"},
            "quantity": {"type": "null"}})),
        "Order": object(&["id", "client_order_id", "profile", "symbol", "side", "quantity", "price", "status"], json!({
            "id": string, "client_order_id": string, "profile": string, "symbol": string, "side": string,
            "quantity": string, "price": {"type": ["string", "null"]}, "status": string})),
        "Preview": object(&["preview", "confirmation_token", "expires_ms"], json!({
            "preview": {"type": "object", "required": ["verdict", "estimate"], "properties": {
                "verdict": string, "estimate": object(&["notional", "fee", "quote"],
                    json!({"notional": string, "fee": string, "quote": string}))}},
            "confirmation_token": {"type": "string", "pattern": "^tgc_"}, "expires_ms": int})),
        "Balance": object(&["account", "asset", "free", "locked"], json!({
            "account": string, "asset": string, "free": string, "locked": string})),
        "Portfolio": portfolio_schema(),
        "Rebalance": rebalance_schema(),
        "HaltReport": object(&["state", "sessions_ended", "cancels", "cancel_ms", "audit", "persisted"], json!({
            "state": schema_ref("TradingMode"), "sessions_ended": int, "cancel_ms": int,
            "audit": {"enum": ["recorded", "failed"]}, "persisted": {"type": "boolean"},
            "cancels": {"type": "array", "items": object(&["venue", "cancelled", "failed"], json!({
                "venue": string, "cancelled": {"type": "array", "items": string},
                "failed": {"type": "array", "items": {"type": "array", "items": string}}}))}})),
        "PrincipalView": object(&["keyid", "kind", "scopes", "label", "revoked"], json!({
            "keyid": string, "kind": {"enum": ["ed25519", "hmac-sha256"]},
            "scopes": {"type": "array", "items": schema_ref("Scope")},
            "label": string, "revoked": {"type": "boolean"}})),
        "Proposal": object(&["id", "action", "payload", "proposer", "approvals", "required", "expires_ms", "status"], json!({
            "id": string, "action": {"enum": ["resume", "principal-change", "risk-limit-change", "credential-import"]},
            "payload": {}, "proposer": string, "approvals": int, "required": int, "expires_ms": int,
            "status": {"enum": ["open", "approved", "expired", "failed"]}})),
        "ProposalAnswer": object(&["proposal"], json!({"proposal": schema_ref("Proposal")})),
        "Envelope": object(&["v", "kem", "kdf", "aead", "enc", "ct"], json!({
            "v": {"const": 1}, "kem": {"enum": ["X25519-HKDF-SHA256", "X-Wing"]},
            "kdf": {"enum": ["HKDF-SHA256"]}, "aead": {"enum": ["AES-256-GCM", "ChaCha20-Poly1305"]},
            "enc": b64url.clone(), "ct": b64url})),
        "GatewayKeys": {"type": "object", "required": ["hpke", "signing"], "properties": {
            "hpke": {"type": "array", "items": object(&["kem", "public_key"], json!({"kem": string, "public_key": string}))},
            "signing": object(&["alg", "public_key", "did"], json!({"alg": {"const": "ed25519"}, "public_key": string, "did": string}))}},
    })
}
