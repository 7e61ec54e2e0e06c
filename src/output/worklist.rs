//! The `worklist` table: one row per active or charged-off loan of the run
//! date with its bucket, class, collection tier and the reason code of the
//! rule that gave it, early-warning flag and signals, CLTV, second-lien
//! route and expected shortfall (data-contract.md). Rows keep the input's
//! order. The table is split into files of [`ROWS_PER_FILE`] loans so that
//! they are built and encoded in parallel; the split depends only on the
//! row count, never on the thread count, so reruns give the same bytes.

use std::sync::Arc;

use anyhow::Result;
use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;

use std::path::PathBuf;

use crate::fold::LoanLevel;
use crate::input::snapshot::{LoanIds, Snapshot};
use crate::metrics::strategy::{NO_TIER, ROUTES, SIGNALS};
use crate::output::publish::Stage;
use crate::output::tables::{date32, money_type, Money};
use crate::policy::tiers::Tier;
use crate::policy::Policy;
use crate::states::{Bucket, Class};

/// Loans per worklist file.
pub const ROWS_PER_FILE: usize = 1 << 20;

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
}

/// A file to write: its path and its rows in pieces.
type Job = (PathBuf, Vec<RecordBatch>);

struct Writer {
    jobs: std::sync::mpsc::SyncSender<Job>,
    done: std::thread::JoinHandle<Result<Vec<usize>>>,
}

impl WorklistSink {
    pub fn new(int_ids: bool, as_of: &str) -> WorklistSink {
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
        WorklistSink {
            schema,
            pending: Vec::new(),
            pending_rows: 0,
            files: 0,
            writer: Some(Writer { jobs, done }),
        }
    }

    /// Adds a partition's worklist rows; hands over the files they complete.
    pub fn push(
        &mut self,
        cur: &Snapshot,
        loans: &LoanLevel,
        policy: &Policy,
        stage: &mut Stage,
    ) -> Result<()> {
        let rows = rows(loans);
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
            let n = b.num_rows();
            self.pending.push(b);
            self.pending_rows += n;
            if self.pending_rows == ROWS_PER_FILE {
                self.hand_over(stage)?;
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

    /// Writes what is left (an empty file when the book had no worklist
    /// rows at all), waits for the writer and returns the rows of each file.
    pub fn finish(mut self, stage: &mut Stage) -> Result<Vec<usize>> {
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
        text_column(rows, |r| {
            Some(policy.rules[s.rule[r] as usize].reason.as_str())
        }),
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
