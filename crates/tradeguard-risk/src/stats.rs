//! Market statistics for the risk-adjusted, volatility-targeted and momentum strategies:
//! volatility, correlation and momentum from a window of prices. These are metrics, so they
//! use `f64`; money stays in `Decimal`.

use crate::ids::Asset;

/// Volatility, correlation and momentum of a set of assets over one price window.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketStats {
    assets: Vec<Asset>,
    volatility: Vec<f64>,
    correlation: Vec<Vec<f64>>,
    momentum: Vec<f64>,
}

fn log_returns(prices: &[f64]) -> Option<Vec<f64>> {
    if prices.iter().any(|p| !p.is_finite() || *p <= 0.0) {
        return None;
    }
    Some(prices.windows(2).map(|w| (w[1] / w[0]).ln()).collect())
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn covariance(x: &[f64], y: &[f64], mx: f64, my: f64) -> f64 {
    let n = x.len().min(y.len());
    x.iter()
        .zip(y)
        .map(|(a, b)| (a - mx) * (b - my))
        .sum::<f64>()
        / (n as f64 - 1.0)
}

impl MarketStats {
    /// Statistics from `series[i]`, the prices of `assets[i]` oldest first, sampled
    /// `periods_per_year` times a year. Needs at least 3 prices per asset, all the same length,
    /// finite and positive; returns `None` otherwise.
    pub fn from_prices(
        assets: Vec<Asset>,
        series: &[Vec<f64>],
        periods_per_year: f64,
    ) -> Option<Self> {
        let len = series.first()?.len();
        let ok = assets.len() == series.len() && len >= 3 && series.iter().all(|s| s.len() == len);
        if !(ok && periods_per_year.is_finite() && periods_per_year > 0.0) {
            return None;
        }
        let returns: Vec<Vec<f64>> = series
            .iter()
            .map(|s| log_returns(s))
            .collect::<Option<_>>()?;
        let means: Vec<f64> = returns.iter().map(|r| mean(r)).collect();
        let n = returns.len();
        let mut cov = vec![vec![0.0; n]; n];
        for i in 0..n {
            for j in i..n {
                let c = covariance(&returns[i], &returns[j], means[i], means[j]);
                cov[i][j] = c;
                cov[j][i] = c;
            }
        }
        let sd: Vec<f64> = (0..n).map(|i| cov[i][i].max(0.0).sqrt()).collect();
        let correlation = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| corr_from(cov[i][j], sd[i], sd[j], i == j))
                    .collect()
            })
            .collect();
        let volatility = sd.iter().map(|s| s * periods_per_year.sqrt()).collect();
        let momentum = returns.iter().map(|r| r.iter().sum()).collect();
        Some(Self {
            assets,
            volatility,
            correlation,
            momentum,
        })
    }

    fn index(&self, asset: &Asset) -> Option<usize> {
        self.assets.iter().position(|a| a == asset)
    }

    /// Annualized volatility of `asset`'s log returns.
    pub fn volatility(&self, asset: &Asset) -> Option<f64> {
        Some(self.volatility[self.index(asset)?])
    }

    /// Correlation of the log returns of `a` and `b` (0 when either never moved).
    pub fn correlation(&self, a: &Asset, b: &Asset) -> Option<f64> {
        Some(self.correlation[self.index(a)?][self.index(b)?])
    }

    /// Log return of `asset` over the whole window.
    pub fn momentum(&self, asset: &Asset) -> Option<f64> {
        Some(self.momentum[self.index(asset)?])
    }

    /// Annualized volatility of a portfolio holding `weights` (cash has none).
    pub fn portfolio_volatility(&self, weights: &[(Asset, f64)]) -> Option<f64> {
        let mut var = 0.0;
        for (a, wa) in weights {
            for (b, wb) in weights {
                let (va, vb) = (self.volatility(a)?, self.volatility(b)?);
                var += wa * wb * va * vb * self.correlation(a, b)?;
            }
        }
        Some(var.max(0.0).sqrt())
    }
}

fn corr_from(cov: f64, sa: f64, sb: f64, same: bool) -> f64 {
    if same {
        return 1.0;
    }
    if sa <= f64::EPSILON || sb <= f64::EPSILON {
        return 0.0;
    }
    (cov / (sa * sb)).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Asset {
        Asset::new(s).unwrap()
    }

    #[test]
    fn correlated_and_flat_series() {
        let up_down: Vec<f64> = (0..50)
            .map(|i| if i % 2 == 0 { 100.0 } else { 110.0 })
            .collect();
        let twice: Vec<f64> = (0..50)
            .map(|i| if i % 2 == 0 { 100.0 } else { 121.0 })
            .collect();
        let flat = vec![1.0; 50];
        let s =
            MarketStats::from_prices(vec![a("X"), a("Y"), a("Z")], &[up_down, twice, flat], 365.0)
                .unwrap();
        let (vx, vy) = (
            s.volatility(&a("X")).unwrap(),
            s.volatility(&a("Y")).unwrap(),
        );
        assert!(
            (vy / vx - 2.0).abs() < 1e-9,
            "log returns of Y are twice those of X"
        );
        assert!((s.correlation(&a("X"), &a("Y")).unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(s.correlation(&a("X"), &a("Z")), Some(0.0));
        assert_eq!(s.volatility(&a("Z")), Some(0.0));
        let pv = s
            .portfolio_volatility(&[(a("X"), 0.5), (a("Y"), 0.5)])
            .unwrap();
        assert!((pv - 1.5 * vx).abs() < 1e-9);
    }

    #[test]
    fn fail_bad_windows() {
        let cases: [(Vec<Vec<f64>>, f64); 4] = [
            (vec![vec![1.0, 2.0]], 365.0),
            (vec![vec![1.0, 2.0, -3.0]], 365.0),
            (vec![vec![1.0, 2.0, f64::NAN]], 365.0),
            (vec![vec![1.0, 2.0, 3.0]], 0.0),
        ];
        for (i, (series, ppy)) in cases.iter().enumerate() {
            assert!(
                MarketStats::from_prices(vec![a("X")], series, *ppy).is_none(),
                "TC{i} failed"
            );
        }
    }
}
