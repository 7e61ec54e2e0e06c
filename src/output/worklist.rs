//! The `worklist` table: one row per active or charged-off loan of the run
//! date with its bucket, class, collection tier and the reason code of the
//! rule that gave it, early-warning flag and signals, CLTV, second-lien
//! route and expected shortfall (data-contract.md). Rows keep the input's
//! order. The table is split into files of [`ROWS_PER_FILE`] loans so that
//! they are built and encoded in parallel; the split depends only on the
//! row count, never on the thread count, so reruns give the same bytes.

use std::sync::Arc;

use anyhow::Result;
use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;

use crate::figures::Figures;
use crate::input::snapshot::{LoanIds, Snapshot};
use crate::metrics::strategy::{NO_TIER, ROUTES, SIGNALS};
use crate::output::tables::{date32, money_type, Money};
use crate::policy::tiers::Tier;
use crate::policy::Policy;
use crate::states::{Bucket, Class};

/// Loans per worklist file.
pub const ROWS_PER_FILE: usize = 1 << 20;

pub fn schema(int_ids: bool) -> Schema {
    let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
    Schema::new(vec![
        f("as_of_date", DataType::Date32, false),
        f(
            "loan_id",
            if int_ids {
                DataType::Int64
            } else {
                DataType::Utf8
            },
            false,
        ),
        f("bucket", DataType::Utf8, false),
        f("class", DataType::Utf8, false),
        f("tier", DataType::Utf8, false),
        f("tier_reason", DataType::Utf8, false),
        f("early_warning", DataType::Boolean, false),
        f(
            "ew_reasons",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            false,
        ),
        f("cltv", DataType::Float64, true),
        f("route", DataType::Utf8, true),
        f("expected_shortfall", money_type(), true),
        f("product", DataType::Utf8, false),
        f("region", DataType::Utf8, true),
    ])
}

/// The run-date rows that get a worklist row (active or charged off), in order.
pub fn rows(f: &Figures) -> Vec<u32> {
    (0..f.strategy.tier.len() as u32)
        .filter(|&i| f.strategy.tier[i as usize] != NO_TIER)
        .collect()
}

/// How many files `rows` loans take (at least one, possibly empty).
pub fn files(rows: usize) -> usize {
    rows.div_ceil(ROWS_PER_FILE).max(1)
}

/// Builds and writes the worklist files in parallel, one batch per file,
/// each dropped once written (so at most one batch per thread is in
/// memory). Returns the row count of each file.
pub fn write(
    f: &Figures,
    cur: &Snapshot,
    policy: &Policy,
    rows: &[u32],
    paths: &[std::path::PathBuf],
    as_of: &str,
) -> Result<Vec<usize>> {
    let schema = Arc::new(schema(cur.ids.is_int()));
    let chunks: Vec<&[u32]> = if rows.is_empty() {
        vec![&[]]
    } else {
        rows.chunks(ROWS_PER_FILE).collect()
    };
    assert_eq!(chunks.len(), paths.len(), "one path per file");
    let written = chunks
        .par_iter()
        .zip(paths)
        .map(|(chunk, path)| {
            let batch = build(f, cur, policy, chunk, schema.clone())?;
            crate::output::parquet_file::write(
                path,
                "worklist",
                as_of,
                std::slice::from_ref(&batch),
            )?;
            Ok(batch.num_rows())
        })
        .collect::<Vec<_>>();
    crate::error::first_error(written)
}

fn build(
    f: &Figures,
    cur: &Snapshot,
    policy: &Policy,
    rows: &[u32],
    schema: Arc<Schema>,
) -> Result<RecordBatch> {
    let s = &f.strategy;
    let n = rows.len();
    let ids: ArrayRef = match &cur.ids {
        LoanIds::Int(v) => {
            let mut b = Int64Builder::with_capacity(n);
            for &r in rows {
                b.append_value(v[r as usize]);
            }
            Arc::new(b.finish())
        }
        LoanIds::Str { .. } => {
            let mut b = StringBuilder::with_capacity(n, n * 12);
            for &r in rows {
                b.append_value(String::from_utf8_lossy(cur.ids.str_bytes(r as usize)));
            }
            Arc::new(b.finish())
        }
    };
    let st = &f.loan_states;
    let mut ew = BooleanBuilder::with_capacity(n);
    let mut reasons = ListBuilder::new(StringBuilder::new());
    let mut cltv = Float64Builder::with_capacity(n);
    let mut shortfall = Money::new("expected_shortfall");
    for &r in rows {
        let r = r as usize;
        ew.append_value(s.signals[r] != 0);
        for (k, name) in SIGNALS.iter().enumerate() {
            if s.signals[r] & (1 << k) != 0 {
                reasons.values().append_value(name);
            }
        }
        reasons.append(true);
        cltv.append_option(Some(s.cltv[r]).filter(|x| x.is_finite()));
        if s.route[r] == 0 {
            shortfall.push_null();
        } else {
            shortfall.push(s.shortfall[r] as i128)?;
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(arrow::array::Date32Array::from(vec![date32(cur.date); n])),
        ids,
        text_column(rows, |r| {
            Some(Bucket::from_index(st.bucket[r] as usize).label())
        }),
        text_column(rows, |r| Some(Class::ALL[st.class[r] as usize].label())),
        text_column(rows, |r| Some(Tier::ALL[s.tier[r] as usize].label())),
        text_column(rows, |r| {
            Some(policy.rules[s.rule[r] as usize].reason.as_str())
        }),
        Arc::new(ew.finish()),
        Arc::new(reasons.finish()),
        Arc::new(cltv.finish()),
        text_column(rows, |r| ROUTES[s.route[r] as usize].map(|x| x.label())),
        shortfall.finish(),
        text_column(rows, |r| {
            cur.product.labels[cur.product.codes[r] as usize].as_deref()
        }),
        text_column(rows, |r| {
            cur.region.labels[cur.region.codes[r] as usize].as_deref()
        }),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// A Utf8 column of the given rows.
fn text_column<'a>(rows: &[u32], get: impl Fn(usize) -> Option<&'a str>) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 8);
    for &r in rows {
        b.append_option(get(r as usize));
    }
    Arc::new(b.finish())
}
