//! UUID-shaped ids for engine numbers (Coinbase order, account and trade ids).

/// A deterministic UUID (version 4 layout) that encodes `n` under a per-kind `salt`.
pub(crate) fn uuid_for(salt: u32, n: u64) -> String {
    format!(
        "{salt:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        (n >> 48) & 0xffff,
        (n >> 36) & 0xfff,
        (n >> 24) & 0xfff,
        n & 0xff_ffff
    )
}

/// The number a [`uuid_for`] id with this `salt` encodes.
pub(crate) fn parse_uuid(salt: u32, s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split('-').collect();
    let [a, b, c, d, e] = parts.as_slice() else {
        return None;
    };
    if *a != format!("{salt:08x}") || b.len() != 4 || c.len() != 4 || d.len() != 4 || e.len() != 12
    {
        return None;
    }
    let hi = u64::from_str_radix(b, 16).ok()?;
    let mid = u64::from_str_radix(c.strip_prefix('4')?, 16).ok()?;
    let lo = u64::from_str_radix(d.strip_prefix('a')?, 16).ok()?;
    let last = u64::from_str_radix(e, 16).ok()?;
    let n = (hi << 48) | (mid << 36) | (lo << 24) | (last & 0xff_ffff);
    (uuid_for(salt, n) == s).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for n in [0u64, 1, 77, 1 << 30, u64::MAX] {
            let u = uuid_for(0xdead_beef, n);
            assert_eq!(u.len(), 36, "{u}");
            assert_eq!(parse_uuid(0xdead_beef, &u), Some(n), "{u}");
            assert_eq!(parse_uuid(0xfeed_beef, &u), None);
        }
        assert_eq!(parse_uuid(1, "not-a-uuid"), None);
    }
}
