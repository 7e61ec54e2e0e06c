//! A hostile or unlucky night (issue 28): one regression case per finding
//! of the attack on the release binary, each failing on the code before
//! its fix. Nothing outside the output and work folders is touched,
//! nothing half-published, nothing mixed, and every failure has its exit
//! code and names what is wrong.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use arrow::record_batch::RecordBatch;

use crate::common::*;
use crate::fuzz::{put_extremes, Extreme};
use crate::reliability::{
    hand_input, rejects, rewrite, run_cmd, run_ok, run_with_read_only, tree, two_inputs, TODAY,
};

/// A folder outside the output with subfolders and a file, and a check
/// that it is exactly as made.
struct Victim(PathBuf);

impl Victim {
    fn new(dir: &Path) -> Victim {
        let v = dir.join("victim");
        for sub in ["etc", "home", "srv/data"] {
            fs::create_dir_all(v.join(sub)).unwrap();
            fs::write(v.join(sub).join("keep"), sub).unwrap();
        }
        fs::write(v.join("passwd"), "root:x:0:0").unwrap();
        Victim(v)
    }
    fn assert_untouched(&self) {
        for sub in ["etc", "home", "srv/data"] {
            assert_eq!(
                fs::read_to_string(self.0.join(sub).join("keep")).unwrap(),
                sub,
                "{sub} outside the output was changed"
            );
        }
        assert_eq!(
            fs::read_to_string(self.0.join("passwd")).unwrap(),
            "root:x:0:0",
            "a file outside the output was changed"
        );
    }
}

/// `arrears ARGS`: its exit code and stderr.
fn outcome(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let o = arrears().args(args).output().unwrap();
    (o.status.code(), stderr_of(&o))
}

/// `arrears run --input INPUT --output OUT EXTRA...`.
fn run_with(input: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["run".as_ref(), "--input".as_ref(), input.as_os_str()];
    args.extend(["--output".as_ref(), out.as_os_str()]);
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    outcome(&args)
}

/// A FIFO at `path`: what a planted pipe would be.
fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

fn run_on(input: &Path, out: &Path) -> (Option<i32>, String) {
    run_with(input, out, &[])
}

/// Finding 1: a symlinked `OUT/.arrears-staging` made recovery delete
/// every subfolder of the link's target.
#[test]
fn a_linked_staging_folder_is_refused_and_its_target_untouched() {
    let d = tempfile::tempdir().unwrap();
    let (input, _) = hand_input(d.path());
    let out = d.path().join("out");
    run_ok(&input, &out, "2");
    let before = tree(&out);
    let victim = Victim::new(d.path());
    let link = out.join(".arrears-staging");
    symlink(&victim.0, &link).unwrap();
    let (code, e) = run_on(&input, &out);
    eprint!("exit 6: {e}");
    assert_eq!(code, Some(6), "{e}");
    assert!(
        e.contains(&format!("'{}' is a symbolic link", link.display())),
        "{e}"
    );
    victim.assert_untouched();
    fs::remove_file(&link).unwrap();
    assert_eq!(tree(&out), before, "the published outputs unchanged");
    run_ok(&input, &out, "2");
}

/// Finding 2: a symlinked `OUT/.arrears.lock` truncated any file.
#[test]
fn a_linked_lock_file_is_refused_and_its_target_untouched() {
    let d = tempfile::tempdir().unwrap();
    let (input, _) = hand_input(d.path());
    let out = d.path().join("out");
    fs::create_dir_all(&out).unwrap();
    let victim = Victim::new(d.path());
    let link = out.join(".arrears.lock");
    symlink(victim.0.join("passwd"), &link).unwrap();
    let (code, e) = run_on(&input, &out);
    eprint!("exit 6: {e}");
    assert_eq!(code, Some(6), "{e}");
    assert!(
        e.contains(&format!("'{}' is a symbolic link", link.display())),
        "{e}"
    );
    victim.assert_untouched();
    // A FIFO in its place is refused too, without blocking on an open.
    fs::remove_file(&link).unwrap();
    mkfifo(&link);
    let (code, e) = run_on(&input, &out);
    assert_eq!(code, Some(6), "{e}");
    assert!(e.contains("is not a regular file"), "{e}");
}

