//! Maximum drawdown of a return series, with the positions of its peak, trough and recovery.

use serde::{Deserialize, Serialize};

/// The deepest fall of the wealth index `W_0 = 1, W_i = W_(i-1) (1 + r_i)` below its running
/// maximum. Positions index the wealth index: 0 is the start, `i` is the end of period `i`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drawdown {
    /// `max_t (1 - W_t / max_(s<=t) W_s)`, in [0, 1]; `None` for an empty series.
    pub depth: Option<f64>,
    /// Last position at which the index stood at the high it then fell from; `None` when there
    /// was no fall.
    pub peak: Option<usize>,
    /// Position of the lowest point of the deepest fall (the first, if several are as deep).
    pub trough: Option<usize>,
    /// First position after the trough where the index is back at the peak's level; `None` if
    /// it never recovered (or never fell).
    pub recovery: Option<usize>,
}

impl Drawdown {
    const EMPTY: Drawdown = Drawdown {
        depth: None,
        peak: None,
        trough: None,
        recovery: None,
    };
}

/// Computes the maximum drawdown of `returns` (each finite and at least -1; see
/// [`crate::ReturnSeries`]). Never panics; an empty series gives `depth: None`.
pub fn max_drawdown(returns: &[f64]) -> Drawdown {
    if returns.is_empty() {
        return Drawdown::EMPTY;
    }
    let wealth = wealth_index(returns);
    let (mut high, mut high_at) = (wealth[0], 0usize);
    let (mut depth, mut peak, mut trough) = (0.0f64, None, None);
    for (i, &w) in wealth.iter().enumerate() {
        if w >= high {
            (high, high_at) = (w, i);
            continue;
        }
        // high >= W_0 = 1 > 0, and w >= 0, so the fall lies in [0, 1].
        let fall = (1.0 - w / high).clamp(0.0, 1.0);
        if fall > depth {
            (depth, peak, trough) = (fall, Some(high_at), Some(i));
        }
    }
    let recovery = match (peak, trough) {
        (Some(p), Some(t)) => (t + 1..wealth.len()).find(|&j| wealth[j] >= wealth[p]),
        _ => None,
    };
    Drawdown {
        depth: Some(depth),
        peak,
        trough,
        recovery,
    }
}

/// `W_0 = 1, W_i = W_(i-1) (1 + r_i)`: one more point than there are returns.
pub fn wealth_index(returns: &[f64]) -> Vec<f64> {
    let mut w = Vec::with_capacity(returns.len() + 1);
    w.push(1.0);
    let mut level = 1.0f64;
    for r in returns {
        level *= 1.0 + r;
        w.push(level);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_drawdowns() {
        struct Case {
            returns: &'static [f64],
            depth: Option<f64>,
            peak: Option<usize>,
            trough: Option<usize>,
            recovery: Option<usize>,
        }
        let cases = [
            Case {
                returns: &[],
                depth: None,
                peak: None,
                trough: None,
                recovery: None,
            },
            Case {
                returns: &[0.1, 0.2],
                depth: Some(0.0),
                peak: None,
                trough: None,
                recovery: None,
            },
            // Loss in the first period is measured from the start (W_0 = 1).
            Case {
                returns: &[-0.5],
                depth: Some(0.5),
                peak: Some(0),
                trough: Some(1),
                recovery: None,
            },
            // 1 -> 2 -> 1 -> 2: half lost, then recovered at position 3.
            Case {
                returns: &[1.0, -0.5, 1.0],
                depth: Some(0.5),
                peak: Some(1),
                trough: Some(2),
                recovery: Some(3),
            },
            // Equal high touched twice: the peak is the later one.
            Case {
                returns: &[0.0, -0.25, 0.0],
                depth: Some(0.25),
                peak: Some(1),
                trough: Some(2),
                recovery: None,
            },
            Case {
                returns: &[-1.0, 0.5],
                depth: Some(1.0),
                peak: Some(0),
                trough: Some(1),
                recovery: None,
            },
        ];
        for (i, c) in cases.iter().enumerate() {
            let d = max_drawdown(c.returns);
            assert_eq!(d.depth, c.depth, "TC{i} failed: depth");
            assert_eq!(d.peak, c.peak, "TC{i} failed: peak");
            assert_eq!(d.trough, c.trough, "TC{i} failed: trough");
            assert_eq!(d.recovery, c.recovery, "TC{i} failed: recovery");
        }
    }
}
