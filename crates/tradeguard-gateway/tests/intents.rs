//! Sealed intents at the gateway: every kind of packet gets the same answer on the wire;
//! real orders reach the order path after the answer, dummies are dropped and counted,
//! refusals are audited, status comes back inside sealed answers.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::{Value, json};
use tower::ServiceExt;
use tradeguard_crypto::b64;
use tradeguard_crypto::envelope::RecipientKey;
use tradeguard_crypto::hpke::{Aead, PublicKey};
use tradeguard_crypto::intent::response::{ResponseKey, open_response};
use tradeguard_crypto::intent::{
    IntentPayload, IntentSealer, OpenPolicy, RoutingId, RoutingKey, ScorePolicy, ScoreWeights,
    SignedIntent,
};
use tradeguard_gateway::clock::Clock;
use tradeguard_gateway::intents::{IntentConfig, IntentIntake, IntentState, MemoryRoutingKeys};
use tradeguard_gateway::keys::GatewayKeys;
use tradeguard_gateway::principal::PrincipalRecord;
use tradeguard_gateway::scope::{Scope, ScopeSet};
use tradeguard_gateway::state::GatewayBuilder;
use tradeguard_gateway::trading::TradingMode;
use tradeguard_store::cache::{MemoryEventBus, MemoryRateLimiter, MemoryReplayCache};

/// The parts of a test gateway these tests use (the shared harness builds none with intents).
struct Parts {
    app: axum::Router,
    state: tradeguard_gateway::state::AppState,
    clock: tradeguard_gateway::clock::ManualClock,
    audit: Arc<tradeguard_gateway::audit::MemoryAudit>,
    venues: Arc<FakeVenues>,
}

impl Parts {
    async fn principal(&self, scopes: &[Scope]) -> Key {
        let key = Key::new();
        let p = PrincipalRecord::ed25519(&key.did, ScopeSet::of(scopes), "test").unwrap();
        self.state
            .directory
            .put(&p, self.clock.now_ms())
            .await
            .unwrap();
        key
    }
}

struct IntentGw {
    gw: Parts,
    intake: Arc<IntentIntake>,
    pk: PublicKey,
    pk_xwing: PublicKey,
    routing: Arc<MemoryRoutingKeys>,
}

struct SharedRouting(Arc<MemoryRoutingKeys>);

impl tradeguard_gateway::intents::RoutingKeys for SharedRouting {
    fn key(&self, did: &str) -> Option<RoutingKey> {
        self.0.key(did)
    }
}

async fn intent_gateway(config: IntentConfig) -> IntentGw {
    let store = tradeguard_store::testing::sqlite().await;
    let clock = tradeguard_gateway::clock::ManualClock::at_ms(T0_MS);
    let audit = Arc::new(tradeguard_gateway::audit::MemoryAudit::default());
    let venues = Arc::new(FakeVenues::default());
    let rk = RecipientKey::generate_with_xwing().unwrap();
    let pk = rk.public_key();
    let pk_xwing = rk.xwing_public_key().unwrap();
    let routing = Arc::new(MemoryRoutingKeys::default());
    let intake = Arc::new(IntentIntake::new(
        rk,
        Box::new(SharedRouting(routing.clone())),
        config,
    ));
    let signer = Arc::new(tradeguard_crypto::sign::Ed25519SigningKey::generate().unwrap());
    let state = GatewayBuilder::new(
        store,
        GatewayKeys::new(vec![pk.clone()], signer),
        audit.clone(),
    )
    .config(test_config())
    .clock(Arc::new(clock.clone()))
    .caches(
        Arc::new(MemoryReplayCache::new(1_000_000)),
        Arc::new(MemoryRateLimiter::new(1_000_000)),
        Arc::new(MemoryEventBus::new(1024)),
    )
    .venues(
        Arc::new(risk(clock.clone())),
        venues.clone(),
        venues.clone(),
    )
    .intents(intake.clone())
    .build()
    .await
    .unwrap();
    let app = tradeguard_gateway::api::router(state.clone());
    let gw = Parts {
        app,
        state,
        clock,
        audit,
        venues,
    };
    IntentGw {
        gw,
        intake,
        pk,
        pk_xwing,
        routing,
    }
}

fn order(id: &str) -> Value {
    json!({"client_order_id": id, "profile": "p1", "symbol": "BTC/USD", "side": "buy",
           "type": "limit", "price": "50000", "quantity": "0.01"})
}

