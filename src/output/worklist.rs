//! The `worklist` table: one row per active or charged-off loan of the run
//! date with its bucket, class, collection tier and the reason code of the
//! rule that gave it, early-warning flag and signals, CLTV, second-lien
//! route and expected shortfall (data-contract.md). Rows keep the input's
//! order. The table is split into files of [`ROWS_PER_FILE`] loans so that
//! they are built and encoded in parallel; the split depends only on the
//! row count, never on the thread count, so reruns give the same bytes.
//!
//! Partitions by id range come in input order (the book is in id order).
//! Hash partitions do not: each one's rows are written to a scratch Arrow
//! IPC file with their input positions, and [`WorklistSink::finish`] merges
//! the files back into input order (a k-way merge holding one batch per
//! partition).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{
    Array, ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder,
    UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;

use std::path::PathBuf;

use crate::base::calendar::date32;
use crate::input::snapshot::{LoanIds, Snapshot};
use crate::metrics::experiments;
use crate::metrics::strategy::LoanLevel;
use crate::metrics::strategy::{NO_TIER, ROUTES, SIGNALS};
use crate::output::columns::{money_type, Money};
use crate::output::publish::Stage;
use crate::policy::tiers::Tier;
use crate::policy::Policy;
use crate::states::{Bucket, Class};

/// Loans per worklist file.
pub const ROWS_PER_FILE: usize = 1 << 20;

/// Rows per batch of a partition's scratch file and of the merge's output
/// pieces (a divisor of [`ROWS_PER_FILE`]).
const MERGE_ROWS: usize = 1 << 16;

pub fn schema(int_ids: bool) -> Schema {
    let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
    Schema::new(vec![
        f("as_of_date", DataType::Date32, false),
        f(
            "loan_id",
            if int_ids {
                DataType::Int64
            } else {
                DataType::Utf8
            },
            false,
        ),
        f("bucket", DataType::Utf8, false),
        f("class", DataType::Utf8, false),
        f("tier", DataType::Utf8, false),
        f("tier_reason", DataType::Utf8, false),
        f("early_warning", DataType::Boolean, false),
        f(
            "ew_reasons",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            false,
        ),
        f("cltv", DataType::Float64, true),
        f("route", DataType::Utf8, true),
        f("expected_shortfall", money_type(), true),
        f("product", DataType::Utf8, false),
        f("region", DataType::Utf8, true),
        // v2: the loan's champion / challenger test and arm, null outside
        // every experiment's scope.
        f("experiment", DataType::Utf8, true),
        f("arm", DataType::Utf8, true),
    ])
}

/// The run-date rows that get a worklist row (active or charged off), in order.
pub fn rows(loans: &LoanLevel) -> Vec<u32> {
    (0..loans.strategy.tier.len() as u32)
        .filter(|&i| loans.strategy.tier[i as usize] != NO_TIER)
        .collect()
}

/// Writes the worklist as the run folds the book, partition after
/// partition: each partition's rows are built into Arrow columns (in
/// parallel), and every time [`ROWS_PER_FILE`] rows are ready the file is
/// handed to a writer thread, which encodes it while the run reads and
/// folds the next partition. Rows short of a file wait for the next
/// partition, so the files (and their bytes) are the same however the book
/// was cut.
pub struct WorklistSink {
    schema: Arc<Schema>,
    /// Built rows not yet handed over (fewer than a file).
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    /// Files handed to the writer.
    files: usize,
    writer: Option<Writer>,
    /// Hash partitions: the scratch folder and the file of each partition
    /// pushed so far.
    reorder: Option<(PathBuf, Vec<PathBuf>)>,
}

/// A file to write: its path and its rows in pieces.
type Job = (PathBuf, Vec<RecordBatch>);

struct Writer {
    jobs: std::sync::mpsc::SyncSender<Job>,
    done: std::thread::JoinHandle<Result<Vec<usize>>>,
}

