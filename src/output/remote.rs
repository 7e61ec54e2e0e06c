//! Publication on an object store (`--output s3://bucket/prefix`), where
//! there is no rename: a manifest-last protocol with versioned data paths.
//!
//! A run of date D stages its outputs locally exactly as a local run does
//! (`publish::Stage`), then:
//!
//! 1. uploads every file but the manifest under a folder of its own,
//!    `O/_runs/as_of_date=D/<run>/<table>/<file>` (`<run>` is the start
//!    time in UTC and a process tag, e.g. `20261204T031502123Z-1a2b3c`);
//! 2. writes `O/manifest/as_of_date=D/manifest.json` in one PUT. That PUT
//!    is the commit: S3 replaces an object atomically, so a reader sees the
//!    old manifest or the new one, and every file a manifest names was
//!    uploaded before it;
//! 3. deletes the run folder the replaced manifest named (a rerun's
//!    predecessor) and run folders of D that no manifest names and that
//!    started over a day ago (runs killed before their commit). Failing to
//!    delete never fails the run: the date is published.
//!
//! What a reader must do (README, "Running on object storage and on a
//! cluster"): list `O/manifest/` for the published dates, read a date's
//! manifest, and read exactly the files its `outputs` name. Files under
//! `_runs/` that no manifest names belong to runs that were killed or
//! replaced; a Hive-style reader pointed at `O/<table>/` finds nothing
//! (the folder names start with `_`, which Spark, Hive and DuckDB skip).
//! A killed run therefore leaves nothing a reader takes for published, and
//! a rerun replaces a date in one step, like the local journalled swap.
//!
//! There is no lock on an object store: the scheduler runs one job per
//! output at a time (as for a local root shared between machines). Two runs
//! of the same date at once each publish a whole date; the last commit wins.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use chrono::{NaiveDateTime, Utc};
use rayon::prelude::*;

use crate::base::crash::crash_point;
use crate::error::{fail, kind_of, FailureKind};
use crate::object;
use crate::output::published::manifest_files;

/// The folder of the output root that holds the runs' files.
pub const RUNS: &str = "_runs";
/// Run folders no manifest names are deleted once they started this long
/// ago: surely dead, as no run takes a day.
const ORPHAN_AGE: Duration = Duration::from_secs(24 * 3600);
/// Test hook: abort the process after this many uploads of a publication
/// (the kill tests use it; unset in production).
const CRASH_AFTER_UPLOADS: &str = "ARREARS_CRASH_AFTER_UPLOADS";
const STARTED: &str = "%Y%m%dT%H%M%S%3fZ";

/// Checks that the store answers and the credentials are accepted, before
/// any data is read: a missing bucket is an output error (exit 6), refused
/// credentials or an unreachable store exit 11.
pub fn probe(root: &Path) -> Result<()> {
    match object::list(&root.join("manifest")) {
        Ok(_) => Ok(()),
        Err(e) if kind_of(&e) == Some(FailureKind::InputMissing) => Err(fail(
            FailureKind::Output,
            format!("cannot publish to '{}': {e:#}", root.display()),
        )),
        Err(e) => Err(e),
    }
}

/// Where one run of one date publishes on an object store.
pub struct Destination {
    root: PathBuf,
    partition: String,
    run: String,
}

impl Destination {
    pub fn new(root: &Path, as_of: &str) -> Destination {
        let now = Utc::now();
        // The start time orders runs and dates orphans; the process tag
        // keeps two runs started in the same millisecond apart.
        let nanos = now.timestamp_subsec_nanos() as u64;
        let tag = (std::process::id() as u64) << 20 ^ nanos;
        Destination {
            root: root.to_path_buf(),
            partition: format!("as_of_date={as_of}"),
            run: format!("{}-{:x}", now.format(STARTED), tag & 0xff_ffff),
        }
    }

    /// The folder of all runs of this date.
    fn runs(&self) -> PathBuf {
        self.root.join(RUNS).join(&self.partition)
    }

    /// Where `item` is published: the manifest at its fixed place, every
    /// other item in this run's folder.
    pub fn target(&self, item: &str) -> PathBuf {
        if item == "manifest" {
            self.root.join("manifest").join(&self.partition)
        } else {
            self.runs().join(&self.run).join(item)
        }
    }

