//! Fuzzes the entry parser (every line of a stored or exported log). No input panics; an
//! entry that parses encodes back to exactly its bytes, so one entry has one byte form and
//! one leaf hash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeguard_audit::entry::Entry;

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = Entry::parse(data) {
        let encoded = entry.encode().expect("a parsed entry encodes");
        assert_eq!(encoded, data, "a parsed entry re-encodes to other bytes");
    }
});
