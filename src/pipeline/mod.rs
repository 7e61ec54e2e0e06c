//! The nightly job, start to finish, in one direction:
//! discover -> read snapshots -> compute figures -> reconcile -> stage tables,
//! report and manifest -> publish atomically.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::NaiveDate;

use crate::base::calendar::date32;
use crate::figures::{Figures, NoWorklist, TierSource};
use crate::fold::{self, Partial};
use crate::input::contacts::{self, Contacts};
use crate::input::discovery::{self, Partition};
use crate::input::partitions::{self, GroupStats, Part, Plan};
use crate::input::reader::{self, Extent, LoansReader, OpenedLoans};
use crate::input::snapshot::{IdSet, Snapshot};
use crate::input::spill::{self, SpillWriter};
use crate::metrics::promises;
use crate::output::manifest::{Clock, InputFile, InputPartition, MemoryUse};
use crate::output::publish::{self, OutputRoot, Scratch, Stage};
use crate::output::worklist::WorklistSink;
use crate::policy::Policy;
use crate::report;

pub use crate::fold::{compute, ContactInput, EarlierRuns};

pub mod publishing;
pub mod validate;

use publishing::{publish_run, Publishing};

/// A validated run request (built from the command line by `cli`).
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub input: PathBuf,
    pub output: PathBuf,
    pub as_of: Option<NaiveDate>,
    pub threads: Option<usize>,
    /// Memory the run may use, bytes (`None`: [`default_memory_limit`]).
    pub memory_limit: Option<u64>,
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

/// Runs the nightly job with its own thread pool.
pub fn run(cfg: &RunConfig) -> Result<RunSummary> {
    pool(cfg.threads)?.install(|| run_in_pool(cfg))
}

/// The worker threads of one run (`None`: one per core).
pub(crate) fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        b = b.num_threads(n);
    }
    b.build().context("starting the thread pool")
}

