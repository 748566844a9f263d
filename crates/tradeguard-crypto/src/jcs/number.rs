//! ES6 number serialization (ECMA-262 §7.1.12.1 `Number::toString`), as RFC 8785 §3.2.2.3
//! requires.
//!
//! ECMAScript picks, for a double `m`, the fewest digits `k` such that `s × 10^(n−k)` rounds
//! to `m`; among several such `s` the one closest to `m`; among two equally close, the even
//! one. Rust's `{:e}` formatting gives the shortest, closest digits but breaks an exact tie
//! upwards (`1424953923781206.25` becomes `…206.3` where ECMAScript writes `…206.2`), so
//! [`shortest_digits`] corrects ties to even. The RFC 8785 reference test file (its first
//! 10^6 lines, by hash) checks the result in `tests/jcs.rs`.

use std::fmt::Write as _;

/// The ES6 string of a finite double (`"0"` for ±0, no `+` on positive numbers, exponent
/// form `1e+21` / `1e-7` outside 10^-7..10^21).
pub fn es6_number_string(f: f64) -> String {
    let mut s = String::new();
    write_es6_number(&mut s, f);
    s
}

/// Appends the ES6 string of a finite double to `out` (see [`es6_number_string`]).
pub(super) fn write_es6_number(out: &mut String, f: f64) {
    if f == 0.0 {
        out.push('0'); // both +0 and -0
        return;
    }
    if f < 0.0 {
        out.push('-');
    }
    let (digits, n) = shortest_digits(f.abs());
    layout(out, &digits, n);
}

/// The ECMAScript digits `s` (no trailing zeros) and point position `n` (value = 0.s × 10^n)
/// of a positive finite double.
fn shortest_digits(f: f64) -> (String, i32) {
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let n = exp.parse::<i32>().unwrap_or(0) + 1;
    tie_to_even(f, &digits, n).unwrap_or((digits, n))
}

/// When `f` lies exactly halfway between the digit strings `s` and `s ± 1` (same length),
/// both round-trip and `s` is odd, ECMAScript takes the even neighbour: returns it.
fn tie_to_even(f: f64, digits: &str, n: i32) -> Option<(String, i32)> {
    let s: u64 = digits.parse().ok()?;
    if s.is_multiple_of(2) {
        return None;
    }
    let k = i32::try_from(digits.len()).ok()?;
    // Midpoint (s ± ½)·10^(n−k) = (2s ± 1)·5 · 10^(n−k−1) = t · 10^(−p).
    let p = k - n + 1;
    for (t, neighbour) in [(2 * s - 1, s - 1), (2 * s + 1, s + 1)] {
        if equals_decimal(f, t.checked_mul(5)?, p) {
            let candidate = normalize(neighbour, k, n);
            if parses_to(&candidate, f) {
                return Some(candidate);
            }
        }
    }
    None
}

/// Digits and point position of `s · 10^(n−k)` with trailing zeros removed.
fn normalize(s: u64, k: i32, n: i32) -> (String, i32) {
    let text = s.to_string();
    let len = i32::try_from(text.len()).unwrap_or(k);
    let trimmed = text.trim_end_matches('0').to_owned();
    (trimmed, n - k + len)
}

fn parses_to((digits, n): &(String, i32), f: f64) -> bool {
    let exp = n - i32::try_from(digits.len()).unwrap_or(0);
    format!("{digits}e{exp}").parse::<f64>().ok() == Some(f)
}

/// Exactly `f == t · 10^(−p)`, for odd `t`, in integer arithmetic.
///
/// With `f = m · 2^(z+E)` (`m` odd) and `t · 10^(−p) = t · 5^(−p) · 2^(−p)`, both sides are
/// an odd number times a power of two, so they are equal iff the powers of two agree
/// (`z + E = −p`) and the odd parts agree (`m · 5^p = t` for `p ≥ 0`, `m = t · 5^(−p)`
/// otherwise).
fn equals_decimal(f: f64, t: u64, p: i32) -> bool {
    let (mantissa, exp) = decompose(f);
    if mantissa == 0 {
        return false;
    }
    let z = mantissa.trailing_zeros();
    if i64::from(z) + i64::from(exp) + i64::from(p) != 0 {
        return false;
    }
    let odd = u128::from(mantissa >> z);
    let Some(pow5) = 5u128.checked_pow(p.unsigned_abs()) else {
        return false;
    };
    if p >= 0 {
        odd.checked_mul(pow5) == Some(u128::from(t))
    } else {
        u128::from(t).checked_mul(pow5) == Some(odd)
    }
}

/// `(M, E)` with `f = M · 2^E` for a finite non-negative double.
fn decompose(f: f64) -> (u64, i32) {
    let bits = f.to_bits();
    let exp_bits = i32::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
    let frac = bits & ((1 << 52) - 1);
    if exp_bits == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), exp_bits - 1075)
    }
}

/// The layout step of ECMA-262 §7.1.12.1 for digits `s` (length `k`) and point position `n`.
fn layout(out: &mut String, s: &str, n: i32) {
    let k = i32::try_from(s.len()).unwrap_or(i32::MAX);
    let zeros = |count: i32| "0".repeat(usize::try_from(count).unwrap_or(0));
    if k <= n && n <= 21 {
        out.push_str(s);
        out.push_str(&zeros(n - k));
    } else if 0 < n && n <= 21 {
        let (int, frac) = s.split_at(usize::try_from(n).unwrap_or(0));
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.push_str(&zeros(-n));
        out.push_str(s);
    } else {
        let (first, rest) = s.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let e = n - 1;
        let sign = if e < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{}", e.unsigned_abs());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_the_even_digit() {
        let cases: [(u64, &str); 3] = [
            (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
            (0xc300_ce90_f2d1_0fca, "-591340196471289.2"),
            (0x431b_9180_a34a_8f19, "1939951513150406.2"),
        ];
        for (i, (bits, want)) in cases.iter().enumerate() {
            assert_eq!(
                es6_number_string(f64::from_bits(*bits)),
                *want,
                "TC{i} failed"
            );
        }
    }

    #[test]
    fn exact_decimal_identity() {
        // 1424953923781206.25 = 142495392378120625 · 10^-2.
        let f = f64::from_bits(0x4314_3ff3_c1cb_0959);
        assert!(equals_decimal(f, 142_495_392_378_120_625, 2));
        assert!(!equals_decimal(f, 142_495_392_378_120_635, 2));
        assert!(equals_decimal(0.5, 5, 1));
        assert!(!equals_decimal(0.1, 1, 1)); // 0.1 is not exactly a double
        assert!(equals_decimal(2500.0, 25, -2));
        assert!(equals_decimal(7.0, 7, 0));
        assert!(!equals_decimal(2500.0, 25, -1));
    }
}
