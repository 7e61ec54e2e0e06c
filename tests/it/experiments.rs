//! Champion / challenger tests end to end (metrics.md v2): a loan keeps its
//! arm across nights, thread counts, partitions and file splits; the
//! challenger's rules change only challenger loans' tiers; the
//! `experiments` table counts what became of the loans each arm held a
//! month ago, recounted here from the published worklists and the inputs.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use arrears::generate::{generate, GenConfig};
use arrears::metrics::experiments::{arm, Arm};
use arrears::pipeline::{run, RunConfig};
use arrears::policy::Policy;
use chrono::NaiveDate;

use crate::common::*;

/// The built-in policy with its example experiment widened to every grade:
/// 20% of the M1 loans (dpd 1-30) called early (`T2_phone`), where the
/// main rules text grades A-C at dpd 1-7 (`T1_reminder`).
fn experiment_policy() -> Policy {
    let example = arrears::policy::file::example_experiment().replace(", grade = [\"C\"]", "");
    let text = format!("{}\n{example}\n", arrears::policy::file::DEFAULT);
    arrears::policy::file::parse(&text, "test").unwrap()
}

/// [`experiment_policy`] over every delinquent loan: the challenger sends
/// M2 and worse to the field team.
fn wide_policy() -> Policy {
    let example = arrears::policy::file::example_experiment()
        .replace(
            "scope = { dpd_min = 1, dpd_max = 30, grade = [\"C\"] }",
            "scope = { dpd_min = 1 }",
        )
        .replace(", grade = [\"C\"]", "")
        .replace(
            "tier = \"T0_current\"\nreason = \"outside_scope\"",
            "tier = \"T3_field\"\nreason = \"challenger_field\"",
        );
    assert!(example.contains("scope = { dpd_min = 1 }") && example.contains("challenger_field"));
    let text = format!("{}\n{example}\n", arrears::policy::file::DEFAULT);
    arrears::policy::file::parse(&text, "test").unwrap()
}

const NAME: &str = "m1_grade_c_call_early";
const SALT: &str = "2026-12-m1c";

fn run_date(input: &Path, out: &Path, d: NaiveDate, policy: &Policy, threads: usize, limit: u64) {
    run(&RunConfig {
        input: input.to_path_buf(),
        output: out.to_path_buf(),
        as_of: Some(d),
        threads: Some(threads),
        memory_limit: Some(limit),
        policy: policy.clone(),
        report: Default::default(),
    })
    .unwrap();
}

/// A worklist column by name, as display strings.
fn column(b: &arrow::record_batch::RecordBatch, name: &str) -> Vec<String> {
    let k = b.schema().index_of(name).unwrap();
    rows(b).into_iter().map(|r| r[k].clone()).collect()
}

