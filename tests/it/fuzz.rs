//! Fuzzing the input path: mutated Parquet bytes and mutated schemas, each
//! checked by `arrears validate` in a child process under a 4 GiB address
//! space limit and a time limit. Whatever the input, the answer is exit 0
//! (the mutation hit bytes that do not matter) or exit 4 (bad input, with a
//! message): never a panic (101), an abort (a signal: out of memory under
//! the limit), an internal error (1) or a hang.
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
    let bin = assert_cmd::cargo::cargo_bin("arrears");
    let t0 = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(
            "ulimit -v 4194304; exec \"$0\" validate --threads 2 --input \"$1\" --as-of 2026-11-29",
        )
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
    let targets = [today_file(&input), contacts_file(&input)];
    let originals: Vec<Vec<u8>> = targets.iter().map(|p| fs::read(p).unwrap()).collect();
    let mut runner = runner();
    let tally = Tally::default();
    runner
        .run(&(0usize..2, damage()), |(t, dmg)| {
            fs::write(&targets[t], apply(&originals[t], &dmg)).unwrap();
            let r = validate(&input);
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

#[test]
fn mutated_schemas_never_crash() {
    let d = tempfile::tempdir().unwrap();
    let input = base(d.path());
    let file = today_file(&input);
    let original = fs::read(&file).unwrap();
    let batch = read_parquet(&file);
    let mut runner = runner();
    let tally = Tally::default();
    runner
        .run(
            // One to three columns changed at a time: enough to reach the
            // checks behind the first one that fails.
            &prop::collection::vec((0usize..64, change()), 1..4),
            |changes| {
                let Some(m) = mutate(&batch, &changes) else {
                    return Ok(());
                };
                fs::remove_file(&file).unwrap();
                write_partition(&input, "loans", TODAY, "part-00000.parquet", &m, 7);
                let r = validate(&input);
                fs::write(&file, &original).unwrap();
                tally.record(r, || format!("{changes:?}"))
            },
        )
        .unwrap();
    tally.report("schemas");
}
