//! Reliability: every failure mode of the README's table "Failure modes",
//! each with its exit code and message, for `run` and for `validate`; the
//! output is never half-written (crashes at every publishing step, random
//! kills, two runs at once, a full disk); reruns give the same bytes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Array, Int64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::common::*;

pub(crate) const TODAY: &str = "2026-11-29";

// ---- building bad inputs ----

/// The hand fixture under `dir/in`, with the run date's file returned.
pub(crate) fn hand_input(dir: &Path) -> (PathBuf, PathBuf) {
    let input = dir.join("in");
    write_hand_fixture(&input, [Variant::default(); 3]);
    let today = input.join(format!("loans/as_of_date={TODAY}/part-00000.parquet"));
    (input, today)
}

/// The hand fixture with the run date's file rewritten through `edit`:
/// (the folder to keep alive, the input root, the run date's file).
fn edited(edit: impl FnOnce(RecordBatch) -> RecordBatch) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let (input, today) = hand_input(d.path());
    rewrite(&today, edit);
    (d, input, today)
}

/// Rewrites a Parquet file through `f`.
pub(crate) fn rewrite(path: &Path, f: impl FnOnce(RecordBatch) -> RecordBatch) {
    let b = f(read_parquet(path));
    let dir = path.parent().unwrap();
    let date = dir
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .trim_start_matches("as_of_date=")
        .to_string();
    let dataset = dir.parent().unwrap();
    let root = dataset.parent().unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
    fs::remove_file(path).unwrap();
    write_partition(
        root,
        dataset.file_name().unwrap().to_str().unwrap(),
        &date,
        name,
        &b,
        100,
    );
}

/// Column `name` as text with row `row` set to `value` (None = null), cast
/// back to the column's type.
pub(crate) fn set_cell(b: RecordBatch, name: &str, row: usize, value: Option<&str>) -> RecordBatch {
    let col = b.column_by_name(name).unwrap().clone();
    let t = col.data_type().clone();
    let text = cast(&col, &DataType::Utf8).unwrap();
    let text = text.as_any().downcast_ref::<StringArray>().unwrap();
    let edited: StringArray = (0..text.len())
        .map(|i| {
            if i == row {
                value.map(str::to_string)
            } else {
                text.is_valid(i).then(|| text.value(i).to_string())
            }
        })
        .collect();
    let back = cast(&edited, &t).unwrap();
    with_column(&b, name, back)
}

// ---- running ----

pub(crate) struct Outcome {
    pub(crate) code: Option<i32>,
    pub(crate) stderr: String,
    pub(crate) stdout: String,
}

pub(crate) fn run_cmd(cmd: &str, input: &Path, out: Option<&Path>) -> Outcome {
    let mut c = arrears();
    c.arg(cmd).arg("--input").arg(input);
    if let Some(o) = out {
        c.arg("--output").arg(o);
    }
    let o = c.timeout(Duration::from_secs(60)).output().unwrap();
    Outcome {
        code: o.status.code(),
        stderr: stderr_of(&o),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
    }
}

/// Runs `run` and `validate` on a bad input: both exit `code` with every
/// `needle` in their message, and `run` publishes nothing.
pub(crate) fn rejects(input: &Path, code: i32, needles: &[&str]) -> String {
    let out = input.parent().unwrap().join("out");
    let r = run_cmd("run", input, Some(&out));
    assert_eq!(r.code, Some(code), "run: {}", r.stderr);
    for n in needles {
        assert!(r.stderr.contains(n), "run: no {n:?} in: {}", r.stderr);
    }
    assert!(
        !out.join("manifest").exists() && !out.join("report").exists(),
        "nothing published"
    );
    assert!(!out.join(".arrears-staging").exists(), "no staging left");
    // Shown with --nocapture: the README's example messages come from here.
    eprint!("exit {code}: {}", r.stderr);
    let v = run_cmd("validate", input, None);
    assert_eq!(v.code, Some(code), "validate: {}", v.stderr);
    assert_eq!(v.stderr, r.stderr, "validate reports what run reports");
    r.stderr
}

// ---- bad input: the loans snapshot ----

