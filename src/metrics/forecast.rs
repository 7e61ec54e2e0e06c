//! The roll-rate forecast's arithmetic (metrics.md v2, "Forecast"): a
//! run-off projection of today's book through a monthly transition matrix,
//! with count-basis 95% intervals from Dirichlet draws of the matrix's rows.
//!
//! States are those of the duration matrix: the buckets `M0..M6+`, `WO`,
//! `PAID`, then `EXIT` (left the book otherwise). `WO`, `PAID` and `EXIT`
//! are absorbing, so the mass in `WO` at horizon h is the cumulative
//! charge-off expected by then, and the states always sum to the start's
//! total (no new loans enter).
//!
//! This module knows matrices and vectors only; which matrix (the cohort
//! `1m` one or the Aalen-Johansen one) and which start vector (loans or
//! balance) is the caller's.
//!
//! Expected values are model outputs, not booked amounts: they are `f64`.
//! A hand-worked matrix of halves and quarters projects exactly; mass is
//! conserved to rounding (checked, `conserved`).

use crate::base::rng::Rng;
use crate::metrics::duration::{identity, Probabilities, STATES};
use crate::metrics::tally::Tally;
use crate::metrics::transitions::Matrix;
use crate::states::{Bucket, BUCKETS};

/// Months projected.
pub const HORIZONS: usize = 6;
/// Dirichlet draws of the matrix for the intervals.
pub const DRAWS: usize = 1000;
/// The draws' seed: fixed, so reruns publish the same bytes.
pub const SEED: u64 = 0x005e_edf0_ca57;
/// The `EXIT` state's index.
pub const EXIT: usize = BUCKETS;

/// Whether a state keeps its mass for ever.
pub fn absorbing(state: usize) -> bool {
    state == Bucket::Wo.index() || state == Bucket::Paid.index() || state == EXIT
}

/// Transition counts (or balances) from the earlier date's states (rows,
/// `NEW` left out) to today's (columns, `EXIT` last).
pub type Counts = [[f64; STATES]; STATES];

/// A monthly matrix ready to project: row shares of the counts, identity
/// rows for the absorbing states and for rows with nothing in them (`thin`:
/// nobody was in that bucket a month ago, so nothing says where it goes).
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    pub p: Probabilities,
    pub thin: [bool; STATES],
}

impl Chain {
    pub fn from_counts(counts: &Counts) -> Chain {
        let mut p = identity();
        let mut thin = [false; STATES];
        for i in 0..STATES {
            if absorbing(i) {
                continue;
            }
            let total: f64 = counts[i].iter().sum();
            if total <= 0.0 {
                thin[i] = true;
                continue;
            }
            for j in 0..STATES {
                p[i][j] = counts[i][j] / total;
            }
        }
        Chain { p, thin }
    }

    /// A matrix estimated elsewhere (the Aalen-Johansen product), with the
    /// absorbing rows made absorbing; `thin` as the estimator says.
    pub fn from_probabilities(p: &Probabilities, thin: [bool; STATES]) -> Chain {
        let mut p = *p;
        let id = identity();
        for i in 0..STATES {
            if absorbing(i) {
                p[i] = id[i];
            }
        }
        Chain { p, thin }
    }
}

/// One projection of today's book: a method and a basis.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// `cohort_1m` (the `1m` transition matrix's row shares) or
    /// `duration_1m` (the Aalen-Johansen one-month matrix).
    pub method: &'static str,
    /// `count` (loans) or `balance` (principal balance, currency units).
    pub basis: &'static str,
    /// s_0: the book at the run date by state.
    pub start: [f64; STATES],
    /// s_1 .. s_6.
    pub path: Vec<[f64; STATES]>,
    /// 95% intervals per horizon and state (cohort method).
    pub ci: Option<Vec<[(f64, f64); STATES]>>,
    /// Rows that kept their mass for want of loans to estimate them.
    pub thin: [bool; STATES],
}

impl Projection {
    /// Expected new charge-off per month.
    pub fn new_charge_off(&self) -> Vec<f64> {
        new_charge_off(&self.start, &self.path)
    }
}

