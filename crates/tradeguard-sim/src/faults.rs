//! Fault injection, per simulator and deterministic under a seed.
//!
//! Every request draws once from a seeded ChaCha stream (in arrival order, so a sequential client
//! sees the same faults on every run with the same seed). A draw may add latency and may pick one
//! fault. Faults that only make sense for an accepted order (a dropped connection after accepting
//! it, a 5xx after accepting it, a duplicate-id answer for it) are drawn only for order
//! placements; other requests that land in their share get no fault.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// How often each fault happens (probabilities in 0..=1; their sum should stay at most 1).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FaultConfig {
    /// Seed of the fault stream.
    pub seed: u64,
    /// Probability of added latency, drawn independently of the faults below.
    pub latency: f64,
    /// Added latency range in ms, inclusive, when latency is drawn.
    pub latency_ms: (u64, u64),
    /// A 5xx before anything was done (the request had no effect).
    pub server_error: f64,
    /// A 5xx after the order was accepted (order placements only): status unknown to the client.
    pub server_error_after_accept: f64,
    /// The venue's 429 answer, the request not processed.
    pub rate_limited: f64,
    /// Binance's 418 IP ban answer (other venues: their lockout or 429), not processed.
    pub banned: f64,
    /// The connection is closed without an answer after the order was accepted.
    pub drop_after_accept: f64,
    /// The order is accepted, but the answer is the venue's duplicate-client-id error, as if an
    /// earlier copy of the request had landed (order placements only).
    pub duplicate_client_id: f64,
}

impl FaultConfig {
    /// No faults at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// `total` spread evenly over every fault kind (latency 1–50 ms drawn with the same
    /// probability), e.g. `FaultConfig::uniform(seed, 0.10)` for the chaos test.
    pub fn uniform(seed: u64, total: f64) -> Self {
        let each = total / 6.0;
        Self {
            seed,
            latency: total,
            latency_ms: (1, 50),
            server_error: each,
            server_error_after_accept: each,
            rate_limited: each,
            banned: each,
            drop_after_accept: each,
            duplicate_client_id: each,
        }
    }
}

/// The fault picked for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Fault {
    /// Answer 5xx without processing.
    ServerError,
    /// Process the order, then answer 5xx.
    ServerErrorAfterAccept,
    /// Answer the venue's 429 without processing.
    RateLimited,
    /// Answer the venue's ban (Binance 418) without processing.
    Banned,
    /// Process the order, then close the connection without an answer.
    DropAfterAccept,
    /// Process the order, then answer the venue's duplicate-client-id error.
    DuplicateClientId,
}

impl Fault {
    /// True for faults that happen after the order was accepted.
    pub fn after_accept(self) -> bool {
        matches!(
            self,
            Fault::ServerErrorAfterAccept | Fault::DropAfterAccept | Fault::DuplicateClientId
        )
    }
}

/// The outcome of one draw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Draw {
    /// Latency to add before answering, in ms.
    pub latency_ms: u64,
    /// The fault, if any.
    pub fault: Option<Fault>,
}

/// Counts of injected faults, for test reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FaultStats {
    /// Requests that drew.
    pub requests: u64,
    /// Requests given added latency.
    pub delayed: u64,
    /// Injected faults by kind.
    pub injected: std::collections::BTreeMap<String, u64>,
}

/// The seeded fault stream of one simulator.
#[derive(Debug)]
pub struct FaultInjector {
    config: FaultConfig,
    rng: ChaCha8Rng,
    stats: FaultStats,
}

impl FaultInjector {
    /// A stream for `config`.
    pub fn new(config: FaultConfig) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            config,
            stats: FaultStats::default(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// Counts so far.
    pub fn stats(&self) -> &FaultStats {
        &self.stats
    }

    /// Draws for one request; `order_placement` enables the after-accept faults.
    pub fn draw(&mut self, order_placement: bool) -> Draw {
        let c = &self.config;
        let latency_roll: f64 = self.rng.random();
        let latency_pick: u64 = self
            .rng
            .random_range(c.latency_ms.0..=c.latency_ms.1.max(c.latency_ms.0));
        let fault_roll: f64 = self.rng.random();
        let latency_ms = if latency_roll < c.latency {
            latency_pick
        } else {
            0
        };
        let table = [
            (Fault::ServerError, c.server_error),
            (Fault::RateLimited, c.rate_limited),
            (Fault::Banned, c.banned),
            (Fault::ServerErrorAfterAccept, c.server_error_after_accept),
            (Fault::DropAfterAccept, c.drop_after_accept),
            (Fault::DuplicateClientId, c.duplicate_client_id),
        ];
        let mut acc = 0.0;
        let mut fault = None;
        for (kind, p) in table {
            acc += p;
            if fault_roll < acc {
                fault = Some(kind).filter(|k| order_placement || !k.after_accept());
                break;
            }
        }
        self.record(latency_ms, fault);
        Draw { latency_ms, fault }
    }

    fn record(&mut self, latency_ms: u64, fault: Option<Fault>) {
        self.stats.requests += 1;
        if latency_ms > 0 {
            self.stats.delayed += 1;
        }
        if let Some(f) = fault {
            *self.stats.injected.entry(format!("{f:?}")).or_default() += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_faults_by_default() {
        let mut f = FaultInjector::new(FaultConfig::none());
        assert!((0..1000).all(|_| f.draw(true) == Draw::default()));
    }

    #[test]
    fn same_seed_same_faults() {
        let run = |seed| {
            let mut f = FaultInjector::new(FaultConfig::uniform(seed, 0.5));
            (0..200).map(|i| f.draw(i % 3 == 0)).collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }

    #[test]
    fn rates_are_close_to_configured_and_after_accept_only_on_orders() {
        let mut f = FaultInjector::new(FaultConfig::uniform(1, 0.6));
        let draws: Vec<Draw> = (0..6000).map(|_| f.draw(true)).collect();
        let drops = draws
            .iter()
            .filter(|d| d.fault == Some(Fault::DropAfterAccept))
            .count();
        assert!(
            (500..700).contains(&drops),
            "about 10% dropped, got {drops}"
        );
        let mut g = FaultInjector::new(FaultConfig::uniform(1, 0.6));
        assert!((0..6000).all(|_| !g.draw(false).fault.is_some_and(Fault::after_accept)));
    }
}
