//! The emergency stop, resume by quorum, and the principal-change quorum.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::json;
use tradeguard_gateway::config::{QuorumAction, QuorumRule};
use tradeguard_gateway::scope::Scope;
use tradeguard_gateway::trading::TradingMode;
use tradeguard_store::cache::MemoryEventBus;

fn buy(id: &str) -> serde_json::Value {
    json!({"client_order_id": id, "profile": "p1", "symbol": "BTC/USD", "side": "buy",
           "type": "limit", "price": "50000", "quantity": "0.01"})
}

tradeguard_store::backend_tests! {
    /// Halt with open orders on three venues: nothing is accepted after the call returns,
    /// every order ends cancelled (after retries), sessions end, audit and alert happen, and
    /// the state survives a restart; resume needs 2 of 3 approvers.
    async fn halt_cancels_everything_and_resume_needs_the_quorum(store) {
        let approvers: Vec<Key> = (0..3).map(|_| Key::new()).collect();
        let mut config = test_config();
        config.quorum.insert(QuorumAction::Resume, QuorumRule {
            required: 2,
            approvers: approvers.iter().map(|k| k.did.clone()).collect(),
            proposal_ttl: Duration::from_secs(600),
        });
        let gw = gateway(store.clone(), config.clone()).await;
        let controller = gw.principal(&[Scope::Trade, Scope::Read, Scope::Halt]).await;
        for a in &approvers {
            let p = tradeguard_gateway::principal::PrincipalRecord::ed25519(&a.did, tradeguard_gateway::scope::ScopeSet::of(&[Scope::Resume]), "approver").unwrap();
            gw.state.directory.put(&p, T0_MS).await.unwrap();
        }
        gw.venues.seed_open(5);
        for i in 0..3 {
            let (s, v) = gw.send(gw.req(&controller, Method::POST, "/v1/orders", Some(buy(&format!("pre-{i}"))))).await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
        }
        assert_eq!(gw.venues.open_count(), 18);
        gw.send(gw.req(&controller, Method::POST, "/v1/sessions", None)).await;
        gw.venues.flaky.store(7, std::sync::atomic::Ordering::SeqCst);

        let (s, report) = gw.send(gw.req(&controller, Method::POST, "/v1/halt", Some(json!({"reason": "drill"})))).await;
        assert_eq!(s, StatusCode::OK, "{report}");
        assert_eq!(report["state"], "HALTED");
        assert_eq!(report["sessions_ended"], 1);
        assert_eq!(report["audit"], "recorded");
        assert_eq!(report["persisted"], true);
        let cancelled: usize = report["cancels"].as_array().unwrap().iter().map(|c| c["cancelled"].as_array().unwrap().len()).sum();
        assert_eq!(cancelled, 18);
        assert_eq!(report["cancels"].as_array().unwrap().len(), 3);
        eprintln!("halt -> last cancel: {} ms", report["cancel_ms"]);
        assert_eq!(gw.venues.open_count(), 0);
        let (s, v) = gw.send(gw.req(&controller, Method::POST, "/v1/orders", Some(buy("after")))).await;
        assert_eq!((s, v["type"].as_str()), (StatusCode::CONFLICT, Some("urn:tradeguard:problem:trading-halted")));
        assert!(gw.audit.kinds().contains(&"trading.halt"));
        for _ in 0..100 {
            if !gw.alerts.0.lock().unwrap().is_empty() { break; }
            tokio::task::yield_now().await;
        }
        assert_eq!(gw.alerts.0.lock().unwrap()[0]["event"], "trading.halt");

        // Survives a restart.
        let restarted = gateway(store.clone(), config.clone()).await;
        assert_eq!(restarted.state.trading.mode(), TradingMode::Halted);

        // The controller cannot resume; one approver proposes (its request counts), a
        // non-approver cannot approve, the same approver cannot approve twice, a second does it.
        let (s, _) = gw.send(gw.req(&controller, Method::POST, "/v1/resume", None)).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, v) = gw.send(gw.req(&approvers[0], Method::POST, "/v1/resume", None)).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{v}");
        let id = v["proposal"]["id"].as_str().unwrap().to_owned();
        assert_eq!(v["proposal"]["approvals"], 1);
        let (s, _) = gw.send(gw.req(&approvers[0], Method::POST, "/v1/approvals", Some(json!({"proposal_id": id})))).await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert_eq!(gw.state.trading.mode(), TradingMode::Halted);
        let (s, v) = gw.send(gw.req(&approvers[1], Method::POST, "/v1/approvals", Some(json!({"proposal_id": id})))).await;
        assert_eq!((s, v["proposal"]["status"].as_str()), (StatusCode::OK, Some("approved")), "{v}");
        assert_eq!(gw.state.trading.mode(), TradingMode::Active);
        let (s, _) = gw.send(gw.req(&approvers[2], Method::POST, "/v1/approvals", Some(json!({"proposal_id": id})))).await;
        assert_eq!(s, StatusCode::CONFLICT, "a decided proposal takes no more approvals");
        let (s, v) = gw.send(gw.req(&controller, Method::POST, "/v1/orders", Some(buy("after-resume")))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }

    /// A proposal that does not reach M approvals before it expires never runs.
    async fn expired_proposal_never_runs(store) {
        let approvers: Vec<Key> = (0..2).map(|_| Key::new()).collect();
        let mut config = test_config();
        config.quorum.insert(QuorumAction::PrincipalChange, QuorumRule {
            required: 2,
            approvers: approvers.iter().map(|k| k.did.clone()).collect(),
            proposal_ttl: Duration::from_secs(60),
        });
        let gw = gateway(store, config).await;
        for a in &approvers {
            let p = tradeguard_gateway::principal::PrincipalRecord::ed25519(&a.did, tradeguard_gateway::scope::ScopeSet::of(&[Scope::ManagePrincipals]), "approver").unwrap();
            gw.state.directory.put(&p, T0_MS).await.unwrap();
        }
        let newcomer = Key::new();
        let (s, v) = gw.send(gw.req(&approvers[0], Method::POST, "/v1/principals", Some(json!({"keyid": newcomer.did, "scopes": ["read"]})))).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{v}");
        let id = v["proposal"]["id"].as_str().unwrap().to_owned();
        gw.clock.advance_ms(61_000);
        let (s, v) = gw.send(gw.req(&approvers[1], Method::POST, "/v1/approvals", Some(json!({"proposal_id": id})))).await;
        assert_eq!((s, v["type"].as_str()), (StatusCode::CONFLICT, Some("urn:tradeguard:problem:proposal-closed")));
        assert!(gw.state.directory.get(&newcomer.did).is_none());
        // In time, it runs.
        let (_, v) = gw.send(gw.req(&approvers[0], Method::POST, "/v1/principals", Some(json!({"keyid": newcomer.did, "scopes": ["read"]})))).await;
        let id = v["proposal"]["id"].as_str().unwrap().to_owned();
        let (s, _) = gw.send(gw.req(&approvers[1], Method::POST, "/v1/approvals", Some(json!({"proposal_id": id})))).await;
        assert_eq!(s, StatusCode::OK);
        assert!(gw.state.directory.get(&newcomer.did).is_some());
    }
}

