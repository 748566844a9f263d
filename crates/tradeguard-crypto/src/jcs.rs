//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! The canonical form is what signed reports and audit entries are hashed and signed over:
//! no whitespace, object members sorted by the UTF-16 code units of their names (§3.2.3),
//! strings escaped minimally (§3.2.2.2) and numbers written as ECMAScript 6 writes an IEEE-754
//! double (§3.2.2.3, `Number.prototype.toString`: the shortest digits that round-trip).
//!
//! ```
//! use serde_json::json;
//! use tradeguard_crypto::jcs;
//!
//! let v = json!({"b": [1e30, 4.50, 0.002], "a": "\u{20ac}"});
//! assert_eq!(jcs::canonicalize(&v).unwrap(), r#"{"a":"€","b":[1e+30,4.5,0.002]}"#);
//! ```
//!
//! Numbers: every JSON number is an IEEE-754 double in JCS. An integer held by
//! `serde_json` as `u64`/`i64` is accepted when it converts to a double exactly (all integers
//! up to 2^53 in magnitude, and larger ones that happen to be representable) or when it is
//! already the canonical spelling of a double (`12345000000000000000`, which is how JCS
//! writes the double nearest to it, so canonical output re-canonicalizes to itself). Any
//! other integer (`9007199254740993`) is refused with [`JcsError::InexactInteger`] rather
//! than silently rounded, because a signature over a rounded value would not be a signature
//! over the caller's data. Send such values (money, ids) as strings. NaN and infinities cannot occur in a
//! `serde_json::Value`; a non-finite double reaching the formatter is refused as well.
//!
//! Parsing: canonicalizing text means parsing it first, and the parse must round every
//! number correctly or the canonical form (and any signature over it) changes. serde_json
//! reads some doubles one ulp off unless its `float_roundtrip` feature is on; the workspace
//! enables it (root `Cargo.toml`), and the RFC 8785 `values.json` vector fails without it.

use std::cmp::Ordering;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Map, Number, Value};

mod number;

pub use number::es6_number_string;
use number::write_es6_number;

/// Why a value has no RFC 8785 canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JcsError {
    /// An integer cannot be represented exactly as an IEEE-754 double (RFC 8785 §3.2.2.3).
    #[error(
        "integer at {path} does not fit an IEEE-754 double exactly; \
         send integers beyond 2^53 as strings"
    )]
    InexactInteger {
        /// JSON pointer (RFC 6901) of the number.
        path: String,
    },
    /// A number is NaN or infinite, which JSON cannot express.
    #[error("number at {path} is not finite; JSON has no NaN or Infinity")]
    NonFinite {
        /// JSON pointer (RFC 6901) of the number.
        path: String,
    },
    /// The value could not be turned into JSON by serde (for example a map with non-string keys).
    #[error("value cannot be serialized as JSON: {0}")]
    Serialize(String),
}

/// The RFC 8785 canonical form of `value`.
pub fn canonicalize(value: &Value) -> Result<String, JcsError> {
    let mut out = String::new();
    let mut path = String::new();
    write_value(&mut out, value, &mut path)?;
    Ok(out)
}

/// The RFC 8785 canonical form of any `Serialize` value, as UTF-8 bytes.
pub fn to_canonical_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, JcsError> {
    let v = serde_json::to_value(value).map_err(|e| JcsError::Serialize(e.to_string()))?;
    canonicalize(&v).map(String::into_bytes)
}

/// The RFC 8785 canonical form of any `Serialize` value, as a string.
pub fn to_canonical_string<T: Serialize + ?Sized>(value: &T) -> Result<String, JcsError> {
    let v = serde_json::to_value(value).map_err(|e| JcsError::Serialize(e.to_string()))?;
    canonicalize(&v)
}

fn write_value(out: &mut String, value: &Value, path: &mut String) -> Result<(), JcsError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n, path)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => write_array(out, items, path)?,
        Value::Object(map) => write_object(out, map, path)?,
    }
    Ok(())
}

fn write_array(out: &mut String, items: &[Value], path: &mut String) -> Result<(), JcsError> {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let len = path.len();
        let _ = write!(path, "/{i}");
        write_value(out, item, path)?;
        path.truncate(len);
    }
    out.push(']');
    Ok(())
}

fn write_object(
    out: &mut String,
    map: &Map<String, Value>,
    path: &mut String,
) -> Result<(), JcsError> {
    let mut members: Vec<(&String, &Value)> = map.iter().collect();
    members.sort_by(|a, b| cmp_utf16(a.0, b.0));
    out.push('{');
    for (i, (name, item)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, name);
        out.push(':');
        let len = path.len();
        path.push('/');
        path.push_str(&name.replace('~', "~0").replace('/', "~1"));
        write_value(out, item, path)?;
        path.truncate(len);
    }
    out.push('}');
    Ok(())
}

