//! The files and folders a run owns under the roots it was given (the
//! output root, the shards' work folder): created, replaced and removed
//! without ever following a symbolic link.
//!
//! The job runs as root on a lender's machines. A link planted where the
//! run expects its own folder (`OUT/.arrears-staging -> /etc`) or file
//! (`OUT/.arrears.lock -> /etc/passwd`) would otherwise make it delete or
//! truncate whatever the link points at. So every path below a root is
//! looked at with `lstat` before it is used, a link or anything that is not
//! what the run expects (a FIFO or device where a file goes, a file where a
//! folder goes) is refused as an output error (exit 6) naming the path, and
//! files are opened with `O_NOFOLLOW` so that a link slipped in between the
//! look and the open fails instead of being followed. The roots themselves
//! (`--output`, `--work`) are the operator's to choose and may be links.
//!
//! Nothing here reads data: the input side follows links on purpose (a
//! partition may link to files kept elsewhere) and only reads.

use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Result;

use crate::error::{fail, FailureKind};

/// An output error (exit 6) naming `path`.
pub fn output_error(path: &Path, what: impl std::fmt::Display) -> anyhow::Error {
    fail(FailureKind::Output, format!("'{}' {what}", path.display()))
}

/// A failed system call on `path` as an output error (exit 6): `what`
/// says what was tried.
pub fn io_error(what: &str, path: &Path, e: std::io::Error) -> anyhow::Error {
    fail(
        FailureKind::Output,
        format!("{what} '{}': {e}", path.display()),
    )
}

/// A scratch file that cannot be written (a full disk, a quota) is an
/// output error (exit 6), like any other write of the run: the scratch
/// folder lives on the output's (or the work folder's) file system.
pub fn scratch_write_error(path: &Path, e: anyhow::Error) -> anyhow::Error {
    fail(
        FailureKind::Output,
        format!("cannot write scratch file '{}': {e:#}", path.display()),
    )
}

/// The refusal of a link where the run's own file or folder belongs.
fn link_refused(path: &Path) -> anyhow::Error {
    let target = fs::read_link(path)
        .map(|t| format!(" (to '{}')", t.display()))
        .unwrap_or_default();
    output_error(
        path,
        format_args!(
            "is a symbolic link{target}: arrears writes and removes only its own files and folders under the output and work folders, never through a link; remove the link and run again"
        ),
    )
}

/// What stands at a path, looked at without following a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Absent,
    Dir,
    File,
    Link,
    /// A FIFO, socket or device node.
    Special,
}

/// What stands at `path` (never follows a link).
pub fn kind(path: &Path) -> Result<Kind> {
    match fs::symlink_metadata(path) {
        Ok(m) => {
            let t = m.file_type();
            Ok(if t.is_symlink() {
                Kind::Link
            } else if t.is_dir() {
                Kind::Dir
            } else if t.is_file() {
                Kind::File
            } else {
                Kind::Special
            })
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Kind::Absent),
        Err(e) => Err(io_error("cannot look at", path, e)),
    }
}

/// Whether the run's own folder `path` exists; a link or anything but a
/// folder there is refused.
pub fn dir_exists(path: &Path) -> Result<bool> {
    match kind(path)? {
        Kind::Absent => Ok(false),
        Kind::Dir => Ok(true),
        Kind::Link => Err(link_refused(path)),
        Kind::File | Kind::Special => Err(output_error(
            path,
            "is not a folder, but arrears keeps a folder of its own there; move it away and run again",
        )),
    }
}

/// Makes sure the run's own folder `path` exists, creating it (one level:
/// its parent must already be checked) if it does not.
pub fn dir(path: &Path) -> Result<()> {
    if dir_exists(path)? {
        return Ok(());
    }
    match fs::create_dir(path) {
        Ok(()) => Ok(()),
        // Created meanwhile (another shard of the same work folder): look again.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => dir_exists(path).map(|_| ()),
        Err(e) => Err(io_error("cannot create", path, e)),
    }
}

/// [`dir`] for every folder from `root` (taken as given) down to
/// `root/a/b/...`; returns the last.
pub fn dirs(root: &Path, below: &[&str]) -> Result<std::path::PathBuf> {
    let mut p = root.to_path_buf();
    for part in below {
        p.push(part);
        dir(&p)?;
    }
    Ok(p)
}

