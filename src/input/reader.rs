//! Reads one loans partition into a [`Snapshot`].
//!
//! Every file's footer is read first and its schema checked against the
//! contract (and against the partition's other files) before any page is
//! decoded. Then each row group is one rayon task: it opens its own reader
//! over the shared footer metadata, decodes only the projected columns and
//! returns a [`Chunk`]. Chunks are concatenated in (file, row group) order,
//! so the snapshot is the same whatever the thread count.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};

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
use crate::input::columns;
use crate::input::discovery::Partition;
use crate::input::guard;
use crate::input::partitions::{self, GroupStats, IdBound, IdRange};
use crate::input::schema::{self, AS_OF_DATE, LOANS};
use crate::input::snapshot::{IdSet, LoanIds, OptionalColumns, Snapshot};

use crate::input::chunk::{
    assemble, contract_name, decode, optional_decoded, renamed, Chunk, DECODED, RUN_DATE_ONLY,
};
pub use crate::input::chunk::{ColumnMap, Extent};

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
            let f = &self.files[t.fi];
            decode(
                row_group_reader(f, t.rg)?,
                f.meta.metadata().row_group(t.rg).num_rows() as usize,
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
