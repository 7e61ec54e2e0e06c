//! `Snapshot`: one business date's loan book as typed columns. Everything the
//! metrics need is here, decoded once: ids, dictionary codes for the
//! dimensions, enums for the states, money in minor units (cents).

use std::cmp::Ordering;
use std::path::PathBuf;

use chrono::NaiveDate;

use crate::base::hashing::hash_bytes;
use crate::states::{PlanStatus, Status};

/// Loan identifiers in the input's own type. Strings are stored as one byte
/// buffer plus offsets: ten million small `String`s would be ten million
/// allocations.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LoanIds {
    Int(Vec<i64>),
    Str { offsets: Vec<usize>, bytes: Vec<u8> },
}

impl LoanIds {
    pub fn empty_str() -> LoanIds {
        LoanIds::Str {
            offsets: vec![0],
            bytes: Vec::new(),
        }
    }
    /// Empty string ids with room for `n` offsets.
    pub fn str_with_capacity(n: usize) -> LoanIds {
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        LoanIds::Str {
            offsets,
            bytes: Vec::new(),
        }
    }
    /// Reserves id bytes for `total` ids, guessing each is as long as the
    /// average of the `sofar` ids already held (a no-op for integer ids).
    pub fn reserve_bytes_like_first(&mut self, sofar: usize, total: usize) {
        if let LoanIds::Str { bytes, .. } = self {
            if sofar > 0 && total > sofar {
                let want = bytes.len() / sofar * total + total / 16;
                bytes.reserve(want.saturating_sub(bytes.len()));
            }
        }
    }
    pub fn len(&self) -> usize {
        match self {
            LoanIds::Int(v) => v.len(),
            LoanIds::Str { offsets, .. } => offsets.len() - 1,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn is_int(&self) -> bool {
        matches!(self, LoanIds::Int(_))
    }
    pub fn type_name(&self) -> &'static str {
        if self.is_int() {
            "Int64"
        } else {
            "string"
        }
    }
    #[inline]
    pub fn str_bytes(&self, row: usize) -> &[u8] {
        match self {
            LoanIds::Str { offsets, bytes } => &bytes[offsets[row]..offsets[row + 1]],
            LoanIds::Int(_) => &[],
        }
    }
    /// The id as text, for error messages and reports.
    pub fn display(&self, row: usize) -> String {
        match self {
            LoanIds::Int(v) => v[row].to_string(),
            LoanIds::Str { .. } => String::from_utf8_lossy(self.str_bytes(row)).into_owned(),
        }
    }
    /// A 64-bit sort key: order-preserving for integers, a hash for strings
    /// (ties between different strings are broken by [`LoanIds::cmp_rows`]).
    #[inline]
    pub fn key(&self, row: usize) -> u64 {
        match self {
            LoanIds::Int(v) => (v[row] as u64) ^ (1 << 63),
            LoanIds::Str { .. } => hash_bytes(self.str_bytes(row)),
        }
    }
    /// Total order on (key, id) across two id columns of the same type.
    #[inline]
    pub fn cmp_rows(&self, a: usize, other: &LoanIds, b: usize) -> Ordering {
        match (self, other) {
            (LoanIds::Int(x), LoanIds::Int(y)) => x[a].cmp(&y[b]),
            _ => self
                .key(a)
                .cmp(&other.key(b))
                .then_with(|| self.str_bytes(a).cmp(other.str_bytes(b))),
        }
    }
    /// The ids of the given rows, in that order.
    pub fn take(&self, rows: impl Iterator<Item = usize>) -> LoanIds {
        match self {
            LoanIds::Int(v) => LoanIds::Int(rows.map(|r| v[r]).collect()),
            LoanIds::Str { .. } => {
                let mut offsets = vec![0];
                let mut bytes = Vec::new();
                for r in rows {
                    bytes.extend_from_slice(self.str_bytes(r));
                    offsets.push(bytes.len());
                }
                LoanIds::Str { offsets, bytes }
            }
        }
    }
    /// Natural order of two ids (integers by value, strings by bytes), as
    /// opposed to [`LoanIds::cmp_rows`]'s key order.
    #[inline]
    pub fn cmp_natural(&self, a: usize, other: &LoanIds, b: usize) -> Ordering {
        match (self, other) {
            (LoanIds::Int(x), LoanIds::Int(y)) => x[a].cmp(&y[b]),
            _ => self.str_bytes(a).cmp(other.str_bytes(b)),
        }
    }
    /// String id columns joined in order, the bytes and offsets reserved
    /// once; each piece is dropped as soon as it is copied.
    pub fn concat(pieces: impl Iterator<Item = LoanIds>) -> LoanIds {
        let pieces: Vec<LoanIds> = pieces.collect();
        let (mut n, mut len) = (0, 0);
        for p in &pieces {
            if let LoanIds::Str { offsets, bytes } = p {
                n += offsets.len() - 1;
                len += bytes.len();
            }
        }
        let mut out = LoanIds::str_with_capacity(n);
        if let LoanIds::Str { bytes, .. } = &mut out {
            bytes.reserve_exact(len);
        }
        for p in pieces {
            out.extend(p);
        }
        out
    }
    /// Appends another id column of the same type.
    pub fn extend(&mut self, other: LoanIds) {
        match (self, other) {
            (LoanIds::Int(a), LoanIds::Int(b)) => a.extend(b),
            (
                LoanIds::Str { offsets, bytes },
                LoanIds::Str {
                    offsets: o2,
                    bytes: b2,
                },
            ) => {
                let base = bytes.len();
                bytes.extend_from_slice(&b2);
                offsets.extend(o2[1..].iter().map(|o| o + base));
            }
            _ => unreachable!("id columns of one snapshot share a type (checked per file)"),
        }
    }
}

/// A set of loan ids, to keep only the rows of given loans while reading.
#[derive(Clone, Debug)]
pub struct IdSet {
    ids: LoanIds,
    /// Key -> rows of `ids` with that key.
    by_key: std::collections::HashMap<u64, Vec<usize>>,
}

impl IdSet {
    /// The ids of the given rows of `ids`.
    pub fn of(ids: &LoanIds, rows: &[usize]) -> IdSet {
        let ids = ids.take(rows.iter().copied());
        let mut by_key: std::collections::HashMap<u64, Vec<usize>> = Default::default();
        for r in 0..ids.len() {
            by_key.entry(ids.key(r)).or_default().push(r);
        }
        IdSet { ids, by_key }
    }
    /// Whether row `r` of `other` is one of the set's ids.
    pub fn contains(&self, other: &LoanIds, r: usize) -> bool {
        self.by_key.get(&other.key(r)).is_some_and(|rows| {
            rows.iter()
                .any(|&k| self.ids.cmp_natural(k, other, r).is_eq())
        })
    }
}

/// A text dimension (product, region, grade) as codes into sorted labels.
/// A null value is the label `None`, which sorts first; it is kept, never
/// dropped (data-contract.md: "absent dimension values are kept as null").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dim {
    pub codes: Vec<u32>,
    pub labels: Vec<Option<String>>,
}

