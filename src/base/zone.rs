//! The borrower-local time zone of the compliance rules (data-contract.md:
//! a `contact_ts` without a zone is already borrower-local; one with a zone
//! is converted to the policy's zone). A zone is an IANA name
//! (`Asia/Shanghai`, daylight saving included) or a fixed offset (`+08:00`).

use std::str::FromStr;

use chrono::{FixedOffset, NaiveDateTime, Offset, TimeZone};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    Named(chrono_tz::Tz),
    Fixed(FixedOffset),
}

impl Zone {
    /// Parses an IANA name, `UTC`/`Z`, or an offset `+HH:MM`/`-HH:MM`/`+HHMM`.
    pub fn parse(s: &str) -> Option<Zone> {
        if let Some(off) = parse_offset(s) {
            return Some(Zone::Fixed(off));
        }
        chrono_tz::Tz::from_str(s).ok().map(Zone::Named)
    }

    /// The local wall-clock time of an instant given in UTC milliseconds.
    pub fn local(self, utc_millis: i64) -> Option<NaiveDateTime> {
        let utc = chrono::DateTime::from_timestamp_millis(utc_millis)?;
        Some(match self {
            Zone::Named(tz) => utc.with_timezone(&tz).naive_local(),
            Zone::Fixed(off) => utc.with_timezone(&off).naive_local(),
        })
    }

    pub fn name(self) -> String {
        match self {
            Zone::Named(tz) => tz.name().to_string(),
            Zone::Fixed(off) => off.to_string(),
        }
    }

    /// The offset in effect at a UTC instant (for the report's note).
    pub fn offset_at(self, utc_millis: i64) -> FixedOffset {
        let utc = chrono::DateTime::from_timestamp_millis(utc_millis).unwrap_or_default();
        match self {
            Zone::Named(tz) => tz.offset_from_utc_datetime(&utc.naive_utc()).fix(),
            Zone::Fixed(off) => off,
        }
    }
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    if s.eq_ignore_ascii_case("utc") || s == "Z" {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i32, i32) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
    if h > 23 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_names() {
        let z = Zone::parse("+08:00").unwrap();
        // 2026-11-29 14:30 UTC is 22:30 in Shanghai.
        let ms = 1_795_962_600_000; // 2026-11-29T14:30:00Z
        assert_eq!(
            z.local(ms).unwrap().format("%F %R").to_string(),
            "2026-11-29 22:30"
        );
        let sh = Zone::parse("Asia/Shanghai").unwrap();
        assert_eq!(sh.local(ms), z.local(ms));
        assert_eq!(
            Zone::parse("UTC")
                .unwrap()
                .local(ms)
                .unwrap()
                .format("%R")
                .to_string(),
            "14:30"
        );
        // New York is on EST (-05:00) in late November.
        let ny = Zone::parse("America/New_York").unwrap();
        assert_eq!(ny.local(ms).unwrap().format("%R").to_string(), "09:30");
        assert!(Zone::parse("Mars/Olympus").is_none());
        assert!(Zone::parse("+25:00").is_none());
    }
}
