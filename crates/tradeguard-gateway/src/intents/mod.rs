//! Sealed per-trade intents (`POST /v1/intents`, issue 7): the gateway side.
//!
//! The request carries no principal identity: its body is one HPKE envelope (DESIGN.md JSON,
//! `info` = `tradeguard/v1 intent`) of the fixed packet size, sealed with a one-use ephemeral
//! key; identity is proven inside it by the principal's Ed25519 signature
//! ([`tradeguard_crypto::intent`]). For every packet the gateway does the same work before it
//! answers: open, verify the signature, check that the principal is known with scope `trade`,
//! check the inner nonce and the encapsulated key in the replay cache, compute the security
//! score from the protections in force. Then it answers, and only then acts:
//!
//! - a real order is handed to the order path (`POST /v1/orders`' handler, as the principal:
//!   halt, risk, idempotency and audit apply) in a task of its own;
//! - a dummy is dropped and counted;
//! - a status query (routing ids inside the seal) is answered inside the sealed answer;
//! - a refused packet (does not open, bad signature, unknown principal, replay, score below
//!   the threshold) is audited as `intent.refused` with its reason.
//!
//! Every answer is `202 Accepted` with the same JSON of the same length,
//! `{"v":1,"answer":"<base64url of 1040 bytes>"}`: an answer sealed under a key derived from
//! the packet's own HPKE context (see [`tradeguard_crypto::intent::response`]), or random
//! bytes when the packet did not open. Only the sender can read it.
//!
//! Status queries are sealed packets too (not `GET /v1/intents/{id}`): a signed GET would name
//! the principal beside the routing id on the wire, which is what routing ids must not allow.

mod handler;
mod intake;
pub mod routing;
pub mod status;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

pub use handler::post;
pub use routing::{DerivedRoutingKeys, MemoryRoutingKeys, RoutingKeys};
pub use status::{IntentState, IntentStatus, StatusTable};
use tokio::sync::mpsc;
use tradeguard_crypto::envelope::RecipientKey;
use tradeguard_crypto::intent::{OpenPolicy, ScorePolicy};

use crate::state::AppState;

/// Tunables of the intake.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntentConfig {
    /// Packet sizes and the creation-time window.
    pub open: OpenPolicy,
    /// Weights and threshold of the security score.
    pub score: ScorePolicy,
    /// A principal counts as sending dummies if its last dummy is at most this old.
    pub dummy_recency: Duration,
    /// How many intents the status table remembers.
    pub status_capacity: usize,
    /// Work left after answering (orders to execute, refusals to audit) runs on this tick,
    /// not when its packet arrived (default 20 ms: a real order waits at most that long).
    pub execute_every: Duration,
    /// Audits per second of refusals that name no principal (packets that do not open); more
    /// are counted and reported in the next one, so garbage cannot flood the log.
    pub anonymous_audits_per_sec: u64,
}

impl Default for IntentConfig {
    fn default() -> Self {
        Self {
            open: OpenPolicy::default(),
            score: ScorePolicy::default(),
            dummy_recency: Duration::from_secs(600),
            status_capacity: 100_000,
            anonymous_audits_per_sec: 100,
            execute_every: Duration::from_millis(20),
        }
    }
}

/// Counters of the intake.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntakeStats {
    /// Packets received.
    pub packets: u64,
    /// Real orders handed to the order path.
    pub real: u64,
    /// Dummies opened and dropped.
    pub dummies: u64,
    /// Status queries answered.
    pub queries: u64,
    /// Packets refused, by reason.
    pub refused: BTreeMap<&'static str, u64>,
}

/// The gateway's sealed-intent intake: its HPKE private keys, the principals' routing keys,
/// the status table and counters. Put it in the state with `GatewayBuilder::intents`.
pub struct IntentIntake {
    recipient: RecipientKey,
    routing: Box<dyn RoutingKeys>,
    config: IntentConfig,
    status: StatusTable,
    last_dummy_ms: Mutex<std::collections::HashMap<String, i64>>,
    counters: Counters,
    executor: OnceLock<mpsc::UnboundedSender<intake::After>>,
}

#[derive(Default)]
struct Counters {
    packets: AtomicU64,
    real: AtomicU64,
    dummies: AtomicU64,
    queries: AtomicU64,
    refused: Mutex<BTreeMap<&'static str, u64>>,
    anonymous_window: Mutex<(i64, u64)>,
    suppressed: AtomicU64,
}

impl IntentIntake {
    /// An intake opening with `recipient` (the vault's HPKE keys).
    pub fn new(
        recipient: RecipientKey,
        routing: Box<dyn RoutingKeys>,
        config: IntentConfig,
    ) -> Self {
        Self {
            recipient,
            routing,
            status: StatusTable::new(config.status_capacity),
            config,
            last_dummy_ms: Mutex::default(),
            counters: Counters::default(),
            executor: OnceLock::new(),
        }
    }

    /// Queues work for the next tick, starting the ticking task on first use.
    fn enqueue(self: &Arc<Self>, state: &AppState, after: intake::After) {
        let tx = self.executor.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(tick_loop(state.clone(), Arc::clone(self), rx));
            tx
        });
        if tx.send(after).is_err() {
            tracing::error!("intent executor stopped; work after an answer was dropped");
        }
    }

    /// The counters.
    pub fn stats(&self) -> IntakeStats {
        let c = &self.counters;
        IntakeStats {
            packets: c.packets.load(Ordering::Relaxed),
            real: c.real.load(Ordering::Relaxed),
            dummies: c.dummies.load(Ordering::Relaxed),
            queries: c.queries.load(Ordering::Relaxed),
            refused: c.refused.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    }

    /// The status table.
    pub fn status(&self) -> &StatusTable {
        &self.status
    }
}

/// Every `execute_every`, runs what was queued since the last tick (each in its own task, so
/// a slow exchange call does not hold up the others).
async fn tick_loop(
    state: AppState,
    intake: Arc<IntentIntake>,
    mut rx: mpsc::UnboundedReceiver<intake::After>,
) {
    let mut tick = tokio::time::interval(intake.config.execute_every.max(Duration::from_millis(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        loop {
            match rx.try_recv() {
                Ok(after) => {
                    tokio::spawn(handler::run_after(
                        state.clone(),
                        Arc::clone(&intake),
                        after,
                    ));
                }
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => return,
            }
        }
    }
}