impl WorklistSink {
    /// A sink for partitions in input order, or, with `reorder` (a scratch
    /// folder to create), for partitions to be merged back into it.
    pub fn new(int_ids: bool, as_of: &str, reorder: Option<PathBuf>) -> Result<WorklistSink> {
        if let Some(dir) = &reorder {
            crate::base::owned::remove(dir)?;
            crate::base::owned::dir(dir)?;
        }
        let schema = Arc::new(schema(int_ids));
        // One file waiting while one is written: at most two files' rows
        // in memory besides the partition's.
        let (jobs, rx) = std::sync::mpsc::sync_channel::<Job>(1);
        let (s, as_of) = (schema.clone(), as_of.to_string());
        let done = std::thread::spawn(move || -> Result<Vec<usize>> {
            let mut written = Vec::new();
            for (path, pieces) in rx {
                // Pieces joined into one batch: the bytes of a file built
                // at once.
                let batch = match pieces.len() {
                    1 => pieces.into_iter().next().expect("one piece"),
                    _ => arrow::compute::concat_batches(&s, &pieces)?,
                };
                crate::output::parquet_file::write(
                    &path,
                    "worklist",
                    &as_of,
                    std::slice::from_ref(&batch),
                )?;
                written.push(batch.num_rows());
            }
            Ok(written)
        });
        Ok(WorklistSink {
            schema,
            pending: Vec::new(),
            pending_rows: 0,
            files: 0,
            writer: Some(Writer { jobs, done }),
            reorder: reorder.map(|d| (d, Vec::new())),
        })
    }

    /// Adds a partition's worklist rows; hands over the files they complete.
    pub fn push(
        &mut self,
        cur: &Snapshot,
        loans: &LoanLevel,
        policy: &Policy,
        stage: Option<&mut Stage>,
    ) -> Result<()> {
        let rows = rows(loans);
        if self.reorder.is_some() {
            return self.push_unordered(cur, loans, policy, &rows);
        }
        let stage = stage.expect("a worklist in input order is written to the stage");
        // Pieces: the rest of the pending file, whole files, then what is
        // left over for the next partition.
        let mut cuts = Vec::new();
        let mut at = 0usize;
        let first = (ROWS_PER_FILE - self.pending_rows).min(rows.len());
        if first > 0 {
            cuts.push(0..first);
            at = first;
        }
        while at < rows.len() {
            let end = (at + ROWS_PER_FILE).min(rows.len());
            cuts.push(at..end);
            at = end;
        }
        let built = cuts
            .par_iter()
            .map(|c| build(loans, cur, policy, &rows[c.clone()], self.schema.clone()))
            .collect::<Vec<_>>();
        let built = crate::error::first_error(built)?;
        for b in built {
            self.add(b, stage)?;
        }
        Ok(())
    }

    /// Adds built rows (at most what completes the pending file).
    fn add(&mut self, b: RecordBatch, stage: &mut Stage) -> Result<()> {
        let n = b.num_rows();
        self.pending.push(b);
        self.pending_rows += n;
        if self.pending_rows == ROWS_PER_FILE {
            self.hand_over(stage)?;
        }
        Ok(())
    }

