//! End to end on `arrears generate` output in two type variants.

use arrears::generate::{generate, GenConfig, IdType, MoneyType};
use arrears::pipeline::{run, RunConfig};
use arrears::policy::Policy;
use chrono::NaiveDate;

use crate::common::*;

fn gen_and_run(
    dir: &std::path::Path,
    ids: IdType,
    money: MoneyType,
    files: usize,
) -> std::path::PathBuf {
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let mut g = GenConfig::new(dir.join("in"), 30_000, as_of);
    g.id_type = ids;
    g.money = money;
    g.files = files;
    g.row_group = 5_000;
    g.days = 3;
    generate(&g).unwrap();
    let out = dir.join("out");
    let s = run(&RunConfig {
        input: dir.join("in"),
        output: out.clone(),
        as_of: None,
        threads: None,
        memory_limit: None,
        policy: Policy::default(),
        report: Default::default(),
    })
    .unwrap();
    assert_eq!(s.as_of, as_of);
    assert!(s.unavailable.is_empty());
    out
}

#[test]
fn string_ids_and_integer_ids_with_float_money_agree() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let out_a = gen_and_run(a.path(), IdType::String, MoneyType::Decimal, 1);
    let out_b = gen_and_run(b.path(), IdType::Int, MoneyType::Float64, 3);
    // Same seed, same loans: the money is the same to the cent whichever
    // type carries it, so the published tables are the same bytes.
    for t in ["ageing", "classification", "transitions", "rates"] {
        let p = format!("{t}/as_of_date=2026-11-29/part-0.parquet");
        assert!(
            std::fs::read(out_a.join(&p)).unwrap() == std::fs::read(out_b.join(&p)).unwrap(),
            "{t}"
        );
    }
    // And the book is believable: all buckets populated, every state seen.
    let ageing = rows(&read_table(&out_a, "ageing", "2026-11-29"));
    for b in ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M6+", "WO"] {
        assert!(ageing.iter().any(|r| r[4] == b), "no loans in {b}");
    }
    let cells = transition_lines(&out_a, "2026-11-29");
    let has = |prefix: &str| {
        cells
            .iter()
            .any(|l| l.starts_with(prefix) && !l.ends_with("|0|0.00"))
    };
    for p in [
        "1m|bucket|2026-10-29|NEW|M0",
        "1m|bucket|2026-10-29|M1|M0",
        "1m|bucket|2026-10-29|M1|M2",
        "1m|bucket|2026-10-29|M6+|WO",
        "1m|bucket|2026-10-29|M0|EXIT",
        "prev|bucket|2026-11-28|M0|PAID",
    ] {
        assert!(has(p), "no {p}");
    }
}