/// The contacts files of the window, as the manifest lists them.
fn window_info(files: &[(PathBuf, usize)], as_of: NaiveDate) -> Option<InputPartition> {
    if files.is_empty() {
        return None;
    }
    Some(InputPartition {
        role: "contacts".into(),
        dataset: "contacts".into(),
        as_of_date: format!("{}..{}", as_of - chrono::Days::new(13), as_of),
        rows: files.iter().map(|f| f.1).sum(),
        files: files
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

/// The loans partitions a run reads, their footers read and schemas
/// checked; `m1` is `None` when it is the `prev` snapshot.
pub(crate) struct Opened {
    pub cur: OpenedLoans,
    pub prev: Option<OpenedLoans>,
    pub m1: Option<OpenedLoans>,
    /// Whether the `1m` date is the `prev` snapshot.
    m1_is_prev: bool,
}

pub(crate) fn open_inputs(dates: &discovery::RunDates, policy: &Policy) -> Result<Opened> {
    let open = |p: &Partition, extent| reader::open_loans(p, &policy.columns, extent);
    let cur = open(&dates.as_of, Extent::RunDate)?;
    let prev = dates
        .prev
        .as_ref()
        .map(|p| open(p, Extent::Comparison))
        .transpose()?;
    let m1_is_prev =
        matches!((&dates.month_ago, &dates.prev), (Some(a), Some(b)) if a.date == b.date);
    let m1 = match &dates.month_ago {
        Some(p) if !m1_is_prev => Some(open(p, Extent::Comparison)?),
        _ => None,
    };
    Ok(Opened {
        cur,
        prev,
        m1,
        m1_is_prev,
    })
}

/// How much memory a run may use: `--memory-limit`, or a quarter of the
/// machine's memory, at most 1 GiB.
pub fn default_memory_limit() -> u64 {
    const GIB: u64 = 1 << 30;
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(4 * GIB, |kb| kb * 1024);
    (total / 4).min(GIB)
}

/// Memory a partition holds per run-date loan: each snapshot's decoded
/// columns (about 150 bytes a loan), the run date's states, tiers and
/// lookups, and its worklist rows being built (measured at 10M loans,
/// BENCHMARKS.md).
const BYTES_PER_LOAN_AND_SNAPSHOT: u64 = 150;
const BYTES_PER_LOAN_OF_RESULTS: u64 = 150;

/// Loans per partition under a memory limit: half of it for the
/// partitions, the other half for what does not shrink with them (the
/// earlier worklists' tiers, the worklist files being filled, the
/// allocator's slack). Two partitions are in memory at once (one folded
/// while the next is read).
pub(crate) fn rows_per_partition(limit: u64, snapshots: usize) -> usize {
    let per_loan = BYTES_PER_LOAN_AND_SNAPSHOT * snapshots as u64 + BYTES_PER_LOAN_OF_RESULTS;
    ((limit / 4) / per_loan).max(1) as usize
}

/// A partition size in whole rounds of row groups over the threads (a
/// partition of three row groups on two threads decodes in two rounds, the
/// second with a thread idle): at least one round once the size reaches a
/// row group, so that every thread has a row group to decode.
fn whole_rounds(rows: usize, groups: &[GroupStats]) -> usize {
    let per_group = groups.iter().map(|g| g.rows).max().unwrap_or(1).max(1);
    let round = per_group * rayon::current_num_threads().max(1);
    if rows < per_group {
        rows
    } else {
        (rows / round).max(1) * round
    }
}

/// Contacts cut by the partitions: per partition, the indices of its
/// contacts.
fn split_contacts(c: &Contacts, plan: &Plan) -> Vec<Vec<usize>> {
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); plan.parts.len()];
    for i in 0..c.len() {
        rows[plan.part_of(&c.ids, i)].push(i);
    }
    rows
}

/// The contacts window as the partitions use it: read file by file, each
/// file's contacts cut by the partitions' id ranges as it is read, so the
/// whole window is never held twice.
pub(crate) struct PartitionContacts {
    parts: ContactParts,
    /// `paid_amount` of the snapshots in the promise windows the run does
    /// not read anyway, for the promised loans only.
    paid: Vec<(NaiveDate, crate::input::snapshot::LoanIds, Vec<i64>)>,
    pub info: Option<InputPartition>,
}

/// Per partition, its contacts and their indices in the window.
enum ContactParts {
    /// One partition: the window in memory.
    Whole(Box<Contacts>, Vec<usize>),
    /// Several: spilled to one scratch file each, read back in turn.
    Spilled { paths: Vec<PathBuf>, int_ids: bool },
}

impl PartitionContacts {
    /// Contacts of D-13..D (promises made up to 13 days ago can fall due in
    /// D-6..D) and, when promises are followed (due or open), the promised
    /// loans' `paid_amount` in the loans snapshots after the earliest such
    /// promise.
    pub(crate) fn read(
        catalog: &discovery::Catalog,
        opened: &Opened,
        plan: &Plan,
        policy: &Policy,
        scratch: Option<&Path>,
    ) -> Result<PartitionContacts> {
        let date = opened.cur.date();
        let int_ids = opened.cur.int_ids();
        let today = date32(date);
        let n = plan.parts.len();
        let mut whole = (Contacts::empty(int_ids), Vec::new());
        let mut spill = match scratch {
            Some(dir) if n > 1 => Some(SpillWriter::create(dir, plan.folded.clone())?),
            _ => None,
        };
        let mut files = Vec::new();
        let mut promised = Contacts::empty(int_ids);
        let mut next = 0usize;
        contacts::read_window_each(
            catalog,
            date - chrono::Days::new(13),
            date,
            int_ids,
            policy.compliance.time_zone,
            |c| {
                files.extend(c.files.iter().cloned());
                let followed: Vec<usize> = (0..c.len())
                    .filter(|&k| promises::followed(&c, k, today))
                    .collect();
                promised.append(c.take(&followed))?;
                let Some(w) = &mut spill else {
                    // One partition: the file's contacts as they are.
                    whole.1.extend(next..next + c.len());
                    next += c.len();
                    return whole.0.append(c);
                };
                for (k, rows) in split_contacts(&c, plan).into_iter().enumerate() {
                    if !w.keeps(k) {
                        continue;
                    }
                    let index: Vec<usize> = rows.iter().map(|&r| r + next).collect();
                    w.push(k, &c.take(&rows), &index)?;
                }
                next += c.len();
                Ok(())
            },
        )?;
        let prev = opened.prev.as_ref().map(|p| p.date());
        let paid = read_promised_paid(catalog, date, prev, &promised, policy)?;
        let parts = match spill {
            None => ContactParts::Whole(Box::new(whole.0), whole.1),
            Some(w) => ContactParts::Spilled {
                paths: w.finish()?,
                int_ids,
            },
        };
        Ok(PartitionContacts {
            parts,
            paid,
            info: window_info(&files, date),
        })
    }
}

/// What the manifest says of one input snapshot read partition by
/// partition.
pub(crate) struct Described {
    role: &'static str,
    rounded: u64,
    all_null: Option<Vec<&'static str>>,
    absent: Vec<&'static str>,
}

impl Described {
    fn new(role: &'static str) -> Described {
        Described {
            role,
            rounded: 0,
            all_null: None,
            absent: Vec::new(),
        }
    }
    fn add(&mut self, s: &Snapshot) {
        self.rounded += s.rounded_money_values;
        self.absent = s.columns.absent.clone();
        self.all_null = Some(match self.all_null.take() {
            None => s.columns.all_null.clone(),
            Some(mut a) => {
                a.retain(|c| s.columns.all_null.contains(c));
                a
            }
        });
    }
    fn partition(&self, o: &OpenedLoans) -> InputPartition {
        InputPartition {
            role: self.role.into(),
            dataset: "loans".into(),
            as_of_date: o.date().to_string(),
            rows: o.rows(),
            files: o
                .files()
                .map(|(p, rows)| InputFile {
                    path: p.display().to_string(),
                    rows,
                })
                .collect(),
            rounded_money_values: self.rounded,
            absent_columns: names(&self.absent),
            all_null_columns: names(self.all_null.as_deref().unwrap_or_default()),
        }
    }
}

/// What folding the book partition by partition produced.
struct Folded {
    figures: Figures,
    stage: Stage,
    worklist_files: Vec<usize>,
    inputs: Vec<InputPartition>,
    partitions: usize,
}

/// The snapshots cut into hash partitions (a book not in id order): per
/// snapshot, one scratch file per partition.
struct SpilledLoans {
    cur: Vec<PathBuf>,
    prev: Option<Vec<PathBuf>>,
    m1: Option<Vec<PathBuf>>,
}

impl SpilledLoans {
    /// Reads every snapshot once, writing its rows to the scratch file of
    /// their hash partition (of the partitions this process folds).
    fn write(opened: &Opened, plan: &Plan, dir: &Path) -> Result<SpilledLoans> {
        let (of, keep) = (plan.parts.len(), plan.folded.clone());
        let spill = |o: &OpenedLoans, name| o.spill_by_hash(of, keep.clone(), dir, name);
        Ok(SpilledLoans {
            cur: spill(&opened.cur, "loans-as_of")?,
            prev: opened
                .prev
                .as_ref()
                .map(|o| spill(o, "loans-prev"))
                .transpose()?,
            m1: opened
                .m1
                .as_ref()
                .map(|o| spill(o, "loans-1m"))
                .transpose()?,
        })
    }
}

/// Reads, folds and merges the book partition by partition, writing each
/// partition's worklist rows as it goes; returns the finished figures.
#[allow(clippy::too_many_arguments)]
fn fold_book(
    cfg: &RunConfig,
    opened: &Opened,
    plan: &Plan,
    contacts: &PartitionContacts,
    earlier: &EarlierRuns,
    out: &OutputRoot,
    scratch: Option<&Path>,
    clock: &mut Clock,
) -> Result<Folded> {
    let as_of = opened.cur.date().to_string();
    let mut stage = Stage::new(out, &as_of)?;
    // Hash partitions hold loans from all over the files: their worklist
    // rows go through scratch files and are merged back in input order.
    let reorder = match scratch {
        Some(dir) if plan.hashed() => Some(dir.join("worklist")),
        _ => None,
    };
    let mut sink = WorklistSink::new(opened.cur.int_ids(), &as_of, reorder)?;
    let (partial, described) = fold_parts(
        &cfg.policy,
        opened,
        plan,
        contacts,
        earlier,
        scratch,
        &mut sink,
        Some(&mut stage),
        clock,
    )?;
    let figures = partial.finish();
    let worklist_files = sink.finish(&mut stage)?;
    clock.lap("write worklist");
    let mut inputs = described.inputs(opened);
    inputs.extend(contacts.info.clone());
    Ok(Folded {
        figures,
        stage,
        worklist_files,
        inputs,
        partitions: plan.parts.len(),
    })
}

/// What the manifest says of the snapshots, from the partitions folded.
pub(crate) struct DescribedBook(Described, Described, Described);

impl DescribedBook {
    pub(crate) fn inputs(&self, opened: &Opened) -> Vec<InputPartition> {
        let mut inputs = vec![self.0.partition(&opened.cur)];
        if let Some(o) = &opened.prev {
            inputs.push(self.1.partition(o));
        }
        if let Some(o) = &opened.m1 {
            inputs.push(self.2.partition(o));
        }
        inputs
    }
}

/// Folds the partitions `plan.folded` in turn and merges their partials,
/// pushing each one's worklist rows to `sink` (into `stage` when they are
/// written in input order, to scratch files otherwise). With hash
/// partitions, every snapshot is first spilled to `scratch` by partition.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fold_parts(
    policy: &Policy,
    opened: &Opened,
    plan: &Plan,
    contacts: &PartitionContacts,
    earlier: &EarlierRuns,
    scratch: Option<&Path>,
    sink: &mut WorklistSink,
    mut stage: Option<&mut Stage>,
    clock: &mut Clock,
) -> Result<(Partial, DescribedBook)> {
    let spilled = match scratch {
        Some(dir) if plan.hashed() => Some(SpilledLoans::write(opened, plan, dir)?),
        _ => None,
    };
    clock.lap("spill loans");
    let mut readers = Readers {
        cur: LoansReader::new(&opened.cur),
        prev: opened.prev.as_ref().map(LoansReader::new),
        m1: opened.m1.as_ref().map(LoansReader::new),
        spilled,
    };
    let mut described = DescribedBook(
        Described::new("as_of"),
        Described::new("prev"),
        Described::new("1m"),
    );
    let mut acc: Option<Partial> = None;
    let parts = plan.folded.clone();
    let mut next = Some(readers.read(opened, plan, parts.start, contacts));
    clock.lap("read");
    for k in parts.clone() {
        let input = next
            .take()
            .expect("each partition is read before it is folded")?;
        described.0.add(&input.cur);
        if let Some(p) = &input.prev {
            described.1.add(p);
        }
        if let Some(m) = &input.m1 {
            described.2.add(m);
        }
        // Partition k is folded and its worklist rows built while partition
        // k + 1 is read: the two share the cores (each alone leaves one
        // idle at times). Errors still come in partition order: the fold's
        // first.
        let stage = stage.as_deref_mut();
        let (folded, upcoming) = rayon::join(
            || -> Result<Partial> {
                let (partial, loans) =
                    fold_partition(policy, opened, &input, contacts, earlier, &plan.parts[k])?;
                sink.push(&input.cur, &loans, policy, stage)?;
                Ok(partial)
            },
            || (k + 1 < parts.end).then(|| readers.read(opened, plan, k + 1, contacts)),
        );
        let partial = folded?;
        next = upcoming;
        // Shown once per partition: the operator sees the book go by.
        clock.lap_with(
            "read, compute and write worklist",
            Some(input.cur.len() as u64),
            None,
        );
        acc = Some(match acc {
            None => partial,
            Some(a) => a.merge(partial),
        });
    }
    Ok((acc.expect("at least one partition"), described))
}

