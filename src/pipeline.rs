//! The nightly job, start to finish, in one direction:
//! discover -> read snapshots -> compute figures -> reconcile -> stage tables,
//! report and manifest -> publish atomically.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDate;

use crate::checks;
use crate::error::{fail, FailureKind};
use crate::figures::{ContactSummary, DimLabels, Figures, NoWorklist, Period, TierSource};
use crate::history;
use crate::input::contacts::{self, Contacts};
use crate::input::discovery::{self, Partition};
use crate::input::reader;
use crate::input::snapshot::{LoanIds, Snapshot};
use crate::metrics::book::BookTally;
use crate::metrics::movement::Movement;
use crate::metrics::promises::{self, ContactFlags};
use crate::metrics::strategy;
use crate::metrics::tally::Tally;
use crate::metrics::{
    book, channels, collateral, compliance, join, movement, rates, recovery, transitions,
};
use crate::money;
use crate::output::manifest::{
    HeadlineFigures, InputFile, InputPartition, Manifest, OutputTable, PeriodInfo, Timing,
};
use crate::output::publish::{self, Stage};
use crate::output::{parquet_file, tables, worklist, SCHEMA_VERSION};
use crate::policy::tiers::TIERS;
use crate::policy::Policy;
use crate::report;
use crate::report::view::RunInfo;
use crate::states::BUCKETS;

/// A validated run request (built from the command line by `cli`).
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub input: PathBuf,
    pub output: PathBuf,
    pub as_of: Option<NaiveDate>,
    pub threads: Option<usize>,
    pub policy: Policy,
    pub report: report::Options,
}

/// What a successful run published.
#[derive(Clone, Debug)]
pub struct RunSummary {
    pub as_of: NaiveDate,
    pub report: PathBuf,
    pub manifest: PathBuf,
    pub tables: Vec<(String, PathBuf, usize)>,
    pub unavailable: Vec<&'static str>,
    /// What a crashed earlier run had left in the output, and was finished
    /// or removed before this run.
    pub recovered: publish::Recovered,
}

struct Clock {
    last: Instant,
    timings: Vec<Timing>,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            last: Instant::now(),
            timings: Vec::new(),
        }
    }
    fn lap(&mut self, stage: &str) {
        let now = Instant::now();
        self.timings.push(Timing {
            stage: stage.to_string(),
            millis: (now - self.last).as_secs_f64() * 1000.0,
        });
        self.last = now;
    }
}

/// Runs the nightly job with its own thread pool.
pub fn run(cfg: &RunConfig) -> Result<RunSummary> {
    pool(cfg.threads)?.install(|| run_in_pool(cfg))
}

/// The worker threads of one run (`None`: one per core).
fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        b = b.num_threads(n);
    }
    b.build().context("starting the thread pool")
}

/// A snapshot and the partition it came from.
struct Loaded {
    role: &'static str,
    snap: Snapshot,
}

fn load(part: &Partition, role: &'static str, policy: &Policy) -> Result<Loaded> {
    Ok(Loaded {
        role,
        snap: reader::read_loans(
            part,
            &policy.columns,
            if role == "as_of" {
                reader::Extent::RunDate
            } else {
                reader::Extent::Comparison
            },
        )?,
    })
}

/// Everything a run reads, every input check passed.
struct Inputs {
    cur: Loaded,
    prev: Option<Loaded>,
    /// `None` also when `1m` is the same snapshot as `prev` (read once).
    m1: Option<Loaded>,
    contact_input: ContactInput,
}

impl Inputs {
    /// The loans snapshots read, run date first.
    fn loaded(&self) -> impl Iterator<Item = &Loaded> {
        std::iter::once(&self.cur)
            .chain(self.prev.iter())
            .chain(self.m1.iter())
    }

    /// Every partition read, as the manifest (and `validate`) lists them.
    fn describe(&self) -> Vec<InputPartition> {
        let mut inputs: Vec<InputPartition> = self.loaded().map(input_info).collect();
        inputs.extend(contacts_info(&self.contact_input, self.cur.snap.date));
        inputs
    }
}

