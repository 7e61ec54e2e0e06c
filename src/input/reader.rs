//! Reads one loans partition into a [`Snapshot`].
//!
//! Every file's footer is read first and its schema checked against the
//! contract (and against the partition's other files) before any page is
//! decoded. Then each row group is one rayon task: it opens its own reader
//! over the shared footer metadata, decodes only the projected columns and
//! returns a [`Chunk`]. Chunks are concatenated in (file, row group) order,
//! so the snapshot is the same whatever the thread count.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};
use std::sync::Arc;

use arrow::array::{new_null_array, Array, ArrayRef};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use rayon::prelude::*;

use crate::error::{bad_input, first_error};
use crate::input::columns::{self, LocalDim};
use crate::input::discovery::Partition;
use crate::input::guard;
use crate::input::partitions::{self, GroupStats, IdBound, IdRange};
use crate::input::schema::{self, AS_OF_DATE, LOANS};
use crate::input::snapshot::{Dim, IdSet, LoanIds, OptionalColumns, Origin, Snapshot};
use crate::states::{PlanStatus, Status};

/// The loans columns the core figures decode; the rest are only type-checked.
const DECODED: &[&str] = &[
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
const RUN_DATE_ONLY: &[&str] = &["original_principal", "charge_off_date"];

/// How much of a snapshot to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extent {
    /// Everything the run date's figures need.
    RunDate,
    /// What a comparison snapshot (`prev`, `1m`) needs: the
    /// [`RUN_DATE_ONLY`] columns are left empty.
    Comparison,
}

/// Rows per decoded batch: large enough to amortise per-batch overhead,
/// small enough to stay in cache-friendly, bounded memory per task.
const BATCH_ROWS: usize = 64 * 1024;

struct OpenFile {
    path: std::path::PathBuf,
    meta: ArrowReaderMetadata,
    /// The file's schema under contract names (after `[input.columns]`).
    schema: Schema,
    mask: ProjectionMask,
}

/// The policy's `[input.columns]`: contract name -> the lender's name.
pub type ColumnMap = std::collections::BTreeMap<String, String>;

/// A field name as the contract knows it. A column mapped onto a contract
/// name takes that name; a column that already carries a mapped contract
/// name, but is not the mapped one, is set aside so it cannot shadow it.
fn contract_name(name: &str, map: &ColumnMap) -> String {
    if let Some((contract, _)) = map.iter().find(|(_, theirs)| *theirs == name) {
        return contract.clone();
    }
    if map.contains_key(name) {
        return format!("{name} (unmapped)");
    }
    name.to_string()
}

/// A schema with the lender's column names replaced by contract names.
fn renamed(schema: &Schema, map: &ColumnMap) -> Schema {
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

fn open(path: &Path, map: &ColumnMap, decoded: &[&str]) -> Result<OpenFile> {
    let file = guard::StrictFile::open(path)?;
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| bad_input(format!("not a readable Parquet file: {e}")))?;
    let problems = schema::check(&renamed(meta.schema(), map), LOANS);
    if !problems.is_empty() {
        let mapping = if map.is_empty() {
            String::new()
        } else {
            let pairs: Vec<String> = map.iter().map(|(c, t)| format!("{c} = {t:?}")).collect();
            format!(" (with the policy's column mapping {})", pairs.join(", "))
        };
        return Err(bad_input(format!(
            "does not follow the loans contract{mapping}:\n  - {}",
            problems.join("\n  - ")
        )));
    }
    let meta = with_dictionary_hints(meta, map)?;
    let contract_schema = renamed(meta.schema(), map);
    let fields = contract_schema.fields();
    // Optional columns the book leaves out are simply not projected: they
    // read as null ([`column`]).
    let mut roots: Vec<usize> = decoded
        .iter()
        .filter_map(|c| fields.iter().position(|f| f.name() == c))
        .collect();
    if let Some(i) = fields.iter().position(|f| f.name() == AS_OF_DATE) {
        roots.push(i);
    }
    let mask = ProjectionMask::roots(meta.parquet_schema(), roots);
    Ok(OpenFile {
        path: path.to_path_buf(),
        meta,
        schema: contract_schema,
        mask,
    })
}

