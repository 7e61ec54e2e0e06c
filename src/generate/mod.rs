//! `arrears generate`: a deterministic synthetic loan book that follows the
//! data contract, for the demo, the tests and the benchmarks.
//!
//! Every loan is simulated day by day from one month before the run date to
//! the run date with its own random stream, so loans can be simulated in
//! parallel and the portfolio does not depend on the thread count. The
//! dynamics are deliberately simple but believable: instalments fall due
//! monthly, some are missed (more often for worse grades), delinquent loans
//! age a day at a time or cure, loans past 180 days get charged off and
//! then recover slowly, some prepay, new loans are originated, and
//! delinquent borrowers get repayment plans, legal action, lost contact and
//! the day's collection contacts (SMS, phone, field visits).

mod sim;

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array,
    StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{Datelike, Days, NaiveDate};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use crate::base::calendar::date32;
use crate::error::{fail, FailureKind};
use crate::input::discovery::one_month_before;
pub use sim::{ContactRows, LoanRows};

/// How loan ids are typed in the generated files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum IdType {
    String,
    Int,
}

/// How money is typed in the generated files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MoneyType {
    /// Decimal128(18, 2)
    Decimal,
    /// Float64
    Float64,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenConfig {
    pub output: PathBuf,
    pub loans: usize,
    pub as_of: NaiveDate,
    /// Consecutive daily snapshots ending at `as_of` (at least 1).
    pub days: usize,
    pub seed: u64,
    pub id_type: IdType,
    pub money: MoneyType,
    /// Files per partition.
    pub files: usize,
    /// Loans per row group (and per simulation block).
    pub row_group: usize,
    /// Days of contacts ending at `as_of`.
    pub contact_days: usize,
    /// Extra month-end snapshots: the last day of each of this many months
    /// before `as_of`'s month (for trend history).
    pub months: usize,
    /// Scatter the loan ids (a bijection of the natural ids) so that no
    /// snapshot lists its loans in id order: a book exported unsorted.
    pub shuffle: bool,
}

/// A loan's id in a shuffled book: multiplication by an odd constant is a
/// bijection modulo 2^40, and sends consecutive ids far apart.
fn scattered(id: u64) -> u64 {
    id.wrapping_mul(0x9E37_79B9_7F4B) & ((1 << 40) - 1)
}

impl GenConfig {
    pub fn new(output: PathBuf, loans: usize, as_of: NaiveDate) -> GenConfig {
        GenConfig {
            output,
            loans,
            as_of,
            days: 2,
            seed: 1,
            id_type: IdType::String,
            money: MoneyType::Decimal,
            files: 1,
            row_group: 256 * 1024,
            contact_days: 7,
            months: 0,
            shuffle: false,
        }
    }

    /// Dates with a loans snapshot, oldest first: the month-ago date, the
    /// `days` consecutive dates ending at `as_of` and `months` month-ends.
    pub fn snapshot_dates(&self) -> Vec<NaiveDate> {
        let mut d: Vec<NaiveDate> = (0..self.days.max(1))
            .map(|k| self.as_of - Days::new(k as u64))
            .collect();
        d.push(one_month_before(self.as_of));
        let mut month_end = self.as_of.with_day(1).and_then(|x| x.pred_opt());
        for _ in 0..self.months {
            let Some(e) = month_end else { break };
            d.push(e);
            month_end = e.with_day(1).and_then(|x| x.pred_opt());
        }
        d.sort();
        d.dedup();
        d
    }

    /// Dates with a contacts partition.
    pub fn contact_dates(&self) -> Vec<NaiveDate> {
        let mut d: Vec<NaiveDate> = (0..self.contact_days)
            .map(|k| self.as_of - Days::new(k as u64))
            .collect();
        d.sort();
        d
    }
}

/// Summary of what was written.
#[derive(Clone, Debug)]
pub struct Generated {
    pub loans_rows: Vec<(NaiveDate, usize)>,
    pub contact_rows: Vec<(NaiveDate, usize)>,
}

fn loans_schema(c: &GenConfig) -> SchemaRef {
    let id = match c.id_type {
        IdType::String => DataType::Utf8,
        IdType::Int => DataType::Int64,
    };
    let m = money_type(c);
    let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
    Arc::new(Schema::new(vec![
        f("loan_id", id, false),
        f("as_of_date", DataType::Date32, false),
        f("product", DataType::Utf8, false),
        f("region", DataType::Utf8, true),
        f("credit_grade", DataType::Utf8, true),
        f("origination_date", DataType::Date32, false),
        f("original_principal", m.clone(), false),
        f("principal_balance", m.clone(), false),
        f("scheduled_payment", m.clone(), true),
        f("past_due_amount", m.clone(), false),
        f("days_past_due", DataType::Int32, false),
        f("paid_amount", m.clone(), false),
        f("status", DataType::Utf8, false),
        f("charge_off_date", DataType::Date32, true),
        f("charge_off_amount", m.clone(), true),
        f("recovered_to_date", m.clone(), true),
        f("collateral_value", m.clone(), true),
        f("senior_lien_balance", m, true),
        f("plan_status", DataType::Utf8, true),
        f("legal_stage", DataType::Utf8, true),
        f("contactable", DataType::Boolean, true),
    ]))
}

