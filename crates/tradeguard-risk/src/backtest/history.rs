//! Price histories: a table of prices per asset at successive timestamps, parsed from CSV or
//! simulated.
//!
//! CSV format (long form, one price per line):
//!
//! ```text
//! timestamp,asset,price
//! 1704067200,BTC,42283.58
//! 1704067200,ETH,2281.47
//! 1704070800,BTC,42475.23
//! ```
//!
//! - `timestamp`: whole seconds since the Unix epoch (UTC); lines sorted by timestamp.
//! - `asset`: an upper-case asset code; `price`: a plain decimal in the quote asset, above 0 and
//!   at most 10^12.
//! - Empty lines and lines starting with `#` are ignored; one price per asset and timestamp.
//! - An asset missing at a timestamp keeps its last price; rows before every asset has had a
//!   price are dropped.

use rust_decimal::Decimal;
use std::collections::BTreeMap;

use crate::RiskError;
use crate::ids::{Asset, Timestamp};
use crate::order::MAX_ORDER_VALUE;

/// The CSV header line.
pub const CSV_HEADER: &str = "timestamp,asset,price";

/// Prices of a fixed set of assets at successive timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceHistory {
    assets: Vec<Asset>,
    times: Vec<Timestamp>,
    rows: Vec<Vec<Decimal>>,
}

impl PriceHistory {
    /// A history from rows of prices (one per asset, in `assets` order), strictly increasing
    /// timestamps, every price above 0.
    pub fn new(
        assets: Vec<Asset>,
        times: Vec<Timestamp>,
        rows: Vec<Vec<Decimal>>,
    ) -> Result<Self, RiskError> {
        let err = |reason: &str| {
            Err(RiskError::PriceHistory {
                line: 0,
                reason: reason.to_owned(),
            })
        };
        if times.len() != rows.len() || rows.iter().any(|r| r.len() != assets.len()) {
            return err("every row needs one price per asset");
        }
        if times.windows(2).any(|w| w[0] >= w[1]) {
            return err("timestamps must increase");
        }
        if rows
            .iter()
            .flatten()
            .any(|p| *p <= Decimal::ZERO || *p > MAX_ORDER_VALUE)
        {
            return err("prices must be above 0 and at most 10^12");
        }
        Ok(Self {
            assets,
            times,
            rows,
        })
    }

    /// The assets, in column order.
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }

    /// The timestamps.
    pub fn times(&self) -> &[Timestamp] {
        &self.times
    }

    /// The prices at step `i`, in asset order.
    pub fn row(&self, i: usize) -> Option<&[Decimal]> {
        self.rows.get(i).map(Vec::as_slice)
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// `true` when there is no step.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The column of `asset`.
    pub fn column(&self, asset: &Asset) -> Option<usize> {
        self.assets.iter().position(|a| a == asset)
    }

    /// The history as CSV in the format [`parse_csv`] reads (timestamps truncated to whole
    /// seconds): every price of every step, so parsing it back gives the same history when the
    /// timestamps are whole seconds and the assets in code order (as [`parse_csv`] orders them).
    pub fn to_csv(&self) -> String {
        let mut out = String::with_capacity(32 * self.rows.len() * self.assets.len().max(1));
        out.push_str(CSV_HEADER);
        out.push('\n');
        for (t, row) in self.times.iter().zip(&self.rows) {
            let secs = t.as_millis().div_euclid(1000);
            for (asset, price) in self.assets.iter().zip(row) {
                out.push_str(&format!("{secs},{asset},{}\n", price.normalize()));
            }
        }
        out
    }

    /// Steps per year, from the median spacing of the timestamps.
    pub fn periods_per_year(&self) -> f64 {
        let mut gaps: Vec<i64> = self
            .times
            .windows(2)
            .map(|w| w[1].as_millis() - w[0].as_millis())
            .collect();
        gaps.sort_unstable();
        let median = gaps
            .get(gaps.len() / 2)
            .copied()
            .unwrap_or(86_400_000)
            .max(1);
        365.25 * 86_400_000.0 / median as f64
    }
}

fn line_err(line: usize, reason: impl Into<String>) -> RiskError {
    RiskError::PriceHistory {
        line,
        reason: reason.into(),
    }
}

/// Parses a long-form CSV price history (see the module documentation).
pub fn parse_csv(text: &str) -> Result<PriceHistory, RiskError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    match lines.next() {
        Some((_, header)) if header.eq_ignore_ascii_case(CSV_HEADER) => {}
        Some((n, _)) => {
            return Err(line_err(
                n,
                format!("the first line must be the header `{CSV_HEADER}`"),
            ));
        }
        None => return Err(line_err(0, "no data: the file is empty")),
    }
    let mut groups: Vec<(Timestamp, BTreeMap<Asset, Decimal>)> = Vec::new();
    for (n, line) in lines {
        let (ts, asset, price) = parse_line(n, line)?;
        match groups.last_mut() {
            Some((last, _)) if ts < *last => {
                return Err(line_err(n, "timestamps must not decrease; sort the file"));
            }
            Some((last, prices)) if ts == *last => {
                if prices.insert(asset, price).is_some() {
                    return Err(line_err(
                        n,
                        "a second price for the same asset and timestamp",
                    ));
                }
            }
            _ => groups.push((ts, BTreeMap::from([(asset, price)]))),
        }
    }
    fill_forward(groups)
}

