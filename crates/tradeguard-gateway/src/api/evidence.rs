//! Evidence for auditors, scope `read` (sessions may read it):
//! - `GET /v1/audit/checkpoint`: `{"checkpoint":"<C2SP signed note>"}`, the latest signed
//!   checkpoint, in the form of the last line of `tradeguard audit export`;
//! - `GET /v1/audit/entries?start=S&end=E`: entries `S..E` (at most [`MAX_ENTRIES_PAGE`]) as
//!   JSON lines, each line an entry's exact canonical bytes (the entry lines of an export; the
//!   checkpoint answer appended to entries `0..size` makes a file `audit verify --log` checks);
//! - `GET /v1/audit/proof/inclusion?index=I&size=N` and
//!   `GET /v1/audit/proof/consistency?old=M&new=N`: the JSON `tradeguard audit proof` prints;
//! - `GET /v1/analytics[?from=F][&to=T]`: the signed performance report file over the equity
//!   history from `F` to `T` (Unix milliseconds; the report source's default when left out).
//!
//! A malformed query (a parameter missing, repeated, unknown or not a decimal integer in
//! range) is refused with 400; a well-formed one the log cannot answer (an index at or past
//! the size, a size past the log, an inverted range) with 422.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::Authenticated;
use crate::error::GatewayError;
use crate::evidence::{AuditEvidence, EvidenceError, MAX_ENTRIES_PAGE, ReportSource, ReportWindow};
use crate::input::{query_integers, query_optional_integers};
use crate::principal::Principal;
use crate::problem::Problem;
use crate::state::AppState;

/// The media type of an entries page (JSON lines).
pub const JSON_LINES: &str = "application/jsonl";

/// What an evidence handler answers.
type Answer<T = Response> = std::result::Result<T, Problem>;

impl From<EvidenceError> for Problem {
    fn from(e: EvidenceError) -> Self {
        match e {
            EvidenceError::OutOfRange(reason) => {
                GatewayError::unprocessable("range", reason).problem()
            }
            EvidenceError::NotYet(what) => GatewayError::NotFound { what }.problem(),
            EvidenceError::Unavailable(reason) => {
                tracing::warn!(%reason, "evidence unavailable");
                Problem::new(
                    "evidence-unavailable",
                    "Evidence unavailable",
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("{reason}; retry later"),
                )
                .with_retry_after(1)
            }
        }
    }
}

fn not_found(what: &str) -> Problem {
    GatewayError::NotFound { what: what.into() }.problem()
}

fn log(state: &AppState) -> Answer<Arc<dyn AuditEvidence>> {
    state.evidence.clone().ok_or_else(|| {
        not_found(
            "audit evidence (this gateway was started without its audit log wired to the API)",
        )
    })
}

fn reports(state: &AppState) -> Answer<Arc<dyn ReportSource>> {
    state.reports.clone().ok_or_else(|| {
        not_found("performance report (this gateway was started without a report source)")
    })
}

fn out_of_range(reason: String) -> Problem {
    GatewayError::unprocessable("range", reason).problem()
}

/// `GET /v1/audit/checkpoint`.
pub async fn checkpoint(
    State(state): State<AppState>,
    _auth: Authenticated<Principal, ()>,
) -> Answer {
    let cp = log(&state)?.checkpoint().await?.ok_or_else(|| {
        not_found("signed checkpoint (the log has none yet; the gateway signs one periodically)")
    })?;
    let line = tradeguard_audit::export::checkpoint_line(&cp).map_err(|e| {
        GatewayError::Internal {
            reason: e.to_string(),
        }
        .problem()
    })?;
    Ok(with_type(line.into_bytes(), "application/json"))
}

