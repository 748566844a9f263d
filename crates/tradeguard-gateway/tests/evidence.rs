//! The evidence endpoints: the checkpoint, entries and proofs served verify with
//! tradeguard-audit's own verifiers against the served checkpoint; malformed queries are 400
//! problems and ranges the log cannot answer 422; a gateway without evidence says so (404);
//! the served report verifies with the gateway key and is bound to the served checkpoint.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{HOST, T0_MS, send, test_config};
use serde_json::Value;
use tower::ServiceExt;
use tradeguard_analytics::{
    CheckpointRef, Conventions, Report, ReportBody, ReportFormat, SignedReport, Timestamp,
    analyze_equity, parse_equity_csv, sign_report,
};
use tradeguard_audit::checkpoint::SignedCheckpoint;
use tradeguard_audit::event::{AuditEvent, Redactor};
use tradeguard_audit::export::verify_export;
use tradeguard_audit::keys::{LogKey, LogSigner, verify_checkpoint};
use tradeguard_audit::log::{AuditLog, ConsistencyProof, InclusionProof};
use tradeguard_audit::merkle::{Hash, leaf_hash};
use tradeguard_crypto::did::encode_ed25519_did;
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_gateway::audit::AuditLogSink;
use tradeguard_gateway::client::{Freshness, Unsigned, signed_request};
use tradeguard_gateway::clock::{Clock, ManualClock};
use tradeguard_gateway::evidence::{EvidenceError, ReportSource, StoredLogEvidence};
use tradeguard_gateway::keys::GatewayKeys;
use tradeguard_gateway::principal::PrincipalRecord;
use tradeguard_gateway::scope::{Scope, ScopeSet};
use tradeguard_gateway::state::GatewayBuilder;
use tradeguard_httpsig::SigningKey;

const SEED: [u8; 32] = [7; 32];

/// A report over a fixed equity history, bound to the log's latest checkpoint, signed with
/// the gateway key.
struct EquityReports {
    log: AuditLog,
}

#[async_trait]
impl ReportSource for EquityReports {
    async fn signed_report(&self) -> Result<Vec<u8>, EvidenceError> {
        let cp = self
            .log
            .latest_checkpoint()
            .await
            .map_err(EvidenceError::from)?
            .ok_or_else(|| EvidenceError::NotYet("no checkpoint".into()))?;
        let c = cp.unverified();
        let series =
            parse_equity_csv("timestamp,value\n2024-01-01,100\n2024-01-02,104\n2024-01-03,101\n")
                .unwrap();
        let report = Report {
            format: ReportFormat,
            generated_at: Timestamp::parse("2024-01-04").unwrap(),
            checkpoint: CheckpointRef::new(c.origin(), c.size(), *c.root().as_bytes()).unwrap(),
            body: ReportBody::Equity(Box::new(
                analyze_equity(&series, &Conventions::default()).unwrap(),
            )),
        };
        let key = Ed25519SigningKey::from_seed(&SEED).unwrap();
        sign_report(&report, &key).map_err(|e| EvidenceError::Unavailable(e.to_string()))
    }
}

struct Env {
    app: axum::Router,
    log: AuditLog,
    caller: Ed25519SigningKey,
    did: String,
    clock: ManualClock,
}

async fn env(wired: bool) -> Env {
    let store = tradeguard_store::testing::sqlite().await;
    let clock = ManualClock::at_ms(T0_MS);
    let signer = LogSigner::new(
        "gw.test/audit",
        Ed25519SigningKey::from_seed(&SEED).unwrap(),
    )
    .unwrap();
    let redactor = Redactor::new(SecretBytes::new(vec![3; 32])).unwrap();
    let log = AuditLog::open(
        store.clone(),
        signer,
        redactor,
        Arc::new(tradeguard_audit::clock::ManualClock::at(T0_MS)),
    )
    .await
    .unwrap();
    let keys = GatewayKeys::new(
        Vec::new(),
        Arc::new(Ed25519SigningKey::from_seed(&SEED).unwrap()),
    );
    let mut builder =
        GatewayBuilder::new(store, keys, Arc::new(AuditLogSink(Arc::new(log.clone()))))
            .config(test_config())
            .clock(Arc::new(clock.clone()));
    if wired {
        builder = builder
            .evidence(Arc::new(StoredLogEvidence(log.clone())))
            .reports(Arc::new(EquityReports { log: log.clone() }));
    }
    let state = builder.build().await.unwrap();
    let caller = Ed25519SigningKey::generate().unwrap();
    let did = encode_ed25519_did(&caller.verifying_key());
    let record = PrincipalRecord::ed25519(&did, ScopeSet::of(&[Scope::Read]), "auditor").unwrap();
    state.directory.put(&record, clock.now_ms()).await.unwrap();
    let env = Env {
        app: tradeguard_gateway::api::router(state),
        log,
        caller,
        did,
        clock,
    };
    // The caller's first request opens its `auth.success` window: entry 0 of the log, so the
    // tests' own entries follow it and the clock, which stands still, keeps it the only one.
    assert_eq!(env.get("/v1/state").await.0, StatusCode::OK);
    assert_eq!(env.log.size().await, 1);
    env
}