/// Text dimensions are read as Arrow dictionaries: Parquet stores them
/// dictionary-encoded, and asking for a dictionary keeps that encoding
/// instead of materialising one string per row. Each distinct value is then
/// mapped once per batch, not once per row.
fn with_dictionary_hints(
    meta: ArrowReaderMetadata,
    map: &ColumnMap,
) -> Result<ArrowReaderMetadata> {
    let schema = meta.schema();
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let dim = DIMENSIONS.contains(&contract_name(f.name(), map).as_str());
            match f.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 if dim => Field::new(
                    f.name(),
                    DataType::Dictionary(
                        Box::new(DataType::Int32),
                        Box::new(f.data_type().clone()),
                    ),
                    f.is_nullable(),
                )
                .with_metadata(f.metadata().clone()),
                _ => f.as_ref().clone(),
            }
        })
        .collect();
    let hint = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    ArrowReaderMetadata::try_new(
        meta.metadata().clone(),
        ArrowReaderOptions::new().with_schema(hint),
    )
    .map_err(|e| bad_input(format!("cannot read text columns as dictionaries: {e}")))
}

/// Low-cardinality text columns decoded through dictionaries.
const DIMENSIONS: &[&str] = &[
    "product",
    "region",
    "credit_grade",
    "status",
    "plan_status",
    "legal_stage",
];

/// A reader of one row group's projected columns: what every decoding
/// task (and the decode floor) runs, so both read with the same settings.
fn row_group_reader(f: &OpenFile, rg: usize) -> Result<ParquetRecordBatchReader> {
    // A fresh handle per task: cloned handles share one file offset, and
    // the Parquet reader seeks, so tasks on one file would race.
    let file = guard::StrictFile::open(&f.path)?;
    ParquetRecordBatchReaderBuilder::new_with_metadata(file, f.meta.clone())
        .with_projection(f.mask.clone())
        .with_row_groups(vec![rg])
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| bad_input(format!("row group {rg}: {e}")))
}

/// Opens every file of a partition (footers and schema checks in
/// parallel) with the projection of `extent`.
fn open_all(part: &Partition, map: &ColumnMap, extent: Extent) -> Result<Vec<OpenFile>> {
    let columns: Vec<&str> = match extent {
        Extent::RunDate => DECODED.iter().chain(RUN_DATE_ONLY).copied().collect(),
        Extent::Comparison => DECODED.to_vec(),
    };
    let opened = part
        .files
        .par_iter()
        .map(|p| {
            guard::decoding("the footer", || open(p, map, &columns))
                .with_context(|| format!("loans file '{}'", p.display()))
        })
        .collect::<Vec<_>>();
    first_error(opened)
}

/// Types of the contract columns (`None`: an optional column the file
/// leaves out), to require one schema per partition.
fn contract_types(f: &OpenFile) -> Vec<(&'static str, Option<DataType>)> {
    LOANS
        .iter()
        .map(|c| {
            (
                c.name,
                f.schema
                    .field_with_name(c.name)
                    .ok()
                    .map(|x| x.data_type().clone()),
            )
        })
        .collect()
}

/// A column's type as an error message names it.
fn type_name(t: &Option<DataType>) -> String {
    match t {
        Some(t) => t.to_string(),
        None => "absent".to_string(),
    }
}

