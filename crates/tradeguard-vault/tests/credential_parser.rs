//! Property tests of the credential document parser (outside input: `tradeguard seal` stdin and
//! every opened envelope): it never panics, accepts every well-formed document with the same
//! fields, and its errors never repeat a string value of the input.

use proptest::prelude::*;
use tradeguard_vault::CredentialSecret;

fn value() -> impl Strategy<Value = String> {
    // Printable values without JSON escapes, long enough to be recognisable in a message.
    "[A-Za-z0-9+/=_-]{12,48}"
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = CredentialSecret::from_json(&bytes);
    }

    #[test]
    fn well_formed_documents_round_trip(
        exchange in prop::sample::select(vec!["binance", "coinbase", "coinbaseexchange", "kraken"]),
        key in value(), secret in value(), pass in value(), label in "[a-z ]{0,20}",
    ) {
        let doc = serde_json::json!({
            "exchange": exchange, "api_key": key, "api_secret": secret,
            "passphrase": pass, "label": label,
        });
        let c = CredentialSecret::from_json(doc.to_string().as_bytes()).unwrap();
        prop_assert_eq!(c.exchange().name(), exchange);
        prop_assert_eq!(c.api_key().expose_secret(), key.as_str());
        prop_assert_eq!(c.api_secret().expose_secret(), secret.as_str());
        prop_assert_eq!(c.passphrase().map(|p| p.expose_secret()), Some(pass.as_str()));
        prop_assert_eq!(c.label(), label.as_str());
    }

    #[test]
    fn errors_never_repeat_a_value(
        secret in value(),
        shape in 0usize..7,
    ) {
        let long = secret.repeat(6); // longer than a label may be
        let doc = match shape {
            0 => format!(r#"{{"exchange":"{secret}","api_key":"k","api_secret":"s"}}"#),
            1 => format!(r#"{{"exchange":"binance","api_key":"k","api_secret":["{secret}"]}}"#),
            2 => format!(r#"{{"exchange":"binance","api_key":"k","api_secret":"s","{secret}":1}}"#),
            3 => format!(r#"{{"exchange":"binance","api_key":"k","api_secret":"{secret}"#),
            4 => format!(r#"{{"exchange":"binance","api_key":"k","api_secret":"s","label":"{long}"}}"#),
            5 => format!(r#"{{"exchange":"coinbaseexchange","api_key":"{secret}","api_secret":"s"}}"#),
            _ => format!(r#"{{"exchange":"binance","api_key":{{"{secret}":"{secret}"}},"api_secret":"s"}}"#),
        };
        let err = CredentialSecret::from_json(doc.as_bytes()).unwrap_err();
        let text = format!("{err} {err:?}");
        prop_assert!(!text.contains(&secret), "shape {} leaked: {}", shape, text);
    }
}
