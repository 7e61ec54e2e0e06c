//! The policy file on the command line: printing the built-in one, reading
//! a changed one, its errors (exit 7, line and key), and `[input.columns]`.

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;

use crate::common::*;

fn run_with(input: &Path, out: &Path, extra: &[&std::ffi::OsStr]) -> std::process::Output {
    arrears()
        .args(["run", "--input"])
        .arg(input)
        .arg("--output")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn policy_command_prints_the_built_in_policy() {
    let o = arrears().arg("policy").output().unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text, arrears::policy::file::DEFAULT);
    let p = arrears::policy::file::parse(&text, "printed").unwrap();
    assert_eq!(
        p.bucket_upper,
        arrears::policy::Policy::default().bucket_upper
    );
}

#[test]
fn a_changed_threshold_moves_the_figures() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_hand_fixture(&input, [Variant::default(); 3]);
    let file = dir.path().join("policy.toml");
    // M1 ends at 20 instead of 30: the loans at dpd 30 (L15) move to M2.
    let text = arrears::policy::file::DEFAULT.replace(
        "upper_dpd = [30, 60, 90, 120, 150, 180]",
        "upper_dpd = [20, 60, 90, 120, 150, 180]",
    );
    std::fs::write(&file, text).unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    assert!(run_with(&input, &a, &[]).status.success());
    let o = run_with(&input, &b, &["--policy".as_ref(), file.as_os_str()]);
    assert!(o.status.success(), "{}", stderr_of(&o));
    let count = |out: &Path, bucket: &str| -> i64 {
        rows(&read_table(out, "ageing", "2026-11-29"))
            .iter()
            .filter(|r| r[4] == bucket)
            .map(|r| r[5].parse::<i64>().unwrap())
            .sum()
    };
    assert_eq!(count(&b, "M1"), count(&a, "M1") - 1);
    assert_eq!(count(&b, "M2"), count(&a, "M2") + 1);
    let html = std::fs::read_to_string(b.join("report/as_of_date=2026-11-29/report.html")).unwrap();
    assert!(
        html.contains("M1 1\u{2013}20"),
        "the report shows the policy's edges"
    );
}

#[test]
fn a_bad_policy_exits_7_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_hand_fixture(&input, [Variant::default(); 3]);
    let file = dir.path().join("policy.toml");
    let text = arrears::policy::file::DEFAULT.replace("haircut = 0.30", "hair_cut = 0.30");
    std::fs::write(&file, &text).unwrap();
    let out = dir.path().join("out");
    let o = run_with(&input, &out, &["--policy".as_ref(), file.as_os_str()]);
    assert_eq!(o.status.code(), Some(7));
    let line = text.lines().position(|l| l.contains("hair_cut")).unwrap() + 1;
    let e = stderr_of(&o);
    assert!(
        e.contains(&format!("policy '{}', line {line}", file.display())),
        "{e}"
    );
    assert!(e.contains("hair_cut"), "{e}");
    assert!(!out.exists(), "nothing published");
    let missing = run_with(
        &input,
        &out,
        &[
            "--policy".as_ref(),
            dir.path().join("nope.toml").as_os_str(),
        ],
    );
    assert_eq!(missing.status.code(), Some(7));
    assert!(stderr_of(&missing).contains("cannot be read"));
}

#[test]
fn an_experiment_that_leaves_a_loan_without_a_tier_exits_7_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_hand_fixture(&input, [Variant::default(); 3]);
    // The printed policy's commented example, turned on.
    let d = arrears::policy::file::DEFAULT;
    let example = arrears::policy::file::example_experiment();
    let file = dir.path().join("policy.toml");
    let out = dir.path().join("out");
    // Rules that leave a loan without a tier: exit 7 naming the line.
    let broken = format!("{d}\n{example}\n").replace(
        "reason = \"outside_scope\"\nwhen = {}",
        "reason = \"outside_scope\"\nwhen = { dpd_max = 0 }",
    );
    std::fs::write(&file, &broken).unwrap();
    let o = run_with(&input, &out, &["--policy".as_ref(), file.as_os_str()]);
    assert_eq!(o.status.code(), Some(7));
    let line = broken
        .lines()
        .position(|l| l == "[[experiments.tiers]]")
        .unwrap()
        + 1;
    assert!(
        stderr_of(&o).contains(&format!("line {line}, key 'experiments.tiers'")),
        "{}",
        stderr_of(&o)
    );
    assert!(!out.exists(), "nothing published");
    // The example as printed runs.
    std::fs::write(&file, format!("{d}\n{example}\n")).unwrap();
    let o = run_with(&input, &out, &["--policy".as_ref(), file.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
}

/// The hand fixture with `loan_id` and `product` under the lender's names.
fn write_renamed_fixture(root: &Path) {
    for d in HAND_DATES {
        let csv = read_csv(&repo().join("fixtures/hand").join(format!("{d}.csv")));
        let b = contract_batch(&csv, d, Variant::default());
        let fields: Vec<Field> = b
            .schema()
            .fields()
            .iter()
            .map(|f| {
                let name = match f.name().as_str() {
                    "loan_id" => "acct_no",
                    "product" => "prod_cd",
                    n => n,
                };
                f.as_ref().clone().with_name(name)
            })
            .collect();
        let renamed =
            RecordBatch::try_new(Arc::new(Schema::new(fields)), b.columns().to_vec()).unwrap();
        write_partition(root, "loans", d, "part-00000.parquet", &renamed, 100);
    }
}

#[test]
fn renamed_columns_run_with_a_mapping_and_fail_clearly_without() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_renamed_fixture(&input);
    let plain = dir.path().join("plain-in");
    write_hand_fixture(&plain, [Variant::default(); 3]);

    let without = run_with(&input, &dir.path().join("x"), &[]);
    assert_eq!(without.status.code(), Some(4));
    let e = stderr_of(&without);
    assert!(e.contains("loan_id") && e.contains("product"), "{e}");

    let file = dir.path().join("policy.toml");
    let text = arrears::policy::file::DEFAULT.replace(
        "# Example: loan_id = \"acct_no\"",
        "loan_id = \"acct_no\"\nproduct = \"prod_cd\"",
    );
    std::fs::write(&file, text).unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let o = run_with(&input, &a, &["--policy".as_ref(), file.as_os_str()]);
    assert!(o.status.success(), "{}", stderr_of(&o));
    assert!(run_with(&plain, &b, &[]).status.success());
    for t in ["ageing", "classification", "transitions", "rates"] {
        assert_eq!(
            lines(&read_table(&a, t, "2026-11-29")),
            lines(&read_table(&b, t, "2026-11-29")),
            "{t}"
        );
    }
}
