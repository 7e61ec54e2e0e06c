//! The archive page `DIR/report/index.html` (issue 17): every published
//! date, newest first, with its headline figures and a link to its report,
//! so a manager opens any night from one bookmark. Rewritten by every run
//! after its publication, from the dates' manifests (the commit record of a
//! date: a date without one is not published), and replaced atomically: a
//! rename of a synced file on a local output, one PUT on an object store.
//! A reader never sees a half-written page; a run killed before the
//! rewrite leaves the previous page, which the next run brings up to date.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::NaiveDate;

use crate::object;
use crate::output::published::Published;
use crate::report::locale::Locale;
use crate::report::{format, svg::esc};

/// One published date as the archive lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub date: NaiveDate,
    pub loans: Option<u64>,
    /// Exact decimal strings, as the manifest has them.
    pub balance: Option<String>,
    pub cash: Option<String>,
    pub dpd30: Option<f64>,
    pub npl: Option<f64>,
    /// The report, relative to the archive page.
    pub href: String,
}

/// Reads what the archive shows of `date` from its manifest.
fn entry(root: &Path, date: NaiveDate, manifest: &[u8]) -> Result<Entry> {
    let v: serde_json::Value = serde_json::from_slice(manifest).context("not valid JSON")?;
    let f = &v["figures"];
    let text = |k: &str| f[k].as_str().map(String::from);
    // The report's path relative to `ROOT/report/`: `as_of_date=D/...`
    // locally, `../_runs/...` on an object store.
    let report = v["report"].as_str().map(PathBuf::from).unwrap_or_else(|| {
        root.join("report")
            .join(format!("as_of_date={date}"))
            .join("report.html")
    });
    let href = match report.strip_prefix(root.join("report")) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => match report.strip_prefix(root) {
            Ok(rel) => format!("../{}", rel.display()),
            Err(_) => report.display().to_string(),
        },
    };
    Ok(Entry {
        date,
        loans: f["loans"].as_u64(),
        balance: text("principal_balance"),
        cash: text("cash_collected"),
        dpd30: f["dpd30_plus_balance"].as_f64(),
        npl: f["npl_balance"].as_f64(),
        href,
    })
}

/// Every published date of the output, newest first, and the dates whose
/// manifest could not be read (listed on the page, not fatal).
pub fn entries(root: &Path) -> (Vec<Entry>, Vec<String>) {
    let published = Published::new(root);
    let (mut out, mut problems) = (Vec::new(), Vec::new());
    for date in published.dates("manifest").into_iter().rev() {
        match published
            .manifest(date)
            .and_then(|m| m.map(|m| entry(root, date, &m)).transpose())
        {
            Ok(Some(e)) => out.push(e),
            Ok(None) => {}
            Err(e) => problems.push(format!("{date}: {e:#}")),
        }
    }
    (out, problems)
}

/// The page: self-contained HTML, no script.
pub fn page(entries: &[Entry], problems: &[String], loc: Locale) -> String {
    let mut rows = String::new();
    for e in entries {
        let money = |s: &Option<String>| {
            s.as_deref()
                .and_then(crate::money::parse_plain)
                .map(format::money)
                .unwrap_or_else(|| "\u{2013}".into())
        };
        rows.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            esc(&e.href),
            esc(&loc.date(e.date)),
            e.loans.map(|n| format::int(n as i128)).unwrap_or_else(|| "\u{2013}".into()),
            money(&e.balance),
            // A dash for a manifest written before the ratios were recorded.
            format::pct(e.dpd30),
            format::pct(e.npl),
            money(&e.cash),
        ));
    }
    let skipped = if problems.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"small\">{}: {}</p>",
            esc(loc.t("archive_skipped")),
            esc(&problems.join("; "))
        )
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ font-family: -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: #1d2430; margin: 0 auto; max-width: 980px; padding: 16px 20px 40px; font-size: 14px; }}
  h1 {{ font-size: 22px; border-bottom: 2px solid #1d2430; padding-bottom: 6px; }}
  table {{ border-collapse: collapse; font-size: 13px; }}
  th, td {{ padding: 4px 10px; border-bottom: 1px solid #eceff3; }}
  th {{ text-align: left; background: #f5f7fa; }}
  td.n, th.n {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
  .small {{ color: #5b6677; font-size: 12px; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p class="small">{note}</p>
<table>
<tr><th>{date}</th><th class="n">{loans}</th><th class="n">{balance}</th><th class="n">{dpd30}</th><th class="n">{npl}</th><th class="n">{cash}</th></tr>
{rows}</table>
{skipped}
</body>
</html>
"#,
        lang = loc.tag(),
        title = esc(loc.t("archive_title")),
        note = esc(&loc
            .t("archive_note")
            .replace("{n}", &format::int(entries.len() as i128))),
        date = esc(loc.t("date")),
        loans = esc(loc.t("kpi_loans")),
        balance = esc(loc.t("kpi_balance")),
        dpd30 = esc(loc.t("dpd30_balance")),
        npl = esc(loc.t("kpi_npl")),
        cash = esc(loc.t("kpi_cash")),
    )
}

/// Rewrites `ROOT/report/index.html` from every published date.
pub fn rewrite(root: &Path, loc: Locale) -> Result<usize> {
    let (entries, problems) = entries(root);
    let html = page(&entries, &problems, loc);
    let target = root.join("report").join("index.html");
    if object::is_remote(root) {
        // One PUT replaces the object whole.
        // Staged in a private folder of its own: a predictable name in the
        // shared temporary folder could be a planted link.
        let dir = crate::base::owned::private_temp_dir("arrears-index")?;
        let tmp = dir.join("index.html");
        let sent = crate::output::publish::write_synced(&tmp, html.as_bytes())
            .and_then(|()| object::upload(&tmp, &target));
        let _ = crate::base::owned::remove(&dir);
        sent?;
    } else {
        // No link followed: the report folder and the temporary file are
        // the run's own (src/base/owned.rs); the rename replaces whatever entry
        // `index.html` is, never what a link there points at.
        let dir = root.join("report");
        crate::base::owned::dir(&dir)?;
        let tmp = dir.join(".index.html.tmp");
        crate::output::publish::write_synced(&tmp, html.as_bytes())?;
        std::fs::rename(&tmp, &target)
            .with_context(|| format!("cannot replace '{}'", target.display()))?;
    }
    Ok(entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_on_both_layouts() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let local = br#"{"figures": {"loans": 3, "principal_balance": "10.50", "cash_collected": "0.00",
            "dpd30_plus_balance": 0.25}, "report": "/out/report/as_of_date=2026-11-29/report.html"}"#;
        let e = entry(Path::new("/out"), d, local).unwrap();
        assert_eq!(e.href, "as_of_date=2026-11-29/report.html");
        assert_eq!(e.loans, Some(3));
        assert_eq!(e.npl, None, "an earlier manifest without the ratio");
        let remote = br#"{"figures": {}, "report": "s3://b/p/_runs/as_of_date=2026-11-29/r1/report/report.html"}"#;
        let e = entry(Path::new("s3://b/p"), d, remote).unwrap();
        assert_eq!(
            e.href,
            "../_runs/as_of_date=2026-11-29/r1/report/report.html"
        );
        let html = page(&[e], &[], Locale::En);
        assert!(html.contains("href=\"../_runs/as_of_date=2026-11-29/r1/report/report.html\""));
        assert!(html.contains("29 Nov 2026"));
    }
}
