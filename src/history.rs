//! Earlier runs, read back from the program's own outputs under `--output`:
//! the `rates` table (book ratios, roll, cure and entry rates) and the
//! manifest (recoveries) of the last 30 run dates and of the last run date of
//! each of the 12 months before the run date's month, and the `prev` bucket
//! transitions of every run inside the `1m` window (for the duration-based
//! monthly matrix). The report draws its
//! trends from them and takes "yesterday's" and "last month's" value of a
//! flow figure (entry rate, recoveries) from the run of that date.
//!
//! History is advisory: a missing or unreadable earlier output never fails
//! the run. It is skipped and named in the report's data-quality section.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{Date32Type, Decimal128Type, Float64Type, Int32Type, Int64Type};
use arrow::record_batch::RecordBatch;
use chrono::{Datelike, NaiveDate};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use crate::input::guard::StrictFile;
use crate::metrics::duration::{NightCounts, STATES};
use crate::metrics::forecast::ForecastPoint;
use crate::output::published::Published;

use crate::states::{Bucket, BUCKETS};

/// Daily points kept, the run date included.
pub const DAYS: usize = 30;
/// Month-end points kept, the run date's month included.
pub const MONTHS: usize = 13;

/// Key of one rate: period, metric, state, basis (as in the `rates` table).
pub type RateKey = (String, String, String, String);

pub fn key(period: &str, metric: &str, state: &str, basis: &str) -> RateKey {
    (
        period.to_string(),
        metric.to_string(),
        state.to_string(),
        basis.to_string(),
    )
}

/// What one earlier run published.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Rate values (`None` where the denominator was zero).
    pub rates: HashMap<RateKey, Option<f64>>,
    /// Recoveries over the run's `prev` period, cents (from its manifest).
    pub recovered_prev: Option<i128>,
    /// The run's `prev` bucket transitions (read for runs inside the `1m`
    /// window only): its from date and the counts without the `NEW` row.
    pub prev_night: Option<(NaiveDate, NightCounts)>,
    /// The run's `vintage` rows (absent before the table existed).
    pub vintage: Vec<VintagePoint>,
    /// The run's `recovery_cohorts` rows with a charge-off month.
    pub cohorts: Vec<CohortPoint>,
    /// What the run forecast one month ahead (`forecast` rows of method
    /// `cohort_1m`, measure `expected`, horizon 1; absent before the table
    /// existed), for the backtest.
    pub forecast_1: Vec<ForecastPoint>,
}

/// One vintage at one earlier run: money in cents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VintagePoint {
    /// `YYYY-MM`.
    pub origination_month: String,
    pub months_on_book: i32,
    pub original_principal: i128,
    pub dpd30_balance: i128,
    pub dpd90_balance: i128,
}

/// One charge-off cohort at one earlier run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CohortPoint {
    /// `YYYY-MM`.
    pub charge_off_month: String,
    pub charge_off_amount: i128,
    pub recovered_to_date: i128,
}

/// The earlier runs found, by date (all before the run date).
#[derive(Clone, Debug, Default)]
pub struct History {
    pub runs: BTreeMap<NaiveDate, Run>,
    /// Earlier outputs that could not be read, with the reason.
    pub problems: Vec<String>,
}

impl History {
    pub fn get(&self, d: NaiveDate) -> Option<&Run> {
        self.runs.get(&d)
    }
}