#[tokio::test]
async fn a_halt_on_one_replica_stops_the_others() {
    let store = tradeguard_store::testing::sqlite().await;
    let bus = Arc::new(MemoryEventBus::new(64));
    let a = gateway_on_bus(store.clone(), test_config(), bus.clone()).await;
    let b = gateway_on_bus(store, test_config(), bus).await;
    let k = a.principal(&[Scope::Halt]).await;
    tokio::task::yield_now().await;
    let (s, _) = a.send(a.req(&k, Method::POST, "/v1/halt", None)).await;
    assert_eq!(s, StatusCode::OK);
    for _ in 0..1000 {
        if b.state.trading.mode() == TradingMode::Halted {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(b.state.trading.mode(), TradingMode::Halted);
}

#[tokio::test]
async fn reducing_accepts_only_sells_and_audit_failure_refuses_orders() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let k = gw.principal(&[Scope::Trade, Scope::Halt]).await;
    let (s, v) = gw
        .send(gw.req(
            &k,
            Method::POST,
            "/v1/halt",
            Some(json!({"mode": "REDUCING"})),
        ))
        .await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("REDUCING")));
    let (s, v) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", Some(buy("b1"))))
        .await;
    assert_eq!(
        (s, v["type"].as_str()),
        (
            StatusCode::CONFLICT,
            Some("urn:tradeguard:problem:trading-reducing")
        )
    );
    let mut sell = buy("s1");
    sell["side"] = json!("sell");
    sell["quantity"] = json!("0.001");
    let (s, v) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", Some(sell.clone())))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    gw.audit.set_failing(true);
    sell["client_order_id"] = json!("s2");
    let (s, v) = gw
        .send(gw.req(&k, Method::POST, "/v1/orders", Some(sell)))
        .await;
    assert_eq!(
        (s, v["type"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("urn:tradeguard:problem:audit-unavailable")
        )
    );
    assert_eq!(gw.venues.orders.lock().unwrap().len(), 1);
}