#[test]
fn missing_required_column() {
    let (_d, input, today) = edited(|b| without_columns(&b, &["days_past_due"]));
    rejects(
        &input,
        4,
        &[&today.display().to_string(), "days_past_due", "missing"],
    );
}

#[test]
fn column_of_an_unaccepted_type() {
    let (_d, input, today) = edited(|b| {
        let dpd = cast(b.column_by_name("days_past_due").unwrap(), &DataType::Utf8).unwrap();
        with_column(&b, "days_past_due", dpd)
    });
    rejects(
        &input,
        4,
        &[&today.display().to_string(), "'days_past_due'", "Utf8"],
    );
}

#[test]
fn optional_column_of_an_unaccepted_type() {
    // An optional column may be left out, but one that is there must be of
    // an accepted type, even when every value is null.
    let (_d, input, today) = edited(|b| {
        let n = b.num_rows();
        with_column(
            &b,
            "contactable",
            arrow::array::new_null_array(&DataType::Utf8, n),
        )
    });
    rejects(
        &input,
        4,
        &[
            &today.display().to_string(),
            "column 'contactable' has type Utf8, expected Boolean",
        ],
    );
}

#[test]
fn nulls_in_a_non_null_column() {
    let (_d, input, today) = edited(|b| set_cell(b, "origination_date", 3, None));
    rejects(
        &input,
        4,
        &[
            &today.display().to_string(),
            "column 'origination_date': 1 row is null",
            "(row 3)",
        ],
    );
}

#[test]
fn negative_days_past_due() {
    let (_d, input, today) = edited(|b| set_cell(b, "days_past_due", 5, Some("-1")));
    rejects(
        &input,
        4,
        &[
            &today.display().to_string(),
            "column 'days_past_due': 1 row is negative or out of range (row 5)",
        ],
    );
}

#[test]
fn negative_balance() {
    let (_d, input, today) = edited(|b| set_cell(b, "principal_balance", 2, Some("-5.00")));
    rejects(
        &input,
        4,
        &[
            &today.display().to_string(),
            "column 'principal_balance': 1 row is negative (row 2)",
        ],
    );
}

#[test]
fn unknown_status() {
    let (_d, input, today) = edited(|b| set_cell(b, "status", 0, Some("closed")));
    rejects(
        &input,
        4,
        &[
            &today.display().to_string(),
            "column 'status': 1 row is an unknown value \"closed\"",
            "(row 0)",
        ],
    );
}

#[test]
fn duplicate_loan_id() {
    let (_d, input, today) = edited(|b| set_cell(b, "loan_id", 4, Some("L01")));
    rejects(
        &input,
        4,
        &[&today.display().to_string(), "duplicate loan_id 'L01'"],
    );
}

#[test]
fn as_of_date_column_disagrees_with_the_partition() {
    let (_d, input, today) = edited(|b| set_cell(b, "as_of_date", 7, Some("2026-11-28")));
    rejects(
        &input,
        4,
        &[
            &today.display().to_string(),
            "column 'as_of_date': 1 row is different from the partition date 2026-11-29 (row 7)",
        ],
    );
}

#[test]
fn files_of_one_partition_with_different_schemas() {
    let d = tempfile::tempdir().unwrap();
    let (input, today) = hand_input(d.path());
    // Half the rows in a second file whose money is Float64.
    let b = read_parquet(&today);
    let n = b.num_rows();
    rewrite(&today, |b| b.slice(0, n / 2));
    let mut csv = today_csv();
    csv.rows.drain(..n / 2);
    let second = contract_batch(
        &csv,
        TODAY,
        Variant {
            money_scale: None,
            ..Variant::default()
        },
    );
    write_partition(&input, "loans", TODAY, "part-00001.parquet", &second, 100);
    rejects(
        &input,
        4,
        &[
            "have different schemas",
            "column 'original_principal' is Decimal128(20, 2)",
            "but Float64 in",
            "part-00001.parquet",
        ],
    );
}

#[test]
fn decimal_scale_above_four() {
    let (_d, input, today) = edited(|b| {
        let c = cast(
            b.column_by_name("paid_amount").unwrap(),
            &DataType::Decimal128(20, 5),
        )
        .unwrap();
        with_column(&b, "paid_amount", c)
    });
    rejects(
        &input,
        4,
        &[
            &today.display().to_string(),
            "'paid_amount'",
            "Decimal128(20, 5)",
        ],
    );
}

