//! The binary's exit codes and messages for the failures a scheduler sees.

use std::path::Path;

use crate::common::*;

#[test]
fn missing_input_directory_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_arrears(&dir.path().join("nope"), &dir.path().join("out"));
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr_of(&out).contains("does not exist"),
        "{}",
        stderr_of(&out)
    );
    assert!(!dir.path().join("out").exists(), "nothing written");
}

#[test]
fn no_partition_for_the_date_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    write_hand_fixture(&dir.path().join("in"), [Variant::default(); 3]);
    let out = arrears()
        .args(["run", "--as-of", "2026-11-30", "--input"])
        .arg(dir.path().join("in"))
        .arg("--output")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let e = stderr_of(&out);
    assert!(
        e.contains("no loans partition for 2026-11-30") && e.contains("latest is 2026-11-29"),
        "{e}"
    );
}

#[test]
fn bad_date_is_a_usage_error() {
    let out = arrears()
        .args([
            "run",
            "--input",
            "x",
            "--output",
            "y",
            "--as-of",
            "2026-13-01",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("'2026-13-01' is not a date in the form YYYY-MM-DD"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn unwritable_output_exits_6_and_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write_hand_fixture(&dir.path().join("in"), [Variant::default(); 3]);
    // A regular file where the output directory should be: cannot be created,
    // whoever runs the test (root ignores permission bits, not file types).
    let blocker = dir.path().join("out");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let out = run_arrears(&dir.path().join("in"), &blocker);
    assert_eq!(out.status.code(), Some(6), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("cannot create output directory"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn bad_input_exits_4_naming_file_column_and_rows() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_hand_fixture(&input, [Variant::default(); 3]);
    // Today's file with a negative balance in the third data row.
    let mut csv = today_csv();
    set(&mut csv, "principal_balance", 2, "-5.00");
    let path = write_today(&input, "part-00000.parquet", &csv, "2026-11-29");
    let out = run_arrears(&input, &dir.path().join("out"));
    assert_eq!(out.status.code(), Some(4));
    let e = stderr_of(&out);
    assert!(
        e.contains(&path.display().to_string())
            && e.contains("column 'principal_balance': 1 row is negative (row 2)"),
        "{e}"
    );
}

#[test]
fn duplicate_ids_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_hand_fixture(&input, [Variant::default(); 3]);
    // A second file in today's partition repeating two loans.
    let mut csv = today_csv();
    csv.rows.truncate(2);
    write_today(&input, "part-00001.parquet", &csv, "2026-11-29");
    let out = run_arrears(&input, &dir.path().join("out"));
    assert_eq!(out.status.code(), Some(4));
    let e = stderr_of(&out);
    // Which of the two repeated ids is named first follows the sort order.
    let named = ["L01", "L02"]
        .iter()
        .any(|id| e.contains(&format!("duplicate loan_id '{id}'")));
    assert!(
        named && e.contains("part-00001.parquet' row") && e.contains("2 duplicate rows in all"),
        "{e}"
    );
}

#[test]
fn partition_date_mismatch_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_hand_fixture(&input, [Variant::default(); 3]);
    // Today's rows claiming to be yesterday's.
    write_today(&input, "part-00000.parquet", &today_csv(), "2026-11-28");
    let out = run_arrears(&input, &dir.path().join("out"));
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr_of(&out).contains(
            "column 'as_of_date': 19 rows are different from the partition date 2026-11-29"
        ),
        "{}",
        stderr_of(&out)
    );
}

fn table_bytes(out: &Path) -> Vec<Vec<u8>> {
    ["ageing", "classification", "transitions", "rates", "report"]
        .iter()
        .map(|t| {
            let d = out.join(t).join("as_of_date=2026-11-29");
            let f = std::fs::read_dir(&d)
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path();
            // The report too, unmasked: timings live in the manifest only.
            std::fs::read(&f).unwrap()
        })
        .collect()
}

#[test]
fn rerun_is_byte_identical_and_a_failed_run_leaves_outputs_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let out = dir.path().join("out");
    write_hand_fixture(&input, [Variant::default(); 3]);
    let run = || run_arrears(&input, &out);
    assert!(run().status.success());
    let first = table_bytes(&out);
    let ok = run();
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("published 2026-11-29"));
    assert_eq!(first, table_bytes(&out), "rerun is byte-identical");
    // Break today's input: the run fails and yesterday's answer stays.
    let mut csv = today_csv();
    set(&mut csv, "status", 0, "closed");
    write_today(&input, "part-00000.parquet", &csv, "2026-11-29");
    let bad = run();
    assert_eq!(bad.status.code(), Some(4));
    assert!(
        stderr_of(&bad).contains("column 'status': 1 row is an unknown value \"closed\""),
        "{}",
        stderr_of(&bad)
    );
    assert_eq!(first, table_bytes(&out), "failed run changed nothing");
    assert!(!out.join(".arrears-staging").exists(), "staging cleaned up");
}

#[test]
fn demo_runs_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = arrears()
        .arg("demo")
        .arg("--output")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Open the report:"), "{stdout}");
    let html = std::fs::read_to_string(
        dir.path()
            .join("output/report/as_of_date=2026-11-29/report.html"),
    )
    .unwrap();
    assert!(html.contains("Over one month") && !html.contains("FAILED"));
    // Every earlier date was run first, so the trends have their history.
    assert!(
        !html.contains("History is short"),
        "demo has 30 days and 13 month-ends"
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join("output/manifest/as_of_date=2026-11-29/manifest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    // Three loans snapshots and the contacts of D-13..D.
    assert_eq!(manifest["inputs"].as_array().unwrap().len(), 4);
    assert!(manifest["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["passed"] == true));
    assert_eq!(manifest["outputs"][0]["table"], "ageing");
}
