//! The decode floor of a run (issue 6, BENCHMARKS.md): reads the columns the
//! nightly job needs from the same files with the same reader settings
//! (projection, dictionary hints, batch size, one task per row group) and
//! drops the batches. The job's wall time divided by this is the figure to
//! drive down.
//!
//! `cargo bench --bench floor -- INPUT_DIR AS_OF [RUNS] [THREADS]`; prints the
//! median seconds of RUNS (default 5) for the three loans snapshots (run date
//! with its extra columns, `prev` and `1m` without) and, separately, the
//! contacts window.

use std::time::Instant;

use arrears::input::contacts;
use arrears::input::discovery::{discover, resolve_dates};
use arrears::input::reader::{decode_floor, Extent};
use chrono::NaiveDate;

fn main() {
    // `cargo bench` passes `--bench`; keep only our positional arguments.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(input) = args.first() else {
        eprintln!("usage: cargo bench --bench floor -- INPUT_DIR AS_OF [RUNS] [THREADS]");
        return;
    };
    let as_of = NaiveDate::parse_from_str(&args[1], "%Y-%m-%d").expect("AS_OF as YYYY-MM-DD");
    let runs: usize = args.get(2).map_or(5, |r| r.parse().expect("RUNS"));
    let threads: usize = args.get(3).map_or(2, |t| t.parse().expect("THREADS"));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let cat = discover(std::path::Path::new(input)).expect("input");
        let dates = resolve_dates(&cat, Some(as_of)).expect("dates");
        let mut parts = vec![(&dates.as_of, Extent::RunDate)];
        parts.extend(dates.prev.iter().map(|p| (p, Extent::Comparison)));
        parts.extend(
            dates
                .month_ago
                .iter()
                .filter(|m| dates.prev.as_ref().is_none_or(|p| p.date != m.date))
                .map(|p| (p, Extent::Comparison)),
        );
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (mut loans, mut contacts) = (Vec::new(), Vec::new());
        let (mut loan_rows, mut contact_rows) = (0, 0);
        for _ in 0..runs {
            let t = Instant::now();
            loan_rows = parts
                .iter()
                .map(|(p, e)| decode_floor(p, &Default::default(), *e).expect("decode"))
                .sum::<usize>();
            loans.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            // The job reads D-13..D (promises made up to 13 days before).
            contact_rows =
                contacts::decode_floor(&cat, as_of - chrono::Days::new(13), as_of).expect("contacts");
            contacts.push(t.elapsed().as_secs_f64());
        }
        let (l, c) = (median(loans), median(contacts));
        println!(
            "decode floor ({threads} threads, median of {runs}): loans {l:.3} s ({} snapshots, {loan_rows} rows) + contacts {c:.3} s ({contact_rows} rows) = {:.3} s",
            parts.len(),
            l + c
        );
    });
}
