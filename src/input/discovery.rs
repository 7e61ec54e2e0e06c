//! Finds the Hive-style partitions under the input root
//! (`loans/as_of_date=YYYY-MM-DD/<files>`, likewise `contacts/`) and picks the
//! snapshots a run compares: the run date, `prev` and `1m`.
//!
//! Only two directory levels are listed, never walked recursively, so a
//! symlink loop below a partition cannot hang discovery. Names starting with
//! `.` or `_` are skipped, as Spark, Hive and DuckDB do (`_SUCCESS`,
//! `.part-0.crc`, `_temporary/`).

use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{Datelike, Months, NaiveDate};

use crate::error::{bad_input, fail, FailureKind};
use crate::object;

/// One business date's partition of a dataset.
#[derive(Clone, Debug)]
pub struct Partition {
    pub date: NaiveDate,
    pub dir: PathBuf,
    /// Data files, sorted by name so that reads are deterministic.
    pub files: Vec<PathBuf>,
}

/// The dates on offer for one dataset, oldest first.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    pub partitions: Vec<Partition>,
}

impl Dataset {
    pub fn get(&self, date: NaiveDate) -> Option<&Partition> {
        self.partitions
            .binary_search_by_key(&date, |p| p.date)
            .ok()
            .map(|i| &self.partitions[i])
    }
    /// Latest partition strictly before `date`.
    pub fn latest_before(&self, date: NaiveDate) -> Option<&Partition> {
        self.partitions.iter().rev().find(|p| p.date < date)
    }
    /// Latest partition on or before `date`.
    pub fn latest_on_or_before(&self, date: NaiveDate) -> Option<&Partition> {
        self.partitions.iter().rev().find(|p| p.date <= date)
    }
    pub fn latest(&self) -> Option<&Partition> {
        self.partitions.last()
    }
}

/// Everything discovered under the input root.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub root: PathBuf,
    pub loans: Dataset,
    pub contacts: Dataset,
}

/// The partition name prefix of the contract.
const KEY: &str = "as_of_date=";

/// Lists `root/loans` and `root/contacts`. A missing root or `loans/` is an
/// input-missing error; a missing `contacts/` means no contacts were logged.
pub fn discover(root: &Path) -> Result<Catalog> {
    if !is_dir(root)? {
        return Err(fail(
            FailureKind::InputMissing,
            format!(
                "input directory '{}' does not exist or is not a directory",
                root.display()
            ),
        ));
    }
    let loans_dir = root.join("loans");
    if !is_dir(&loans_dir)? {
        return Err(fail(
            FailureKind::InputMissing,
            format!(
                "input directory '{}' has no 'loans' folder (expected loans/as_of_date=YYYY-MM-DD/*.parquet)",
                root.display()
            ),
        ));
    }
    let loans = list_dataset(&loans_dir)?;
    let contacts_dir = root.join("contacts");
    let contacts = if is_dir(&contacts_dir)? {
        list_dataset(&contacts_dir)?
    } else {
        Dataset::default()
    };
    Ok(Catalog {
        root: root.to_path_buf(),
        loans,
        contacts,
    })
}

/// Whether `dir` is a folder; on an object store, whether anything is
/// stored under it.
fn is_dir(dir: &Path) -> Result<bool> {
    if object::is_remote(dir) {
        return object::exists_dir(dir);
    }
    Ok(dir.is_dir())
}

/// What a listed entry is (links followed: an input may link to data kept
/// elsewhere).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum What {
    Dir,
    File,
    /// A FIFO, socket or device node, named for messages.
    Other(&'static str),
}

/// The entries of a folder, local or on an object store, without hidden
/// names (never even looked at: a hidden entry may be a dangling link).
fn entries(dir: &Path) -> Result<Vec<(object::Entry, What)>> {
    if object::is_remote(dir) {
        let mut listed = object::list(dir)?;
        listed.retain(|e| !hidden(&e.name));
        return Ok(listed
            .into_iter()
            .map(|e| {
                let w = if e.is_dir { What::Dir } else { What::File };
                (e, w)
            })
            .collect());
    }
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| unreadable(dir, e))? {
        let entry = entry.map_err(|e| unreadable(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if hidden(&name) {
            continue;
        }
        let path = entry.path();
        // `metadata` follows symlinks; a dangling or looping link is reported.
        let meta = fs::metadata(&path).map_err(|e| unreadable(&path, e))?;
        let t = meta.file_type();
        let what = if t.is_dir() {
            What::Dir
        } else if t.is_file() {
            What::File
        } else if t.is_fifo() {
            What::Other("a FIFO")
        } else if t.is_socket() {
            What::Other("a socket")
        } else {
            What::Other("a device file")
        };
        out.push((
            object::Entry {
                name,
                path,
                is_dir: what == What::Dir,
            },
            what,
        ));
    }
    Ok(out)
}

fn hidden(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_')
}

fn list_dataset(dir: &Path) -> Result<Dataset> {
    let mut partitions = Vec::new();
    for (entry, what) in entries(dir)? {
        let name = entry.name;
        let Some(value) = name.strip_prefix(KEY) else {
            continue; // not a partition of this key: ignored like any stray folder
        };
        let path = entry.path;
        if what != What::Dir {
            continue;
        }
        let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
            bad_input(format!(
                "partition folder '{}' does not name a date as {KEY}YYYY-MM-DD",
                path.display()
            ))
        })?;
        if date.format("%Y-%m-%d").to_string() != value {
            return Err(bad_input(format!(
                "partition folder '{}' must spell its date as YYYY-MM-DD",
                path.display()
            )));
        }
        if !crate::base::calendar::accepts(date) {
            return Err(bad_input(format!(
                "partition folder '{}' names a date outside the dates arrears accepts ({})",
                path.display(),
                crate::base::calendar::RANGE
            )));
        }
        let files = list_files(&path)?;
        partitions.push(Partition {
            date,
            dir: path,
            files,
        });
    }
    partitions.sort_by_key(|p| p.date);
    Ok(Dataset { partitions })
}

