//! Requests the exchanges refuse, end to end: the connector signs, the simulator checks as the
//! exchange does and answers with the exchange's own error, and the connector reports a
//! definitive error with that code, sent once (never retried).
//!
//! Wrong secret (all four APIs), stale timestamp (Binance `recvWindow`, Coinbase Exchange's
//! 30 s), reused Kraken nonce, expired Coinbase JWT. The connector and the simulator run on
//! separate manual clocks, so a skew is set exactly.

mod support;

use std::sync::Arc;

use support::sim::{config, exchange_id, secrets};
use tradeguard_exchange::model::UnixMillis;
use tradeguard_exchange::{
    ConnectorHub, Exchange, ExchangeError, InMemorySecretSource, ManualClock, Reaction, RejectKind,
};
use tradeguard_sim::{KeySpec, Sim, SimConfig, SimCredential, Venue};

const T0: u64 = 1_795_386_067_000;

struct Setup {
    sim: Sim,
    sim_clock: Arc<tradeguard_sim::ManualClock>,
}

async fn setup() -> Setup {
    let sim_clock = Arc::new(tradeguard_sim::ManualClock::new(T0));
    let sim = tradeguard_sim::start(SimConfig {
        clock: sim_clock.clone(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    Setup { sim, sim_clock }
}

/// A connector for `cred` (signing with `secret_of`'s secret) on its own hub at `at`.
fn connector(cred: &SimCredential, secret_of: &SimCredential, at: u64) -> Arc<dyn Exchange> {
    let hub = ConnectorHub::new(Arc::new(ManualClock::new(UnixMillis(at as i64))));
    let s = secrets(secret_of);
    let src: Arc<InMemorySecretSource> = if std::ptr::eq(cred, secret_of) {
        s
    } else {
        Arc::new(InMemorySecretSource::from_parts(
            &cred.api_key,
            secret_of.api_secret.expose_secret(),
            cred.passphrase.as_ref().map(|p| p.expose_secret()),
        ))
    };
    hub.connect(&config(cred, "refusals"), src).unwrap()
}

/// Calls `balances` and checks: definitive, of `kind`, with the exchange's `code`, one request.
async fn expect_refusal(
    sim: &Sim,
    venue: Venue,
    client: &dyn Exchange,
    kind: RejectKind,
    code: &str,
    case: &str,
) {
    let before = sim.venue(venue).fault_stats().requests;
    let err = client.balances().await.unwrap_err();
    let sent = sim.venue(venue).fault_stats().requests - before;
    println!("{case}: {err}");
    assert_eq!(err.exchange(), exchange_id(venue), "{case}");
    assert_eq!(err.reaction(), Reaction::Reject, "{case}: {err}");
    match &err {
        ExchangeError::Definitive {
            kind: k, code: c, ..
        } => {
            assert_eq!(*k, kind, "{case}: {err}");
            assert_eq!(c, code, "{case}: {err}");
        }
        other => panic!("{case}: not definitive: {other}"),
    }
    assert_eq!(sent, 1, "{case}: the refused request was sent {sent} times");
}

#[tokio::test]
async fn fail_wrong_secret_is_refused_with_each_exchanges_error() {
    let s = setup().await;
    let cases = [
        (Venue::Binance, RejectKind::InvalidSignature, "-1022"),
        // Coinbase answers every JWT failure alike: 401 UNAUTHENTICATED.
        (
            Venue::Coinbase,
            RejectKind::InvalidApiKey,
            "UNAUTHENTICATED",
        ),
        (
            Venue::CoinbaseExchange,
            RejectKind::InvalidSignature,
            "HTTP 400",
        ),
        (
            Venue::Kraken,
            RejectKind::InvalidSignature,
            "EAPI:Invalid signature",
        ),
    ];
    for (i, (venue, kind, code)) in cases.into_iter().enumerate() {
        let good = s.sim.keys().get(venue).clone();
        // A real key of the same kind, from another account: right format, wrong secret.
        let other = s
            .sim
            .venue(venue)
            .funded_key(&KeySpec::trading(venue))
            .unwrap();
        let client = connector(&good, &other, T0);
        let case = format!("TC{i} wrong secret on {venue}");
        expect_refusal(&s.sim, venue, &*client, kind, code, &case).await;
    }
    s.sim.shutdown().await;
}

#[tokio::test]
async fn fail_stale_timestamp_is_refused_with_each_exchanges_error() {
    let s = setup().await;
    // The simulator's clock runs 61 s ahead of the gateway host's: outside Binance's 5 s
    // recvWindow and Coinbase Exchange's 30 s.
    s.sim_clock.set(T0 + 61_000);
    let cases = [
        (Venue::Binance, RejectKind::InvalidTimestamp, "-1021"),
        (
            Venue::CoinbaseExchange,
            RejectKind::InvalidTimestamp,
            "HTTP 400",
        ),
    ];
    for (i, (venue, kind, code)) in cases.into_iter().enumerate() {
        let good = s.sim.keys().get(venue).clone();
        let client = connector(&good, &good, T0);
        let case = format!("TC{i} stale timestamp on {venue}");
        expect_refusal(&s.sim, venue, &*client, kind, code, &case).await;
    }
    s.sim.shutdown().await;
}

#[tokio::test]
async fn fail_expired_coinbase_jwt_is_refused() {
    let s = setup().await;
    // JWTs live 120 s; the simulator is 180 s ahead, so the token arrives expired. Coinbase
    // does not say why a JWT failed (401 UNAUTHENTICATED for every cause); the connector's
    // message names the causes to check, the host clock among them.
    let good = s.sim.keys().get(Venue::Coinbase).clone();
    let client = connector(&good, &good, T0);
    s.sim_clock.set(T0 + 180_000);
    let case = "expired JWT on coinbase";
    expect_refusal(
        &s.sim,
        Venue::Coinbase,
        &*client,
        RejectKind::InvalidApiKey,
        "UNAUTHENTICATED",
        case,
    )
    .await;
    s.sim.shutdown().await;
}

#[tokio::test]
async fn fail_reused_kraken_nonce_is_refused() {
    let s = setup().await;
    let good = s.sim.keys().get(Venue::Kraken).clone();
    // A second gateway process on the same key whose clock is behind: its nonce (ms since the
    // epoch) is lower than the one the first process had accepted.
    let ahead = connector(&good, &good, T0 + 10_000);
    ahead.balances().await.unwrap();
    let behind = connector(&good, &good, T0);
    expect_refusal(
        &s.sim,
        Venue::Kraken,
        &*behind,
        RejectKind::InvalidNonce,
        "EAPI:Invalid nonce",
        "reused nonce on kraken",
    )
    .await;
    // The process that owns the key goes on with larger nonces: the key is not locked out.
    ahead.balances().await.unwrap();
    s.sim.shutdown().await;
}
