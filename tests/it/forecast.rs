//! The forecast table and its backtest end to end (metrics.md v2,
//! "Forecast"): the backtest reads what the run one month earlier
//! published and is "not available" without it; reruns give the same bytes.

use std::collections::HashMap;
use std::path::Path;

use arrears::generate::{generate, GenConfig};
use arrears::pipeline::{run, RunConfig};
use arrears::policy::Policy;
use chrono::NaiveDate;

use crate::common::*;

fn run_date(input: &Path, out: &Path, d: NaiveDate) {
    run(&RunConfig {
        input: input.to_path_buf(),
        output: out.to_path_buf(),
        as_of: Some(d),
        threads: None,
        memory_limit: None,
        policy: Policy::default(),
        report: Default::default(),
    })
    .unwrap();
}

/// (basis, horizon, state, measure) -> value of one date's forecast table.
fn forecast(out: &Path, d: &str) -> HashMap<(String, String, String, String), String> {
    let b = read_table(out, "forecast", d);
    let names = column_names(&b);
    let col = |n: &str| names.iter().position(|x| x == n).unwrap();
    rows(&b)
        .into_iter()
        .filter(|r| r[col("method")] == "cohort_1m")
        .map(|r| {
            (
                (
                    r[col("basis")].clone(),
                    r[col("horizon_months")].clone(),
                    r[col("state")].clone(),
                    r[col("measure")].clone(),
                ),
                r[col("value")].clone(),
            )
        })
        .collect()
}

#[test]
fn the_backtest_reads_last_months_forecast_and_is_not_available_without_it() {
    let t = tempfile::tempdir().unwrap();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let before = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
    let mut g = GenConfig::new(t.path().join("in"), 4_000, as_of);
    g.months = 2; // 2026-10-31 and 2026-09-30: the earlier run has its own `1m`
    g.row_group = 1_000;
    generate(&g).unwrap();
    let input = t.path().join("in");

    // Alone: a forecast, no backtest, and the report says so.
    let alone = t.path().join("alone");
    run_date(&input, &alone, as_of);
    let f = forecast(&alone, "2026-11-30");
    assert!(f.keys().any(|k| k.0 == "balance" && k.3 == "expected"));
    assert!(
        f.keys().all(|k| !k.3.starts_with("backtest")),
        "a backtest without an earlier run"
    );
    let report =
        std::fs::read_to_string(alone.join("report/as_of_date=2026-11-30/report.html")).unwrap();
    assert!(report.contains("Backtest not available"));

    // After the run of the `1m` date: its one-month forecast against today.
    let both = t.path().join("both");
    run_date(&input, &both, before);
    run_date(&input, &both, as_of);
    let earlier = forecast(&both, "2026-10-31");
    let now = forecast(&both, "2026-11-30");
    let ageing = rows(&read_table(&both, "ageing", "2026-11-30"));
    let mut checked = 0;
    for ((basis, h, state, measure), v) in &now {
        match measure.as_str() {
            "backtest_forecast" => {
                assert_eq!(h, "1");
                let key = (
                    basis.clone(),
                    "1".to_string(),
                    state.clone(),
                    "expected".to_string(),
                );
                assert_eq!(Some(v), earlier.get(&key), "{basis} {state}");
                checked += 1;
            }
            "backtest_actual" if basis == "count" => {
                // Today's loans in the bucket (ageing: bucket is column 4, loans 5).
                let n: u64 = ageing
                    .iter()
                    .filter(|r| &r[4] == state)
                    .map(|r| r[5].parse::<u64>().unwrap())
                    .sum();
                assert_eq!(v.parse::<f64>().unwrap(), n as f64, "{state}");
                checked += 1;
            }
            _ => {}
        }
    }
    assert!(checked >= 16, "only {checked} backtest rows");
    assert!(now.keys().any(|k| k.3 == "backtest_mape"));
    let report =
        std::fs::read_to_string(both.join("report/as_of_date=2026-11-30/report.html")).unwrap();
    assert!(report.contains("Backtest: what the run of 31 Oct 2026 forecast for today"));

    // A rerun publishes the same bytes.
    let file = both.join("forecast/as_of_date=2026-11-30/part-0.parquet");
    let first = std::fs::read(&file).unwrap();
    run_date(&input, &both, as_of);
    assert!(
        std::fs::read(&file).unwrap() == first,
        "a rerun changed the forecast"
    );
}
