//! Calendar formatting of epoch times (no time-zone database: everything is UTC).

/// RFC 3339 with microseconds, e.g. `2026-11-22T12:00:00.123000Z` (Coinbase's form).
pub(crate) fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        t / 3600,
        (t / 60) % 60,
        t % 60,
        (ms % 1000) * 1000
    )
}

/// RFC 1123 with a two-digit year, as Kraken's `Time` prints it: `Thu, 01 Jan 70 00:00:00 +0000`.
pub(crate) fn rfc1123(unix_s: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_s / 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    let t = unix_s % 86_400;
    let month = MONTHS[usize::try_from(m - 1).unwrap_or(0)];
    format!(
        "{}, {d:02} {month} {:02} {:02}:{:02}:{:02} +0000",
        DAYS[(days % 7) as usize],
        y % 100,
        t / 3600,
        (t / 60) % 60,
        t % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_table() {
        assert_eq!(rfc1123(0), "Thu, 01 Jan 70 00:00:00 +0000");
        assert_eq!(rfc1123(1_616_492_376), "Tue, 23 Mar 21 09:39:36 +0000");
        assert_eq!(iso8601(1_616_492_376_594), "2021-03-23T09:39:36.594000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000000Z");
    }
}
