//! A seeded geometric random walk per market, advanced in fixed time steps.
//!
//! The generator works on the log price in `f64` (it is a model, not money); every price that
//! leaves it is rounded down to the market's tick as a `Decimal`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Length of one price step in milliseconds.
pub const STEP_MS: u64 = 1_000;

/// Steps walked one by one in a single advance; a longer gap jumps with one aggregated move.
const MAX_WALKED_STEPS: u64 = 3_600;

/// The price path of one market.
#[derive(Clone, Debug)]
pub struct PricePath {
    rng: ChaCha8Rng,
    log_price: f64,
    sigma: f64,
    step: u64,
}

impl PricePath {
    /// A path starting at `start` (> 0) at step `step`, with per-step volatility `sigma`.
    pub fn new(seed: u64, start: f64, sigma: f64, step: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            log_price: start.max(f64::MIN_POSITIVE).ln(),
            sigma,
            step,
        }
    }

    /// The step the path is at.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The current price.
    pub fn price(&self) -> f64 {
        self.log_price.exp()
    }

    /// Moves one step forward (GBM with zero drift: `ln p += -σ²/2 + σ·z`).
    pub fn next(&mut self) {
        self.move_by(1.0);
        self.step += 1;
    }

    /// Jumps `steps` forward at once (used after a long idle gap).
    pub fn jump(&mut self, steps: u64) {
        if steps == 0 {
            return;
        }
        self.move_by(steps as f64);
        self.step += steps;
    }

    /// How many steps to walk one by one to reach `target`, and how many to jump first.
    pub fn plan(&self, target: u64) -> (u64, u64) {
        let gap = target.saturating_sub(self.step);
        let walk = gap.min(MAX_WALKED_STEPS);
        (gap - walk, walk)
    }

    fn move_by(&mut self, steps: f64) {
        let z = standard_normal(&mut self.rng);
        let sigma = self.sigma * steps.sqrt();
        self.log_price += -0.5 * sigma * sigma + sigma * z;
    }
}

/// One draw from N(0, 1) by the Box–Muller transform.
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_path() {
        let mut a = PricePath::new(7, 100.0, 0.01, 0);
        let mut b = PricePath::new(7, 100.0, 0.01, 0);
        for _ in 0..100 {
            a.next();
            b.next();
        }
        assert_eq!(a.price().to_bits(), b.price().to_bits());
        assert_eq!(a.step(), 100);
    }

    #[test]
    fn different_seed_different_path() {
        let mut a = PricePath::new(1, 100.0, 0.01, 0);
        let mut b = PricePath::new(2, 100.0, 0.01, 0);
        a.next();
        b.next();
        assert_ne!(a.price().to_bits(), b.price().to_bits());
    }

    #[test]
    fn plan_caps_walked_steps() {
        let p = PricePath::new(1, 100.0, 0.01, 10);
        assert_eq!(p.plan(15), (0, 5));
        assert_eq!(p.plan(10 + MAX_WALKED_STEPS + 7), (7, MAX_WALKED_STEPS));
        assert_eq!(p.plan(3), (0, 0));
    }
}