/// loan_id -> (bucket, tier, tier_reason, experiment, arm) of a published
/// worklist (every file of the date).
fn worklist(out: &Path, d: &str) -> BTreeMap<String, [String; 5]> {
    let dir = out.join(format!("worklist/as_of_date={d}"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut all = BTreeMap::new();
    for f in files {
        let b = read_parquet(&f);
        let cols: Vec<Vec<String>> = [
            "loan_id",
            "bucket",
            "tier",
            "tier_reason",
            "experiment",
            "arm",
        ]
        .iter()
        .map(|c| column(&b, c))
        .collect();
        #[allow(clippy::needless_range_loop)]
        for r in 0..b.num_rows() {
            all.insert(
                cols[0][r].clone(),
                std::array::from_fn(|k| cols[k + 1][r].clone()),
            );
        }
    }
    all
}

#[test]
fn challenger_rules_change_only_challenger_tiers() {
    let t = tempfile::tempdir().unwrap();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let mut g = GenConfig::new(t.path().join("in"), 8_000, as_of);
    g.row_group = 1_000;
    generate(&g).unwrap();
    let input = t.path().join("in");
    let (plain, tested) = (t.path().join("plain"), t.path().join("tested"));
    run_date(&input, &plain, as_of, &Policy::default(), 2, 1 << 40);
    run_date(&input, &tested, as_of, &experiment_policy(), 2, 1 << 40);
    let (before, after) = (
        worklist(&plain, "2026-11-29"),
        worklist(&tested, "2026-11-29"),
    );
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    let (mut champions, mut challengers, mut moved) = (0, 0, 0);
    for (id, a) in &after {
        let b = &before[id];
        assert_eq!(b[3], "null", "no arms without an experiment");
        // In scope: the M1 bucket (dpd 1-30), every grade.
        if a[0] != "M1" {
            assert_eq!((a[3].as_str(), a[4].as_str()), ("null", "null"), "{id}");
            assert_eq!(a[..3], b[..3], "{id} outside the scope");
            continue;
        }
        assert_eq!(a[3], NAME);
        let want = arm(SALT, id.as_bytes(), 2_000);
        assert_eq!(a[4], want.label(), "{id}");
        match want {
            Arm::Champion => {
                champions += 1;
                assert_eq!(
                    a[..3],
                    b[..3],
                    "{id}: a champion keeps the main rules' tier"
                );
            }
            Arm::Challenger => {
                challengers += 1;
                assert_eq!(
                    (a[1].as_str(), a[2].as_str()),
                    ("T2_phone", "challenger_call_early"),
                    "{id}"
                );
                if b[1] != "T2_phone" {
                    moved += 1;
                }
            }
        }
    }
    assert!(
        champions > 50 && challengers > 10,
        "{champions} {challengers}"
    );
    assert!(moved > 0, "the challenger's rules moved nobody");
    let share = challengers as f64 / (champions + challengers) as f64;
    assert!((share - 0.2).abs() < 0.06, "challenger share {share}");
    // The tier summary and transitions split by arm add up to the loans.
    let m = manifest_of(&tested, "2026-11-29");
    assert_eq!(m["experiments"]["running"][0], NAME);
    let report =
        std::fs::read_to_string(tested.join("report/as_of_date=2026-11-29/report.html")).unwrap();
    assert!(report.contains("<section id=\"experiments\">"));
    assert!(report.contains("challenger_call_early (m1_grade_c_call_early: challenger)"));
}

#[test]
fn a_loan_keeps_its_arm_across_nights_threads_partitions_and_file_splits() {
    let t = tempfile::tempdir().unwrap();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let book = |name: &str, files: usize| {
        let mut g = GenConfig::new(t.path().join(name), 6_000, as_of);
        g.row_group = 250;
        g.days = 2;
        g.files = files;
        generate(&g).unwrap();
        (t.path().join(name), g.snapshot_dates())
    };
    let (one, dates) = book("one_file", 1);
    let (three, _) = book("three_files", 3);
    let policy = experiment_policy();
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    for d in &dates {
        // One thread, the book whole; two threads, one row group per partition.
        run_date(&one, &a, *d, &policy, 1, 1 << 40);
        run_date(&three, &b, *d, &policy, 2, 1);
    }
    assert!(
        manifest_of(&b, &dates[2].to_string())["memory"]["partitions"]
            .as_u64()
            .unwrap()
            > 10
    );
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut kept = 0;
    for d in &dates {
        let d = d.to_string();
        let (x, y) = (worklist(&a, &d), worklist(&b, &d));
        assert_eq!(x, y, "{d}: arms or tiers differ between the two runs");
        for (id, r) in x {
            if r[4] == "null" {
                continue;
            }
            if let Some(before) = seen.insert(id.clone(), r[4].clone()) {
                assert_eq!(before, r[4], "{id} changed arm on {d}");
                kept += 1;
            }
        }
    }
    assert!(kept > 50, "only {kept} loans in scope on two nights");
}

#[test]
fn the_experiments_table_follows_last_months_arms() {
    let t = tempfile::tempdir().unwrap();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let before = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
    let mut g = GenConfig::new(t.path().join("in"), 20_000, as_of);
    g.months = 2;
    g.row_group = 2_000;
    generate(&g).unwrap();
    let input = t.path().join("in");
    let policy = wide_policy();

    // Without the run of the `1m` date: not evaluated, and said so.
    let alone = t.path().join("alone");
    run_date(&input, &alone, as_of, &policy, 2, 1 << 40);
    assert_eq!(
        read_table(&alone, "experiments", "2026-11-30").num_rows(),
        0
    );
    let m = manifest_of(&alone, "2026-11-30");
    assert_eq!(m["experiments"]["not_evaluated"], "no_1m_worklist");
    let report =
        std::fs::read_to_string(alone.join("report/as_of_date=2026-11-30/report.html")).unwrap();
    assert!(report.contains("Not evaluated: the run of the 1m date published no usable worklist."));

    // After the run of the `1m` date.
    let out = t.path().join("out");
    run_date(&input, &out, before, &policy, 2, 1 << 40);
    run_date(&input, &out, as_of, &policy, 2, 1 << 40);
    let m = manifest_of(&out, "2026-11-30");
    assert_eq!(m["experiments"]["evaluated"][0], NAME);
    assert!(m["experiments"]["not_evaluated"].is_null());

    // Recount: the arms of a month ago from that run's worklist, today's
    // buckets from today's worklist, paid-off and gone loans from the input.
    let then = worklist(&out, "2026-10-31");
    let now = worklist(&out, "2026-11-30");
    let snap = read_parquet(
        &std::fs::read_dir(input.join("loans/as_of_date=2026-11-30"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .next()
            .unwrap(),
    );
    let today_ids: std::collections::HashSet<String> =
        column(&snap, "loan_id").into_iter().collect();
    let rank = |b: &str| {
        ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M6+", "WO"]
            .iter()
            .position(|x| *x == b)
    };
    // (arm, from) -> (loans, cured, rolled)
    let mut want: BTreeMap<(String, String), (u64, u64, u64)> = BTreeMap::new();
    for (id, r) in &then {
        if r[3] == "null" || rank(&r[0]).is_none_or(|k| k == 0 || k == 8) {
            continue;
        }
        let to = match now.get(id) {
            Some(x) => x[0].clone(),
            None if today_ids.contains(id) => "PAID".into(),
            None => "EXIT".into(),
        };
        let e = want.entry((r[4].clone(), r[0].clone())).or_default();
        e.0 += 1;
        if to == "M0" || to == "PAID" {
            e.1 += 1;
        } else if rank(&to).is_some_and(|k| k > rank(&r[0]).unwrap()) {
            e.2 += 1;
        }
    }
    assert!(want.len() >= 8, "{want:?}");
    let b = read_table(&out, "experiments", "2026-11-30");
    let cols: Vec<Vec<String>> = [
        "experiment",
        "arm",
        "from_bucket",
        "loans",
        "cured",
        "rolled",
        "cure_rate",
        "cure_rate_ci_low",
        "cure_rate_ci_high",
        "cure_p_value",
    ]
    .iter()
    .map(|c| column(&b, c))
    .collect();
    let mut got: BTreeMap<(String, String), (u64, u64, u64)> = BTreeMap::new();
    let mut all = [(0u64, 0u64); 2];
    #[allow(clippy::needless_range_loop)]
    for r in 0..b.num_rows() {
        assert_eq!(cols[0][r], NAME);
        let (arm, from) = (&cols[1][r], &cols[2][r]);
        if arm == "difference" {
            // Challenger minus champion, inside its interval.
            if cols[6][r] != "null" {
                let d: f64 = cols[6][r].parse().unwrap();
                let (lo, hi): (f64, f64) =
                    (cols[7][r].parse().unwrap(), cols[8][r].parse().unwrap());
                assert!(lo <= d && d <= hi, "{from}: {lo} {d} {hi}");
            }
            continue;
        }
        let n: u64 = cols[3][r].parse().unwrap();
        let (c, rl): (u64, u64) = (cols[4][r].parse().unwrap(), cols[5][r].parse().unwrap());
        if from == "all" {
            all[(arm == "challenger") as usize] = (n, c);
            continue;
        }
        if n > 0 {
            got.insert((arm.clone(), from.clone()), (n, c, rl));
        }
    }
    assert_eq!(got, want);
    for (k, arm) in ["champion", "challenger"].iter().enumerate() {
        let n: u64 = want
            .iter()
            .filter(|(key, _)| key.0 == *arm)
            .map(|(_, v)| v.0)
            .sum();
        assert_eq!(all[k].0, n, "{arm}: the all row");
    }
    // The tier transitions per arm: the cells between two tiers recounted
    // from both worklists (the arm today, else a month ago).
    let mut want: BTreeMap<[String; 3], u64> = BTreeMap::new();
    for (id, r) in &now {
        let Some(t) = then.get(id) else { continue };
        let arm = if r[4] != "null" { &r[4] } else { &t[4] };
        if arm != "null" {
            *want
                .entry([arm.clone(), t[1].clone(), r[1].clone()])
                .or_default() += 1;
        }
    }
    let got: BTreeMap<[String; 3], u64> = rows(&read_table(&out, "transitions", "2026-11-30"))
        .into_iter()
        .filter(|r| r[1] == "1m" && r[2] == "tier" && r[8] == NAME)
        .filter(|r| r[4].starts_with('T') && r[5].starts_with('T') && r[6] != "0")
        .map(|r| {
            (
                [r[9].clone(), r[4].clone(), r[5].clone()],
                r[6].parse().unwrap(),
            )
        })
        .collect();
    assert!(got.len() >= 4, "{got:?}");
    assert_eq!(got, want, "tier transitions per arm");

    let report =
        std::fs::read_to_string(out.join("report/as_of_date=2026-11-30/report.html")).unwrap();
    assert!(
        report.contains("No difference detectable yet") || report.contains("cures more, 95% sure"),
        "no verdict"
    );
}
