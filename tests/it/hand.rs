//! The hand-checked fixture (fixtures/README.md): every figure worked out
//! by hand there is asserted here exactly, read back from the published
//! Parquet tables.

use std::path::Path;

use arrears::pipeline::{run, RunConfig};
use arrears::policy::Policy;

use crate::common::*;

fn run_hand(dir: &Path, variants: [Variant; 3], threads: usize) -> std::path::PathBuf {
    let input = dir.join("in");
    let out = dir.join("out");
    write_hand_fixture(&input, variants);
    run(&RunConfig {
        input,
        output: out.clone(),
        as_of: None,
        threads: Some(threads),
        memory_limit: None,
        policy: Policy::default(),
        report: Default::default(),
    })
    .expect("hand fixture runs");
    out
}

/// Three type variants: Decimal(22,4) month-ago, Float64 yesterday with
/// Int64 dpd and tiny row groups, Decimal(20,2) with dictionary product today.
fn mixed_variants() -> [Variant; 3] {
    [
        Variant {
            money_scale: Some(4),
            ..Variant::default()
        },
        Variant {
            money_scale: None,
            dpd_int64: true,
            row_group: 3,
            with_as_of_column: false,
            ..Variant::default()
        },
        Variant {
            dictionary_product: true,
            row_group: 7,
            ..Variant::default()
        },
    ]
}

/// Ageing collapsed to bucket totals: "bucket|loans|balance|past_due".
fn ageing_by_bucket(out: &Path) -> Vec<String> {
    let t = rows(&read_table(out, "ageing", "2026-11-29"));
    let order = [
        "M0", "M1", "M2", "M3", "M4", "M5", "M6", "M6+", "WO", "PAID",
    ];
    let cents = |s: &str| -> i64 { s.replace('.', "").parse().unwrap() };
    order
        .iter()
        .filter_map(|b| {
            let mine: Vec<&Vec<String>> = t.iter().filter(|r| r[4] == *b).collect();
            if mine.is_empty() {
                return None;
            }
            let loans: i64 = mine.iter().map(|r| r[5].parse::<i64>().unwrap()).sum();
            let bal: i64 = mine.iter().map(|r| cents(&r[6])).sum();
            let pd: i64 = mine.iter().map(|r| cents(&r[7])).sum();
            Some(format!(
                "{b}|{loans}|{}.{:02}|{}.{:02}",
                bal / 100,
                bal % 100,
                pd / 100,
                pd % 100
            ))
        })
        .collect()
}

#[test]
fn ageing_matches_hand_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_hand(dir.path(), mixed_variants(), 2);
    assert_eq!(
        ageing_by_bucket(&out),
        vec![
            "M0|7|541500.00|0.00",
            "M1|3|15000.00|700.00",
            "M2|2|10000.00|900.00",
            "M4|1|300000.00|12000.00",
            "M5|1|250000.00|15000.00",
            "M6+|2|500000.00|90000.00",
            "WO|2|13000.00|2600.00",
            "PAID|1|0.00|0.00",
        ]
    );
    // Grain: product x region x grade x bucket, null region and grade kept,
    // sorted by label with null first.
    assert_eq!(
        lines(&read_table(&out, "ageing", "2026-11-29")),
        vec![
            "consumer_installment|Guangdong|null|M0|1|3000.00|0.00",
            "consumer_installment|Guangdong|A|M0|2|6000.00|0.00",
            "consumer_installment|Guangdong|A|PAID|1|0.00|0.00",
            "consumer_installment|Guangdong|B|M1|1|2000.00|150.00",
            "consumer_installment|Zhejiang|A|M0|2|30000.00|0.00",
            "consumer_installment|Zhejiang|C|M0|1|3500.00|0.00",
            "consumer_installment|Zhejiang|C|M2|1|3000.00|400.00",
            "credit_line|Beijing|C|M1|1|6000.00|300.00",
            "credit_line|Beijing|D|M1|1|7000.00|250.00",
            "credit_line|Beijing|D|M2|1|7000.00|500.00",
            "credit_line|Shanghai|E|WO|2|13000.00|2600.00",
            "second_lien_mortgage|null|B|M5|1|250000.00|15000.00",
            "second_lien_mortgage|Beijing|A|M0|1|499000.00|0.00",
            "second_lien_mortgage|Beijing|C|M6+|1|400000.00|60000.00",
            "second_lien_mortgage|Beijing|D|M4|1|300000.00|12000.00",
            "second_lien_mortgage|Shanghai|B|M6+|1|100000.00|30000.00",
        ]
    );
}

