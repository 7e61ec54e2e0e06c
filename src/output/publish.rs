//! Atomic publication of one run date's outputs, the output lock, and the
//! recovery of a publication that a crash interrupted.
//!
//! A date's outputs are several folders (`<item>/as_of_date=D`, one per
//! table, the report and the manifest), and no file system renames several
//! folders at once. So publication is a small journalled transaction:
//!
//! 1. Everything is written into a staging folder inside the output root
//!    (`.arrears-staging/D-PID/`, hidden from Hive-style readers, on the same
//!    file system so that a rename is atomic), every file synced.
//! 2. A `JOURNAL` listing the items is written and synced: from here on the
//!    new outputs are committed, and a crash is finished forwards.
//! 3. The old manifest of D (if any) is moved aside first, then every item is
//!    swapped in (old folder aside into the staging folder, new folder
//!    renamed into place), the manifest last. So whenever a manifest for D
//!    is present, every folder of D belongs to the same run as it.
//! 4. The staging folder, with the old folders, is removed.
//!
//! Without a journal, a staging folder is an unfinished run and is simply
//! deleted; the published outputs were never touched. Recovery runs under
//! the output lock at the start of every run ([`recover`]).
//!
//! If a step of the swap fails while the run is alive (a folder that
//! refuses its rename: a read-only mount, an immutable attribute), the
//! steps done are undone in reverse and the journal removed, so the
//! previous outputs of D are whole and readable again (exit 6). Only if
//! undoing fails too is the journal kept, for the next run to finish.
//!
//! Nothing under the output root is followed through a symbolic link
//! ([`crate::base::owned`]): a link where the run keeps its own folder or file is
//! refused with exit 6, and a journal can only name plain item folders.
//!
//! The lock is an advisory `flock` on the output root folder itself, held
//! for the whole run: deleting `.arrears.lock` (which only records the
//! holder's pid) cannot let a second run in. The kernel drops the lock when
//! the process ends, however it ends, so a killed run never leaves a lock
//! that blocks the next night.
//!
//! An output root on an object store (`s3://bucket/prefix`) is staged the
//! same way in a private local folder, and then published by
//! [`remote`](super::remote): the files uploaded to a folder of the run's
//! own, the manifest written last as the commit.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::base::crash::crash_point;
use crate::base::owned;
use crate::error::{fail, FailureKind};
use crate::object;
use crate::output::remote::Destination;

/// Folder of the output root that holds staging folders.
pub const STAGING: &str = ".arrears-staging";
/// The lock file in the output root.
pub const LOCK_FILE: &str = ".arrears.lock";
const JOURNAL: &str = "JOURNAL";
/// The journal's last line.
const JOURNAL_END: &str = "end";
/// Where old folders wait inside a staging folder until it is removed.
const OLD: &str = ".old";

/// Test hook: abort the process after this many folder renames of a
/// publication (the crash tests use it to stop at every step; see README,
/// "Tests"). Unset in production.
const CRASH_AFTER_RENAMES: &str = "ARREARS_CRASH_AFTER_RENAMES";

fn sync_dir(path: &Path) -> Result<()> {
    // Makes the renames themselves durable, not only the files' contents.
    let d = File::open(path).map_err(|e| owned::io_error("opening", path, e))?;
    d.sync_all()
        .map_err(|e| owned::io_error("syncing", path, e))
}

/// Writes a small file whole and syncs it (the report, the manifest, a
/// journal): a failure is an output error naming the file.
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |e| owned::io_error("writing", path, e);
    let mut f = owned::create_file(path)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)
}

/// The output root's lock, held until dropped.
pub struct OutputLock {
    /// The output root folder, `flock`ed.
    _root: File,
    /// `.arrears.lock`: the holder's pid, for the message of a run that
    /// finds the root locked.
    _pid: File,
}

/// Takes the output root's lock (creating the root if needed). Fails at once
/// with [`FailureKind::Locked`] when another run holds it.
pub fn lock(out: &Path) -> Result<OutputLock> {
    fs::create_dir_all(out)
        .map_err(|e| owned::io_error("cannot create output directory", out, e))?;
    let path = out.join(LOCK_FILE);
    // The pid file first: a read-only output fails here, naming it, and a
    // link or a FIFO in its place is refused before anything is opened.
    let mut pid = owned::open_file(&path, "cannot open the lock file")?;
    // The lock is on the folder, not on the file: a file can be deleted
    // while a run holds it, and a second run would then lock a new one.
    let root = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(out)
        .map_err(|e| owned::io_error("cannot open the output directory", out, e))?;
    match root.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = pid.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(fail(
                FailureKind::Locked,
                format!(
                    "output '{}' is locked by another arrears run{}; nothing was read or written. Run again when it has finished",
                    out.display(),
                    if holder.is_empty() {
                        String::new()
                    } else {
                        format!(" ({holder})")
                    }
                ),
            ));
        }
        Err(TryLockError::Error(e)) => return Err(owned::io_error("cannot lock", out, e)),
    }
    // Who holds it, for the message of a run that finds it locked.
    let _ = pid.set_len(0);
    let _ = write!(pid, "pid {}", std::process::id());
    Ok(OutputLock {
        _root: root,
        _pid: pid,
    })
}

