//! Fuzzes the /v1/keys document parser: no input panics, and a document that parses prints
//! back to one that parses to the same keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeguard_vault::GatewayPublicKeys;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(keys) = GatewayPublicKeys::from_json(text) else {
        return;
    };
    assert_eq!(
        GatewayPublicKeys::from_json(&keys.to_json()).ok(),
        Some(keys)
    );
});
