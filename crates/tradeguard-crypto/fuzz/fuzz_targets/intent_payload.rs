//! Fuzzes what lies inside the seal: the padding and the payload parser, directly and through
//! a real seal and open (so the checks after the AEAD are reached). No input panics; what the
//! parser accepts round-trips; what `unpad` accepts is exactly what `pad` makes.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tradeguard_crypto::envelope::{self, Info, RecipientKey};
use tradeguard_crypto::hpke::{Kem, Suite};
use tradeguard_crypto::intent::pad::{pad, unpad};
use tradeguard_crypto::intent::{OpenPolicy, SignedIntent, open_intent};
use tradeguard_crypto_fuzz::{NOW, recipient};

static KEY: OnceLock<RecipientKey> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = SignedIntent::parse(data) {
        // Compared by encoding: JSON does not keep 0.0 apart from 0 (both are the double 0).
        let bytes = s
            .to_bytes()
            .expect("an accepted payload has a canonical form");
        let again = SignedIntent::parse(&bytes).expect("the canonical form parses");
        assert_eq!(again.to_bytes().expect("encode"), bytes);
        assert_eq!(again.signature(), s.signature());
    }
    if let Ok(payload) = unpad(data, data.len()) {
        assert_eq!(&pad(payload, data.len()).expect("fits")[..], data);
    }
    let policy = OpenPolicy::default();
    let padded_len = policy.sizes.padded_len(Kem::X25519HkdfSha256);
    if data.len() > padded_len {
        return;
    }
    let key = KEY.get_or_init(recipient);
    let mut plaintext = data.to_vec();
    plaintext.resize(padded_len, 0);
    let json = envelope::seal(
        &key.public_key(),
        Suite::default(),
        Info::Intent,
        &plaintext,
    )
    .expect("seal")
    .to_json();
    if let Ok(opened) = open_intent(key, &policy, &json, NOW) {
        let inner = unpad(&plaintext, padded_len).expect("opened means padded");
        assert_eq!(
            SignedIntent::parse(inner)
                .expect("opened means parsed")
                .payload(),
            opened.intent.payload()
        );
    }
});