/// A column of a decoded batch under its contract name. An optional column
/// that the file leaves out, or stores with Arrow's `Null` type, is an
/// all-null column of the contract's plain type for it: every decoding
/// function then sees the same thing whether the book has no such column or
/// a column of nulls, so both give the same figures.
fn column(batch: &RecordBatch, name: &str) -> ArrayRef {
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
fn optional_decoded(extent: Extent) -> impl Iterator<Item = (usize, &'static str)> {
    LOANS.iter().enumerate().filter_map(move |(k, c)| {
        let decoded = DECODED.contains(&c.name)
            || (extent == Extent::RunDate && RUN_DATE_ONLY.contains(&c.name));
        (c.optional && decoded).then_some((k, c.name))
    })
}

/// Reads and checks a loans partition whole; `map` renames the lender's
/// columns onto the contract's (empty: the files use the contract's names).
pub fn read_loans(part: &Partition, map: &ColumnMap, extent: Extent) -> Result<Snapshot> {
    let opened = open_loans(part, map, extent)?;
    let all: Vec<usize> = (0..opened.tasks.len()).collect();
    LoansReader::new(&opened).read(&all, &IdRange::all())
}

/// A loans partition whose footers are read and schemas checked, ready to
/// decode any of its row groups: what the partitioned run reads a
/// snapshot through.
pub struct OpenedLoans {
    part: Partition,
    map: ColumnMap,
    extent: Extent,
    files: Vec<OpenFile>,
    int_ids: bool,
    absent: Vec<&'static str>,
    /// The non-empty row groups in file order.
    tasks: Vec<Task>,
    file_rows: Vec<usize>,
}

/// One non-empty row group: file, row group, its first row in the file,
/// its rows, and the `loan_id` range its statistics give.
#[derive(Clone, Debug)]
struct Task {
    fi: usize,
    rg: usize,
    row: usize,
    stats: GroupStats,
}

/// Opens every file of a loans partition: footers, the contract and
/// one-schema-per-partition checks, and the row groups with their id
/// statistics. No page is decoded.
pub fn open_loans(part: &Partition, map: &ColumnMap, extent: Extent) -> Result<OpenedLoans> {
    let label = part.date.format("%Y-%m-%d").to_string();
    if part.files.is_empty() {
        return Err(bad_input(format!(
            "loans partition '{}' has no data files",
            part.dir.display()
        )));
    }
    let opened = open_all(part, map, extent)?;

    // One schema per partition: the same contract column types in every file.
    let first = contract_types(&opened[0]);
    for (i, f) in opened.iter().enumerate().skip(1) {
        let these = contract_types(f);
        if let Some(((name, a), (_, b))) = first.iter().zip(&these).find(|(x, y)| x.1 != y.1) {
            return Err(bad_input(format!(
                "files of loans partition {label} have different schemas: column '{name}' is {} in '{}' but {} in '{}'",
                type_name(a),
                part.files[0].display(),
                type_name(b),
                part.files[i].display()
            )));
        }
    }
    let int_ids = first[0].1 == Some(DataType::Int64);
    let absent: Vec<&'static str> = first
        .iter()
        .filter(|(_, t)| t.is_none())
        .map(|(name, _)| *name)
        .collect();

    // One task per non-empty row group, in file order.
    let mut tasks = Vec::new();
    let mut file_rows = Vec::with_capacity(opened.len());
    for (fi, f) in opened.iter().enumerate() {
        let mut row = 0usize;
        let id_leaf = id_leaf(f, map);
        for (rg, md) in f.meta.metadata().row_groups().iter().enumerate() {
            let n = md.num_rows() as usize;
            if n > 0 {
                let ids = id_leaf.and_then(|leaf| id_stats(md.column(leaf), int_ids));
                tasks.push(Task {
                    fi,
                    rg,
                    row,
                    stats: GroupStats { rows: n, ids },
                });
            }
            row += n;
        }
        file_rows.push(row);
    }
    if tasks.is_empty() {
        return Err(bad_input(format!(
            "loans partition '{}' has no rows",
            part.dir.display()
        )));
    }
    Ok(OpenedLoans {
        part: part.clone(),
        map: map.clone(),
        extent,
        files: opened,
        int_ids,
        absent,
        tasks,
        file_rows,
    })
}

/// The Parquet leaf column of `loan_id` in a file (under the lender's name).
fn id_leaf(f: &OpenFile, map: &ColumnMap) -> Option<usize> {
    let name = map.get("loan_id").map_or("loan_id", String::as_str);
    f.meta
        .parquet_schema()
        .columns()
        .iter()
        .position(|c| c.path().parts().len() == 1 && c.name() == name)
}

/// A row group's `loan_id` range from its statistics, when they are exact.
fn id_stats(
    col: &parquet::file::metadata::ColumnChunkMetaData,
    int_ids: bool,
) -> Option<(IdBound, IdBound)> {
    use parquet::file::statistics::Statistics;
    let st = col.statistics()?;
    if !st.min_is_exact() || !st.max_is_exact() {
        return None;
    }
    match st {
        Statistics::Int64(v) if int_ids => {
            Some((IdBound::Int(*v.min_opt()?), IdBound::Int(*v.max_opt()?)))
        }
        Statistics::ByteArray(v) if !int_ids => Some((
            IdBound::Str(v.min_opt()?.data().to_vec()),
            IdBound::Str(v.max_opt()?.data().to_vec()),
        )),
        _ => None,
    }
}

impl OpenedLoans {
    pub fn date(&self) -> NaiveDate {
        self.part.date
    }
    /// Whether `loan_id` is Int64 (else a string).
    pub fn int_ids(&self) -> bool {
        self.int_ids
    }
    /// The files with their rows.
    pub fn files(&self) -> impl Iterator<Item = (&std::path::PathBuf, usize)> {
        self.part.files.iter().zip(self.file_rows.iter().copied())
    }
    /// Rows of the partition (from the footers).
    pub fn rows(&self) -> usize {
        self.tasks.iter().map(|t| t.stats.rows).sum()
    }
    /// The non-empty row groups, in file order, with their id statistics.
    pub fn groups(&self) -> Vec<GroupStats> {
        self.tasks.iter().map(|t| t.stats.clone()).collect()
    }
    /// The row groups that may hold ids of `range`.
    pub fn groups_in(&self, range: &IdRange) -> Vec<usize> {
        (0..self.tasks.len())
            .filter(|&k| match &self.tasks[k].stats.ids {
                Some((min, max)) => range.overlaps(min, max),
                None => true,
            })
            .collect()
    }
}

/// Decodes an opened partition a few row groups at a time. A row group
/// that holds ids of the next partition too (its statistics straddle the
/// cut) is decoded once and kept for it.
pub struct LoansReader<'a> {
    opened: &'a OpenedLoans,
    kept: Vec<(usize, Chunk)>,
}

