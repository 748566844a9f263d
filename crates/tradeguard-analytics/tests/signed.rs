//! Signed reports: round trip, tampering, reordering, wrong key, truncation.

use proptest::prelude::*;
use serde_json::Value;
use tradeguard_analytics::{
    CheckpointRef, Conventions, REPORT_FORMAT, Report, ReportBody, ReportError, ReportFormat,
    SignedReport, Timestamp, analyze_equity, parse_equity_csv, sign_report, verify_report,
};
use tradeguard_crypto::sign::Ed25519SigningKey;

const CSV: &str = "timestamp,value,flow\n2024-01-01,1000,1000\n2024-01-02,1012.5,0\n\
2024-01-03,990.25,0\n2024-01-04,1540.75,500\n2024-01-05,1499.5,-20\n";

fn key(seed: u8) -> Ed25519SigningKey {
    Ed25519SigningKey::from_seed(&[seed; 32]).unwrap()
}

fn report() -> Report {
    let series = parse_equity_csv(CSV).unwrap();
    let equity = analyze_equity(&series, &Conventions::new(365, 0.04).unwrap()).unwrap();
    Report {
        format: ReportFormat,
        generated_at: Timestamp::parse("2024-01-06T00:00:00Z").unwrap(),
        checkpoint: CheckpointRef::new("tradeguard.test/audit", 1234, [7u8; 32]).unwrap(),
        body: ReportBody::Equity(Box::new(equity)),
    }
}

fn signed() -> Vec<u8> {
    sign_report(&report(), &key(1)).unwrap()
}

/// Writes `v` with every object's members in reverse order and two-space indentation.
fn reversed(v: &Value, out: &mut String, depth: usize) {
    let pad = "  ".repeat(depth + 1);
    match v {
        Value::Object(m) => {
            out.push_str("{\n");
            let items: Vec<_> = m.iter().rev().collect();
            for (i, (k, x)) in items.iter().enumerate() {
                out.push_str(&format!("{pad}{}: ", Value::String((*k).clone())));
                reversed(x, out, depth + 1);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&"  ".repeat(depth));
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                reversed(x, out, depth + 1);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[test]
fn round_trip_returns_the_signed_report() {
    let file = signed();
    let got = verify_report(&file, &key(1).verifying_key()).unwrap();
    assert_eq!(got, report());
    let text = String::from_utf8(file).unwrap();
    assert!(text.contains(REPORT_FORMAT));
    assert!(text.contains(r#""checkpoint":{"origin":"tradeguard.test/audit","root_hash":"#));
}

#[test]
fn reordered_and_reindented_file_still_verifies() {
    let doc: Value = serde_json::from_slice(&signed()).unwrap();
    let mut text = String::new();
    reversed(&doc, &mut text, 0);
    assert!(
        text.find("\"signature\"") < text.find("\"report\""),
        "top level reordered"
    );
    let got = verify_report(text.as_bytes(), &key(1).verifying_key()).unwrap();
    assert_eq!(got, report());
}

#[test]
fn fail_tampered_number() {
    let text = String::from_utf8(signed()).unwrap();
    let cases = [
        ("\"tree_size\":1234", "\"tree_size\":1235"),
        ("\"observations\":5", "\"observations\":6"),
        ("\"periods_per_year\":365", "\"periods_per_year\":252"),
    ];
    for (i, (from, to)) in cases.iter().enumerate() {
        assert!(text.contains(from), "TC{i} failed: fixture lacks {from}");
        let bad = text.replacen(from, to, 1);
        assert_eq!(
            verify_report(bad.as_bytes(), &key(1).verifying_key()),
            Err(ReportError::BadSignature),
            "TC{i} failed"
        );
    }
}

#[test]
fn fail_wrong_key() {
    assert_eq!(
        verify_report(&signed(), &key(2).verifying_key()),
        Err(ReportError::WrongKey)
    );
    // A file re-signed by another key names that key, and is refused for the gateway's.
    let forged = sign_report(&report(), &key(2)).unwrap();
    let parsed = SignedReport::parse(&forged).unwrap();
    assert_eq!(*parsed.claimed_public_key(), key(2).verifying_key());
    assert_eq!(
        parsed.verify(&key(1).verifying_key()),
        Err(ReportError::WrongKey)
    );
}

#[test]
fn fail_truncated_file() {
    let file = signed();
    for cut in [0, 1, 10, file.len() / 2, file.len() - 3, file.len() - 2] {
        match verify_report(&file[..cut], &key(1).verifying_key()) {
            Err(ReportError::Malformed { .. }) => {}
            other => panic!("cut at {cut}: expected Malformed, got {other:?}"),
        }
    }
}

#[test]
fn fail_structural_changes() {
    let text = String::from_utf8(signed()).unwrap();
    type Check = fn(&ReportError) -> bool;
    let cases: [(String, Check); 4] = [
        (
            text.replacen("\"alg\":\"ed25519\"", "\"alg\":\"none\"", 1),
            |e| matches!(e, ReportError::UnsupportedAlgorithm { .. }),
        ),
        (
            text.replacen("{\"report\":", "{\"report\":{},\"report\":", 1),
            |e| matches!(e, ReportError::Malformed { .. }),
        ),
        (
            text.replacen("\"format\":", "\"extra\":1,\"format\":", 1),
            |e| *e == ReportError::BadSignature,
        ),
        (text.replacen("{\"report\"", "[{\"report\"", 1), |e| {
            matches!(e, ReportError::Malformed { .. })
        }),
    ];
    for (i, (bad, want)) in cases.iter().enumerate() {
        let err = verify_report(bad.as_bytes(), &key(1).verifying_key()).unwrap_err();
        assert!(want(&err), "TC{i} failed: {err:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Changing any single byte of a report file makes it fail verification, except one JSON
    /// whitespace for another: formatting is free, the signature covers the canonical form
    /// (the file's final newline turned into a carriage return is the same report).
    #[test]
    fn any_changed_byte_is_refused(pos in any::<prop::sample::Index>(), delta in 1u8..=255) {
        let mut file = signed();
        let i = pos.index(file.len());
        let was = file[i];
        file[i] = file[i].wrapping_add(delta);
        let ws = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
        prop_assume!(!(ws(was) && ws(file[i])));
        prop_assert!(verify_report(&file, &key(1).verifying_key()).is_err());
    }
}
