//! Fuzzes the body limit and the JSON envelope of every body: the first two bytes are the
//! limit, the rest the body. A body is read exactly when it fits the limit (else 413); a body
//! the generic parser takes is a JSON object or null; an RFC 9457 problem document that parses
//! serialises and parses back unchanged (the client reads the gateway's problems).
#![no_main]

use axum::body::Body;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tradeguard_gateway::input::{parse_json_body, read_limited};
use tradeguard_gateway::problem::Problem;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let limit = usize::from(u16::from_le_bytes([data[0], data[1]]) % 512);
    let body = &data[2..];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let read = runtime.block_on(read_limited(Body::from(body.to_vec()), limit));
    match read {
        Ok(bytes) => assert!(body.len() <= limit && bytes.as_ref() == body),
        Err(e) => assert!(body.len() > limit && e.problem().status == 413),
    }
    if let Ok(v) = parse_json_body::<Value>(Some("application/json"), body) {
        assert!(v.is_object() || v.is_null());
    }
    if let Ok(p) = serde_json::from_slice::<Problem>(body) {
        let again = serde_json::to_vec(&p).expect("serialises");
        let back: Problem = serde_json::from_slice(&again).expect("its own output parses");
        assert_eq!(back, p);
        assert!(p.type_uri.ends_with(p.slug()));
    }
});
