//! Sealed intents end to end: `tradeguard_client::intent` against the real gateway router over
//! loopback (SQLite test store, no exchange wired, so the order path refuses after the
//! answer). Includes the observer's view: the distinguisher test (3,000 packets, one real in
//! three) and the unlinkability of identical intents.

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{Value, json};
use tradeguard_client::intent::{IntentClient, IntentOptions, IntentQueue, IntentSendError};
use tradeguard_client::{ClientConfig, PrincipalKey, Trust};
use tradeguard_crypto::envelope::{Envelope, RecipientKey};
use tradeguard_crypto::intent::{IntentError, RoutingId, RoutingKey};
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_gateway::audit::MemoryAudit;
use tradeguard_gateway::intents::{
    IntentConfig, IntentIntake, IntentState, MemoryRoutingKeys, RoutingKeys,
};
use tradeguard_gateway::keys::GatewayKeys;
use tradeguard_gateway::principal::PrincipalRecord;
use tradeguard_gateway::scope::{Scope, ScopeSet};
use tradeguard_gateway::state::GatewayBuilder;
use tradeguard_gateway::tls;

struct Shared(Arc<MemoryRoutingKeys>);

impl RoutingKeys for Shared {
    fn key(&self, did: &str) -> Option<RoutingKey> {
        self.0.key(did)
    }
}

struct Setup {
    addr: SocketAddr,
    intake: Arc<IntentIntake>,
    state: tradeguard_gateway::state::AppState,
    routing: Arc<MemoryRoutingKeys>,
}

async fn gateway() -> Setup {
    let store = tradeguard_store::testing::sqlite().await;
    let rk = RecipientKey::generate_x25519().unwrap();
    let keys = GatewayKeys::new(
        vec![rk.public_key()],
        Arc::new(Ed25519SigningKey::generate().unwrap()),
    );
    let routing = Arc::new(MemoryRoutingKeys::default());
    let intake = Arc::new(IntentIntake::new(
        rk,
        Box::new(Shared(routing.clone())),
        IntentConfig::default(),
    ));
    let state = GatewayBuilder::new(store, keys, Arc::new(MemoryAudit::default()))
        .intents(intake.clone())
        .build()
        .await
        .unwrap();
    let app = tradeguard_gateway::api::router(state.clone());
    let handle = tls::Handle::new();
    let h = handle.clone();
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    tokio::spawn(async move { tls::serve(app, addr, tls::Transport::DangerousPlainHttp, h).await });
    let addr = handle.listening().await.expect("gateway listening");
    Setup {
        addr,
        intake,
        state,
        routing,
    }
}

impl Setup {
    /// A trading principal with a routing key, and its intent client.
    async fn bot(
        &self,
        options: IntentOptions,
        with_routing: bool,
    ) -> (IntentClient, Option<RoutingKey>) {
        let sk = Ed25519SigningKey::generate().unwrap();
        let key = PrincipalKey::ed25519(sk);
        let record =
            PrincipalRecord::ed25519(key.keyid(), ScopeSet::of(&[Scope::Trade]), "bot").unwrap();
        self.state.directory.put(&record, 0).await.unwrap();
        let routing = with_routing.then(|| {
            let rk = RoutingKey::generate().unwrap();
            self.routing.insert(key.keyid(), &rk);
            RoutingKey::from_bytes(rk.expose_secret()).unwrap()
        });
        let mine = routing
            .as_ref()
            .map(|k| RoutingKey::from_bytes(k.expose_secret()).unwrap());
        let config = ClientConfig::new(format!("http://{}", self.addr), Trust::PlatformRoots);
        let client = IntentClient::connect(&config, key, routing, options)
            .await
            .unwrap();
        (client, mine)
    }
}