#[test]
fn classification_matches_hand_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_hand(dir.path(), mixed_variants(), 1);
    assert_eq!(
        lines(&read_table(&out, "classification", "2026-11-29")),
        vec![
            "consumer_installment|normal|5|37500.00",
            "consumer_installment|special_mention|3|10000.00",
            "consumer_installment|substandard|0|0.00",
            "consumer_installment|doubtful|0|0.00",
            "consumer_installment|loss|0|0.00",
            "credit_line|normal|0|0.00",
            "credit_line|special_mention|3|20000.00",
            "credit_line|substandard|0|0.00",
            "credit_line|doubtful|0|0.00",
            "credit_line|loss|2|13000.00",
            "second_lien_mortgage|normal|1|499000.00",
            "second_lien_mortgage|special_mention|0|0.00",
            "second_lien_mortgage|substandard|2|550000.00",
            "second_lien_mortgage|doubtful|1|400000.00",
            "second_lien_mortgage|loss|1|100000.00",
        ]
    );
}

/// Cells of a period's matrix that hold at least one loan.
fn nonzero_cells(out: &Path, period: &str) -> Vec<String> {
    transition_lines(out, "2026-11-29")
        .into_iter()
        .filter(|l| l.starts_with(&format!("{period}|bucket|")) && !l.ends_with("|0|0.00"))
        .collect()
}

#[test]
fn transitions_match_hand_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_hand(dir.path(), mixed_variants(), 2);
    assert_eq!(
        nonzero_cells(&out, "prev"),
        vec![
            "prev|bucket|2026-11-28|M0|M0|5|518500.00",
            "prev|bucket|2026-11-28|M0|M1|1|2000.00",
            "prev|bucket|2026-11-28|M0|PAID|1|120.00",
            "prev|bucket|2026-11-28|M1|M1|2|13000.00",
            "prev|bucket|2026-11-28|M1|M2|1|7000.00",
            "prev|bucket|2026-11-28|M2|M2|1|3000.00",
            "prev|bucket|2026-11-28|M3|M0|1|4000.00",
            "prev|bucket|2026-11-28|M3|EXIT|1|2500.00",
            "prev|bucket|2026-11-28|M4|M4|1|300000.00",
            "prev|bucket|2026-11-28|M5|M5|1|250000.00",
            "prev|bucket|2026-11-28|M6+|M6+|2|500000.00",
            "prev|bucket|2026-11-28|M6+|WO|1|8000.00",
            "prev|bucket|2026-11-28|WO|WO|1|5000.00",
            "prev|bucket|2026-11-28|PAID|EXIT|1|0.00",
            "prev|bucket|2026-11-28|NEW|M0|1|20000.00",
        ]
    );
    let all = transition_lines(&out, "2026-11-29");
    // Dense matrices for both periods: buckets 11 x 11, tiers (7 + PAID + NEW/EXIT) 9 x 9.
    assert_eq!(
        all.len(),
        2 * (11 * 11 + 9 * 9),
        "dense matrices for both periods"
    );
    assert_eq!(
        nonzero_cells(&out, "1m"),
        vec![
            "1m|bucket|2026-10-29|M0|M0|4|509000.00",
            "1m|bucket|2026-10-29|M0|M1|2|9000.00",
            "1m|bucket|2026-10-29|M0|PAID|1|1500.00",
            "1m|bucket|2026-10-29|M0|EXIT|1|900.00",
            "1m|bucket|2026-10-29|M1|M1|1|6000.00",
            "1m|bucket|2026-10-29|M1|M2|2|10000.00",
            "1m|bucket|2026-10-29|M2|M0|1|4000.00",
            "1m|bucket|2026-10-29|M2|EXIT|1|2500.00",
            "1m|bucket|2026-10-29|M3|M4|1|300000.00",
            "1m|bucket|2026-10-29|M4|M5|1|250000.00",
            "1m|bucket|2026-10-29|M6|WO|1|8000.00",
            "1m|bucket|2026-10-29|M6+|M6+|2|500000.00",
            "1m|bucket|2026-10-29|WO|WO|1|5000.00",
            "1m|bucket|2026-10-29|NEW|M0|2|30000.00",
        ]
    );
}