#[test]
fn an_amount_that_could_overflow_a_sum() {
    let (_d, input, today) = edited(|b| {
        let c = cast(
            b.column_by_name("principal_balance").unwrap(),
            &DataType::Decimal128(30, 2),
        )
        .unwrap();
        let b = with_column(&b, "principal_balance", c);
        set_cell(b, "principal_balance", 1, Some("2000000000000000.00"))
    });
    rejects(
        &input,
        4,
        &[
            &today.display().to_string(),
            "column 'principal_balance'",
            "(row 1)",
            "10^15",
        ],
    );
}

#[test]
fn loan_id_typed_differently_in_loans_and_contacts() {
    let d = tempfile::tempdir().unwrap();
    let (input, _) = hand_input(d.path());
    write_contacts(&input, &contacts_csv("phone", "no_answer"));
    let file = input.join(format!("contacts/as_of_date={TODAY}/part-00000.parquet"));
    rewrite(&file, |b| {
        let ids: Int64Array = (0..b.num_rows()).map(|i| Some(i as i64)).collect();
        with_column(&b, "loan_id", Arc::new(ids))
    });
    rejects(&input, 4, &["loan_id", "Int64"]);
}

#[test]
fn contact_id_typed_differently_across_contacts_files() {
    let d = tempfile::tempdir().unwrap();
    let (input, _) = hand_input(d.path());
    let mut csv = contacts_csv("phone", "no_answer");
    let mut second = csv.rows[0].clone();
    second[2] = Some("2026-11-28".into());
    second[3] = Some("2026-11-28 10:00:00".into());
    csv.rows.push(second);
    write_contacts(&input, &csv);
    let file = input.join(format!("contacts/as_of_date={TODAY}/part-00000.parquet"));
    rewrite(&file, |b| {
        let ids: Int64Array = (0..b.num_rows()).map(|i| Some(i as i64 + 1)).collect();
        with_column(&b, "contact_id", Arc::new(ids))
    });
    rejects(
        &input,
        4,
        &[
            &format!("contacts file '{}'", file.display()),
            "column 'contact_id' is Int64 here but string in earlier contacts files: one type for all",
        ],
    );
}

#[test]
fn the_first_of_several_bad_files_is_named_every_time() {
    // Files are decoded in parallel; the error is the first in file order,
    // not whichever task failed first, so reruns give the same message.
    let d = tempfile::tempdir().unwrap();
    let (input, today) = hand_input(d.path());
    let b = read_parquet(&today);
    let n = b.num_rows();
    fs::remove_file(&today).unwrap();
    for k in 0..4 {
        let part = set_cell(
            b.slice(k * n / 4, n / 4),
            "status",
            0,
            Some(&format!("bad{k}")),
        );
        write_partition(
            &input,
            "loans",
            TODAY,
            &format!("part-{k:05}.parquet"),
            &part,
            100,
        );
    }
    let first = rejects(&input, 4, &["part-00000.parquet", "\"bad0\""]);
    for _ in 0..3 {
        let out = d.path().join("out");
        assert_eq!(run_cmd("run", &input, Some(&out)).stderr, first);
    }
}

#[test]
fn unknown_channel_and_outcome() {
    for (channel, outcome, needle) in [
        (
            "pigeon",
            "no_answer",
            "column 'channel': 1 row is an unknown value \"pigeon\"",
        ),
        (
            "phone",
            "maybe",
            "column 'outcome': 1 row is an unknown value \"maybe\"",
        ),
    ] {
        let d = tempfile::tempdir().unwrap();
        let (input, _) = hand_input(d.path());
        write_contacts(&input, &contacts_csv(channel, outcome));
        rejects(
            &input,
            4,
            &["contacts file", needle, "(accepted: ", "(row 0)"],
        );
    }
}