impl Env {
    async fn append(&self, n: u64) {
        for i in 0..n {
            let e = AuditEvent::of("order.filled")
                .unwrap()
                .field("n", i)
                .unwrap();
            self.log.append(&e).await.unwrap();
        }
    }

    fn request(&self, path_and_query: &str) -> Request<Body> {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let nonce = tradeguard_crypto::random::array::<16>().unwrap();
        let nonce = tradeguard_crypto::b64::encode(&nonce);
        let unsigned = Unsigned {
            method: Method::GET,
            authority: HOST,
            path,
            query,
            body: None,
        };
        let fresh = Freshness {
            keyid: &self.did,
            created: self.clock.now_secs() as u64,
            nonce: &nonce,
        };
        signed_request(unsigned, &SigningKey::Ed25519(&self.caller), &fresh).unwrap()
    }

    /// Status, content type and body of a signed GET.
    async fn get_raw(&self, path: &str) -> (StatusCode, String, Vec<u8>) {
        let resp = self.app.clone().oneshot(self.request(path)).await.unwrap();
        let status = resp.status();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 22)
            .await
            .unwrap();
        (status, ct, body.to_vec())
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        send(&self.app, self.request(path)).await
    }

    async fn checkpoint(&self) -> SignedCheckpoint {
        let (status, v) = self.get("/v1/audit/checkpoint").await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v.as_object().unwrap().len(), 1, "only the note: {v}");
        SignedCheckpoint::parse(v["checkpoint"].as_str().unwrap().as_bytes()).unwrap()
    }
}

