//! The strict equity CSV format read by `tradeguard analytics --equity FILE.csv`.
//!
//! ```text
//! timestamp,value,flow
//! 2024-01-01,1000,1000
//! 2024-01-02T00:00:00Z,1012.50,0
//! 2024-01-03,1520.00,500
//! ```
//!
//! - Line 1 is the header, exactly `timestamp,value` or `timestamp,value,flow`.
//! - Every following line is one point with as many fields as the header: no quoting, no
//!   spaces, no blank lines (one final line break is allowed; `\r\n` is accepted).
//! - `timestamp`: RFC 3339 (any offset) or `YYYY-MM-DD` (midnight UTC), strictly increasing.
//! - `value`: the portfolio value in the base currency right after the flow at that time, a
//!   plain decimal at least 0 (`1234.56`; no sign, exponent or thousands separator).
//! - `flow`: net external flow booked at that time, a plain decimal, `-` for a withdrawal.
//!   The first row's flow is part of the initial capital.
//!
//! Errors name the one-based line and the column at fault.

use std::fmt::Write as _;

use rust_decimal::Decimal;

use crate::{AnalyticsError, EquityPoint, EquitySeries, Timestamp};

const HEADER_NO_FLOW: &str = "timestamp,value";
const HEADER_WITH_FLOW: &str = "timestamp,value,flow";

/// Parses an equity CSV (format in the module docs). At least one data row is required.
pub fn parse_equity_csv(input: &str) -> Result<EquitySeries, AnalyticsError> {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let body = input.strip_suffix('\n').unwrap_or(input);
    let mut lines = body.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let has_flow = match lines.next() {
        Some(HEADER_WITH_FLOW) => true,
        Some(HEADER_NO_FLOW) => false,
        _ => {
            return Err(csv_err(
                1,
                "header must be exactly `timestamp,value` or `timestamp,value,flow`".into(),
            ));
        }
    };
    let mut points: Vec<EquityPoint> = Vec::new();
    for (i, line) in lines.enumerate() {
        let line_no = i + 2;
        let p = parse_row(line, has_flow).map_err(|reason| csv_err(line_no, reason))?;
        if points.last().is_some_and(|prev| prev.time >= p.time) {
            return Err(csv_err(
                line_no,
                "timestamp must be after the previous row's".into(),
            ));
        }
        points.push(p);
    }
    if points.is_empty() {
        return Err(csv_err(
            2,
            "no data rows: add at least one `timestamp,value` row".into(),
        ));
    }
    // Order and signs were checked row by row above, with line numbers.
    EquitySeries::new(points).map_err(|e| csv_err(0, e.to_string()))
}

fn csv_err(line: usize, reason: String) -> AnalyticsError {
    AnalyticsError::Csv { line, reason }
}

fn parse_row(line: &str, has_flow: bool) -> Result<EquityPoint, String> {
    let fields: Vec<&str> = line.split(',').collect();
    let want = if has_flow { 3 } else { 2 };
    if fields.len() != want {
        return Err(format!(
            "expected {want} comma-separated fields as in the header, found {}",
            fields.len()
        ));
    }
    let time = Timestamp::parse(fields[0]).ok_or_else(|| {
        "column `timestamp`: expected RFC 3339 (2024-01-31T00:00:00Z) or YYYY-MM-DD".to_owned()
    })?;
    let value = parse_decimal(fields[1], false).map_err(|r| format!("column `value`: {r}"))?;
    let flow = match fields.get(2) {
        Some(f) => parse_decimal(f, true).map_err(|r| format!("column `flow`: {r}"))?,
        None => Decimal::ZERO,
    };
    Ok(EquityPoint { time, value, flow })
}

/// A plain decimal: optional `-` (when `signed`), digits, optionally `.` and digits.
fn parse_decimal(s: &str, signed: bool) -> Result<Decimal, &'static str> {
    let digits = match s.strip_prefix('-') {
        Some(rest) if signed => rest,
        Some(_) => return Err("must not be negative"),
        None => s,
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !all_digits(frac) {
        return Err("expected a plain decimal number such as 1234.56");
    }
    Decimal::from_str_exact(s).map_err(|_| "number has too many digits to hold exactly (max 28)")
}

impl EquitySeries {
    /// Writes the series in the format [`parse_equity_csv`] reads (with the `flow` column).
    pub fn to_csv(&self) -> String {
        let mut out = format!("{HEADER_WITH_FLOW}\n");
        for p in self.points() {
            // Writing to a String cannot fail.
            let _ = writeln!(out, "{},{},{}", p.time, p.value, p.flow);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_headers_and_line_endings() {
        let a = parse_equity_csv("timestamp,value\n2024-01-01,100\n2024-01-02,101.5\n").unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a.points()[1].value, Decimal::new(1015, 1));
        assert_eq!(a.points()[1].flow, Decimal::ZERO);
        let b = parse_equity_csv("\u{feff}timestamp,value,flow\r\n2024-01-01,100,100\r\n").unwrap();
        assert_eq!(b.points()[0].flow, Decimal::from(100));
    }

    #[test]
    fn fail_malformed_files_name_the_line() {
        let cases: [(&str, usize, &str); 14] = [
            ("", 1, "header"),
            ("time,value\n2024-01-01,1", 1, "header"),
            ("timestamp,value\n", 2, "no data rows"),
            ("timestamp,value\n2024-01-01,1\n\n", 3, "fields"),
            ("timestamp,value\n2024-01-01,1\n\n2024-01-02,1", 3, "fields"),
            ("timestamp,value\n2024-01-01,1,0", 2, "fields"),
            ("timestamp,value,flow\n2024-01-01,1", 2, "fields"),
            ("timestamp,value\n2024-13-01,1", 2, "timestamp"),
            ("timestamp,value\n2024-01-01, 1", 2, "value"),
            ("timestamp,value\n2024-01-01,-1", 2, "negative"),
            ("timestamp,value\n2024-01-01,1e3", 2, "value"),
            ("timestamp,value,flow\n2024-01-01,1,+1", 2, "flow"),
            (
                "timestamp,value\n2024-01-02,1\n2024-01-01,1",
                3,
                "after the previous",
            ),
            (
                "timestamp,value\n2024-01-01,1\n2024-01-01,1",
                3,
                "after the previous",
            ),
        ];
        for (i, (input, line, needle)) in cases.iter().enumerate() {
            match parse_equity_csv(input) {
                Err(AnalyticsError::Csv { line: l, reason }) => {
                    assert_eq!(l, *line, "TC{i} failed: line ({reason})");
                    assert!(reason.contains(needle), "TC{i} failed: {reason}");
                }
                other => panic!("TC{i} failed: {other:?}"),
            }
        }
    }
}