/// Where a run publishes, opened for the run: the lock taken and what a
/// crashed run left finished. For an object store, the lock, the scratch
/// files and the staging folder live in a private local folder (removed when
/// the run ends) and the store is checked before any data is read.
pub struct OutputRoot {
    /// The folder of the lock, the scratch files and the staging folder.
    local: PathBuf,
    /// The object store prefix published to, if not a local folder.
    remote: Option<PathBuf>,
    /// Held, not read: the lock lasts as long as the open root.
    _lock: OutputLock,
    /// What a crashed earlier run had left in the (local) output.
    pub recovered: Recovered,
}

impl OutputRoot {
    pub fn open(output: &Path) -> Result<OutputRoot> {
        if !object::is_remote(output) {
            let lock = lock(output)?;
            let recovered = recover(output, &lock)?;
            return Ok(OutputRoot {
                local: output.to_path_buf(),
                remote: None,
                _lock: lock,
                recovered,
            });
        }
        // Refused credentials or a missing bucket fail here, before the book
        // is read.
        crate::output::remote::probe(output)?;
        let local = owned::private_temp_dir("arrears-output")?;
        let lock = lock(&local)?;
        Ok(OutputRoot {
            local,
            remote: Some(output.to_path_buf()),
            _lock: lock,
            recovered: Recovered::default(),
        })
    }
}

impl Drop for OutputRoot {
    fn drop(&mut self) {
        if self.remote.is_some() {
            let _ = fs::remove_dir_all(&self.local);
        }
    }
}

/// What [`recover`] found in the staging area.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Dates whose interrupted publication was completed.
    pub completed: Vec<String>,
    /// Staging folders of unfinished runs that were removed.
    pub discarded: usize,
}

/// Finishes every journalled publication left by a crashed run and removes
/// the staging folders of runs that never reached their journal. Needs the
/// lock: no other run may be publishing.
pub fn recover(out: &Path, _lock: &OutputLock) -> Result<Recovered> {
    let mut r = Recovered::default();
    let root = out.join(STAGING);
    // A link in place of the staging area is refused, never listed: its
    // target's folders would be taken for staging folders and removed.
    if !owned::dir_exists(&root)? {
        return Ok(r);
    }
    let entries = fs::read_dir(&root).map_err(|e| owned::io_error("cannot list", &root, e))?;
    let mut found: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    found.sort();
    for path in found {
        if owned::kind(&path)? == owned::Kind::Dir {
            match read_journal(&path)? {
                Some((partition, items)) => {
                    apply(out, &path, &partition, &items)?;
                    r.completed
                        .push(partition.trim_start_matches("as_of_date=").to_string());
                }
                None => r.discarded += 1,
            }
        }
        // Anything else in the staging area (a file, a link) is not a
        // run's: removed as itself, a link never followed.
        owned::remove(&path)?;
    }
    let _ = fs::remove_dir(&root);
    Ok(r)
}

/// The journal of a staging folder: the partition, the items in publishing
/// order, and a marker line that shows it was written whole.
fn write_journal(dir: &Path, partition: &str, items: &[String]) -> Result<()> {
    let mut text = format!("{partition}\n");
    for item in items {
        text.push_str(item);
        text.push('\n');
    }
    text.push_str(JOURNAL_END);
    text.push('\n');
    write_synced(&dir.join(JOURNAL), text.as_bytes())?;
    sync_dir(dir)
}

