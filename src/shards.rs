//! Shards and merge: the nightly job cut across processes or machines.
//!
//! A partition's work is independent of every other's and its partial
//! merges exactly (src/fold/), so the hash partitions of a run can be
//! computed by separate processes. `arrears shard --shard K/N` folds the
//! loans of hash partition K of N (`partitions::bucket`: the high bits of
//! a 64-bit mix of the id, README "Shards") and writes, under
//! `WORK/as_of_date=D/shards-N/shard-K/`:
//!
//! - `partial.json`: the shard's [`Partial`] (sums that merge exactly),
//!   what the manifest says of its inputs, the [`Fingerprint`] of the
//!   run it belongs to (inputs with their content, policy, program,
//!   earlier worklists) and the size and hash of each worklist file;
//! - `worklist-NNNNN.arrows`: its worklist rows with their positions in
//!   the run date's files (Arrow IPC, LZ4), one file per partition the
//!   shard was folded in.
//!
//! A shard is written to a folder beside its own and renamed into place,
//! so `shard-K` is complete or absent; a shard run twice writes the same
//! bytes (nothing in it depends on time, threads or memory). `arrears
//! merge` checks that the N shards of one run are all there, merges their
//! partials in shard order, merges the worklist files back into input
//! order and then checks, writes and publishes exactly as `run` does.

use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::base::hashing::{file_hash, hash_bytes};
use crate::base::owned;
use crate::base::timing::Clock;
use crate::error::{fail, first_error, FailureKind};
use crate::figures::TierSource;
use crate::fold::{EarlierRuns, Partial};
use crate::input::discovery;
use crate::input::partitions::Plan;
use crate::output::manifest::{InputPartition, MemoryUse};
use crate::output::publish::{self, OutputRoot, Stage};
use crate::output::published::Published;
use crate::output::worklist::WorklistSink;
use crate::pipeline::publishing::{publish_run, Publishing};
use crate::pipeline::{self, PartitionContacts, RunSummary};
use crate::policy::Policy;
use crate::report;

/// The format of `partial.json`; a merge refuses any other. 2: input files
/// carry a content hash, and the worklist files their sizes and hashes.
const FORMAT: u32 = 2;

/// At most this many shards (each at least one hash partition).
pub const MAX_SHARDS: usize = 4096;

/// A shard folds itself in at most this many partitions.
const MAX_PARTS_PER_SHARD: usize = 256;

/// Shard `k` of `n` (`0 <= k < n`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardSpec {
    pub k: usize,
    pub n: usize,
}

impl std::str::FromStr for ShardSpec {
    type Err = String;
    /// `K/N`, e.g. `3/8`.
    fn from_str(s: &str) -> Result<ShardSpec, String> {
        let bad = || format!("'{s}' is not a shard K/N with 0 <= K < N <= {MAX_SHARDS}, e.g. 0/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || n > MAX_SHARDS || k >= n {
            return Err(bad());
        }
        Ok(ShardSpec { k, n })
    }
}

/// A validated `shard` request.
#[derive(Clone, Debug)]
pub struct ShardConfig {
    pub input: PathBuf,
    /// The output root the merge publishes to: earlier runs' worklists are
    /// read from it (read only), as `run` reads them.
    pub output: PathBuf,
    pub work: PathBuf,
    pub as_of: Option<NaiveDate>,
    pub shard: ShardSpec,
    pub threads: Option<usize>,
    pub memory_limit: Option<u64>,
    pub policy: Policy,
}

/// A validated `merge` request.
#[derive(Clone, Debug)]
pub struct MergeConfig {
    pub work: PathBuf,
    pub output: PathBuf,
    pub as_of: NaiveDate,
    pub shards: usize,
    pub threads: Option<usize>,
    pub policy: Policy,
    pub report: report::Options,
}

/// What a shard wrote.
#[derive(Clone, Debug)]
pub struct ShardSummary {
    pub as_of: NaiveDate,
    pub dir: PathBuf,
    /// The run date's rows of the shard's loans.
    pub rows: u64,
    pub partitions: usize,
}

/// What makes shards parts of one run: a merge refuses shards whose
/// fingerprints differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub program_version: String,
    pub as_of: NaiveDate,
    pub shards: usize,
    /// `--input` as the shard was given it (the report shows it).
    pub input_root: String,
    /// Every file read, relative to the input root.
    pub files: Vec<InputFile>,
    /// A hash of the policy's settings (not of where it was read from).
    pub policy: String,
    /// Each comparison date: whether its own worklist was used, and a
    /// hash of that run's manifest (`none` without one).
    pub earlier: Vec<(NaiveDate, bool, String)>,
}