/// The forecast of a run: the cohort method on both bases (with
/// intervals) when the `1m` matrix exists, and the duration
/// method on the count basis when a whole month of nights is chained
/// (`duration`: its matrix and which rows nobody was at risk in).
pub fn projections(
    by_bucket: &[Tally; BUCKETS],
    cohort: Option<&Matrix>,
    duration: Option<(Probabilities, [bool; STATES])>,
) -> Vec<Projection> {
    let mut out = Vec::new();
    let Some(m) = cohort else {
        return out;
    };
    let mut loans = [0.0; STATES];
    let mut balance = [0.0; STATES];
    for i in 0..BUCKETS {
        loans[i] = by_bucket[i].loans as f64;
        balance[i] = by_bucket[i].balance as f64 / 100.0;
    }
    let (mut by_loans, mut by_balance) = ([[0.0; STATES]; STATES], [[0.0; STATES]; STATES]);
    for i in 0..BUCKETS {
        for j in 0..STATES {
            // Column BUCKETS of the transition matrix is EXIT, as here.
            let c = m.cell(i, j);
            by_loans[i][j] = c.loans as f64;
            by_balance[i][j] = c.balance as f64;
        }
    }
    // The balance basis's uncertainty comes from the number of loans
    // behind each row, not from its amount: its rows are drawn from
    // Dirichlet(n_i x balance share + 1/2), n_i the row's loans.
    let mut effective = [[0.0; STATES]; STATES];
    for i in 0..BUCKETS {
        let (n, b): (f64, f64) = (by_loans[i].iter().sum(), by_balance[i].iter().sum());
        if b > 0.0 {
            for j in 0..STATES {
                effective[i][j] = n * by_balance[i][j] / b;
            }
        }
    }
    // Per basis: the start, the counts whose row shares are the matrix, and
    // the counts its rows are drawn from.
    for (basis, start, shares, draws) in [
        ("count", &loans, &by_loans, &by_loans),
        ("balance", &balance, &by_balance, &effective),
    ] {
        let chain = Chain::from_counts(shares);
        out.push(Projection {
            method: "cohort_1m",
            basis,
            start: *start,
            path: project(start, &chain.p, HORIZONS),
            ci: Some(intervals(start, draws, &chain, HORIZONS, DRAWS, SEED)),
            thin: chain.thin,
        });
    }
    if let Some((p, thin)) = duration {
        let chain = Chain::from_probabilities(&p, thin);
        out.push(Projection {
            method: "duration_1m",
            basis: "count",
            start: loans,
            path: project(&loans, &chain.p, HORIZONS),
            ci: None,
            thin: chain.thin,
        });
    }
    out
}

/// One state's expected value one month ahead, as an earlier run published
/// it (read back by `history`).
#[derive(Clone, Debug, PartialEq)]
pub struct ForecastPoint {
    /// `count` or `balance`.
    pub basis: String,
    pub state: String,
    pub value: f64,
}

/// One state of the backtest: what the run one month earlier forecast for
/// today (its `cohort_1m` horizon 1) against today's book.
#[derive(Clone, Debug, PartialEq)]
pub struct BacktestRow {
    pub basis: &'static str,
    /// A bucket index (`M0`..`PAID`; `EXIT` has no actual).
    pub state: usize,
    pub forecast: f64,
    pub actual: f64,
}

/// The backtest of the run of `from_date` (the `1m` date).
#[derive(Clone, Debug, PartialEq)]
pub struct Backtest {
    pub from_date: chrono::NaiveDate,
    pub rows: Vec<BacktestRow>,
    /// Mean absolute percentage error over `M1..M6+`, balance basis, over
    /// the buckets with a balance today; `None` when none has.
    pub mape: Option<f64>,
}

/// Compares what the run of `from_date` forecast one month ahead with
/// today's book by bucket; `None` when that run published no forecast.
pub fn backtest(
    from_date: chrono::NaiveDate,
    earlier: &[ForecastPoint],
    by_bucket: &[Tally; BUCKETS],
) -> Option<Backtest> {
    if earlier.is_empty() {
        return None;
    }
    let mut rows = Vec::new();
    for basis in ["count", "balance"] {
        for (i, t) in by_bucket.iter().enumerate() {
            let label = Bucket::from_index(i).label();
            let Some(forecast) = earlier
                .iter()
                .find(|p| p.basis == basis && p.state == label)
                .map(|p| p.value)
            else {
                continue;
            };
            let actual = match basis {
                "count" => t.loans as f64,
                _ => t.balance as f64 / 100.0,
            };
            rows.push(BacktestRow {
                basis,
                state: i,
                forecast,
                actual,
            });
        }
    }
    let errors: Vec<f64> = rows
        .iter()
        .filter(|r| r.basis == "balance" && (1..=7).contains(&r.state) && r.actual > 0.0)
        .map(|r| (r.actual - r.forecast).abs() / r.actual)
        .collect();
    let mape = (!errors.is_empty()).then(|| errors.iter().sum::<f64>() / errors.len() as f64);
    Some(Backtest {
        from_date,
        rows,
        mape,
    })
}

