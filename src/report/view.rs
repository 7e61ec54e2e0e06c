//! The report's view model: plain, already-formatted strings and flags,
//! built once from [`Figures`]. This is the only thing templates see.

use serde::Serialize;

use crate::figures::{Figures, Period};
use crate::metrics::book::{Headline, Ratio};
use crate::output::tables::{from_label, to_label};
use crate::report::format;
use crate::states::{Bucket, Class, BUCKETS};

#[derive(Serialize)]
pub struct Report {
    pub as_of_date: String,
    pub program_version: String,
    pub book: Vec<Kpi>,
    pub ratios: Vec<RatioRow>,
    pub ageing: Vec<AgeingRow>,
    pub ageing_total: AgeingRow,
    pub classes: Vec<ClassRow>,
    pub roll_1m: Option<MatrixView>,
    pub unavailable: Vec<String>,
    pub checks: Vec<CheckRow>,
}

#[derive(Serialize)]
pub struct Kpi {
    pub label: String,
    pub value: String,
}

#[derive(Serialize)]
pub struct RatioRow {
    pub label: String,
    pub count: String,
    pub balance: String,
    pub count_detail: String,
    pub vs_prev: String,
    pub vs_1m: String,
    /// `worse`, `better` or `flat` against `prev` (a higher delinquency ratio is worse).
    pub trend_prev: String,
    pub trend_1m: String,
}

#[derive(Serialize)]
pub struct AgeingRow {
    pub bucket: String,
    pub loans: String,
    pub loans_share: String,
    pub balance: String,
    pub balance_share: String,
    pub past_due: String,
}

#[derive(Serialize)]
pub struct ClassRow {
    pub class: String,
    pub loans: String,
    pub balance: String,
    pub balance_share: String,
    pub npl: bool,
}

#[derive(Serialize)]
pub struct MatrixView {
    pub from_date: String,
    pub columns: Vec<String>,
    pub rows: Vec<MatrixRow>,
}

#[derive(Serialize)]
pub struct MatrixRow {
    pub from: String,
    pub total: String,
    pub thin: bool,
    pub cells: Vec<MatrixCell>,
}

#[derive(Serialize)]
pub struct MatrixCell {
    pub share: String,
    pub loans: String,
    /// Background intensity 0..=100 for the heat shading.
    pub heat: u8,
}

#[derive(Serialize)]
pub struct CheckRow {
    pub name: String,
    pub passed: bool,
}

/// Fewer loans than this in a row make its rates "thin".
pub const THIN: u64 = 30;

fn share(num: i128, den: i128) -> Option<f64> {
    (den != 0).then(|| num as f64 / den as f64)
}

fn trend(now: Option<f64>, then: Option<f64>) -> String {
    match (now, then) {
        (Some(a), Some(b)) if (a - b).abs() < 5e-5 => "flat",
        (Some(a), Some(b)) if a > b => "worse",
        (Some(_), Some(_)) => "better",
        _ => "na",
    }
    .to_string()
}

fn ratio_rows(h: &Headline, prev: Option<&Period>, m1: Option<&Period>) -> Vec<RatioRow> {
    let pick = |h: &Headline, k: usize| -> [Ratio; 2] {
        match k {
            0 => h.dpd1,
            1 => h.dpd30,
            2 => h.dpd90,
            _ => h.npl,
        }
    };
    ["DPD1+", "DPD30+", "DPD90+", "NPL ratio"]
        .iter()
        .enumerate()
        .map(|(k, label)| {
            let now = pick(h, k);
            let then_prev = prev.map(|p| pick(&p.headline, k)[1].value);
            let then_1m = m1.map(|p| pick(&p.headline, k)[1].value);
            let delta = |then: Option<Option<f64>>| match (now[1].value, then.flatten()) {
                (Some(a), Some(b)) => Some(a - b),
                _ => None,
            };
            RatioRow {
                label: label.to_string(),
                count: format::pct(now[0].value),
                balance: format::pct(now[1].value),
                count_detail: format!(
                    "{} / {}",
                    format::int(now[0].numerator),
                    format::int(now[0].denominator)
                ),
                vs_prev: format::pp(delta(then_prev)),
                vs_1m: format::pp(delta(then_1m)),
                trend_prev: trend(now[1].value, then_prev.flatten()),
                trend_1m: trend(now[1].value, then_1m.flatten()),
            }
        })
        .collect()
}