/// `GET /v1/audit/entries?start=S&end=E`.
pub async fn entries(
    State(state): State<AppState>,
    uri: Uri,
    _auth: Authenticated<Principal, ()>,
) -> Answer {
    let [start, end] =
        query_integers(uri.query(), [("start", 0), ("end", 1)]).map_err(|e| e.problem())?;
    let log = log(&state)?;
    if start >= end {
        return Err(out_of_range(format!(
            "start ({start}) must be below end ({end})"
        )));
    }
    if end - start > MAX_ENTRIES_PAGE {
        return Err(out_of_range(format!(
            "at most {MAX_ENTRIES_PAGE} entries per page; ask for end <= start + {MAX_ENTRIES_PAGE}"
        )));
    }
    let size = log.size().await?;
    if end > size {
        return Err(out_of_range(format!(
            "end ({end}) is past the log's {size} entries"
        )));
    }
    let mut body = Vec::new();
    for entry in log.entries(start, end).await? {
        body.extend_from_slice(&entry);
        body.push(b'\n');
    }
    Ok(with_type(body, JSON_LINES))
}

/// `GET /v1/audit/proof/inclusion?index=I&size=N`.
pub async fn inclusion(
    State(state): State<AppState>,
    uri: Uri,
    _auth: Authenticated<Principal, ()>,
) -> Answer {
    let [index, size] =
        query_integers(uri.query(), [("index", 0), ("size", 1)]).map_err(|e| e.problem())?;
    let log = log(&state)?;
    if index >= size {
        return Err(out_of_range(format!(
            "index ({index}) must be below size ({size})"
        )));
    }
    check_size(log.as_ref(), size).await?;
    let proof = log.inclusion_proof(index, size).await?;
    Ok(json_response(&proof.to_json()))
}

/// `GET /v1/audit/proof/consistency?old=M&new=N`.
pub async fn consistency(
    State(state): State<AppState>,
    uri: Uri,
    _auth: Authenticated<Principal, ()>,
) -> Answer {
    let [old, new] =
        query_integers(uri.query(), [("old", 1), ("new", 1)]).map_err(|e| e.problem())?;
    let log = log(&state)?;
    if old > new {
        return Err(out_of_range(format!(
            "old ({old}) must not be above new ({new})"
        )));
    }
    check_size(log.as_ref(), new).await?;
    let proof = log.consistency_proof(old, new).await?;
    Ok(json_response(&proof.to_json()))
}

async fn check_size(log: &dyn AuditEvidence, size: u64) -> Answer<()> {
    let stored = log.size().await?;
    if size > stored {
        return Err(out_of_range(format!(
            "size ({size}) is past the log's {stored} entries"
        )));
    }
    Ok(())
}

/// `GET /v1/analytics[?from=F][&to=T]` (Unix milliseconds, `from` below `to`).
pub async fn analytics(
    State(state): State<AppState>,
    uri: Uri,
    _auth: Authenticated<Principal, ()>,
) -> Answer {
    let [from, to] =
        query_optional_integers(uri.query(), [("from", 0), ("to", 1)]).map_err(|e| e.problem())?;
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        return Err(out_of_range(format!(
            "from ({from}) must be below to ({to})"
        )));
    }
    // The parser keeps both at most i64::MAX.
    let ms = |v: Option<u64>| v.and_then(|v| i64::try_from(v).ok());
    let window = ReportWindow {
        from_ms: ms(from),
        to_ms: ms(to),
    };
    let report = reports(&state)?.signed_report_in(window).await?;
    Ok(with_type(report, "application/json"))
}

fn json_response(v: &Value) -> Response {
    with_type(v.to_string().into_bytes(), "application/json")
}

fn with_type(body: Vec<u8>, media_type: &'static str) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    resp
}

