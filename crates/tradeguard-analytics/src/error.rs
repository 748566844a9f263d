//! The analytics crate's error type.
//!
//! Every variant is definitive: the input is wrong and retrying with the same input gives the
//! same error. Messages name the failing field, line or record, never a secret.

use crate::timestamp::Timestamp;

/// What went wrong while computing metrics or reading an equity history.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyticsError {
    /// A reporting convention is out of range.
    #[error("invalid convention `{field}`: {reason}")]
    InvalidConventions {
        /// The convention at fault (`periods_per_year`, `risk_free_rate_annual`).
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A period return is not a finite number or is below -100 %.
    #[error("invalid return at period {index}: {reason}")]
    InvalidReturn {
        /// Zero-based index of the return in its series.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An equity history is not usable (times out of order, negative value).
    #[error("invalid equity point {index}: {reason}")]
    InvalidEquity {
        /// Zero-based index of the point.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The portfolio was worth nothing at the start of a period but something (net of flows)
    /// at its end, so that period has no return.
    #[error(
        "the period ending at {time} starts from a value of 0 but ends, net of flows, at a \
         non-zero value; record the deposit that funded it as a flow at that time"
    )]
    UndefinedReturn {
        /// End of the period at fault.
        time: Timestamp,
    },
    /// A decimal computation left the range of `rust_decimal`.
    #[error("decimal overflow while computing {what}; the amounts are too large to add up exactly")]
    Overflow {
        /// The quantity being computed.
        what: &'static str,
    },
    /// An equity CSV file does not follow the format.
    #[error("line {line}: {reason}")]
    Csv {
        /// One-based line number in the file.
        line: usize,
        /// What is wrong on that line and what is expected.
        reason: String,
    },
    /// An asset had no price at or before the time it had to be valued.
    #[error(
        "no price for asset `{asset}` at or before {time}; add a price quote for it in the \
         base currency"
    )]
    MissingPrice {
        /// The asset symbol (public market data, not a secret).
        asset: String,
        /// When it had to be valued.
        time: Timestamp,
    },
    /// A ledger record is malformed.
    #[error("invalid {kind} record {index}: {reason}")]
    InvalidRecord {
        /// Which kind of record (`fill`, `snapshot`, `price`, `flow`).
        kind: &'static str,
        /// Zero-based index of the record in its list.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
}