fn matrix_view(p: &Period) -> MatrixView {
    let m = &p.buckets;
    let columns = (0..=m.n).map(|j| to_label(j).to_string()).collect();
    let rows = (0..=m.n)
        .filter(|&i| m.row_total(i).loans > 0)
        .map(|i| {
            let total = m.row_total(i).loans;
            MatrixRow {
                from: from_label(i).to_string(),
                total: format::int(total as i128),
                thin: total < THIN,
                cells: (0..=m.n)
                    .map(|j| {
                        let c = m.cell(i, j).loans;
                        let s = share(c as i128, total as i128);
                        MatrixCell {
                            share: if c == 0 {
                                String::new()
                            } else {
                                format::pct(s)
                            },
                            loans: if c == 0 {
                                String::new()
                            } else {
                                format::int(c as i128)
                            },
                            heat: (s.unwrap_or(0.0) * 100.0).round() as u8,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    MatrixView {
        from_date: p.from_date.to_string(),
        columns,
        rows,
    }
}

/// Builds the view of a run's figures.
pub fn build(f: &Figures) -> Report {
    let h = &f.headline;
    let total = f.by_bucket.iter().fold((0u64, 0i128, 0i128), |a, t| {
        (a.0 + t.loans, a.1 + t.balance, a.2 + t.past_due)
    });
    let ageing = (0..BUCKETS)
        .map(|b| {
            let t = &f.by_bucket[b];
            AgeingRow {
                bucket: Bucket::from_index(b).label().to_string(),
                loans: format::int(t.loans as i128),
                loans_share: format::pct(share(t.loans as i128, total.0 as i128)),
                balance: format::money(t.balance),
                balance_share: format::pct(share(t.balance, total.1)),
                past_due: format::money(t.past_due),
            }
        })
        .collect();
    let by_class = f.book.by_class();
    let book_balance: i128 = by_class.iter().map(|t| t.balance).sum();
    let classes = Class::ALL
        .iter()
        .map(|&c| {
            let t = &by_class[c as usize];
            ClassRow {
                class: c.label().replace('_', " "),
                loans: format::int(t.loans as i128),
                balance: format::money(t.balance),
                balance_share: format::pct(share(t.balance, book_balance)),
                npl: c.is_npl(),
            }
        })
        .collect();
    Report {
        as_of_date: f.as_of.to_string(),
        program_version: env!("CARGO_PKG_VERSION").to_string(),
        book: vec![
            Kpi {
                label: "Loans in snapshot".into(),
                value: format::int(h.loans as i128),
            },
            Kpi {
                label: "Principal balance".into(),
                value: format::money(h.balance),
            },
            Kpi {
                label: "Active loans".into(),
                value: format::int(h.active_loans as i128),
            },
            Kpi {
                label: "Active balance".into(),
                value: format::money(h.active_balance),
            },
        ],
        ratios: ratio_rows(h, f.period("prev"), f.period("1m")),
        ageing,
        ageing_total: AgeingRow {
            bucket: "Total".into(),
            loans: format::int(total.0 as i128),
            loans_share: format::pct(Some(1.0).filter(|_| total.0 > 0)),
            balance: format::money(total.1),
            balance_share: format::pct(Some(1.0).filter(|_| total.1 > 0)),
            past_due: format::money(total.2),
        },
        classes,
        roll_1m: f.period("1m").map(matrix_view),
        unavailable: f.unavailable.iter().map(|s| s.to_string()).collect(),
        checks: f
            .checks
            .iter()
            .map(|c| CheckRow {
                name: c.name.clone(),
                passed: c.passed,
            })
            .collect(),
    }
}