/// The OpenAPI query parameters and 200 answer of an evidence endpoint, `None` for others.
pub(super) fn openapi(path: &str) -> Option<(Vec<Value>, Value)> {
    let int = |name: &str, min: u64, description: &str| {
        json!({"name": name, "in": "query", "required": true, "description": description,
            "schema": {"type": "integer", "minimum": min, "maximum": i64::MAX}})
    };
    let optional = |name: &str, min: u64, description: &str| {
        let mut p = int(name, min, description);
        p["required"] = json!(false);
        p
    };
    let json_ok = |description: &str, schema: Value| json!({"description": description, "content": {"application/json": {"schema": schema}}});
    let b64 = json!({"type": "string", "pattern": "^[A-Za-z0-9+/]{43}=$"});
    let hashes = json!({"type": "array", "items": b64.clone()});
    let count = json!({"type": "integer", "minimum": 0});
    let strict = |required: &[&str], properties: Value| {
        json!({"type": "object", "additionalProperties": false, "required": required,
            "properties": properties})
    };
    let answer = match path {
        "/v1/audit/checkpoint" => (
            Vec::new(),
            json_ok(
                "the latest signed checkpoint: a C2SP tlog-checkpoint signed note (origin, tree size, base64 root hash, then `— <key name> <signature>` lines), as the last line of `tradeguard audit export`",
                strict(&["checkpoint"], json!({"checkpoint": {"type": "string"}})),
            ),
        ),
        "/v1/audit/entries" => (
            vec![
                int("start", 0, "first entry (its seq)"),
                int(
                    "end",
                    1,
                    "one past the last entry; end - start at most MAX_ENTRIES_PAGE (1000), end at most the log size (else 422)",
                ),
            ],
            json!({"description": "one entry per line, each its exact canonical JSON bytes (RFC 8785), in seq order",
                "content": {JSON_LINES: {"schema": {"type": "string"}}}}),
        ),
        "/v1/audit/proof/inclusion" => (
            vec![
                int("index", 0, "the entry (below size, else 422)"),
                int(
                    "size",
                    1,
                    "tree size the proof is for (at most the log size, else 422)",
                ),
            ],
            json_ok(
                "RFC 9162 inclusion proof, hashes in standard base64 (as `tradeguard audit proof --seq` prints)",
                strict(
                    &["type", "seq", "tree_size", "leaf_hash", "proof"],
                    json!({"type": {"const": "inclusion"}, "seq": count, "tree_size": count,
                        "leaf_hash": b64, "proof": hashes}),
                ),
            ),
        ),
        "/v1/audit/proof/consistency" => (
            vec![
                int("old", 1, "the older tree size (at most new, else 422)"),
                int(
                    "new",
                    1,
                    "the newer tree size (at most the log size, else 422)",
                ),
            ],
            json_ok(
                "RFC 9162 consistency proof, hashes in standard base64 (as `tradeguard audit proof --from` prints)",
                strict(
                    &["type", "size1", "size2", "proof"],
                    json!({"type": {"const": "consistency"}, "size1": count, "size2": count,
                        "proof": hashes}),
                ),
            ),
        ),
        "/v1/analytics" => (
            vec![
                optional(
                    "from",
                    0,
                    "start of the equity history reported, Unix milliseconds, inclusive (default: 30 days before `to`)",
                ),
                optional(
                    "to",
                    1,
                    "end of the equity history reported, Unix milliseconds, exclusive (default: now); above `from` (else 422)",
                ),
            ],
            json_ok(
                "the signed report (tradeguard-report/v1): `report` in RFC 8785 canonical form, bound to an audit checkpoint, and a detached Ed25519 signature over `tradeguard-report-v1\\n` || JCS(report) by the gateway key; `tradeguard report verify FILE` checks it",
                strict(
                    &["report", "signature"],
                    json!({
                        "report": {"type": "object", "required": ["format", "generated_at", "checkpoint", "kind", "data"],
                            "properties": {"format": {"const": "tradeguard-report/v1"},
                                "generated_at": {"type": "string"},
                                "checkpoint": strict(&["origin", "tree_size", "root_hash"], json!({
                                    "origin": {"type": "string"}, "tree_size": count, "root_hash": b64})),
                                "kind": {"enum": ["equity", "ledger"]}, "data": {"type": "object"}}},
                        "signature": strict(&["alg", "public_key", "sig"], json!({
                            "alg": {"const": "ed25519"},
                            "public_key": {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"},
                            "sig": {"type": "string", "pattern": "^[A-Za-z0-9_-]{86}$"}}))}),
                ),
            ),
        ),
        _ => return None,
    };
    Some(answer)
}
