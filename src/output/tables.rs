//! The published tables as Arrow record batches (schemas: README, "Output
//! tables"). Every table starts with `as_of_date`; money is
//! Decimal128(20, 2); rates are Float64. Rows come out in a fixed order
//! (dimension labels sorted, buckets in ladder order) so reruns give
//! byte-identical files.

use std::sync::Arc;

use anyhow::Result;
use arrow::array::{Date32Builder, Float64Builder, Int64Builder, StringBuilder};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::figures::Figures;
use crate::metrics::rates::{Basis, Rate};
use crate::output::recovery;
use crate::policy::tiers::{Tier, TIERS};
use crate::states::{Bucket, Class, BUCKETS, CLASSES};

/// Names of the tables this version publishes, in publication order.
pub const TABLES: &[&str] = &[
    "ageing",
    "classification",
    "transitions",
    "rates",
    "collateral",
    "collections",
    "recovery_cohorts",
    "vintage",
    "plans",
    "legal_pipeline",
    "credit_repair",
    "channels",
    "promises",
    "compliance",
    "forecast",
    "experiments",
    "drivers",
    "worklist",
];

use crate::base::calendar::date32;
use crate::output::columns::{batch, dates, field, label, money_type, Money};

/// `ageing`: product x region x credit_grade x bucket, non-empty cells only.
pub fn ageing(f: &Figures) -> Result<RecordBatch> {
    let (mut product, mut region, mut grade, mut bucket) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let mut loans = Int64Builder::new();
    let (mut bal, mut pd) = (
        Money::new("principal_balance"),
        Money::new("past_due_amount"),
    );
    let [np, nr, ng] = f.book.shape;
    let mut n = 0;
    for p in 0..np {
        for r in 0..nr {
            for g in 0..ng {
                for b in 0..BUCKETS {
                    let t = &f.book.ageing[f.book.ageing_index(p, r, g, b)];
                    if t.loans == 0 {
                        continue;
                    }
                    product.append_option(label(&f.labels.product, p));
                    region.append_option(label(&f.labels.region, r));
                    grade.append_option(label(&f.labels.grade, g));
                    bucket.append_value(Bucket::from_index(b).label());
                    loans.append_value(t.loans as i64);
                    bal.push(t.balance)?;
                    pd.push(t.past_due)?;
                    n += 1;
                }
            }
        }
    }
    batch(
        vec![
            field("as_of_date", DataType::Date32, false),
            field("product", DataType::Utf8, false),
            field("region", DataType::Utf8, true),
            field("credit_grade", DataType::Utf8, true),
            field("bucket", DataType::Utf8, false),
            field("loans", DataType::Int64, false),
            field("principal_balance", money_type(), false),
            field("past_due_amount", money_type(), false),
        ],
        vec![
            dates(f.as_of, n),
            Arc::new(product.finish()),
            Arc::new(region.finish()),
            Arc::new(grade.finish()),
            Arc::new(bucket.finish()),
            Arc::new(loans.finish()),
            bal.finish(),
            pd.finish(),
        ],
    )
}

/// `classification`: product x class, every class listed for every product.
pub fn classification(f: &Figures) -> Result<RecordBatch> {
    let (mut product, mut class) = (StringBuilder::new(), StringBuilder::new());
    let mut loans = Int64Builder::new();
    let mut bal = Money::new("principal_balance");
    let mut n = 0;
    for p in 0..f.book.shape[0] {
        let Some(name) = label(&f.labels.product, p) else {
            continue;
        };
        for c in Class::ALL {
            let t = &f.book.class[p * CLASSES + c as usize];
            product.append_value(name);
            class.append_value(c.label());
            loans.append_value(t.loans as i64);
            bal.push(t.balance)?;
            n += 1;
        }
    }
    batch(
        vec![
            field("as_of_date", DataType::Date32, false),
            field("product", DataType::Utf8, false),
            field("class", DataType::Utf8, false),
            field("loans", DataType::Int64, false),
            field("principal_balance", money_type(), false),
        ],
        vec![
            dates(f.as_of, n),
            Arc::new(product.finish()),
            Arc::new(class.finish()),
            Arc::new(loans.finish()),
            bal.finish(),
        ],
    )
}

/// Row label of a bucket matrix (index `BUCKETS` is `NEW`).
pub fn from_label(i: usize) -> &'static str {
    if i == BUCKETS {
        "NEW"
    } else {
        Bucket::from_index(i).label()
    }
}

/// Column label of a bucket matrix (index `BUCKETS` is `EXIT`).
pub fn to_label(i: usize) -> &'static str {
    if i == BUCKETS {
        "EXIT"
    } else {
        Bucket::from_index(i).label()
    }
}