/// Orders property names by their UTF-16 code units, as RFC 8785 §3.2.3 requires (this
/// differs from UTF-8 byte order for characters above U+FFFF versus U+E000..U+FFFF).
fn cmp_utf16(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Writes `s` as a JSON string with the escapes of RFC 8785 §3.2.2.2 (ES6 `JSON.stringify`).
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{9}' => out.push_str("\\t"),
            '\u{a}' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\u{d}' => out.push_str("\\r"),
            c if c < '\u{20}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_number(out: &mut String, n: &Number, path: &str) -> Result<(), JcsError> {
    let inexact = || JcsError::InexactInteger {
        path: pointer(path),
    };
    let f = if let Some(u) = n.as_u64() {
        f64_from_u64(u).ok_or_else(inexact)?
    } else if let Some(i) = n.as_i64() {
        let f = f64_from_u64(i.unsigned_abs()).ok_or_else(inexact)?;
        if i < 0 { -f } else { f }
    } else {
        n.as_f64().ok_or_else(inexact)?
    };
    if !f.is_finite() {
        return Err(JcsError::NonFinite {
            path: pointer(path),
        });
    }
    write_es6_number(out, f);
    Ok(())
}

fn pointer(path: &str) -> String {
    if path.is_empty() {
        "the document root".to_owned()
    } else {
        format!("`{path}`")
    }
}

/// `u` as a double, when the conversion loses nothing or `u` is the ES6 spelling of the
/// double nearest to it.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
fn f64_from_u64(u: u64) -> Option<f64> {
    let f = u as f64;
    // 2^64 itself is not a u64: a value that rounded up to it is inexact.
    let exact = f < 18_446_744_073_709_551_616.0 && f as u64 == u;
    (exact || es6_number_string(f) == u.to_string()).then_some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn es6_layout_table() {
        let cases: [(f64, &str); 14] = [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123_456_789_012_345_680_000.0, "123456789012345680000"),
            (0.000_001, "0.000001"),
            (0.000_000_1, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (333_333_333.333_333_3, "333333333.3333333"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (9_007_199_254_740_994.0, "9007199254740994"),
        ];
        for (i, (f, want)) in cases.iter().enumerate() {
            assert_eq!(es6_number_string(*f), *want, "TC{i} failed");
        }
    }

    #[test]
    fn keys_sort_by_utf16_not_utf8() {
        // U+1F602 (surrogates D83D..) sorts before U+FB33 in UTF-16, after it in UTF-8.
        let v = json!({"\u{fb33}": 1, "\u{1f602}": 2});
        assert_eq!(
            canonicalize(&v).unwrap(),
            "{\"\u{1f602}\":2,\"\u{fb33}\":1}"
        );
    }

    #[test]
    fn integers_exact_or_refused() {
        let ok = json!([
            9_007_199_254_740_992u64,
            -9_007_199_254_740_992i64,
            u64::MAX >> 11 << 11,
            12_345_000_000_000_000_000u64,
        ]);
        assert_eq!(
            canonicalize(&ok).unwrap(),
            "[9007199254740992,-9007199254740992,18446744073709550000,12345000000000000000]"
        );
    }

    #[test]
    fn fail_inexact_integer_names_its_path() {
        let cases = [
            (json!({"a": [1, 9_007_199_254_740_993u64]}), "`/a/1`"),
            (json!({"x/y": -9_007_199_254_740_993i64}), "`/x~1y`"),
            (json!(u64::MAX), "the document root"),
            (json!(12_345_000_000_000_000_001u64), "the document root"),
        ];
        for (i, (v, path)) in cases.iter().enumerate() {
            match canonicalize(v) {
                Err(JcsError::InexactInteger { path: p }) => assert_eq!(&p, path, "TC{i} failed"),
                other => panic!("TC{i} failed: {other:?}"),
            }
        }
    }

    #[test]
    fn fail_map_with_non_string_keys() {
        let m: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into_iter().collect();
        assert!(matches!(to_canonical_vec(&m), Err(JcsError::Serialize(_))));
    }

    #[test]
    fn control_characters_escape_lowercase() {
        let v = json!("\u{0}\u{8}\u{9}\u{a}\u{c}\u{d}\u{f}\u{1f}\u{7f}/\"\\");
        assert_eq!(
            canonicalize(&v).unwrap(),
            "\"\\u0000\\b\\t\\n\\f\\r\\u000f\\u001f\u{7f}/\\\"\\\\\""
        );
    }
}