/// Reads and checks the run date's snapshot, the comparison snapshots and
/// the contacts: the same reading, and so the same checks, for `run` and
/// `validate`.
fn read_inputs(
    catalog: &discovery::Catalog,
    dates: &discovery::RunDates,
    policy: &Policy,
    clock: &mut Clock,
) -> Result<Inputs> {
    let cur = load(&dates.as_of, "as_of", policy)?;
    let prev = dates
        .prev
        .as_ref()
        .map(|p| load(p, "prev", policy))
        .transpose()?;
    // On a monthly schedule `1m` and `prev` are the same snapshot: read it once.
    let m1 = match (&dates.month_ago, &prev) {
        (Some(p), Some(pv)) if pv.snap.date == p.date => None,
        (Some(p), _) => Some(load(p, "1m", policy)?),
        (None, _) => None,
    };
    clock.lap("read");
    let contact_input = read_contacts(catalog, &cur.snap, prev.as_ref().map(|l| &l.snap), policy)?;
    clock.lap("read contacts");
    Ok(Inputs {
        cur,
        prev,
        m1,
        contact_input,
    })
}

/// The `1m` snapshot, which may be the `prev` one.
fn m1_snapshot<'a>(
    dates: &discovery::RunDates,
    prev: &'a Option<Loaded>,
    m1: &'a Option<Loaded>,
) -> Option<&'a Snapshot> {
    match (&dates.month_ago, prev, m1) {
        (_, _, Some(l)) => Some(&l.snap),
        (Some(_), Some(pv), None) => Some(&pv.snap),
        _ => None,
    }
}

/// What `arrears validate` found: the inputs a run of that date would read,
/// all checks passed.
#[derive(Clone, Debug)]
pub struct Validation {
    pub as_of: NaiveDate,
    pub inputs: Vec<InputPartition>,
    /// Comparison periods without a snapshot (the run reports them "not available").
    pub unavailable: Vec<&'static str>,
    /// Earlier snapshots read only for `paid_amount` (promise keeping).
    pub paid_snapshots: Vec<(NaiveDate, usize)>,
}

/// Runs every input check of `run` for a date (discovery, schemas, types,
/// values, duplicates, partition dates, contacts), without computing
/// figures or writing anything.
pub fn validate(
    input: &Path,
    as_of: Option<NaiveDate>,
    policy: &Policy,
    threads: Option<usize>,
) -> Result<Validation> {
    pool(threads)?.install(|| {
        let catalog = discovery::discover(input)?;
        let dates = discovery::resolve_dates(&catalog, as_of)?;
        let mut clock = Clock::new();
        let i = read_inputs(&catalog, &dates, policy, &mut clock)?;
        // Duplicate ids are found by the join's sort in `run`; the same
        // check here, in the same order (run date first).
        for l in i.loaded() {
            join::check_unique(&l.snap)?;
        }
        let mut unavailable = Vec::new();
        if i.prev.is_none() {
            unavailable.push("prev");
        }
        if m1_snapshot(&dates, &i.prev, &i.m1).is_none() {
            unavailable.push("1m");
        }
        Ok(Validation {
            as_of: i.cur.snap.date,
            inputs: i.describe(),
            unavailable,
            paid_snapshots: i
                .contact_input
                .paid
                .iter()
                .map(|(d, ids, _)| (*d, ids.len()))
                .collect(),
        })
    })
}

/// The contacts window as an input of the manifest (none when no file).
fn contacts_info(c: &ContactInput, as_of: NaiveDate) -> Option<InputPartition> {
    let c = c.contacts.as_ref()?;
    if c.files.is_empty() {
        return None;
    }
    Some(InputPartition {
        role: "contacts".into(),
        dataset: "contacts".into(),
        as_of_date: format!("{}..{}", as_of - chrono::Days::new(13), as_of),
        rows: c.len(),
        files: c
            .files
            .iter()
            .map(|(p, rows)| InputFile {
                path: p.display().to_string(),
                rows: *rows,
            })
            .collect(),
        rounded_money_values: 0,
        absent_columns: Vec::new(),
        all_null_columns: Vec::new(),
    })
}

