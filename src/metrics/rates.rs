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

/// Newcombe's hybrid score interval for the difference of two independent
/// proportions `k1/n1 - k2/n2` (method 10 of Newcombe, "Interval estimation
/// for the difference between independent proportions: comparison of eleven
/// methods", Statistics in Medicine 17, 1998): built from each arm's 95%
/// Wilson interval.
pub fn newcombe(k1: u64, n1: u64, k2: u64, n2: u64) -> Option<(f64, f64)> {
    let (l1, u1) = wilson(k1, n1)?;
    let (l2, u2) = wilson(k2, n2)?;
    let (p1, p2) = (k1 as f64 / n1 as f64, k2 as f64 / n2 as f64);
    let d = p1 - p2;
    Some((
        d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(),
        d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt(),
    ))
}

/// Two-sided p-value of the pooled two-proportion z-test of `k1/n1` against
/// `k2/n2`; `None` when an arm is empty or the pooled share is 0 or 1 (no
/// variance: nothing to test).
pub fn two_proportion_p(k1: u64, n1: u64, k2: u64, n2: u64) -> Option<f64> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pooled = (k1 + k2) as f64 / (n1f + n2f);
    if pooled <= 0.0 || pooled >= 1.0 {
        return None;
    }
    let se = (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    let z = (k1 as f64 / n1f - k2 as f64 / n2f) / se;
    Some(erfc(z.abs() / std::f64::consts::SQRT_2))
}

/// Loans per arm to detect a change from share `p1` to `p2` with a two-sided
/// 5% test and 80% power (the normal approximation without continuity
/// correction, as in Fleiss, "Statistical Methods for Rates and
/// Proportions"): what "no difference detectable yet" tells the manager.
pub fn loans_per_arm(p1: f64, p2: f64) -> Option<u64> {
    const Z80: f64 = 0.841_621_233_572_914_3;
    let d = (p2 - p1).abs();
    if d == 0.0 || !(0.0..=1.0).contains(&p1) || !(0.0..=1.0).contains(&p2) {
        return None;
    }
    let pbar = (p1 + p2) / 2.0;
    let a = Z95 * (2.0 * pbar * (1.0 - pbar)).sqrt();
    let b = Z80 * (p1 * (1.0 - p1) + p2 * (1.0 - p2)).sqrt();
    Some(((a + b).powi(2) / (d * d)).ceil() as u64)
}

/// The complementary error function: Numerical Recipes' `erfcc` (a
/// Chebyshev fit, fractional error below 1.2e-7 everywhere: enough for a
/// p-value).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
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
    /// Newcombe (1998), Table II, method 10: the paper's worked examples
    /// (recomputed independently with statsmodels'
    /// `confint_proportions_2indep(method="newcomb")`, which agrees).
    #[test]
    fn newcombe_matches_the_published_examples() {
        for (k1, n1, k2, n2, lo, hi) in [
            (56, 70, 48, 80, 0.0524, 0.3339),
            (9, 10, 3, 10, 0.1705, 0.8090),
            (6, 7, 2, 7, 0.0582, 0.8062),
            (5, 56, 0, 29, -0.0381, 0.1926),
            (0, 10, 0, 20, -0.1611, 0.2775),
            (10, 10, 0, 20, 0.6791, 1.0000),
            (10, 10, 0, 10, 0.6075, 1.0000),
        ] {
            let (l, h) = newcombe(k1, n1, k2, n2).unwrap();
            assert!(
                (l - lo).abs() < 5e-5 && (h - hi).abs() < 5e-5,
                "{k1}/{n1} - {k2}/{n2}: {l:.4}, {h:.4}"
            );
        }
        assert_eq!(newcombe(1, 0, 1, 2), None);
    }

    /// p-values of the pooled z-test as statsmodels' `proportions_ztest`
    /// gives them for the same examples.
    #[test]
    fn two_proportion_p_values() {
        for (k1, n1, k2, n2, p) in [
            (56, 70, 48, 80, 0.008_045_081_368_196_56),
            (9, 10, 3, 10, 0.006_169_899_320_544_151),
            (6, 7, 2, 7, 0.030_753_561_259_274_524),
            (5, 56, 0, 29, 0.097_186_568_170_579_73),
            (10, 10, 0, 20, 4.320_463_057_827_506e-8),
        ] {
            let got = two_proportion_p(k1, n1, k2, n2).unwrap();
            assert!(
                (got - p).abs() <= 2e-7 * p.max(1e-3),
                "{k1}/{n1} - {k2}/{n2}: {got} vs {p}"
            );
        }
        assert_eq!(two_proportion_p(0, 10, 0, 20), None);
    }

    #[test]
    fn loans_per_arm_for_a_five_point_difference() {
        // (1.959964 x sqrt(2 x 0.325 x 0.675) + 0.841621 x sqrt(0.21 + 0.2275))^2
        // / 0.05^2 = 1376.3: 1,377 loans per arm.
        assert_eq!(loans_per_arm(0.30, 0.35), Some(1377));
        assert_eq!(loans_per_arm(0.30, 0.30), None);
    }

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