impl<'a> LoansReader<'a> {
    pub fn new(opened: &'a OpenedLoans) -> LoansReader<'a> {
        LoansReader {
            opened,
            kept: Vec::new(),
        }
    }

    /// The rows of row groups `groups` (indices into
    /// [`OpenedLoans::groups`]) whose ids are in `range`, as a snapshot.
    /// Its `rounded_money_values` and all-null columns count the row groups
    /// decoded by this call only, so that they add up over a run's calls.
    pub fn read(&mut self, groups: &[usize], range: &IdRange) -> Result<Snapshot> {
        let o = self.opened;
        let mut kept = std::mem::take(&mut self.kept);
        let fresh: Vec<usize> = groups
            .iter()
            .copied()
            .filter(|k| !kept.iter().any(|(j, _)| j == k))
            .collect();
        let decoded = fresh
            .par_iter()
            .map(|&k| o.decode_group(k))
            .collect::<Vec<_>>();
        let decoded = first_error(decoded)?;
        let filled = decoded.iter().fold(0u32, |m, c| m | c.filled);
        let rounded: u64 = decoded.iter().map(|c| c.rounded).sum();
        let mut fresh_chunks = fresh.into_iter().zip(decoded);
        let mut chunks = Vec::with_capacity(groups.len());
        for &k in groups {
            let chunk = match kept.iter().position(|(j, _)| *j == k) {
                Some(i) => kept.swap_remove(i).1,
                None => {
                    fresh_chunks
                        .next()
                        .expect("one decoded chunk per fresh group")
                        .1
                }
            };
            let stats = &o.tasks[k].stats;
            let covered = match &stats.ids {
                Some((min, max)) => range.covers(min, max),
                None => range.is_all(),
            };
            if covered {
                chunks.push(chunk);
                continue;
            }
            // Part of the group belongs to a later partition: keep it.
            let later = match (&stats.ids, &range.hi) {
                (Some((_, max)), Some(hi)) => max >= hi,
                _ => range.hi.is_some(),
            };
            let rows: Vec<u32> = (0..chunk.dpd.len())
                .filter(|&r| range.contains(&chunk.ids, r))
                .map(|r| r as u32)
                .collect();
            chunks.push(chunk.select(&rows));
            if later {
                self.kept.push((k, chunk));
            }
        }
        Ok(o.snapshot(chunks, filled, rounded))
    }
}

impl OpenedLoans {
    /// Decodes non-empty row group `k` (an index into [`OpenedLoans::groups`]).
    fn decode_group(&self, k: usize) -> Result<Chunk> {
        let t = &self.tasks[k];
        let label = self.part.date.format("%Y-%m-%d").to_string();
        let days = crate::base::calendar::date32(self.part.date);
        guard::decoding(&format!("row group {}", t.rg), || {
            decode(
                &self.files[t.fi],
                t.fi,
                t.rg,
                t.row,
                self.int_ids,
                days,
                &label,
                &self.map,
                self.extent,
            )
        })
        .with_context(|| format!("loans file '{}'", self.part.files[t.fi].display()))
    }

