//! The `drivers` table (v2; schema: README, "Output tables"): why DPD30+
//! and NPL by balance moved against `prev` and `1m`. One row per period,
//! metric, dimension (product, region, grade) and segment (sorted, a null
//! label first), with the segment's share of the denominator and its ratio
//! on both dates, and its mix and rate effects (metrics.md v2, "Drivers").
//! Over a (period, metric, dimension) the effects add up to the ratio's
//! change (a check in the manifest).

use std::sync::Arc;

use anyhow::Result;
use arrow::array::Date32Array;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::base::calendar::date32;
use crate::figures::Figures;
use crate::output::columns::field;
use crate::output::recovery::Columns;

pub fn drivers(f: &Figures) -> Result<RecordBatch> {
    let rows: Vec<_> = f
        .periods
        .iter()
        .flat_map(|p| {
            p.drivers
                .iter()
                .flat_map(move |s| s.drivers.iter().map(move |d| (p, s, d)))
        })
        .collect();
    let mut t = Columns::new(f, rows.len());
    t.text(
        "period",
        false,
        rows.iter().map(|r| Some(r.0.name)).collect(),
    );
    t.push(
        field("from_date", DataType::Date32, false),
        Arc::new(Date32Array::from_iter_values(
            rows.iter().map(|r| date32(r.0.from_date)),
        )),
    );
    t.text(
        "metric",
        false,
        rows.iter().map(|r| Some(r.1.metric)).collect(),
    );
    t.text(
        "dimension",
        false,
        rows.iter().map(|r| Some(r.1.dimension)).collect(),
    );
    t.text(
        "segment",
        true,
        rows.iter().map(|r| r.2.segment.as_deref()).collect(),
    );
    t.float(
        "weight_then",
        rows.iter().map(|r| Some(r.2.weight_then)).collect(),
    );
    t.float(
        "weight_now",
        rows.iter().map(|r| Some(r.2.weight_now)).collect(),
    );
    t.float("ratio_then", rows.iter().map(|r| r.2.ratio_then).collect());
    t.float("ratio_now", rows.iter().map(|r| r.2.ratio_now).collect());
    t.float("mix_effect", rows.iter().map(|r| Some(r.2.mix)).collect());
    t.float("rate_effect", rows.iter().map(|r| Some(r.2.rate)).collect());
    t.finish()
}