/// The earlier run dates worth reading: the last `DAYS - 1` before `as_of`,
/// the last one of each of the `MONTHS - 1` months before `as_of`'s month,
/// every one after `since` (the `1m` window), and any explicitly `wanted`
/// (the comparison dates).
pub fn select(
    available: &[NaiveDate],
    as_of: NaiveDate,
    wanted: &[NaiveDate],
    since: Option<NaiveDate>,
) -> Vec<NaiveDate> {
    let earlier: Vec<NaiveDate> = available.iter().copied().filter(|&d| d < as_of).collect();
    let mut pick: BTreeSet<NaiveDate> = earlier.iter().rev().take(DAYS - 1).copied().collect();
    if let Some(since) = since {
        pick.extend(earlier.iter().filter(|&&d| d > since));
    }
    let first_month = month_index(as_of) - (MONTHS as i32 - 1);
    let mut month_end: BTreeMap<i32, NaiveDate> = BTreeMap::new();
    for &d in &earlier {
        let m = month_index(d);
        if m >= first_month && m < month_index(as_of) {
            month_end.insert(m, d); // ascending: the last one wins
        }
    }
    pick.extend(month_end.values());
    pick.extend(wanted.iter().filter(|d| earlier.contains(d)));
    pick.into_iter().collect()
}

/// Months since year 0, for month arithmetic.
pub fn month_index(d: NaiveDate) -> i32 {
    d.year() * 12 + d.month0() as i32
}

/// Reads the history of `as_of` from the output root; `since` starts the
/// window whose runs' night transitions are read (the `1m` date).
pub fn load(
    published: &Published,
    as_of: NaiveDate,
    wanted: &[NaiveDate],
    since: Option<NaiveDate>,
) -> History {
    let mut h = History::default();
    let available = published.dates("rates");
    for d in select(&available, as_of, wanted, since) {
        // A table's file, or a problem naming where it was looked for.
        let find = |table: &str, problems: &mut Vec<String>| match published.file(table, d) {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("'{}' skipped: {e:#}", published.location(table, d)));
                None
            }
        };
        let Some(rates_file) = find("rates", &mut h.problems) else {
            continue;
        };
        let rates = match read_rates(&rates_file) {
            Ok(r) => r,
            Err(e) => {
                h.problems
                    .push(format!("'{}' skipped: {e:#}", rates_file.display()));
                continue;
            }
        };
        let recovered_prev = match published.manifest(d).and_then(|m| match m {
            Some(bytes) => read_recovered(&bytes),
            None => Ok(None),
        }) {
            Ok(r) => r,
            Err(e) => {
                h.problems.push(format!(
                    "'{}' skipped: {e:#}",
                    published.manifest_path(d).display()
                ));
                None
            }
        };
        let prev_night = match since {
            Some(s) if d > s => match find("transitions", &mut h.problems) {
                Some(file) => match read_prev_night(&file) {
                    Ok(n) => n,
                    Err(e) => {
                        h.problems
                            .push(format!("'{}' skipped: {e:#}", file.display()));
                        None
                    }
                },
                None => None,
            },
            _ => None,
        };
        let vintage = optional(
            find("vintage", &mut h.problems),
            read_vintage,
            &mut h.problems,
        );
        let cohorts = optional(
            find("recovery_cohorts", &mut h.problems),
            read_cohorts,
            &mut h.problems,
        );
        let forecast_1 = optional(
            find("forecast", &mut h.problems),
            read_forecast_1,
            &mut h.problems,
        );
        h.runs.insert(
            d,
            Run {
                rates,
                recovered_prev,
                prev_night,
                vintage,
                cohorts,
                forecast_1,
            },
        );
    }
    h
}

/// The nights of a month chained for the duration-based matrix: each
/// night's `prev` bucket transitions from the `1m` date to the run date.
#[derive(Clone, Debug)]
pub struct MonthChain {
    pub nights: Vec<NightCounts>,
    /// Stretches of the window no run covers (from, to).
    pub gaps: Vec<(NaiveDate, NaiveDate)>,
    /// Runs left out because their `prev` period overlaps the chain.
    pub overlaps: Vec<(NaiveDate, NaiveDate)>,
}

impl MonthChain {
    /// The Aalen-Johansen one-month matrix: the product of the nights.
    pub fn matrix(&self) -> crate::metrics::duration::Probabilities {
        crate::metrics::duration::product(self.nights.iter())
    }

    /// Whether anybody was in state `i` on some night of the chain.
    pub fn at_risk(&self, i: usize) -> bool {
        self.nights.iter().any(|n| n[i].iter().sum::<u64>() > 0)
    }
}

