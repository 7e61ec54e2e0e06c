//! Collection tiers and early warning on the strategy fixture
//! (`fixtures/strategy/`, every row explained in fixtures/README.md): one
//! loan per tier rule and per early-warning signal, two loans where two
//! rules match (the first wins), promises kept and broken, a refusal just
//! outside the 7-day window, routes with CLTV and expected shortfall.

use std::path::Path;

use crate::common::*;

const DATES: [&str; 3] = ["2026-10-29", "2026-11-28", "2026-11-29"];

/// Writes the strategy fixture under `root`.
pub fn write_strategy_fixture(root: &Path) {
    let dir = repo().join("fixtures/strategy");
    for d in DATES {
        let csv = read_csv(&dir.join(format!("{d}.csv")));
        let b = contract_batch(&csv, d, Variant::default());
        write_partition(root, "loans", d, "part-00000.parquet", &b, 100);
    }
    write_contacts(root, &read_csv(&dir.join("contacts.csv")));
}

/// Writes the fixture under `dir/in`, runs the built-in policy into
/// `dir/out` and returns the output root.
fn run_strategy(dir: &Path) -> std::path::PathBuf {
    let input = dir.join("in");
    write_strategy_fixture(&input);
    let out = dir.join("out");
    let o = run_arrears(&input, &out);
    assert!(o.status.success(), "{}", stderr_of(&o));
    out
}

fn worklist(out: &Path) -> Vec<Vec<String>> {
    let dir = out.join("worklist/as_of_date=2026-11-29");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut all = Vec::new();
    for f in files {
        all.extend(rows(&read_parquet(&f)));
    }
    all
}

#[test]
fn every_rule_and_signal_as_worked_out() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_strategy(dir.path());
    let got = worklist(&out);
    let manifest = manifest_of(&out, "2026-11-29");
    // S99's contact on the run date is an orphan; S17's and S18's promises
    // fall due in the window, S18's is kept.
    let f = &manifest["figures"];
    assert_eq!(
        (
            f["contact_orphans"].as_u64(),
            f["promises_due"].as_u64(),
            f["promises_kept"].as_u64()
        ),
        (Some(1), Some(2), Some(1))
    );
    assert_eq!(manifest["inputs"][3]["role"], "contacts");
    let expected = read_csv(&repo().join("fixtures/strategy/expected.csv"));
    assert_eq!(
        got.len(),
        expected.rows.len(),
        "one row per active or charged-off loan"
    );
    // Columns: as_of_date, loan_id, bucket, class, tier, tier_reason,
    // early_warning, ew_reasons, cltv, route, expected_shortfall, product, region.
    for (g, e) in got.iter().zip(&expected.rows) {
        let e = |k: usize| e.get(k).cloned().flatten().unwrap_or_default();
        let id = &g[1];
        assert_eq!(id, &e(0));
        assert_eq!(
            (g[4].as_str(), g[5].as_str()),
            (e(1).as_str(), e(2).as_str()),
            "{id} tier"
        );
        let reasons = g[7]
            .trim_matches(|c| c == '[' || c == ']')
            .replace(", ", ";");
        assert_eq!(reasons, e(3), "{id} signals");
        assert_eq!(g[6] == "true", !e(3).is_empty(), "{id} flag");
        let null_or = |v: &str| {
            if v == "null" {
                String::new()
            } else {
                v.to_string()
            }
        };
        assert_eq!(null_or(&g[9]), e(4), "{id} route");
        assert_eq!(null_or(&g[10]), e(5), "{id} shortfall");
        assert_eq!(null_or(&g[8]), e(6), "{id} cltv");
    }
}