fn run_in_pool(cfg: &RunConfig) -> Result<RunSummary> {
    let mut clock = Clock::new();
    // Templates first: a broken template folder fails before any data is read.
    let engine = report::Engine::new(&cfg.report)?;
    let catalog = discovery::discover(&cfg.input)?;
    let dates = discovery::resolve_dates(&catalog, cfg.as_of)?;
    // Then the output lock: a second run on the same output stops here,
    // before reading any data. Under it, finish what a crashed run left.
    let lock = publish::lock(&cfg.output)?;
    let recovered = publish::recover(&cfg.output, &lock)?;
    clock.lap("discover");

    let read = read_inputs(&catalog, &dates, &cfg.policy, &mut clock)?;
    let earlier = EarlierRuns::read(&cfg.output, read.loaded().skip(1).map(|l| l.snap.date));
    clock.lap("read earlier worklists");
    let figures = compute(
        &cfg.policy,
        &read.cur.snap,
        read.prev.as_ref().map(|l| &l.snap),
        m1_snapshot(&dates, &read.prev, &read.m1),
        &read.contact_input,
        &earlier,
    )?;
    drop(earlier);
    clock.lap("compute");
    clock.timings.extend(figures.compute_steps.iter().cloned());
    // The earlier snapshots and the contacts are done with: describe them
    // for the manifest and free them before the tables are built (RSS
    // falls from about 3.8 to 1.9 GiB at 10M loans for the write).
    let inputs = read.describe();
    let Inputs {
        cur,
        prev,
        m1,
        contact_input,
    } = read;
    drop((prev, m1, contact_input));

    let failed = checks::failures(&figures.checks);
    if !failed.is_empty() {
        return Err(fail(
            FailureKind::Reconciliation,
            format!(
                "reconciliation failed for {}; nothing was published:\n  - {}",
                figures.as_of,
                failed.join("\n  - ")
            ),
        ));
    }

    let as_of = figures.as_of.to_string();
    let mut stage = Stage::new(&cfg.output, &as_of, &lock)?;
    let mut outputs = Vec::new();
    for (name, batch) in tables::all(&figures)? {
        let path = stage.file(name, "part-0.parquet")?;
        parquet_file::write(&path, name, &as_of, std::slice::from_ref(&batch))?;
        outputs.push(OutputTable {
            table: name.to_string(),
            path: stage
                .target(name)
                .join("part-0.parquet")
                .display()
                .to_string(),
            rows: batch.num_rows(),
        });
    }
    // The worklist: loan-level, split into files built and encoded in parallel.
    let rows = worklist::rows(&figures);
    let in_book = figures.headline.npl[0].denominator as usize;
    if rows.len() != in_book {
        return Err(fail(
            FailureKind::Reconciliation,
            format!(
                "reconciliation failed for {}; nothing was published:\n  - worklist rows = active + charged-off loans: expected {in_book}, got {}",
                figures.as_of,
                rows.len()
            ),
        ));
    }
    let paths: Vec<PathBuf> = (0..worklist::files(rows.len()))
        .map(|k| stage.file("worklist", &format!("part-{k:05}.parquet")))
        .collect::<Result<_>>()?;
    let written = worklist::write(&figures, &cur.snap, &cfg.policy, &rows, &paths, &as_of)?;
    drop(rows);
    for (k, n) in written.iter().enumerate() {
        outputs.push(OutputTable {
            table: "worklist".to_string(),
            path: stage
                .target("worklist")
                .join(format!("part-{k:05}.parquet"))
                .display()
                .to_string(),
            rows: *n,
        });
    }
    clock.lap("write tables");

    let wanted: Vec<NaiveDate> = figures.periods.iter().map(|p| p.from_date).collect();
    let since = figures.period("1m").map(|p| p.from_date);
    let past = history::load(&cfg.output, figures.as_of, &wanted, since);
    let html = engine.render(
        &figures,
        &past,
        &RunInfo {
            inputs: &inputs,
            input_root: cfg.input.display().to_string(),
            policy: &cfg.policy,
        },
    )?;
    let report_path = stage.file("report", "report.html")?;
    publish::write_synced(&report_path, html.as_bytes())?;
    clock.lap("render report");

    let manifest = Manifest {
        program: "arrears".into(),
        program_version: env!("CARGO_PKG_VERSION").into(),
        schema_version: SCHEMA_VERSION.into(),
        as_of_date: as_of.clone(),
        threads: rayon::current_num_threads(),
        inputs,
        figures: HeadlineFigures {
            loans: figures.headline.loans,
            principal_balance: money::plain(figures.headline.balance),
            cash_collected: money::plain(figures.headline.cash_collected),
            recovered_prev: figures.period("prev").map(|p| money::plain(p.recovered)),
            recovered_1m: figures.period("1m").map(|p| money::plain(p.recovered)),
            contact_orphans: figures.contacts.orphans,
            promises_due: figures.contacts.promises_due,
            promises_kept: figures.contacts.promises_kept,
            promises_open: figures.contacts.promises_open,
            contacts_today: figures.contacts.today,
            compliance_profile: crate::output::recovery::profile_label(figures.compliance.profile)
                .into(),
            compliance_exceptions: figures.compliance.rows.len(),
            credit_repair_loans: figures.recovery.credit_repair.len(),
        },
        periods: ["prev", "1m"]
            .iter()
            .map(|&name| {
                let p = figures.period(name);
                PeriodInfo {
                    period: name.into(),
                    available: p.is_some(),
                    from_date: p.map(|p| p.from_date.to_string()),
                    tiers_from: p.map(|p| p.tiers_from.label().to_string()),
                }
            })
            .collect(),
        outputs: outputs.clone(),
        checks: figures.checks.clone(),
        timings: clock.timings.clone(),
    };
    let manifest_path = stage.file("manifest", "manifest.json")?;
    let json = serde_json::to_string_pretty(&manifest).context("serialising the manifest")?;
    publish::write_synced(&manifest_path, json.as_bytes())?;

    let report_target = stage.target("report").join("report.html");
    let manifest_target = stage.target("manifest").join("manifest.json");
    stage.publish()?;
    Ok(RunSummary {
        as_of: figures.as_of,
        report: report_target,
        manifest: manifest_target,
        tables: outputs
            .into_iter()
            .map(|o| (o.table, PathBuf::from(o.path), o.rows))
            .collect(),
        unavailable: figures.unavailable.clone(),
        recovered,
    })
}