/// One input file as a shard read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// Relative to the input root.
    pub path: String,
    pub bytes: u64,
    pub rows: usize,
    /// What the file holds: a hash of every byte of a local file
    /// ([`file_hash`]); for an object, the store's ETag and time of last
    /// change. A file restated in place between two shards, even to the
    /// same size and row count, differs here.
    pub content: String,
}

/// A worklist file of a shard: its size and a hash of its bytes, checked by
/// the merge before it reads any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct WorklistFile {
    bytes: u64,
    hash: String,
}

/// `partial.json`.
#[derive(Debug, Serialize, Deserialize)]
struct ShardFile {
    format: u32,
    shard: usize,
    shards: usize,
    fingerprint: Fingerprint,
    int_ids: bool,
    /// Size and hash of each worklist file, one per partition the shard
    /// was folded in, in partition order ([`worklist_file`]).
    worklists: Vec<WorklistFile>,
    /// The manifest's inputs as seen from this shard's loans (rounded
    /// values and all-null columns of its rows), then the contacts window.
    inputs: Vec<InputPartition>,
    partial: Partial,
}

/// `WORK/as_of_date=D/shards-N`.
pub fn shards_dir(work: &Path, as_of: NaiveDate, n: usize) -> PathBuf {
    work.join(format!("as_of_date={as_of}"))
        .join(format!("shards-{n}"))
}

/// The policy's settings, hashed: two policy files that say the same
/// thing match wherever they were read from.
pub fn policy_hash(p: &Policy) -> String {
    let settings = Policy {
        source: String::new(),
        ..p.clone()
    };
    format!("{:016x}", hash_bytes(format!("{settings:?}").as_bytes()))
}

/// A hash of the manifest an earlier run of `date` published, or `none`.
fn manifest_hash(output: &Path, date: NaiveDate) -> Result<String> {
    Ok(match Published::new(output).manifest(date)? {
        Some(b) => format!("{:016x}", hash_bytes(&b)),
        None => "none".into(),
    })
}

/// Removes a folder when dropped (a shard's folder being written).
struct Removed(PathBuf);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = owned::remove(&self.0);
    }
}

/// Computes one shard (its own thread pool).
pub fn shard(cfg: &ShardConfig) -> Result<ShardSummary> {
    pipeline::pool(cfg.threads)?.install(|| shard_in_pool(cfg))
}

