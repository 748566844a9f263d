//! Correlation matrices of period-return series (between assets, between profiles).

use serde::{Deserialize, Serialize};

use crate::stats;

/// A symmetric matrix of Pearson correlations. `values[i][j]` pairs `labels[i]` with
/// `labels[j]` over the periods where both have a return (pairwise-complete, as pandas'
/// `DataFrame.corr()`); `None` with fewer than two such periods or a constant side.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CorrelationMatrix {
    /// Row and column names.
    pub labels: Vec<String>,
    /// Row-major correlations; the diagonal is 1 where the series varies.
    pub values: Vec<Vec<Option<f64>>>,
}

/// Correlates every pair of `series` (all the same length: one entry per period, `None` where
/// that series has no return). Series of unequal length are compared over their common prefix.
pub fn correlation_matrix(labels: Vec<String>, series: &[Vec<Option<f64>>]) -> CorrelationMatrix {
    let n = series.len().min(labels.len());
    let mut values = vec![vec![None; n]; n];
    for i in 0..n {
        for j in i..n {
            let (xs, ys): (Vec<f64>, Vec<f64>) = series[i]
                .iter()
                .zip(&series[j])
                .filter_map(|(x, y)| Some(((*x)?, (*y)?)))
                .unzip();
            let c = stats::pearson(&xs, &ys);
            values[i][j] = c;
            values[j][i] = c;
        }
    }
    CorrelationMatrix {
        labels: labels.into_iter().take(n).collect(),
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_complete_and_symmetric() {
        let a = vec![Some(0.01), Some(-0.02), Some(0.03), None];
        let b = vec![Some(0.02), Some(-0.04), Some(0.06), Some(1.0)];
        let c = vec![None, Some(0.0), Some(0.0), Some(0.0)];
        let m = correlation_matrix(vec!["a".into(), "b".into(), "c".into()], &[a, b, c]);
        let ab = m.values[0][1].unwrap();
        assert!((ab - 1.0).abs() < 1e-12, "{ab}");
        assert_eq!(m.values[0][1], m.values[1][0]);
        assert_eq!(m.values[2][2], None, "constant series");
        assert_eq!(m.values[0][2], None);
        assert!((m.values[1][1].unwrap() - 1.0).abs() < 1e-12);
    }
}