impl History {
    /// Chains the earlier runs' published `prev` transitions after `start`
    /// (the `1m` date) and then `today`'s (the run's own `prev` night, from
    /// its date), greedily in date order: a night must start where the
    /// chain ended; a later start leaves a gap, an earlier one overlaps what
    /// is already chained and is left out.
    pub fn month_chain(
        &self,
        start: NaiveDate,
        as_of: NaiveDate,
        today: Option<(NaiveDate, NightCounts)>,
    ) -> MonthChain {
        let mut nights: Vec<(NaiveDate, NaiveDate, NightCounts)> = self
            .runs
            .iter()
            .filter(|(d, _)| **d > start)
            .filter_map(|(d, r)| r.prev_night.map(|(from, n)| (from, *d, n)))
            .collect();
        if let Some((from, n)) = today {
            nights.push((from, as_of, n));
        }
        let mut c = MonthChain {
            nights: Vec::new(),
            gaps: Vec::new(),
            overlaps: Vec::new(),
        };
        let mut covered = start;
        for (from, to, n) in nights {
            if from < covered {
                c.overlaps.push((from, to));
                continue;
            }
            if from > covered {
                c.gaps.push((covered, from));
            }
            c.nights.push(n);
            covered = to;
        }
        if covered < as_of {
            c.gaps.push((covered, as_of));
        }
        c
    }
}

/// Rows of a table that earlier versions did not write: absent is empty,
/// unreadable is a problem.
fn optional<T>(
    file: Option<PathBuf>,
    read: fn(&Path) -> Result<Vec<T>>,
    problems: &mut Vec<String>,
) -> Vec<T> {
    let Some(file) = file else {
        return Vec::new();
    };
    read(&file).unwrap_or_else(|e| {
        problems.push(format!("'{}' skipped: {e:#}", file.display()));
        Vec::new()
    })
}

/// A Parquet reader over one of the program's own output files.
fn open_table(path: &Path) -> Result<ParquetRecordBatchReader> {
    let file = StrictFile::open(path)?;
    Ok(ParquetRecordBatchReaderBuilder::try_new(file)
        .context("not a readable Parquet file")?
        .build()?)
}

/// A Utf8 column of a batch as owned strings (null as empty).
fn text_column(batch: &RecordBatch, name: &str) -> Result<Vec<String>> {
    let a = batch
        .column_by_name(name)
        .ok_or_else(|| anyhow!("no column '{name}'"))?;
    let s = a
        .as_string_opt::<i32>()
        .ok_or_else(|| anyhow!("column '{name}' is not Utf8"))?;
    Ok(s.iter().map(|v| v.unwrap_or("").to_string()).collect())
}

fn read_rates(path: &Path) -> Result<HashMap<RateKey, Option<f64>>> {
    let reader = open_table(path)?;
    let mut out = HashMap::new();
    for batch in reader {
        let batch = batch?;
        let text = |name: &str| text_column(&batch, name);
        let (period, metric, state, basis) = (
            text("period")?,
            text("metric")?,
            text("state")?,
            text("basis")?,
        );
        let value = batch
            .column_by_name("value")
            .and_then(|a| a.as_primitive_opt::<Float64Type>())
            .ok_or_else(|| anyhow!("column 'value' is missing or not Float64"))?;
        for i in 0..batch.num_rows() {
            let v = value.is_valid(i).then(|| value.value(i));
            out.insert(
                (
                    period[i].clone(),
                    metric[i].clone(),
                    state[i].clone(),
                    basis[i].clone(),
                ),
                v,
            );
        }
    }
    Ok(out)
}