/// Row label of a tier matrix: a tier, `PAID`, or `NEW`.
pub fn tier_from_label(i: usize) -> &'static str {
    match i {
        i if i < TIERS => Tier::ALL[i].label(),
        i if i == TIERS => "PAID",
        _ => "NEW",
    }
}

/// Column label of a tier matrix: a tier, `PAID`, or `EXIT`.
pub fn tier_to_label(i: usize) -> &'static str {
    match i {
        i if i < TIERS => Tier::ALL[i].label(),
        i if i == TIERS => "PAID",
        _ => "EXIT",
    }
}

/// `transitions`: every cell of every available period's matrix, zeros
/// included, so the matrix shape is the same every night.
pub fn transitions(f: &Figures) -> Result<RecordBatch> {
    let (mut period, mut dimension, mut from, mut to) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let mut from_date = Date32Builder::new();
    let mut loans = Int64Builder::new();
    let mut bal = Money::new("balance");
    let (mut experiment, mut arm) = (StringBuilder::new(), StringBuilder::new());
    let mut n = 0;
    for p in &f.periods {
        // The whole book's matrices, then the tier transitions of each
        // experiment arm (v2).
        let mut matrices = vec![
            (
                "bucket",
                &p.buckets,
                from_label as fn(usize) -> &'static str,
                to_label as fn(usize) -> &'static str,
                None,
            ),
            ("tier", &p.tiers, tier_from_label, tier_to_label, None),
        ];
        for a in &p.tier_arms {
            matrices.push((
                "tier",
                &a.matrix,
                tier_from_label,
                tier_to_label,
                Some((a.experiment.as_str(), a.arm.label())),
            ));
        }
        for (dim, m, from_of, to_of, split) in matrices {
            for i in 0..=m.n {
                for j in 0..=m.n {
                    let t = m.cell(i, j);
                    period.append_value(p.name);
                    dimension.append_value(dim);
                    experiment.append_option(split.map(|s| s.0));
                    arm.append_option(split.map(|s| s.1));
                    from_date.append_value(date32(p.from_date));
                    from.append_value(from_of(i));
                    to.append_value(to_of(j));
                    loans.append_value(t.loans as i64);
                    bal.push(t.balance)?;
                    n += 1;
                }
            }
        }
    }
    batch(
        vec![
            field("as_of_date", DataType::Date32, false),
            field("period", DataType::Utf8, false),
            field("dimension", DataType::Utf8, false),
            field("from_date", DataType::Date32, false),
            field("from_state", DataType::Utf8, false),
            field("to_state", DataType::Utf8, false),
            field("loans", DataType::Int64, false),
            field("balance", money_type(), false),
            field("experiment", DataType::Utf8, true),
            field("arm", DataType::Utf8, true),
        ],
        vec![
            dates(f.as_of, n),
            Arc::new(period.finish()),
            Arc::new(dimension.finish()),
            Arc::new(from_date.finish()),
            Arc::new(from.finish()),
            Arc::new(to.finish()),
            Arc::new(loans.finish()),
            bal.finish(),
            Arc::new(experiment.finish()),
            Arc::new(arm.finish()),
        ],
    )
}

/// `rates`: book ratios (period `current`) then each available period's rates.
pub fn rates(f: &Figures) -> Result<RecordBatch> {
    let (mut period, mut metric, mut state, mut basis) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let mut from_date = Date32Builder::new();
    let (mut value, mut lo, mut hi) = (
        Float64Builder::new(),
        Float64Builder::new(),
        Float64Builder::new(),
    );
    let (mut num, mut den) = (Money::new("numerator"), Money::new("denominator"));
    let mut n = 0;
    let groups = std::iter::once(("current", None, &f.current_rates)).chain(
        f.periods
            .iter()
            .map(|p| (p.name, Some(p.from_date), &p.rates)),
    );
    for (pname, pdate, rows) in groups {
        for r in rows.iter() {
            push_rate(
                r,
                &mut metric,
                &mut state,
                &mut basis,
                &mut value,
                &mut lo,
                &mut hi,
                &mut num,
                &mut den,
            )?;
            period.append_value(pname);
            from_date.append_option(pdate.map(date32));
            n += 1;
        }
    }
    batch(
        vec![
            field("as_of_date", DataType::Date32, false),
            field("period", DataType::Utf8, false),
            field("from_date", DataType::Date32, true),
            field("metric", DataType::Utf8, false),
            field("state", DataType::Utf8, false),
            field("basis", DataType::Utf8, false),
            field("value", DataType::Float64, true),
            field("numerator", money_type(), false),
            field("denominator", money_type(), false),
            field("ci_low", DataType::Float64, true),
            field("ci_high", DataType::Float64, true),
        ],
        vec![
            dates(f.as_of, n),
            Arc::new(period.finish()),
            Arc::new(from_date.finish()),
            Arc::new(metric.finish()),
            Arc::new(state.finish()),
            Arc::new(basis.finish()),
            Arc::new(value.finish()),
            num.finish(),
            den.finish(),
            Arc::new(lo.finish()),
            Arc::new(hi.finish()),
        ],
    )
}

