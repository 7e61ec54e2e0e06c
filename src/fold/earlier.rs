//! What earlier runs under `--output` published that a run uses: the tiers
//! and arms of the comparison dates, read from those runs' own worklists
//! (per partition, matched to the earlier snapshot's rows). The report's
//! history of earlier runs is `crate::history`; this is the engine's.

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use arrow::array::AsArray;
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rayon::prelude::*;

use crate::input::columns;
use crate::input::guard::StrictFile;
use crate::input::partitions::IdBound;
use crate::input::snapshot::LoanIds;
use crate::metrics::experiments;
use crate::policy::tiers::{Tier, TIERS};
use crate::states::Status;

use crate::figures::NoWorklist;
use crate::input::partitions::Part;
use crate::input::snapshot::Snapshot;
use crate::output::published::Published;

/// What earlier runs under `--output` published that this run uses: the
/// tiers of the comparison dates from their own worklists.
#[derive(Debug, Default)]
pub struct EarlierRuns {
    pub worklists: Vec<(NaiveDate, std::result::Result<WorklistTiers, NoWorklist>)>,
}

impl EarlierRuns {
    /// Reads the worklists of the comparison dates. Never fails the run: an
    /// unreadable worklist is a reason to compute those tiers from the
    /// snapshot instead, and the report says so.
    pub fn read(output: &Path, dates: impl Iterator<Item = NaiveDate>) -> EarlierRuns {
        let published = Published::new(output);
        EarlierRuns {
            worklists: dates
                .map(|d| {
                    let w = match worklist_tiers(&published, d) {
                        Ok(Some(w)) => Ok(w),
                        Ok(None) => Err(NoWorklist::NoRun),
                        Err(e) => Err(NoWorklist::Unusable(format!("{e:#}"))),
                    };
                    (d, w)
                })
                .collect(),
        }
    }

    /// The earlier date's tiers and arms of every row of `snap` (the loans
    /// of `part`) from that run's worklist, or why not.
    pub(crate) fn tiers(
        &self,
        snap: &Snapshot,
        part: &Part,
    ) -> std::result::Result<EarlierTiers, NoWorklist> {
        match self.worklists.iter().find(|(d, _)| *d == snap.date) {
            None => Err(NoWorklist::NoRun),
            Some((_, Err(why))) => Err(why.clone()),
            Some((_, Ok(w))) => w.for_part(snap, part).map_err(|e| {
                NoWorklist::Unusable(format!(
                    "the worklist of {} does not match its snapshot: {e}",
                    snap.date
                ))
            }),
        }
    }

    /// Stops using the worklist of `date` (it did not match its snapshot
    /// in some partition), for the rerun of every partition.
    pub fn reject(&mut self, date: NaiveDate, why: NoWorklist) {
        for (d, w) in &mut self.worklists {
            if *d == date {
                *w = Err(why.clone());
            }
        }
    }

    /// Whether the worklist of `date` is in use.
    pub fn usable(&self, date: NaiveDate) -> bool {
        self.worklists.iter().any(|(d, w)| *d == date && w.is_ok())
    }
}

/// The tiers an earlier run published in its worklist (`loan_id`, `tier`
/// and, from v2 worklists, `experiment` and `arm`), in the worklist's order.
#[derive(Clone, Debug)]
pub struct WorklistTiers {
    pub ids: LoanIds,
    /// Tier index ([`Tier`]) of each worklist row.
    pub tiers: Vec<u8>,
    /// Experiment and arm of each row ([`experiments::ArmCode`], the
    /// experiment an index into `experiments`); empty when the worklist
    /// has no `arm` column (written before v2).
    pub arms: Vec<u8>,
    /// The experiments the worklist names, sorted.
    pub experiments: Vec<String>,
    /// Whether the ids are strictly increasing.
    pub in_id_order: bool,
}

/// The tiers and arms of a snapshot's rows at an earlier date.
#[derive(Clone, Debug, Default)]
pub struct EarlierTiers {
    /// Tier-transition state of every row: a tier or [`TIERS`] (`PAID`).
    pub tiers: Vec<u8>,
    /// Arm code of every row; empty when not known (a worklist written
    /// before v2).
    pub arms: Vec<u8>,
    /// The experiments the codes of `arms` index.
    pub experiments: Vec<String>,
}

