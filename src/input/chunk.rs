//! One row group decoded into a [`Chunk`] of typed columns (money as
//! cents, dates as days, texts as local dictionaries), and chunks
//! assembled, in input order, into a [`Snapshot`]. The reader
//! (`input::reader`) decides which row groups to decode and hands each one
//! here with its own record batch reader.

use std::collections::BTreeSet;
use std::sync::Arc;

use anyhow::Result;

use arrow::array::{new_null_array, Array, ArrayRef};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReader;
use rayon::prelude::*;

use crate::error::bad_input;
use crate::input::columns::{self, LocalDim};
use crate::input::discovery::Partition;
use crate::input::schema::{self, AS_OF_DATE, LOANS};
use crate::input::snapshot::{Dim, LoanIds, OptionalColumns, Origin, Snapshot};
use crate::states::{PlanStatus, Status};

/// The loans columns the core figures decode; the rest are only type-checked.
pub(crate) const DECODED: &[&str] = &[
    "loan_id",
    "product",
    "region",
    "credit_grade",
    "principal_balance",
    "past_due_amount",
    "paid_amount",
    "recovered_to_date",
    "charge_off_amount",
    "origination_date",
    "collateral_value",
    "senior_lien_balance",
    "legal_stage",
    "contactable",
    "days_past_due",
    "status",
    "plan_status",
];

/// Columns only the run date's own figures use (charge-off cohorts and
/// vintages): not decoded for the comparison snapshots. (`charge_off_amount`
/// is decoded for every date: an earlier date's tiers route its charged-off
/// second liens on what is left of it.)
pub(crate) const RUN_DATE_ONLY: &[&str] = &["original_principal", "charge_off_date"];

/// How much of a snapshot to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extent {
    /// Everything the run date's figures need.
    RunDate,
    /// What a comparison snapshot (`prev`, `1m`) needs: the
    /// [`RUN_DATE_ONLY`] columns are left empty.
    Comparison,
}

/// The policy's `[input.columns]`: contract name -> the lender's name.
pub type ColumnMap = std::collections::BTreeMap<String, String>;

/// A field name as the contract knows it. A column mapped onto a contract
/// name takes that name; a column that already carries a mapped contract
/// name, but is not the mapped one, is set aside so it cannot shadow it.
pub(crate) fn contract_name(name: &str, map: &ColumnMap) -> String {
    if let Some((contract, _)) = map.iter().find(|(_, theirs)| *theirs == name) {
        return contract.clone();
    }
    if map.contains_key(name) {
        return format!("{name} (unmapped)");
    }
    name.to_string()
}

/// A schema with the lender's column names replaced by contract names.
pub(crate) fn renamed(schema: &Schema, map: &ColumnMap) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_name(contract_name(f.name(), map)))
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// A decoded row group (or the rows of one that fall in a partition).
pub(crate) struct Chunk {
    pub(crate) file: usize,
    /// Runs of consecutive file rows: (first chunk row, its file row).
    pub(crate) runs: Vec<(usize, usize)>,
    pub(crate) ids: LoanIds,
    pub(crate) product: LocalDim,
    pub(crate) region: LocalDim,
    pub(crate) grade: LocalDim,
    pub(crate) status: Vec<Status>,
    pub(crate) plan: Vec<PlanStatus>,
    pub(crate) dpd: Vec<i32>,
    pub(crate) balance: Vec<i64>,
    pub(crate) past_due: Vec<i64>,
    pub(crate) paid: Vec<i64>,
    pub(crate) recovered: Vec<i64>,
    pub(crate) origination: Vec<i32>,
    pub(crate) collateral: Vec<i64>,
    pub(crate) senior_lien: Vec<i64>,
    pub(crate) legal: LocalDim,
    pub(crate) contactable: Vec<u8>,
    pub(crate) original: Vec<i64>,
    pub(crate) charge_off_date: Vec<i32>,
    pub(crate) charge_off_amount: Vec<i64>,
    pub(crate) rounded: u64,
    /// Optional columns with a non-null value in this row group, one bit
    /// per position in [`LOANS`].
    pub(crate) filled: u32,
}

