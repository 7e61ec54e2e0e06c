//! Fuzzing the input path: mutated Parquet bytes and mutated schemas, each
//! checked by `arrears validate` and by `arrears run` (which computes,
//! reconciles and publishes: `validate` only decodes) in child processes
//! under a 4 GiB address space limit and a time limit. Whatever the input,
//! the answer is exit 0 (the mutation hit bytes that do not matter) or exit
//! 4 (bad input, with a message), the same from both commands: never a
//! panic (101), an abort (a signal: out of memory under the limit), an
//! internal error (1), a failed reconciliation (5) or a hang; and a run
//! that exits 4 leaves the published outputs exactly as they were.
//!
//! CI tries `FUZZ_CASES` inputs per test (default 48); the closing note's
//! figures come from longer runs (`FUZZ_CASES=2000 cargo test --release
//! --test it fuzz:: -- --nocapture`). Crashes found become the regression
//! cases of `regressions_stay_fixed`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{new_null_array, ArrayRef};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::common::*;

const TODAY: &str = "2026-11-29";

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48)
}

/// A proptest runner for `cases()` inputs (nothing persisted: a crash found
/// becomes a case of `regressions_stay_fixed`).
fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        // A hang costs the 30 s limit per try: shrink briefly, as the case
        // found is printed either way.
        max_shrink_iters: 64,
        max_shrink_time: 120_000,
        ..Config::default()
    })
}

/// A valid input (hand fixture plus the collections fixture's contacts,
/// whose loans are not in the hand book: orphans, which are allowed).
fn base(dir: &Path) -> PathBuf {
    let input = dir.join("in");
    write_hand_fixture(&input, [Variant::default(); 3]);
    let contacts = read_csv(&repo().join("fixtures/collections/contacts.csv"));
    write_contacts(&input, &contacts);
    input
}

fn today_file(input: &Path) -> PathBuf {
    input.join(format!("loans/as_of_date={TODAY}/part-00000.parquet"))
}

/// The contacts file of the run date.
fn contacts_file(input: &Path) -> PathBuf {
    input.join(format!("contacts/as_of_date={TODAY}/part-00000.parquet"))
}

/// `arrears validate` on `input`; the exit code (0 or 4) and the message,
/// or why it is neither.
fn validate_full(input: &Path) -> Result<(i32, String), String> {
    child("validate", input, None)
}

/// `arrears CMD` on `input` (and `--output` for `run`) in a child process
/// under the limits; the exit code (0 or 4) and the message, or why it is
/// neither.
fn child(cmd: &str, input: &Path, output: Option<&Path>) -> Result<(i32, String), String> {
    let bin = assert_cmd::cargo::cargo_bin("arrears");
    let t0 = Instant::now();
    let out_arg = output
        .map(|o| format!(" --output '{}'", o.display()))
        .unwrap_or_default();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 4194304; exec \"$0\" {cmd} --threads 2 --input \"$1\" --as-of 2026-11-29{out_arg}"
        ))
        .arg(&bin)
        .arg(input)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let mut err = String::new();
            use std::io::Read;
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            return match status.code() {
                Some(c @ (0 | 4)) => Ok((c, err)),
                Some(c) => Err(format!("exit {c}: {err}")),
                None => Err(format!("killed by a signal ({status}): {err}")),
            };
        }
        if t0.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            return Err("no answer within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn validate(input: &Path) -> Result<i32, String> {
    validate_full(input).map(|(c, _)| c)
}

/// Both commands on `input`: `validate`, then `run` into `out` (which holds
/// what earlier cases published). Their codes must agree, and a run that
/// rejects its input must leave `out` as it found it.
fn both(input: &Path, out: &Path) -> Result<i32, String> {
    let v = validate(input)?;
    let before = tree(out);
    let (r, msg) = child("run", input, Some(out))?;
    if r != v {
        return Err(format!("validate exits {v} but run exits {r}: {msg}"));
    }
    if r == 4 && tree(out) != before {
        return Err(format!("run exited 4 but changed the outputs: {msg}"));
    }
    Ok(r)
}

