//! Decoding of single Arrow columns into the engine's typed vectors, with the
//! contract's value checks (nulls, negatives, ranges). Each function handles
//! every accepted Arrow variant of its column and reports violations with the
//! column name and the file's row numbers.

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;
use arrow::array::{
    Array, ArrayRef, AsArray, GenericStringArray, OffsetSizeTrait, StringViewArray,
};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Decimal256Type, Decimal32Type, Decimal64Type,
    Float64Type, Int32Type, Int64Type,
};

use crate::error::bad_input;
use crate::input::snapshot::LoanIds;
use crate::money::{self, Cents};

/// Rows that break a rule: how many, and the first few (file row numbers).
#[derive(Debug, Default)]
pub struct Offenders {
    pub count: usize,
    pub first: Vec<usize>,
}

impl Offenders {
    #[inline]
    pub fn push(&mut self, row: usize) {
        self.count += 1;
        if self.first.len() < 5 {
            self.first.push(row);
        }
    }
    /// `Err` naming the column and rows, if any row offended.
    pub fn check(&self, column: &str, what: &str) -> Result<()> {
        if self.count == 0 {
            return Ok(());
        }
        let rows: Vec<String> = self.first.iter().map(|r| r.to_string()).collect();
        let more = if self.count > self.first.len() {
            ", ..."
        } else {
            ""
        };
        Err(bad_input(format!(
            "column '{column}': {} {} {what} (row {}{more})",
            self.count,
            if self.count == 1 {
                "row is"
            } else {
                "rows are"
            },
            rows.join(", ")
        )))
    }
}

/// Fails if a non-null column has nulls.
pub fn require_no_nulls(a: &ArrayRef, column: &str, base: usize) -> Result<()> {
    let Some(nulls) = a.logical_nulls() else {
        return Ok(());
    };
    if nulls.null_count() == 0 {
        return Ok(());
    }
    let mut off = Offenders::default();
    for i in 0..a.len() {
        if nulls.is_null(i) {
            off.push(base + i);
        }
    }
    off.check(column, "null but the column may not be null")
}

/// Appends loan ids; the column must be of the snapshot's id type.
pub fn push_ids(a: &ArrayRef, out: &mut LoanIds, column: &str, base: usize) -> Result<()> {
    require_no_nulls(a, column, base)?;
    match (a.data_type(), out) {
        (DataType::Int64, LoanIds::Int(v)) => {
            v.extend_from_slice(a.as_primitive::<Int64Type>().values());
        }
        (DataType::Utf8, LoanIds::Str { offsets, bytes }) => {
            push_str(a.as_string::<i32>(), offsets, bytes)
        }
        (DataType::LargeUtf8, LoanIds::Str { offsets, bytes }) => {
            push_str(a.as_string::<i64>(), offsets, bytes)
        }
        (DataType::Utf8View, LoanIds::Str { offsets, bytes }) => {
            let s: &StringViewArray = a.as_string_view();
            for v in s.iter() {
                bytes.extend_from_slice(v.unwrap_or_default().as_bytes());
                offsets.push(bytes.len());
            }
        }
        (t, out) => {
            return Err(bad_input(format!(
                "column '{column}' is {t} here but {} in other files of the same partition",
                out.type_name()
            )))
        }
    }
    Ok(())
}

fn push_str<O: OffsetSizeTrait>(
    s: &GenericStringArray<O>,
    offsets: &mut Vec<usize>,
    bytes: &mut Vec<u8>,
) {
    for v in s.iter() {
        bytes.extend_from_slice(v.unwrap_or_default().as_bytes());
        offsets.push(bytes.len());
    }
}

/// A text column encoded into chunk-local codes and labels (null = `None`).
#[derive(Debug, Default)]
pub struct LocalDim {
    pub codes: Vec<u32>,
    pub labels: Vec<Option<String>>,
    index: HashMap<String, u32>,
    null_code: Option<u32>,
}

impl LocalDim {
    /// A column from its codes and labels (distinct labels).
    pub fn from_parts(codes: Vec<u32>, labels: Vec<Option<String>>) -> LocalDim {
        let mut index = HashMap::new();
        let mut null_code = None;
        for (k, l) in labels.iter().enumerate() {
            match l {
                Some(s) => {
                    index.insert(s.clone(), k as u32);
                }
                None => null_code = Some(k as u32),
            }
        }
        LocalDim {
            codes,
            labels,
            index,
            null_code,
        }
    }

