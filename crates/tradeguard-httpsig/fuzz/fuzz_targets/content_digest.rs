//! Fuzzes `Content-Digest` checking: no input panics, and a header that verifies for a body
//! has a sha-256 or sha-512 member (never accepted on unknown algorithms alone).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Input: `<content-digest>\n<body>`.
    let (header, body) = text.split_once('\n').unwrap_or((text, ""));
    if tradeguard_httpsig::verify_content_digest(header, body.as_bytes()).is_ok() {
        assert!(header.contains("sha-256") || header.contains("sha-512"));
        // Our own digest of the same body always verifies.
        let ours = tradeguard_httpsig::content_digest(body.as_bytes());
        tradeguard_httpsig::verify_content_digest(&ours, body.as_bytes()).expect("own digest");
    }
});