    /// A hash partition's rows, with their input positions, to a scratch
    /// file of their own.
    fn push_unordered(
        &mut self,
        cur: &Snapshot,
        loans: &LoanLevel,
        policy: &Policy,
        rows: &[u32],
    ) -> Result<()> {
        let input = cur.input_rows();
        let (dir, files) = self.reorder.as_mut().expect("called for hash partitions");
        let path = dir.join(format!("part-{:05}.arrows", files.len()));
        let mut fields: Vec<Field> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new("input_row", DataType::UInt64, false));
        let with_row = Arc::new(Schema::new(fields));
        let built = rows
            .par_chunks(MERGE_ROWS)
            .map(|c| {
                let b = build(loans, cur, policy, c, self.schema.clone())?;
                let mut columns = b.columns().to_vec();
                columns.push(Arc::new(UInt64Array::from_iter_values(
                    c.iter().map(|&r| input[r as usize]),
                )));
                Ok(RecordBatch::try_new(with_row.clone(), columns)?)
            })
            .collect::<Vec<Result<RecordBatch>>>();
        let write = || -> Result<()> {
            let f = crate::base::owned::create_file(&path)?;
            // LZ4: the scratch file is page cache, where copying the bytes
            // costs more than compressing them (BENCHMARKS.md).
            let options = arrow::ipc::writer::IpcWriteOptions::default()
                .try_with_compression(Some(arrow::ipc::CompressionType::LZ4_FRAME))?;
            let mut w = StreamWriter::try_new_with_options(
                BufWriter::with_capacity(1 << 20, f),
                &with_row,
                options,
            )?;
            for b in crate::error::first_error(built)? {
                w.write(&b)?;
            }
            w.finish()?;
            Ok(())
        };
        write().map_err(|e| {
            if crate::error::kind_of(&e).is_some() {
                e
            } else {
                crate::base::owned::scratch_write_error(&path, e)
            }
        })?;
        files.push(path);
        Ok(())
    }

    /// Merges the hash partitions' scratch files by input position into
    /// pieces of [`MERGE_ROWS`] rows, handed over as the ordered path's are.
    fn merge_unordered(&mut self, stage: &mut Stage) -> Result<()> {
        let Some((_, paths)) = self.reorder.take() else {
            return Ok(());
        };
        struct Source {
            reader: StreamReader<BufReader<File>>,
            path: PathBuf,
            /// Index in `live` of the current batch, and the next row in it.
            batch: usize,
            row: usize,
        }
        let positions = |b: &RecordBatch| -> UInt64Array {
            let c = b.column(b.num_columns() - 1);
            c.as_any()
                .downcast_ref::<UInt64Array>()
                .expect("input_row is UInt64")
                .clone()
        };
        let mut live: Vec<(RecordBatch, UInt64Array)> = Vec::new();
        let mut sources: Vec<Source> = Vec::new();
        let mut heap = BinaryHeap::new();
        // The next batch of a source (`false` when it has none left).
        let advance =
            |s: &mut Source, live: &mut Vec<(RecordBatch, UInt64Array)>| -> Result<bool> {
                match s.reader.next() {
                    None => Ok(false),
                    Some(b) => {
                        let b = b.with_context(|| {
                            format!("cannot read scratch file '{}'", s.path.display())
                        })?;
                        let p = positions(&b);
                        live.push((b, p));
                        s.batch = live.len() - 1;
                        s.row = 0;
                        Ok(true)
                    }
                }
            };
        for path in paths {
            let f = File::open(&path)
                .with_context(|| format!("cannot open scratch file '{}'", path.display()))?;
            let reader = StreamReader::try_new(BufReader::with_capacity(1 << 20, f), None)
                .with_context(|| format!("cannot read scratch file '{}'", path.display()))?;
            let mut s = Source {
                reader,
                path,
                batch: 0,
                row: 0,
            };
            if advance(&mut s, &mut live)? {
                heap.push(Reverse((live[s.batch].1.value(0), sources.len())));
            }
            sources.push(s);
        }
        let width = self.schema.fields().len();
        let mut picks: Vec<(usize, usize)> = Vec::with_capacity(MERGE_ROWS);
        loop {
            let done = heap.is_empty();
            if picks.len() == MERGE_ROWS || (done && !picks.is_empty()) {
                let columns = (0..width)
                    .map(|c| {
                        let arrays: Vec<&dyn Array> =
                            live.iter().map(|(b, _)| b.column(c).as_ref()).collect();
                        arrow::compute::interleave(&arrays, &picks)
                    })
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                let piece = RecordBatch::try_new(self.schema.clone(), columns)?;
                picks.clear();
                // Keep only the batches the sources are still in.
                let mut kept = Vec::with_capacity(sources.len());
                for s in &mut sources {
                    if s.row < live[s.batch].0.num_rows() {
                        kept.push(live[s.batch].clone());
                        s.batch = kept.len() - 1;
                    }
                }
                live = kept;
                self.add(piece, stage)?;
            }
            let Some(Reverse((_, k))) = heap.pop() else {
                break;
            };
            let s = &mut sources[k];
            picks.push((s.batch, s.row));
            s.row += 1;
            if s.row < live[s.batch].0.num_rows() || advance(s, &mut live)? {
                heap.push(Reverse((live[s.batch].1.value(s.row), k)));
            }
        }
        Ok(())
    }

    fn hand_over(&mut self, stage: &mut Stage) -> Result<()> {
        let path = stage.file("worklist", &format!("part-{:05}.parquet", self.files))?;
        let job = (path, std::mem::take(&mut self.pending));
        self.pending_rows = 0;
        self.files += 1;
        let sent = self.writer.as_ref().map(|w| w.jobs.send(job));
        if !matches!(sent, Some(Ok(()))) {
            // The writer stopped on an error: report it.
            return self.join().map(|_| ());
        }
        Ok(())
    }

    fn join(&mut self) -> Result<Vec<usize>> {
        let w = self.writer.take().expect("the writer runs until joined");
        drop(w.jobs);
        match w.done.join() {
            Ok(r) => r,
            Err(_) => Err(anyhow::anyhow!("the worklist writer panicked")),
        }
    }

    /// A sink holding the scratch files of hash partitions written
    /// elsewhere (the shards of `arrears merge`), in partition order;
    /// [`WorklistSink::finish`] merges them into input order.
    pub fn from_scratch(int_ids: bool, as_of: &str, files: Vec<PathBuf>) -> Result<WorklistSink> {
        let mut sink = WorklistSink::new(int_ids, as_of, None)?;
        sink.reorder = Some((PathBuf::new(), files));
        Ok(sink)
    }

    /// The scratch files of the hash partitions pushed, in partition order,
    /// left for a later merge (`arrears shard`).
    pub fn into_scratch(mut self) -> Result<Vec<PathBuf>> {
        let files = self.reorder.take().map(|(_, f)| f).unwrap_or_default();
        self.join()?;
        Ok(files)
    }

    /// Writes what is left (an empty file when the book had no worklist
    /// rows at all), waits for the writer and returns the rows of each file.
    pub fn finish(mut self, stage: &mut Stage) -> Result<Vec<usize>> {
        self.merge_unordered(stage)?;
        if self.pending_rows > 0 || self.files == 0 {
            self.hand_over(stage)?;
        }
        self.join()
    }
}