fn shard_in_pool(cfg: &ShardConfig) -> Result<ShardSummary> {
    let ShardSpec { k, n } = cfg.shard;
    let mut clock = Clock::shown();
    let catalog = discovery::discover(&cfg.input)?;
    let dates = discovery::resolve_dates(&catalog, cfg.as_of)?;
    let opened = pipeline::open_inputs(&dates, &cfg.policy)?;
    let as_of = opened.cur.date();

    // The shard's own loans in as many hash partitions as the memory
    // limit asks for: partitions k*m..(k+1)*m of n*m hold exactly them.
    let memory_limit = cfg
        .memory_limit
        .unwrap_or_else(pipeline::default_memory_limit);
    let snapshots = 1 + opened.prev.is_some() as usize + opened.m1.is_some() as usize;
    let per_partition = pipeline::rows_per_partition(memory_limit, snapshots);
    let shard_rows = opened.cur.rows().div_ceil(n);
    let m = shard_rows
        .div_ceil(per_partition.max(1))
        .clamp(1, MAX_PARTS_PER_SHARD);
    let plan = Plan::shard(k, n, m, opened.cur.groups().len());

    // The work folder is the operator's; everything below it is the
    // shard's own, never reached through a link (src/base/owned.rs).
    fs::create_dir_all(&cfg.work).map_err(|e| owned::io_error("cannot create", &cfg.work, e))?;
    let dir = owned::dirs(
        &cfg.work,
        &[&format!("as_of_date={as_of}"), &format!("shards-{n}")],
    )?;
    let tmp = dir.join(format!(".shard-{k}.tmp-{}", std::process::id()));
    owned::remove(&tmp)?;
    owned::dir(&tmp)?;
    let guard = Removed(tmp.clone());
    let scratch = tmp.join("scratch");
    owned::dir(&scratch)?;

    let contacts = PartitionContacts::read(&catalog, &opened, &plan, &cfg.policy, Some(&scratch))?;
    let earlier_dates: Vec<NaiveDate> = opened
        .prev
        .iter()
        .chain(opened.m1.iter())
        .map(|o| o.date())
        .collect();
    let earlier = EarlierRuns::read(&cfg.output, earlier_dates.iter().copied());
    clock.lap("read contacts and earlier worklists");

    let mut sink = WorklistSink::new(
        opened.cur.int_ids(),
        &as_of.to_string(),
        Some(scratch.join("worklist")),
    )?;
    let (mut partial, described) = pipeline::fold_parts(
        &cfg.policy,
        &opened,
        &plan,
        &contacts,
        &earlier,
        Some(&scratch),
        &mut sink,
        None,
        &mut clock,
    )?;
    let worklists = sink.into_scratch()?;
    // Timings would make two runs of a shard differ.
    partial.steps.clear();

    let mut inputs = described.inputs(&opened);
    inputs.extend(contacts.info.clone());
    let fingerprint = Fingerprint {
        program_version: env!("CARGO_PKG_VERSION").into(),
        as_of,
        shards: n,
        input_root: cfg.input.display().to_string(),
        files: input_files(&cfg.input, &inputs)?,
        policy: policy_hash(&cfg.policy),
        earlier: earlier_dates
            .iter()
            .map(|&d| Ok((d, earlier.usable(d), manifest_hash(&cfg.output, d)?)))
            .collect::<Result<_>>()?,
    };
    let rows = partial.controls.rows;
    // The worklist files are moved in first: their hashes go into the file.
    for (j, w) in worklists.iter().enumerate() {
        let to = worklist_file(&tmp, j);
        fs::rename(w, &to).with_context(|| format!("cannot move '{}'", w.display()))?;
    }
    let hashed = (0..worklists.len())
        .into_par_iter()
        .map(|j| {
            let (bytes, hash) = file_hash(&worklist_file(&tmp, j))?;
            Ok(WorklistFile { bytes, hash })
        })
        .collect();
    let file = ShardFile {
        format: FORMAT,
        shard: k,
        shards: n,
        fingerprint,
        int_ids: opened.cur.int_ids(),
        worklists: first_error(hashed)?,
        inputs,
        partial,
    };
    drop(contacts);
    owned::remove(&scratch)?;
    let json = serde_json::to_vec(&file).context("serialising the shard's partial")?;
    publish::write_synced(&tmp.join("partial.json"), &json)?;

    // Into place: the previous copy of this shard (a retry) is replaced.
    let target = dir.join(format!("shard-{k}"));
    owned::remove(&target)?;
    fs::rename(&tmp, &target)
        .with_context(|| format!("cannot move the shard into '{}'", target.display()))?;
    drop(guard);
    Ok(ShardSummary {
        as_of,
        dir: target,
        rows,
        partitions: m,
    })
}

/// The input files of the manifest's inputs, relative to the input root,
/// with their sizes, rows and content ([`InputFile`]), hashed in parallel.
fn input_files(root: &Path, inputs: &[InputPartition]) -> Result<Vec<InputFile>> {
    let files: Vec<_> = inputs.iter().flat_map(|i| i.files.iter()).collect();
    let hashed = files
        .par_iter()
        .map(|f| {
            let path = Path::new(&f.path);
            let (bytes, content) = if crate::object::is_remote(path) {
                (crate::object::size(path)?, crate::object::version(path)?)
            } else {
                file_hash(path)?
            };
            let rel = path.strip_prefix(root).unwrap_or(path);
            Ok(InputFile {
                path: rel.display().to_string(),
                bytes,
                rows: f.rows,
                content,
            })
        })
        .collect::<Vec<Result<InputFile>>>();
    first_error(hashed)
}

fn shards_error(msg: String) -> anyhow::Error {
    fail(FailureKind::Shards, msg)
}

