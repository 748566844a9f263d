//! The shared model's parsers: never panic, and what parses prints back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeguard_exchange::model::*;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = ClientOrderId::parse(s) {
        assert_eq!(ClientOrderId::parse(id.as_str()).as_ref(), Ok(&id));
    }
    if let Ok(id) = ExchangeOrderId::parse(s) {
        assert!(!id.as_str().contains('/'));
    }
    if let Ok(sym) = Symbol::parse(s) {
        assert_eq!(Symbol::parse(&sym.to_string()).as_ref(), Ok(&sym));
    }
    if let Ok(d) = parse_decimal("x", s) {
        assert_eq!(parse_decimal("x", &format_decimal(d)), Ok(d));
    }
    if let Ok(t) = UnixMillis::parse_rfc3339(s) {
        let _ = t.to_rfc3339();
    }
});