/// One contact of the run date on loan L05.
fn contacts_csv(channel: &str, outcome: &str) -> Csv {
    let cells = [
        "C1",
        "L05",
        TODAY,
        "2026-11-29 10:00:00",
        channel,
        outcome,
        "",
        "",
        "A1",
    ];
    Csv {
        header: [
            "contact_id",
            "loan_id",
            "contact_date",
            "contact_ts",
            "channel",
            "outcome",
            "ptp_amount",
            "ptp_date",
            "agent_id",
        ]
        .map(String::from)
        .to_vec(),
        rows: vec![cells
            .iter()
            .map(|c| (!c.is_empty()).then(|| c.to_string()))
            .collect()],
    }
}

// ---- bad input: files and partitions ----

#[test]
fn empty_partition_zero_rows() {
    let (_d, input, today) = edited(|b| b.slice(0, 0));
    let partition = today.parent().unwrap().display().to_string();
    rejects(
        &input,
        4,
        &[&format!("loans partition '{partition}' has no rows")],
    );
}

#[test]
fn partition_with_zero_files() {
    let d = tempfile::tempdir().unwrap();
    let (input, today) = hand_input(d.path());
    fs::remove_file(&today).unwrap();
    fs::write(today.with_file_name("_SUCCESS"), b"").unwrap();
    rejects(&input, 4, &["has no data files"]);
}

#[test]
fn truncated_parquet_file() {
    let d = tempfile::tempdir().unwrap();
    let (input, today) = hand_input(d.path());
    let bytes = fs::read(&today).unwrap();
    fs::write(&today, &bytes[..bytes.len() / 2]).unwrap();
    rejects(
        &input,
        4,
        &[&today.display().to_string(), "not a readable Parquet file"],
    );
}

#[test]
fn corrupt_parquet_file() {
    let d = tempfile::tempdir().unwrap();
    let (input, today) = hand_input(d.path());
    // The footer survives, the pages do not.
    let mut bytes = fs::read(&today).unwrap();
    let third = bytes.len() / 3;
    for b in &mut bytes[4..third] {
        *b = 0xA5;
    }
    fs::write(&today, &bytes).unwrap();
    rejects(
        &input,
        4,
        &[&today.display().to_string(), "cannot be decoded"],
    );
}

#[test]
fn unreadable_file_a_dangling_link() {
    let d = tempfile::tempdir().unwrap();
    let (input, today) = hand_input(d.path());
    let link = today.with_file_name("part-00001.parquet");
    std::os::unix::fs::symlink(d.path().join("gone.parquet"), &link).unwrap();
    rejects(
        &input,
        4,
        &[&format!("cannot read '{}'", link.display()), "No such file"],
    );
}

#[test]
fn symlink_loop_in_the_input() {
    let d = tempfile::tempdir().unwrap();
    let (input, today) = hand_input(d.path());
    let link = today.with_file_name("part-00001.parquet");
    std::os::unix::fs::symlink(&link, &link).unwrap();
    rejects(
        &input,
        4,
        &[
            &format!("cannot read '{}'", link.display()),
            "symbolic links",
        ],
    );
    // A folder linking back to its parent is never walked: it is a folder
    // where data files belong, refused by name (issue 28).
    fs::remove_file(&link).unwrap();
    let up = today.with_file_name("up");
    std::os::unix::fs::symlink("..", &up).unwrap();
    rejects(
        &input,
        4,
        &[&format!("'{}' is a folder, not a data file", up.display())],
    );
}

