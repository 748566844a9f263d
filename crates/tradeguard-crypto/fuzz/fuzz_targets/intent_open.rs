//! Fuzzes opening a sealed intent from its envelope JSON (what `POST /v1/intents` receives):
//! no input panics; what opens is a packet of the configured size whose payload lies in the
//! time window.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tradeguard_crypto::envelope::RecipientKey;
use tradeguard_crypto::hpke::Kem;
use tradeguard_crypto::intent::{OpenPolicy, open_intent};
use tradeguard_crypto_fuzz::{NOW, recipient};

static KEY: OnceLock<RecipientKey> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let key = KEY.get_or_init(recipient);
    let policy = OpenPolicy::default();
    if let Ok(opened) = open_intent(key, &policy, text, NOW) {
        let created = opened.intent.payload().created();
        assert!((NOW - 300..=NOW + 30).contains(&created));
        assert_eq!(opened.enc.len(), 32);
        assert_eq!(opened.intent.suite().kem, Kem::X25519HkdfSha256);
    }
});