/// Contacts of D-13..D (promises made up to 13 days ago can fall due in
/// D-6..D) and, when promises are followed (due or open), `paid_amount` of the loans
/// snapshots after the earliest such promise that the run has not read.
fn read_contacts(
    catalog: &discovery::Catalog,
    cur: &Snapshot,
    prev: Option<&Snapshot>,
    policy: &Policy,
) -> Result<ContactInput> {
    let from = cur.date - chrono::Days::new(13);
    let contacts = contacts::read_window(
        catalog,
        from,
        cur.date,
        cur.ids.is_int(),
        policy.compliance.time_zone,
    )?;
    let today = epoch_days(cur.date);
    let earliest_due = (0..contacts.len())
        .filter(|&c| promises::followed(&contacts, c, today))
        .map(|c| contacts.date[c])
        .min();
    let mut paid = Vec::new();
    if let Some(first) = earliest_due {
        for part in &catalog.loans.partitions {
            let d = epoch_days(part.date);
            let loaded = part.date == cur.date || prev.is_some_and(|p| p.date == part.date);
            if d > first && d < today && !loaded {
                let (ids, amounts) = reader::read_paid(part, &policy.columns)?;
                paid.push((part.date, ids, amounts));
            }
        }
    }
    Ok(ContactInput {
        contacts: Some(contacts),
        paid,
    })
}

fn input_info(l: &Loaded) -> InputPartition {
    InputPartition {
        role: l.role.into(),
        dataset: "loans".into(),
        as_of_date: l.snap.date.to_string(),
        rows: l.snap.len(),
        files: l
            .snap
            .files
            .iter()
            .zip(&l.snap.file_rows)
            .map(|(p, &rows)| InputFile {
                path: p.display().to_string(),
                rows,
            })
            .collect(),
        rounded_money_values: l.snap.rounded_money_values,
        absent_columns: names(&l.snap.columns.absent),
        all_null_columns: names(&l.snap.columns.all_null),
    }
}

fn names(columns: &[&str]) -> Vec<String> {
    columns.iter().map(|c| c.to_string()).collect()
}

/// What earlier runs under `--output` published that this run uses: the
/// tiers of the comparison dates from their own worklists.
#[derive(Debug, Default)]
pub struct EarlierRuns {
    pub worklists: Vec<(
        NaiveDate,
        std::result::Result<history::WorklistTiers, NoWorklist>,
    )>,
}