#[test]
fn no_loans_partition_for_the_run_date() {
    let d = tempfile::tempdir().unwrap();
    let (input, today) = hand_input(d.path());
    fs::remove_dir_all(today.parent().unwrap()).unwrap();
    let out = d.path().join("out");
    let r = arrears()
        .args(["run", "--as-of", TODAY, "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(3));
    assert!(stderr_of(&r).contains("no loans partition for 2026-11-29"));
    assert!(!out.join("manifest").exists());
}

#[test]
fn missing_comparison_snapshots_are_not_available_and_the_run_succeeds() {
    let d = tempfile::tempdir().unwrap();
    let (input, _) = hand_input(d.path());
    for date in ["2026-10-29", "2026-11-28"] {
        fs::remove_dir_all(input.join(format!("loans/as_of_date={date}"))).unwrap();
    }
    let out = d.path().join("out");
    let r = run_cmd("run", &input, Some(&out));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout
            .contains("periods not available (no snapshot): prev, 1m"),
        "{}",
        r.stdout
    );
    let m = manifest_of(&out, TODAY);
    assert_eq!(m["periods"][0]["available"], false);
    assert_eq!(m["periods"][1]["available"], false);
    let html =
        fs::read_to_string(out.join(format!("report/as_of_date={TODAY}/report.html"))).unwrap();
    assert!(html.contains("not available"), "the report says so");
    let v = run_cmd("validate", &input, None);
    assert_eq!(v.code, Some(0));
    assert!(v
        .stdout
        .contains("periods not available (no snapshot): prev, 1m"));
}

// ---- validate ----

#[test]
fn validate_checks_without_writing() {
    let d = tempfile::tempdir().unwrap();
    let (input, _) = hand_input(d.path());
    let before = tree(d.path());
    let v = run_cmd("validate", &input, None);
    assert_eq!(v.code, Some(0), "{}", v.stderr);
    assert!(
        v.stdout
            .contains("arrears: inputs for 2026-11-29 pass every check"),
        "{}",
        v.stdout
    );
    assert!(v.stdout.contains("as_of    2026-11-29"), "{}", v.stdout);
    assert!(v.stdout.contains("1m       2026-10-29"), "{}", v.stdout);
    assert_eq!(before, tree(d.path()), "validate wrote nothing");
}

// ---- crashes, concurrency, full disk ----

/// Every file under `out` (lock and staging aside), the manifest without
/// its run-time values (timings, threads, peak memory): what a reader of
/// the output sees.
pub(crate) fn tree(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = crate::common::tree(out);
    m.retain(|rel, _| !rel.starts_with(".arrears"));
    for (rel, bytes) in m.iter_mut() {
        if rel.ends_with("manifest.json") {
            let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            v.as_object_mut().unwrap().remove("timings");
            v.as_object_mut().unwrap().remove("threads");
            v["memory"]
                .as_object_mut()
                .unwrap()
                .remove("peak_rss_bytes");
            *bytes = v.to_string().into_bytes();
        }
    }
    m
}

/// Two inputs for the same date whose outputs differ everywhere: the hand
/// fixture, and the same with one loan's balance changed.
pub(crate) fn two_inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let (a, _) = hand_input(&dir.join("a"));
    let (b, today_b) = hand_input(&dir.join("b"));
    rewrite(&today_b, |x| {
        set_cell(x, "principal_balance", 0, Some("123.45"))
    });
    (a, b)
}

pub(crate) fn run_ok(input: &Path, out: &Path, threads: &str) {
    let o = arrears()
        .args(["run", "--threads", threads, "--input"])
        .arg(input)
        .arg("--output")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr_of(&o));
}

/// Finishes whatever a killed run left, as the next run would first do.
fn recover(out: &Path) -> arrears::output::publish::Recovered {
    use arrears::output::publish;
    let l = publish::lock(out).unwrap();
    publish::recover(out, &l).unwrap()
}

#[test]
fn a_crash_at_every_publishing_step_leaves_old_or_new_never_a_mix() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = two_inputs(d.path());
    let out = d.path().join("out");
    run_ok(&b, &out, "2");
    let new = tree(&out);
    fs::remove_dir_all(&out).unwrap();
    run_ok(&a, &out, "2");
    let old = tree(&out);
    assert_ne!(old, new);
    // Every item is moved aside and then renamed in: stop after every rename.
    let mut crashed = 0;
    for n in 1..=80 {
        let o = arrears()
            .env("ARREARS_CRASH_AFTER_RENAMES", n.to_string())
            .args(["run", "--input"])
            .arg(&b)
            .arg("--output")
            .arg(&out)
            .output()
            .unwrap();
        if o.status.success() {
            assert_eq!(tree(&out), new);
            break;
        }
        crashed += 1;
        assert_eq!(o.status.code(), None, "killed by its abort");
        // Before recovery: a manifest of the date vouches for every folder.
        let seen = tree(&out);
        let key = format!("manifest/as_of_date={TODAY}/manifest.json");
        if let Some(m) = seen.get(&key) {
            let same = if *m == old[&key] { &old } else { &new };
            assert_eq!(&seen, same, "a manifest with folders of another run ({n})");
        }
        // The journal was written before the first rename: recovery
        // finishes forwards, and the next run starts from there.
        let r = recover(&out);
        assert_eq!(r.completed, vec![TODAY.to_string()]);
        assert_eq!(tree(&out), new, "after a crash at rename {n}");
        // Back to the old outputs for the next step.
        run_ok(&a, &out, "2");
        assert_eq!(tree(&out), old);
    }
    eprintln!("crash points: {crashed} (one after every rename of the publication)");
    assert!(crashed >= 30, "every rename was a crash point ({crashed})");
}