impl IntentGw {
    fn now(&self) -> i64 {
        self.gw.clock.now_secs()
    }

    fn seal(&self, s: &SignedIntent) -> (String, ResponseKey) {
        let sealer = IntentSealer::new(
            self.pk.clone(),
            Aead::Aes256Gcm,
            &OpenPolicy::default().sizes,
        );
        let sealed = sealer.seal(s).unwrap();
        (sealed.to_json(), sealed.response_key)
    }

    fn intent(&self, key: &Key, body: Value, dummy: bool) -> (SignedIntent, String, ResponseKey) {
        let s = IntentPayload::new(body, &key.sk.verifying_key(), self.now(), dummy)
            .unwrap()
            .sign(&key.sk)
            .unwrap();
        let (json, rk) = self.seal(&s);
        (s, json, rk)
    }

    /// Posts a packet; returns status, the exact body bytes and the sealed answer.
    async fn post(&self, packet: &str) -> (StatusCode, Vec<u8>, Vec<u8>) {
        let req = Request::post("/v1/intents")
            .header("content-type", "application/json")
            .body(Body::from(packet.to_owned()))
            .unwrap();
        let resp = self.gw.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap()
            .to_vec();
        let v: Value = serde_json::from_slice(&body).unwrap();
        let answer = b64::decode(v["answer"].as_str().unwrap()).unwrap();
        (status, body, answer)
    }

    /// Waits for the work spawned after an answer (SQLite runs on its own threads), up to a
    /// generous bound that only a hang reaches.
    async fn settle(&self, mut done: impl FnMut() -> bool) {
        for _ in 0..20_000 {
            if done() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        panic!("the work spawned after the answer did not finish");
    }
}

fn read(rk: &ResponseKey, answer: &[u8]) -> Value {
    serde_json::from_slice(&open_response(rk, answer).unwrap()).unwrap()
}

#[tokio::test]
async fn real_dummy_replay_and_garbage_get_the_same_answer_on_the_wire() {
    let g = intent_gateway(IntentConfig::default()).await;
    let k = g.gw.principal(&[Scope::Trade]).await;
    let routing = RoutingKey::generate().unwrap();
    g.routing.insert(&k.did, &routing);

    let (real, real_packet, real_key) = g.intent(&k, order("i-1"), false);
    let (_, dummy_packet, dummy_key) = g.intent(&k, order("i-2"), true);
    let mut answers = Vec::new();
    for packet in [
        &real_packet,
        &dummy_packet,
        &real_packet,
        &"{\"v\":1}".to_owned(),
    ] {
        answers.push(g.post(packet).await);
    }
    for (i, (status, body, _)) in answers.iter().enumerate() {
        assert_eq!(*status, StatusCode::ACCEPTED, "TC{i}");
        assert_eq!(
            body.len(),
            answers[0].1.len(),
            "TC{i}: one length for every answer"
        );
    }
    let id = real.payload().routing_id(&routing);
    assert_eq!(
        read(&real_key, &answers[0].2),
        json!({"ack": "received", "routing_id": id.to_hex()})
    );
    assert_eq!(read(&dummy_key, &answers[1].2)["ack"], "received");
    assert_eq!(
        read(&real_key, &answers[2].2),
        json!({"ack": "refused", "reason": "replay"})
    );
    assert!(
        open_response(&real_key, &answers[3].2).is_err(),
        "garbage gets random bytes"
    );

    g.settle(|| g.gw.venues.orders.lock().unwrap().len() == 1)
        .await;
    g.settle(|| {
        g.intake
            .status()
            .get(&id, &k.did)
            .is_some_and(|s| s.state != IntentState::Pending)
    })
    .await;
    let stats = g.intake.stats();
    assert_eq!((stats.packets, stats.real, stats.dummies), (4, 1, 1));
    assert_eq!(stats.refused.get("replay"), Some(&1));
    assert_eq!(stats.refused.get("envelope"), Some(&1));
    g.settle(|| {
        g.gw.audit
            .kinds()
            .iter()
            .filter(|k| **k == "intent.refused")
            .count()
            == 2
    })
    .await;
    assert!(
        g.gw.audit.kinds().contains(&"order.submit"),
        "the order path audited the order"
    );
}

/// Regression: an X-Wing packet was refused `replay_cache_unavailable`, its 1120-byte
/// encapsulated key being too long for a replay-cache key.
#[tokio::test]
async fn regression_xwing_packets_fit_the_replay_cache() {
    let g = intent_gateway(IntentConfig::default()).await;
    let k = g.gw.principal(&[Scope::Trade]).await;
    g.routing.insert(&k.did, &RoutingKey::generate().unwrap());
    let s = IntentPayload::new(order("pq-1"), &k.sk.verifying_key(), g.now(), false)
        .unwrap()
        .sign(&k.sk)
        .unwrap();
    let sealer = IntentSealer::new(
        g.pk_xwing.clone(),
        Aead::Aes256Gcm,
        &OpenPolicy::default().sizes,
    );
    let sealed = sealer.seal(&s).unwrap();
    let packet = sealed.to_json();
    let (status, _, answer) = g.post(&packet).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(read(&sealed.response_key, &answer)["ack"], "received");
    let (_, _, again) = g.post(&packet).await;
    assert_eq!(
        read(&sealed.response_key, &again),
        json!({"ack": "refused", "reason": "replay"})
    );
    g.settle(|| g.gw.venues.orders.lock().unwrap().len() == 1)
        .await;
}

#[tokio::test]
async fn status_comes_back_inside_a_sealed_query() {
    let g = intent_gateway(IntentConfig::default()).await;
    let k = g.gw.principal(&[Scope::Trade]).await;
    let routing = RoutingKey::generate().unwrap();
    g.routing.insert(&k.did, &routing);
    let (real, packet, _) = g.intent(&k, order("q-1"), false);
    g.post(&packet).await;
    let id = real.payload().routing_id(&routing);
    g.settle(|| {
        g.intake
            .status()
            .get(&id, &k.did)
            .is_some_and(|s| s.state != IntentState::Pending)
    })
    .await;
    let unknown = RoutingId::derive(&routing, b"never sent");
    let q = IntentPayload::new_query(vec![id, unknown], &k.sk.verifying_key(), g.now())
        .unwrap()
        .sign(&k.sk)
        .unwrap();
    let (qpacket, qkey) = g.seal(&q);
    let (status, body, answer) = g.post(&qpacket).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        body.len(),
        g.post(&packet).await.1.len(),
        "a query answer is one length too"
    );
    let v = read(&qkey, &answer);
    assert_eq!(v["ack"], "status");
    assert_eq!(v["status"][0]["id"], id.to_hex());
    assert_eq!(v["status"][0]["state"], "placed", "{v}");
    assert_eq!(v["status"][0]["http_status"], 201);
    assert_eq!(v["status"][1]["state"], "unknown");
    assert_eq!(g.intake.stats().queries, 1);