/// An output root holding the valid input's published run, for [`both`].
fn published(dir: &Path, input: &Path) -> PathBuf {
    let out = dir.join("out");
    assert_eq!(
        child("run", input, Some(&out)).map(|(c, _)| c),
        Ok(0),
        "the undamaged input runs"
    );
    out
}

/// One way to damage a file's bytes.
#[derive(Clone, Debug)]
enum Damage {
    Truncate(usize),
    Flip(Vec<(usize, u8)>),
    Overwrite(usize, Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0usize..1 << 16).prop_map(Damage::Truncate),
        prop::collection::vec((0usize..1 << 16, any::<u8>()), 1..12).prop_map(Damage::Flip),
        (0usize..1 << 16, prop::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(at, b)| Damage::Overwrite(at, b)),
    ]
}

fn apply(bytes: &[u8], d: &Damage) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let n = b.len();
    match d {
        Damage::Truncate(k) => b.truncate(k % n),
        Damage::Flip(f) => {
            for &(at, x) in f {
                b[at % n] ^= x | 1;
            }
        }
        Damage::Overwrite(at, w) => {
            for (i, &x) in w.iter().enumerate() {
                let j = (at + i) % n;
                b[j] = x;
            }
        }
    }
    b
}

/// Inputs accepted (exit 0) and rejected (exit 4) so far.
#[derive(Default)]
struct Tally(std::cell::Cell<[usize; 2]>);

impl Tally {
    /// Counts a good answer; anything else fails the case, described by `what`.
    fn record(
        &self,
        r: Result<i32, String>,
        what: impl Fn() -> String,
    ) -> Result<(), TestCaseError> {
        let c = r.map_err(|e| TestCaseError::fail(format!("{}: {e}", what())))?;
        let mut k = self.0.get();
        k[(c == 4) as usize] += 1;
        self.0.set(k);
        Ok(())
    }

    fn report(&self, name: &str) {
        let [accepted, rejected] = self.0.get();
        eprintln!(
            "fuzz {name}: {} inputs, {accepted} accepted (exit 0), {rejected} rejected (exit 4), 0 crashes",
            accepted + rejected
        );
    }
}

#[test]
fn damaged_parquet_bytes_never_crash() {
    let d = tempfile::tempdir().unwrap();
    let input = base(d.path());
    assert_eq!(validate(&input), Ok(0), "the undamaged input is valid");
    let out = published(d.path(), &input);
    let targets = [today_file(&input), contacts_file(&input)];
    let originals: Vec<Vec<u8>> = targets.iter().map(|p| fs::read(p).unwrap()).collect();
    let mut runner = runner();
    let tally = Tally::default();
    runner
        .run(&(0usize..2, damage()), |(t, dmg)| {
            fs::write(&targets[t], apply(&originals[t], &dmg)).unwrap();
            let r = both(&input, &out);
            fs::write(&targets[t], &originals[t]).unwrap();
            tally.record(r, || format!("{dmg:?} of file {t}"))
        })
        .unwrap();
    tally.report("bytes");
}

