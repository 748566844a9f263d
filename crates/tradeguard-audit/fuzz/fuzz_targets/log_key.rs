//! Fuzzes the trusted-key parsers (`audit verify --key VALUE|FILE`, `report verify`): one key
//! in any published form, and a file of keys (JSON of `tradeguard keys`, or one per line). No
//! input panics; a key that parses prints as text that parses back to the same key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeguard_audit::keys::LogKey;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = LogKey::parse(text) {
        let again = LogKey::parse(&key.to_text()).expect("a printed key parses");
        assert_eq!(again, key);
    }
    if let Ok(keys) = LogKey::parse_many(text) {
        for key in keys {
            assert_eq!(LogKey::parse(&key.to_text()).as_ref(), Ok(&key));
        }
    }
});