    /// Chunks (in input order) as a snapshot. `filled` and `rounded` are
    /// the optional columns seen filled and the money values rounded in the
    /// row groups counted by this call, so that they add up over a run's
    /// calls.
    fn snapshot(&self, chunks: Vec<Chunk>, filled: u32, rounded: u64) -> Snapshot {
        let total: usize = chunks.iter().map(|c| c.dpd.len()).sum();
        // Optional columns present in the files without one non-null value.
        let all_null = optional_decoded(self.extent)
            .filter(|&(k, name)| filled & (1 << k) == 0 && !self.absent.contains(&name))
            .map(|(_, name)| name)
            .collect();
        let mut snap = assemble(
            &self.part,
            chunks,
            self.file_rows.clone(),
            self.int_ids,
            total,
        );
        snap.rounded_money_values = rounded;
        snap.columns = OptionalColumns {
            absent: self.absent.clone(),
            all_null,
        };
        snap
    }

    /// Cuts the snapshot into `of` hash partitions through scratch files:
    /// every row group is decoded once (a wave of them at a time, in
    /// parallel, in file order, so the first bad row reported is the one a
    /// whole read reports) and its rows appended to the file of their
    /// partition, `dir/NAME-NNNNN.bin`. Returns the files, by partition.
    pub fn spill_by_hash(
        &self,
        of: usize,
        keep: std::ops::Range<usize>,
        dir: &Path,
        name: &str,
    ) -> Result<Vec<std::path::PathBuf>> {
        let mut w = crate::input::spill::SpillWriter::named(dir, name, keep.clone())?;
        let groups: Vec<usize> = (0..self.tasks.len()).collect();
        // Two row groups a thread per wave: decoded while the previous
        // wave's pieces are written.
        let wave = 2 * rayon::current_num_threads().max(1);
        // A row group's rows cut by partition, each piece encoded for its
        // file (on the decoding threads: one writes).
        let split = |k: usize| -> Result<Vec<Vec<u8>>> {
            let chunk = self.decode_group(k)?;
            let mut rows: Vec<Vec<u32>> = vec![Vec::new(); of];
            for r in 0..chunk.dpd.len() {
                rows[partitions::bucket(&chunk.ids, r, of)].push(r as u32);
            }
            Ok(rows
                .iter()
                .enumerate()
                .map(|(j, rs)| {
                    if !keep.contains(&j) {
                        // Another shard's rows (src/shards.rs).
                        return Vec::new();
                    }
                    let mut p = chunk.select(rs);
                    // Every piece carries the row group's filled columns (a
                    // partition's all-null columns are then the book's);
                    // the first carries its rounded values, so that they
                    // are counted once.
                    p.filled = chunk.filled;
                    if j == 0 {
                        p.rounded = chunk.rounded;
                    }
                    crate::input::spill::encode_loans(&p)
                })
                .collect())
        };
        let mut waves = groups.chunks(wave);
        let decode = |ks: &[usize]| first_error(ks.par_iter().map(|&k| split(k)).collect());
        let mut ready = waves.next().map(decode);
        while let Some(done) = ready.take() {
            let next = waves.next();
            let (written, upcoming) = rayon::join(
                || -> Result<()> {
                    for pieces in done? {
                        for (k, p) in pieces.iter().enumerate() {
                            if w.keeps(k) {
                                w.push_encoded(k, p)?;
                            }
                        }
                    }
                    Ok(())
                },
                || next.map(decode),
            );
            written?;
            ready = upcoming;
        }
        w.finish()
    }

