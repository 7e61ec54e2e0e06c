//! The published figures do not move (issue 29): a generated book run date
//! after date, as the nightly schedule would, and every table of the last
//! date and every number of its report compared with what the code before
//! the redesign published, kept under `fixtures/unchanged/`.
//!
//! The fixture holds each table as text (a header line, then one line per
//! row, columns joined by `|`) and the report's numbers in reading order
//! (the masked report's text without its markup, one number per line), so
//! that a redesign may move code and markup but no figure. A change that
//! is meant to move figures (a new definition of the spec) rewrites the
//! fixture in the same commit and says why:
//! `ARREARS_UPDATE_FIXTURES=1 cargo test --test it unchanged`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use arrears::generate::{generate, GenConfig};
use arrears::pipeline::{run, RunConfig};
use arrears::policy::Policy;
use chrono::NaiveDate;

use crate::common::*;

/// The book: small enough for CI, with every family in play (secured
/// loans, plans, legal stages, contacts and promises, month-ends for the
/// trends and the forecast's backtest, the demo's experiment).
fn book(dir: &Path) -> (GenConfig, RunConfig) {
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let mut g = GenConfig::new(dir.join("in"), 2_500, as_of);
    g.days = 4;
    g.months = 3;
    g.contact_days = 7;
    g.row_group = 512;
    g.seed = 2029;
    let r = RunConfig {
        input: dir.join("in"),
        output: dir.join("out"),
        as_of: None,
        threads: Some(2),
        memory_limit: None,
        policy: Policy::demo(),
        report: Default::default(),
    };
    (g, r)
}

/// Every table of `date` as text, by table name.
fn tables(out: &Path, date: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for entry in fs::read_dir(out).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let dir = out.join(&name).join(format!("as_of_date={date}"));
        if name.starts_with('.') || name == "report" || name == "manifest" || !dir.is_dir() {
            continue;
        }
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
            .collect();
        files.sort();
        let mut text = String::new();
        for (k, f) in files.iter().enumerate() {
            let b = read_parquet(f);
            if k == 0 {
                text.push_str(&column_names(&b).join("|"));
                text.push('\n');
            }
            for r in rows(&b) {
                text.push_str(&r.join("|"));
                text.push('\n');
            }
        }
        m.insert(format!("{name}.txt"), text);
    }
    m
}

/// The numbers a reader sees in the report, in reading order: the masked
/// report without tags (attributes, such as chart coordinates, are not
/// read), every run of digits with its sign, separators, decimals and
/// percent sign.
fn report_numbers(out: &Path, date: &str) -> String {
    let html =
        fs::read_to_string(out.join(format!("report/as_of_date={date}/report.html"))).unwrap();
    let html = arrears::report::mask_run_values(&html);
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut in_style = false;
    for (i, ch) in html.char_indices() {
        match ch {
            '<' => {
                in_tag = true;
                let rest = &html[i..];
                if rest.starts_with("<style") || rest.starts_with("<script") {
                    in_style = true;
                } else if rest.starts_with("</style") || rest.starts_with("</script") {
                    in_style = false;
                }
                text.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag && !in_style => text.push(ch),
            _ => {}
        }
    }
    let mut numbers = String::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, numbers: &mut String| {
        let t = cur.trim_end_matches([',', '.']);
        if t.chars().any(|c| c.is_ascii_digit()) {
            numbers.push_str(t);
            numbers.push('\n');
        }
        cur.clear();
    };
    for ch in text.chars() {
        let part = ch.is_ascii_digit()
            || (matches!(ch, ',' | '.' | '%') && !cur.is_empty())
            || (matches!(ch, '-' | '+' | '−') && cur.is_empty());
        if part {
            cur.push(ch);
        } else {
            flush(&mut cur, &mut numbers);
        }
    }
    flush(&mut cur, &mut numbers);
    numbers
}

#[test]
fn published_figures_equal_the_fixture_of_the_code_before_the_redesign() {
    let d = tempfile::tempdir().unwrap();
    let (g, r) = book(d.path());
    generate(&g).unwrap();
    let dates = g.snapshot_dates();
    for date in &dates {
        run(&RunConfig {
            as_of: Some(*date),
            ..r.clone()
        })
        .unwrap();
    }
    let last = dates.last().unwrap().to_string();
    let mut seen = tables(&r.output, &last);
    seen.insert(
        "report_numbers.txt".into(),
        report_numbers(&r.output, &last),
    );

    let fixture = repo().join("fixtures/unchanged");
    if std::env::var_os("ARREARS_UPDATE_FIXTURES").is_some() {
        let _ = fs::remove_dir_all(&fixture);
        fs::create_dir_all(&fixture).unwrap();
        for (name, text) in &seen {
            fs::write(fixture.join(name), text).unwrap();
        }
        eprintln!("fixtures/unchanged rewritten: {} files", seen.len());
        return;
    }
    let mut kept: BTreeMap<String, String> = BTreeMap::new();
    for e in fs::read_dir(&fixture).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "txt") {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            kept.insert(name, fs::read_to_string(&p).unwrap());
        }
    }
    assert_eq!(
        kept.keys().collect::<Vec<_>>(),
        seen.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    let mut moved = Vec::new();
    for (name, want) in &kept {
        let got = &seen[name];
        if got != want {
            let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
            let at = w
                .iter()
                .zip(&g)
                .position(|(a, b)| a != b)
                .unwrap_or(w.len().min(g.len()));
            moved.push(format!(
                "{name}: line {} was {:?}, is {:?} ({} lines before, {} now)",
                at + 1,
                w.get(at).unwrap_or(&"(none)"),
                g.get(at).unwrap_or(&"(none)"),
                w.len(),
                g.len()
            ));
        }
    }
    assert!(
        moved.is_empty(),
        "published figures moved:\n{}",
        moved.join("\n")
    );
    let lines: usize = kept.values().map(|t| t.lines().count()).sum();
    eprintln!(
        "unchanged: {} tables and the report's numbers, {lines} lines, equal to the fixture",
        kept.len() - 1
    );
}