impl EarlierRuns {
    /// Reads the worklists of the comparison dates. Never fails the run: an
    /// unreadable worklist is a reason to compute those tiers from the
    /// snapshot instead, and the report says so.
    pub fn read(output: &Path, dates: impl Iterator<Item = NaiveDate>) -> EarlierRuns {
        EarlierRuns {
            worklists: dates
                .map(|d| {
                    let w = match history::worklist_tiers(output, d) {
                        Ok(Some(w)) => Ok(w),
                        Ok(None) => Err(NoWorklist::NoRun),
                        Err(e) => Err(NoWorklist::Unusable(format!("{e:#}"))),
                    };
                    (d, w)
                })
                .collect(),
        }
    }

    /// The earlier date's tiers of every row of `snap` from that run's
    /// worklist, or why not.
    fn tiers(&self, snap: &Snapshot) -> std::result::Result<Vec<u8>, NoWorklist> {
        match self.worklists.iter().find(|(d, _)| *d == snap.date) {
            None => Err(NoWorklist::NoRun),
            Some((_, Err(why))) => Err(why.clone()),
            Some((_, Ok(w))) => w.for_rows(snap).map_err(|e| {
                NoWorklist::Unusable(format!(
                    "the worklist of {} does not match its snapshot: {e}",
                    snap.date
                ))
            }),
        }
    }
}

/// What a comparison period needs from its earlier snapshot.
#[derive(Clone)]
struct Comparison {
    movement: Movement,
    tally: BookTally,
    bucket_totals: [Tally; BUCKETS],
    /// Tier codes at the earlier date (paid-off loans as `PAID`).
    tiers: Vec<u8>,
    tiers_from: TierSource,
    /// The earlier rows sorted by key; `None` when both dates were joined
    /// in input order.
    sorted: Option<join::SortedIds>,
    states: book::States,
}

/// An earlier snapshot as the recovery figures look back at it.
fn earlier_view<'a>(
    snap: Option<&'a Snapshot>,
    w: &'a Option<Comparison>,
) -> Option<recovery::Earlier<'a>> {
    snap.zip(w.as_ref()).map(|(snap, w)| recovery::Earlier {
        snap,
        rows: &w.movement.earlier_row,
        buckets: &w.states.bucket,
    })
}

/// State label of the plan cohort's rates: loans in an active plan at `1m`.
pub const PLAN_COHORT: &str = "active_plan";

/// Tier transition states: the seven tiers, then `PAID` (no tier).
pub const TIER_STATES: usize = TIERS + 1;

/// Tier codes of a strategy with paid-off loans as state `TIERS` (`PAID`).
fn tier_codes(s: &strategy::LoanStrategy) -> Vec<u8> {
    s.tier
        .iter()
        .map(|&t| {
            if t == strategy::NO_TIER {
                TIERS as u8
            } else {
                t
            }
        })
        .collect()
}

/// The contacts of the window and, for promise keeping, `paid_amount` of
/// the loans snapshots between the promises and their dates (besides the
/// run date's and `prev`'s, which the run has already read).
#[derive(Debug, Default)]
pub struct ContactInput {
    pub contacts: Option<Contacts>,
    pub paid: Vec<(NaiveDate, LoanIds, Vec<i64>)>,
}

