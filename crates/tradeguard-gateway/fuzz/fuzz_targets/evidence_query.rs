//! Fuzzes the query parser of the evidence endpoints (`GET /v1/audit/entries?start=&end=`, the
//! proof endpoints). No input panics; a query it takes holds exactly the two parameters once
//! each, as canonical decimals within their bounds; and every pair of integers in bounds,
//! written in any order, is taken back exactly (the input, read as numbers, makes one).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeguard_gateway::input::query_integers;

const NAMES: [(&str, u64); 2] = [("start", 0), ("end", 1)];
const MAX: u64 = i64::MAX as u64;

fuzz_target!(|data: &[u8]| {
    if let Ok(query) = std::str::from_utf8(data)
        && let Ok([start, end]) = query_integers(Some(query), NAMES)
    {
        assert!(start <= MAX && (1..=MAX).contains(&end));
        let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
        pairs.sort_unstable();
        assert_eq!(pairs, [format!("end={end}"), format!("start={start}")]);
    }
    let word = |at: usize| {
        let mut b = [0u8; 8];
        for (i, x) in b.iter_mut().enumerate() {
            *x = *data.get(at + i).unwrap_or(&0);
        }
        u64::from_le_bytes(b) & MAX
    };
    let (start, end) = (word(0), word(8).max(1));
    let query = if data.first().is_some_and(|b| b % 2 == 1) {
        format!("end={end}&start={start}")
    } else {
        format!("start={start}&end={end}")
    };
    assert_eq!(query_integers(Some(&query), NAMES).unwrap(), [start, end]);
});
