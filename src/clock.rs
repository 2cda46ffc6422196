//! The clock's formats: RFC 3339 in UTC, as the envelope writes it. The instant pinned by
//! `FACTORY_NOW` is read once, by the application's settings.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::error::{Error, Result};

/// The environment variable that pins the clock.
pub const NOW_ENV: &str = "FACTORY_NOW";

/// Parses an RFC 3339 time and converts it to UTC.
pub fn parse_rfc3339(text: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|t| t.to_offset(UtcOffset::UTC))
        .map_err(|e| Error::usage(format!("`{text}` is not an RFC 3339 time: {e}")))
}

/// Formats an instant as RFC 3339 in UTC with milliseconds and a `Z`:
/// `2026-06-11T09:05:00.000Z`.
pub fn format_rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_z() {
        let t = parse_rfc3339("2026-06-11T11:05:00.5+02:00").unwrap();
        assert_eq!(format_rfc3339(t), "2026-06-11T09:05:00.500Z");
        assert!(parse_rfc3339("yesterday").is_err());
    }
}