/// The partition and items of a staging folder's journal; `None` when it
/// has none, or one cut short (which commits nothing).
fn read_journal(dir: &Path) -> Result<Option<(String, Vec<String>)>> {
    let path = dir.join(JOURNAL);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(owned::io_error("cannot read", &path, e)),
    };
    let mut lines = text.lines();
    let partition = lines.next().unwrap_or_default().to_string();
    let items: Vec<String> = lines.map(str::to_string).collect();
    // A journal is written whole and synced before any rename; one that does
    // not end with its marker line was cut short and commits nothing.
    if !partition.starts_with("as_of_date=")
        || items.last().map(String::as_str) != Some(JOURNAL_END)
    {
        return Ok(None);
    }
    let items = items[..items.len() - 1].to_vec();
    // A journal names a partition and plain item folders, nothing else: one
    // that names a path (`../x`, `/etc`) was not written by a run and
    // commits nothing.
    let date_ok =
        chrono::NaiveDate::parse_from_str(partition.trim_start_matches("as_of_date="), "%Y-%m-%d")
            .is_ok();
    if !date_ok || !items.iter().all(|i| plain_name(i)) {
        return Ok(None);
    }
    Ok(Some((partition, items)))
}

/// An item folder's name as a run writes it: lower-case letters, digits
/// and `_`.
fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn rename(from: &Path, to: &Path, what: &str) -> Result<()> {
    // Both ends named: the folder that refused may be either.
    fs::rename(from, to).map_err(|e| {
        fail(
            FailureKind::Output,
            format!("{what} '{}' to '{}': {e}", from.display(), to.display()),
        )
    })?;
    crash_point(CRASH_AFTER_RENAMES);
    Ok(())
}

/// One step of a swap, as done: what undoing it must put back.
enum Done {
    /// The published folder of `item` moved into `.old`.
    Aside(String),
    /// The staged folder of `item` renamed into place.
    In(String),
}

/// Swaps every staged item of a journalled staging folder into place; safe
/// to repeat after a crash at any point (items already swapped are skipped).
fn apply(out: &Path, dir: &Path, partition: &str, items: &[String]) -> Result<()> {
    apply_logged(out, dir, partition, items, &mut Vec::new())
}

/// Looks at every place a publication will touch before anything is
/// moved: a link or a non-folder where an item's folder or the date's
/// partition goes is refused (exit 6) while the published outputs are
/// still untouched.
fn preflight(out: &Path, partition: &str, items: &[String]) -> Result<()> {
    for item in items {
        let parent = out.join(item);
        if owned::dir_exists(&parent)? {
            owned::dir_exists(&parent.join(partition))?;
        }
    }
    Ok(())
}

/// [`apply`], recording each step done in `log` so that a failure can be
/// undone ([`undo`]).
fn apply_logged(
    out: &Path,
    dir: &Path,
    partition: &str,
    items: &[String],
    log: &mut Vec<Done>,
) -> Result<()> {
    let old = dir.join(OLD);
    owned::dir(&old)?;
    // The last item (the manifest) marks a complete date: its old version
    // goes first, so no manifest is present while folders are swapped.
    if let Some(last) = items.last() {
        let target = out.join(last).join(partition);
        if owned::dir_exists(&dir.join(last))? && owned::dir_exists(&target)? {
            set_aside(&target, &old, last)?;
            log.push(Done::Aside(last.clone()));
        }
    }
    for item in items {
        let staged = dir.join(item);
        if !owned::dir_exists(&staged)? {
            continue; // swapped before the crash
        }
        let parent = out.join(item);
        owned::dir(&parent)?;
        let target = parent.join(partition);
        if owned::dir_exists(&target)? {
            set_aside(&target, &old, item)?;
            log.push(Done::Aside(item.clone()));
        }
        rename(&staged, &target, "cannot publish")?;
        log.push(Done::In(item.clone()));
        sync_dir(&parent)?;
    }
    Ok(())
}

/// Undoes the steps of a failed swap in reverse: each new folder back into
/// the staging folder, each old one back into place. Plain renames (no
/// crash point): a crash here leaves the journal, and the next run
/// finishes forwards.
fn undo(out: &Path, dir: &Path, partition: &str, log: Vec<Done>) -> Result<()> {
    for step in log.into_iter().rev() {
        match step {
            Done::In(item) => {
                let target = out.join(&item).join(partition);
                fs::rename(&target, dir.join(&item))
                    .map_err(|e| owned::io_error("cannot take back", &target, e))?;
                sync_dir(&out.join(&item))?;
            }
            Done::Aside(item) => {
                let target = out.join(&item).join(partition);
                fs::rename(dir.join(OLD).join(&item), &target)
                    .map_err(|e| owned::io_error("cannot put back", &target, e))?;
                sync_dir(&out.join(&item))?;
            }
        }
    }
    Ok(())
}

