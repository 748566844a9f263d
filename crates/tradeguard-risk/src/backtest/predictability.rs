//! How predictable a series of rebalance intervals or sizes is from its own past.

/// Lag-1 autocorrelation, coefficient of variation, and the share of values within 5% of the
/// previous one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Predictability {
    /// Number of values.
    pub count: usize,
    /// Correlation of each value with the previous one; `None` with fewer than 3 values or no
    /// variation at all (a constant series is perfectly predictable).
    pub lag1_autocorrelation: Option<f64>,
    /// Standard deviation over mean; 0 for a constant series.
    pub coefficient_of_variation: Option<f64>,
    /// Share of values within 5% of the previous value (1.0: the next one is always where the
    /// last one was).
    pub repeat_share: Option<f64>,
}

impl Predictability {
    /// Measures `xs`.
    pub fn of(xs: &[f64]) -> Self {
        Self {
            count: xs.len(),
            lag1_autocorrelation: autocorrelation(xs, 1),
            coefficient_of_variation: coefficient_of_variation(xs),
            repeat_share: repeat_share(xs, 0.05),
        }
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Autocorrelation of `xs` at `lag`.
pub fn autocorrelation(xs: &[f64], lag: usize) -> Option<f64> {
    if xs.len() < lag + 2 {
        return None;
    }
    let m = mean(xs);
    let var: f64 = xs.iter().map(|x| (x - m).powi(2)).sum();
    if var <= f64::EPSILON * xs.len() as f64 * m.abs().max(1.0) {
        return None;
    }
    let cov: f64 = xs.windows(lag + 1).map(|w| (w[0] - m) * (w[lag] - m)).sum();
    Some(cov / var)
}

/// Standard deviation over mean.
pub fn coefficient_of_variation(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let m = mean(xs);
    if m.abs() <= f64::EPSILON {
        return None;
    }
    let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64;
    Some(var.sqrt() / m.abs())
}

fn repeat_share(xs: &[f64], tolerance: f64) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let hits = xs
        .windows(2)
        .filter(|w| (w[1] - w[0]).abs() <= tolerance * w[0].abs())
        .count();
    Some(hits as f64 / (xs.len() - 1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures() {
        let constant = Predictability::of(&[24.0; 10]);
        assert_eq!(constant.lag1_autocorrelation, None);
        assert_eq!(constant.coefficient_of_variation, Some(0.0));
        assert_eq!(constant.repeat_share, Some(1.0));
        let alternating = Predictability::of(&[1.0, 3.0, 1.0, 3.0, 1.0, 3.0]);
        assert!(alternating.lag1_autocorrelation.unwrap() < -0.8);
        assert_eq!(alternating.repeat_share, Some(0.0));
        let trend: Vec<f64> = (1..=50).map(f64::from).collect();
        assert!(autocorrelation(&trend, 1).unwrap() > 0.9);
        assert_eq!(Predictability::of(&[1.0]).lag1_autocorrelation, None);
    }
}