#[test]
fn a_changed_rule_moves_the_tier() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_strategy_fixture(&input);
    // Field visits from dpd 9: S08 (dpd 10) moves from T2_phone to T3_field.
    // (Lost contact from dpd 8, or that rule could never fire behind it:
    // a policy with a dead rule exits 7.)
    let file = dir.path().join("policy.toml");
    let text = arrears::policy::file::DEFAULT
        .replace(
            "reason = \"dpd_over_60\"\nwhen = { dpd_min = 61 }",
            "reason = \"dpd_over_60\"\nwhen = { dpd_min = 9 }",
        )
        .replace(
            "when = { dpd_min = 31, contactable = false }",
            "when = { dpd_min = 8, contactable = false }",
        );
    assert_ne!(text, arrears::policy::file::DEFAULT);
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("out");
    let o = arrears()
        .args(["run", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out)
        .arg("--policy")
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr_of(&o));
    let s08 = worklist(&out).into_iter().find(|r| r[1] == "S08").unwrap();
    assert_eq!(
        (s08[4].as_str(), s08[5].as_str()),
        ("T3_field", "dpd_over_60")
    );
}

#[test]
fn tier_transitions_follow_the_loans() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_strategy(dir.path());
    let cells: Vec<String> = transition_lines(&out, "2026-11-29")
        .into_iter()
        .filter(|l| l.starts_with("prev|tier|") && !l.ends_with("|0|0.00"))
        .collect();
    // S20 was current yesterday and is paid off today; S01, S23 and S24
    // stay in recovery (the charged-off second liens with no principal left).
    assert!(
        cells.contains(&"prev|tier|2026-11-28|T0_current|PAID|1|3000.00".to_string()),
        "{cells:?}"
    );
    assert!(
        cells.contains(&"prev|tier|2026-11-28|T5_recovery|T5_recovery|3|5000.00".to_string()),
        "{cells:?}"
    );
    // Every loan of both dates is in the matrix once: 24 rows in, 24 out.
    let total: i64 = cells
        .iter()
        .map(|l| l.split('|').nth(5).unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(total, 24);
}

#[test]
fn collateral_table_by_band_and_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_strategy(dir.path());
    // product|band|bucket|loans|balance|senior|collateral|shortfall|exposure
    assert_eq!(
        lines(&read_table(&out, "collateral", "2026-11-29")),
        vec![
            // S05: CLTV 0.1, enforce, nothing short; exposure = principal.
            "second_lien_mortgage|<=60%|M4|1|100000.00|0.00|1000000.00|0.00|100000.00",
            // S23: charged off, principal written down to 0; 150,000 charged
            // off less 30,000 recovered leaves 120,000 against a cushion of
            // 300,000 x 0.7 - 150,000 = 60,000: negotiate, 60,000 short
            // (metrics.md v2; routed on its zero principal it was `enforce`).
            "second_lien_mortgage|<=60%|WO|1|0.00|150000.00|300000.00|60000.00|120000.00",
            // S24: 100,000 less 60,000 = 40,000 left, cushion 700,000 -
            // 650,000 = 50,000: enforce, nothing short.
            "second_lien_mortgage|60-80%|WO|1|0.00|650000.00|1000000.00|0.00|40000.00",
            // S06: CLTV exactly 1.0 is in 80-100%; cushion 40,000, short 60,000.
            "second_lien_mortgage|80-100%|M4|1|100000.00|100000.00|200000.00|60000.00|100000.00",
            // S12: CLTV 1.1, current: no route, no shortfall, nothing routed.
            "second_lien_mortgage|100-120%|M0|1|30000.00|80000.00|100000.00|0.00|0.00",
        ]
    );
}

/// `arrears run --as-of D` on the fixture's input into `out`.
fn run_date(input: &Path, out: &Path, d: &str) {
    let o = arrears()
        .args(["run", "--as-of", d, "--input"])
        .arg(input)
        .arg("--output")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{d}: {}", stderr_of(&o));
}

/// The worklist of a date: loan id -> tier.
fn tiers_of(out: &Path, d: &str) -> std::collections::BTreeMap<String, String> {
    let b = read_parquet(&out.join(format!("worklist/as_of_date={d}/part-00000.parquet")));
    rows(&b)
        .into_iter()
        .map(|r| (r[1].clone(), r[4].clone()))
        .collect()
}

/// The non-empty cells of a period's tier matrix: (from, to) -> loans.
fn tier_cells(out: &Path, period: &str) -> std::collections::BTreeMap<(String, String), i64> {
    rows(&read_table(out, "transitions", "2026-11-29"))
        .into_iter()
        .filter(|r| r[1] == period && r[2] == "tier" && r[6] != "0" && r[8] == "null")
        .map(|r| ((r[4].clone(), r[5].clone()), r[6].parse().unwrap()))
        .collect()
}