fn set_aside(target: &Path, old: &Path, item: &str) -> Result<()> {
    let aside = old.join(item);
    // Left by an earlier attempt whose swap then completed.
    owned::remove(&aside)?;
    rename(target, &aside, "cannot move aside")?;
    if let Some(p) = target.parent() {
        sync_dir(p)?;
    }
    Ok(())
}

/// A run's staging folder.
pub struct Stage {
    out: PathBuf,
    dir: PathBuf,
    partition: String,
    items: Vec<String>,
    published: bool,
    /// Set for an output on an object store: where the items are uploaded.
    remote: Option<Destination>,
}

impl Stage {
    /// A fresh staging folder in the output root, whose lock the run holds.
    pub fn new(root: &OutputRoot, as_of: &str) -> Result<Stage> {
        let out = &root.local;
        let dir = fresh_dir(out, &format!("{as_of}-{}", std::process::id()))?;
        Ok(Stage {
            out: out.to_path_buf(),
            dir,
            partition: format!("as_of_date={as_of}"),
            items: Vec::new(),
            published: false,
            remote: root.remote.as_deref().map(|r| Destination::new(r, as_of)),
        })
    }

    /// Path of `file` inside the staged folder of `item` (created on first use).
    pub fn file(&mut self, item: &str, file: &str) -> Result<PathBuf> {
        let d = self.dir.join(item);
        if !self.items.iter().any(|i| i == item) {
            debug_assert!(plain_name(item), "item folder {item:?}");
            owned::dir(&d)?;
            self.items.push(item.to_string());
        }
        Ok(d.join(file))
    }

    /// Path of `file` in the staged folder of `item`, whether or not it
    /// was written.
    pub fn local_file(&self, item: &str, file: &str) -> PathBuf {
        self.dir.join(item).join(file)
    }

    /// Where `item` will be published.
    pub fn target(&self, item: &str) -> PathBuf {
        match &self.remote {
            Some(d) => d.target(item),
            None => self.out.join(item).join(&self.partition),
        }
    }

    /// Commits the staged items (journal) and swaps them into place, in the
    /// order they were staged; an existing partition of the same date is
    /// replaced. After the journal is synced the publication is finished
    /// even if this process dies: the next run completes it.
    pub fn publish(mut self) -> Result<Vec<PathBuf>> {
        if let Some(d) = &self.remote {
            // Nothing to finish after a crash: until the manifest's PUT the
            // date's published outputs are untouched, after it they are
            // the new ones. Drop removes the local staging folder.
            d.publish(&self.dir, &self.items)?;
            return Ok(self.items.iter().map(|i| self.target(i)).collect());
        }
        for item in &self.items {
            sync_dir(&self.dir.join(item))?;
        }
        preflight(&self.out, &self.partition, &self.items)?;
        write_journal(&self.dir, &self.partition, &self.items)?;
        // Committed: from here a crash must not delete the staged outputs
        // (the next run finishes the swap), so Drop keeps the folder unless
        // a failed swap is undone below.
        self.published = true;
        let mut log = Vec::new();
        if let Err(e) = apply_logged(&self.out, &self.dir, &self.partition, &self.items, &mut log) {
            return Err(self.roll_back(log, e));
        }
        let done = self.items.iter().map(|i| self.target(i)).collect();
        owned::remove(&self.dir)?;
        let _ = fs::remove_dir(self.out.join(STAGING));
        Ok(done)
    }

    /// A swap failed at `error`: undoes the steps in `log` and removes the
    /// journal, so the previous outputs of the date stand whole and Drop
    /// removes the staging folder. If undoing fails as well, the journal
    /// stays and the next run finishes the publication.
    fn roll_back(&mut self, log: Vec<Done>, error: anyhow::Error) -> anyhow::Error {
        let date = self.partition.trim_start_matches("as_of_date=").to_string();
        let undone = undo(&self.out, &self.dir, &self.partition, log).and_then(|()| {
            let j = self.dir.join(JOURNAL);
            fs::remove_file(&j).map_err(|e| owned::io_error("cannot remove", &j, e))?;
            sync_dir(&self.dir)
        });
        match undone {
            Ok(()) => {
                self.published = false;
                error.context(format!(
                    "publishing {date} failed; the previous outputs of {date} were put back as they were"
                ))
            }
            Err(u) => error.context(format!(
                "publishing {date} failed, and putting the previous outputs back failed too ({u:#}); the next run finishes the publication"
            )),
        }
    }
}