fn order(i: usize) -> Value {
    json!({"client_order_id": format!("bot-{i:06}"), "profile": "p1", "symbol": "BTC/USD",
           "side": "buy", "type": "limit", "price": "50000.00", "quantity": "0.0100"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_with_dummies_then_ask_the_status() {
    let g = gateway().await;
    let (bot, routing) = g.bot(IntentOptions::default(), true).await;
    let sent = bot.send(order(1)).await.unwrap();
    assert_eq!(sent.packets, 3);
    let id = sent.routing_id.expect("the gateway holds our routing key");
    let stats = g.intake.stats();
    assert_eq!((stats.packets, stats.real, stats.dummies), (3, 1, 2));
    for _ in 0..20_000 {
        if g.intake
            .status()
            .get(&id, &bot.did())
            .is_some_and(|s| s.state != IntentState::Pending)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let other = RoutingId::derive(routing.as_ref().unwrap(), b"not sent");
    let status = bot.status(&[id, other]).await.unwrap();
    assert_eq!(status[0]["id"], id.to_hex());
    assert_eq!(
        status[0]["state"], "refused",
        "no exchange is wired: the order path refuses: {status}"
    );
    assert_eq!(status[1]["state"], "unknown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_rate_ticks_send_dummies_until_an_order_is_queued() {
    let g = gateway().await;
    let options = IntentOptions {
        dummies: 0,
        constant_rate: true,
        ..IntentOptions::default()
    };
    let (bot, _) = g.bot(options, true).await;
    let queue = IntentQueue::default();
    assert!(
        bot.tick(&queue).await.unwrap().is_none(),
        "empty queue: a dummy"
    );
    queue.push(order(2));
    assert!(
        bot.tick(&queue).await.unwrap().is_some(),
        "then the queued order"
    );
    assert!(bot.tick(&queue).await.unwrap().is_none());
    let stats = g.intake.stats();
    assert_eq!((stats.real, stats.dummies), (1, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_closed_below_the_score_threshold_nothing_is_sent() {
    let g = gateway().await;
    let options = IntentOptions {
        dummies: 0,
        ..IntentOptions::default()
    };
    let (bot, _) = g.bot(options, false).await;
    let err = bot.send(order(3)).await.unwrap_err();
    assert!(
        matches!(
            err,
            IntentSendError::Intent(IntentError::BelowThreshold { .. })
        ),
        "{err}"
    );
    assert_eq!(g.intake.stats().packets, 0, "no packet left the client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_intents_give_unlinkable_packets_and_routing_ids() {
    let g = gateway().await;
    let (bot, routing) = g
        .bot(
            IntentOptions {
                dummies: 0,
                ..IntentOptions::default()
            },
            true,
        )
        .await;
    let (a, b) = (
        bot.prepare(order(4)).unwrap(),
        bot.prepare(order(4)).unwrap(),
    );
    let (ea, eb) = (
        Envelope::from_json(&a[0].json).unwrap(),
        Envelope::from_json(&b[0].json).unwrap(),
    );
    assert_eq!(a[0].json.len(), b[0].json.len(), "same length");
    assert_ne!(ea.enc, eb.enc, "each has its own ephemeral key");
    let same = ea.ct.iter().zip(&eb.ct).filter(|(x, y)| x == y).count();
    assert!(
        same < 30,
        "ciphertexts share no more bytes than chance ({same} of {})",
        ea.ct.len()
    );
    let (ia, ib) = (a[0].routing_id.unwrap(), b[0].routing_id.unwrap());
    assert_ne!(ia, ib, "different routing ids");
    let stranger = RoutingKey::generate().unwrap();
    assert_ne!(
        ia,
        RoutingId::derive(&stranger, ia.as_bytes()),
        "ids depend on the key"
    );
    let bits = ia
        .as_bytes()
        .iter()
        .zip(ib.as_bytes())
        .map(|(x, y)| (x ^ y).count_ones())
        .sum::<u32>();
    assert!(
        (20..=108).contains(&bits),
        "ids differ like random strings ({bits} of 128 bits)"
    );
    drop(routing);
    for p in a.iter().chain(&b) {
        bot.post(p).await.unwrap();
    }
    assert_eq!(
        g.intake.stats().real,
        2,
        "both were accepted as distinct intents"
    );
}

/// What the observer records for one packet.
#[derive(Clone, Copy, Debug)]
struct Seen {
    request_len: f64,
    status: f64,
    response_len: f64,
    micros: f64,
    real: bool,
}

impl Seen {
    fn features(&self) -> [f64; 4] {
        [
            self.request_len,
            self.status,
            self.response_len,
            self.micros,
        ]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinguisher_does_no_better_than_chance() {
    let g = gateway().await;
    let (bot, _) = g.bot(IntentOptions::default(), true).await;
    let mut groups: Vec<[Seen; 3]> = Vec::with_capacity(1000);
    for i in 0..1000 {
        let packets = bot.prepare(order(10_000 + i)).unwrap();
        let mut seen = Vec::with_capacity(3);
        for p in &packets {
            let a = bot.post(p).await.unwrap();
            seen.push(Seen {
                request_len: a.request_len as f64,
                status: f64::from(a.status),
                response_len: a.response_len as f64,
                micros: a.elapsed.as_secs_f64() * 1e6,
                real: p.real,
            });
        }
        groups.push([seen[0], seen[1], seen[2]]);
    }
    let stats = g.intake.stats();
    assert_eq!(
        (stats.packets, stats.real, stats.dummies),
        (3000, 1000, 2000)
    );
    let (train, test) = groups.split_at(500);
    let report = evaluate(train, test);
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    // With 500 test groups, chance accuracy itself has a standard error of 2.1 points (hard
    // picks) and about 1.4 points (a threshold's flags), so "within 2 points" alone would fail
    // a leak-free gateway a third of the time. Each figure must be within 2 points of 1/3 or
    // statistically indistinguishable from it (99.9%, |z| <= 3.29); the low-variance soft
    // accuracy of the logistic model must be within 2 points outright.
    for name in ["threshold", "logistic"] {
        for metric in ["accuracy", "soft_accuracy"] {
            let acc = report[name][metric].as_f64().unwrap();
            let se = report[name][format!("{metric}_std_error")]
                .as_f64()
                .unwrap();
            let off = (acc - 1.0 / 3.0).abs();
            assert!(
                off <= 0.02 || off <= 3.29 * se,
                "{name} {metric}: {acc} (se {se}) beats chance"
            );
        }
    }
    let soft = report["logistic"]["soft_accuracy"].as_f64().unwrap();
    assert!(
        (soft - 1.0 / 3.0).abs() <= 0.02,
        "logistic soft accuracy {soft} is not within 2 points of 1/3"
    );
    // The same classifiers do find a leak when there is one: one byte more on real packets.
    let leaky: Vec<[Seen; 3]> = groups
        .iter()
        .map(|g| {
            g.map(|mut s| {
                s.request_len += if s.real { 1.0 } else { 0.0 };
                s
            })
        })
        .collect();
    let (train, test) = leaky.split_at(500);
    let leak = evaluate(train, test);
    println!(
        "with a planted 1-byte leak: {}",
        serde_json::to_string(&leak).unwrap()
    );
    assert!(leak["threshold"]["accuracy"].as_f64().unwrap() > 0.99);
    assert!(leak["logistic"]["accuracy"].as_f64().unwrap() > 0.99);
}

/// Trains a threshold classifier (one feature, one direction) and a logistic regression on
/// `train`, and measures on `test` how often each picks the real packet of a group of three
/// (chance: 1/3). Soft accuracy: the share of the group's score the real packet gets.
fn evaluate(train: &[[Seen; 3]], test: &[[Seen; 3]]) -> Value {
    let mut best = (0usize, 1.0f64, -1.0f64);
    for f in 0..4 {
        for sign in [1.0, -1.0] {
            let acc = pick_accuracy(train, |s| sign * s.features()[f]).0;
            if acc > best.2 {
                best = (f, sign, acc);
            }
        }
    }
    let (f, sign, train_acc) = best;
    let (acc, _) = pick_accuracy(test, |s| sign * s.features()[f]);
    let cut = median(train, f) * sign;
    let (soft_threshold, soft_threshold_se) = soft(test, |s| sign * s.features()[f] > cut);
    let model = Logistic::fit(train);
    let (lacc, _) = pick_accuracy(test, |s| model.p(s));
    let (lsoft, lsoft_se) = soft_scores(test, |s| model.p(s));
    let hard_se = (2.0 / 9.0 / test.len() as f64).sqrt();
    let names = ["request_len", "status", "response_len", "response_micros"];
    let means = |real: bool| -> Vec<f64> {
        let all: Vec<&Seen> = test.iter().flatten().filter(|s| s.real == real).collect();
        (0..4)
            .map(|f| all.iter().map(|s| s.features()[f]).sum::<f64>() / all.len() as f64)
            .collect()
    };
    json!({
        "test_groups": test.len(),
        "chance": 1.0 / 3.0,
        "std_error_at_chance": hard_se,
        "features": names,
        "mean_real": means(true),
        "mean_dummy": means(false),
        "threshold": {"feature": names[f], "direction": sign, "train_accuracy": train_acc,
                      "accuracy": acc, "accuracy_std_error": hard_se,
                      "soft_accuracy": soft_threshold, "soft_accuracy_std_error": soft_threshold_se},
        "logistic": {"weights": model.w.to_vec(), "accuracy": lacc, "accuracy_std_error": hard_se,
                     "soft_accuracy": lsoft, "soft_accuracy_std_error": lsoft_se},
    })
}

/// Share of groups where the highest score is the real packet (ties split evenly).
fn pick_accuracy(groups: &[[Seen; 3]], score: impl Fn(&Seen) -> f64) -> (f64, usize) {
    let mut total = 0.0;
    for g in groups {
        let scores = g.map(|s| score(&s));
        let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let winners: Vec<usize> = (0..3).filter(|i| scores[*i] == top).collect();
        total += winners.iter().filter(|i| g[**i].real).count() as f64 / winners.len() as f64;
    }
    (total / groups.len() as f64, groups.len())
}

/// Expected accuracy of picking uniformly among the packets a yes/no classifier flags (all
/// three when it flags none), with its standard error.
fn soft(groups: &[[Seen; 3]], flag: impl Fn(&Seen) -> bool) -> (f64, f64) {
    soft_scores(groups, |s| if flag(s) { 1.0 } else { 0.0 })
}

/// Expected accuracy of picking each packet with probability proportional to its score, and
/// the standard error of that mean over groups.
fn soft_scores(groups: &[[Seen; 3]], score: impl Fn(&Seen) -> f64) -> (f64, f64) {
    let per_group: Vec<f64> = groups
        .iter()
        .map(|g| {
            let s = g.map(|x| score(&x).max(0.0));
            let sum: f64 = s.iter().sum();
            if sum > 0.0 {
                (0..3).filter(|i| g[*i].real).map(|i| s[i]).sum::<f64>() / sum
            } else {
                1.0 / 3.0
            }
        })
        .collect();
    let n = per_group.len() as f64;
    let mean = per_group.iter().sum::<f64>() / n;
    let var = per_group.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

fn median(groups: &[[Seen; 3]], f: usize) -> f64 {
    let mut v: Vec<f64> = groups.iter().flatten().map(|s| s.features()[f]).collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Logistic regression on standardized features, batch gradient descent.
struct Logistic {
    mean: [f64; 4],
    sd: [f64; 4],
    w: [f64; 5],
}

impl Logistic {
    fn fit(groups: &[[Seen; 3]]) -> Self {
        let all: Vec<&Seen> = groups.iter().flatten().collect();
        let n = all.len() as f64;
        let mut mean = [0.0; 4];
        let mut sd = [0.0; 4];
        for f in 0..4 {
            mean[f] = all.iter().map(|s| s.features()[f]).sum::<f64>() / n;
            let var = all
                .iter()
                .map(|s| (s.features()[f] - mean[f]).powi(2))
                .sum::<f64>()
                / n;
            sd[f] = if var > 0.0 { var.sqrt() } else { 1.0 };
        }
        let mut m = Self {
            mean,
            sd,
            w: [0.0; 5],
        };
        for _ in 0..500 {
            let mut grad = [0.0; 5];
            for s in &all {
                let x = m.x(s);
                let err = m.p(s) - if s.real { 1.0 } else { 0.0 };
                for (g, xi) in grad.iter_mut().zip(x) {
                    *g += err * xi / n;
                }
            }
            for (w, g) in m.w.iter_mut().zip(grad) {
                *w -= 0.5 * g;
            }
        }
        m
    }

    fn x(&self, s: &Seen) -> [f64; 5] {
        let f = s.features();
        let mut x = [1.0; 5];
        for i in 0..4 {
            x[i + 1] = (f[i] - self.mean[i]) / self.sd[i];
        }
        x
    }

    fn p(&self, s: &Seen) -> f64 {
        let z: f64 = self.x(s).iter().zip(self.w).map(|(x, w)| x * w).sum();
        1.0 / (1.0 + (-z).exp())
    }
}