impl Dim {
    pub fn cardinality(&self) -> usize {
        self.labels.len()
    }
}

/// Where a run of rows came from, to name file and row in error messages.
#[derive(Clone, Debug)]
pub struct Origin {
    /// First snapshot row of the run.
    pub first_row: usize,
    pub file: usize,
    /// Row number in the file of `first_row`.
    pub file_row: usize,
}

/// One loans partition, decoded.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub date: NaiveDate,
    pub files: Vec<PathBuf>,
    /// Rows per file, in `files` order.
    pub file_rows: Vec<usize>,
    pub origins: Vec<Origin>,
    pub ids: LoanIds,
    pub product: Dim,
    pub region: Dim,
    pub grade: Dim,
    pub status: Vec<Status>,
    pub plan: Vec<PlanStatus>,
    pub dpd: Vec<i32>,
    /// `principal_balance` in cents.
    pub balance: Vec<i64>,
    /// `past_due_amount` in cents.
    pub past_due: Vec<i64>,
    /// Cash received on the business date (`paid_amount`), cents.
    pub paid: Vec<i64>,
    /// Cumulative recoveries since charge-off (`recovered_to_date`), cents; null reads as 0.
    pub recovered: Vec<i64>,
    /// `origination_date`, days since 1970-01-01.
    pub origination: Vec<i32>,
    /// `collateral_value`, cents; null as [`NULL_MONEY`](crate::input::columns::NULL_MONEY).
    pub collateral: Vec<i64>,
    /// `senior_lien_balance`, cents; null as `NULL_MONEY`.
    pub senior_lien: Vec<i64>,
    /// `legal_stage` (null kept as a null label).
    pub legal: Dim,
    /// `contactable`: 0 false, 1 true, 2 null.
    pub contactable: Vec<u8>,
    /// `original_principal`, cents. This and `charge_off_date` are decoded
    /// for the run date only (`reader::Extent`): empty in a comparison
    /// snapshot.
    pub original: Vec<i64>,
    /// `charge_off_date`, days; null as [`NULL_DATE`](crate::input::columns::NULL_DATE).
    pub charge_off_date: Vec<i32>,
    /// `charge_off_amount`, cents; null reads as 0.
    pub charge_off_amount: Vec<i64>,
    /// Money values that had more than two decimals and were rounded to the cent.
    pub rounded_money_values: u64,
    /// Which optional columns the book did not give.
    pub columns: OptionalColumns,
}

