//! The calendar a run accepts: dates from 1900-01-01 to 9999-12-31.
//!
//! A loan book's dates lie well inside these bounds. Outside them a date is
//! a mistake of the export (a sentinel such as 0001-01-01, a corrupted
//! day count) and worse, something no later stage can hold: Excel's dates
//! start in 1900 and end in 9999, chrono's calendar ends at year 262,143
//! while Date32 reaches year 5.8 million, and the vintages span every month
//! between the earliest and the latest origination. So the run date, the
//! partitions' dates and every date column are checked against these
//! bounds when they are read, and refused with the file, column and rows.

use chrono::NaiveDate;

/// The first date accepted.
pub const FIRST: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a date");
/// The last date accepted.
pub const LAST: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date");

/// 1970-01-01, the origin of Date32 day counts.
pub const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");

/// `FIRST` as days since 1970-01-01 (Date32).
pub const FIRST_DAYS: i32 = -25_567;
/// `LAST` as days since 1970-01-01 (Date32).
pub const LAST_DAYS: i32 = 2_932_896;

/// The accepted range in words, for messages.
pub const RANGE: &str = "1900-01-01 to 9999-12-31";

/// Whether a date is inside the accepted calendar.
pub fn accepts(d: NaiveDate) -> bool {
    (FIRST..=LAST).contains(&d)
}

/// Whether a Date32 day count is inside the accepted calendar.
pub fn accepts_days(days: i32) -> bool {
    (FIRST_DAYS..=LAST_DAYS).contains(&days)
}

/// Days since 1970-01-01 of a date, as Date32 stores them.
pub fn date32(d: NaiveDate) -> i32 {
    (d - EPOCH).num_days() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_as_day_counts() {
        assert_eq!(date32(FIRST), FIRST_DAYS);
        assert_eq!(date32(LAST), LAST_DAYS);
        assert!(accepts_days(0) && !accepts_days(FIRST_DAYS - 1) && !accepts_days(LAST_DAYS + 1));
        assert!(!accepts(NaiveDate::from_ymd_opt(1, 1, 1).unwrap()));
    }
}
