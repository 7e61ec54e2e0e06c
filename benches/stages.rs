//! criterion benchmarks, one per stage of the nightly job, on a seeded
//! generated book of 1,000,000 loans (written once to a temporary folder).
//! `make bench`; figures are published in BENCHMARKS.md.

use std::hint::black_box;

use arrears::generate::{generate, GenConfig};
use arrears::input::contacts;
use arrears::input::discovery::{discover, resolve_dates};
use arrears::input::reader::{read_loans, Extent};
use arrears::metrics::{book, channels, compliance, join, movement, promises, recovery};
use arrears::output::{parquet_file, tables};
use arrears::pipeline::compute;
use arrears::policy::Policy;
use arrears::report;
use arrears::states::BUCKETS;
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};

const LOANS: usize = 1_000_000;

fn stages(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let mut g = GenConfig::new(dir.path().join("in"), LOANS, as_of);
    g.contact_days = 7;
    generate(&g).unwrap();
    let cat = discover(&dir.path().join("in")).unwrap();
    let dates = resolve_dates(&cat, None).unwrap();
    let policy = Policy::default();
    let cur = read_loans(&dates.as_of, &Default::default(), Extent::RunDate).unwrap();
    let prev = read_loans(
        dates.prev.as_ref().unwrap(),
        &Default::default(),
        Extent::Comparison,
    )
    .unwrap();

    let mut grp = c.benchmark_group("stage_1m_loans");
    grp.sample_size(10);
    grp.bench_function("read (one snapshot)", |b| {
        b.iter(|| {
            black_box(read_loans(&dates.as_of, &Default::default(), Extent::RunDate).unwrap())
        })
    });
    let st = book::assign(&cur, &policy);
    grp.bench_function("bucket+class", |b| {
        b.iter(|| black_box(book::assign(&cur, &policy)))
    });
    grp.bench_function("ageing+classification", |b| {
        b.iter(|| black_box(book::tally(&cur, &st).unwrap()))
    });
    let pst = book::assign(&prev, &policy);
    grp.bench_function("sort ids (one snapshot)", |b| {
        b.iter(|| black_box(join::sort_ids(&cur).unwrap()))
    });
    let (cs, ps) = (
        join::sort_ids(&cur).unwrap(),
        join::sort_ids(&prev).unwrap(),
    );
    // The same walk through keys sorted by id, and over the rows as they are
    // (both books list their loans in id order).
    let walk =
        |order| movement::walk(&prev, &pst.bucket, &cur, &st.bucket, order, BUCKETS).unwrap();
    for (name, order) in [
        ("join+transition matrix", join::Order::Sorted(&ps, &cs)),
        (
            "join+transition matrix, in input order",
            join::Order::InputOrder,
        ),
    ] {
        grp.bench_function(name, |b| b.iter(|| black_box(walk(order))));
    }
    // Recovery tables: one fold over the run date with the `prev` mapping.
    let mv = walk(join::Order::InputOrder);
    let tiers = vec![0u8; cur.len()];
    let earlier = recovery::Earlier {
        snap: &prev,
        rows: &mv.earlier_row,
        buckets: &pst.bucket,
    };
    grp.bench_function(
        "recovery (collections, cohorts, vintage, plans, legal, repair)",
        |b| {
            b.iter(|| {
                black_box(recovery::compute(
                    &cur,
                    &st.bucket,
                    &tiers,
                    Some(earlier),
                    Some(earlier),
                ))
            })
        },
    );
    // Contacts: the 7-day window, then channels and compliance of the day.
    let zone = policy.compliance.time_zone;
    grp.bench_function("read contacts (7 days)", |b| {
        b.iter(|| {
            black_box(
                contacts::read_window(
                    &cat,
                    as_of - chrono::Days::new(6),
                    as_of,
                    cur.ids.is_int(),
                    zone,
                )
                .unwrap(),
            )
        })
    });
    let window = contacts::read_window(
        &cat,
        as_of - chrono::Days::new(6),
        as_of,
        cur.ids.is_int(),
        zone,
    )
    .unwrap();
    let today = arrears::base::calendar::date32(as_of);
    let flags = promises::flags(&cur, promises::IdIndex::Sorted(&cs), &window, today, &[]);
    grp.bench_function("channels + compliance (cn)", |b| {
        b.iter(|| {
            let day = compliance::Day {
                today,
                contacts: &flags.today,
                buckets: &st.bucket,
            };
            black_box((
                channels::stats(&window, today),
                compliance::check(&window, &day, &policy.compliance),
            ))
        })
    });
    // Without contacts or earlier runs: the figures of the snapshots alone.
    let figures = || {
        compute(
            &policy,
            &cur,
            Some(&prev),
            Some(&prev),
            &Default::default(),
            &Default::default(),
        )
        .unwrap()
    };
    grp.bench_function("compute all figures (3 snapshots)", |b| {
        b.iter(|| black_box(figures()))
    });
    let figs = figures();
    let out = dir.path().join("t.parquet");
    grp.bench_function("write tables", |b| {
        b.iter(|| {
            for (name, batch) in tables::all(&figs).unwrap() {
                parquet_file::write(&out, name, "2026-11-29", std::slice::from_ref(&batch))
                    .unwrap();
            }
        })
    });
    // The report is built from aggregates only: its cost does not grow
    // with the number of loans (history here is empty; with 42 earlier
    // runs it adds their small `rates` files, see BENCHMARKS.md).
    let engine = report::Engine::new(&report::Options::default()).unwrap();
    let policy = Policy::default();
    let info = report::view::RunInfo {
        inputs: &[],
        input_root: "in".into(),
        policy: &policy,
    };
    let past = arrears::history::History::default();
    grp.bench_function("render report", |b| {
        b.iter(|| black_box(engine.render(&figs, &past, &info).unwrap()))
    });
    grp.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
