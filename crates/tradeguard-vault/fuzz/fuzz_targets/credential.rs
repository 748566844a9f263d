//! Fuzzes the credential document parser: no input panics, and an error never repeats a
//! string value of the input (it may hold a secret).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeguard_vault::CredentialSecret;

fuzz_target!(|data: &[u8]| {
    let Err(err) = CredentialSecret::from_json(data) else {
        return;
    };
    let message = format!("{err} {err:?}");
    let Ok(serde_json::Value::Object(doc)) = serde_json::from_slice::<serde_json::Value>(data)
    else {
        return;
    };
    for (key, value) in &doc {
        if let serde_json::Value::String(s) = value {
            // Short values (and exchange names, which are echoed nowhere either) could match by
            // chance; only long ones prove a leak.
            assert!(
                s.len() < 12 || !message.contains(s.as_str()),
                "value of `{key}` leaked"
            );
        }
    }
});
