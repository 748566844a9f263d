//! Fuzzes the bearer-token parser of the `Authorization` header. No input panics; a token it
//! takes is `tgs_` or `tgm_` and 43 base64url characters after a case-insensitive `Bearer `
//! scheme; and
//! every such well-formed header is taken (the input, mapped into the alphabet, makes one).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeguard_gateway::input::{SESSION_TOKEN_LEN, parse_bearer};

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = std::str::from_utf8(data)
        && let Some(token) = parse_bearer(value)
    {
        assert_eq!(token.len(), SESSION_TOKEN_LEN);
        assert!(token.starts_with("tgs_") || token.starts_with("tgm_"));
        let scheme = &value[..value.len() - token.len() - 1];
        assert!(scheme.eq_ignore_ascii_case("bearer"));
        assert!(token[4..].bytes().all(|b| ALPHABET.contains(&b)));
    }
    let mut made: String = (0..43)
        .map(|i| char::from(ALPHABET[usize::from(*data.get(i).unwrap_or(&0)) % 64]))
        .collect();
    made.insert_str(0, if data.get(1).is_some_and(|b| b % 2 == 1) { "tgm_" } else { "tgs_" });
    let scheme = if data.first().is_some_and(|b| b % 2 == 1) {
        "bearer"
    } else {
        "Bearer"
    };
    assert_eq!(
        parse_bearer(&format!("{scheme} {made}")),
        Some(made.as_str())
    );
});
