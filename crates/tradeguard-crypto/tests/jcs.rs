//! RFC 8785 (JCS) against the reference vectors of the RFC's author.
//!
//! Source: cyberphone/json-canonicalization `testdata/` (HEAD 19d51d7fe467d4706a3ff08adf8a748f29fc21e0);
//! see `tests/vectors/jcs-rfc8785/README.md` for each file's origin.

use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::Value;
use tradeguard_crypto::digest::sha256;
use tradeguard_crypto::jcs::{self, JcsError};

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/jcs-rfc8785")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(vector_dir().join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

/// Canonicalizes `input/<name>.json` and compares it with `output/<name>.json` and
/// `outhex/<name>.txt`.
fn check_case(name: &str) {
    let input: Value = serde_json::from_slice(&read(&format!("input/{name}.json")))
        .unwrap_or_else(|e| panic!("{name}: input does not parse: {e}"));
    let got = jcs::canonicalize(&input).unwrap_or_else(|e| panic!("{name}: {e}"));
    let want = read(&format!("output/{name}.json"));
    assert_eq!(
        got.as_bytes(),
        want.as_slice(),
        "{name}: canonical form differs"
    );
    let hex_want = String::from_utf8(read(&format!("outhex/{name}.txt"))).unwrap();
    let hex_want: String = hex_want.split_whitespace().collect();
    assert_eq!(
        hex::encode(got.as_bytes()),
        hex_want,
        "{name}: outhex differs"
    );
    // Canonicalizing the canonical form changes nothing.
    let again: Value = serde_json::from_str(&got).unwrap();
    assert_eq!(
        jcs::canonicalize(&again).unwrap(),
        got,
        "{name}: not idempotent"
    );
}

#[test]
fn vector_arrays() {
    check_case("arrays");
}

#[test]
fn vector_french() {
    check_case("french");
}

#[test]
fn vector_structures() {
    check_case("structures");
}

#[test]
fn vector_unicode() {
    check_case("unicode");
}

#[test]
fn vector_values() {
    check_case("values");
}

#[test]
fn vector_weird() {
    check_case("weird");
}

fn f64_from_hex(hex: &str) -> f64 {
    f64::from_bits(u64::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("{hex}: {e}")))
}

#[test]
fn es6_number_samples() {
    let text = String::from_utf8(read("es6-number-samples.csv")).unwrap();
    let mut n = 0;
    for (i, line) in text.lines().filter(|l| !l.is_empty()).enumerate() {
        let (hex, want) = line.split_once(',').expect("hex,expected");
        assert_eq!(
            jcs::es6_number_string(f64_from_hex(hex)),
            want,
            "TC{i} failed: {line}"
        );
        n += 1;
    }
    assert_eq!(n, 7);
}

/// The inputs of the ES6 number test file `es6testfile100m.txt`, in order (see the README).
struct Es6Inputs {
    statics: Vec<u64>,
    idx: usize,
    block: [u8; 32],
    pending: Vec<f64>,
}

impl Es6Inputs {
    fn new() -> Self {
        let text = String::from_utf8(read("es6-static-doubles.txt")).unwrap();
        let statics = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| u64::from_str_radix(l, 16).unwrap())
            .collect();
        Self {
            statics,
            idx: 0,
            block: [0; 32],
            pending: Vec::new(),
        }
    }

    fn next_chained(&mut self) -> f64 {
        loop {
            if self.pending.is_empty() {
                self.block = sha256(&self.block);
                self.pending = self
                    .block
                    .chunks_exact(8)
                    .rev()
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                    .collect();
            }
            let f = self.pending.pop().unwrap();
            if f != 0.0 && f.is_finite() {
                return f;
            }
        }
    }
}

impl Iterator for Es6Inputs {
    type Item = f64;

    fn next(&mut self) -> Option<f64> {
        let i = self.idx;
        self.idx += 1;
        let serial = i.checked_sub(self.statics.len());
        Some(match serial {
            None => f64::from_bits(self.statics[i]),
            Some(s) if s < 2000 => f64::from_bits(0x0010_0000_0000_0000 + s as u64),
            Some(_) => self.next_chained(),
        })
    }
}

/// The published (line count, byte count, SHA-256) of prefixes of the ES6 test file.
fn published_prefixes() -> Vec<(usize, usize, String)> {
    let text = String::from_utf8(read("es6-testfile-hashes.csv")).unwrap();
    text.lines()
        .map(|line| {
            let parts: Vec<&str> = line.split(',').collect();
            (
                parts[0].parse().unwrap(),
                parts[1].parse().unwrap(),
                parts[2].to_owned(),
            )
        })
        .collect()
}

/// The first 1,000,000 lines `hex,expected\n` of the 100-million-line ES6 file, compared by
/// the SHA-256 of the prefixes its README publishes (1k, 10k, 100k and 1M lines).
#[test]
fn es6_testfile_first_million_lines() {
    let prefixes = published_prefixes();
    let max = prefixes.iter().map(|p| p.0).max().unwrap();
    let mut buf = String::with_capacity(41_000_000);
    let mut ends = Vec::with_capacity(max);
    for f in Es6Inputs::new().take(max) {
        buf.push_str(&format!(
            "{:x},{}\n",
            f.to_bits(),
            jcs::es6_number_string(f)
        ));
        ends.push(buf.len());
    }
    for (i, (lines, bytes, hash)) in prefixes.iter().enumerate() {
        let prefix = &buf.as_bytes()[..ends[lines - 1]];
        assert_eq!(
            prefix.len(),
            *bytes,
            "TC{i} failed: byte count of {lines} lines"
        );
        assert_eq!(
            &hex::encode(sha256(prefix)),
            hash,
            "TC{i} failed: SHA-256 of {lines} lines"
        );
    }
    assert_eq!(prefixes.len(), 4);
}

#[test]
fn fail_inexact_integer() {
    let v: Value = serde_json::from_str(r#"{"n":9007199254740993}"#).unwrap();
    assert_eq!(
        jcs::canonicalize(&v),
        Err(JcsError::InexactInteger {
            path: "`/n`".into()
        })
    );
}

#[test]
fn to_canonical_vec_matches_canonicalize() {
    #[derive(serde::Serialize)]
    struct Report<'a> {
        zeta: f64,
        alpha: &'a str,
        mid: Vec<u32>,
    }
    let r = Report {
        zeta: 1e-7,
        alpha: "x",
        mid: vec![3, 1],
    };
    let bytes = jcs::to_canonical_vec(&r).unwrap();
    assert_eq!(bytes, br#"{"alpha":"x","mid":[3,1],"zeta":1e-7}"#);
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<i32>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Every finite double's ES6 string parses back to the same double.
    #[test]
    fn es6_number_round_trips(bits in any::<u64>()) {
        let f = f64::from_bits(bits);
        prop_assume!(f.is_finite());
        let s = jcs::es6_number_string(f);
        let back: f64 = s.parse().unwrap();
        prop_assert!(back == f, "{s}");
    }

    /// The canonical form parses back to an equal value and is a fixed point.
    #[test]
    fn canonical_form_is_a_fixed_point(v in json_value()) {
        let c = jcs::canonicalize(&v).unwrap();
        let back: Value = serde_json::from_str(&c).unwrap();
        prop_assert_eq!(jcs::canonicalize(&back).unwrap(), c);
    }
}
