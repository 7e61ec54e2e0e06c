//! Money as integer minor units (cents). Inputs arrive as decimals of scale
//! 0..=4 or as Float64; both become `i64` cents once, at load, so that every
//! sum in the program is an exact integer sum and partial results merge
//! without rounding drift.
//!
//! Values with more than two decimals are rounded half away from zero to the
//! cent (the rule a teller applies); the number of values rounded is counted
//! and shown in the manifest.

/// Largest absolute amount accepted for one value: 10^15 currency units.
/// Far beyond any loan, small enough that ten billion of them fit an `i128`
/// sum and any realistic total fits a Decimal128(20, 2) output column.
pub const MAX_ABS_CENTS: i64 = 100_000_000_000_000_000;

/// Outcome of converting one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cents {
    Exact(i64),
    Rounded(i64),
    OutOfRange,
}

/// Converts a decimal's raw integer at `scale` (0..=4) to cents.
#[inline]
pub fn from_decimal(raw: i128, scale: i8) -> Cents {
    let (v, rounded) = match scale {
        0 => (raw.checked_mul(100), false),
        1 => (raw.checked_mul(10), false),
        2 => (Some(raw), false),
        3 | 4 => {
            let div: i128 = if scale == 3 { 10 } else { 100 };
            let q = raw / div;
            let r = raw % div;
            // Half away from zero: |r| >= div/2 moves one cent outward.
            let q = if r.abs() * 2 >= div {
                q + raw.signum()
            } else {
                q
            };
            (Some(q), r != 0)
        }
        _ => (None, false),
    };
    match v {
        Some(v) if v.abs() <= MAX_ABS_CENTS as i128 => {
            if rounded {
                Cents::Rounded(v as i64)
            } else {
                Cents::Exact(v as i64)
            }
        }
        _ => Cents::OutOfRange,
    }
}

/// Converts a Float64 amount to cents. A float carries no scale, so every
/// value is read as "the nearest cent": 1234.56 stored as 1234.5599999 is
/// 123456 cents, and is not counted as rounded.
#[inline]
pub fn from_f64(x: f64) -> Cents {
    if !x.is_finite() {
        return Cents::OutOfRange;
    }
    let c = (x * 100.0).round();
    if c.abs() > MAX_ABS_CENTS as f64 {
        return Cents::OutOfRange;
    }
    Cents::Exact(c as i64)
}

/// Formats cents as a plain decimal string, `-1234.50`.
pub fn plain(cents: i128) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let a = cents.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Parses what [`plain`] writes (`-1234.56`) back to cents.
pub fn parse_plain(s: &str) -> Option<i128> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (units, frac) = body.split_once('.')?;
    if units.is_empty()
        || frac.len() != 2
        || !units.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let v = units.parse::<i128>().ok()?.checked_mul(100)? + frac.parse::<i128>().ok()?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_round_trips() {
        for c in [0i128, 5, -5, 123456, -100, i64::MAX as i128] {
            assert_eq!(parse_plain(&plain(c)), Some(c));
        }
        for bad in ["", "1", "1.2", "1.234", "a.00", ".00", "1.0x", "--1.00"] {
            assert_eq!(parse_plain(bad), None, "{bad}");
        }
    }

    #[test]
    fn decimal_scales() {
        assert_eq!(from_decimal(12345, 2), Cents::Exact(12345));
        assert_eq!(from_decimal(12345, 0), Cents::Exact(1234500));
        assert_eq!(from_decimal(12345, 1), Cents::Exact(123450));
        assert_eq!(from_decimal(12345, 3), Cents::Rounded(1235));
        assert_eq!(from_decimal(12344, 3), Cents::Rounded(1234));
        assert_eq!(from_decimal(12340, 3), Cents::Exact(1234));
        assert_eq!(from_decimal(-12345, 3), Cents::Rounded(-1235));
        assert_eq!(from_decimal(1234_4999, 4), Cents::Rounded(123450));
        assert_eq!(from_decimal(1234_5000, 4), Cents::Exact(123450));
        assert_eq!(from_decimal(1234_5050, 4), Cents::Rounded(123451));
        assert_eq!(from_decimal(i128::MAX, 0), Cents::OutOfRange);
        assert_eq!(from_decimal(1, 5), Cents::OutOfRange);
    }

    #[test]
    fn floats() {
        assert_eq!(from_f64(1234.56), Cents::Exact(123456));
        assert_eq!(from_f64(0.1 + 0.2), Cents::Exact(30));
        assert_eq!(from_f64(-0.005), Cents::Exact(-1));
        assert_eq!(from_f64(f64::NAN), Cents::OutOfRange);
        assert_eq!(from_f64(1e30), Cents::OutOfRange);
    }

    #[test]
    fn plain_format() {
        assert_eq!(plain(0), "0.00");
        assert_eq!(plain(-5), "-0.05");
        assert_eq!(plain(123456), "1234.56");
    }
}
