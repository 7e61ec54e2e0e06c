//! The `experiments` table (v2; schema: README, "Output tables"): the
//! champion / challenger evaluation of metrics.md. Per experiment and
//! from-bucket (`M1` .. `M6+`, then `all`), one row per arm with its loans
//! and balance a month ago and how many of them were cured or rolled
//! forward by the run date, each rate with its 95% Wilson interval; then a
//! `difference` row: challenger minus champion, with the 95% Newcombe
//! interval and the two-proportion z-test's p-value. No rows when the
//! evaluation is not available (the manifest's `experiments` says why).

use std::sync::Arc;

use anyhow::Result;
use arrow::array::Int64Array;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::figures::Figures;
use crate::metrics::experiments::{self, Difference, Outcome};
use crate::metrics::rates::wilson;
use crate::output::columns::field;
use crate::output::recovery::Columns;

/// One row: an arm's counts (`None` on a difference row) and its rates.
struct Row<'a> {
    experiment: &'a str,
    arm: &'static str,
    from: &'static str,
    counts: Option<Outcome>,
    cure: Option<(f64, Option<(f64, f64)>)>,
    roll: Option<(f64, Option<(f64, f64)>)>,
    p: (Option<f64>, Option<f64>),
}

fn rate(k: u64, n: u64) -> Option<(f64, Option<(f64, f64)>)> {
    (n > 0).then(|| (k as f64 / n as f64, wilson(k, n)))
}

fn diff(d: Option<Difference>) -> Option<(f64, Option<(f64, f64)>)> {
    d.map(|d| (d.diff, d.ci))
}

pub fn experiments(f: &Figures) -> Result<RecordBatch> {
    let evaluations = f
        .experiments
        .as_deref()
        .map(experiments::evaluate)
        .unwrap_or_default();
    let mut rows = Vec::new();
    for e in &evaluations {
        for r in &e.rows {
            for (k, arm) in experiments::Arm::BOTH.iter().enumerate() {
                let o = r.arms[k];
                rows.push(Row {
                    experiment: &e.experiment,
                    arm: arm.label(),
                    from: r.from,
                    counts: Some(o),
                    cure: rate(o.cured, o.loans),
                    roll: rate(o.rolled, o.loans),
                    p: (None, None),
                });
            }
            rows.push(Row {
                experiment: &e.experiment,
                arm: "difference",
                from: r.from,
                counts: None,
                cure: diff(r.cure),
                roll: diff(r.roll),
                p: (r.cure.and_then(|d| d.p), r.roll.and_then(|d| d.p)),
            });
        }
    }
    let mut t = Columns::new_from_1m(f, rows.len());
    t.text(
        "experiment",
        false,
        rows.iter().map(|r| Some(r.experiment)).collect(),
    );
    t.text("arm", false, rows.iter().map(|r| Some(r.arm)).collect());
    t.text(
        "from_bucket",
        false,
        rows.iter().map(|r| Some(r.from)).collect(),
    );
    let count = |t: &mut Columns, name: &str, get: fn(&Outcome) -> u64| {
        t.push(
            field(name, DataType::Int64, true),
            Arc::new(Int64Array::from(
                rows.iter()
                    .map(|r| r.counts.as_ref().map(|o| get(o) as i64))
                    .collect::<Vec<_>>(),
            )),
        );
    };
    count(&mut t, "loans", |o| o.loans);
    t.money(
        "balance",
        true,
        rows.iter().map(|r| r.counts.map(|o| o.balance)).collect(),
    )?;
    count(&mut t, "cured", |o| o.cured);
    count(&mut t, "rolled", |o| o.rolled);
    for (name, pick) in [
        ("cure_rate", (|r: &Row| r.cure) as fn(&Row) -> _),
        ("roll_rate", |r: &Row| r.roll),
    ] {
        t.float(name, rows.iter().map(|r| pick(r).map(|x| x.0)).collect());
        t.float(
            &format!("{name}_ci_low"),
            rows.iter()
                .map(|r| pick(r).and_then(|x| x.1).map(|c| c.0))
                .collect(),
        );
        t.float(
            &format!("{name}_ci_high"),
            rows.iter()
                .map(|r| pick(r).and_then(|x| x.1).map(|c| c.1))
                .collect(),
        );
    }
    t.float("cure_p_value", rows.iter().map(|r| r.p.0).collect());
    t.float("roll_p_value", rows.iter().map(|r| r.p.1).collect());
    t.finish()
}