fn contacts_schema(c: &GenConfig) -> SchemaRef {
    let id = match c.id_type {
        IdType::String => DataType::Utf8,
        IdType::Int => DataType::Int64,
    };
    let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
    Arc::new(Schema::new(vec![
        f("contact_id", id.clone(), false),
        f("loan_id", id, false),
        f(
            "contact_ts",
            // Milliseconds: Parquet has no seconds unit, and a seconds
            // column reaches other readers (DuckDB, Spark) as a bare integer.
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        ),
        f("channel", DataType::Utf8, false),
        f("outcome", DataType::Utf8, false),
        f("ptp_amount", money_type(c), true),
        f("ptp_date", DataType::Date32, true),
        f("agent_id", DataType::Utf8, true),
    ]))
}

fn money_type(c: &GenConfig) -> DataType {
    match c.money {
        MoneyType::Decimal => DataType::Decimal128(18, 2),
        MoneyType::Float64 => DataType::Float64,
    }
}

fn money_array(c: &GenConfig, v: Vec<Option<i64>>) -> ArrayRef {
    match c.money {
        MoneyType::Decimal => Arc::new(
            Decimal128Array::from(
                v.into_iter()
                    .map(|x| x.map(|c| c as i128))
                    .collect::<Vec<_>>(),
            )
            .with_precision_and_scale(18, 2)
            .expect("valid decimal type"),
        ),
        MoneyType::Float64 => Arc::new(Float64Array::from(
            v.into_iter()
                .map(|x| x.map(|c| c as f64 / 100.0))
                .collect::<Vec<_>>(),
        )),
    }
}

fn id_array(c: &GenConfig, ids: &[u64], prefix: &str) -> ArrayRef {
    let scattered_ids: Vec<u64>;
    let ids = if c.shuffle && prefix == "L" {
        scattered_ids = ids.iter().map(|&i| scattered(i)).collect();
        &scattered_ids
    } else {
        ids
    };
    match c.id_type {
        IdType::Int => Arc::new(Int64Array::from(
            ids.iter().map(|&i| i as i64).collect::<Vec<_>>(),
        )),
        IdType::String => Arc::new(StringArray::from_iter_values(
            ids.iter().map(|i| format!("{prefix}{i:010}")),
        )),
    }
}

fn dates_array(v: Vec<Option<NaiveDate>>) -> ArrayRef {
    Arc::new(Date32Array::from(
        v.into_iter().map(|d| d.map(date32)).collect::<Vec<_>>(),
    ))
}

fn loans_batch(c: &GenConfig, date: NaiveDate, r: LoanRows) -> Result<RecordBatch> {
    let n = r.id.len();
    let cols: Vec<ArrayRef> = vec![
        id_array(c, &r.id, "L"),
        dates_array(vec![Some(date); n]),
        Arc::new(StringArray::from_iter_values(
            r.product.iter().map(|&p| sim::PRODUCTS[p as usize]),
        )),
        Arc::new(StringArray::from(
            r.region
                .iter()
                .map(|&g| g.map(|g| sim::REGIONS[g as usize]))
                .collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            r.grade
                .iter()
                .map(|&g| Some(sim::GRADES[g as usize]))
                .collect::<Vec<_>>(),
        )),
        dates_array(r.origination.into_iter().map(Some).collect()),
        money_array(c, r.original.into_iter().map(Some).collect()),
        money_array(c, r.balance.into_iter().map(Some).collect()),
        money_array(c, r.scheduled.into_iter().map(Some).collect()),
        money_array(c, r.past_due.into_iter().map(Some).collect()),
        Arc::new(Int32Array::from(r.dpd)),
        money_array(c, r.paid.into_iter().map(Some).collect()),
        Arc::new(StringArray::from_iter_values(
            r.status.iter().map(|&s| sim::STATUSES[s as usize]),
        )),
        dates_array(r.charge_off_date),
        money_array(c, r.charge_off_amount),
        money_array(c, r.recovered),
        money_array(c, r.collateral),
        money_array(c, r.senior),
        Arc::new(StringArray::from_iter_values(
            r.plan.iter().map(|&s| sim::PLANS[s as usize]),
        )),
        Arc::new(StringArray::from_iter_values(
            r.legal.iter().map(|&s| sim::LEGAL[s as usize]),
        )),
        Arc::new(BooleanArray::from(r.contactable)),
    ];
    Ok(RecordBatch::try_new(loans_schema(c), cols)?)
}