/// Finding 1, everywhere else the run writes: a link in place of a table's
/// folder or of a date's partition is refused before anything is moved;
/// a link in place of the archive page's temporary file is not followed;
/// what they point at is untouched.
#[test]
fn links_anywhere_under_the_output_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let (input, _) = hand_input(d.path());
    let out = d.path().join("out");
    run_ok(&input, &out, "2");
    let before = tree(&out);
    let victim = Victim::new(d.path());
    let partition = format!("as_of_date={TODAY}");

    // A table's folder replaced by a link to a folder holding the same
    // partition (so that a followed link would swap inside the victim).
    let table = out.join("ageing");
    let moved = victim.0.join("ageing");
    fs::rename(&table, &moved).unwrap();
    symlink(&moved, &table).unwrap();
    let kept = tree(&moved);
    let (code, e) = run_on(&input, &out);
    eprint!("exit 6: {e}");
    assert_eq!(code, Some(6), "{e}");
    assert!(
        e.contains(&format!("'{}' is a symbolic link", table.display())),
        "{e}"
    );
    assert_eq!(tree(&moved), kept, "the linked folder's content unchanged");
    fs::remove_file(&table).unwrap();
    fs::rename(&moved, &table).unwrap();

    // A date's partition replaced by a link.
    let part = out.join("ageing").join(&partition);
    let moved = victim.0.join("part");
    fs::rename(&part, &moved).unwrap();
    symlink(&moved, &part).unwrap();
    let kept = tree(&moved);
    let (code, e) = run_on(&input, &out);
    assert_eq!(code, Some(6), "{e}");
    assert!(
        e.contains(&format!("'{}' is a symbolic link", part.display())),
        "{e}"
    );
    assert_eq!(tree(&moved), kept);
    fs::remove_file(&part).unwrap();
    fs::rename(&moved, &part).unwrap();
    assert_eq!(tree(&out), before, "nothing published by the refused runs");

    // The archive page's temporary file replaced by a link to a file: the
    // date is published (the archive page is rewritten after it, as a
    // convenience), the page is not, and a warning names the link.
    let tmp = out.join("report/.index.html.tmp");
    symlink(victim.0.join("passwd"), &tmp).unwrap();
    let (code, e) = run_on(&input, &out);
    assert_eq!(code, Some(0), "{e}");
    assert!(
        e.contains(&format!(
            "warning: the archive page was not rewritten: '{}' is a symbolic link",
            tmp.display()
        )),
        "{e}"
    );
    victim.assert_untouched();
    fs::remove_file(&tmp).unwrap();
    run_ok(&input, &out, "2");
    victim.assert_untouched();
}

/// Finding 10: deleting the lock file while a run holds the lock let a
/// second run in (which then removed the first one's staging folder).
#[test]
fn deleting_the_lock_file_does_not_let_a_second_run_in() {
    let d = tempfile::tempdir().unwrap();
    let (input, _) = hand_input(d.path());
    let out = d.path().join("out");
    let held = arrears::output::publish::lock(&out).unwrap();
    fs::remove_file(out.join(".arrears.lock")).unwrap();
    let r = run_cmd("run", &input, Some(&out));
    assert_eq!(r.code, Some(8), "{}", r.stderr);
    drop(held);
    run_ok(&input, &out, "2");
}

/// Finding 3: a FIFO and a folder named like data files were skipped, and
/// half the book published with exit 0.
#[test]
fn a_partition_entry_that_is_not_a_regular_file_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let (input, today) = hand_input(d.path());
    let fifo = today.with_file_name("part-00001.parquet");
    mkfifo(&fifo);
    rejects(
        &input,
        4,
        &[&format!("'{}' is a FIFO, not a data file", fifo.display())],
    );
    fs::remove_file(&fifo).unwrap();
    let folder = today.with_file_name("export.parquet");
    fs::create_dir(&folder).unwrap();
    fs::copy(&today, folder.join("part-0.parquet")).unwrap();
    rejects(
        &input,
        4,
        &[&format!(
            "'{}' is a folder, not a data file",
            folder.display()
        )],
    );
}