/// The first index in `0..n` where `before` is false (`before` true on a
/// prefix).
fn partition_point(n: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// One worklist file as read: ids, tiers, and arms with the file's own
/// experiment names (`None`: the file has no `arm` column).
type WorklistFile = (LoanIds, Vec<u8>, Option<(Vec<String>, Vec<u8>)>);

/// Reads the worklist of the run of `date`, if that run was published (its
/// manifest is there: a date is complete when its manifest is present).
/// `Ok(None)`: no such run. An unreadable worklist is an error, which the
/// caller reports and works around.
pub fn worklist_tiers(published: &Published, date: NaiveDate) -> Result<Option<WorklistTiers>> {
    if published.manifest(date)?.is_none() {
        return Ok(None);
    }
    // Data files in name order, as an input partition is listed.
    let files = published.files("worklist", date)?;
    // One task per file (a worklist is written as files of a million loans);
    // the first error in file order is reported, whatever finished first.
    let parts: Vec<WorklistFile> = crate::error::first_error(
        files
            .par_iter()
            .map(|file| {
                read_worklist_file(file)
                    .with_context(|| format!("worklist file '{}'", file.display()))
            })
            .collect(),
    )?;
    if parts.is_empty() {
        return Err(anyhow!(
            "no worklist files in '{}'",
            published.location("worklist", date)
        ));
    }
    if parts
        .iter()
        .any(|(ids, _, _)| ids.is_int() != parts[0].0.is_int())
    {
        return Err(anyhow!(
            "worklist files of '{}' type loan_id differently",
            published.location("worklist", date)
        ));
    }
    let with_arms = parts.iter().filter(|p| p.2.is_some()).count();
    if with_arms != 0 && with_arms != parts.len() {
        return Err(anyhow!(
            "some worklist files of '{}' have an arm column and some do not",
            published.location("worklist", date)
        ));
    }
    // Each file's experiment codes onto the sorted names of all files.
    let mut experiments: Vec<String> = parts
        .iter()
        .filter_map(|p| p.2.as_ref())
        .flat_map(|(names, _)| names.iter().cloned())
        .collect();
    experiments.sort();
    experiments.dedup();
    if experiments.len() > experiments::MAX_EXPERIMENTS {
        return Err(anyhow!(
            "the worklist of '{}' names more than {} experiments",
            published.location("worklist", date),
            experiments::MAX_EXPERIMENTS
        ));
    }
    let mut arms = Vec::new();
    let mut tiers = Vec::new();
    for (_, t, a) in &parts {
        tiers.extend_from_slice(t);
        if let Some((names, codes)) = a {
            let to: Vec<usize> = names
                .iter()
                .map(|n| experiments.binary_search(n).expect("a name of the union"))
                .collect();
            arms.extend(codes.iter().map(|&c| match experiments::decode(c) {
                None => experiments::NO_ARM,
                Some((e, arm)) => experiments::code(to[e], arm),
            }));
        }
    }
    let ids = if parts[0].0.is_int() {
        let mut all = LoanIds::Int(Vec::new());
        for (ids, _, _) in parts {
            all.extend(ids);
        }
        all
    } else {
        LoanIds::concat(parts.into_iter().map(|(ids, _, _)| ids))
    };
    let in_id_order = (1..ids.len()).all(|r| ids.cmp_natural(r - 1, &ids, r).is_lt());
    Ok(Some(WorklistTiers {
        ids,
        tiers,
        arms,
        experiments,
        in_id_order,
    }))
}

/// One worklist file's ids, tier indices and arms.
fn read_worklist_file(path: &Path) -> Result<WorklistFile> {
    let file = StrictFile::open(path)?;
    let b =
        ParquetRecordBatchReaderBuilder::try_new(file).context("not a readable Parquet file")?;
    let fields = b.schema().fields().clone();
    let position = |c: &str| fields.iter().position(|f| f.name() == c);
    let mut roots: Vec<usize> = ["loan_id", "tier"]
        .iter()
        .map(|c| position(c).ok_or_else(|| anyhow!("no column '{c}'")))
        .collect::<Result<_>>()?;
    // v2 worklists carry the experiment and arm; earlier ones do not.
    let with_arms = match (position("experiment"), position("arm")) {
        (Some(e), Some(a)) => {
            roots.extend([e, a]);
            true
        }
        (None, None) => false,
        _ => {
            return Err(anyhow!(
                "it has one of the columns 'experiment' and 'arm' but not both"
            ))
        }
    };
    let mut ids = if fields[roots[0]].data_type() == &arrow::datatypes::DataType::Int64 {
        LoanIds::Int(Vec::new())
    } else {
        LoanIds::empty_str()
    };
    let mut tiers = Vec::new();
    let (mut names, mut arms): (Vec<String>, Vec<u8>) = (Vec::new(), Vec::new());
    // ProjectionMask keeps the file's column order: find each by name.
    let mut order = roots.clone();
    order.sort_unstable();
    let at = |root: usize| order.iter().position(|&r| r == root).expect("projected");
    let mask = parquet::arrow::ProjectionMask::roots(b.parquet_schema(), roots.clone());
    let mut base = 0;
    for batch in b.with_projection(mask).build()? {
        let batch = batch?;
        columns::push_ids(batch.column(at(roots[0])), &mut ids, "loan_id", base)?;
        let text = |root: usize, name: &str| {
            batch
                .column(at(root))
                .as_string_opt::<i32>()
                .ok_or_else(|| anyhow!("column '{name}' is not Utf8"))
        };
        let tier = text(roots[1], "tier")?;
        // A handful of distinct tiers: parse each run of equal values once.
        let mut last: Option<(&str, u8)> = None;
        for t in tier.iter() {
            let t = t.ok_or_else(|| anyhow!("column 'tier' has a null"))?;
            let code = match last {
                Some((l, c)) if l == t => c,
                _ => {
                    let c = Tier::parse(t)
                        .ok_or_else(|| anyhow!("unknown tier {t:?}"))?
                        .index() as u8;
                    last = Some((t, c));
                    c
                }
            };
            tiers.push(code);
        }
        if with_arms {
            let (exp, arm) = (text(roots[2], "experiment")?, text(roots[3], "arm")?);
            for (r, (e, a)) in exp.iter().zip(arm.iter()).enumerate() {
                let code = match (e, a) {
                    (None, None) => experiments::NO_ARM,
                    (Some(e), Some(a)) => {
                        let arm = experiments::Arm::parse(a)
                            .ok_or_else(|| anyhow!("row {}: unknown arm {a:?}", base + r))?;
                        let k = match names.iter().position(|n| n == e) {
                            Some(k) => k,
                            None => {
                                if names.len() == experiments::MAX_EXPERIMENTS {
                                    return Err(anyhow!(
                                        "more than {} experiments",
                                        experiments::MAX_EXPERIMENTS
                                    ));
                                }
                                names.push(e.to_string());
                                names.len() - 1
                            }
                        };
                        experiments::code(k, arm)
                    }
                    _ => {
                        return Err(anyhow!(
                            "row {}: 'experiment' and 'arm' must be both null or both set",
                            base + r
                        ))
                    }
                };
                arms.push(code);
            }
        }
        base += batch.num_rows();
    }
    Ok((ids, tiers, with_arms.then_some((names, arms))))
}

impl WorklistTiers {
    /// [`WorklistTiers::for_rows`] for the loans of one partition: the
    /// worklist rows of its loans against the snapshot's rows (all of them
    /// its loans).
    pub fn for_part(
        &self,
        snap: &Snapshot,
        part: &Part,
    ) -> std::result::Result<EarlierTiers, String> {
        if part.is_all() {
            return self.for_rows(snap);
        }
        let rows: Vec<usize> = match part {
            // A worklist in id order (the run read a book in id order)
            // holds the range's rows together: found by two binary
            // searches.
            Part::Range(range) if self.in_id_order => {
                let n = self.ids.len();
                let below = |b: &Option<IdBound>| {
                    b.as_ref()
                        .map(|b| partition_point(n, |r| b.cmp_row(&self.ids, r).is_lt()))
                };
                let from = below(&range.lo).unwrap_or(0);
                let to = below(&range.hi).unwrap_or(n);
                (from..to).collect()
            }
            _ => (0..self.ids.len())
                .into_par_iter()
                .filter(|&r| part.contains(&self.ids, r))
                .collect(),
        };
        WorklistTiers {
            ids: self.ids.take(rows.iter().copied()),
            tiers: rows.iter().map(|&r| self.tiers[r]).collect(),
            arms: if self.arms.is_empty() {
                Vec::new()
            } else {
                rows.iter().map(|&r| self.arms[r]).collect()
            },
            experiments: self.experiments.clone(),
            in_id_order: self.in_id_order,
        }
        .for_rows(snap)
    }

    /// The tier of every row of `snap` (the snapshot of the same date), as
    /// tier-transition states: a tier index, or [`TIERS`] (`PAID`) for a
    /// paid-off loan, which has no worklist row; and its arm. `Err` says
    /// why the worklist does not describe this snapshot (it must list
    /// exactly its active and charged-off loans), and then none of it is
    /// used.
    pub fn for_rows(&self, snap: &Snapshot) -> std::result::Result<EarlierTiers, String> {
        let rows = self.rows_of(snap)?;
        let tiers = rows
            .iter()
            .map(|&r| {
                if r == NOT_LISTED {
                    TIERS as u8
                } else {
                    self.tiers[r as usize]
                }
            })
            .collect();
        let arms = if self.arms.is_empty() {
            Vec::new()
        } else {
            rows.iter()
                .map(|&r| {
                    if r == NOT_LISTED {
                        experiments::NO_ARM
                    } else {
                        self.arms[r as usize]
                    }
                })
                .collect()
        };
        Ok(EarlierTiers {
            tiers,
            arms,
            experiments: self.experiments.clone(),
        })
    }

    /// The worklist row of every row of `snap`, [`NOT_LISTED`] for a
    /// paid-off loan.
    fn rows_of(&self, snap: &Snapshot) -> std::result::Result<Vec<u32>, String> {
        if self.ids.is_int() != snap.ids.is_int() {
            return Err(format!(
                "its loan_id is {} but the snapshot's is {}",
                self.ids.type_name(),
                snap.ids.type_name()
            ));
        }
        let paid = |r: usize| snap.status[r] == Status::PaidOff;
        // The common case: the same snapshot as that run read, so the
        // worklist lists its loans in the snapshot's order (paid-off ones
        // left out). Checked id by id; any difference takes the join below.
        let mut out = Vec::with_capacity(snap.len());
        let mut j = 0;
        for r in 0..snap.len() {
            if paid(r) {
                out.push(NOT_LISTED);
            } else if j < self.ids.len() && self.ids.cmp_natural(j, &snap.ids, r).is_eq() {
                out.push(j as u32);
                j += 1;
            } else {
                break;
            }
        }
        if out.len() == snap.len() && j == self.ids.len() {
            return Ok(out);
        }
        // Otherwise a join by id through the worklist sorted by key.
        let mut order: Vec<u32> = (0..self.ids.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.ids.cmp_rows(a as usize, &self.ids, b as usize));
        if let Some(w) = order.windows(2).find(|w| {
            self.ids
                .cmp_rows(w[0] as usize, &self.ids, w[1] as usize)
                .is_eq()
        }) {
            return Err(format!(
                "it lists loan {} twice",
                self.ids.display(w[0] as usize)
            ));
        }
        let (mut missing, mut found) = (0usize, 0usize);
        let mut first_missing = None;
        out.clear();
        for r in 0..snap.len() {
            if paid(r) {
                out.push(NOT_LISTED);
                continue;
            }
            match order.binary_search_by(|&k| self.ids.cmp_rows(k as usize, &snap.ids, r)) {
                Ok(k) => {
                    out.push(order[k]);
                    found += 1;
                }
                Err(_) => {
                    missing += 1;
                    first_missing.get_or_insert(r);
                    out.push(NOT_LISTED);
                }
            }
        }
        if let Some(r) = first_missing {
            return Err(format!(
                "{missing} active or charged-off loan(s) of the snapshot are not in it (first: {})",
                snap.ids.display(r)
            ));
        }
        if found != self.ids.len() {
            return Err(format!(
                "{} of its loans are not active or charged off in the snapshot",
                self.ids.len() - found
            ));
        }
        Ok(out)
    }
}

/// A snapshot row the worklist does not list (a paid-off loan).
const NOT_LISTED: u32 = u32::MAX;