/// Inputs that once crashed, found by the tests above, kept as they were.
#[test]
fn regressions_stay_fixed() {
    // 2026-11-30, FUZZ_CASES=5000: one bit of the run date's loans file
    // flipped inside a page's definition levels made arrow-buffer panic
    // ("offset + len out of bounds", exit 101). Decoding now runs under
    // input::guard: a bad-input error naming the file and row group.
    let d = tempfile::tempdir().unwrap();
    let input = base(d.path());
    let file = today_file(&input);
    let bytes = fs::read(&file).unwrap();
    fs::write(&file, apply(&bytes, &Damage::Flip(vec![(30125, 0)]))).unwrap();
    let (code, msg) = validate_full(&input).unwrap();
    assert_eq!(code, 4, "{msg}");
    assert!(
        msg.contains(&file.display().to_string())
            && msg.contains("the Parquet decoder failed on damaged data"),
        "{msg}"
    );
    assert!(
        !msg.contains("panicked"),
        "no panic report on stderr: {msg}"
    );

    // 2026-12-03, the first fuzzing of `run` (48 cases): bytes of the
    // contacts file overwritten so that a zone-less `contact_ts` decoded to
    // a time past the calendar's range. `validate` accepted it; `run`
    // panicked printing the contact's local date for a compliance rule
    // (exit 101). The contacts reader now rejects such times as it did
    // zoned ones.
    fs::write(&file, &bytes).unwrap();
    let contacts = contacts_file(&input);
    let original = fs::read(&contacts).unwrap();
    let overwrite = vec![
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 53, 242, 166, 219, 122, 65, 45, 6, 67, 252, 223,
        160, 233, 177, 41, 211, 8, 184, 217, 210, 135, 250, 251, 254,
    ];
    fs::write(
        &contacts,
        apply(&original, &Damage::Overwrite(9132, overwrite)),
    )
    .unwrap();
    let out = d.path().join("out");
    assert_eq!(both(&input, &out), Ok(4));
    let (_, msg) = validate_full(&input).unwrap();
    assert!(msg.contains(&contacts.display().to_string()), "{msg}");

    // 2026-12-03, the same session: bytes of the contacts file's first page
    // header overwritten so that it declares a Thrift set of about two
    // billion doubles. The Parquet decoder skips such a field by reading
    // and discarding bytes without checking that it got any: at the end of
    // the file it read nothing two billion times, a minute and more (the
    // 30 s limit ended it). Input files are now read through
    // input::guard::StrictFile, whose reads fail past the end of the file.
    let damage = Damage::Overwrite(
        340,
        vec![
            163, 0, 119, 0, 0, 0, 0, 0, 0, 183, 94, 147, 219, 58, 247, 207, 238, 155, 126,
        ],
    );
    fs::write(&contacts, apply(&original, &damage)).unwrap();
    let t0 = Instant::now();
    assert_eq!(both(&input, &out), Ok(4));
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    let (_, msg) = validate_full(&input).unwrap();
    assert!(
        msg.contains("read past the end of the file (damaged Parquet metadata)"),
        "{msg}"
    );
}

#[test]
fn a_contact_time_past_the_calendar_is_bad_input() {
    use arrow::array::TimestampMillisecondArray;
    let d = tempfile::tempdir().unwrap();
    let input = base(d.path());
    let file = contacts_file(&input);
    let b = read_parquet(&file);
    let mut ms = vec![1_764_000_000_000i64; b.num_rows()];
    ms[2] = 10_000_000_000_000_000; // about the year 318,857
    let b = with_column(
        &b,
        "contact_ts",
        Arc::new(TimestampMillisecondArray::from(ms)),
    );
    fs::remove_file(&file).unwrap();
    write_partition(&input, "contacts", TODAY, "part-00000.parquet", &b, 100);
    let out = d.path().join("out");
    assert_eq!(both(&input, &out), Ok(4));
    let (_, msg) = validate_full(&input).unwrap();
    assert!(
        msg.contains(
            "column 'contact_ts': 1 row is a timestamp outside 1900-01-01 to 9999-12-31 (row 2)"
        ),
        "{msg}"
    );
}

/// What to do to one column of the run date's snapshot.
#[derive(Clone, Debug)]
enum ColumnChange {
    Keep,
    Drop,
    Retype(usize),
    AllNull,
}

const TYPES: [DataType; 8] = [
    DataType::Utf8,
    DataType::Int64,
    DataType::Int32,
    DataType::Float64,
    DataType::Date32,
    DataType::Boolean,
    DataType::Decimal128(12, 2),
    DataType::Decimal128(38, 6),
];

