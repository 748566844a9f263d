//! [`Timestamp`]: an instant in UTC, read from RFC 3339 or a plain date, written as RFC 3339.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

/// Seconds in a Julian year (365.25 days), used for calendar-time rates such as rebalances per
/// year. Return annualization uses [`crate::Conventions::periods_per_year`] instead.
pub const SECONDS_PER_YEAR: f64 = 365.25 * 86_400.0;

/// An instant, held in UTC. Ordered by time.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Parses RFC 3339 (`2024-01-31T12:00:00Z`, any offset, optional fraction) or a plain date
    /// `YYYY-MM-DD` (midnight UTC). Anything else is refused.
    pub fn parse(s: &str) -> Option<Self> {
        if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
            return Some(Self(t.to_offset(UtcOffset::UTC)));
        }
        let date = Date::parse(s, format_description!("[year]-[month]-[day]")).ok()?;
        Some(Self(date.midnight().assume_utc()))
    }

    /// The instant `secs` seconds after 1970-01-01T00:00:00Z.
    pub fn from_unix_seconds(secs: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp(secs).ok().map(Self)
    }

    /// Whole seconds since 1970-01-01T00:00:00Z (fractions dropped).
    pub fn unix_seconds(&self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Seconds from `earlier` to `self` (negative if `self` is earlier), with sub-second part.
    pub fn seconds_since(&self, earlier: &Timestamp) -> f64 {
        (self.0 - earlier.0).as_seconds_f64()
    }

    /// RFC 3339 in UTC (`Z`), with a fraction only when the instant has one.
    pub fn to_rfc3339(&self) -> String {
        // Formatting a UTC OffsetDateTime with a four-digit year cannot fail; the fallback
        // keeps this total for years outside 0..=9999.
        self.0
            .format(&Rfc3339)
            .unwrap_or_else(|_| self.unix_seconds().to_string())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).ok_or_else(|| {
            serde::de::Error::custom("expected an RFC 3339 timestamp or a YYYY-MM-DD date")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_accepted_forms_to_utc() {
        let cases = [
            ("2024-01-31", "2024-01-31T00:00:00Z"),
            ("2024-01-31T12:00:00Z", "2024-01-31T12:00:00Z"),
            ("2024-01-31T12:00:00+02:00", "2024-01-31T10:00:00Z"),
            ("2024-01-31T12:00:00.5Z", "2024-01-31T12:00:00.5Z"),
        ];
        for (i, (input, want)) in cases.iter().enumerate() {
            let t = Timestamp::parse(input).unwrap_or_else(|| panic!("TC{i} failed: {input}"));
            assert_eq!(t.to_rfc3339(), *want, "TC{i} failed");
        }
    }

    #[test]
    fn fail_other_forms() {
        let cases = [
            "",
            "2024-1-31",
            "2024-02-30",
            "31/01/2024",
            "1706659200",
            " 2024-01-31",
            "2024-01-31T12:00:00",
        ];
        for (i, input) in cases.iter().enumerate() {
            assert!(Timestamp::parse(input).is_none(), "TC{i} failed: {input}");
        }
    }
}