    /// An empty column with room for `n` codes.
    pub fn with_capacity(n: usize) -> LocalDim {
        LocalDim {
            codes: Vec::with_capacity(n),
            ..LocalDim::default()
        }
    }

    fn code_of(&mut self, v: Option<&str>) -> u32 {
        // Looked up by borrowed key: an owned String is made once per
        // distinct value, not once per row.
        let found = match v {
            None => self.null_code,
            Some(s) => self.index.get(s).copied(),
        };
        if let Some(c) = found {
            return c;
        }
        let c = self.labels.len() as u32;
        self.labels.push(v.map(str::to_owned));
        match v {
            None => self.null_code = Some(c),
            Some(s) => {
                self.index.insert(s.to_owned(), c);
            }
        }
        c
    }

    /// The given rows (increasing), with only the labels they use: a label
    /// no row uses is not data (see [`LocalDim::push`]).
    pub fn select(&self, rows: &[u32]) -> LocalDim {
        let mut out = LocalDim::with_capacity(rows.len());
        let mut recode = vec![u32::MAX; self.labels.len()];
        for &r in rows {
            let c = self.codes[r as usize] as usize;
            if recode[c] == u32::MAX {
                recode[c] = out.code_of(self.labels[c].as_deref());
            }
            out.codes.push(recode[c]);
        }
        out
    }

    /// Appends another column's codes, re-coded into this column's labels.
    pub fn append(&mut self, other: LocalDim) {
        let recode: Vec<u32> = other
            .labels
            .iter()
            .map(|l| self.code_of(l.as_deref()))
            .collect();
        self.codes
            .extend(other.codes.iter().map(|&c| recode[c as usize]));
    }

    /// Appends a batch of a text column.
    pub fn push(&mut self, a: &ArrayRef, column: &str) -> Result<()> {
        if let Some(d) = a.as_any_dictionary_opt() {
            // Map each dictionary value once, when a row first uses it, then
            // the keys. Values no row uses never become labels: a writer's
            // dictionary may hold values of other row groups, or a stray
            // "" under an all-null column, which are not data.
            let values = d.values();
            let mut value_codes: Vec<u32> = vec![u32::MAX; values.len()];
            let keys = d.normalized_keys();
            let nulls = a.logical_nulls();
            let null_code = nulls
                .as_ref()
                .filter(|n| n.null_count() > 0)
                .map(|_| self.code_of(None));
            for (i, k) in keys.into_iter().enumerate() {
                let c = match (&nulls, null_code) {
                    (Some(n), Some(nc)) if n.is_null(i) => nc,
                    _ => {
                        if value_codes[k] == u32::MAX {
                            value_codes[k] = self.code_of(str_at(values, k));
                        }
                        value_codes[k]
                    }
                };
                self.codes.push(c);
            }
            return Ok(());
        }
        // Plain strings: a small cache of the last value makes runs of equal
        // values (sorted or clustered files) cost one comparison each.
        let mut last: Option<(Option<&str>, u32)> = None;
        let n = a.len();
        match a.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {}
            t => {
                return Err(bad_input(format!(
                    "column '{column}' has type {t}, expected a string"
                )))
            }
        }
        for i in 0..n {
            let v = str_at(a, i);
            let c = match last {
                Some((lv, lc)) if lv == v => lc,
                _ => {
                    let c = self.code_of(v);
                    last = Some((v, c));
                    c
                }
            };
            self.codes.push(c);
        }
        Ok(())
    }
}

