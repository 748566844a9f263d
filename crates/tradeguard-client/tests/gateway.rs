//! The client against the real gateway (tradeguard-gateway's router over loopback, SQLite test
//! store, no exchanges wired): signed calls pass the gateway's authentication and scopes, and
//! its refusals come back as typed problem documents naming the check or state.

use std::net::SocketAddr;
use std::sync::Arc;

use tradeguard_client::{
    Client, ClientConfig, ClientError, HaltMode, OrderRequest, PrincipalKey, Side, Trust,
};
use tradeguard_crypto::envelope::RecipientKey;
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_gateway::audit::MemoryAudit;
use tradeguard_gateway::keys::GatewayKeys;
use tradeguard_gateway::principal::PrincipalRecord;
use tradeguard_gateway::scope::{Scope, ScopeSet};
use tradeguard_gateway::state::{AppState, GatewayBuilder};
use tradeguard_gateway::tls;

async fn gateway() -> (AppState, SocketAddr) {
    let store = tradeguard_store::testing::sqlite().await;
    let keys = GatewayKeys::new(
        vec![RecipientKey::generate_x25519().unwrap().public_key()],
        Arc::new(Ed25519SigningKey::generate().unwrap()),
    );
    let state = GatewayBuilder::new(store, keys, Arc::new(MemoryAudit::default()))
        .build()
        .await
        .unwrap();
    let app = tradeguard_gateway::api::router(state.clone());
    let handle = tls::Handle::new();
    let h = handle.clone();
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    tokio::spawn(async move { tls::serve(app, addr, tls::Transport::DangerousPlainHttp, h).await });
    let bound = handle.listening().await.expect("gateway listening");
    (state, bound)
}

async fn principal(state: &AppState, scopes: &[Scope]) -> PrincipalKey {
    let key = PrincipalKey::ed25519(Ed25519SigningKey::generate().unwrap());
    let record =
        PrincipalRecord::ed25519(key.keyid(), ScopeSet::of(scopes), "client test").unwrap();
    state.directory.put(&record, 0).await.unwrap();
    key
}

fn client(addr: SocketAddr, key: PrincipalKey) -> Client {
    Client::new(
        &ClientConfig::new(format!("http://{addr}"), Trust::PlatformRoots),
        key,
    )
    .unwrap()
}

fn check(e: &ClientError) -> (u16, String, Option<String>) {
    let p = e
        .problem()
        .unwrap_or_else(|| panic!("not a problem document: {e:?}"));
    (p.status, p.slug().to_owned(), p.check.clone())
}

#[tokio::test]
async fn signed_calls_pass_the_gateway() {
    let (state, addr) = gateway().await;
    let key = principal(&state, &[Scope::Read, Scope::Halt, Scope::Trade]).await;
    let c = client(addr, key);
    assert_eq!(c.health().await.unwrap()["status"], "ok");
    assert!(
        c.keys().await.unwrap()["signing"]["did"]
            .as_str()
            .unwrap()
            .starts_with("did:key:")
    );
    assert_eq!(c.state().await.unwrap()["state"], "ACTIVE");
    let session = c.open_session(None).await.unwrap();
    assert_eq!(session.scopes, ["read"]);
    let halted = c
        .halt(Some(HaltMode::Halted), Some("client test"))
        .await
        .unwrap();
    assert_eq!(halted["state"], "HALTED", "{halted}");
    assert_eq!(c.state().await.unwrap()["state"], "HALTED");
    let order = OrderRequest::market("c-1", "p1", "BTC/USD", Side::Buy, 1.into());
    let e = c.place_order(&order).await.unwrap_err();
    assert_eq!(check(&e).1, "trading-halted", "{e}");
}

#[tokio::test]
async fn refusals_name_the_check() {
    let (state, addr) = gateway().await;
    let reader = client(addr, principal(&state, &[Scope::Read]).await);
    let e = reader.halt(None, None).await.unwrap_err();
    assert_eq!(check(&e).0, 403, "{e}");
    let e = reader.principals().await.unwrap_err();
    assert_eq!(check(&e).0, 403, "{e}");
    let stranger = client(
        addr,
        PrincipalKey::ed25519(Ed25519SigningKey::generate().unwrap()),
    );
    let e = stranger.balances().await.unwrap_err();
    assert_eq!(check(&e).2.as_deref(), Some("keyid"), "{e}");
    assert!(!e.is_retryable());
}