/// An empty folder `name` in the output's staging area (cleared if a
/// crashed run of the same process id left one). A link in place of the
/// staging area, or of the folder, is refused.
fn fresh_dir(out: &Path, name: &str) -> Result<PathBuf> {
    let root = out.join(STAGING);
    owned::dir(&root)?;
    let dir = root.join(name);
    owned::remove(&dir)?;
    owned::dir(&dir)?;
    Ok(dir)
}

/// A scratch folder for one run's spill files, in the output's staging
/// area (the output's file system); removed when dropped, and by the next
/// run's recovery if this one is killed.
pub struct Scratch {
    out: PathBuf,
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(root: &OutputRoot) -> Result<Scratch> {
        let out = &root.local;
        let dir = fresh_dir(out, &format!("scratch-{}", std::process::id()))?;
        Ok(Scratch {
            out: out.to_path_buf(),
            dir,
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = owned::remove(&self.dir);
        let _ = fs::remove_dir(self.out.join(STAGING));
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if !self.published {
            let _ = owned::remove(&self.dir);
            let _ = fs::remove_dir(self.out.join(STAGING));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(stage: &mut Stage, item: &str, body: &str) {
        fs::write(stage.file(item, "f").unwrap(), body).unwrap();
    }

    fn read(out: &Path, item: &str) -> Option<String> {
        fs::read_to_string(out.join(item).join("as_of_date=2026-11-29/f")).ok()
    }

    #[test]
    fn publish_replaces_and_cleans_up() {
        let t = tempfile::tempdir().unwrap();
        let root = OutputRoot::open(t.path()).unwrap();
        for body in ["old", "new"] {
            let mut s = Stage::new(&root, "2026-11-29").unwrap();
            put(&mut s, "a", body);
            put(&mut s, "manifest", body);
            s.publish().unwrap();
        }
        assert_eq!(read(t.path(), "a").as_deref(), Some("new"));
        assert_eq!(read(t.path(), "manifest").as_deref(), Some("new"));
        assert!(!t.path().join(STAGING).exists());
    }

    #[test]
    fn a_journalled_stage_is_finished_and_an_unjournalled_one_dropped() {
        let t = tempfile::tempdir().unwrap();
        let root = OutputRoot::open(t.path()).unwrap();
        let mut s = Stage::new(&root, "2026-11-29").unwrap();
        put(&mut s, "a", "old");
        put(&mut s, "manifest", "old");
        s.publish().unwrap();
        // A crash after the journal and the first swap (manifest aside, `a`
        // swapped): build that state by hand.
        let dir = t.path().join(STAGING).join("2026-11-29-1");
        fs::create_dir_all(dir.join("manifest")).unwrap();
        fs::write(dir.join("manifest/f"), "new").unwrap();
        fs::create_dir_all(dir.join(OLD)).unwrap();
        fs::rename(
            t.path().join("manifest/as_of_date=2026-11-29"),
            dir.join(OLD).join("manifest"),
        )
        .unwrap();
        fs::rename(
            t.path().join("a/as_of_date=2026-11-29"),
            dir.join(OLD).join("a"),
        )
        .unwrap();
        fs::create_dir_all(t.path().join("a/as_of_date=2026-11-29")).unwrap();
        fs::write(t.path().join("a/as_of_date=2026-11-29/f"), "new").unwrap();
        write_journal(
            &dir,
            "as_of_date=2026-11-29",
            &["a".to_string(), "manifest".to_string()],
        )
        .unwrap();
        // And an unfinished run that never committed.
        let other = t.path().join(STAGING).join("2026-11-29-2");
        fs::create_dir_all(other.join("a")).unwrap();
        fs::write(other.join("a/f"), "half").unwrap();

        let r = recover(t.path(), &root._lock).unwrap();
        assert_eq!(r.completed, vec!["2026-11-29".to_string()]);
        assert_eq!(r.discarded, 1);
        assert_eq!(read(t.path(), "a").as_deref(), Some("new"));
        assert_eq!(read(t.path(), "manifest").as_deref(), Some("new"));
        assert!(!t.path().join(STAGING).exists());
    }

    #[test]
    fn a_cut_journal_commits_nothing() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("s");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(JOURNAL), "as_of_date=2026-11-29\na\nmani").unwrap();
        assert_eq!(read_journal(&dir).unwrap(), None);
    }

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let t = tempfile::tempdir().unwrap();
        let l = lock(t.path()).unwrap();
        let e = lock(t.path()).err().expect("locked");
        assert_eq!(crate::error::kind_of(&e), Some(FailureKind::Locked));
        assert!(format!("{e:#}").contains(&format!("pid {}", std::process::id())));
        drop(l);
        lock(t.path()).unwrap();
    }
}