fn contacts_batch(c: &GenConfig, r: ContactRows) -> Result<RecordBatch> {
    let cols: Vec<ArrayRef> = vec![
        id_array(c, &r.contact_id, "C"),
        id_array(c, &r.loan_id, "L"),
        Arc::new(TimestampMillisecondArray::from(
            r.ts.iter().map(|s| s * 1000).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from_iter_values(
            r.channel.iter().map(|&s| sim::CHANNELS[s as usize]),
        )),
        Arc::new(StringArray::from_iter_values(
            r.outcome.iter().map(|&s| sim::OUTCOMES[s as usize]),
        )),
        money_array(c, r.ptp_amount),
        dates_array(r.ptp_date),
        Arc::new(StringArray::from(
            r.agent
                .iter()
                .map(|a| a.map(|a| format!("A{a:03}")))
                .collect::<Vec<_>>(),
        )),
    ];
    Ok(RecordBatch::try_new(contacts_schema(c), cols)?)
}

/// Parquet writers of one dataset, one per (date, file).
struct Writers {
    writers: Vec<Vec<ArrowWriter<BufWriter<File>>>>,
    rows: Vec<usize>,
}

impl Writers {
    fn new(
        root: &Path,
        dataset: &str,
        dates: &[NaiveDate],
        files: usize,
        schema: SchemaRef,
    ) -> Result<Writers> {
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(usize::MAX))
            .build();
        let mut writers = Vec::new();
        for d in dates {
            let dir = root.join(dataset).join(format!("as_of_date={d}"));
            fs::create_dir_all(&dir).map_err(|e| {
                fail(
                    FailureKind::Output,
                    format!("creating '{}': {e}", dir.display()),
                )
            })?;
            let mut per = Vec::new();
            for k in 0..files {
                let p = dir.join(format!("part-{k:05}.parquet"));
                let f = File::create(&p).map_err(|e| {
                    fail(
                        FailureKind::Output,
                        format!("creating '{}': {e}", p.display()),
                    )
                })?;
                per.push(ArrowWriter::try_new(
                    BufWriter::new(f),
                    schema.clone(),
                    Some(props.clone()),
                )?);
            }
            writers.push(per);
        }
        Ok(Writers {
            writers,
            rows: vec![0; dates.len()],
        })
    }
    /// Writes a block's batch as one row group of file `block % files`.
    fn write(&mut self, date_idx: usize, block: usize, b: &RecordBatch) -> Result<()> {
        if b.num_rows() == 0 {
            return Ok(());
        }
        let per = &mut self.writers[date_idx];
        let n = per.len();
        let w = &mut per[block % n];
        w.write(b)?;
        w.flush()?;
        self.rows[date_idx] += b.num_rows();
        Ok(())
    }
    fn close(self) -> Result<()> {
        for per in self.writers {
            for w in per {
                w.close()?;
            }
        }
        Ok(())
    }
}

/// Writes the portfolio under `cfg.output` (loans/ and contacts/).
pub fn generate(cfg: &GenConfig) -> Result<Generated> {
    let snap_dates = cfg.snapshot_dates();
    let contact_dates = cfg.contact_dates();
    for ds in ["loans", "contacts"] {
        let d = cfg.output.join(ds);
        if d.exists() {
            fs::remove_dir_all(&d).with_context(|| format!("clearing '{}'", d.display()))?;
        }
    }
    let mut lw = Writers::new(
        &cfg.output,
        "loans",
        &snap_dates,
        cfg.files.max(1),
        loans_schema(cfg),
    )?;
    let mut cw = Writers::new(
        &cfg.output,
        "contacts",
        &contact_dates,
        1,
        contacts_schema(cfg),
    )?;
    let block = cfg.row_group.max(1);
    let blocks = cfg.loans.div_ceil(block);
    let world = sim::World::new(cfg, &snap_dates, &contact_dates);
    // Simulate a few blocks at a time in parallel, write them in order.
    let wave = rayon::current_num_threads().max(1) * 2;
    for first in (0..blocks).step_by(wave) {
        let done: Vec<Result<(Vec<RecordBatch>, Vec<RecordBatch>)>> = (first
            ..(first + wave).min(blocks))
            .into_par_iter()
            .map(|b| {
                let lo = b * block;
                let hi = ((b + 1) * block).min(cfg.loans);
                let (loans, contacts) = world.simulate_block(lo as u64..hi as u64);
                let lb = loans
                    .into_iter()
                    .zip(&snap_dates)
                    .map(|(r, &d)| loans_batch(cfg, d, r))
                    .collect::<Result<Vec<_>>>()?;
                let cb = contacts
                    .into_iter()
                    .map(|r| contacts_batch(cfg, r))
                    .collect::<Result<Vec<_>>>()?;
                Ok((lb, cb))
            })
            .collect();
        for (k, res) in done.into_iter().enumerate() {
            let (lb, cb) = res?;
            for (i, b) in lb.iter().enumerate() {
                lw.write(i, first + k, b)?;
            }
            for (i, b) in cb.iter().enumerate() {
                cw.write(i, first + k, b)?;
            }
        }
    }
    let out = Generated {
        loans_rows: snap_dates
            .iter()
            .copied()
            .zip(lw.rows.iter().copied())
            .collect(),
        contact_rows: contact_dates
            .iter()
            .copied()
            .zip(cw.rows.iter().copied())
            .collect(),
    };
    lw.close()?;
    cw.close()?;
    Ok(out)
}
