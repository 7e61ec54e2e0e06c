//! Properties: the answer does not depend on how rows are split or on the
//! thread count, and reconciliation holds for any generated portfolio.

use std::path::PathBuf;

use arrears::generate::{generate, GenConfig, IdType, MoneyType};
use arrears::input::snapshot::{Dim, LoanIds, Origin, Snapshot};
use arrears::metrics::book;
use arrears::output::tables;
use arrears::pipeline::{compute, run, RunConfig};
use arrears::policy::Policy;
use arrears::states::{PlanStatus, Status};
use chrono::NaiveDate;
use proptest::prelude::*;

/// (id, product, region, grade, status, plan, dpd, balance, past_due)
type Row = (u32, u8, Option<u8>, u8, u8, u8, i32, i64, i64);

fn row() -> impl Strategy<Value = Row> {
    (
        0u32..400,
        0u8..3,
        proptest::option::of(0u8..4),
        0u8..5,
        prop_oneof![8 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
        0u8..4,
        prop_oneof![5 => Just(0), 5 => 0i32..500],
        0i64..1_000_000_000, // cents: up to 10 million
        0i64..1_000_000,
    )
}

fn dim(values: Vec<Option<String>>) -> Dim {
    let mut labels: Vec<Option<String>> = values.clone();
    labels.sort();
    labels.dedup();
    let codes = values
        .iter()
        .map(|v| labels.binary_search(v).unwrap() as u32)
        .collect();
    Dim { codes, labels }
}

/// An in-memory snapshot; ids are made unique by keeping the first of each.
fn snapshot(date: &str, rows: Vec<Row>, int_ids: bool) -> Snapshot {
    snapshot_in(date, rows, int_ids, false)
}

/// A snapshot whose rows are in id order (`ordered`: integers by value,
/// strings by bytes) or shuffled so that id order is not row order.
fn snapshot_in(date: &str, mut rows: Vec<Row>, int_ids: bool, ordered: bool) -> Snapshot {
    rows.sort_by_key(|r| r.0);
    rows.dedup_by_key(|r| r.0);
    if ordered {
        if !int_ids {
            rows.sort_by_key(|r| format!("L{}", r.0));
        }
    } else {
        // Shuffle deterministically so id order is not row order.
        rows.sort_by_key(|r| (r.0.wrapping_mul(2_654_435_761)) % 1009);
    }
    let ids = if int_ids {
        LoanIds::Int(rows.iter().map(|r| r.0 as i64).collect())
    } else {
        let mut bytes = Vec::new();
        let mut offsets = vec![0];
        for r in &rows {
            bytes.extend_from_slice(format!("L{}", r.0).as_bytes());
            offsets.push(bytes.len());
        }
        LoanIds::Str { offsets, bytes }
    };
    let status = |s: u8| [Status::Active, Status::PaidOff, Status::ChargedOff][s as usize];
    let plan = |p: u8| {
        [
            PlanStatus::None,
            PlanStatus::Active,
            PlanStatus::Completed,
            PlanStatus::Broken,
        ][p as usize]
    };
    Snapshot {
        date: NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap(),
        files: vec![PathBuf::from("mem")],
        file_rows: vec![rows.len()],
        origins: vec![Origin {
            first_row: 0,
            file: 0,
            file_row: 0,
        }],
        ids,
        product: dim(rows.iter().map(|r| Some(format!("p{}", r.1))).collect()),
        region: dim(rows.iter().map(|r| r.2.map(|x| format!("r{x}"))).collect()),
        grade: dim(rows
            .iter()
            .map(|r| Some(["A", "B", "C", "D", "E"][r.3 as usize].to_string()))
            .collect()),
        status: rows.iter().map(|r| status(r.4)).collect(),
        plan: rows.iter().map(|r| plan(r.5)).collect(),
        dpd: rows
            .iter()
            .map(|r| if r.4 == 1 { 0 } else { r.6 })
            .collect(),
        balance: rows
            .iter()
            .map(|r| if r.4 == 1 { 0 } else { r.7 })
            .collect(),
        past_due: rows.iter().map(|r| r.8).collect(),
        paid: rows.iter().map(|r| r.8 / 3).collect(),
        recovered: rows
            .iter()
            .map(|r| if r.4 == 2 { r.8 } else { 0 })
            .collect(),
        origination: vec![19_000; rows.len()],
        collateral: vec![arrears::input::columns::NULL_MONEY; rows.len()],
        senior_lien: vec![arrears::input::columns::NULL_MONEY; rows.len()],
        legal: dim(vec![None; rows.len()]),
        contactable: vec![2; rows.len()],
        original: rows.iter().map(|r| r.8 * 2).collect(),
        charge_off_date: rows
            .iter()
            .map(|r| {
                if r.4 == 2 {
                    19_500
                } else {
                    arrears::input::columns::NULL_DATE
                }
            })
            .collect(),
        charge_off_amount: rows
            .iter()
            .map(|r| if r.4 == 2 { r.8 } else { 0 })
            .collect(),
        rounded_money_values: 0,
        columns: Default::default(),
    }
}

fn tables_of(f: &arrears::figures::Figures) -> Vec<arrow::record_batch::RecordBatch> {
    tables::all(f)
        .unwrap()
        .into_iter()
        .map(|(_, b)| b)
        .collect()
}

/// Rows of a book of `n` loan ids, with states derived from the id and `day`
/// (some ids skipped, so loans enter and leave between days).
fn book_rows(n: u32, day: u32, skip: u32) -> Vec<Row> {
    (0..n)
        .filter(|i| i % skip != 0)
        .map(|i| {
            let h = i.wrapping_mul(2_654_435_761).wrapping_add(day * 97);
            (
                i,
                (h % 3) as u8,
                (h % 5 != 0).then_some((h % 4) as u8),
                (h % 5) as u8,
                if h % 13 == 0 {
                    2
                } else if h % 17 == 0 {
                    1
                } else {
                    0
                },
                (h % 4) as u8,
                if h % 3 == 0 { (h % 400) as i32 } else { 0 },
                (h % 100_000_000) as i64,
                (h % 1_000_000) as i64,
            )
        })
        .collect()
}

/// The join in input order (both snapshots sorted by id) gives the same
/// tables as the join through sorted keys, with the books large enough to
/// be split into several parallel pieces.
#[test]
fn join_in_input_order_equals_the_sorted_join() {
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let p = Policy::default();
    for int_ids in [true, false] {
        // The earlier book also has loans before the run date's first id
        // and after its last.
        let now: Vec<Row> = book_rows(70_000, 1, 7)
            .into_iter()
            .filter(|r| r.0 >= 10)
            .collect();
        let then = book_rows(72_000, 0, 5);
        let run = |ordered: bool| {
            let cur = snapshot_in("2026-11-29", now.clone(), int_ids, ordered);
            let prev = snapshot_in("2026-11-28", then.clone(), int_ids, ordered);
            assert_eq!(arrears::metrics::join::in_id_order(&cur), ordered);
            let f = two
                .install(|| {
                    compute(
                        &p,
                        &cur,
                        Some(&prev),
                        Some(&prev),
                        &Default::default(),
                        &Default::default(),
                    )
                })
                .unwrap();
            assert!(f.checks.iter().all(|c| c.passed), "{:?}", f.checks);
            // Loan-level tables list loans in input order: compare them as sets.
            tables::all(&f)
                .unwrap()
                .into_iter()
                .map(|(name, b)| {
                    let mut rows = lines_of(&b);
                    if name == "credit_repair" {
                        rows.sort();
                    }
                    (name, rows)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(true), run(false), "int ids: {int_ids}");
    }
}

fn lines_of(b: &arrow::record_batch::RecordBatch) -> Vec<String> {
    let opts = arrow::util::display::FormatOptions::default().with_null("null");
    let fmts: Vec<_> = b
        .columns()
        .iter()
        .map(|c| arrow::util::display::ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
        .collect();
    (0..b.num_rows())
        .map(|r| {
            fmts.iter()
                .map(|f| f.value(r).to_string())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn merging_partials_equals_the_whole(rows in prop::collection::vec(row(), 1..300), cuts in prop::collection::vec(0usize..300, 0..6)) {
        let s = snapshot("2026-11-29", rows, false);
        let st = book::assign(&s, &Policy::default());
        let shape = book::shape(&s).unwrap();
        let whole = book::tally_range(&s, &st, shape, 0..s.len());
        let mut points: Vec<usize> = cuts.into_iter().map(|c| c.min(s.len())).collect();
        points.push(0);
        points.push(s.len());
        points.sort();
        let merged = points
            .windows(2)
            .map(|w| book::tally_range(&s, &st, shape, w[0]..w[1]))
            .fold(book::BookTally::empty(shape), book::BookTally::merge);
        prop_assert_eq!(whole, merged);
    }

    #[test]
    fn parallel_equals_sequential(
        now in prop::collection::vec(row(), 1..300),
        prev in prop::collection::vec(row(), 0..300),
        int_ids in any::<bool>(),
    ) {
        let cur = snapshot("2026-11-29", now, int_ids);
        let prev = (!prev.is_empty()).then(|| snapshot("2026-11-28", prev, int_ids));
        let p = Policy::default();
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let a = one.install(|| compute(&p, &cur, prev.as_ref(), prev.as_ref(), &Default::default(), &Default::default())).unwrap();
        let b = two.install(|| compute(&p, &cur, prev.as_ref(), prev.as_ref(), &Default::default(), &Default::default())).unwrap();
        prop_assert_eq!(tables_of(&a), tables_of(&b));
        prop_assert!(a.checks.iter().all(|c| c.passed), "{:?}", a.checks);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

    #[test]
    fn reconciliation_holds_for_generated_portfolios(
        loans in 200usize..3000,
        seed in any::<u64>(),
        days in 1usize..4,
        int_ids in any::<bool>(),
        row_group in 50usize..2000,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let as_of = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
        let mut g = GenConfig::new(dir.path().join("in"), loans, as_of);
        g.seed = seed;
        g.days = days;
        g.row_group = row_group;
        g.files = 2;
        g.contact_days = 1;
        g.id_type = if int_ids { IdType::Int } else { IdType::String };
        g.money = if int_ids { MoneyType::Float64 } else { MoneyType::Decimal };
        generate(&g).unwrap();
        let cfg = RunConfig { input: dir.path().join("in"), output: dir.path().join("out"), as_of: None, threads: Some(2), memory_limit: None, policy: Policy::default(), report: Default::default() };
        let s = run(&cfg).unwrap();
        prop_assert_eq!(s.as_of, as_of);
        // 2026-03-31 minus one month is 2026-02-28: the 1m snapshot exists,
        // and with a single daily snapshot it is also `prev`.
        prop_assert!(s.unavailable.is_empty(), "{:?}", s.unavailable);
    }
}
