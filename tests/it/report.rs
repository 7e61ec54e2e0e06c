//! The management report: pinned snapshots in both locales, data escaped,
//! template overrides and their errors, and figures equal to the tables.

use std::collections::BTreeMap;
use std::path::Path;

use arrears::report::{format, mask_run_values};

use crate::common::*;

/// Runs the hand fixture's dates in order (so the last run has history),
/// with extra arguments, and returns the run date's report.
fn hand_report(dir: &Path, extra: &[&str]) -> String {
    let input = dir.join("in");
    let out = dir.join("out");
    write_hand_fixture(&input, [Variant::default(); 3]);
    for d in HAND_DATES {
        let o = arrears()
            .args(["run", "--input"])
            .arg(&input)
            .arg("--output")
            .arg(&out)
            .args(["--as-of", d])
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{d}: {}", stderr_of(&o));
    }
    report_of(&out, "2026-11-29")
}

fn report_of(out: &Path, d: &str) -> String {
    std::fs::read_to_string(out.join(format!("report/as_of_date={d}/report.html"))).unwrap()
}

#[test]
fn hand_report_en_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let html = hand_report(dir.path(), &[]);
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    insta::assert_snapshot!("hand_en", mask_run_values(&html));
}

#[test]
fn hand_report_zh_cn_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let html = hand_report(dir.path(), &["--locale", "zh-CN"]);
    assert!(html.contains("<html lang=\"zh-CN\">") && html.contains("催收管理报告"));
    assert!(html.contains("2026年11月29日") && html.contains("不良贷款率"));
    insta::assert_snapshot!("hand_zh_cn", mask_run_values(&html));
}

#[test]
fn duration_matrix_chains_the_nights_by_hand() {
    // fixtures/README.md, "Duration-based matrix": M1 at 2026-10-29 (L03,
    // L14, L16) -> night 1: 2/3 stay M1, 1/3 to M2; night 2 (2026-11-28 ->
    // 29): of M1 2/3 stay, 1/3 to M2, M2 stays. M1 -> M1 = 4/9, M1 -> M2 = 5/9.
    let dir = tempfile::tempdir().unwrap();
    let html = hand_report(dir.path(), &[]);
    let table = &html[html.find("Duration-based one-month matrix").unwrap()..];
    assert!(table.contains("2 nights chained.") && !table[..800].contains("Not covered"));
    let row = &table[table.find("<tr><th>M1</th>").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    let cells: Vec<&str> = row
        .split("<td")
        .skip(1)
        .map(|c| &c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()])
        .collect();
    assert_eq!(cells[1], "44.44%", "M1 -> M1");
    assert_eq!(cells[2], "55.56%", "M1 -> M2");
    assert!(cells
        .iter()
        .enumerate()
        .all(|(j, c)| j == 1 || j == 2 || c.is_empty()));
}

#[test]
fn self_contained_no_script_no_network() {
    let dir = tempfile::tempdir().unwrap();
    let html = hand_report(dir.path(), &[]);
    for banned in [
        "<script", "<link", "<img", "@import", "url(", "http://", "https://",
    ] {
        // The SVG namespace is an identifier, not a request.
        let hits = html
            .matches(banned)
            .count()
            .saturating_sub(if banned == "http://" {
                html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
            } else {
                0
            });
        assert_eq!(hits, 0, "report contains {banned}");
    }
    assert!(html.contains("@media print") && html.contains("size: A4"));
}

#[test]
fn a_section_that_does_not_apply_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let out = dir.path().join("out");
    write_hand_fixture(&input, [Variant::default(); 3]);
    // The column is there, but nobody is on a repayment plan today.
    let mut csv = today_csv();
    for r in 0..csv.rows.len() {
        set(&mut csv, "plan_status", r, "none");
    }
    write_today(&input, "part-00000.parquet", &csv, "2026-11-29");
    let o = run_arrears(&input, &out);
    assert!(o.status.success(), "{}", stderr_of(&o));
    let html = report_of(&out, "2026-11-29");
    assert!(html.contains("No loans on a repayment plan in this book."));
    // No contacts in the hand book's window: one line, no tables of zeros.
    assert!(html.contains("No collection contacts in this run"));
    assert!(!html.contains("id=\"promises\""));
    // The hand book has no collateral or legal-stage column: those say so.
    assert!(
        html.contains("collateral_value"),
        "the secured book names its missing column"
    );
    // With plans the table is there instead (the unchanged fixture).
    let out2 = dir.path().join("out2");
    let input2 = dir.path().join("in2");
    write_hand_fixture(&input2, [Variant::default(); 3]);
    assert!(run_arrears(&input2, &out2).status.success());
    let html = report_of(&out2, "2026-11-29");
    assert!(!html.contains("No loans on a repayment plan in this book."));
}

#[test]
fn region_and_product_names_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let out = dir.path().join("out");
    write_hand_fixture(&input, [Variant::default(); 3]);
    let mut csv = today_csv();
    set(&mut csv, "region", 0, "<script>alert(1)</script>");
    set(&mut csv, "product", 1, "\"&'");
    write_today(&input, "part-00000.parquet", &csv, "2026-11-29");
    let o = run_arrears(&input, &out);
    assert!(o.status.success(), "{}", stderr_of(&o));
    let html = report_of(&out, "2026-11-29");
    assert!(!html.contains("<script"), "a region name became markup");
    assert!(!html.contains("\"&'"), "a product name was not escaped");
    // Region table (Tera's escaping) and product bars (the SVG writer's).
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
    assert!(html.contains("<td>&quot;&amp;&#x27;</td>"), "product table");
    assert!(
        html.contains(">&quot;&amp;&#39;</text>"),
        "product bar label"
    );
}

