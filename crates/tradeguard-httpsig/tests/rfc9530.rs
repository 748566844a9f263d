//! RFC 9530 Content-Digest examples (tests/vectors/rfc9530/digests.json, section per case),
//! one test per case.

use std::path::PathBuf;

use serde_json::Value;

fn case(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/rfc9530/digests.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} is not in digests.json"))
}

fn run(name: &str) {
    let c = case(name);
    let body = c["body"].as_str().unwrap().as_bytes();
    let header = c["header"].as_str().unwrap();
    let got = tradeguard_httpsig::verify_content_digest(header, body);
    match c["error"].as_str() {
        None => {
            got.unwrap_or_else(|e| panic!("{name} ({}): {e}", c["section"]));
            if c["produce"].as_bool() == Some(true) {
                assert_eq!(tradeguard_httpsig::content_digest(body), header, "{name}");
            }
        }
        Some(want) => {
            let e = got.expect_err(name);
            let dbg = format!("{e:?}");
            assert!(dbg.starts_with(want), "{name}: want {want}, got {dbg}");
        }
    }
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        $( #[test] fn $name() { run(stringify!($name)); } )*

        #[test]
        fn every_case_has_a_test() {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/vectors/rfc9530/digests.json");
            let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let named = [$(stringify!($name)),*];
            for c in all["cases"].as_array().unwrap() {
                let n = c["name"].as_str().unwrap();
                assert!(named.contains(&n), "add {n} to cases! in tests/rfc9530.rs");
            }
        }
    };
}

cases!(
    s2_sha512,
    b1_full_representation,
    b2_no_representation,
    rfc9421_test_request,
    both_algorithms,
    fail_body_changed,
    fail_one_of_two_wrong,
    fail_insecure_only,
    fail_not_byte_sequence,
    fail_truncated_digest,
);
