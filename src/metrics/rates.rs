//! Rates derived from transition matrices and ageing stocks: roll-forward,
//! cure and entry per bucket, the `1m` flow rate, and the book ratios. Each
//! rate keeps its numerator and denominator; count-basis rates carry a 95%
//! Wilson score interval (metrics.md, "Statistical honesty").

use crate::metrics::book::{Headline, Ratio};
use crate::metrics::tally::Tally;
use crate::metrics::transitions::Matrix;
use crate::states::{Bucket, BUCKETS};

/// Weighting of a rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    Count,
    Balance,
}

impl Basis {
    pub fn label(self) -> &'static str {
        match self {
            Basis::Count => "count",
            Basis::Balance => "balance",
        }
    }
}

/// One row of the `rates` table.
#[derive(Clone, Debug, PartialEq)]
pub struct Rate {
    pub metric: &'static str,
    pub state: String,
    pub basis: Basis,
    /// Loans (count basis) or cents (balance basis).
    pub numerator: i128,
    pub denominator: i128,
    pub value: Option<f64>,
    pub ci: Option<(f64, f64)>,
}

/// The 97.5% standard normal quantile.
const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score interval for `k` successes in `n` trials.
pub fn wilson(k: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 || k > n {
        return None;
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

pub fn rate_pair(metric: &'static str, state: &str, num: Tally, den: Tally, out: &mut Vec<Rate>) {
    let count = Ratio::new(num.loans as i128, den.loans as i128);
    out.push(Rate {
        metric,
        state: state.to_string(),
        basis: Basis::Count,
        numerator: count.numerator,
        denominator: count.denominator,
        value: count.value,
        ci: wilson(num.loans, den.loans),
    });
    let bal = Ratio::new(num.balance, den.balance);
    out.push(Rate {
        metric,
        state: state.to_string(),
        basis: Basis::Balance,
        numerator: bal.numerator,
        denominator: bal.denominator,
        value: bal.value,
        ci: None,
    });
}

/// Roll-forward (M0..M6+), cure (M1..M6+) and entry (M0) rates of a bucket
/// matrix. Denominators are row totals, `EXIT` included: a loan that left
/// the book neither rolled nor cured, but it was there to do so.
pub fn from_matrix(m: &Matrix) -> Vec<Rate> {
    assert_eq!(m.n, BUCKETS, "bucket matrix");
    let mut out = Vec::new();
    for from in Bucket::ACTIVE {
        let i = from.index();
        let total = m.row_total(i);
        let worse = m.row_sum(i, |to| {
            to < BUCKETS
                && Bucket::from_index(to)
                    .severity()
                    .is_some_and(|s| s > from.severity().expect("active bucket"))
        });
        rate_pair("roll_forward", from.label(), worse, total, &mut out);
        if from.is_delinquent() {
            let cured = m.row_sum(i, |to| {
                to == Bucket::M0.index() || to == Bucket::Paid.index()
            });
            rate_pair("cure", from.label(), cured, total, &mut out);
        } else {
            let entered = m.row_sum(i, |to| {
                to < BUCKETS && Bucket::from_index(to).is_delinquent()
            });
            rate_pair("entry", from.label(), entered, total, &mut out);
        }
    }
    // The headline cure rate: all loans delinquent at the earlier date
    // (M1..M6+ together), so a manager sees one number beside the entry rate.
    let (mut cured, mut total) = (Tally::default(), Tally::default());
    for from in Bucket::ACTIVE.iter().filter(|b| b.is_delinquent()) {
        let i = from.index();
        total.merge(&m.row_total(i));
        cured.merge(&m.row_sum(i, |to| {
            to == Bucket::M0.index() || to == Bucket::Paid.index()
        }));
    }
    rate_pair("cure", DELINQUENT, cured, total, &mut out);
    out
}

/// State label of the aggregate cure rate over all delinquent buckets.
pub const DELINQUENT: &str = "M1+";

/// Classic net flow rates (`1m` only): stock in bucket k+1 at the run date
/// over stock in bucket k a month earlier, for k = M0..M6. No join, so the
/// rate can exceed 1; it carries no interval (it is not a proportion).
pub fn flow(earlier: &[Tally; BUCKETS], now: &[Tally; BUCKETS]) -> Vec<Rate> {
    let mut out = Vec::new();
    for k in 0..(Bucket::ACTIVE.len() - 1) {
        let state = Bucket::from_index(k).label();
        for (basis, num, den) in [
            (
                Basis::Count,
                now[k + 1].loans as i128,
                earlier[k].loans as i128,
            ),
            (Basis::Balance, now[k + 1].balance, earlier[k].balance),
        ] {
            let r = Ratio::new(num, den);
            out.push(Rate {
                metric: "flow",
                state: state.to_string(),
                basis,
                numerator: r.numerator,
                denominator: r.denominator,
                value: r.value,
                ci: None,
            });
        }
    }
    out
}

/// The book ratios of the run date as rates (period `current`).
pub fn from_headline(h: &Headline) -> Vec<Rate> {
    let mut out = Vec::new();
    for (metric, state, pair) in [
        ("dpd1_plus", "active", h.dpd1),
        ("dpd30_plus", "active", h.dpd30),
        ("dpd90_plus", "active", h.dpd90),
        ("npl", "book", h.npl),
    ] {
        for (basis, r) in [(Basis::Count, pair[0]), (Basis::Balance, pair[1])] {
            out.push(Rate {
                metric,
                state: state.to_string(),
                basis,
                numerator: r.numerator,
                denominator: r.denominator,
                value: r.value,
                ci: match basis {
                    Basis::Count => wilson(r.numerator as u64, r.denominator as u64),
                    Basis::Balance => None,
                },
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_known_values() {
        // 1 of 10: the textbook interval is (0.0179, 0.4042).
        let (lo, hi) = wilson(1, 10).unwrap();
        assert!((lo - 0.017_875).abs() < 1e-5, "{lo}");
        assert!((hi - 0.404_155).abs() < 1e-5, "{hi}");
        let (lo, hi) = wilson(0, 5).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 0.434_482).abs() < 1e-5, "{hi}");
        assert_eq!(wilson(0, 0), None);
        let (lo, hi) = wilson(30, 30).unwrap();
        assert!(
            (hi - 1.0).abs() < 1e-12 && (lo - 0.886_5).abs() < 1e-3,
            "{lo} {hi}"
        );
    }
}