#[test]
fn templates_folder_overrides_and_errors_exit_7() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_hand_fixture(&input, [Variant::default(); 3]);
    let tpl = dir.path().join("tpl");
    std::fs::create_dir_all(&tpl).unwrap();
    let run_with = |out: &str| {
        arrears()
            .args(["run", "--input"])
            .arg(&input)
            .arg("--output")
            .arg(dir.path().join(out))
            .arg("--templates")
            .arg(&tpl)
            .output()
            .unwrap()
    };
    // A lender's own header: one partial replaced, the rest built in.
    let own = arrears::report::TEMPLATES
        .iter()
        .find(|t| t.0 == "headline.html")
        .unwrap()
        .1
        .replace(
            "<section id=\"headline\">",
            "<section id=\"headline\"><p class=\"brand\">ACME Consumer Finance &amp; Co</p>",
        );
    std::fs::write(tpl.join("headline.html"), own).unwrap();
    let ok = run_with("ok");
    assert!(ok.status.success(), "{}", stderr_of(&ok));
    let html = report_of(&dir.path().join("ok"), "2026-11-29");
    assert!(html.contains("ACME Consumer Finance &amp; Co") && html.contains("id=\"ageing\""));

    // A syntax error: exit 7 before any data is read, naming the template.
    std::fs::write(tpl.join("headline.html"), "<p>{% if %}</p>").unwrap();
    let bad = run_with("bad");
    assert_eq!(bad.status.code(), Some(7), "{}", stderr_of(&bad));
    let e = stderr_of(&bad);
    assert!(
        e.contains("headline.html") && e.contains("Failed to parse"),
        "{e}"
    );
    assert!(e.contains(&tpl.display().to_string()), "{e}");
    assert!(!dir.path().join("bad").exists(), "nothing published");

    // A render error: a value the view does not have.
    std::fs::write(tpl.join("headline.html"), "{{ kpis_typo.x }}").unwrap();
    let bad = run_with("bad");
    assert_eq!(bad.status.code(), Some(7), "{}", stderr_of(&bad));
    let e = stderr_of(&bad);
    assert!(
        e.contains("rendering report template 'base.html'") && e.contains("kpis_typo"),
        "{e}"
    );
    assert!(!dir.path().join("bad/report").exists(), "nothing published");

    // A folder that does not exist.
    std::fs::remove_dir_all(&tpl).unwrap();
    let bad = run_with("bad");
    assert_eq!(bad.status.code(), Some(7));
    assert!(
        stderr_of(&bad).contains("report templates folder"),
        "{}",
        stderr_of(&bad)
    );
}

#[test]
fn report_figures_equal_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let out = dir.path().join("out");
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let mut g = arrears::generate::GenConfig::new(input.clone(), 3_000, as_of);
    g.days = 2;
    g.row_group = 1_000;
    arrears::generate::generate(&g).unwrap();
    let o = run_arrears(&input, &out);
    assert!(o.status.success(), "{}", stderr_of(&o));
    let html = report_of(&out, "2026-11-29");

    // Ageing rows: the `ageing` table summed by bucket.
    let ageing = rows(&read_table(&out, "ageing", "2026-11-29"));
    let mut by_bucket: BTreeMap<String, (i128, i128)> = BTreeMap::new();
    for r in &ageing {
        let e = by_bucket.entry(r[4].clone()).or_default();
        e.0 += r[5].parse::<i128>().unwrap();
        e.1 += arrears::money::parse_plain(&r[6]).unwrap();
    }
    assert!(by_bucket.len() >= 5);
    for (bucket, (loans, balance)) in &by_bucket {
        let row = format!(
            "<tr><td>{bucket}</td><td class=\"n\">{}</td>",
            format::int(*loans)
        );
        assert!(html.contains(&row), "ageing row {row}");
        assert!(html.contains(&format!("<td class=\"n\">{}</td>", format::money(*balance))));
    }

    // Headline ratios: the `rates` table's current values, as printed.
    let rates = rows(&read_table(&out, "rates", "2026-11-29"));
    let value = |period: &str, metric: &str, state: &str, basis: &str| -> f64 {
        let r = rates
            .iter()
            .find(|r| r[1] == period && r[3] == metric && r[4] == state && r[5] == basis)
            .unwrap_or_else(|| panic!("{period} {metric} {state} {basis}"));
        r[6].parse().unwrap()
    };
    for (metric, state) in [("dpd30_plus", "active"), ("npl", "book")] {
        let v = format::pct(Some(value("current", metric, state, "balance")));
        assert!(
            html.contains(&format!("<div class=\"v\">{v}</div>")),
            "{metric} {v}"
        );
    }
    let entry = format::pct(Some(value("prev", "entry", "M0", "count")));
    let cure = format::pct(Some(value("prev", "cure", "M1+", "count")));
    assert!(
        html.contains(&format!("<div class=\"v\">{entry}</div>")),
        "entry {entry}"
    );
    assert!(
        html.contains(&format!("<div class=\"v\">{cure}</div>")),
        "cure {cure}"
    );
}