/// The readers of the snapshots, each keeping the row groups that straddle
/// a cut for the next partition; or the scratch files of hash partitions.
struct Readers<'a> {
    cur: LoansReader<'a>,
    prev: Option<LoansReader<'a>>,
    m1: Option<LoansReader<'a>>,
    spilled: Option<SpilledLoans>,
}

/// One partition's rows on every date, and its contacts when they were
/// spilled (read back from the scratch file).
struct PartitionInput {
    cur: Snapshot,
    prev: Option<Snapshot>,
    m1: Option<Snapshot>,
    spilled: Option<(Contacts, Vec<usize>)>,
}

impl Readers<'_> {
    fn read(
        &mut self,
        opened: &Opened,
        plan: &Plan,
        k: usize,
        contacts: &PartitionContacts,
    ) -> Result<PartitionInput> {
        let (cur, prev, m1) = match (&plan.parts[k], &self.spilled) {
            (Part::Hash { .. }, Some(files)) => {
                // Scratch files exist for the folded partitions only.
                let j = k - plan.folded.start;
                let back = |o: Option<&OpenedLoans>, f: Option<&Vec<PathBuf>>| match (o, f) {
                    (Some(o), Some(f)) => o.read_spilled(&f[j]).map(Some),
                    _ => Ok(None),
                };
                (
                    opened.cur.read_spilled(&files.cur[j])?,
                    back(opened.prev.as_ref(), files.prev.as_ref())?,
                    back(opened.m1.as_ref(), files.m1.as_ref())?,
                )
            }
            (Part::Range(range), _) => {
                let groups: Vec<usize> = plan.cur_groups[k].clone().collect();
                let cur = self.cur.read(&groups, range)?;
                let prev = match (&mut self.prev, &opened.prev) {
                    (Some(r), Some(o)) => Some(r.read(&o.groups_in(range), range)?),
                    _ => None,
                };
                let m1 = match (&mut self.m1, &opened.m1) {
                    (Some(r), Some(o)) => Some(r.read(&o.groups_in(range), range)?),
                    _ => None,
                };
                (cur, prev, m1)
            }
            (Part::Hash { .. }, None) => unreachable!("hash partitions are spilled first"),
        };
        let spilled = match &contacts.parts {
            ContactParts::Whole(..) => None,
            ContactParts::Spilled { paths, int_ids, .. } => {
                Some(spill::read(&paths[k - plan.folded.start], *int_ids)?)
            }
        };
        Ok(PartitionInput {
            cur,
            prev,
            m1,
            spilled,
        })
    }
}