fn epoch_days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// Computes every figure of a run date from its snapshot and the
/// comparison snapshots that exist. Pure: no I/O.
pub fn compute(
    policy: &Policy,
    cur: &Snapshot,
    prev: Option<&Snapshot>,
    m1: Option<&Snapshot>,
    contact_input: &ContactInput,
    earlier: &EarlierRuns,
) -> Result<Figures> {
    let mut steps = Clock::new();
    let cur_states = book::assign(cur, policy);
    let tally = book::tally(cur, &cur_states)?;
    let headline = book::headline(&tally, cur);
    let by_bucket = tally.by_bucket();
    let mut checks = checks::book(cur, &cur_states, &tally);
    // Snapshots that list their loans in id order are joined as they are
    // and looked up through that order. The run date is sorted by key only
    // when it is out of order or an earlier snapshot is (the sorted join
    // needs both sides sorted); sorting also finds duplicate ids, which a
    // strictly increasing order cannot have.
    let cur_in_order = join::in_id_order(cur);
    let prev_in_order = prev.map(|e| cur_in_order && join::in_id_order(e));
    let m1_in_order = match (m1, prev) {
        (Some(a), Some(b)) if std::ptr::eq(a, b) => prev_in_order,
        _ => m1.map(|e| cur_in_order && join::in_id_order(e)),
    };
    let cur_sorted = if cur_in_order && prev_in_order != Some(false) && m1_in_order != Some(false) {
        None
    } else {
        Some(join::sort_ids(cur)?)
    };
    let cur_index = promises::IdIndex::of(cur_sorted.as_ref());
    let cur_buckets = checks::bucket_totals(cur, &cur_states);

    // What a period needs from its earlier snapshot. On a monthly schedule
    // (or with a single daily snapshot) `prev` and `1m` are the same
    // snapshot: it is classified, sorted and joined once.
    // An earlier date's tiers come from the worklist its own run published
    // (exact); without one, from that date's snapshot alone, where the
    // signals that look further back or at contacts are not evaluated
    // (README, "Tier transitions").
    let snapshot_tiers = |e: &Snapshot| -> Vec<u8> {
        tier_codes(&strategy::assign(
            e,
            policy,
            &strategy::Context {
                today: epoch_days(e.date),
                prev: None,
                m1: None,
                refused_7d: &[],
                broken_promise: &[],
            },
        ))
    };
    let earlier_tiers = |e: &Snapshot| -> (Vec<u8>, TierSource) {
        match earlier.tiers(e) {
            Ok(t) => (t, TierSource::Worklist),
            Err(why) => (snapshot_tiers(e), TierSource::Snapshot(why)),
        }
    };
    let against = |e: &Snapshot, both_in_order: bool| -> Result<Comparison> {
        let states = book::assign(e, policy);
        // In id order, the earlier snapshot needs no sort (and has no
        // duplicates); otherwise sorting also finds them.
        let sorted = if both_in_order {
            None
        } else {
            Some(join::sort_ids(e)?)
        };
        let order = match (&sorted, &cur_sorted) {
            (None, _) => join::Order::InputOrder,
            (Some(s), Some(c)) => join::Order::Sorted(s, c),
            (Some(_), None) => unreachable!("the run date is sorted when an earlier date is"),
        };
        let movement = movement::walk(e, &states.bucket, cur, &cur_states.bucket, order, BUCKETS)?;
        let (tiers, tiers_from) = earlier_tiers(e);
        Ok(Comparison {
            movement,
            tally: book::tally(e, &states)?,
            bucket_totals: checks::bucket_totals(e, &states),
            tiers,
            tiers_from,
            sorted,
            states,
        })
    };
    steps.lap("compute/book");
    let prev_work = prev
        .zip(prev_in_order)
        .map(|(e, o)| against(e, o))
        .transpose()?;
    let m1_work = match (m1, prev, &prev_work) {
        (Some(a), Some(b), Some(w)) if std::ptr::eq(a, b) => Some(w.clone()),
        _ => m1
            .zip(m1_in_order)
            .map(|(e, o)| against(e, o))
            .transpose()?,
    };
    steps.lap("compute/comparisons");

    // The strategy: contacts first (refusals, promises), then each loan's
    // signals, route and tier with the dpd it had at `prev` and `1m`.
    let today = epoch_days(cur.date);
    let flags = match &contact_input.contacts {
        Some(c) => {
            let mut paid = vec![promises::PaidSnapshot {
                date: today,
                ids: &cur.ids,
                paid: &cur.paid,
                index: Some(cur_index),
            }];
            if let (Some(p), Some(w)) = (prev, &prev_work) {
                paid.push(promises::PaidSnapshot {
                    date: epoch_days(p.date),
                    ids: &p.ids,
                    paid: &p.paid,
                    // Joined in input order: `prev` is in id order too.
                    index: Some(promises::IdIndex::of(w.sorted.as_ref())),
                });
            }
            for (d, ids, amounts) in &contact_input.paid {
                paid.push(promises::PaidSnapshot {
                    date: epoch_days(*d),
                    ids,
                    paid: amounts,
                    index: None,
                });
            }
            promises::flags(cur, cur_index, c, today, &paid)
        }
        None => ContactFlags::default(),
    };
    steps.lap("compute/promises");
    let strategy = strategy::assign(
        cur,
        policy,
        &strategy::Context {
            today,
            prev: prev
                .zip(prev_work.as_ref())
                .map(|(snap, w)| strategy::Lookback {
                    snap,
                    rows: &w.movement.earlier_row,
                }),
            m1: m1
                .zip(m1_work.as_ref())
                .map(|(snap, w)| strategy::Lookback {
                    snap,
                    rows: &w.movement.earlier_row,
                }),
            refused_7d: &flags.refused_7d,
            broken_promise: &flags.broken_promise,
        },
    );

    let cur_tiers = tier_codes(&strategy);
    steps.lap("compute/strategy");
    let recovery = recovery::compute(
        cur,
        &cur_states.bucket,
        &strategy.tier,
        earlier_view(prev, &prev_work),
        earlier_view(m1, &m1_work),
    );
    steps.lap("compute/recovery");
    let credit_repair_ids = cur
        .ids
        .take(recovery.credit_repair.iter().map(|r| r.row as usize));
    let (channels, compliance) = match &contact_input.contacts {
        Some(c) => {
            let found = compliance::check(
                c,
                &compliance::Day {
                    today,
                    contacts: &flags.today,
                    buckets: &cur_states.bucket,
                },
                &policy.compliance,
            );
            (
                channels::stats(c, today),
                compliance::Exceptions::collect(c, found, policy.compliance.profile),
            )
        }
        None => (
            channels::stats(&Contacts::empty(cur.ids.is_int()), today),
            compliance::Exceptions::empty(policy.compliance.profile),
        ),
    };
    steps.lap("compute/channels and compliance");
    let mut periods = Vec::new();
    let mut unavailable = Vec::new();
    for (name, earlier, work) in [("prev", prev, prev_work), ("1m", m1, m1_work)] {
        let (Some(e), Some(w)) = (earlier, work) else {
            unavailable.push(name);
            continue;
        };
        let Comparison {
            movement: mv,
            tally: e_tally,
            bucket_totals: earlier_buckets,
            tiers: e_tiers,
            tiers_from,
            ..
        } = w;
        let tiers = transitions::matrix_via_rows(
            e,
            &e_tiers,
            cur,
            &cur_tiers,
            &mv.earlier_row,
            TIER_STATES,
        );
        checks.extend(checks::tier_matrix(name, &tiers, &e_tiers, &cur_tiers));
        let m = mv.matrix;
        checks.extend(checks::matrix(name, &m, &earlier_buckets, &cur_buckets));
        let mut r = rates::from_matrix(&m);
        if name == "1m" {
            r.extend(rates::flow(&e_tally.by_bucket(), &by_bucket));
            if let Some(pc) = &recovery.plan_cohort {
                rates::rate_pair("plan_cure", PLAN_COHORT, pc.cured, pc.start, &mut r);
                rates::rate_pair("plan_broken", PLAN_COHORT, pc.broken, pc.start, &mut r);
            }
        }
        periods.push(Period {
            name,
            from_date: e.date,
            buckets: m,
            rates: r,
            headline: book::headline(&e_tally, e),
            recovered: mv.recovered,
            tiers,
            tiers_from,
        });
    }
    checks.extend(checks::recovery(
        cur,
        &recovery,
        periods
            .iter()
            .find(|p| p.name == "prev")
            .map(|p| (&p.buckets, p.recovered)),
    ));
    steps.lap("compute/periods and checks");
    Ok(Figures {
        compute_steps: steps.timings,
        as_of: cur.date,
        labels: DimLabels {
            product: cur.product.labels.clone(),
            region: cur.region.labels.clone(),
            grade: cur.grade.labels.clone(),
            legal: cur.legal.labels.clone(),
        },
        columns: cur.columns.clone(),
        book: tally,
        by_bucket,
        headline,
        current_rates: rates::from_headline(&headline),
        periods,
        unavailable,
        checks,
        collateral: collateral::tally(cur, &cur_states, &strategy),
        strategy_summary: strategy::summarize(cur, &strategy, policy.rules.len()),
        loan_states: cur_states,
        strategy,
        contacts: ContactSummary {
            orphans: flags.orphans,
            promises_due: flags.promises_due,
            promises_kept: flags.promises_kept,
            promises_open: flags.promises.iter().filter(|p| p.open).count(),
            today: flags.today.len(),
        },
        recovery,
        credit_repair_ids,
        channels,
        promises: promises::by_due_date(&flags.promises),
        compliance,
    })
}