/// An input path that cannot be listed or read: bad input (exit 4), naming
/// the path and the system's reason (a dangling link, a symlink loop, no
/// permission).
fn unreadable(path: &Path, e: std::io::Error) -> anyhow::Error {
    bad_input(format!("cannot read '{}': {e}", path.display()))
}

/// The data files of a partition folder in name order: every entry whose
/// name does not start with `.` or `_`. Each must be a regular file (a link
/// to one is followed): a folder, a FIFO or a device named like data is
/// refused (exit 4, naming it), never skipped, since skipping it would
/// publish part of the book as if it were all of it.
pub fn list_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for (entry, what) in entries(dir)? {
        let is = match what {
            What::File => {
                files.push(entry.path);
                continue;
            }
            What::Dir => "a folder",
            What::Other(is) => is,
        };
        return Err(bad_input(format!(
            "'{}' is {is}, not a data file: a partition folder holds Parquet files only (names starting with '.' or '_' are skipped); move it out of '{}'",
            entry.path.display(),
            dir.display()
        )));
    }
    files.sort();
    Ok(files)
}

/// The snapshots one run reads: the run date and the two comparison periods.
#[derive(Clone, Debug)]
pub struct RunDates {
    pub as_of: Partition,
    /// Latest partition strictly before the run date.
    pub prev: Option<Partition>,
    /// Latest partition on or before the run date minus one calendar month.
    pub month_ago: Option<Partition>,
}

/// The run date minus one calendar month, clamped to the month's end
/// (2026-03-31 gives 2026-02-28).
///
/// The end-of-month rule: a month-end maps to the previous month-end
/// (2026-11-30 -> 2026-10-31, 2026-03-31 -> 2026-02-28), as month-end
/// reporting compares month-end to month-end. Other dates keep their day,
/// clamped to the shorter month.
pub fn one_month_before(date: NaiveDate) -> NaiveDate {
    let is_month_end = date.succ_opt().is_some_and(|n| n.month() != date.month());
    if is_month_end {
        return date
            .with_day(1)
            .and_then(|d| d.pred_opt())
            .expect("the day before a first of month exists");
    }
    date.checked_sub_months(Months::new(1))
        .expect("a date one month earlier is always representable")
}

/// Picks the run date (given, or the latest loans partition) and its periods.
pub fn resolve_dates(catalog: &Catalog, as_of: Option<NaiveDate>) -> Result<RunDates> {
    let loans = &catalog.loans;
    let part = match as_of {
        Some(d) => loans.get(d).cloned().ok_or_else(|| {
            let have = loans
                .latest()
                .map(|p| format!("latest is {}", p.date))
                .unwrap_or_else(|| "none found".to_string());
            fail(
                FailureKind::InputMissing,
                format!(
                    "no loans partition for {d}: expected '{}' ({have})",
                    catalog
                        .root
                        .join("loans")
                        .join(format!("{KEY}{d}"))
                        .display()
                ),
            )
        })?,
        None => loans.latest().cloned().ok_or_else(|| {
            fail(
                FailureKind::InputMissing,
                format!(
                    "no loans partitions under '{}'",
                    catalog.root.join("loans").display()
                ),
            )
        })?,
    };
    let prev = loans.latest_before(part.date).cloned();
    let month_ago = loans
        .latest_on_or_before(one_month_before(part.date))
        .cloned();
    Ok(RunDates {
        as_of: part,
        prev,
        month_ago,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn month_arithmetic_clamps() {
        assert_eq!(one_month_before(d("2026-03-31")), d("2026-02-28"));
        assert_eq!(one_month_before(d("2024-03-31")), d("2024-02-29"));
        assert_eq!(one_month_before(d("2026-01-15")), d("2025-12-15"));
        assert_eq!(one_month_before(d("2026-11-30")), d("2026-10-31"));
        assert_eq!(one_month_before(d("2026-09-30")), d("2026-08-31"));
        assert_eq!(one_month_before(d("2026-02-28")), d("2026-01-31"));
        assert_eq!(one_month_before(d("2024-02-28")), d("2024-01-28"));
        assert_eq!(one_month_before(d("2026-10-30")), d("2026-09-30"));
    }

    #[test]
    fn periods_pick_latest() {
        let mk = |s: &str| Partition {
            date: d(s),
            dir: PathBuf::new(),
            files: vec![],
        };
        let cat = Catalog {
            root: PathBuf::from("x"),
            loans: Dataset {
                partitions: vec![
                    mk("2026-10-27"),
                    mk("2026-10-30"),
                    mk("2026-11-27"),
                    mk("2026-11-30"),
                ],
            },
            contacts: Dataset::default(),
        };
        let r = resolve_dates(&cat, None).unwrap();
        assert_eq!(r.as_of.date, d("2026-11-30"));
        assert_eq!(r.prev.unwrap().date, d("2026-11-27"));
        assert_eq!(r.month_ago.unwrap().date, d("2026-10-30"));
        let r = resolve_dates(&cat, Some(d("2026-10-30"))).unwrap();
        assert_eq!(r.prev.unwrap().date, d("2026-10-27"));
        assert!(r.month_ago.is_none());
        let e = resolve_dates(&cat, Some(d("2026-11-29"))).unwrap_err();
        assert_eq!(crate::error::kind_of(&e), Some(FailureKind::InputMissing));
    }
}
