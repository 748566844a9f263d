//! Constant-time comparison for MACs, tokens and signatures.

use subtle::ConstantTimeEq;

/// True when `a` and `b` are equal. The time taken depends only on the lengths, never on where
/// the inputs differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::ct_eq;

    #[test]
    fn table() {
        let cases: [(&[u8], &[u8], bool); 5] = [
            (b"", b"", true),
            (b"abc", b"abc", true),
            (b"abc", b"abd", false),
            (b"abc", b"ab", false),
            (b"\x00", b"", false),
        ];
        for (i, (a, b, want)) in cases.iter().enumerate() {
            assert_eq!(ct_eq(a, b), *want, "TC{i} failed");
        }
    }
}