impl Drop for WorklistSink {
    /// A run that fails mid-way stops the writer before its staging folder
    /// is removed.
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = self.join();
        }
    }
}

fn build(
    loans: &LoanLevel,
    cur: &Snapshot,
    policy: &Policy,
    rows: &[u32],
    schema: Arc<Schema>,
) -> Result<RecordBatch> {
    let s = &loans.strategy;
    let n = rows.len();
    let ids: ArrayRef = match &cur.ids {
        LoanIds::Int(v) => {
            let mut b = Int64Builder::with_capacity(n);
            for &r in rows {
                b.append_value(v[r as usize]);
            }
            Arc::new(b.finish())
        }
        LoanIds::Str { .. } => {
            let mut b = StringBuilder::with_capacity(n, n * 12);
            for &r in rows {
                b.append_value(String::from_utf8_lossy(cur.ids.str_bytes(r as usize)));
            }
            Arc::new(b.finish())
        }
    };
    let st = &loans.states;
    let rules = policy.all_rules();
    let mut ew = BooleanBuilder::with_capacity(n);
    let mut reasons = ListBuilder::new(StringBuilder::new());
    let mut cltv = Float64Builder::with_capacity(n);
    let mut shortfall = Money::new("expected_shortfall");
    for &r in rows {
        let r = r as usize;
        ew.append_value(s.signals[r] != 0);
        for (k, name) in SIGNALS.iter().enumerate() {
            if s.signals[r] & (1 << k) != 0 {
                reasons.values().append_value(name);
            }
        }
        reasons.append(true);
        cltv.append_option(Some(s.cltv[r]).filter(|x| x.is_finite()));
        if s.route[r] == 0 {
            shortfall.push_null();
        } else {
            shortfall.push(s.shortfall[r] as i128)?;
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(arrow::array::Date32Array::from(vec![date32(cur.date); n])),
        ids,
        text_column(rows, |r| {
            Some(Bucket::from_index(st.bucket[r] as usize).label())
        }),
        text_column(rows, |r| Some(Class::ALL[st.class[r] as usize].label())),
        text_column(rows, |r| Some(Tier::ALL[s.tier[r] as usize].label())),
        text_column(rows, |r| Some(rules[s.rule[r] as usize].reason.as_str())),
        Arc::new(ew.finish()),
        Arc::new(reasons.finish()),
        Arc::new(cltv.finish()),
        text_column(rows, |r| ROUTES[s.route[r] as usize].map(|x| x.label())),
        shortfall.finish(),
        text_column(rows, |r| {
            cur.product.labels[cur.product.codes[r] as usize].as_deref()
        }),
        text_column(rows, |r| {
            cur.region.labels[cur.region.codes[r] as usize].as_deref()
        }),
        text_column(rows, |r| {
            experiments::decode(s.arm[r]).map(|(e, _)| policy.experiments[e].name.as_str())
        }),
        text_column(rows, |r| {
            experiments::decode(s.arm[r]).map(|(_, a)| a.label())
        }),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// A Utf8 column of the given rows.
fn text_column<'a>(rows: &[u32], get: impl Fn(usize) -> Option<&'a str>) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 8);
    for &r in rows {
        b.append_option(get(r as usize));
    }
    Arc::new(b.finish())
}