/// The `prev` bucket matrix of a `transitions` file, without its `NEW` row
/// (`None` when that run had no `prev` period).
fn read_prev_night(path: &Path) -> Result<Option<(NaiveDate, NightCounts)>> {
    let reader = open_table(path)?;
    let state = |s: &str| -> Option<usize> {
        if s == "EXIT" {
            return Some(BUCKETS);
        }
        Bucket::ALL.iter().position(|b| b.label() == s)
    };
    let mut counts: NightCounts = [[0; STATES]; STATES];
    let mut from: Option<NaiveDate> = None;
    for batch in reader {
        let batch = batch?;
        let text = |name: &str| text_column(&batch, name);
        let (period, dimension, from_state, to_state) = (
            text("period")?,
            text("dimension")?,
            text("from_state")?,
            text("to_state")?,
        );
        let loans = batch
            .column_by_name("loans")
            .and_then(|a| a.as_primitive_opt::<Int64Type>())
            .ok_or_else(|| anyhow!("column 'loans' is missing or not Int64"))?;
        let from_date = batch
            .column_by_name("from_date")
            .and_then(|a| a.as_primitive_opt::<Date32Type>())
            .ok_or_else(|| anyhow!("column 'from_date' is missing or not Date32"))?;
        for i in 0..batch.num_rows() {
            if period[i] != "prev" || dimension[i] != "bucket" || from_state[i] == "NEW" {
                continue;
            }
            let (Some(a), Some(b)) = (state(&from_state[i]), state(&to_state[i])) else {
                return Err(anyhow!(
                    "unknown state {:?} -> {:?}",
                    from_state[i],
                    to_state[i]
                ));
            };
            counts[a][b] += loans.value(i).max(0) as u64;
            from = NaiveDate::from_ymd_opt(1970, 1, 1).and_then(|e| {
                e.checked_add_signed(chrono::Duration::days(from_date.value(i) as i64))
            });
        }
    }
    Ok(from.map(|d| (d, counts)))
}

/// A Decimal128 column as cents (null as `None`); the tables write (20, 2).
fn money_column(batch: &RecordBatch, name: &str) -> Result<Vec<Option<i128>>> {
    let a = batch
        .column_by_name(name)
        .and_then(|a| a.as_primitive_opt::<Decimal128Type>())
        .ok_or_else(|| anyhow!("column '{name}' is missing or not Decimal128"))?;
    if a.scale() != 2 {
        return Err(anyhow!(
            "column '{name}' has scale {}, expected 2",
            a.scale()
        ));
    }
    Ok(a.iter().collect())
}

fn read_vintage(path: &Path) -> Result<Vec<VintagePoint>> {
    let mut out = Vec::new();
    for batch in open_table(path)? {
        let batch = batch?;
        let month = text_column(&batch, "origination_month")?;
        let mob = batch
            .column_by_name("months_on_book")
            .and_then(|a| a.as_primitive_opt::<Int32Type>())
            .ok_or_else(|| anyhow!("column 'months_on_book' is missing or not Int32"))?;
        let (orig, d30, d90) = (
            money_column(&batch, "original_principal")?,
            money_column(&batch, "dpd30_balance")?,
            money_column(&batch, "dpd90_balance")?,
        );
        for i in 0..batch.num_rows() {
            out.push(VintagePoint {
                origination_month: month[i].clone(),
                months_on_book: mob.value(i),
                original_principal: orig[i].unwrap_or(0),
                dpd30_balance: d30[i].unwrap_or(0),
                dpd90_balance: d90[i].unwrap_or(0),
            });
        }
    }
    Ok(out)
}

fn read_forecast_1(path: &Path) -> Result<Vec<ForecastPoint>> {
    let mut out = Vec::new();
    for batch in open_table(path)? {
        let batch = batch?;
        let text = |name: &str| text_column(&batch, name);
        let (method, basis, state, measure) = (
            text("method")?,
            text("basis")?,
            text("state")?,
            text("measure")?,
        );
        let horizon = batch
            .column_by_name("horizon_months")
            .and_then(|a| a.as_primitive_opt::<Int32Type>())
            .ok_or_else(|| anyhow!("column 'horizon_months' is missing or not Int32"))?;
        let value = batch
            .column_by_name("value")
            .and_then(|a| a.as_primitive_opt::<Float64Type>())
            .ok_or_else(|| anyhow!("column 'value' is missing or not Float64"))?;
        for i in 0..batch.num_rows() {
            if method[i] == "cohort_1m" && measure[i] == "expected" && horizon.value(i) == 1 {
                out.push(ForecastPoint {
                    basis: basis[i].clone(),
                    state: state[i].clone(),
                    value: value.value(i),
                });
            }
        }
    }
    Ok(out)
}