#[allow(clippy::too_many_arguments)]
fn push_rate(
    r: &Rate,
    metric: &mut StringBuilder,
    state: &mut StringBuilder,
    basis: &mut StringBuilder,
    value: &mut Float64Builder,
    lo: &mut Float64Builder,
    hi: &mut Float64Builder,
    num: &mut Money,
    den: &mut Money,
) -> Result<()> {
    metric.append_value(r.metric);
    state.append_value(&r.state);
    basis.append_value(r.basis.label());
    value.append_option(r.value);
    lo.append_option(r.ci.map(|c| c.0));
    hi.append_option(r.ci.map(|c| c.1));
    // Counts are written as whole units in the money-typed columns (x100 cents).
    let scale = match r.basis {
        Basis::Count => 100,
        Basis::Balance => 1,
    };
    num.push(r.numerator * scale)?;
    den.push(r.denominator * scale)
}

/// All tables of a run, by name, in [`TABLES`] order.
/// `collateral`: secured loans not paid off, by product x CLTV band x
/// bucket (non-empty cells), routes summed.
pub fn collateral(f: &Figures) -> Result<RecordBatch> {
    use crate::metrics::collateral::{Secured, BANDS};
    use crate::metrics::strategy::ROUTES;
    let (mut product, mut band, mut bucket) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let mut loans = Int64Builder::new();
    let (mut bal, mut senior, mut coll, mut short, mut exposure) = (
        Money::new("principal_balance"),
        Money::new("senior_lien_balance"),
        Money::new("collateral_value"),
        Money::new("expected_shortfall"),
        Money::new("exposure"),
    );
    let c = &f.collateral;
    let mut n = 0;
    for p in 0..c.products {
        for (k, b_label) in BANDS.iter().enumerate() {
            for b in 0..BUCKETS {
                let mut t = Secured::default();
                for r in 0..ROUTES.len() {
                    t.merge(&c.cells[c.index(p, k, b, r)]);
                }
                if t.loans == 0 {
                    continue;
                }
                product.append_option(label(&f.labels.product, p));
                band.append_value(b_label);
                bucket.append_value(Bucket::from_index(b).label());
                loans.append_value(t.loans as i64);
                bal.push(t.balance)?;
                senior.push(t.senior)?;
                coll.push(t.collateral)?;
                short.push(t.shortfall)?;
                exposure.push(t.exposure)?;
                n += 1;
            }
        }
    }
    batch(
        vec![
            field("as_of_date", DataType::Date32, false),
            field("product", DataType::Utf8, false),
            field("cltv_band", DataType::Utf8, false),
            field("bucket", DataType::Utf8, false),
            field("loans", DataType::Int64, false),
            field("principal_balance", money_type(), false),
            field("senior_lien_balance", money_type(), false),
            field("collateral_value", money_type(), false),
            field("expected_shortfall", money_type(), false),
            field("exposure", money_type(), false),
        ],
        vec![
            dates(f.as_of, n),
            Arc::new(product.finish()),
            Arc::new(band.finish()),
            Arc::new(bucket.finish()),
            Arc::new(loans.finish()),
            bal.finish(),
            senior.finish(),
            coll.finish(),
            short.finish(),
            exposure.finish(),
        ],
    )
}

pub fn all(f: &Figures) -> Result<Vec<(&'static str, RecordBatch)>> {
    Ok(vec![
        ("ageing", ageing(f)?),
        ("classification", classification(f)?),
        ("transitions", transitions(f)?),
        ("rates", rates(f)?),
        ("collateral", collateral(f)?),
        ("collections", recovery::collections(f)?),
        ("recovery_cohorts", recovery::recovery_cohorts(f)?),
        ("vintage", recovery::vintage(f)?),
        ("plans", recovery::plans(f)?),
        ("legal_pipeline", recovery::legal_pipeline(f)?),
        ("credit_repair", recovery::credit_repair(f)?),
        ("channels", recovery::channels(f)?),
        ("promises", recovery::promises(f)?),
        ("compliance", recovery::compliance(f)?),
        ("forecast", super::forecast::forecast(f)?),
        ("experiments", super::experiments::experiments(f)?),
        ("drivers", super::drivers::drivers(f)?),
    ])
}
