//! Summary statistics on `f64` slices. Undefined results are `None`, never NaN.

/// Sum with Neumaier compensation, so long series do not drift from a reference computation.
pub fn sum(xs: impl IntoIterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for x in xs {
        let t = s + x;
        c += if s.abs() >= x.abs() {
            (s - t) + x
        } else {
            (x - t) + s
        };
        s = t;
    }
    s + c
}

/// Arithmetic mean; `None` for an empty slice.
pub fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| sum(xs.iter().copied()) / xs.len() as f64)
}

/// Whether every value is equal (true for fewer than two values).
fn constant(xs: &[f64]) -> bool {
    xs.windows(2).all(|w| w[0] == w[1])
}

/// Sample standard deviation (ddof = 1), two-pass. `None` below two values; exactly 0 when
/// every value is equal (a floating-point mean would otherwise leave a ~1e-18 residue).
pub fn sample_std(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    if constant(xs) {
        return Some(0.0);
    }
    let m = mean(xs)?;
    let ss = sum(xs.iter().map(|x| (x - m) * (x - m)));
    Some((ss / (xs.len() - 1) as f64).sqrt())
}

/// Target downside deviation: `sqrt(sum(min(x - target, 0)^2) / N)` over all N values (the
/// lower partial moment of order 2, as Sortino and Price define it). `None` when empty.
pub fn downside_deviation(xs: &[f64], target: f64) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let ss = sum(xs.iter().map(|x| (x - target).min(0.0).powi(2)));
    Some((ss / xs.len() as f64).sqrt())
}

/// Pearson correlation of paired values. `None` below two pairs, for unequal lengths, or when
/// either side is constant. Clamped to [-1, 1] against rounding.
pub fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    if xs.len() != ys.len() || xs.len() < 2 || constant(xs) || constant(ys) {
        return None;
    }
    let (mx, my) = (mean(xs)?, mean(ys)?);
    let sxy = sum(xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)));
    let sxx = sum(xs.iter().map(|x| (x - mx) * (x - mx)));
    let syy = sum(ys.iter().map(|y| (y - my) * (y - my)));
    let denom = (sxx * syy).sqrt();
    (denom > 0.0).then(|| (sxy / denom).clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // numpy: np.std([1,2,3,4], ddof=1) = 1.2909944487358056
        assert_eq!(sample_std(&[1.0, 2.0, 3.0, 4.0]), Some(1.2909944487358056));
        assert_eq!(mean(&[1.0, 2.0, 3.0, 4.0]), Some(2.5));
        // sqrt(((-1)^2 + (-3)^2) / 4) = sqrt(2.5)
        assert_eq!(
            downside_deviation(&[-1.0, 2.0, -3.0, 4.0], 0.0),
            Some(2.5f64.sqrt())
        );
        // numpy: np.corrcoef([1,2,3], [2,4,6.5])[0,1] = 0.9979487157886733
        let r = pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.5]).unwrap();
        assert!((r - 0.9979487157886733).abs() < 1e-15, "{r}");
    }

    #[test]
    fn degenerate_inputs_are_none_or_zero() {
        assert_eq!(mean(&[]), None);
        assert_eq!(sample_std(&[1.0]), None);
        assert_eq!(sample_std(&[0.1, 0.1, 0.1]), Some(0.0));
        assert_eq!(downside_deviation(&[], 0.0), None);
        assert_eq!(pearson(&[1.0], &[1.0]), None);
        assert_eq!(pearson(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(pearson(&[1.0, 2.0], &[1.0]), None);
    }

    #[test]
    fn compensated_sum_keeps_small_terms() {
        let xs = [1e16, 1.0, -1e16];
        assert_eq!(sum(xs), 1.0);
    }
}