/// Optional contract columns that a snapshot lacks (data-contract.md v2):
/// both read as null for every loan and give the same figures; the manifest
/// and the report's data quality name them, and a report section that
/// depends only on such a column says it is not available.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OptionalColumns {
    /// Absent from the partition's files.
    #[serde(deserialize_with = "crate::base::names::many")]
    pub absent: Vec<&'static str>,
    /// Present, but null in every row (of the columns decoded).
    #[serde(deserialize_with = "crate::base::names::many")]
    pub all_null: Vec<&'static str>,
}

impl Snapshot {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// File and row-in-file of a snapshot row.
    pub fn locate(&self, row: usize) -> (&PathBuf, usize) {
        let i = self.origins.partition_point(|o| o.first_row <= row) - 1;
        let o = &self.origins[i];
        (&self.files[o.file], o.file_row + (row - o.first_row))
    }

    /// A row's position in the whole snapshot as the files list it (files
    /// in order, rows in file order): the order of the loan-level outputs,
    /// whatever partition the row was read in.
    pub fn input_row(&self, row: usize) -> u64 {
        let i = self.origins.partition_point(|o| o.first_row <= row) - 1;
        let o = &self.origins[i];
        let before: usize = self.file_rows[..o.file].iter().sum();
        (before + o.file_row + (row - o.first_row)) as u64
    }

    /// [`Snapshot::input_row`] of every row, in one pass over the origins.
    pub fn input_rows(&self) -> Vec<u64> {
        let mut starts = Vec::with_capacity(self.file_rows.len());
        let mut at = 0u64;
        for &n in &self.file_rows {
            starts.push(at);
            at += n as u64;
        }
        let mut out = Vec::with_capacity(self.len());
        for (i, o) in self.origins.iter().enumerate() {
            let end = self
                .origins
                .get(i + 1)
                .map_or(self.len(), |next| next.first_row);
            let first = starts[o.file] + o.file_row as u64;
            out.extend((0..(end - o.first_row) as u64).map(|k| first + k));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_keys_preserve_order() {
        let ids = LoanIds::Int(vec![-5, 0, 7, i64::MIN, i64::MAX]);
        let mut rows: Vec<usize> = (0..5).collect();
        rows.sort_by_key(|&r| ids.key(r));
        assert_eq!(rows, vec![3, 0, 1, 2, 4]);
    }

    #[test]
    fn string_ids_extend_and_compare() {
        let mut a = LoanIds::Str {
            offsets: vec![0, 2, 5],
            bytes: b"L1L22".to_vec(),
        };
        a.extend(LoanIds::Str {
            offsets: vec![0, 3],
            bytes: b"L33".to_vec(),
        });
        assert_eq!(a.len(), 3);
        assert_eq!(a.display(2), "L33");
        assert_eq!(a.cmp_rows(1, &a, 1), Ordering::Equal);
        assert_ne!(a.cmp_rows(0, &a, 1), Ordering::Equal);
        assert_ne!(hash_bytes(b"abc"), hash_bytes(b"abd"));
        assert_ne!(hash_bytes(b""), hash_bytes(b"\0"));
    }
}