/// `s P`.
pub fn step(s: &[f64; STATES], p: &Probabilities) -> [f64; STATES] {
    let mut out = [0.0; STATES];
    for (i, &mass) in s.iter().enumerate() {
        if mass == 0.0 {
            continue;
        }
        for (j, o) in out.iter_mut().enumerate() {
            *o += mass * p[i][j];
        }
    }
    out
}

/// `s_1 .. s_horizons`, `s_h = s_(h-1) P`.
pub fn project(s0: &[f64; STATES], p: &Probabilities, horizons: usize) -> Vec<[f64; STATES]> {
    let mut out = Vec::with_capacity(horizons);
    let mut s = *s0;
    for _ in 0..horizons {
        s = step(&s, p);
        out.push(s);
    }
    out
}

/// Expected new charge-off per horizon: the `WO` mass at h minus at h-1.
pub fn new_charge_off(s0: &[f64; STATES], path: &[[f64; STATES]]) -> Vec<f64> {
    let wo = Bucket::Wo.index();
    let mut before = s0[wo];
    path.iter()
        .map(|s| {
            let d = s[wo] - before;
            before = s[wo];
            d
        })
        .collect()
}

/// Whether every state vector of `path` sums to `s0`'s total (relative
/// error 1e-9): the forecast's reconciliation.
pub fn conserved(s0: &[f64; STATES], path: &[[f64; STATES]]) -> bool {
    let total: f64 = s0.iter().sum();
    path.iter().all(|s| {
        let t: f64 = s.iter().sum();
        (t - total).abs() <= 1e-9 * total.abs().max(1.0)
    })
}

/// A 95% interval per horizon and state of the count-basis projection:
/// the 2.5% and 97.5% quantiles over `draws` projections, each through a
/// matrix whose non-absorbing, non-thin rows are drawn from their
/// Dirichlet posterior (row counts + 1/2, Jeffreys, on the moves the row
/// showed; a move it never showed stays impossible). Where the draws lie
/// wholly on one side of the point forecast, the interval is widened to the
/// point, so it always contains it.
pub fn intervals(
    s0: &[f64; STATES],
    counts: &Counts,
    chain: &Chain,
    horizons: usize,
    draws: usize,
    seed: u64,
) -> Vec<[(f64, f64); STATES]> {
    let point = project(s0, &chain.p, horizons);
    // samples[h][state] = the draws' values
    let mut samples: Vec<Vec<Vec<f64>>> = (0..horizons)
        .map(|_| (0..STATES).map(|_| Vec::with_capacity(draws)).collect())
        .collect();
    for d in 0..draws {
        let mut rng = Rng::for_item(seed, d as u64);
        let mut p = chain.p;
        for i in 0..STATES {
            if absorbing(i) || chain.thin[i] {
                continue;
            }
            // The prior goes on the moves the row showed: a move never seen
            // (M0 straight to WO) given half a loan would, times a large
            // current bucket, dominate the interval of every later state.
            let alpha: Vec<f64> = counts[i]
                .iter()
                .map(|&c| if c > 0.0 { c + 0.5 } else { 0.0 })
                .collect();
            p[i].copy_from_slice(&dirichlet(&mut rng, &alpha));
        }
        for (h, s) in project(s0, &p, horizons).into_iter().enumerate() {
            for (j, v) in s.into_iter().enumerate() {
                samples[h][j].push(v);
            }
        }
    }
    samples
        .into_iter()
        .enumerate()
        .map(|(h, per_state)| {
            let mut out = [(0.0, 0.0); STATES];
            for (j, mut v) in per_state.into_iter().enumerate() {
                v.sort_by(f64::total_cmp);
                let (lo, hi) = (quantile(&v, 0.025), quantile(&v, 0.975));
                out[j] = (lo.min(point[h][j]), hi.max(point[h][j]));
            }
            out
        })
        .collect()
}