fn parse_line(n: usize, line: &str) -> Result<(Timestamp, Asset, Decimal), RiskError> {
    let mut fields = line.split(',').map(str::trim);
    let (Some(ts), Some(asset), Some(price), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(line_err(n, "expected three fields: timestamp,asset,price"));
    };
    let ts: i64 = ts
        .parse()
        .map_err(|_| line_err(n, "timestamp must be whole seconds since the epoch"))?;
    if !(0..=253_402_300_799).contains(&ts) {
        return Err(line_err(n, "timestamp must be between 1970 and 9999"));
    }
    let asset = Asset::new(asset)
        .map_err(|_| line_err(n, "asset must be 1 to 20 upper-case letters or digits"))?;
    let plain = price.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let price = Decimal::from_str_exact(price)
        .ok()
        .filter(|_| plain)
        .ok_or_else(|| line_err(n, "price must be a plain decimal number such as 42283.58"))?;
    if price <= Decimal::ZERO || price > MAX_ORDER_VALUE {
        return Err(line_err(n, "price must be above 0 and at most 10^12"));
    }
    Ok((Timestamp::from_secs(ts), asset, price))
}

fn fill_forward(
    groups: Vec<(Timestamp, BTreeMap<Asset, Decimal>)>,
) -> Result<PriceHistory, RiskError> {
    let assets: Vec<Asset> = {
        let mut all: Vec<Asset> = groups.iter().flat_map(|(_, g)| g.keys().cloned()).collect();
        all.sort();
        all.dedup();
        all
    };
    let mut last: Vec<Option<Decimal>> = vec![None; assets.len()];
    let (mut times, mut rows) = (Vec::new(), Vec::new());
    for (ts, prices) in groups {
        for (i, a) in assets.iter().enumerate() {
            if let Some(p) = prices.get(a) {
                last[i] = Some(*p);
            }
        }
        if let Some(row) = last.iter().copied().collect::<Option<Vec<Decimal>>>() {
            times.push(ts);
            rows.push(row);
        }
    }
    if rows.is_empty() {
        return Err(line_err(0, "no timestamp at which every asset has a price"));
    }
    PriceHistory::new(assets, times, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_fills_forward() {
        let csv =
            "timestamp,asset,price\n# comment\n100,BTC,10\n200,BTC,11\n200,ETH,1\n\n300,ETH,2\n";
        let h = parse_csv(csv).unwrap();
        let assets: Vec<&str> = h.assets().iter().map(Asset::as_str).collect();
        assert_eq!(assets, ["BTC", "ETH"]);
        assert_eq!(h.len(), 2, "the row at 100 has no ETH price and is dropped");
        assert_eq!(h.row(1).unwrap(), [Decimal::from(11), Decimal::from(2)]);
        assert_eq!(h.times()[0], Timestamp::from_secs(200));
    }

    #[test]
    fn fail_malformed_csv() {
        let cases = [
            ("", 0, "empty"),
            ("time,asset,price\n", 1, "header"),
            ("timestamp,asset,price\n1,BTC\n", 2, "three fields"),
            ("timestamp,asset,price\n1,BTC,1,2\n", 2, "three fields"),
            ("timestamp,asset,price\nx,BTC,1\n", 2, "whole seconds"),
            ("timestamp,asset,price\n1,btc,1\n", 2, "upper-case"),
            ("timestamp,asset,price\n1,BTC,-1\n", 2, "plain decimal"),
            ("timestamp,asset,price\n1,BTC,0.000\n", 2, "above 0"),
            ("timestamp,asset,price\n1,BTC,1e5\n", 2, "plain decimal"),
            ("timestamp,asset,price\n2,BTC,1\n1,BTC,1\n", 3, "decrease"),
            ("timestamp,asset,price\n1,BTC,1\n1,BTC,2\n", 3, "same asset"),
            ("timestamp,asset,price\n-1,BTC,1\n", 2, "between"),
        ];
        for (i, (csv, line, needle)) in cases.iter().enumerate() {
            match parse_csv(csv) {
                Err(RiskError::PriceHistory { line: l, reason }) => {
                    assert_eq!(l, *line, "TC{i} failed: line");
                    assert!(reason.contains(needle), "TC{i} failed: {reason}");
                }
                other => panic!("TC{i} failed: {other:?}"),
            }
        }
    }

    #[test]
    fn csv_round_trip() {
        let csv = "timestamp,asset,price\n100,BTC,10.50\n100,ETH,1\n200,ETH,2\n";
        let h = parse_csv(csv).unwrap();
        assert_eq!(
            h.to_csv(),
            "timestamp,asset,price\n100,BTC,10.5\n100,ETH,1\n200,BTC,10.5\n200,ETH,2\n"
        );
        assert_eq!(parse_csv(&h.to_csv()).unwrap(), h);
    }

    #[test]
    fn hourly_history_has_8766_periods_a_year() {
        let a = Asset::new("BTC").unwrap();
        let times = (0..5).map(|i| Timestamp::from_secs(i * 3600)).collect();
        let h = PriceHistory::new(vec![a], times, vec![vec![Decimal::ONE]; 5]).unwrap();
        assert!((h.periods_per_year() - 8766.0).abs() < 1e-9);
    }
}
