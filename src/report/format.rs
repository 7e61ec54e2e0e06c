//! Number formatting for the report: thousands separators, money with two
//! decimals, rates as percentages. Formatting happens here, in Rust, so the
//! templates only place strings and every figure is rendered one way.

/// `1234567` as `1,234,567`.
pub fn int(v: i128) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if v < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Cents as `1,234.56`.
pub fn money(cents: i128) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let a = cents.unsigned_abs() as i128;
    format!("{sign}{}.{:02}", int(a / 100), a % 100)
}

/// A share as `12.34%`, or an en dash when undefined.
pub fn pct(v: Option<f64>) -> String {
    match v {
        Some(x) => format!("{:.2}%", x * 100.0),
        None => "\u{2013}".to_string(),
    }
}

/// An axis tick: `5%`, `2.5%`, `0.25%` (no trailing zeros).
pub fn pct_short(v: f64) -> String {
    let s = format!("{:.2}", v * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1000), "1,000");
        assert_eq!(int(-1234567), "-1,234,567");
        assert_eq!(money(123456789), "1,234,567.89");
        assert_eq!(money(-5), "-0.05");
        assert_eq!(pct(Some(0.12345)), "12.35%");
        assert_eq!(pct(None), "\u{2013}");
        assert_eq!(pct_short(0.05), "5%");
        assert_eq!(pct_short(0.025), "2.5%");
        assert_eq!(pct_short(0.0), "0%");
    }
}