fn change() -> impl Strategy<Value = ColumnChange> {
    prop_oneof![
        1 => Just(ColumnChange::Keep),
        1 => Just(ColumnChange::Drop),
        2 => (0..TYPES.len()).prop_map(ColumnChange::Retype),
        1 => Just(ColumnChange::AllNull),
    ]
}

/// The batch with the changes applied to the columns they name (by index
/// modulo the column count; a later change of a column wins).
fn mutate(b: &RecordBatch, changes: &[(usize, ColumnChange)]) -> Option<RecordBatch> {
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for (i, f) in b.schema().fields().iter().enumerate() {
        let c = b.column(i);
        let what = changes
            .iter()
            .rev()
            .find(|(k, _)| k % b.num_columns() == i)
            .map(|(_, w)| w.clone())
            .unwrap_or(ColumnChange::Keep);
        let (t, a) = match &what {
            ColumnChange::Keep => (f.data_type().clone(), c.clone()),
            ColumnChange::Drop => continue,
            ColumnChange::Retype(k) => {
                let t = TYPES[*k].clone();
                // Casts that fail leave the column as it was.
                match cast(c, &t) {
                    Ok(a) => (t, a),
                    Err(_) => (f.data_type().clone(), c.clone()),
                }
            }
            ColumnChange::AllNull => (
                f.data_type().clone(),
                new_null_array(f.data_type(), c.len()),
            ),
        };
        fields.push(Field::new(f.name(), t, true));
        cols.push(a);
    }
    if cols.is_empty() {
        return None;
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).ok()
}

/// The valid input, its published run, and the run date's loans file
/// (bytes and batch) that a case rewrites and puts back.
struct Loans {
    _dir: tempfile::TempDir,
    input: PathBuf,
    out: PathBuf,
    file: PathBuf,
    original: Vec<u8>,
    batch: RecordBatch,
}

impl Loans {
    fn new() -> Loans {
        let dir = tempfile::tempdir().unwrap();
        let input = base(dir.path());
        let out = published(dir.path(), &input);
        let file = today_file(&input);
        Loans {
            original: fs::read(&file).unwrap(),
            batch: read_parquet(&file),
            _dir: dir,
            input,
            out,
            file,
        }
    }

    /// Both commands on the input with the run date's loans replaced by
    /// `b`; the file is put back afterwards.
    fn check(&self, b: &RecordBatch) -> Result<i32, String> {
        fs::remove_file(&self.file).unwrap();
        write_partition(&self.input, "loans", TODAY, "part-00000.parquet", b, 7);
        let r = both(&self.input, &self.out);
        fs::write(&self.file, &self.original).unwrap();
        r
    }
}

#[test]
fn mutated_schemas_never_crash() {
    let loans = Loans::new();
    let mut runner = runner();
    let tally = Tally::default();
    runner
        .run(
            // One to three columns changed at a time: enough to reach the
            // checks behind the first one that fails.
            &prop::collection::vec((0usize..64, change()), 1..4),
            |changes| {
                let Some(m) = mutate(&loans.batch, &changes) else {
                    return Ok(());
                };
                tally.record(loans.check(&m), || format!("{changes:?}"))
            },
        )
        .unwrap();
    tally.report("schemas");
}

/// Every optional column left out, and null in every type accepted for it
/// (data-contract.md v2): valid input, which both commands accept and
/// `run` publishes. (Found by hand before the fuzzer ran `run`: an all-null
/// `plan_status` made the run panic.)
#[test]
fn every_optional_column_absent_or_all_null_runs() {
    let loans = Loans::new();
    let batch = &loans.batch;
    let mut cases = 0;
    for column in optional_columns() {
        let mut variants = vec![(
            format!("{column} absent"),
            without_columns(batch, &[column]),
        )];
        for t in accepted_types(column) {
            variants.push((
                format!("{column} all null as {t}"),
                with_null_column(batch, column, &t),
            ));
        }
        for (what, b) in variants {
            assert_eq!(loans.check(&b), Ok(0), "{what}");
            cases += 1;
        }
    }
    eprintln!("fuzz optional columns: {cases} inputs, all accepted and published");
}