    // Another principal asking for the same id learns nothing.
    let other = g.gw.principal(&[Scope::Trade]).await;
    g.routing
        .insert(&other.did, &RoutingKey::generate().unwrap());
    let q = IntentPayload::new_query(vec![id], &other.sk.verifying_key(), g.now())
        .unwrap()
        .sign(&other.sk)
        .unwrap();
    let (qpacket, qkey) = g.seal(&q);
    let v = read(&qkey, &g.post(&qpacket).await.2);
    assert_eq!(v["status"][0]["state"], "unknown");
}

#[tokio::test]
async fn fail_refusals_are_answered_alike_and_audited() {
    let g = intent_gateway(IntentConfig::default()).await;
    let trader = g.gw.principal(&[Scope::Trade]).await;
    g.routing
        .insert(&trader.did, &RoutingKey::generate().unwrap());
    let reader = g.gw.principal(&[Scope::Read]).await;
    let stranger = Key::new();
    let (_, good, _) = g.intent(&trader, order("f-0"), false);
    let good_len = g.post(&good).await.1.len();

    let mut forged: Value = {
        let (s, _, _) = g.intent(&trader, order("f-1"), false);
        serde_json::from_slice(&s.to_bytes().unwrap()).unwrap()
    };
    forged["order"]["quantity"] = json!("5");
    let forged_packet =
        IntentSealer::new(g.pk.clone(), Aead::Aes256Gcm, &OpenPolicy::default().sizes)
            .seal_payload(forged.to_string().as_bytes())
            .unwrap()
            .to_json();
    let other_gateway = RecipientKey::generate_x25519().unwrap().public_key();
    let (s, _, _) = g.intent(&trader, order("f-2"), false);
    let wrong_key = IntentSealer::new(other_gateway, Aead::Aes256Gcm, &OpenPolicy::default().sizes)
        .seal(&s)
        .unwrap()
        .to_json();
    let cases: Vec<(String, &str)> = vec![
        (g.intent(&reader, order("f-3"), false).1, "scope"),
        (
            g.intent(&stranger, order("f-4"), false).1,
            "unknown_principal",
        ),
        (forged_packet, "bad_signature"),
        (wrong_key, "open_failed"),
        ("not json".into(), "envelope"),
    ];
    for (i, (packet, reason)) in cases.iter().enumerate() {
        let (status, body, _) = g.post(packet).await;
        assert_eq!(
            (status, body.len()),
            (StatusCode::ACCEPTED, good_len),
            "TC{i}"
        );
        assert_eq!(
            g.intake.stats().refused.get(reason),
            Some(&1),
            "TC{i}: {reason}"
        );
    }
    g.settle(|| {
        g.gw.audit
            .kinds()
            .iter()
            .filter(|k| **k == "intent.refused")
            .count()
            == 5
    })
    .await;
    let reasons: Vec<Value> =
        g.gw.audit
            .events()
            .iter()
            .filter(|e| e.kind == "intent.refused")
            .filter_map(|e| {
                e.fields
                    .iter()
                    .find(|(n, _)| *n == "reason")
                    .map(|(_, v)| v.clone())
            })
            .collect();
    assert_eq!(reasons.len(), 5);
    g.settle(|| !g.gw.venues.orders.lock().unwrap().is_empty())
        .await;
    assert_eq!(
        g.gw.venues.orders.lock().unwrap().len(),
        1,
        "only the good intent was placed"
    );
}