/// A new private folder (mode 0700) for the run in the system's temporary
/// folder, named `PREFIX-PID-NANOS`. It must not exist: in a folder every
/// user can write to, a name found taken (a link planted in advance, say)
/// is never used.
pub fn private_temp_dir(prefix: &str) -> Result<std::path::PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| io_error("cannot create the private folder", &dir, e))?;
    Ok(dir)
}

/// Checks that the run's own file `path` is absent or a regular file: a
/// link, a folder, a FIFO or a device there is refused, never opened.
fn file_place(path: &Path) -> Result<()> {
    match kind(path)? {
        Kind::Absent | Kind::File => Ok(()),
        Kind::Link => Err(link_refused(path)),
        Kind::Dir | Kind::Special => Err(output_error(
            path,
            "is not a regular file, but arrears keeps a file of its own there; move it away and run again",
        )),
    }
}

/// Creates (or truncates) the run's own file `path` for writing. A link,
/// a folder, a FIFO or a device there is refused, never opened.
pub fn create_file(path: &Path) -> Result<File> {
    file_place(path)?;
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| refused_or(path, e, "cannot create"))
}

/// Opens (creating it if absent, never truncating) the run's own file
/// `path` for reading and writing (the output lock's pid file); `what`
/// starts the message of an error of the system.
pub fn open_file(path: &Path, what: &str) -> Result<File> {
    file_place(path)?;
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| refused_or(path, e, what))?;
    // Swapped for something else between the look and the open.
    let m = f
        .metadata()
        .map_err(|e| io_error("cannot look at", path, e))?;
    if !m.file_type().is_file() {
        return Err(output_error(path, "is not a regular file"));
    }
    Ok(f)
}

/// A file open that failed: `ELOOP` under `O_NOFOLLOW` is a link that
/// appeared after the look.
fn refused_or(path: &Path, e: std::io::Error, what: &str) -> anyhow::Error {
    if e.raw_os_error() == Some(libc::ELOOP) {
        link_refused(path)
    } else {
        io_error(what, path, e)
    }
}

/// Removes what stands at `path` inside the run's own folder: a folder
/// with everything in it (links inside are removed, never followed), a
/// file, or a link itself. Absent is fine.
pub fn remove(path: &Path) -> Result<()> {
    let r = match kind(path)? {
        Kind::Absent => return Ok(()),
        Kind::Dir => fs::remove_dir_all(path),
        Kind::File | Kind::Link | Kind::Special => fs::remove_file(path),
    };
    match r {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(io_error("cannot remove", path, e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_are_refused_never_followed() {
        let t = tempfile::tempdir().unwrap();
        let victim = t.path().join("victim");
        fs::create_dir(&victim).unwrap();
        fs::write(victim.join("keep"), "keep").unwrap();
        let link = t.path().join("link");
        symlink(&victim, &link).unwrap();
        for e in [
            dir(&link).unwrap_err(),
            create_file(&link).unwrap_err(),
            open_file(&link, "cannot open").unwrap_err(),
            dirs(t.path(), &["link", "x"]).unwrap_err(),
        ] {
            assert_eq!(crate::error::kind_of(&e), Some(FailureKind::Output));
            assert!(format!("{e}").contains("is a symbolic link"), "{e}");
        }
        // Removing a link removes the link, not what it points at.
        remove(&link).unwrap();
        assert_eq!(fs::read_to_string(victim.join("keep")).unwrap(), "keep");
        let file_link = t.path().join("f");
        symlink(victim.join("keep"), &file_link).unwrap();
        assert!(create_file(&file_link).is_err());
        assert_eq!(fs::read_to_string(victim.join("keep")).unwrap(), "keep");
    }

    #[test]
    fn a_fifo_is_refused_without_opening_it() {
        let t = tempfile::tempdir().unwrap();
        let fifo = t.path().join("p");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Opening a FIFO for writing with no reader would block forever.
        assert!(create_file(&fifo).is_err());
        assert!(open_file(&fifo, "cannot open").is_err());
        assert!(dir(&fifo).is_err());
        let made = dirs(t.path(), &["a", "b"]).unwrap();
        assert!(made.is_dir());
    }
}