struct Recording(std::sync::Mutex<Vec<serde_json::Value>>);

#[async_trait::async_trait]
impl tradeguard_gateway::quorum::ProposalExecutor for Recording {
    async fn execute(&self, _a: QuorumAction, payload: &serde_json::Value) -> Result<(), String> {
        self.0.lock().unwrap().push(payload.clone());
        Ok(())
    }
}

#[tokio::test]
async fn credential_import_runs_only_after_its_quorum_through_the_vault_executor() {
    use tradeguard_crypto::envelope::{Info, RecipientKey, seal};
    use tradeguard_crypto::hpke::Suite;
    let store = tradeguard_store::testing::sqlite().await;
    let approvers: Vec<Key> = (0..2).map(|_| Key::new()).collect();
    let mut config = test_config();
    config.quorum.insert(
        QuorumAction::CredentialImport,
        QuorumRule {
            required: 2,
            approvers: approvers.iter().map(|k| k.did.clone()).collect(),
            proposal_ttl: Duration::from_secs(600),
        },
    );
    let base = gateway(store.clone(), config.clone()).await;
    let recording = Arc::new(Recording(Default::default()));
    let state = tradeguard_gateway::state::GatewayBuilder::new(
        store,
        base.state.keys.clone(),
        base.audit.clone(),
    )
    .config(config)
    .clock(Arc::new(base.clock.clone()))
    .executor(QuorumAction::CredentialImport, recording.clone())
    .build()
    .await
    .unwrap();
    let app = tradeguard_gateway::api::router(state.clone());
    for a in &approvers {
        let p = tradeguard_gateway::principal::PrincipalRecord::ed25519(
            &a.did,
            tradeguard_gateway::scope::ScopeSet::of(&[Scope::ManageCredentials]),
            "approver",
        )
        .unwrap();
        state.directory.put(&p, T0_MS).await.unwrap();
    }
    let rk = RecipientKey::generate_x25519().unwrap();
    let env: serde_json::Value = serde_json::from_str(
        &seal(
            &rk.public_key(),
            Suite::default(),
            Info::Credential,
            b"{\"api_key\":\"k\"}",
        )
        .unwrap()
        .to_json(),
    )
    .unwrap();
    let (s, v) = send(
        &app,
        base.req(
            &approvers[0],
            Method::POST,
            "/v1/credentials",
            Some(json!({"v": 1})),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "not an envelope: {v}");
    let (s, v) = send(
        &app,
        base.req(
            &approvers[0],
            Method::POST,
            "/v1/credentials",
            Some(env.clone()),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert!(
        recording.0.lock().unwrap().is_empty(),
        "one approval is not enough"
    );
    let id = v["proposal"]["id"].as_str().unwrap().to_owned();
    let (s, v) = send(
        &app,
        base.req(
            &approvers[1],
            Method::POST,
            "/v1/approvals",
            Some(json!({"proposal_id": id})),
        ),
    )
    .await;
    assert_eq!(
        (s, v["proposal"]["status"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{v}"
    );
    assert_eq!(recording.0.lock().unwrap()[0]["envelope"], env);
}