/// A column of a decoded batch under its contract name. An optional column
/// that the file leaves out, or stores with Arrow's `Null` type, is an
/// all-null column of the contract's plain type for it: every decoding
/// function then sees the same thing whether the book has no such column or
/// a column of nulls, so both give the same figures.
pub(crate) fn column(batch: &RecordBatch, name: &str) -> ArrayRef {
    match batch.column_by_name(name) {
        Some(a) if a.data_type() != &DataType::Null => a.clone(),
        _ => {
            let spec = schema::spec(LOANS, name).expect("a contract column");
            debug_assert!(spec.optional, "required columns are checked present");
            new_null_array(&spec.accepts.null_type(), batch.num_rows())
        }
    }
}

/// Optional columns decoded for `extent`, and their bits in
/// [`Chunk::filled`] (the column's position in [`LOANS`]).
pub(crate) fn optional_decoded(extent: Extent) -> impl Iterator<Item = (usize, &'static str)> {
    LOANS.iter().enumerate().filter_map(move |(k, c)| {
        let decoded = DECODED.contains(&c.name)
            || (extent == Extent::RunDate && RUN_DATE_ONLY.contains(&c.name));
        (c.optional && decoded).then_some((k, c.name))
    })
}

impl Chunk {
    /// The given rows (increasing) of a chunk, as a chunk.
    pub(crate) fn select(&self, rows: &[u32]) -> Chunk {
        fn pick<T: Copy>(v: &[T], rows: &[u32]) -> Vec<T> {
            if v.is_empty() {
                return Vec::new();
            }
            rows.iter().map(|&r| v[r as usize]).collect()
        }
        // Runs of consecutive rows keep file rows exact for error messages.
        let file_row = |r: usize| {
            let i = self.runs.partition_point(|&(at, _)| at <= r) - 1;
            self.runs[i].1 + (r - self.runs[i].0)
        };
        let mut runs = Vec::new();
        for (k, &r) in rows.iter().enumerate() {
            if k == 0 || rows[k - 1] + 1 != r {
                runs.push((k, file_row(r as usize)));
            }
        }
        Chunk {
            file: self.file,
            runs,
            ids: self.ids.take(rows.iter().map(|&r| r as usize)),
            product: self.product.select(rows),
            region: self.region.select(rows),
            grade: self.grade.select(rows),
            status: pick(&self.status, rows),
            plan: pick(&self.plan, rows),
            dpd: pick(&self.dpd, rows),
            balance: pick(&self.balance, rows),
            past_due: pick(&self.past_due, rows),
            paid: pick(&self.paid, rows),
            recovered: pick(&self.recovered, rows),
            origination: pick(&self.origination, rows),
            collateral: pick(&self.collateral, rows),
            senior_lien: pick(&self.senior_lien, rows),
            legal: self.legal.select(rows),
            contactable: pick(&self.contactable, rows),
            original: pick(&self.original, rows),
            charge_off_date: pick(&self.charge_off_date, rows),
            charge_off_amount: pick(&self.charge_off_amount, rows),
            rounded: 0,
            filled: 0,
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn decode(
    reader: ParquetRecordBatchReader,
    n: usize,
    fi: usize,
    rg: usize,
    file_row: usize,
    int_ids: bool,
    days: i32,
    label: &str,
    map: &ColumnMap,
    extent: Extent,
) -> Result<Chunk> {
    // Every column is sized for the whole row group up front: growing them
    // batch by batch copied each one several times and made the kernel
    // zero fresh pages for every copy (BENCHMARKS.md, issue 6).
    let run_n = if extent == Extent::RunDate { n } else { 0 };
    let mut c = Chunk {
        file: fi,
        runs: vec![(0, file_row)],
        ids: if int_ids {
            LoanIds::Int(Vec::with_capacity(n))
        } else {
            LoanIds::str_with_capacity(n)
        },
        product: LocalDim::with_capacity(n),
        region: LocalDim::with_capacity(n),
        grade: LocalDim::with_capacity(n),
        status: Vec::new(),
        plan: Vec::new(),
        dpd: Vec::with_capacity(n),
        balance: Vec::with_capacity(n),
        past_due: Vec::with_capacity(n),
        paid: Vec::with_capacity(n),
        recovered: Vec::with_capacity(n),
        origination: Vec::with_capacity(n),
        collateral: Vec::with_capacity(n),
        senior_lien: Vec::with_capacity(n),
        legal: LocalDim::with_capacity(n),
        contactable: Vec::with_capacity(n),
        original: Vec::with_capacity(run_n),
        charge_off_date: Vec::with_capacity(run_n),
        charge_off_amount: Vec::with_capacity(n),
        rounded: 0,
        filled: 0,
    };
    let mut status_dim = LocalDim::with_capacity(n);
    let mut plan_dim = LocalDim::with_capacity(n);
    let mut base = file_row;
    for batch in reader {
        let batch =
            batch.map_err(|e| bad_input(format!("row group {rg} cannot be decoded: {e}")))?;
        // Contract names for the lender's columns: only the schema changes.
        let batch = if map.is_empty() {
            batch
        } else {
            RecordBatch::try_new(
                Arc::new(renamed(&batch.schema(), map)),
                batch.columns().to_vec(),
            )
            .map_err(|e| bad_input(format!("row group {rg}: {e}")))?
        };
        for (k, name) in optional_decoded(extent) {
            if let Some(a) = batch.column_by_name(name) {
                if a.logical_null_count() < a.len() {
                    c.filled |= 1 << k;
                }
            }
        }
        // Absent optional columns come as columns of nulls ([`column`]).
        let col = |name: &str| column(&batch, name);
        columns::push_ids(&col("loan_id"), &mut c.ids, "loan_id", base)?;
        if base == file_row {
            // Id bytes: the first batch's average length, for the rest.
            c.ids.reserve_bytes_like_first(batch.num_rows(), n);
        }
        columns::require_no_nulls(&col("product"), "product", base)?;
        c.product.push(&col("product"), "product")?;
        c.region.push(&col("region"), "region")?;
        c.grade.push(&col("credit_grade"), "credit_grade")?;
        c.rounded += columns::push_money(
            &col("principal_balance"),
            &mut c.balance,
            "principal_balance",
            base,
            true,
        )?;
        c.rounded += columns::push_money(
            &col("past_due_amount"),
            &mut c.past_due,
            "past_due_amount",
            base,
            true,
        )?;
        c.rounded +=
            columns::push_money(&col("paid_amount"), &mut c.paid, "paid_amount", base, true)?;
        c.rounded += columns::push_money_or_zero(
            &col("recovered_to_date"),
            &mut c.recovered,
            "recovered_to_date",
            base,
            true,
        )?;
        columns::push_dates(
            &col("origination_date"),
            &mut c.origination,
            "origination_date",
            base,
        )?;
        c.rounded += columns::push_money_or_null(
            &col("collateral_value"),
            &mut c.collateral,
            "collateral_value",
            base,
            true,
        )?;
        c.rounded += columns::push_money_or_null(
            &col("senior_lien_balance"),
            &mut c.senior_lien,
            "senior_lien_balance",
            base,
            true,
        )?;
        c.legal.push(&col("legal_stage"), "legal_stage")?;
        columns::push_flags(&col("contactable"), &mut c.contactable, "contactable")?;
        columns::push_dpd(&col("days_past_due"), &mut c.dpd, "days_past_due", base)?;
        if extent == Extent::RunDate {
            c.rounded += columns::push_money(
                &col("original_principal"),
                &mut c.original,
                "original_principal",
                base,
                true,
            )?;
            columns::push_dates_or_null(
                &col("charge_off_date"),
                &mut c.charge_off_date,
                "charge_off_date",
                base,
            )?;
        }
        c.rounded += columns::push_money_or_zero(
            &col("charge_off_amount"),
            &mut c.charge_off_amount,
            "charge_off_amount",
            base,
            true,
        )?;
        columns::require_no_nulls(&col("status"), "status", base)?;
        status_dim.push(&col("status"), "status")?;
        plan_dim.push(&col("plan_status"), "plan_status")?;
        check_partition_date(&batch, days, label, base)?;
        base += batch.num_rows();
    }
    c.status = columns::map_enum(&status_dim, "status", file_row, Status::ACCEPTED, |s| {
        s.and_then(Status::parse)
    })?;
    c.plan = columns::map_enum(
        &plan_dim,
        "plan_status",
        file_row,
        PlanStatus::ACCEPTED,
        |s| match s {
            None => Some(PlanStatus::None),
            Some(s) => PlanStatus::parse(s),
        },
    )?;
    Ok(c)
}

fn check_partition_date(batch: &RecordBatch, days: i32, label: &str, base: usize) -> Result<()> {
    match batch.column_by_name(AS_OF_DATE) {
        Some(a) => columns::check_as_of(a, days, label, AS_OF_DATE, base),
        None => Ok(()),
    }
}

/// Concatenates chunks and turns chunk-local dictionary codes into global
/// codes over sorted labels, so codes do not depend on how rows were split.
/// Every column is copied in parallel, chunk by chunk, into its place: a
/// serial concatenation was a third of the read time at 10M loans.
pub(crate) fn assemble(
    part: &Partition,
    mut chunks: Vec<Chunk>,
    file_rows: Vec<usize>,
    int_ids: bool,
    total: usize,
) -> Snapshot {
    let global = |pick: fn(&Chunk) -> &LocalDim| -> (Vec<Option<String>>, Vec<Vec<u32>>) {
        let mut labels: Vec<Option<String>> = chunks
            .iter()
            .flat_map(|c| pick(c).labels.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        labels.dedup();
        let remaps = chunks
            .iter()
            .map(|c| {
                pick(c)
                    .labels
                    .iter()
                    .map(|l| labels.binary_search(l).expect("label collected") as u32)
                    .collect()
            })
            .collect();
        (labels, remaps)
    };
    let (product_labels, product_maps) = global(|c| &c.product);
    let (region_labels, region_maps) = global(|c| &c.region);
    let (grade_labels, grade_maps) = global(|c| &c.grade);
    let (legal_labels, legal_maps) = global(|c| &c.legal);
    let origins = {
        let mut first_row = 0;
        let mut out = Vec::with_capacity(chunks.len());
        for c in &chunks {
            out.extend(c.runs.iter().map(|&(at, file_row)| Origin {
                first_row: first_row + at,
                file: c.file,
                file_row,
            }));
            first_row += c.dpd.len();
        }
        out
    };
    let rounded_money_values = chunks.iter().map(|c| c.rounded).sum();
    // Each column is moved out of the pieces as it is concatenated (fields
    // below are built in order), so that pieces and snapshot are never both
    // whole in memory. (Peak RSS hardly moved, as mimalloc keeps freed
    // memory mapped for a second before returning it; live memory did:
    // BENCHMARKS.md.)
    let codes = |chunks: &mut [Chunk], pick: fn(&mut Chunk) -> &mut LocalDim, maps: &[Vec<u32>]| {
        let pieces = take(chunks, |c| &mut pick(c).codes);
        concat_map(&pieces, |k, &x| maps[k][x as usize], total)
    };
    let ids = if int_ids {
        let pieces: Vec<Vec<i64>> = chunks
            .iter_mut()
            .map(
                |c| match std::mem::replace(&mut c.ids, LoanIds::Int(Vec::new())) {
                    LoanIds::Int(v) => v,
                    LoanIds::Str { .. } => unreachable!("one id type per partition (checked)"),
                },
            )
            .collect();
        LoanIds::Int(concat(&pieces))
    } else {
        LoanIds::concat(
            chunks
                .iter_mut()
                .map(|c| std::mem::replace(&mut c.ids, LoanIds::empty_str())),
        )
    };
    Snapshot {
        date: part.date,
        files: part.files.clone(),
        file_rows,
        origins,
        ids,
        product: Dim {
            codes: codes(&mut chunks, |c| &mut c.product, &product_maps),
            labels: product_labels,
        },
        region: Dim {
            codes: codes(&mut chunks, |c| &mut c.region, &region_maps),
            labels: region_labels,
        },
        grade: Dim {
            codes: codes(&mut chunks, |c| &mut c.grade, &grade_maps),
            labels: grade_labels,
        },
        status: concat(&take(&mut chunks, |c| &mut c.status)),
        plan: concat(&take(&mut chunks, |c| &mut c.plan)),
        dpd: concat(&take(&mut chunks, |c| &mut c.dpd)),
        balance: concat(&take(&mut chunks, |c| &mut c.balance)),
        past_due: concat(&take(&mut chunks, |c| &mut c.past_due)),
        paid: concat(&take(&mut chunks, |c| &mut c.paid)),
        recovered: concat(&take(&mut chunks, |c| &mut c.recovered)),
        origination: concat(&take(&mut chunks, |c| &mut c.origination)),
        collateral: concat(&take(&mut chunks, |c| &mut c.collateral)),
        senior_lien: concat(&take(&mut chunks, |c| &mut c.senior_lien)),
        legal: Dim {
            codes: codes(&mut chunks, |c| &mut c.legal, &legal_maps),
            labels: legal_labels,
        },
        contactable: concat(&take(&mut chunks, |c| &mut c.contactable)),
        original: concat(&take(&mut chunks, |c| &mut c.original)),
        charge_off_date: concat(&take(&mut chunks, |c| &mut c.charge_off_date)),
        charge_off_amount: concat(&take(&mut chunks, |c| &mut c.charge_off_amount)),
        rounded_money_values,
        columns: OptionalColumns::default(),
    }
}

/// One column moved out of every chunk, in chunk order (each chunk keeps an
/// empty column).
fn take<T>(chunks: &mut [Chunk], pick: impl Fn(&mut Chunk) -> &mut Vec<T>) -> Vec<Vec<T>> {
    chunks.iter_mut().map(|c| std::mem::take(pick(c))).collect()
}

/// A column's pieces, concatenated (copied in parallel).
fn concat<T: Copy + Send + Sync>(pieces: &[Vec<T>]) -> Vec<T> {
    let total = pieces.iter().map(Vec::len).sum();
    concat_map(pieces, |_, &x| x, total)
}

/// A column's pieces, each value mapped with its piece's index, written
/// into place in parallel.
fn concat_map<S: Sync, T: Copy + Send + Sync>(
    pieces: &[Vec<S>],
    map: impl Fn(usize, &S) -> T + Sync,
    total: usize,
) -> Vec<T> {
    let Some(first) = pieces
        .iter()
        .enumerate()
        .find_map(|(k, p)| p.first().map(|x| map(k, x)))
    else {
        return Vec::new();
    };
    let mut out = vec![first; total];
    let mut rest = &mut out[..];
    let mut parts = Vec::with_capacity(pieces.len());
    for (k, p) in pieces.iter().enumerate() {
        let (dst, tail) = rest.split_at_mut(p.len());
        parts.push((k, dst));
        rest = tail;
    }
    parts.into_par_iter().for_each(|(k, dst)| {
        for (d, s) in dst.iter_mut().zip(&pieces[k]) {
            *d = map(k, s);
        }
    });
    out
}