/// "period|metric|state|basis" -> "value|numerator|denominator".
fn rate(out: &Path, key: &str) -> String {
    let t = rows(&read_table(out, "rates", "2026-11-29"));
    let hits: Vec<String> = t
        .iter()
        .filter(|r| format!("{}|{}|{}|{}", r[1], r[3], r[4], r[5]) == key)
        .map(|r| format!("{}|{}|{}", r[6], r[7], r[8]))
        .collect();
    assert_eq!(hits.len(), 1, "{key}: {hits:?}");
    hits[0].clone()
}

fn close(got: &str, want_value: Option<f64>, num: &str, den: &str) -> bool {
    let p: Vec<&str> = got.split('|').collect();
    let v_ok = match want_value {
        None => p[0] == "null",
        Some(w) => (p[0].parse::<f64>().unwrap() - w).abs() < 1e-12,
    };
    v_ok && p[1] == num && p[2] == den
}

#[test]
fn rates_match_hand_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_hand(dir.path(), mixed_variants(), 2);
    let cases: &[(&str, Option<f64>, &str, &str)] = &[
        // Cure of all delinquent loans together (fixtures/README.md).
        ("prev|cure|M1+|count", Some(1.0 / 11.0), "1.00", "11.00"),
        (
            "prev|cure|M1+|balance",
            Some(4_000.0 / 1_087_500.0),
            "4000.00",
            "1087500.00",
        ),
        ("1m|cure|M1+|count", Some(0.1), "1.00", "10.00"),
        (
            "1m|cure|M1+|balance",
            Some(4_000.0 / 1_080_500.0),
            "4000.00",
            "1080500.00",
        ),
        (
            "current|dpd1_plus|active|count",
            Some(9.0 / 16.0),
            "9.00",
            "16.00",
        ),
        (
            "current|dpd1_plus|active|balance",
            Some(1_075_000.0 / 1_616_500.0),
            "1075000.00",
            "1616500.00",
        ),
        (
            "current|dpd30_plus|active|count",
            Some(6.0 / 16.0),
            "6.00",
            "16.00",
        ),
        (
            "current|dpd30_plus|active|balance",
            Some(1_060_000.0 / 1_616_500.0),
            "1060000.00",
            "1616500.00",
        ),
        (
            "current|dpd90_plus|active|count",
            Some(0.25),
            "4.00",
            "16.00",
        ),
        (
            "current|dpd90_plus|active|balance",
            Some(1_050_000.0 / 1_616_500.0),
            "1050000.00",
            "1616500.00",
        ),
        ("current|npl|book|count", Some(6.0 / 18.0), "6.00", "18.00"),
        (
            "current|npl|book|balance",
            Some(1_063_000.0 / 1_629_500.0),
            "1063000.00",
            "1629500.00",
        ),
        (
            "prev|roll_forward|M0|count",
            Some(1.0 / 7.0),
            "1.00",
            "7.00",
        ),
        (
            "prev|roll_forward|M0|balance",
            Some(2000.0 / 520_620.0),
            "2000.00",
            "520620.00",
        ),
        ("prev|entry|M0|count", Some(1.0 / 7.0), "1.00", "7.00"),
        (
            "prev|roll_forward|M1|count",
            Some(1.0 / 3.0),
            "1.00",
            "3.00",
        ),
        (
            "prev|roll_forward|M1|balance",
            Some(7000.0 / 20000.0),
            "7000.00",
            "20000.00",
        ),
        ("prev|cure|M1|count", Some(0.0), "0.00", "3.00"),
        ("prev|cure|M3|count", Some(0.5), "1.00", "2.00"),
        (
            "prev|cure|M3|balance",
            Some(4000.0 / 6500.0),
            "4000.00",
            "6500.00",
        ),
        ("prev|roll_forward|M3|count", Some(0.0), "0.00", "2.00"),
        ("prev|roll_forward|M6|count", None, "0.00", "0.00"),
        (
            "prev|roll_forward|M6+|count",
            Some(1.0 / 3.0),
            "1.00",
            "3.00",
        ),
        (
            "prev|roll_forward|M6+|balance",
            Some(8000.0 / 508_000.0),
            "8000.00",
            "508000.00",
        ),
        ("1m|roll_forward|M0|count", Some(0.25), "2.00", "8.00"),
        (
            "1m|roll_forward|M0|balance",
            Some(9000.0 / 520_400.0),
            "9000.00",
            "520400.00",
        ),
        ("1m|entry|M0|count", Some(0.25), "2.00", "8.00"),
        ("1m|roll_forward|M1|count", Some(2.0 / 3.0), "2.00", "3.00"),
        (
            "1m|roll_forward|M1|balance",
            Some(10000.0 / 16000.0),
            "10000.00",
            "16000.00",
        ),
        ("1m|cure|M2|count", Some(0.5), "1.00", "2.00"),
        (
            "1m|cure|M2|balance",
            Some(4000.0 / 6500.0),
            "4000.00",
            "6500.00",
        ),
        ("1m|roll_forward|M3|count", Some(1.0), "1.00", "1.00"),
        ("1m|roll_forward|M5|count", None, "0.00", "0.00"),
        (
            "1m|roll_forward|M6|balance",
            Some(1.0),
            "8000.00",
            "8000.00",
        ),
        ("1m|roll_forward|M6+|count", Some(0.0), "0.00", "2.00"),
        ("1m|flow|M0|count", Some(3.0 / 8.0), "3.00", "8.00"),
        (
            "1m|flow|M0|balance",
            Some(15000.0 / 520_400.0),
            "15000.00",
            "520400.00",
        ),
        (
            "1m|flow|M1|balance",
            Some(10000.0 / 16000.0),
            "10000.00",
            "16000.00",
        ),
        ("1m|flow|M2|count", Some(0.0), "0.00", "2.00"),
        ("1m|flow|M5|count", None, "0.00", "0.00"),
        ("1m|flow|M6|count", Some(2.0), "2.00", "1.00"),
        ("1m|flow|M6|balance", Some(62.5), "500000.00", "8000.00"),
    ];
    let mut bad = Vec::new();
    for (key, v, num, den) in cases {
        let got = rate(&out, key);
        if !close(&got, *v, num, den) {
            bad.push(format!("{key}: got {got}, want {v:?}|{num}|{den}"));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
    // Count-basis rates carry a Wilson interval; 1 of 7:
    let t = rows(&read_table(&out, "rates", "2026-11-29"));
    let r = t
        .iter()
        .find(|r| r[1] == "prev" && r[3] == "entry" && r[5] == "count")
        .unwrap();
    let (lo, hi): (f64, f64) = (r[9].parse().unwrap(), r[10].parse().unwrap());
    assert!(
        (lo - 0.025_7).abs() < 1e-3 && (hi - 0.513_1).abs() < 1e-3,
        "{lo} {hi}"
    );
    let r = t
        .iter()
        .find(|r| r[1] == "prev" && r[3] == "entry" && r[5] == "balance")
        .unwrap();
    assert_eq!((r[9].as_str(), r[10].as_str()), ("null", "null"));
}

#[test]
fn cash_and_recoveries_match_hand_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_hand(dir.path(), mixed_variants(), 2);
    let m = manifest_of(&out, "2026-11-29");
    let f = &m["figures"];
    // Cash: paid_amount today (fixtures/README.md, "Cash and recoveries").
    assert_eq!(f["cash_collected"], "1720.00");
    // L09 charged off on both dates: 400 - 250; L08 charged off today: all 30.
    assert_eq!(f["recovered_prev"], "180.00");
    // A month: L09 400 - 100; L08 30.
    assert_eq!(f["recovered_1m"], "330.00");
    assert_eq!(f["loans"], 19);
}