/// Reads the N shards of a run, checking that they are all there, once
/// each, and of one run.
fn read_shards(cfg: &MergeConfig) -> Result<Vec<(PathBuf, ShardFile)>> {
    let n = cfg.shards;
    let dir = shards_dir(&cfg.work, cfg.as_of, n);
    let entries = fs::read_dir(&dir).map_err(|e| {
        shards_error(format!(
            "no shards of {} in '{}' ({e}); run `arrears shard --shard K/{n}` for K = 0..{}",
            cfg.as_of,
            dir.display(),
            n - 1
        ))
    })?;
    let mut found: Vec<Option<PathBuf>> = vec![None; n];
    let mut unexpected = Vec::new();
    for e in entries {
        let e = e.with_context(|| format!("cannot list '{}'", dir.display()))?;
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            // A shard being written, or one killed while it was.
            continue;
        }
        match name
            .strip_prefix("shard-")
            .and_then(|k| k.parse::<usize>().ok())
        {
            Some(k) if k < n => found[k] = Some(e.path()),
            _ => unexpected.push(name),
        }
    }
    if !unexpected.is_empty() {
        unexpected.sort();
        return Err(shards_error(format!(
            "'{}' holds entries that are not shards 0..{} of {n}: {}; nothing was published",
            dir.display(),
            n - 1,
            unexpected.join(", ")
        )));
    }
    let missing: Vec<String> = (0..n)
        .filter(|&k| found[k].is_none())
        .map(|k| k.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(shards_error(format!(
            "shard(s) {} of {n} missing in '{}'; nothing was published",
            missing.join(", "),
            dir.display()
        )));
    }
    let mut shards = Vec::with_capacity(n);
    for (k, path) in found.into_iter().enumerate() {
        let path = path.expect("checked above");
        let json = path.join("partial.json");
        let f = fs::File::open(&json).map_err(|e| {
            shards_error(format!(
                "shard {k} in '{}' is incomplete: cannot open partial.json ({e}); nothing was published",
                path.display()
            ))
        })?;
        let file: ShardFile = serde_json::from_reader(BufReader::new(f)).map_err(|e| {
            shards_error(format!(
                "'{}' is not a shard this program wrote ({e}); nothing was published",
                json.display()
            ))
        })?;
        if file.format != FORMAT {
            return Err(shards_error(format!(
                "'{}' has format {}, this program reads {FORMAT}: rerun the shards with this version; nothing was published",
                json.display(),
                file.format
            )));
        }
        check_worklists(k, &path, &file.worklists)?;
        if file.shard != k || file.shards != n {
            return Err(shards_error(format!(
                "'{}' is shard {}/{} but sits in the place of shard {k}/{n}: shard {} would be merged twice; nothing was published",
                json.display(),
                file.shard,
                file.shards,
                file.shard
            )));
        }
        shards.push((path, file));
    }
    let first = shards[0].1.fingerprint.clone();
    for (path, s) in &shards[1..] {
        if let Some(what) = differs(&first, &s.fingerprint) {
            return Err(shards_error(format!(
                "shard {} ('{}') is not of the same run as shard 0: {what}; rerun it; nothing was published",
                s.shard,
                path.display()
            )));
        }
    }
    Ok(shards)
}

/// Checks that shard `k`'s worklist files are whole: each one's size and
/// hash as the shard recorded them (read in parallel; the first bad file
/// in file order is named).
fn check_worklists(k: usize, dir: &Path, files: &[WorklistFile]) -> Result<()> {
    let checked: Vec<Result<()>> = files
        .par_iter()
        .enumerate()
        .map(|(j, w)| {
            let p = worklist_file(dir, j);
            let seen = file_hash(&p).map_err(|e| {
                shards_error(format!(
                    "shard {k}'s worklist file '{}' is missing or unreadable ({e:#}); rerun shard {k}; nothing was published",
                    p.display()
                ))
            })?;
            if seen != (w.bytes, w.hash.clone()) {
                return Err(shards_error(format!(
                    "shard {k}'s worklist file '{}' is damaged ({} bytes, {} when the shard wrote it, or other bytes); rerun shard {k}; nothing was published",
                    p.display(),
                    seen.0,
                    w.bytes
                )));
            }
            Ok(())
        })
        .collect();
    first_error(checked).map(|_| ())
}

/// Worklist file `j` of a shard folder.
fn worklist_file(dir: &Path, j: usize) -> PathBuf {
    dir.join(format!("worklist-{j:05}.arrows"))
}

/// What differs between two fingerprints, in words.
fn differs(a: &Fingerprint, b: &Fingerprint) -> Option<String> {
    if a.program_version != b.program_version {
        return Some(format!(
            "program version {} vs {}",
            a.program_version, b.program_version
        ));
    }
    if a.as_of != b.as_of {
        return Some(format!("run date {} vs {}", a.as_of, b.as_of));
    }
    if a.files != b.files {
        // The same file with other content: restated in place.
        for f in &b.files {
            if let Some(g) = a.files.iter().find(|g| g.path == f.path) {
                if g != f && g.bytes == f.bytes && g.rows == f.rows {
                    return Some(format!(
                        "input file {} was restated between the shards: same size ({} bytes) and rows ({}), other content",
                        f.path, f.bytes, f.rows
                    ));
                }
            }
        }
        let only = |x: &Fingerprint, y: &Fingerprint| {
            x.files
                .iter()
                .find(|f| !y.files.contains(f))
                .map(|f| format!("{} ({} bytes, {} rows)", f.path, f.bytes, f.rows))
        };
        let what = only(b, a)
            .or_else(|| only(a, b))
            .unwrap_or_else(|| "the file order".into());
        return Some(format!("different input files: {what}"));
    }
    if a.input_root != b.input_root {
        return Some(format!(
            "input root '{}' vs '{}'",
            a.input_root, b.input_root
        ));
    }
    if a.policy != b.policy {
        return Some("a different policy".into());
    }
    if a.earlier != b.earlier {
        return Some(
            "different earlier runs under the output (one was republished between the shards)"
                .into(),
        );
    }
    None
}