/// Finding 5: when one folder refused its rename, the run exited 6 but the
/// previous date was left without its manifest and with a mix of old and
/// new folders. Each published folder in turn is bind-mounted read-only
/// (in a private mount namespace), so that moving it aside fails: the
/// previous outputs must be whole afterwards, and the next run succeeds.
#[test]
fn a_folder_that_refuses_its_rename_leaves_the_previous_date_whole() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = two_inputs(d.path());
    let out = d.path().join("out");
    run_ok(&a, &out, "2");
    let before = tree(&out);
    let mut items: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    items.sort();
    assert!(
        items.len() > 10
            && items.contains(&"report".to_string())
            && items.contains(&"manifest".to_string()),
        "{items:?}"
    );
    for item in &items {
        let o = run_with_read_only(&b, &out, &out.join(item));
        let e = stderr_of(&o);
        assert_eq!(o.status.code(), Some(6), "{item}: {e}");
        assert!(
            e.contains("the previous outputs of 2026-11-29 were put back as they were"),
            "{item}: {e}"
        );
        assert_eq!(tree(&out), before, "{item}: the previous date whole");
        assert!(
            !out.join(".arrears-staging").exists(),
            "{item}: staging removed"
        );
        if item == "manifest" {
            eprint!("exit 6: {e}");
        }
    }
    // Nothing left behind that the next run would finish forwards.
    run_ok(&a, &out, "2");
    assert_eq!(tree(&out), before);
}

// ---- extreme values ----

/// The hand fixture with the extreme values `xs` put into the run date's
/// loans (the fuzzer's edits, `fuzz::put_extremes`).
fn with_extremes(xs: &[Extreme]) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let (input, today) = hand_input(d.path());
    rewrite(&today, |b| put_extremes(&b, xs));
    (d, input)
}

/// `run` on `input` publishes, the workbook included.
fn publishes(d: &tempfile::TempDir, input: &Path) {
    let out = d.path().join("out");
    let (code, e) = run_on(input, &out);
    assert_eq!(code, Some(0), "{e}");
    assert!(out
        .join(format!("report/as_of_date={TODAY}/report.xlsx"))
        .is_file());
}

/// Finding 6: origination or charge-off dates at the ends of Date32
/// panicked (exit 101); years of +-250,000 took 1.5 GB.
#[test]
fn dates_outside_the_calendar_are_bad_input_naming_column_and_row() {
    for (column, days) in [
        ("origination_date", i32::MAX),
        ("origination_date", i32::MIN + 1),
        ("origination_date", -91_676_000), // about the year -249,000
        ("charge_off_date", i32::MAX),
        ("origination_date", -25_568),  // 1899-12-31
        ("charge_off_date", 2_932_897), // 10000-01-01
    ] {
        let (_d, input) = with_extremes(&[Extreme::Date(column, 3, days)]);
        rejects(
            &input,
            4,
            &[&format!(
                "column '{column}': 1 row is a date outside 1900-01-01 to 9999-12-31 (row 3)"
            )],
        );
    }
}

/// The ends of the calendar themselves are valid and publish, the
/// workbook included.
#[test]
fn dates_at_the_ends_of_the_calendar_publish() {
    let (d, input) = with_extremes(&[
        Extreme::Date("origination_date", 3, -25_567),
        Extreme::Date("charge_off_date", 0, 2_932_896),
    ]);
    publishes(&d, &input);
}