#[test]
fn thread_count_and_file_layout_do_not_change_the_bytes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let out_a = run_hand(a.path(), mixed_variants(), 1);
    let out_b = run_hand(b.path(), [Variant::default(); 3], 2);
    for t in ["ageing", "classification", "transitions", "rates"] {
        let p = format!("{t}/as_of_date=2026-11-29/part-0.parquet");
        let (x, y) = (
            std::fs::read(out_a.join(&p)).unwrap(),
            std::fs::read(out_b.join(&p)).unwrap(),
        );
        assert!(x == y, "{t} differs between runs");
    }
    let r = |o: &Path| {
        let html =
            std::fs::read_to_string(o.join("report/as_of_date=2026-11-29/report.html")).unwrap();
        arrears::report::mask_run_values(&html)
    };
    assert!(r(&out_a) == r(&out_b), "report differs beyond run values");
}

#[test]
fn integer_ids_give_the_same_figures() {
    let a = tempfile::tempdir().unwrap();
    let out = run_hand(
        a.path(),
        [Variant {
            int_ids: true,
            money_scale: None,
            ..Variant::default()
        }; 3],
        2,
    );
    assert_eq!(nonzero_cells(&out, "prev").len(), 15);
    assert_eq!(ageing_by_bucket(&out)[0], "M0|7|541500.00|0.00");
    assert_eq!(rate(&out, "1m|flow|M6|count"), "2.0|2.00|1.00");
}
