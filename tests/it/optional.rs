//! Real books leave columns out (data-contract.md v2): a book with only the
//! nine required columns runs and publishes date after date, naming what it
//! lacks; the same book with those columns present but null, in every type
//! the contract accepts for them, publishes the same table bytes.

use std::path::{Path, PathBuf};

use arrears::generate::{generate, GenConfig};
use arrears::pipeline::{run, RunConfig};
use arrears::policy::Policy;
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;

use crate::common::*;

/// A generated book with every column: daily snapshots, the month-ends
/// before them and contacts.
fn generated(dir: &Path) -> PathBuf {
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let mut g = GenConfig::new(dir.join("gen"), 3_000, as_of);
    g.days = 2;
    g.months = 2;
    g.contact_days = 3;
    generate(&g).unwrap();
    dir.join("gen")
}

/// The loans dates of an input root, oldest first.
fn dates(input: &Path) -> Vec<String> {
    let mut d: Vec<String> = std::fs::read_dir(input.join("loans"))
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_prefix("as_of_date=").unwrap().to_string()
        })
        .collect();
    d.sort();
    d
}

/// A copy of the book at `src` under `dst` with every loans file passed
/// through `edit` (contacts as they are).
fn edited_copy(src: &Path, dst: &Path, edit: impl Fn(&RecordBatch) -> RecordBatch) {
    for d in dates(src) {
        let dir = src.join("loans").join(format!("as_of_date={d}"));
        for f in std::fs::read_dir(&dir).unwrap() {
            let p = f.unwrap().path();
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            let b = edit(&read_parquet(&p));
            write_partition(dst, "loans", &d, &name, &b, 1_000);
        }
    }
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(src.join("contacts"))
        .arg(dst.join("contacts"))
        .status()
        .unwrap();
    assert!(status.success());
}

/// Runs every date of the book in order, as the nightly schedule would.
fn run_every_date(input: &Path, out: &Path) {
    for d in dates(input) {
        run(&RunConfig {
            input: input.to_path_buf(),
            output: out.to_path_buf(),
            as_of: Some(NaiveDate::parse_from_str(&d, "%Y-%m-%d").unwrap()),
            threads: Some(2),
            memory_limit: None,
            policy: Policy::default(),
            report: Default::default(),
        })
        .unwrap_or_else(|e| panic!("{d}: {e:#}"));
    }
}

/// The published tables of an output root: every file but the report and
/// the manifest (which say how the book was given).
fn tables(out: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut t = tree(out);
    t.retain(|k, _| !k.starts_with("report/") && !k.starts_with("manifest/"));
    assert!(
        t.keys().any(|k| k.starts_with("worklist/")),
        "tables published"
    );
    t
}

#[test]
fn only_the_required_columns_and_all_null_columns_of_every_type_agree() {
    let dir = tempfile::tempdir().unwrap();
    let full = generated(dir.path());
    let optional = optional_columns();
    assert_eq!(optional.len(), 11);

    // The nine required columns only.
    let bare = dir.path().join("bare");
    edited_copy(&full, &bare, |b| without_columns(b, &optional));
    let bare_out = dir.path().join("bare-out");
    run_every_date(&bare, &bare_out);
    let expected = tables(&bare_out);

    // The same book with every optional column present and null, each in
    // turn in every type accepted for it (variant k gives column c its
    // (c + k)-th type, so each column meets each of its types).
    let most = optional
        .iter()
        .map(|c| accepted_types(c).len())
        .max()
        .unwrap();
    for k in 0..most {
        let input = dir.path().join(format!("null-{k}"));
        edited_copy(&bare, &input, |b| {
            optional.iter().enumerate().fold(b.clone(), |b, (c, name)| {
                let types = accepted_types(name);
                with_null_column(&b, name, &types[(c + k) % types.len()])
            })
        });
        let out = dir.path().join(format!("null-{k}-out"));
        run_every_date(&input, &out);
        let got = tables(&out);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "variant {k}: the same files"
        );
        for (name, bytes) in &expected {
            assert!(&got[name] == bytes, "variant {k}: '{name}' differs");
        }
        // The manifest says the columns were there, but empty.
        let m = manifest_of(&out, "2026-11-29");
        assert_eq!(m["inputs"][0]["absent_columns"], serde_json::json!([]));
        assert!(
            m["inputs"][0]["all_null_columns"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("collateral_value")),
            "{}",
            m["inputs"][0]
        );
    }
}

#[test]
fn a_book_without_optional_columns_says_what_is_not_available() {
    let dir = tempfile::tempdir().unwrap();
    let full = generated(dir.path());
    let optional = optional_columns();
    let bare = dir.path().join("bare");
    edited_copy(&full, &bare, |b| without_columns(b, &optional));
    let out = dir.path().join("out");
    run_every_date(&bare, &out);

    let m = manifest_of(&out, "2026-11-29");
    for input in m["inputs"].as_array().unwrap() {
        if input["dataset"] == "loans" {
            assert_eq!(
                input["absent_columns"],
                serde_json::json!(optional),
                "every optional column named as absent: {input}"
            );
        }
    }
    // Monthly and daily periods both ran; tiers came from the earlier runs.
    assert_eq!(m["periods"][0]["tiers_from"], "worklist");
    assert_eq!(m["periods"][1]["tiers_from"], "worklist");

    let html =
        std::fs::read_to_string(out.join("report/as_of_date=2026-11-29/report.html")).unwrap();
    for column in [
        "collateral_value",
        "plan_status",
        "legal_stage",
        "charge_off_date",
    ] {
        assert!(
            html.contains(&format!("not available: the book has no {column} column")),
            "{column}"
        );
    }
    // Data quality lists every absent column.
    let quality = &html[html.find("id=\"quality\"").unwrap()..];
    for column in &optional {
        assert!(
            quality.contains(&format!(
                "<td class=\"mono\">{column}</td><td>absent from the files</td>"
            )),
            "{column}"
        );
    }
    // The book itself is all there: every loan in the ageing.
    let ageing = rows(&read_table(&out, "ageing", "2026-11-29"));
    let loans: i64 = ageing.iter().map(|r| r[5].parse::<i64>().unwrap()).sum();
    let snapshot = read_parquet(
        &std::fs::read_dir(bare.join("loans/as_of_date=2026-11-29"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    );
    assert_eq!(loans as usize, snapshot.num_rows());

    // In zh-CN too.
    let zh = dir.path().join("zh");
    let o = arrears()
        .args(["run", "--locale", "zh-CN", "--input"])
        .arg(&bare)
        .arg("--output")
        .arg(&zh)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr_of(&o));
    let html =
        std::fs::read_to_string(zh.join("report/as_of_date=2026-11-29/report.html")).unwrap();
    assert!(html.contains("无数据: 数据中没有 collateral_value 列"));
}