/// The q-quantile of sorted values (linear between order statistics).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let x = q * (sorted.len() - 1) as f64;
    let (i, f) = (x.floor() as usize, x - x.floor());
    match sorted.get(i + 1) {
        Some(next) => sorted[i] + f * (next - sorted[i]),
        None => sorted[i],
    }
}

/// One draw from Dirichlet(alpha): independent Gamma(alpha_k, 1) draws,
/// normalised.
fn dirichlet(rng: &mut Rng, alpha: &[f64]) -> Vec<f64> {
    // A zero parameter is a category with no mass.
    let g: Vec<f64> = alpha
        .iter()
        .map(|&a| if a > 0.0 { gamma(rng, a) } else { 0.0 })
        .collect();
    let total: f64 = g.iter().sum();
    g.into_iter().map(|x| x / total).collect()
}

/// Gamma(shape, 1) by Marsaglia and Tsang (2000); a shape below 1 through
/// Gamma(shape + 1) * U^(1/shape).
fn gamma(rng: &mut Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        let u = open_unit(rng);
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let (x, v) = loop {
            let x = normal(rng);
            let v = 1.0 + c * x;
            if v > 0.0 {
                break (x, v * v * v);
            }
        };
        let u = open_unit(rng);
        if u < 1.0 - 0.0331 * x.powi(4) || u.ln() < 0.5 * x * x + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

/// Uniform in (0, 1): never 0, so logarithms and powers stay finite.
fn open_unit(rng: &mut Rng) -> f64 {
    ((rng.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// Standard normal by Box-Muller (one of the pair).
fn normal(rng: &mut Rng) -> f64 {
    let (u1, u2) = (open_unit(rng), open_unit(rng));
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::{prop_assert, proptest, ProptestConfig};

    const M0: usize = 0;
    const M1: usize = 1;
    const M2: usize = 2;
    const WO: usize = 8;

    /// Three live buckets worked by hand: M0 stays 3/4, goes M1 1/4; M1
    /// cures 1/2, rolls 1/2; M2 charges off 1/2, cures 1/4, stays 1/4.
    fn hand() -> Counts {
        let mut c = [[0.0; STATES]; STATES];
        c[M0][M0] = 300.0;
        c[M0][M1] = 100.0;
        c[M1][M0] = 50.0;
        c[M1][M2] = 50.0;
        c[M2][WO] = 20.0;
        c[M2][M0] = 10.0;
        c[M2][M2] = 10.0;
        c
    }

    fn s0() -> [f64; STATES] {
        let mut s = [0.0; STATES];
        s[M0] = 64.0;
        s[M1] = 32.0;
        s[M2] = 16.0;
        s
    }

    #[test]
    fn a_hand_worked_matrix_projects_exactly() {
        let chain = Chain::from_counts(&hand());
        let path = project(&s0(), &chain.p, 2);
        // h = 1: M0 = 64*3/4 + 32/2 + 16/4 = 68; M1 = 64/4 = 16;
        // M2 = 32/2 + 16/4 = 20; WO = 16/2 = 8.
        let mut want1 = [0.0; STATES];
        want1[M0] = 68.0;
        want1[M1] = 16.0;
        want1[M2] = 20.0;
        want1[WO] = 8.0;
        assert_eq!(path[0], want1);
        // h = 2: M0 = 68*3/4 + 16/2 + 20/4 = 64; M1 = 68/4 = 17;
        // M2 = 16/2 + 20/4 = 13; WO = 8 + 20/2 = 18.
        let mut want2 = [0.0; STATES];
        want2[M0] = 64.0;
        want2[M1] = 17.0;
        want2[M2] = 13.0;
        want2[WO] = 18.0;
        assert_eq!(path[1], want2);
        assert_eq!(new_charge_off(&s0(), &path), vec![8.0, 10.0]);
        assert!(conserved(&s0(), &path));
    }

    #[test]
    fn empty_and_absorbing_rows_keep_their_mass() {
        let chain = Chain::from_counts(&hand());
        // M3..M6+ had nobody a month ago: identity rows, flagged thin.
        for i in 3..BUCKETS - 2 {
            assert!(chain.thin[i]);
            assert_eq!(chain.p[i], identity()[i]);
        }
        for i in [WO, Bucket::Paid.index(), EXIT] {
            assert!(!chain.thin[i]);
            assert_eq!(chain.p[i], identity()[i]);
        }
        let mut s = [0.0; STATES];
        s[4] = 10.0; // M4 today, a bucket empty a month ago
        assert_eq!(project(&s, &chain.p, 3)[2][4], 10.0);
    }

    #[test]
    fn the_backtest_compares_last_months_forecast_with_today() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 10, 29).unwrap();
        let mut book = [Tally::default(); BUCKETS];
        book[M1] = Tally {
            loans: 10,
            balance: 100_000,
            past_due: 0,
        };
        book[M2] = Tally {
            loans: 4,
            balance: 50_000,
            past_due: 0,
        };
        let point = |basis: &str, state: &str, value: f64| ForecastPoint {
            basis: basis.into(),
            state: state.into(),
            value,
        };
        let earlier = vec![
            point("balance", "M1", 800.0),
            point("balance", "M2", 600.0),
            point("count", "M1", 9.0),
        ];
        let b = backtest(d, &earlier, &book).unwrap();
        assert_eq!(b.rows.len(), 3);
        // |1000 - 800| / 1000 = 0.2 and |500 - 600| / 500 = 0.2.
        assert!((b.mape.unwrap() - 0.2).abs() < 1e-12);
        assert_eq!(backtest(d, &[], &book), None);
    }

    #[test]
    fn intervals_are_reproducible() {
        let chain = Chain::from_counts(&hand());
        let a = intervals(&s0(), &hand(), &chain, 3, 200, SEED);
        let b = intervals(&s0(), &hand(), &chain, 3, 200, SEED);
        assert_eq!(a, b);
    }

    #[test]
    fn gamma_draws_have_the_right_mean() {
        let mut rng = Rng::for_item(1, 2);
        for shape in [0.5, 1.0, 3.5, 50.0] {
            let n = 20_000;
            let mean: f64 = (0..n).map(|_| gamma(&mut rng, shape)).sum::<f64>() / n as f64;
            assert!(
                (mean - shape).abs() < 0.05 * shape.max(1.0),
                "{shape}: {mean}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Mass is conserved at every horizon; the intervals contain the
        /// point forecast and narrow as the counts grow.
        #[test]
        fn conserved_contained_and_narrowing(
            cells in proptest::collection::vec(0u32..50, 3 * 4),
            start in proptest::collection::vec(1u32..1000, 3),
        ) {
            let mut counts = [[0.0; STATES]; STATES];
            let targets = [M0, M1, M2, WO];
            for i in 0..3 {
                for (k, &j) in targets.iter().enumerate() {
                    counts[i][j] = cells[i * 4 + k] as f64 + 1.0;
                }
            }
            let mut s = [0.0; STATES];
            for i in 0..3 {
                s[i] = start[i] as f64;
            }
            let chain = Chain::from_counts(&counts);
            let path = project(&s, &chain.p, HORIZONS);
            prop_assert!(conserved(&s, &path));
            let small = intervals(&s, &counts, &chain, HORIZONS, 300, SEED);
            let mut big_counts = counts;
            for row in big_counts.iter_mut() {
                for c in row.iter_mut() {
                    *c *= 100.0;
                }
            }
            let big = intervals(&s, &big_counts, &Chain::from_counts(&big_counts), HORIZONS, 300, SEED);
            let width = |iv: &Vec<[(f64, f64); STATES]>, h: usize, j: usize| iv[h][j].1 - iv[h][j].0;
            for h in 0..HORIZONS {
                for j in 0..STATES {
                    prop_assert!(small[h][j].0 <= path[h][j] + 1e-9 && path[h][j] <= small[h][j].1 + 1e-9);
                    prop_assert!(big[h][j].0 <= path[h][j] + 1e-9 && path[h][j] <= big[h][j].1 + 1e-9);
                }
                // The charge-off's interval narrows with 100 times the loans.
                prop_assert!(width(&big, h, WO) < width(&small, h, WO));
            }
        }
    }
}
