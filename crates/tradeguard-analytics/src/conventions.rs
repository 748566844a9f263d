//! [`Conventions`]: how returns are annualized and risk-adjusted, stated in every report.

use serde::{Deserialize, Serialize};

use crate::AnalyticsError;

/// Periods per year for daily crypto data (markets trade every day).
pub const CRYPTO_PERIODS_PER_YEAR: u32 = 365;

/// The choices a metric depends on. Every report carries them as a [`ConventionsStatement`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conventions {
    periods_per_year: u32,
    risk_free_rate_annual: f64,
}

impl Default for Conventions {
    /// Daily crypto data (365 periods per year) and a risk-free rate of 0.
    fn default() -> Self {
        Self {
            periods_per_year: CRYPTO_PERIODS_PER_YEAR,
            risk_free_rate_annual: 0.0,
        }
    }
}

impl Conventions {
    /// `periods_per_year` return periods make a year (365 for daily crypto data, 252 for
    /// exchange-traded daily data, 8760 for hourly crypto data); `risk_free_rate_annual` is a
    /// simple annual rate (0.04 for 4 %).
    pub fn new(periods_per_year: u32, risk_free_rate_annual: f64) -> Result<Self, AnalyticsError> {
        if periods_per_year == 0 {
            return Err(AnalyticsError::InvalidConventions {
                field: "periods_per_year",
                reason: "must be at least 1 (365 for daily crypto data)",
            });
        }
        if !risk_free_rate_annual.is_finite() || risk_free_rate_annual <= -1.0 {
            return Err(AnalyticsError::InvalidConventions {
                field: "risk_free_rate_annual",
                reason: "must be a finite rate above -1 (0.04 for 4 %)",
            });
        }
        Ok(Self {
            periods_per_year,
            risk_free_rate_annual,
        })
    }

    /// Return periods per year.
    pub fn periods_per_year(&self) -> u32 {
        self.periods_per_year
    }

    /// The annual risk-free rate.
    pub fn risk_free_rate_annual(&self) -> f64 {
        self.risk_free_rate_annual
    }

    /// The risk-free rate per period, converted geometrically: `(1 + rf)^(1/n) - 1`.
    pub fn risk_free_rate_per_period(&self) -> f64 {
        (1.0 + self.risk_free_rate_annual).powf(1.0 / f64::from(self.periods_per_year)) - 1.0
    }

    /// The statement that goes into a report.
    pub fn statement(&self) -> ConventionsStatement {
        ConventionsStatement {
            periods_per_year: self.periods_per_year,
            risk_free_rate_annual: self.risk_free_rate_annual,
            risk_free_rate_per_period: self.risk_free_rate_per_period(),
            risk_free_conversion: RISK_FREE_CONVERSION.to_owned(),
            std_ddof: 1,
            definitions: DEFINITIONS.to_owned(),
        }
    }
}

const RISK_FREE_CONVERSION: &str = "geometric: rf_p = (1 + rf_annual)^(1/periods_per_year) - 1";

const DEFINITIONS: &str = "r_i = (V_i - F_i) / V_(i-1) - 1, flows F_i at the end of period i \
(V_i is measured right after F_i); time_weighted_return = prod(1 + r_i) - 1; \
annualized_return = (1 + time_weighted_return)^(periods_per_year / N) - 1; \
annualized_volatility = std(r, ddof=1) * sqrt(periods_per_year); \
sharpe = mean(r - rf_p) / std(r - rf_p, ddof=1) * sqrt(periods_per_year); \
sortino = mean(r - rf_p) / sqrt(sum(min(r - rf_p, 0)^2) / N) * sqrt(periods_per_year); \
max_drawdown = max(1 - W_t / max_(s<=t) W_s) on the wealth index W_0 = 1, W_i = W_(i-1)(1 + r_i), \
in [0, 1]; calmar = annualized_return / max_drawdown; \
a ratio with a zero or undefined denominator, or fewer than 2 returns, is null";

/// The conventions as written into a report, with the formulas they feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConventionsStatement {
    /// Return periods per year used for annualization.
    pub periods_per_year: u32,
    /// The annual risk-free rate given.
    pub risk_free_rate_annual: f64,
    /// The per-period rate derived from it.
    pub risk_free_rate_per_period: f64,
    /// How the per-period rate was derived.
    pub risk_free_conversion: String,
    /// Delta degrees of freedom of every standard deviation (always 1: sample deviation).
    pub std_ddof: u8,
    /// The formulas of the metrics, in one line.
    pub definitions: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_free_is_converted_geometrically() {
        let c = Conventions::new(365, 0.05).unwrap();
        let per = c.risk_free_rate_per_period();
        assert!(((1.0 + per).powi(365) - 1.05).abs() < 1e-12);
        assert_eq!(Conventions::default().risk_free_rate_per_period(), 0.0);
    }

    #[test]
    fn fail_out_of_range_conventions() {
        let cases = [(0, 0.0), (365, f64::NAN), (365, f64::INFINITY), (365, -1.0)];
        for (i, (n, rf)) in cases.iter().enumerate() {
            assert!(Conventions::new(*n, *rf).is_err(), "TC{i} failed");
        }
    }
}