/// The manifest's inputs of the whole book from the shards': rounded
/// values add up, a column is null in every row when it is in every shard.
fn merge_inputs(shards: &[(PathBuf, ShardFile)]) -> Vec<InputPartition> {
    let mut out = shards[0].1.inputs.clone();
    for (_, s) in &shards[1..] {
        for (a, b) in out.iter_mut().zip(&s.inputs) {
            if a.dataset == "loans" {
                a.rounded_money_values += b.rounded_money_values;
                a.all_null_columns
                    .retain(|c| b.all_null_columns.contains(c));
            }
        }
    }
    out
}

/// Merges the shards of a run and publishes it (its own thread pool).
pub fn merge(cfg: &MergeConfig) -> Result<RunSummary> {
    pipeline::pool(cfg.threads)?.install(|| merge_in_pool(cfg))
}

fn merge_in_pool(cfg: &MergeConfig) -> Result<RunSummary> {
    let mut clock = Clock::shown();
    // Templates first, as `run`: a broken template folder fails at once.
    let engine = report::Engine::new(&cfg.report)?;
    let shards = read_shards(cfg)?;
    let fp = shards[0].1.fingerprint.clone();
    if fp.policy != policy_hash(&cfg.policy) {
        return Err(shards_error(format!(
            "the shards were computed with another policy than this merge's ({}); nothing was published",
            cfg.policy.source
        )));
    }
    let mut out = OutputRoot::open(&cfg.output)?;
    let recovered = std::mem::take(&mut out.recovered);
    for (d, _, hash) in &fp.earlier {
        if *hash != manifest_hash(&cfg.output, *d)? {
            return Err(shards_error(format!(
                "the run of {d} under '{}' changed since the shards read its worklist: rerun the shards; nothing was published",
                cfg.output.display()
            )));
        }
    }
    clock.lap("read shards");

    let inputs = merge_inputs(&shards);
    let int_ids = shards[0].1.int_ids;
    let mut worklists = Vec::new();
    let mut partitions = 0;
    let mut acc: Option<Partial> = None;
    for (path, s) in shards {
        worklists.extend((0..s.worklists.len()).map(|j| worklist_file(&path, j)));
        partitions += s.worklists.len();
        acc = Some(match acc {
            None => s.partial,
            Some(a) => a.merge(s.partial),
        });
    }
    let figures = acc.expect("at least one shard").finish();
    // `run` folds again without an earlier worklist that does not match
    // its snapshot in some partition; shards cannot, so the merge stops.
    for p in &figures.periods {
        let used = fp.earlier.iter().any(|(d, u, _)| *d == p.from_date && *u);
        if let (true, TierSource::Snapshot(why)) = (used, &p.tiers_from) {
            return Err(shards_error(format!(
                "a shard found that the worklist of {} does not match its snapshot ({why:?}): run `arrears run` for {}; nothing was published",
                p.from_date, cfg.as_of
            )));
        }
    }
    clock.lap("merge partials");
    let mut stage = Stage::new(&out, &cfg.as_of.to_string())?;
    let sink = WorklistSink::from_scratch(int_ids, &cfg.as_of.to_string(), worklists)?;
    let worklist_files = sink.finish(&mut stage)?;
    clock.lap("write worklist");
    publish_run(Publishing {
        engine: &engine,
        policy: &cfg.policy,
        input_root: fp.input_root.clone(),
        output: &cfg.output,
        figures,
        stage,
        worklist_files,
        inputs,
        memory: MemoryUse {
            limit_bytes: pipeline::default_memory_limit(),
            partitions,
            partitioned_by: format!("loan-id hash: {} shards merged", cfg.shards),
            peak_rss_bytes: None,
        },
        clock,
        recovered,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_specs_parse_and_refuse() {
        assert_eq!("3/8".parse::<ShardSpec>(), Ok(ShardSpec { k: 3, n: 8 }));
        assert_eq!("0/1".parse::<ShardSpec>(), Ok(ShardSpec { k: 0, n: 1 }));
        for bad in ["8/8", "1/0", "x/2", "3", "-1/4", "0/5000"] {
            assert!(bad.parse::<ShardSpec>().is_err(), "{bad}");
        }
    }
}
