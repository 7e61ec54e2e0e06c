//! The `forecast` table (schema: README, "Output tables"): per method,
//! basis, horizon (0 = the book today, 1..6 months) and state, the
//! expected loans or balance, with the count basis's 95% interval, and
//! per month the expected new charge-off. Rows in a fixed order, so reruns
//! are byte-identical.

use std::sync::Arc;

use anyhow::Result;
use arrow::array::{BooleanArray, Int32Array};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::figures::Figures;
use crate::metrics::duration::STATES;
use crate::metrics::forecast::EXIT;
use crate::output::columns::field;
use crate::output::recovery::Columns;
use crate::states::Bucket;

/// The `state` of the backtest's error row: the buckets it averages over.
const MAPE_STATES: usize = usize::MAX;

/// A state's label: the buckets, then `EXIT`.
pub fn state_label(j: usize) -> &'static str {
    match j {
        EXIT => "EXIT",
        MAPE_STATES => "M1..M6+",
        _ => Bucket::from_index(j).label(),
    }
}

struct Row {
    method: &'static str,
    basis: &'static str,
    horizon: i32,
    state: usize,
    measure: &'static str,
    value: f64,
    ci: Option<(f64, f64)>,
    thin: bool,
}

pub fn forecast(f: &Figures) -> Result<RecordBatch> {
    let mut rows = Vec::new();
    for p in &f.forecast {
        let states = |h: usize| if h == 0 { &p.start } else { &p.path[h - 1] };
        for h in 0..=p.path.len() {
            for j in 0..STATES {
                rows.push(Row {
                    method: p.method,
                    basis: p.basis,
                    horizon: h as i32,
                    state: j,
                    measure: "expected",
                    value: states(h)[j],
                    ci: match (&p.ci, h) {
                        (Some(ci), 1..) => Some(ci[h - 1][j]),
                        (Some(_), 0) => Some((p.start[j], p.start[j])),
                        _ => None,
                    },
                    thin: p.thin[j],
                });
            }
        }
        for (h, v) in p.new_charge_off().into_iter().enumerate() {
            rows.push(Row {
                method: p.method,
                basis: p.basis,
                horizon: h as i32 + 1,
                state: Bucket::Wo.index(),
                measure: "new_charge_off",
                value: v,
                ci: None,
                thin: false,
            });
        }
    }
    if let Some(b) = &f.backtest {
        for (measure, pick) in [("backtest_forecast", 0usize), ("backtest_actual", 1usize)] {
            for r in &b.rows {
                rows.push(Row {
                    method: "cohort_1m",
                    basis: r.basis,
                    horizon: 1,
                    state: r.state,
                    measure,
                    value: if pick == 0 { r.forecast } else { r.actual },
                    ci: None,
                    thin: false,
                });
            }
        }
        if let Some(m) = b.mape {
            rows.push(Row {
                method: "cohort_1m",
                basis: "balance",
                horizon: 1,
                state: MAPE_STATES,
                measure: "backtest_mape",
                value: m,
                ci: None,
                thin: false,
            });
        }
    }
    let mut t = Columns::new_from_1m(f, rows.len());
    t.text(
        "method",
        false,
        rows.iter().map(|r| Some(r.method)).collect(),
    );
    t.text("basis", false, rows.iter().map(|r| Some(r.basis)).collect());
    t.push(
        field("horizon_months", DataType::Int32, false),
        Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.horizon))),
    );
    t.text(
        "state",
        false,
        rows.iter().map(|r| Some(state_label(r.state))).collect(),
    );
    t.text(
        "measure",
        false,
        rows.iter().map(|r| Some(r.measure)).collect(),
    );
    t.float("value", rows.iter().map(|r| Some(r.value)).collect());
    t.float("ci_low", rows.iter().map(|r| r.ci.map(|c| c.0)).collect());
    t.float("ci_high", rows.iter().map(|r| r.ci.map(|c| c.1)).collect());
    t.push(
        field("thin", DataType::Boolean, false),
        Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.thin).collect::<Vec<bool>>(),
        )),
    );
    t.finish()
}
