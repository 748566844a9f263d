//! Time for entries and checkpoints, injected so tests are deterministic.

use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::AuditError;

/// A source of wall-clock time in Unix milliseconds.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock at `ms`.
    pub fn at(ms: i64) -> Self {
        Self(AtomicI64::new(ms))
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds: `2026-11-23T01:02:03.456Z`.
pub fn format_ms(ms: i64) -> Result<String, AuditError> {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| AuditError::InvalidEvent("time out of range"))?;
    let (y, mo, d) = (t.year(), u8::from(t.month()), t.day());
    let (h, mi, s, milli) = (t.hour(), t.minute(), t.second(), t.millisecond());
    if !(0..=9999).contains(&y) {
        return Err(AuditError::InvalidEvent("time out of range"));
    }
    Ok(format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z"
    ))
}

/// Parses the form [`format_ms`] writes (and only that form) back to Unix milliseconds.
pub fn parse_ms(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    let ms = i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()?;
    (format_ms(ms).ok()? == s).then_some(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_table() {
        let cases: [(i64, &str); 3] = [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_795_395_723_456, "2026-11-23T01:02:03.456Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
        ];
        for (i, (ms, want)) in cases.iter().enumerate() {
            assert_eq!(format_ms(*ms).unwrap(), *want, "TC{i} failed");
            assert_eq!(parse_ms(want), Some(*ms), "TC{i} failed: parse");
        }
    }

    #[test]
    fn fail_other_time_spellings() {
        for (i, s) in [
            "2026-11-23T01:02:03Z",
            "2026-11-23T01:02:03.456+00:00",
            "2026-11-23 01:02:03.456Z",
            "",
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(parse_ms(s), None, "TC{i} failed");
        }
    }
}