/// The kill loop: SIGKILL a run at random moments (KILL_LOOP_RUNS, default
/// 25); after each, recovery leaves the old or the new outputs, whole, and
/// the next run succeeds. The figures of the closing note came from a
/// longer loop (KILL_LOOP_RUNS=500).
#[test]
fn killed_at_random_moments_old_or_new_and_the_next_run_succeeds() {
    let runs: usize = std::env::var("KILL_LOOP_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(25);
    let d = tempfile::tempdir().unwrap();
    let (a, b) = two_inputs(d.path());
    let out = d.path().join("out");
    run_ok(&b, &out, "2");
    let new = tree(&out);
    fs::remove_dir_all(&out).unwrap();
    run_ok(&a, &out, "2");
    let old = tree(&out);
    // How long a run takes here, to spread the kills over it.
    let t0 = Instant::now();
    run_ok(&a, &out, "2");
    let span = t0.elapsed().as_micros() as u64;
    let bin = assert_cmd::cargo::cargo_bin("arrears");
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let (mut killed, mut finished, mut as_old, mut as_new) = (0, 0, 0, 0);
    for _ in 0..runs {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let delay = Duration::from_micros(state % (span + span / 4 + 1));
        let mut child = std::process::Command::new(&bin)
            .args(["run", "--input"])
            .arg(&b)
            .arg("--output")
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.success() {
            finished += 1;
        } else {
            killed += 1;
        }
        recover(&out);
        let seen = tree(&out);
        if seen == old {
            as_old += 1;
        } else if seen == new {
            as_new += 1;
        } else {
            panic!("a mix of two runs after a kill at {delay:?}");
        }
        run_ok(&a, &out, "2");
    }
    eprintln!(
        "kill loop: {runs} runs, {killed} killed, {finished} finished; after recovery {as_old} old, {as_new} new, 0 mixed"
    );
    assert_eq!(as_old + as_new, runs);
}

#[test]
fn a_second_run_on_the_same_output_is_refused_and_a_stale_lock_is_not() {
    let d = tempfile::tempdir().unwrap();
    let (input, _) = hand_input(d.path());
    let out = d.path().join("out");
    run_ok(&input, &out, "2");
    let before = tree(&out);
    // Another run holds the lock (this process, as the first run would).
    let held = arrears::output::publish::lock(&out).unwrap();
    let r = run_cmd("run", &input, Some(&out));
    assert_eq!(r.code, Some(8), "{}", r.stderr);
    eprint!("exit 8: {}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "output '{}' is locked by another arrears run (pid {})",
            out.display(),
            std::process::id()
        )),
        "{}",
        r.stderr
    );
    assert_eq!(tree(&out), before, "nothing clobbered");
    drop(held);
    // The lock file of a run that died stays behind, unlocked: no obstacle.
    fs::write(out.join(".arrears.lock"), "pid 999999").unwrap();
    let r = run_cmd("run", &input, Some(&out));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

#[test]
fn a_file_size_limit_fails_clearly_and_leaves_the_published_outputs() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = two_inputs(d.path());
    let out = d.path().join("out");
    run_ok(&a, &out, "2");
    let before = tree(&out);
    // A file-size limit (a quota, in effect) makes writes fail past 64 KiB
    // with EFBIG; SIGXFSZ is ignored so that the write returns the error
    // instead of killing the process.
    let bin = assert_cmd::cargo::cargo_bin("arrears");
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 128; exec \"$0\" run --input \"$1\" --output \"$2\"")
        .arg(&bin)
        .arg(&b)
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(6), "{}", stderr_of(&o));
    let e = stderr_of(&o);
    eprint!("exit 6: {e}");
    assert!(
        e.contains(&out.display().to_string()) && e.contains("File too large"),
        "{e}"
    );
    assert_eq!(tree(&out), before, "yesterday's outputs untouched");
    assert!(!out.join(".arrears-staging").exists(), "no staging left");
}

