//! Watching a run: on a terminal a progress display on stderr that is
//! cleared at the end; without one, one log line per stage (JSON or text)
//! that parses; `--quiet` prints nothing. The published bytes never depend
//! on which.

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

/// The generated book every test here runs on (two dates, contacts).
fn book(dir: &Path) -> std::path::PathBuf {
    let input = dir.join("in");
    let o = arrears()
        .args(["generate", "--output"])
        .arg(&input)
        .args(["--loans", "3000", "--as-of", "2026-11-29", "--days", "2"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr_of(&o));
    input
}

/// `arrears run --quiet`, which must succeed.
fn run_quiet(input: &Path, out: &Path) -> std::process::Output {
    let o = arrears()
        .args(["run", "--quiet", "--input"])
        .arg(input)
        .arg("--output")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr_of(&o));
    o
}

/// The published files without the manifests (which hold the timings).
fn published(out: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut t = tree(out);
    t.retain(|k, _| !k.starts_with("manifest/"));
    t
}

#[test]
fn json_logs_one_line_per_stage_that_parses() {
    let dir = tempfile::tempdir().unwrap();
    let input = book(dir.path());
    let out = dir.path().join("json");
    let o = arrears()
        .args(["run", "--log-format", "json", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr_of(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect();
    let stages: Vec<&str> = lines.iter().map(|v| v["stage"].as_str().unwrap()).collect();
    for want in [
        "discover",
        "read",
        "write tables",
        "render report",
        "write workbook",
    ] {
        assert!(stages.contains(&want), "no {want:?} in {stages:?}");
    }
    for v in &lines {
        assert_eq!(v["level"], "INFO");
        assert!(v["ms"].as_f64().unwrap() >= 0.0, "{v}");
    }
    let tables = lines.iter().find(|v| v["stage"] == "write tables").unwrap();
    assert!(tables["rows"].as_u64().unwrap() > 0 && tables["bytes"].as_u64().unwrap() > 0);
    // The manifest's timings name the same stages.
    let m = manifest_of(&out, "2026-11-29");
    for s in &stages {
        assert!(
            m["timings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["stage"] == *s),
            "{s} not in the manifest's timings"
        );
    }

    // Text lines, and quiet: nothing at all; the same bytes published.
    let text = dir.path().join("text");
    let o = arrears()
        .args(["run", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&text)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(
        stderr_of(&o)
            .lines()
            .all(|l| l.contains(" INFO stage done stage=")),
        "{}",
        stderr_of(&o)
    );
    let quiet = dir.path().join("quiet");
    let o = run_quiet(&input, &quiet);
    assert!(
        o.stdout.is_empty() && o.stderr.is_empty(),
        "--quiet printed something"
    );
    assert_eq!(published(&out), published(&text));
    assert_eq!(published(&out), published(&quiet));
}

#[test]
fn a_terminal_sees_a_progress_display_that_is_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let input = book(dir.path());
    let out = dir.path().join("tty");
    // A pseudo-terminal for stderr.
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors; the name and settings are not asked for.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    // SAFETY: both descriptors were just opened and are owned here alone.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut child = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args(["run", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    let reader = std::thread::spawn(move || {
        let mut f = std::fs::File::from(master);
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        // EIO when the child's side is closed: the end of the output.
        while let Ok(n) = f.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        all
    });
    assert!(child.wait().unwrap().success());
    let seen = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    assert!(
        seen.contains("arrears") && seen.contains("done"),
        "{seen:?}"
    );
    assert!(!seen.contains("INFO"), "log lines on a terminal: {seen:?}");
    // Cleared at the end: the last thing written erases the line.
    let tail = seen.trim_end_matches(['\r', '\n']);
    assert!(
        tail.ends_with("\x1b[2K") || tail.ends_with("\r\x1b[K") || tail.ends_with("\x1b[1G"),
        "not cleared: {:?}",
        &seen[seen.len().saturating_sub(80)..]
    );
    let quiet = dir.path().join("quiet");
    run_quiet(&input, &quiet);
    assert_eq!(published(&out), published(&quiet));
}