/// Finding 6, the run date: 0001-01-01 ended in exit 1 while writing the
/// workbook. As a partition it is bad input; as `--as-of`, a usage error.
#[test]
fn a_run_date_outside_the_calendar_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let (input, today) = hand_input(d.path());
    let odd = input.join("loans/as_of_date=0001-01-01");
    fs::create_dir_all(&odd).unwrap();
    fs::copy(&today, odd.join("part-00000.parquet")).unwrap();
    rejects(
        &input,
        4,
        &[&format!(
            "partition folder '{}' names a date outside the dates arrears accepts (1900-01-01 to 9999-12-31)",
            odd.display()
        )],
    );
    let o = arrears()
        .args(["run", "--as-of", "0001-01-01", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(d.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr_of(&o));
    assert!(stderr_of(&o).contains("outside the dates arrears accepts"));
}

/// Finding 7: a region, product or legal stage over 32,767 characters
/// ended in exit 1 ("String exceeds Excel's limit"). The run publishes;
/// the workbook's cell says it was cut (the Parquet tables hold it whole).
#[test]
fn strings_longer_than_an_excel_cell_publish() {
    for column in ["region", "product", "legal_stage"] {
        // CJK and a character outside the BMP (two UTF-16 units in Excel).
        let (d, input) = with_extremes(&[Extreme::Text(column, 2, "华东区🏦", 12_000)]);
        publishes(&d, &input);
    }
}

// ---- configuration ----

/// Finding 8: `get_env` in a `--templates` file rendered a secret into the
/// report.
#[test]
fn templates_cannot_read_the_environment_or_the_clock() {
    let d = tempfile::tempdir().unwrap();
    let (input, _) = hand_input(d.path());
    let templates = d.path().join("templates");
    fs::create_dir_all(&templates).unwrap();
    let base = fs::read_to_string(repo().join("templates/headline.html")).unwrap();
    for call in [
        r#"{{ get_env(name="ARREARS_TEST_SECRET") }}"#,
        r#"{{ now() }}"#,
        r#"{{ get_random(end=10) }}"#,
    ] {
        fs::write(templates.join("headline.html"), format!("{call}{base}")).unwrap();
        let out = d.path().join("out");
        let o = arrears()
            .env("ARREARS_TEST_SECRET", "s3cr3t-value")
            .args(["run", "--input"])
            .arg(&input)
            .arg("--output")
            .arg(&out)
            .arg("--templates")
            .arg(&templates)
            .output()
            .unwrap();
        let e = stderr_of(&o);
        assert_eq!(o.status.code(), Some(7), "{call}: {e}");
        assert!(
            e.contains("is not available: report templates see only the report's view model"),
            "{e}"
        );
        assert!(!e.contains("s3cr3t-value"), "{e}");
        assert!(!out.join("report").exists(), "nothing published");
    }
}

/// Finding 10: `--policy /dev/zero` grew the run's memory without bound.
#[test]
fn an_endless_policy_file_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let (input, _) = hand_input(d.path());
    let o = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576; exec \"$0\" run --policy /dev/zero --input \"$1\" --output \"$2\"")
        .arg(assert_cmd::cargo::cargo_bin("arrears"))
        .arg(&input)
        .arg(d.path().join("out"))
        .output()
        .unwrap();
    let e = stderr_of(&o);
    assert_eq!(o.status.code(), Some(7), "{e}");
    assert!(
        e.contains("policy file '/dev/zero' cannot be read: it is larger than 1024 KiB"),
        "{e}"
    );
}

/// Finding 10: a rule after the catch-all was accepted, though it can
/// never give a tier.
#[test]
fn a_rule_after_the_catch_all_is_refused() {
    let policy = arrears::policy::file::DEFAULT.to_string()
        + "\n[[tiers]]\ntier = \"T2_phone\"\nreason = \"too_late\"\nwhen = { dpd_min = 8 }\n";
    let line = policy.lines().count() - 2;
    let e = arrears::policy::file::parse(&policy, "p.toml").unwrap_err();
    let msg = format!("{e:#}");
    assert_eq!(
        arrears::error::kind_of(&e),
        Some(arrears::error::FailureKind::Config)
    );
    assert!(
        msg.contains(&format!("policy 'p.toml', line {line}, key 'tiers.tier'")),
        "{msg}"
    );
    assert!(
        msg.contains("(T2_phone by too_late) can never give a tier"),
        "{msg}"
    );
    assert!(msg.contains("catches every loan before it"), "{msg}");
}

/// Finding 10: `--memory-limit 1` on a book of one row group was reported
/// as "whole book: it fits the limit".
#[test]
fn a_memory_limit_below_one_row_group_is_reported_honestly() {
    let d = tempfile::tempdir().unwrap();
    let (input, _) = hand_input(d.path());
    let out = d.path().join("out");
    let (code, e) = run_with(&input, &out, &["--memory-limit", "1"]);
    assert_eq!(code, Some(0), "{e}");
    let m = manifest_of(&out, TODAY);
    let how = m["memory"]["partitioned_by"].as_str().unwrap();
    assert!(
        how.starts_with("whole book: above the memory limit"),
        "{how}"
    );
}

// ---- exit codes ----

/// A generated book under `dir/in`: 4,000 loans, row groups of 500, ids
/// out of order, 14 days of contacts.
fn generated(dir: &Path) -> PathBuf {
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let mut g = arrears::generate::GenConfig::new(dir.join("in"), 4_000, as_of);
    g.row_group = 500;
    g.days = 2;
    g.contact_days = 14;
    g.shuffle = true;
    arrears::generate::generate(&g).unwrap();
    dir.join("in")
}

