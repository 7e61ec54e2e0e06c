//! The demo report in a real browser: Debian's Chromium, headless. The page
//! must load with no console errors, its screenshot must not be blank, and
//! it must print to A4. The screenshot and the PDF are kept under
//! `target/browser/` as CI artifacts.
//!
//! `.ci/run` installs Chromium and sets `ARREARS_REQUIRE_BROWSER=1`, so in
//! CI a missing browser fails the test. Elsewhere, without Chromium, the
//! test says it was skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
}

/// Runs headless Chromium on a file with the flags these machines need and
/// returns (stdout, stderr).
fn headless(browser: &Path, page: &Path, args: &[String]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Console messages and failed loads that Chromium logged for the page.
fn console_errors(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| {
            l.contains("CONSOLE")
                || l.contains("Uncaught")
                || l.contains("Failed to load resource")
                || l.contains("ERR_FILE_NOT_FOUND")
        })
        .map(str::to_string)
        .collect()
}

/// Share of pixels that are not (near) white, and the number of distinct colours.
fn ink(png_path: &Path) -> (f64, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let px = &buf[..info.buffer_size()];
    let mut colours = std::collections::HashSet::new();
    let mut inked = 0usize;
    let n = px.len() / channels;
    for p in px.chunks(channels) {
        if p[..3].iter().any(|&c| c < 235) {
            inked += 1;
        }
        colours.insert((p[0] >> 3, p[1] >> 3, p[2] >> 3));
    }
    (inked as f64 / n as f64, colours.len())
}

#[test]
fn demo_report_renders_in_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("ARREARS_REQUIRE_BROWSER").is_none(),
            "ARREARS_REQUIRE_BROWSER is set but no chromium was found"
        );
        eprintln!("SKIPPED: no chromium on PATH (CI installs it and requires this test)");
        return;
    };
    let artifacts = repo().join("target/browser");
    std::fs::create_dir_all(&artifacts).unwrap();

    // The detector must see a broken page, or its silence means nothing.
    let bad = artifacts.join("broken.html");
    std::fs::write(
        &bad,
        "<!DOCTYPE html><html><body><script>console.error('boom'); undefinedFn();</script><img src=\"missing.png\"></body></html>",
    )
    .unwrap();
    let (_, err) = headless(&browser, &bad, &["--dump-dom".into()]);
    assert!(
        !console_errors(&err).is_empty(),
        "the console check sees nothing: {err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let demo = arrears()
        .arg("demo")
        .arg("--output")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(demo.status.success(), "{}", stderr_of(&demo));
    let page = dir
        .path()
        .join("output/report/as_of_date=2026-11-29/report.html");

    // Loaded: the DOM after load has the sections and the figures.
    let (dom, err) = headless(&browser, &page, &["--dump-dom".into()]);
    assert!(
        dom.contains("id=\"headline\"") && dom.contains("id=\"run\""),
        "{}",
        &dom[..dom.len().min(500)]
    );
    assert!(dom.contains("Collections report") && dom.contains("<svg"));
    assert_eq!(console_errors(&err), Vec::<String>::new(), "console errors");

    // The first screen, as a manager opens it.
    let shot = artifacts.join("demo-report.png");
    let _ = std::fs::remove_file(&shot);
    let (_, err) = headless(
        &browser,
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,900".into(),
        ],
    );
    assert_eq!(console_errors(&err), Vec::<String>::new(), "console errors");
    let (share, colours) = ink(&shot);
    assert!(share > 0.03, "screenshot is nearly blank: {share:.4} inked");
    assert!(colours > 20, "screenshot has {colours} colours");

    // Printing: A4 pages (595 x 842 points).
    let pdf = artifacts.join("demo-report.pdf");
    let _ = std::fs::remove_file(&pdf);
    headless(
        &browser,
        &page,
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".into(),
        ],
    );
    let bytes = std::fs::read(&pdf).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    // Every page's MediaBox is A4 within a point; Chromium writes e.g.
    // `/MediaBox [0 0 594.95996 841.91998]`.
    let boxes: Vec<(f64, f64)> = text
        .match_indices("/MediaBox [")
        .map(|(i, m)| {
            let rest = &text[i + m.len()..];
            let nums: Vec<f64> = rest[..rest.find(']').unwrap()]
                .split_whitespace()
                .map(|x| x.parse().unwrap())
                .collect();
            (nums[2] - nums[0], nums[3] - nums[1])
        })
        .collect();
    let pages = boxes.len();
    assert!((2..=30).contains(&pages), "{pages} pages");
    for (w, h) in &boxes {
        assert!(
            (w - 595.3).abs() < 1.0 && (h - 841.9).abs() < 1.0,
            "page {w} x {h} is not A4"
        );
    }
    eprintln!("printed {pages} A4 pages, {} bytes", bytes.len());
}