#[test]
fn earlier_tiers_come_from_the_earlier_runs_worklist() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_strategy_fixture(&input);
    // Last night's run, then tonight's, on the same output.
    let out = dir.path().join("out");
    run_date(&input, &out, "2026-11-28");
    run_date(&input, &out, "2026-11-29");
    let then = tiers_of(&out, "2026-11-28");
    let now = tiers_of(&out, "2026-11-29");
    // S04 refused to pay on 11-26, inside the 7 days of the 11-28 run: that
    // run put it in T4_legal. Its snapshot alone (dpd 119, no legal stage,
    // no broken plan) says T3_field: the contact is not in it.
    assert_eq!(then["S04"], "T4_legal");

    // The matrix counted here from the two published worklists, loan by
    // loan (S20, paid off today, has no row today: PAID).
    let mut expected = std::collections::BTreeMap::new();
    for (id, from) in &then {
        let to = now.get(id).cloned().unwrap_or_else(|| "PAID".to_string());
        *expected.entry((from.clone(), to)).or_insert(0i64) += 1;
    }
    assert_eq!(tier_cells(&out, "prev"), expected);
    let m = manifest_of(&out, "2026-11-29");
    assert_eq!(m["periods"][0]["tiers_from"], "worklist");
    // No run of the `1m` date (10-29) under this output: from its snapshot.
    assert_eq!(m["periods"][1]["tiers_from"], "snapshot");
    let html =
        std::fs::read_to_string(out.join("report/as_of_date=2026-11-29/report.html")).unwrap();
    assert!(html.contains(
        "Tiers on 28 Nov 2026 as that night&#x27;s run published them in its worklist (exact)."
    ));
    assert!(html.contains("Tiers on 29 Oct 2026 computed from that date&#x27;s snapshot alone (no run of that date under this output)"));

    // Tonight's run alone, on a fresh output, computes last night's tiers
    // from the snapshot: S04 starts in T3_field there.
    let fresh = dir.path().join("fresh");
    run_date(&input, &fresh, "2026-11-29");
    let cells = tier_cells(&fresh, "prev");
    assert_ne!(cells, expected);
    assert_eq!(
        cells
            .get(&("T3_field".into(), "T4_legal".into()))
            .copied()
            .unwrap_or(0),
        expected
            .get(&("T3_field".into(), "T4_legal".into()))
            .copied()
            .unwrap_or(0)
            + 1,
        "S04 moves from T3_field, not T4_legal, when the snapshot alone decides"
    );
    assert_eq!(
        manifest_of(&fresh, "2026-11-29")["periods"][0]["tiers_from"],
        "snapshot"
    );
}

#[test]
fn an_earlier_worklist_that_does_not_match_its_snapshot_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_strategy_fixture(&input);
    let out = dir.path().join("out");
    run_date(&input, &out, "2026-11-28");
    // The 11-28 snapshot is restated after its run published: S08 is gone.
    let mut csv = read_csv(&repo().join("fixtures/strategy/2026-11-28.csv"));
    csv.rows.retain(|r| r[0].as_deref() != Some("S08"));
    let path = input.join("loans/as_of_date=2026-11-28/part-00000.parquet");
    std::fs::remove_file(&path).unwrap();
    let b = contract_batch(&csv, "2026-11-28", Variant::default());
    write_partition(&input, "loans", "2026-11-28", "part-00000.parquet", &b, 100);
    run_date(&input, &out, "2026-11-29");
    let m = manifest_of(&out, "2026-11-29");
    assert_eq!(m["periods"][0]["tiers_from"], "snapshot");
    let html =
        std::fs::read_to_string(out.join("report/as_of_date=2026-11-29/report.html")).unwrap();
    assert!(
        html.contains("the worklist of 2026-11-28 does not match its snapshot: 1 of its loans are not active or charged off in the snapshot"),
        "the report says why"
    );
}
