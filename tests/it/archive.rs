//! The archive page `DIR/report/index.html`: every published date, newest
//! first, with the headline figures its manifest records and a link to a
//! report that exists; rewritten by each run, in the run's language.

use std::path::Path;

use arrears::pipeline::{run, RunConfig};
use arrears::policy::Policy;
use arrears::report::locale::Locale;
use chrono::NaiveDate;

use crate::common::*;

fn run_date(input: &Path, out: &Path, d: &str, locale: Locale) {
    run(&RunConfig {
        input: input.to_path_buf(),
        output: out.to_path_buf(),
        as_of: Some(NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()),
        threads: Some(2),
        memory_limit: None,
        policy: Policy::default(),
        report: arrears::report::Options {
            locale,
            templates: None,
        },
    })
    .unwrap();
}

/// The `href`s of the page, in order.
fn links(html: &str) -> Vec<String> {
    html.match_indices("href=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

#[test]
fn the_archive_lists_every_published_date_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_hand_fixture(&input, [Variant::default(); 3]);
    let out = dir.path().join("out");
    for d in HAND_DATES {
        run_date(&input, &out, d, Locale::En);
    }
    let page = std::fs::read_to_string(out.join("report/index.html")).unwrap();
    let mut want: Vec<String> = HAND_DATES
        .iter()
        .map(|d| format!("as_of_date={d}/report.html"))
        .collect();
    want.reverse();
    assert_eq!(links(&page), want, "newest first");
    for l in &want {
        assert!(out.join("report").join(l).is_file(), "{l} does not exist");
    }
    // The figures are the manifests'.
    for d in HAND_DATES {
        let m = manifest_of(&out, d);
        let loans = m["figures"]["loans"].as_u64().unwrap();
        let row = &page[page.find(&format!("as_of_date={d}/")).unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains(&format!(">{loans}<")), "{d}: {row}");
        let dpd30 = m["figures"]["dpd30_plus_balance"].as_f64().unwrap();
        assert!(
            row.contains(&format!("{:.2}%", dpd30 * 100.0)),
            "{d}: {row}"
        );
    }
    assert!(!out.join("report/.index.html.tmp").exists());

    // A rerun of a date keeps one line per date; the page follows the
    // run's language.
    run_date(&input, &out, HAND_DATES[1], Locale::ZhCn);
    let page = std::fs::read_to_string(out.join("report/index.html")).unwrap();
    assert_eq!(links(&page).len(), 3);
    assert!(page.contains("催收管理报告存档") && page.contains("lang=\"zh-CN\""));

    // A run that fails publishes nothing and leaves the page as it was.
    let before = std::fs::read(out.join("report/index.html")).unwrap();
    let o = arrears()
        .args(["run", "--input"])
        .arg(dir.path().join("no-such-input"))
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0));
    assert_eq!(
        std::fs::read(out.join("report/index.html")).unwrap(),
        before
    );
}