/// The string at row `i` of a Utf8 / LargeUtf8 / Utf8View array, or `None`.
fn str_at(a: &dyn Array, i: usize) -> Option<&str> {
    if a.is_null(i) {
        return None;
    }
    match a.data_type() {
        DataType::Utf8 => Some(a.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => Some(a.as_string::<i64>().value(i)),
        DataType::Utf8View => Some(a.as_string_view().value(i)),
        _ => None,
    }
}

/// Appends a money column as cents. `non_negative` rejects negative amounts;
/// nulls are rejected (callers of nullable money columns use another path).
pub fn push_money(
    a: &ArrayRef,
    out: &mut Vec<i64>,
    column: &str,
    base: usize,
    non_negative: bool,
) -> Result<u64> {
    require_no_nulls(a, column, base)?;
    push_money_values(a, out, column, base, non_negative, 0)
}

/// Appends a nullable money column as cents, a null reading as zero (for
/// amounts such as `recovered_to_date`, where null means "none yet").
pub fn push_money_or_zero(
    a: &ArrayRef,
    out: &mut Vec<i64>,
    column: &str,
    base: usize,
    non_negative: bool,
) -> Result<u64> {
    push_money_values(a, out, column, base, non_negative, 0)
}

/// Marks a null amount in a column read with [`push_money_or_null`]; no
/// real amount comes near it (amounts are capped at 10^17 cents).
pub const NULL_MONEY: i64 = i64::MIN;

/// Appends a nullable money column as cents, a null as [`NULL_MONEY`]
/// (for amounts where null means "unknown", such as `collateral_value`).
pub fn push_money_or_null(
    a: &ArrayRef,
    out: &mut Vec<i64>,
    column: &str,
    base: usize,
    non_negative: bool,
) -> Result<u64> {
    push_money_values(a, out, column, base, non_negative, NULL_MONEY)
}

fn push_money_values(
    a: &ArrayRef,
    out: &mut Vec<i64>,
    column: &str,
    base: usize,
    non_negative: bool,
    null_as: i64,
) -> Result<u64> {
    // The value slot under a null is unspecified: a null is written as `null_as`.
    // The null bitmap is taken once: `a.is_valid(i)` is a dynamic call per row.
    let nulls = a.logical_nulls().filter(|n| n.null_count() > 0);
    // The common case, cents as Decimal(p, 2) without nulls, in one tight
    // pass: the values are the cents. Anything out of range or negative
    // falls through to the checking loop below, which names the rows.
    if let (DataType::Decimal128(_, 2), None) = (a.data_type(), &nulls) {
        let v = a.as_primitive::<Decimal128Type>().values();
        let max = crate::money::MAX_ABS_CENTS as u128;
        if v.iter()
            .all(|&x| x.unsigned_abs() <= max && (!non_negative || x >= 0))
        {
            out.extend(v.iter().map(|&x| x as i64));
            return Ok(0);
        }
    }
    let valid = |i: usize| nulls.as_ref().is_none_or(|n| n.is_valid(i));
    let mut rounded = 0u64;
    let mut out_of_range = Offenders::default();
    let mut negative = Offenders::default();
    let mut put = |i: usize, c: Cents| {
        if !valid(i) {
            out.push(null_as);
            return;
        }
        let v = match c {
            Cents::Exact(v) => v,
            Cents::Rounded(v) => {
                rounded += 1;
                v
            }
            Cents::OutOfRange => {
                out_of_range.push(base + i);
                0
            }
        };
        if non_negative && v < 0 {
            negative.push(base + i);
        }
        out.push(v);
    };
    match a.data_type() {
        DataType::Float64 => {
            for (i, &x) in a.as_primitive::<Float64Type>().values().iter().enumerate() {
                put(i, money::from_f64(x));
            }
        }
        DataType::Decimal128(_, s) => {
            for (i, &x) in a
                .as_primitive::<Decimal128Type>()
                .values()
                .iter()
                .enumerate()
            {
                put(i, money::from_decimal(x, *s));
            }
        }
        DataType::Decimal256(_, s) => {
            for (i, x) in a
                .as_primitive::<Decimal256Type>()
                .values()
                .iter()
                .enumerate()
            {
                put(
                    i,
                    x.to_i128()
                        .map_or(Cents::OutOfRange, |x| money::from_decimal(x, *s)),
                );
            }
        }
        DataType::Decimal64(_, s) => {
            for (i, &x) in a
                .as_primitive::<Decimal64Type>()
                .values()
                .iter()
                .enumerate()
            {
                put(i, money::from_decimal(x as i128, *s));
            }
        }
        DataType::Decimal32(_, s) => {
            for (i, &x) in a
                .as_primitive::<Decimal32Type>()
                .values()
                .iter()
                .enumerate()
            {
                put(i, money::from_decimal(x as i128, *s));
            }
        }
        t => {
            return Err(bad_input(format!(
                "column '{column}' has type {t}, expected money"
            )))
        }
    }
    out_of_range.check(column, "not finite or above 10^15 in absolute value")?;
    negative.check(column, "negative")?;
    Ok(rounded)
}

/// Appends days past due as `i32`, rejecting negatives and overflow.
pub fn push_dpd(a: &ArrayRef, out: &mut Vec<i32>, column: &str, base: usize) -> Result<()> {
    require_no_nulls(a, column, base)?;
    let mut bad = Offenders::default();
    match a.data_type() {
        DataType::Int32 => {
            for (i, &d) in a.as_primitive::<Int32Type>().values().iter().enumerate() {
                if d < 0 {
                    bad.push(base + i);
                }
                out.push(d);
            }
        }
        DataType::Int64 => {
            for (i, &d) in a.as_primitive::<Int64Type>().values().iter().enumerate() {
                if !(0..=i32::MAX as i64).contains(&d) {
                    bad.push(base + i);
                }
                out.push(d.clamp(0, i32::MAX as i64) as i32);
            }
        }
        t => {
            return Err(bad_input(format!(
                "column '{column}' has type {t}, expected Int32 or Int64"
            )))
        }
    }
    bad.check(column, "negative or out of range")
}

/// Checks that an `as_of_date` column, where present, equals the partition's date.
pub fn check_as_of(a: &ArrayRef, days: i32, label: &str, column: &str, base: usize) -> Result<()> {
    let mut bad = Offenders::default();
    match a.data_type() {
        DataType::Date32 => {
            let p = a.as_primitive::<Date32Type>();
            for i in 0..p.len() {
                if p.is_null(i) || p.value(i) != days {
                    bad.push(base + i);
                }
            }
        }
        _ => {
            for i in 0..a.len() {
                if str_at(a.as_ref(), i) != Some(label) {
                    bad.push(base + i);
                }
            }
        }
    }
    bad.check(
        column,
        &format!("different from the partition date {label}"),
    )
}

/// Appends a non-null Date32 column as days since 1970-01-01, refusing
/// dates outside the accepted calendar ([`crate::calendar`]).
pub fn push_dates(a: &ArrayRef, out: &mut Vec<i32>, column: &str, base: usize) -> Result<()> {
    require_no_nulls(a, column, base)?;
    match a.data_type() {
        DataType::Date32 => {
            let values = a.as_primitive::<Date32Type>().values();
            out.extend_from_slice(values);
            check_calendar(values.iter().copied(), column, base)
        }
        t => Err(bad_input(format!(
            "column '{column}' has type {t}, expected Date32"
        ))),
    }
}

/// Rows of a date column outside the accepted calendar (nulls, as
/// [`NULL_DATE`], pass).
fn check_calendar(days: impl Iterator<Item = i32>, column: &str, base: usize) -> Result<()> {
    let mut bad = Offenders::default();
    for (i, d) in days.enumerate() {
        if d != NULL_DATE && !crate::base::calendar::accepts_days(d) {
            bad.push(base + i);
        }
    }
    bad.check(
        column,
        &format!("a date outside {}", crate::base::calendar::RANGE),
    )
}

/// A null date in a decoded column.
pub const NULL_DATE: i32 = i32::MIN;

/// Appends a nullable Date32 column as days since 1970-01-01, null as
/// [`NULL_DATE`], refusing dates outside the accepted calendar.
pub fn push_dates_or_null(
    a: &ArrayRef,
    out: &mut Vec<i32>,
    column: &str,
    base: usize,
) -> Result<()> {
    match a.data_type() {
        DataType::Date32 => {
            let d = a.as_primitive::<Date32Type>();
            let start = out.len();
            out.extend((0..d.len()).map(|i| if d.is_null(i) { NULL_DATE } else { d.value(i) }));
            check_calendar(out[start..].iter().copied(), column, base)
        }
        t => Err(bad_input(format!(
            "column '{column}' has type {t}, expected Date32"
        ))),
    }
}

/// Appends a nullable Boolean column: 0 false, 1 true, 2 null.
pub fn push_flags(a: &ArrayRef, out: &mut Vec<u8>, column: &str) -> Result<()> {
    match a.data_type() {
        DataType::Boolean => {
            let b = a.as_boolean();
            out.extend((0..b.len()).map(|i| if b.is_null(i) { 2 } else { b.value(i) as u8 }));
            Ok(())
        }
        t => Err(bad_input(format!(
            "column '{column}' has type {t}, expected Boolean"
        ))),
    }
}

/// Maps a decoded text column onto an enum: each distinct label is parsed
/// once, unknown labels are an error listing them and their rows.
pub fn map_enum<T: Copy>(
    dim: &LocalDim,
    column: &str,
    file_row: usize,
    accepted: &str,
    parse: impl Fn(Option<&str>) -> Option<T>,
) -> Result<Vec<T>> {
    let parsed: Vec<Option<T>> = dim.labels.iter().map(|l| parse(l.as_deref())).collect();
    let mapped = || {
        dim.codes
            .iter()
            .map(|&c| parsed[c as usize].expect("every label in use parses"))
            .collect()
    };
    if parsed.iter().all(Option::is_some) {
        return Ok(mapped());
    }
    // Some label does not parse: name the rows that use it. (A label no row
    // uses is no error, and must not lose the column: this once returned
    // an empty one, which panicked later.)
    let mut off = Offenders::default();
    let mut unknown = BTreeSet::new();
    for (i, &c) in dim.codes.iter().enumerate() {
        if parsed[c as usize].is_none() {
            off.push(file_row + i);
            unknown.insert(format!(
                "{:?}",
                dim.labels[c as usize].as_deref().unwrap_or("null")
            ));
        }
    }
    let values: Vec<String> = unknown.into_iter().take(5).collect();
    off.check(
        column,
        &format!(
            "an unknown value {} (accepted: {accepted})",
            values.join(", ")
        ),
    )?;
    Ok(mapped())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{DictionaryArray, Float64Array, Int64Array, StringArray};
    use arrow::datatypes::Int8Type;
    use std::sync::Arc;

    #[test]
    fn dims_from_plain_and_dictionary() {
        let mut d = LocalDim::default();
        let plain: ArrayRef = Arc::new(StringArray::from(vec![
            Some("a"),
            None,
            Some("b"),
            Some("a"),
        ]));
        d.push(&plain, "x").unwrap();
        let dict: DictionaryArray<Int8Type> =
            vec![Some("b"), None, Some("c")].into_iter().collect();
        let dict: ArrayRef = Arc::new(dict);
        d.push(&dict, "x").unwrap();
        let got: Vec<Option<&str>> = d
            .codes
            .iter()
            .map(|&c| d.labels[c as usize].as_deref())
            .collect();
        assert_eq!(
            got,
            vec![
                Some("a"),
                None,
                Some("b"),
                Some("a"),
                Some("b"),
                None,
                Some("c")
            ]
        );
    }

    #[test]
    fn unused_dictionary_values_are_not_labels() {
        // An all-null dictionary column whose dictionary still holds "".
        let keys = arrow::array::Int8Array::from(vec![None, None, None]);
        let values: ArrayRef = Arc::new(StringArray::from(vec![""]));
        let dict: ArrayRef = Arc::new(DictionaryArray::<Int8Type>::try_new(keys, values).unwrap());
        let mut d = LocalDim::default();
        d.push(&dict, "plan_status").unwrap();
        assert_eq!(d.labels, vec![None]);
        assert_eq!(d.codes, vec![0, 0, 0]);
    }

    #[test]
    fn an_unknown_label_no_row_uses_keeps_the_column() {
        let mut d = LocalDim::default();
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), None]));
        d.push(&a, "plan_status").unwrap();
        // Only the null is in use: "x" is a label of no row.
        d.codes = vec![1, 1, 1];
        let got = map_enum(&d, "plan_status", 0, "none", |s| s.is_none().then_some(7)).unwrap();
        assert_eq!(got, vec![7, 7, 7]);
        d.codes = vec![1, 0];
        let e = map_enum(&d, "plan_status", 10, "none", |s| s.is_none().then_some(7)).unwrap_err();
        assert!(e.to_string().contains("(row 11)"), "{e}");
    }

    #[test]
    fn money_checks() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![1.5, -2.0, 3.0]));
        let mut out = vec![];
        let e = push_money(&a, &mut out, "principal_balance", 10, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "column 'principal_balance': 1 row is negative (row 11)"
        );
        let a: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.5), None]));
        let e = push_money(&a, &mut out, "paid_amount", 0, true).unwrap_err();
        assert!(e.to_string().contains("1 row is null"), "{e}");
    }

    #[test]
    fn dpd_checks() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![0, 5, -1, 1 << 40]));
        let mut out = vec![];
        let e = push_dpd(&a, &mut out, "days_past_due", 0).unwrap_err();
        assert!(
            e.to_string()
                .contains("2 rows are negative or out of range (row 2, 3)"),
            "{e}"
        );
    }
}
