//! Simulated price paths: geometric Brownian motion with correlated assets (one market factor),
//! reproducible from a seed.
//!
//! Each asset's log return per step is `(mu - sigma^2 / 2) dt + sigma sqrt(dt) e`, where
//! `e = sqrt(rho) m + sqrt(1 - rho) z`, `m` the market shock shared by all assets and `z` the
//! asset's own; two assets' returns then correlate by `sqrt(rho_a rho_b)`. The parameters per
//! category are in [`AssetModel::for_category`].

use rand::{CryptoRng, Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

use super::history::PriceHistory;
use crate::RiskError;
use crate::ids::{Asset, Timestamp};
use crate::limits::{LARGE_CAP, MID_CAP, PortfolioLimits, STABLECOIN};

/// How one asset moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AssetModel {
    /// Price at the start.
    pub initial_price: f64,
    /// Annual drift.
    pub drift: f64,
    /// Annual volatility.
    pub volatility: f64,
    /// Loading on the market factor, 0..=1 (the correlation of two assets is the square root of
    /// the product of their loadings).
    pub market_loading: f64,
}

/// Starting prices for well-known assets (rounded late-2024 levels); others start at 100.
const INITIAL_PRICES: &[(&str, f64)] = &[
    ("BTC", 60_000.0),
    ("ETH", 3_000.0),
    ("SOL", 150.0),
    ("XRP", 0.6),
    ("ADA", 0.45),
    ("DOT", 7.0),
    ("AVAX", 35.0),
    ("LINK", 15.0),
    ("ARB", 1.1),
    ("OP", 2.5),
    ("INJ", 25.0),
    ("USDC", 1.0),
];

impl AssetModel {
    /// The model for an asset of `category`: large caps 55% volatility, mid caps 85%,
    /// stablecoins 1% and uncorrelated, others 110%.
    pub fn for_category(asset: &Asset, category: Option<&str>) -> Self {
        let initial_price = INITIAL_PRICES
            .iter()
            .find(|(a, _)| *a == asset.as_str())
            .map_or(100.0, |(_, p)| *p);
        let (drift, volatility, market_loading) = match category {
            Some(LARGE_CAP) => (0.15, 0.55, 0.70),
            Some(MID_CAP) => (0.10, 0.85, 0.60),
            Some(STABLECOIN) => (0.0, 0.01, 0.0),
            _ => (0.05, 1.10, 0.50),
        };
        Self {
            initial_price,
            drift,
            volatility,
            market_loading,
        }
    }
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    /// Assets and how each moves.
    pub assets: Vec<(Asset, AssetModel)>,
    /// Length in years.
    pub years: f64,
    /// Steps per year (8766 for hourly).
    pub steps_per_year: u32,
    /// Time of the first step.
    pub start: Timestamp,
    /// Seed of the path.
    pub seed: u64,
}

impl Simulation {
    /// Hourly steps over `years` for `assets`, each modelled by its category in `limits`.
    /// Duplicate assets are simulated once.
    pub fn hourly(assets: &[Asset], limits: &PortfolioLimits, years: f64, seed: u64) -> Self {
        let mut unique = assets.to_vec();
        unique.sort();
        unique.dedup();
        let assets = unique
            .iter()
            .map(|a| {
                (
                    a.clone(),
                    AssetModel::for_category(a, limits.categories.get(a).map(String::as_str)),
                )
            })
            .collect();
        Self {
            assets,
            years,
            steps_per_year: 8766,
            start: Timestamp::from_secs(1_704_067_200),
            seed,
        }
    }

    /// Generates the path.
    pub fn run(&self) -> Result<PriceHistory, RiskError> {
        let steps = (self.years * f64::from(self.steps_per_year)).round();
        if !(1.0..=10_000_000.0).contains(&steps) || self.assets.is_empty() {
            return Err(RiskError::Backtest(
                "simulate between 1 and 10,000,000 steps of at least one asset".into(),
            ));
        }
        let steps = steps as usize;
        let dt = 1.0 / f64::from(self.steps_per_year);
        let step_ms = (365.25 * 86_400_000.0 * dt).round() as i64;
        let mut rng = ChaCha20Rng::seed_from_u64(self.seed);
        let mut log_prices: Vec<f64> = self
            .assets
            .iter()
            .map(|(_, m)| m.initial_price.max(1e-9).ln())
            .collect();
        let (mut times, mut rows) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
        for i in 0..steps {
            if i > 0 {
                let market = normal(&mut rng);
                for ((_, m), lp) in self.assets.iter().zip(log_prices.iter_mut()) {
                    let rho = m.market_loading.clamp(0.0, 1.0);
                    let e = rho.sqrt() * market + (1.0 - rho).sqrt() * normal(&mut rng);
                    *lp += (m.drift - m.volatility * m.volatility / 2.0) * dt
                        + m.volatility * dt.sqrt() * e;
                }
            }
            times.push(Timestamp::from_millis(
                self.start.as_millis() + step_ms * i as i64,
            ));
            rows.push(log_prices.iter().map(|lp| to_price(lp.exp())).collect());
        }
        PriceHistory::new(
            self.assets.iter().map(|(a, _)| a.clone()).collect(),
            times,
            rows,
        )
    }
}

/// A standard normal draw (Box-Muller).
fn normal<R: Rng + CryptoRng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = 1.0 - rng.random::<f64>(); // in (0, 1]
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A price kept within the range the checks accept, to 8 significant digits or 8 decimals.
fn to_price(p: f64) -> Decimal {
    let p = p.clamp(1e-8, 1e12);
    Decimal::from_f64(p)
        .map_or(Decimal::ONE, |d| d.round_sf(8).unwrap_or(d).round_dp(8))
        .max(Decimal::new(1, 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(seed: u64) -> PriceHistory {
        let assets: Vec<Asset> = ["BTC", "ETH", "USDC"]
            .iter()
            .map(|a| Asset::new(a).unwrap())
            .collect();
        Simulation::hourly(&assets, &PortfolioLimits::default(), 0.25, seed)
            .run()
            .unwrap()
    }

    #[test]
    fn seeded_paths_are_reproducible() {
        assert_eq!(sim(1), sim(1));
        assert_ne!(sim(1), sim(2));
        let h = sim(1);
        assert_eq!(h.len(), 2192);
        assert_eq!(h.row(0).unwrap()[0], Decimal::from(60_000));
    }

    #[test]
    fn correlation_and_volatility_follow_the_model() {
        let h = sim(7);
        let series: Vec<Vec<f64>> = (0..3)
            .map(|c| {
                (0..h.len())
                    .map(|i| {
                        rust_decimal::prelude::ToPrimitive::to_f64(&h.row(i).unwrap()[c]).unwrap()
                    })
                    .collect()
            })
            .collect();
        let s = crate::stats::MarketStats::from_prices(
            h.assets().to_vec(),
            &series,
            h.periods_per_year(),
        )
        .unwrap();
        let (btc, eth, usdc) = (&h.assets()[0], &h.assets()[1], &h.assets()[2]);
        let vol = s.volatility(btc).unwrap();
        assert!((0.45..0.65).contains(&vol), "BTC volatility {vol}");
        let corr = s.correlation(btc, eth).unwrap();
        assert!((0.6..0.8).contains(&corr), "BTC/ETH correlation {corr}");
        assert!(s.correlation(btc, usdc).unwrap().abs() < 0.1);
    }
}