fn read_cohorts(path: &Path) -> Result<Vec<CohortPoint>> {
    let mut out = Vec::new();
    for batch in open_table(path)? {
        let batch = batch?;
        let month = text_column(&batch, "charge_off_month")?;
        let (amount, recovered) = (
            money_column(&batch, "charge_off_amount")?,
            money_column(&batch, "recovered_to_date")?,
        );
        for i in 0..batch.num_rows() {
            if month[i].is_empty() {
                continue; // no charge-off date: no place on a curve
            }
            out.push(CohortPoint {
                charge_off_month: month[i].clone(),
                charge_off_amount: amount[i].unwrap_or(0),
                recovered_to_date: recovered[i].unwrap_or(0),
            });
        }
    }
    Ok(out)
}

/// `recovered_prev` of a manifest's figures (absent in manifests written
/// before it existed, or when that run had no `prev`).
fn read_recovered(manifest: &[u8]) -> Result<Option<i128>> {
    let v: serde_json::Value = serde_json::from_slice(manifest).context("not valid JSON")?;
    let Some(s) = v
        .pointer("/figures/recovered_prev")
        .and_then(|x| x.as_str())
    else {
        return Ok(None);
    };
    crate::money::parse_plain(s)
        .map(Some)
        .ok_or_else(|| anyhow!("figures.recovered_prev {s:?} is not an amount"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn selects_recent_days_and_month_ends() {
        // Daily runs from 2025-09-01 to 2026-11-29.
        let mut all = Vec::new();
        let mut x = d("2025-09-01");
        while x <= d("2026-11-29") {
            all.push(x);
            x = x.succ_opt().unwrap();
        }
        let as_of = d("2026-11-29");
        let got = select(&all, as_of, &[], None);
        // 29 earlier days: 2026-10-31 .. 2026-11-28.
        assert!(got.contains(&d("2026-10-31")) && got.contains(&d("2026-11-28")));
        assert!(!got.contains(&d("2026-10-30")));
        // Month ends of the 12 months before November 2026.
        assert!(got.contains(&d("2025-11-30")) && got.contains(&d("2026-09-30")));
        assert!(!got.contains(&d("2025-10-31")));
        assert!(!got.contains(&as_of));
        assert_eq!(got.len(), 29 + 12 - 1); // 2026-10-31 is both
    }

    #[test]
    fn wanted_dates_are_kept_and_missing_history_is_empty() {
        let all = vec![d("2020-01-01"), d("2026-10-29"), d("2026-11-28")];
        let got = select(&all, d("2026-11-29"), &[d("2020-01-01")], None);
        assert_eq!(got, all);
        // The `1m` window adds every run after its start.
        let many: Vec<NaiveDate> = (0..60)
            .map(|k| d("2026-09-01") + chrono::Days::new(k))
            .collect();
        let as_of = d("2026-10-31");
        let without = select(&many, as_of, &[], None);
        let with = select(&many, as_of, &[], Some(d("2026-09-30")));
        assert!(!without.contains(&d("2026-10-01")) && with.contains(&d("2026-10-01")));
        assert!(with.contains(&d("2026-09-30")) && !with.contains(&d("2026-09-29")));
        let h = load(
            &Published::new(Path::new("/nonexistent")),
            d("2026-11-29"),
            &[],
            None,
        );
        assert!(h.runs.is_empty() && h.problems.is_empty());
    }
}