#[tokio::test]
async fn fail_below_the_score_threshold_until_dummies_flow() {
    let strict = ScorePolicy::new(ScoreWeights::default(), 1.0).unwrap();
    let g = intent_gateway(IntentConfig {
        score: strict,
        ..IntentConfig::default()
    })
    .await;
    let k = g.gw.principal(&[Scope::Trade]).await;
    g.routing.insert(&k.did, &RoutingKey::generate().unwrap());
    let (_, packet, key) = g.intent(&k, order("s-1"), false);
    let v = read(&key, &g.post(&packet).await.2);
    assert_eq!(
        v,
        json!({"ack": "refused", "reason": "below_threshold"}),
        "no dummies yet"
    );
    let (_, dummy, _) = g.intent(&k, order("s-2"), true);
    g.post(&dummy).await;
    let (_, packet, key) = g.intent(&k, order("s-3"), false);
    assert_eq!(read(&key, &g.post(&packet).await.2)["ack"], "received");
}

#[tokio::test]
async fn halted_gateway_answers_alike_and_refuses_in_the_order_path() {
    let g = intent_gateway(IntentConfig::default()).await;
    let k = g.gw.principal(&[Scope::Trade]).await;
    let routing = RoutingKey::generate().unwrap();
    g.routing.insert(&k.did, &routing);
    g.gw.state.trading.set_local(TradingMode::Halted);
    let (s, packet, key) = g.intent(&k, order("h-1"), false);
    assert_eq!(read(&key, &g.post(&packet).await.2)["ack"], "received");
    let id = s.payload().routing_id(&routing);
    g.settle(|| {
        g.intake
            .status()
            .get(&id, &k.did)
            .is_some_and(|s| s.state != IntentState::Pending)
    })
    .await;
    let st = g.intake.status().get(&id, &k.did).unwrap();
    assert_eq!(
        (st.state, st.http_status),
        (IntentState::Refused, Some(409))
    );
    assert!(g.gw.venues.orders.lock().unwrap().is_empty());
}

#[tokio::test]
async fn fail_without_an_intake_the_endpoint_says_so() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let req = Request::post("/v1/intents").body(Body::from("{}")).unwrap();
    let (status, v) = send(&gw.app, req).await;
    assert_eq!(
        (status, check_type(&v)),
        (StatusCode::NOT_FOUND, "intents-disabled")
    );
}

fn check_type(v: &Value) -> &str {
    v["type"]
        .as_str()
        .unwrap_or("")
        .rsplit(':')
        .next()
        .unwrap_or("")
}