/// Folds one partition's inputs.
fn fold_partition(
    policy: &Policy,
    opened: &Opened,
    input: &PartitionInput,
    contacts: &PartitionContacts,
    earlier: &EarlierRuns,
    part: &Part,
) -> Result<(Partial, fold::LoanLevel)> {
    let m1 = if opened.m1_is_prev {
        input.prev.as_ref()
    } else {
        input.m1.as_ref()
    };
    let slice_contacts = match (&contacts.parts, &input.spilled) {
        (ContactParts::Whole(c, index), _) => (c.as_ref(), index.as_slice()),
        (ContactParts::Spilled { .. }, Some((c, index))) => (c, index.as_slice()),
        (ContactParts::Spilled { .. }, None) => {
            unreachable!("spilled contacts are read with their partition")
        }
    };
    fold::fold(
        policy,
        &fold::Slice {
            cur: &input.cur,
            prev: input.prev.as_ref(),
            m1,
            contacts: Some(slice_contacts),
            paid: &contacts.paid,
            earlier,
            part,
        },
    )
}

/// Peak resident memory of this process so far, bytes (Linux `VmHWM`).
pub(crate) fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn run_in_pool(cfg: &RunConfig) -> Result<RunSummary> {
    let mut clock = Clock::shown();
    // Templates first: a broken template folder fails before any data is read.
    let engine = report::Engine::new(&cfg.report)?;
    let catalog = discovery::discover(&cfg.input)?;
    let dates = discovery::resolve_dates(&catalog, cfg.as_of)?;
    // Then the output lock: a second run on the same output stops here,
    // before reading any data. Under it, finish what a crashed run left.
    // (An object store is checked here instead.)
    let mut out = OutputRoot::open(&cfg.output)?;
    let recovered = std::mem::take(&mut out.recovered);
    clock.lap("discover");

    // Footers and schemas of every snapshot first: a file that breaks the
    // contract fails before any page is decoded.
    let opened = open_inputs(&dates, &cfg.policy)?;

    // The partitions: as many as the memory limit asks for, when the
    // snapshots' row groups say where each id range lies.
    let memory_limit = cfg.memory_limit.unwrap_or_else(default_memory_limit);
    let snapshots = 1 + opened.prev.is_some() as usize + opened.m1.is_some() as usize;
    let earlier_groups: Vec<Vec<GroupStats>> = opened
        .prev
        .iter()
        .chain(opened.m1.iter())
        .map(|o| o.groups())
        .collect();
    let cur_groups = opened.cur.groups();
    let plan = partitions::plan(
        &cur_groups,
        &earlier_groups.iter().map(Vec::as_slice).collect::<Vec<_>>(),
        whole_rounds(rows_per_partition(memory_limit, snapshots), &cur_groups),
    );
    // Scratch files (removed when the run ends, by recovery if it is
    // killed): the contacts of each partition, and with hash partitions the
    // loans and the worklist rows.
    let scratch = match plan.parts.len() {
        1 => None,
        _ => Some(Scratch::new(&out)?),
    };
    let scratch_dir = scratch.as_ref().map(|s| s.dir.as_path());
    let contacts = PartitionContacts::read(&catalog, &opened, &plan, &cfg.policy, scratch_dir)?;
    clock.lap("read contacts");
    let mut earlier = EarlierRuns::read(
        &cfg.output,
        opened.prev.iter().chain(opened.m1.iter()).map(|o| o.date()),
    );
    clock.lap("read earlier worklists");

    // An earlier worklist that does not match its snapshot in one partition
    // is not used in any: the book is folded again without it (rare: a
    // restated input).
    let folded = loop {
        let f = fold_book(
            cfg,
            &opened,
            &plan,
            &contacts,
            &earlier,
            &out,
            scratch_dir,
            &mut clock,
        )?;
        let rejected: Vec<(NaiveDate, NoWorklist)> = f
            .figures
            .periods
            .iter()
            .filter_map(|p| match &p.tiers_from {
                TierSource::Snapshot(why) if earlier.usable(p.from_date) => {
                    Some((p.from_date, why.clone()))
                }
                _ => None,
            })
            .collect();
        if rejected.is_empty() || f.partitions == 1 {
            break f;
        }
        for (d, why) in rejected {
            earlier.reject(d, why);
        }
    };
    drop(earlier);
    drop(contacts);
    drop(scratch);
    let Folded {
        figures,
        stage,
        worklist_files,
        inputs,
        partitions,
    } = folded;
    publish_run(Publishing {
        engine: &engine,
        policy: &cfg.policy,
        input_root: cfg.input.display().to_string(),
        output: &cfg.output,
        figures,
        stage,
        worklist_files,
        inputs,
        memory: MemoryUse {
            limit_bytes: memory_limit,
            partitions,
            partitioned_by: plan.describe(),
            peak_rss_bytes: None,
        },
        clock,
        recovered,
    })
}

/// `paid_amount` of the `promised` contacts' loans in the loans snapshots
/// after the earliest promise's contact date and before `date`, except
/// `date`'s own and `prev`'s (the run reads those anyway).
fn read_promised_paid(
    catalog: &discovery::Catalog,
    date: NaiveDate,
    prev: Option<NaiveDate>,
    promised: &Contacts,
    policy: &Policy,
) -> Result<Vec<(NaiveDate, crate::input::snapshot::LoanIds, Vec<i64>)>> {
    let Some(first) = promised.date.iter().min().copied() else {
        return Ok(Vec::new());
    };
    let all: Vec<usize> = (0..promised.len()).collect();
    let wanted = IdSet::of(&promised.ids, &all);
    let mut paid = Vec::new();
    for part in &catalog.loans.partitions {
        let d = date32(part.date);
        let loaded = part.date == date || prev == Some(part.date);
        if d > first && d < date32(date) && !loaded {
            let (ids, amounts) = reader::read_paid(part, &policy.columns, &wanted)?;
            paid.push((part.date, ids, amounts));
        }
    }
    Ok(paid)
}

fn names(columns: &[&str]) -> Vec<String> {
    columns.iter().map(|c| c.to_string()).collect()
}