/// Finding 9: a full disk while spilling scratch files exited 1, not 6.
/// The output is a tmpfs (in a private mount namespace) too small for the
/// spill files of a book folded in many hash partitions.
#[test]
fn a_full_disk_while_spilling_exits_6() {
    let d = tempfile::tempdir().unwrap();
    let input = generated(d.path());
    let out = d.path().join("out");
    fs::create_dir_all(&out).unwrap();
    let o = Command::new("unshare")
        .args(["-m", "sh", "-c"])
        .arg(
            "mount -t tmpfs -o size=96k tmpfs \"$2\" && \
             exec \"$0\" run --memory-limit 1 --threads 2 --input \"$1\" --output \"$2\"",
        )
        .arg(assert_cmd::cargo::cargo_bin("arrears"))
        .arg(&input)
        .arg(&out)
        .output()
        .unwrap();
    let e = stderr_of(&o);
    eprint!("exit 6: {e}");
    assert_eq!(o.status.code(), Some(6), "{e}");
    assert!(
        e.contains("cannot write scratch file") && e.contains("No space left on device"),
        "{e}"
    );
}

fn shard(input: &Path, out: &Path, work: &Path, k: usize, n: usize) {
    let o = arrears()
        .args([
            "shard",
            "--as-of",
            TODAY,
            "--shard",
            &format!("{k}/{n}"),
            "--input",
        ])
        .arg(input)
        .arg("--output")
        .arg(out)
        .arg("--work")
        .arg(work)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr_of(&o));
}

fn merge(out: &Path, work: &Path, n: &str) -> (Option<i32>, String) {
    outcome(&[
        "merge".as_ref(),
        "--as-of".as_ref(),
        TODAY.as_ref(),
        "--shards".as_ref(),
        n.as_ref(),
        "--work".as_ref(),
        work.as_os_str(),
        "--output".as_ref(),
        out.as_os_str(),
    ])
}

/// Finding 9: a truncated or missing worklist file of a shard made the
/// merge exit 1, not 9; `--shards 0` exited 7, not 2.
#[test]
fn a_damaged_shard_worklist_exits_9_and_zero_shards_is_a_usage_error() {
    let d = tempfile::tempdir().unwrap();
    let input = generated(d.path());
    let (out, work) = (d.path().join("out"), d.path().join("work"));
    for k in 0..2 {
        shard(&input, &out, &work, k, 2);
    }
    let file = work.join(format!(
        "as_of_date={TODAY}/shards-2/shard-1/worklist-00000.arrows"
    ));
    let bytes = fs::read(&file).unwrap();
    fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let (code, e) = merge(&out, &work, "2");
    eprint!("exit 9: {e}");
    assert_eq!(code, Some(9), "{e}");
    assert!(
        e.contains(&format!(
            "shard 1's worklist file '{}' is damaged",
            file.display()
        )),
        "{e}"
    );
    fs::remove_file(&file).unwrap();
    let (code, e) = merge(&out, &work, "2");
    assert_eq!(code, Some(9), "{e}");
    assert!(e.contains("is missing or unreadable"), "{e}");
    assert!(!out.join("manifest").exists(), "nothing published");
    let (code, e) = merge(&out, &work, "0");
    assert_eq!(code, Some(2), "{e}");
    assert!(
        e.contains("'0' is not a shard count between 1 and 4096"),
        "{e}"
    );
}

/// Finding 4: a file restated in place with the same size and rows
/// between two shards was merged with exit 0: a mix of two versions of the
/// book.
#[test]
fn an_input_restated_between_shards_is_refused() {
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;
    let d = tempfile::tempdir().unwrap();
    let (input, today) = hand_input(d.path());
    let (out, work) = (d.path().join("out"), d.path().join("work"));
    // Written plain (no dictionary, no compression, no statistics), so
    // that another balance keeps the file's size to the byte.
    let write = |b: &RecordBatch| {
        let props = WriterProperties::builder()
            .set_dictionary_enabled(false)
            .set_statistics_enabled(parquet::file::properties::EnabledStatistics::None)
            .build();
        let mut w =
            ArrowWriter::try_new(fs::File::create(&today).unwrap(), b.schema(), Some(props))
                .unwrap();
        w.write(b).unwrap();
        w.close().unwrap();
    };
    let original = read_parquet(&today);
    write(&original);
    let size = fs::metadata(&today).unwrap().len();
    shard(&input, &out, &work, 0, 2);
    let restated = crate::reliability::set_cell(original, "principal_balance", 0, Some("123.45"));
    write(&restated);
    assert_eq!(
        fs::metadata(&today).unwrap().len(),
        size,
        "the same size: the case this test is about"
    );
    shard(&input, &out, &work, 1, 2);
    let (code, e) = merge(&out, &work, "2");
    eprint!("exit 9: {e}");
    assert_eq!(code, Some(9), "{e}");
    assert!(
        e.contains("was restated between the shards: same size"),
        "{e}"
    );
    assert!(!out.join("manifest").exists(), "nothing published");
}