// ---- reruns ----

#[test]
fn same_inputs_any_thread_count_give_the_same_bytes() {
    let d = tempfile::tempdir().unwrap();
    let (a, _) = two_inputs(d.path());
    let out = d.path().join("out");
    run_ok(&a, &out, "1");
    let one = tree(&out);
    for threads in ["2", "3", "1"] {
        run_ok(&a, &out, threads);
        assert!(
            tree(&out) == one,
            "--threads {threads} changed a table, the report or the manifest"
        );
    }
    assert!(one.keys().any(|k| k.ends_with("report.html")));
}

/// `arrears run --input INPUT --output OUT` with the folder `ro` (the
/// output root or a folder inside it) bind-mounted read-only in a private
/// mount namespace: as root, permission bits stop nothing, a read-only
/// mount does.
pub(crate) fn run_with_read_only(input: &Path, out: &Path, ro: &Path) -> std::process::Output {
    std::process::Command::new("unshare")
        .args(["-m", "sh", "-c"])
        .arg(
            "mount --bind \"$3\" \"$3\" && mount -o remount,bind,ro \"$3\" && \
             exec \"$0\" run --input \"$1\" --output \"$2\"",
        )
        .arg(assert_cmd::cargo::cargo_bin("arrears"))
        .arg(input)
        .arg(out)
        .arg(ro)
        .output()
        .unwrap()
}

#[test]
fn a_read_only_output_fails_clearly_and_changes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = two_inputs(d.path());
    let out = d.path().join("out");
    run_ok(&a, &out, "2");
    let before = tree(&out);
    // The output root bind-mounted read-only in a private mount namespace
    // (root ignores permission bits, not a read-only mount).
    let o = run_with_read_only(&b, &out, &out);
    let e = stderr_of(&o);
    eprint!("exit 6: {e}");
    assert_eq!(o.status.code(), Some(6), "{e}");
    assert!(
        e.contains("Read-only file system") && e.contains(&out.display().to_string()),
        "{e}"
    );
    assert_eq!(tree(&out), before, "nothing changed");
}

#[test]
fn a_full_file_system_fails_clearly_and_leaves_the_published_outputs() {
    // A real ENOSPC: the output is a tmpfs (in a private mount namespace)
    // shrunk after the first run to 1.5 times what that run published:
    // room for one date's outputs, not for a rerun's staging beside them. Everything happens inside the
    // namespace; the outputs are copied out before and after the rerun.
    let d = tempfile::tempdir().unwrap();
    let (a, b) = two_inputs(d.path());
    let out = d.path().join("out");
    fs::create_dir_all(&out).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("arrears");
    let o = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c"])
        .arg(
            "set -e; mount -t tmpfs -o size=4m tmpfs \"$3\"; \
             \"$0\" run --input \"$1\" --output \"$3\" >/dev/null; cp -a \"$3\" \"$4/before\"; \
             used=$(du -sk \"$3\" | cut -f1); \
             mount -o remount,size=$((used * 3 / 2))k \"$3\"; \
             set +e; \"$0\" run --input \"$2\" --output \"$3\" 2>\"$4/stderr\"; echo $? >\"$4/code\"; \
             cp -a \"$3\" \"$4/after\"",
        )
        .arg(&bin)
        .arg(&a)
        .arg(&b)
        .arg(&out)
        .arg(d.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr_of(&o));
    let code = fs::read_to_string(d.path().join("code")).unwrap();
    let e = fs::read_to_string(d.path().join("stderr")).unwrap();
    eprint!("exit {}: {e}", code.trim());
    assert_eq!(code.trim(), "6", "{e}");
    assert!(e.contains("No space left on device"), "{e}");
    let (before, after) = (
        tree(&d.path().join("before")),
        tree(&d.path().join("after")),
    );
    assert!(before.keys().any(|k| k.ends_with("manifest.json")));
    assert_eq!(before, after, "yesterday's outputs untouched");
    assert!(
        !d.path().join("after/.arrears-staging").exists(),
        "no staging left"
    );
}