    /// A hash partition's rows, read back from its scratch file.
    pub fn read_spilled(&self, path: &Path) -> Result<Snapshot> {
        let chunks = crate::input::spill::read_loans(path)?;
        let filled = chunks.iter().fold(0u32, |m, c| m | c.filled);
        let rounded = chunks.iter().map(|c| c.rounded).sum();
        Ok(self.snapshot(chunks, filled, rounded))
    }
}

impl Chunk {
    /// The given rows (increasing) of a chunk, as a chunk.
    fn select(&self, rows: &[u32]) -> Chunk {
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
fn decode(
    f: &OpenFile,
    fi: usize,
    rg: usize,
    file_row: usize,
    int_ids: bool,
    days: i32,
    label: &str,
    map: &ColumnMap,
    extent: Extent,
) -> Result<Chunk> {
    let reader = row_group_reader(f, rg)?;
    // Every column is sized for the whole row group up front: growing them
    // batch by batch copied each one several times and made the kernel
    // zero fresh pages for every copy (BENCHMARKS.md, issue 6).
    let n = f.meta.metadata().row_group(rg).num_rows() as usize;
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
fn assemble(
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

/// `loan_id` and `paid_amount` of a loans partition: what promise keeping
/// needs from the snapshots between a promise and its date, without
/// decoding the rest.
pub fn read_paid(part: &Partition, map: &ColumnMap, wanted: &IdSet) -> Result<(LoanIds, Vec<i64>)> {
    let opened = part
        .files
        .par_iter()
        .map(|p| {
            guard::decoding("the footer", || open(p, map, &["loan_id", "paid_amount"]))
                .with_context(|| format!("loans file '{}'", p.display()))
        })
        .collect::<Vec<_>>();
    let opened = first_error(opened)?;
    let int_ids = opened.first().is_some_and(|f| {
        f.schema
            .field_with_name("loan_id")
            .map(|x| x.data_type() == &DataType::Int64)
            .unwrap_or(false)
    });
    let mut ids = if int_ids {
        LoanIds::Int(Vec::new())
    } else {
        LoanIds::empty_str()
    };
    let mut paid = Vec::new();
    let mut kept_ids = ids.take(std::iter::empty());
    let mut kept_paid = Vec::new();
    for f in &opened {
        guard::decoding("the file", || read_paid_file(f, map, &mut ids, &mut paid))?;
        // Only the promised loans are kept: the snapshot's other rows are
        // dropped file by file.
        let keep: Vec<usize> = (0..ids.len())
            .filter(|&r| wanted.contains(&ids, r))
            .collect();
        kept_paid.extend(keep.iter().map(|&r| paid[r]));
        kept_ids.extend(ids.take(keep.iter().copied()));
        ids = ids.take(std::iter::empty());
        paid.clear();
    }
    Ok((kept_ids, kept_paid))
}

/// Appends one file's ids and `paid_amount` (see [`read_paid`]).
fn read_paid_file(
    f: &OpenFile,
    map: &ColumnMap,
    ids: &mut LoanIds,
    paid: &mut Vec<i64>,
) -> Result<()> {
    {
        let file = guard::StrictFile::open(&f.path)?;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, f.meta.clone())
            .with_projection(f.mask.clone())
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| bad_input(format!("'{}': {e}", f.path.display())))?;
        let mut base = 0;
        for batch in reader {
            let batch = batch
                .map_err(|e| bad_input(format!("'{}' cannot be decoded: {e}", f.path.display())))?;
            let batch = RecordBatch::try_new(
                Arc::new(renamed(&batch.schema(), map)),
                batch.columns().to_vec(),
            )
            .map_err(|e| bad_input(e.to_string()))?;
            let col = |n: &str| batch.column_by_name(n).expect("projected");
            columns::push_ids(col("loan_id"), ids, "loan_id", base)
                .with_context(|| format!("loans file '{}'", f.path.display()))?;
            columns::push_money(col("paid_amount"), paid, "paid_amount", base, true)
                .with_context(|| format!("loans file '{}'", f.path.display()))?;
            base += batch.num_rows();
        }
    }
    Ok(())
}

/// The decode floor (BENCHMARKS.md): the same files, projection, dictionary
/// hints, batch size and row-group parallelism as [`read_loans`], but the
/// decoded Arrow batches are dropped instead of converted into a
/// [`Snapshot`]. What the job can never go below for reading. Returns the
/// rows decoded.
pub fn decode_floor(part: &Partition, map: &ColumnMap, extent: Extent) -> Result<usize> {
    let opened = open_all(part, map, extent)?;
    let tasks: Vec<(usize, usize)> = opened
        .iter()
        .enumerate()
        .flat_map(|(fi, f)| (0..f.meta.metadata().num_row_groups()).map(move |rg| (fi, rg)))
        .collect();
    tasks
        .par_iter()
        .map(|&(fi, rg)| {
            let mut rows = 0;
            for batch in row_group_reader(&opened[fi], rg)? {
                rows += std::hint::black_box(batch?).num_rows();
            }
            Ok(rows)
        })
        .sum()
}