    /// Uploads the staged `items` (folders of `staged`), the manifest last
    /// as the commit, then removes what the commit replaced.
    pub fn publish(&self, staged: &Path, items: &[String]) -> Result<()> {
        let mut files = Vec::new();
        let mut manifest = None;
        for item in items {
            let dir = staged.join(item);
            let mut names: Vec<String> = std::fs::read_dir(&dir)
                .map_err(|e| {
                    fail(
                        FailureKind::Output,
                        format!("cannot list the staged '{}': {e}", dir.display()),
                    )
                })?
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect();
            names.sort();
            for name in names {
                let pair = (dir.join(&name), self.target(item).join(&name));
                if item == "manifest" {
                    manifest = Some(pair);
                } else {
                    files.push(pair);
                }
            }
        }
        let Some((manifest_file, manifest_target)) = manifest else {
            return Err(fail(FailureKind::Output, "no manifest was staged"));
        };
        crate::error::first_error(
            files
                .par_iter()
                .map(|(local, target)| {
                    object::upload(local, target)?;
                    crash_point(CRASH_AFTER_UPLOADS);
                    Ok(())
                })
                .collect(),
        )?;
        let replaced = self.committed_run();
        object::upload(&manifest_file, &manifest_target)?;
        crash_point(CRASH_AFTER_UPLOADS);
        if let Err(e) = self.sweep(replaced.as_deref()) {
            eprintln!(
                "arrears: warning: published, but old run folders under '{}' were not all removed: {e:#}",
                self.runs().display()
            );
        }
        Ok(())
    }

    /// The run the date's current manifest names, if it is published.
    fn committed_run(&self) -> Option<String> {
        let path = self.target("manifest").join("manifest.json");
        let bytes = object::read_all(&path).ok()??;
        let files = manifest_files(&bytes).ok()?;
        let runs = format!("{}/", self.runs().display());
        files
            .values()
            .flatten()
            .find_map(|p| run_of(&p.to_string_lossy(), &runs))
    }

    /// Deletes the run folder the commit replaced, and run folders that
    /// no manifest names and are over a day old; returns the objects deleted.
    fn sweep(&self, replaced: Option<&str>) -> Result<usize> {
        let now = Utc::now().naive_utc();
        let mut deleted = 0;
        for e in object::list(&self.runs())? {
            if !e.is_dir || e.name == self.run {
                continue;
            }
            let dead = started(&e.name)
                .is_some_and(|t| (now - t).to_std().is_ok_and(|age| age > ORPHAN_AGE));
            if replaced == Some(e.name.as_str()) || dead {
                deleted += object::delete_all(&e.path)?;
            }
        }
        Ok(deleted)
    }
}

/// The run folder name in `path` after the prefix `runs` (`.../_runs/as_of_date=D/`).
fn run_of(path: &str, runs: &str) -> Option<String> {
    let rest = path.strip_prefix(runs)?;
    rest.split('/').next().map(str::to_string)
}

/// When a run started, from its folder name.
fn started(run: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(run.get(..19)?, STARTED).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_go_to_the_runs_folder_and_the_manifest_to_its_place() {
        let d = Destination::new(Path::new("s3://b/out"), "2026-11-29");
        let t = d.target("rates").display().to_string();
        assert!(
            t.starts_with("s3://b/out/_runs/as_of_date=2026-11-29/"),
            "{t}"
        );
        assert!(t.ends_with("/rates"));
        assert_eq!(
            d.target("manifest"),
            PathBuf::from("s3://b/out/manifest/as_of_date=2026-11-29")
        );
        let run = run_of(&t, "s3://b/out/_runs/as_of_date=2026-11-29/").unwrap();
        assert_eq!(run, d.run);
        // The run's name carries its start time.
        let age = Utc::now().naive_utc() - started(&run).unwrap();
        assert!(age.num_seconds().abs() < 60);
    }

    #[test]
    fn run_names_parse_and_order_by_start() {
        let a = started("20261204T031502123Z-1a2b3c").unwrap();
        let b = started("20261204T031502124Z-000001").unwrap();
        assert!(a < b);
        assert_eq!(started("not-a-run"), None);
        assert_eq!(
            run_of(
                "s3://b/o/_runs/as_of_date=D/r1/rates/part-0.parquet",
                "s3://b/o/_runs/as_of_date=D/"
            ),
            Some("r1".into())
        );
        assert_eq!(
            run_of(
                "s3://b/o/rates/part-0.parquet",
                "s3://b/o/_runs/as_of_date=D/"
            ),
            None
        );
    }
}
