//! The evidence calls against the real gateway over loopback, its audit log wired: the
//! checkpoint verifies with the gateway key, the proofs and entries verify against it, the
//! report comes back byte for byte and verifies; without evidence the gateway answers 404.

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use tradeguard_audit::checkpoint::SignedCheckpoint;
use tradeguard_audit::event::{AuditEvent, Redactor};
use tradeguard_audit::keys::{LogKey, LogSigner, verify_checkpoint};
use tradeguard_audit::log::AuditLog;
use tradeguard_audit::merkle::{Hash, leaf_hash, verify_consistency, verify_inclusion};
use tradeguard_client::{Client, ClientConfig, PrincipalKey, Trust};
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_gateway::audit::AuditLogSink;
use tradeguard_gateway::evidence::{EvidenceError, ReportSource, StoredLogEvidence};
use tradeguard_gateway::keys::GatewayKeys;
use tradeguard_gateway::principal::PrincipalRecord;
use tradeguard_gateway::scope::{Scope, ScopeSet};
use tradeguard_gateway::state::GatewayBuilder;
use tradeguard_gateway::tls;

const SEED: [u8; 32] = [9; 32];

/// Serves fixed bytes, to check they arrive unchanged.
struct Fixed(Vec<u8>);

#[async_trait]
impl ReportSource for Fixed {
    async fn signed_report(&self) -> Result<Vec<u8>, EvidenceError> {
        Ok(self.0.clone())
    }
}

async fn gateway(wired: bool, report: &[u8]) -> (Client, AuditLog) {
    let store = tradeguard_store::testing::sqlite().await;
    let signer = LogSigner::new(
        "client.test/audit",
        Ed25519SigningKey::from_seed(&SEED).unwrap(),
    )
    .unwrap();
    let redactor = Redactor::new(SecretBytes::new(vec![1; 32])).unwrap();
    let clock = Arc::new(tradeguard_audit::clock::SystemClock);
    let log = AuditLog::open(store.clone(), signer, redactor, clock)
        .await
        .unwrap();
    let keys = GatewayKeys::new(
        Vec::new(),
        Arc::new(Ed25519SigningKey::from_seed(&SEED).unwrap()),
    );
    let mut builder =
        GatewayBuilder::new(store, keys, Arc::new(AuditLogSink(Arc::new(log.clone()))));
    if wired {
        builder = builder
            .evidence(Arc::new(StoredLogEvidence(log.clone())))
            .reports(Arc::new(Fixed(report.to_vec())));
    }
    let state = builder.build().await.unwrap();
    let key = PrincipalKey::ed25519(Ed25519SigningKey::generate().unwrap());
    let record =
        PrincipalRecord::ed25519(key.keyid(), ScopeSet::of(&[Scope::Read]), "auditor").unwrap();
    state.directory.put(&record, 0).await.unwrap();
    let app = tradeguard_gateway::api::router(state);
    let handle = tls::Handle::new();
    let h = handle.clone();
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    tokio::spawn(async move { tls::serve(app, addr, tls::Transport::DangerousPlainHttp, h).await });
    let bound = handle.listening().await.expect("gateway listening");
    let config = ClientConfig::new(format!("http://{bound}"), Trust::PlatformRoots);
    (Client::new(&config, key).unwrap(), log)
}

fn hashes(v: &serde_json::Value) -> Vec<Hash> {
    v["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn evidence_calls_verify() {
    let report = b"{\"report\":{},\"signature\":{}}\n".to_vec();
    let (c, log) = gateway(true, &report).await;
    for i in 0..9u64 {
        let e = AuditEvent::of("order.filled")
            .unwrap()
            .field("n", i)
            .unwrap();
        log.append(&e).await.unwrap();
    }
    let size1 = log.checkpoint().await.unwrap().unverified().size();
    let note = c.audit_checkpoint().await.unwrap();
    let trusted = [LogKey::parse(
        &Ed25519SigningKey::from_seed(&SEED)
            .unwrap()
            .verifying_key()
            .to_base64url(),
    )
    .unwrap()];
    let cp1 =
        verify_checkpoint(SignedCheckpoint::parse(note.as_bytes()).unwrap(), &trusted).unwrap();
    assert_eq!(cp1.checkpoint().size(), size1);
    let root1 = *cp1.checkpoint().root();

    let entries = c.audit_entries(0, size1).await.unwrap();
    let lines: Vec<&[u8]> = entries
        .strip_suffix(b"\n")
        .unwrap()
        .split(|b| *b == b'\n')
        .collect();
    assert_eq!(lines.len() as u64, size1);
    let p = c.inclusion_proof(3, size1).await.unwrap();
    let leaf = Hash::from_base64(p["leaf_hash"].as_str().unwrap()).unwrap();
    assert_eq!(leaf, leaf_hash(lines[3]));
    verify_inclusion(3, size1, &leaf, &hashes(&p), &root1).unwrap();

    log.append(&AuditEvent::of("halt").unwrap()).await.unwrap();
    let size2 = log.checkpoint().await.unwrap().unverified().size();
    let note = c.audit_checkpoint().await.unwrap();
    let cp2 =
        verify_checkpoint(SignedCheckpoint::parse(note.as_bytes()).unwrap(), &trusted).unwrap();
    let p = c.consistency_proof(size1, size2).await.unwrap();
    verify_consistency(size1, size2, &hashes(&p), &root1, cp2.checkpoint().root()).unwrap();

    assert_eq!(c.analytics_report().await.unwrap(), report, "byte for byte");
    let e = c.inclusion_proof(size2, size2).await.unwrap_err();
    assert_eq!(e.problem().map(|p| p.status), Some(422), "{e}");
}

#[tokio::test]
async fn a_gateway_without_evidence_answers_404() {
    let (c, _log) = gateway(false, b"").await;
    let e = c.audit_checkpoint().await.unwrap_err();
    assert_eq!(e.problem().map(|p| p.status), Some(404), "{e}");
    let e = c.analytics_report().await.unwrap_err();
    assert_eq!(e.problem().map(|p| p.status), Some(404), "{e}");
}