/// One extreme value put into one row of the run date's loans.
#[derive(Clone, Debug)]
pub(crate) enum Extreme {
    /// A date column's day count (Date32), at or past the calendar's ends.
    Date(&'static str, usize, i32),
    /// A text column's value: `n` repetitions of `unit` (CJK, emoji and
    /// ASCII, around Excel's 32,767-unit cell).
    Text(&'static str, usize, &'static str, usize),
}

fn extreme() -> impl Strategy<Value = Extreme> {
    let day = prop_oneof![
        Just(i32::MAX),
        Just(i32::MIN + 1),
        Just(-25_568),
        Just(-25_567),
        Just(2_932_896),
        Just(2_932_897),
        Just(-91_676_000),
        Just(91_676_000),
        any::<i32>(),
    ];
    let unit = prop_oneof![Just("a"), Just("华东区"), Just("🏦"), Just("é")];
    let n = prop_oneof![
        Just(32_767usize),
        Just(32_768),
        Just(16_384),
        Just(40_000),
        1usize..100_000
    ];
    prop_oneof![
        (
            prop_oneof![Just("origination_date"), Just("charge_off_date")],
            0usize..64,
            day
        )
            .prop_map(|(c, r, d)| Extreme::Date(c, r, d)),
        (
            prop_oneof![
                Just("region"),
                Just("product"),
                Just("legal_stage"),
                Just("credit_grade")
            ],
            0usize..64,
            unit,
            n
        )
            .prop_map(|(c, r, u, n)| Extreme::Text(c, r, u, n)),
    ]
}

/// The batch with the extreme values put in (rows modulo the row count).
pub(crate) fn put_extremes(b: &RecordBatch, xs: &[Extreme]) -> RecordBatch {
    use arrow::array::{Array, Date32Array, StringArray};
    let mut b = b.clone();
    for x in xs {
        let (column, row) = match x {
            Extreme::Date(c, r, _) | Extreme::Text(c, r, _, _) => (*c, r % b.num_rows()),
        };
        let col = b.column_by_name(column).unwrap().clone();
        let a: ArrayRef = match x {
            Extreme::Date(_, _, d) => {
                let c = col.as_any().downcast_ref::<Date32Array>().unwrap();
                Arc::new(
                    (0..c.len())
                        .map(|i| {
                            if i == row {
                                Some(*d)
                            } else {
                                c.is_valid(i).then(|| c.value(i))
                            }
                        })
                        .collect::<Date32Array>(),
                )
            }
            Extreme::Text(_, _, unit, n) => {
                let t = cast(&col, &DataType::Utf8).unwrap();
                let c = t.as_any().downcast_ref::<StringArray>().unwrap();
                Arc::new(
                    (0..c.len())
                        .map(|i| {
                            if i == row {
                                Some(unit.repeat(*n))
                            } else {
                                c.is_valid(i).then(|| c.value(i).to_string())
                            }
                        })
                        .collect::<StringArray>(),
                )
            }
        };
        b = with_column(&b, column, a);
    }
    b
}

/// Issue 28: extreme but valid-typed dates (the ends of Date32, years of
/// +-250,000, the calendar's own ends and one day past them) and strings
/// longer than an Excel cell, through `validate` and `run`: exit 0 (the
/// workbook included) or 4 naming the column, never 1, 101, a signal (the
/// 4 GiB limit) or a hang.
#[test]
fn extreme_dates_and_long_strings_never_crash() {
    let loans = Loans::new();
    let mut runner = runner();
    let tally = Tally::default();
    runner
        .run(&prop::collection::vec(extreme(), 1..4), |xs| {
            let b = put_extremes(&loans.batch, &xs);
            tally.record(loans.check(&b), || format!("{xs:?}"))
        })
        .unwrap();
    tally.report("extremes");
}