fn hashes(v: &Value) -> Vec<Hash> {
    v["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
        .collect()
}

fn inclusion(v: &Value) -> InclusionProof {
    assert_eq!(v["type"], "inclusion");
    InclusionProof {
        seq: v["seq"].as_u64().unwrap(),
        tree_size: v["tree_size"].as_u64().unwrap(),
        leaf: Hash::from_base64(v["leaf_hash"].as_str().unwrap()).unwrap(),
        hashes: hashes(v),
    }
}

fn consistency(v: &Value) -> ConsistencyProof {
    assert_eq!(v["type"], "consistency");
    ConsistencyProof {
        size1: v["size1"].as_u64().unwrap(),
        size2: v["size2"].as_u64().unwrap(),
        hashes: hashes(v),
    }
}

fn trusted() -> Vec<LogKey> {
    let vk = Ed25519SigningKey::from_seed(&SEED).unwrap().verifying_key();
    vec![LogKey::parse(&vk.to_base64url()).unwrap()]
}

#[tokio::test]
async fn served_proofs_and_entries_verify_against_the_served_checkpoint() {
    let env = env(true).await;
    env.append(19).await;
    env.log.checkpoint().await.unwrap();
    let first = verify_checkpoint(env.checkpoint().await, &trusted()).unwrap();
    let (size1, root1) = (first.checkpoint().size(), *first.checkpoint().root());
    assert_eq!(size1, 20);

    let (status, ct, page) = env.get_raw("/v1/audit/entries?start=0&end=20").await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/jsonl"));
    let lines: Vec<&[u8]> = page
        .strip_suffix(b"\n")
        .unwrap()
        .split(|b| *b == b'\n')
        .collect();
    assert_eq!(lines.len(), 20);
    for index in [0u64, 1, 7, 19] {
        let (status, v) = env
            .get(&format!("/v1/audit/proof/inclusion?index={index}&size=20"))
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let proof = inclusion(&v);
        assert_eq!(
            proof.leaf,
            leaf_hash(lines[index as usize]),
            "entry {index}"
        );
        proof.verify(&root1).unwrap();
    }

    // The log grows; the new checkpoint is consistent with the old one.
    env.append(13).await;
    env.log.checkpoint().await.unwrap();
    let second = verify_checkpoint(env.checkpoint().await, &trusted()).unwrap();
    let root2 = *second.checkpoint().root();
    assert_eq!(second.checkpoint().size(), 33);
    let (status, v) = env.get("/v1/audit/proof/consistency?old=20&new=33").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    consistency(&v).verify(&root1, &root2).unwrap();
    let (_, v) = env.get("/v1/audit/proof/consistency?old=33&new=33").await;
    consistency(&v).verify(&root2, &root2).unwrap();

    // Pages of entries followed by the checkpoint answer make an export that verifies.
    let mut export = Vec::new();
    for (start, end) in [(0, 20), (20, 33)] {
        let (_, _, page) = env
            .get_raw(&format!("/v1/audit/entries?start={start}&end={end}"))
            .await;
        export.extend_from_slice(&page);
    }
    let (_, _, cp_line) = env.get_raw("/v1/audit/checkpoint").await;
    export.extend_from_slice(&cp_line);
    export.push(b'\n');
    let (report, _) = verify_export(&export, &trusted()).unwrap();
    assert_eq!(report.signed_size, 33);
}

#[tokio::test]
async fn bad_queries_are_problem_documents() {
    let env = env(true).await;
    let (status, v) = env.get("/v1/audit/checkpoint").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no checkpoint yet: {v}");
    env.append(4).await;
    let cases = [
        ("/v1/audit/entries", StatusCode::BAD_REQUEST),
        ("/v1/audit/entries?start=0", StatusCode::BAD_REQUEST),
        ("/v1/audit/entries?start=0&end=x", StatusCode::BAD_REQUEST),
        ("/v1/audit/entries?start=-1&end=2", StatusCode::BAD_REQUEST),
        (
            "/v1/audit/entries?start=0&end=2&limit=3",
            StatusCode::BAD_REQUEST,
        ),
        ("/v1/audit/entries?start=0&end=0", StatusCode::BAD_REQUEST),
        (
            "/v1/audit/entries?start=3&end=2",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/v1/audit/entries?start=0&end=6",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/v1/audit/entries?start=0&end=1001",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("/v1/audit/proof/inclusion?index=0", StatusCode::BAD_REQUEST),
        (
            "/v1/audit/proof/inclusion?index=0&size=0",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/v1/audit/proof/inclusion?index=5&size=5",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/v1/audit/proof/inclusion?index=0&size=6",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/v1/audit/proof/consistency?old=0&new=5",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/v1/audit/proof/consistency?old=1&new=1&old=1",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/v1/audit/proof/consistency?old=4&new=3",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/v1/audit/proof/consistency?old=1&new=6",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("/v1/analytics?from=x", StatusCode::BAD_REQUEST),
        ("/v1/analytics?to=0", StatusCode::BAD_REQUEST),
        ("/v1/analytics?from=1&since=2", StatusCode::BAD_REQUEST),
        ("/v1/analytics?to=1&to=2", StatusCode::BAD_REQUEST),
        (
            "/v1/analytics?from=5&to=5",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (i, (path, want)) in cases.into_iter().enumerate() {
        // `send` checks that every error is an application/problem+json document.
        let (status, v) = env.get(path).await;
        assert_eq!(status, want, "TC{i} failed: {path}: {v}");
        assert_eq!(v["status"], want.as_u16(), "TC{i} failed: {v}");
    }
    let (status, _, page) = env.get_raw("/v1/audit/entries?start=4&end=5").await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(page).unwrap().contains("\"seq\":4"));
}

#[tokio::test]
async fn a_gateway_without_evidence_says_so() {
    let env = env(false).await;
    env.append(3).await;
    env.log.checkpoint().await.unwrap();
    for path in [
        "/v1/audit/checkpoint",
        "/v1/audit/entries?start=0&end=1",
        "/v1/audit/proof/inclusion?index=0&size=1",
        "/v1/audit/proof/consistency?old=1&new=2",
        "/v1/analytics",
    ] {
        let (status, v) = env.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {v}");
        assert!(
            v["detail"].as_str().unwrap().contains("started without"),
            "{path}: {v}"
        );
    }
}

#[tokio::test]
async fn the_served_report_verifies_and_is_bound_to_the_served_checkpoint() {
    let env = env(true).await;
    env.append(3).await;
    env.log.checkpoint().await.unwrap();
    let cp = verify_checkpoint(env.checkpoint().await, &trusted()).unwrap();
    let (status, ct, bytes) = env.get_raw("/v1/analytics").await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/json"));
    let gateway_key = Ed25519SigningKey::from_seed(&SEED).unwrap().verifying_key();
    let report = SignedReport::parse(&bytes)
        .unwrap()
        .verify(&gateway_key)
        .unwrap();
    assert_eq!(report.checkpoint.tree_size(), cp.checkpoint().size());
    assert_eq!(report.checkpoint.origin(), cp.checkpoint().origin());
    assert_eq!(
        report.checkpoint.root_hash(),
        cp.checkpoint().root().as_bytes()
    );
    let altered = String::from_utf8(bytes)
        .unwrap()
        .replace("\"tree_size\":4", "\"tree_size\":3");
    assert!(
        SignedReport::parse(altered.as_bytes())
            .and_then(|r| r.verify(&gateway_key))
            .is_err(),
        "a report bound to another checkpoint does not verify"
    );
}

#[tokio::test]
async fn a_session_reads_the_evidence() {
    let env = env(true).await;
    env.append(2).await;
    env.log.checkpoint().await.unwrap();
    let open = {
        let nonce =
            tradeguard_crypto::b64::encode(&tradeguard_crypto::random::array::<16>().unwrap());
        signed_request(
            Unsigned {
                method: Method::POST,
                authority: HOST,
                path: "/v1/sessions",
                query: None,
                body: None,
            },
            &SigningKey::Ed25519(&env.caller),
            &Freshness {
                keyid: &env.did,
                created: env.clock.now_secs() as u64,
                nonce: &nonce,
            },
        )
        .unwrap()
    };
    let (status, v) = send(&env.app, open).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let token = v["token"].as_str().unwrap();
    let req = Request::get("/v1/audit/proof/inclusion?index=1&size=2")
        .header("host", HOST)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let (status, v) = send(&env.app, req).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let root = env.log.tree_head(2).await.unwrap();
    inclusion(&v).verify(&root).unwrap();
}
