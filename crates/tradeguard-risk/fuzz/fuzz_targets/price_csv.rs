//! Fuzzes the price-history CSV parser: no input panics, and what it accepts round-trips
//! through `PriceHistory::to_csv`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeguard_risk::backtest::parse_csv;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(history) = parse_csv(text) else { return };
    let again = parse_csv(&history.to_csv()).expect("the parser reads what to_csv writes");
    assert_eq!(again, history);
});
