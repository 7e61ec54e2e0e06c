//! Transition matrices between two dates (metrics.md, "Periods and
//! transitions"): rows are the state at the earlier date (or `NEW`), columns
//! the state at the run date (or `EXIT`). Cells hold loans and the
//! earlier-date balance (for `NEW`, the balance at the run date).
//!
//! The matrix is generic over the number of states: buckets (built during
//! the join walk, [`crate::metrics::movement`]) and collection tiers
//! ([`matrix_via_rows`], from the walk's row mapping).

use crate::input::snapshot::Snapshot;
use crate::metrics::join::ABSENT;
use crate::metrics::tally::merge_cells;
use crate::metrics::tally::Tally;

/// An `(n + 1) x (n + 1)` matrix: index `n` is `NEW` as a row, `EXIT` as a column.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Matrix {
    pub n: usize,
    pub cells: Vec<Tally>,
}

impl Matrix {
    pub fn empty(n: usize) -> Matrix {
        Matrix {
            n,
            cells: vec![Tally::default(); (n + 1) * (n + 1)],
        }
    }
    #[inline]
    pub fn cell(&self, from: usize, to: usize) -> &Tally {
        &self.cells[from * (self.n + 1) + to]
    }
    #[inline]
    pub(crate) fn add(&mut self, from: usize, to: usize, balance: i64) {
        self.cells[from * (self.n + 1) + to].add(balance, 0);
    }
    pub fn merge(mut self, o: Matrix) -> Matrix {
        merge_cells(&mut self.cells, &o.cells);
        self
    }
    /// Sum of a row (all columns including `EXIT`).
    pub fn row_total(&self, from: usize) -> Tally {
        let mut t = Tally::default();
        for to in 0..=self.n {
            t.merge(self.cell(from, to));
        }
        t
    }
    /// Sum of a column (all rows including `NEW`).
    pub fn col_total(&self, to: usize) -> Tally {
        let mut t = Tally::default();
        for from in 0..=self.n {
            t.merge(self.cell(from, to));
        }
        t
    }
    /// Sum of the cells of row `from` whose column satisfies `pick`.
    pub fn row_sum(&self, from: usize, pick: impl Fn(usize) -> bool) -> Tally {
        let mut t = Tally::default();
        for to in (0..=self.n).filter(|&c| pick(c)) {
            t.merge(self.cell(from, to));
        }
        t
    }
}

/// The matrix of `state_a` (earlier) against `state_b` (run date) from a
/// join already made: `earlier_row[j]` is run-date row j's row in `a` (or
/// [`ABSENT`]). `EXIT` is what the earlier states hold beyond the matched
/// rows, so no second join is needed (used for collection tiers, whose
/// run-date values need the first join's results).
pub fn matrix_via_rows(
    a_snap: &Snapshot,
    state_a: &[u8],
    b_snap: &Snapshot,
    state_b: &[u8],
    earlier_row: &[u32],
    n: usize,
) -> Matrix {
    use rayon::prelude::*;
    let from_b = super::ranges(b_snap.len())
        .into_par_iter()
        .map(|r| {
            let mut m = Matrix::empty(n);
            for j in r {
                match earlier_row[j] {
                    ABSENT => m.add(n, state_b[j] as usize, b_snap.balance[j]),
                    i => m.add(
                        state_a[i as usize] as usize,
                        state_b[j] as usize,
                        a_snap.balance[i as usize],
                    ),
                }
            }
            m
        })
        .reduce(|| Matrix::empty(n), Matrix::merge);
    // Earlier totals per state; what the matched rows do not account for left.
    let totals = super::ranges(a_snap.len())
        .into_par_iter()
        .map(|r| {
            let mut t = vec![Tally::default(); n];
            for i in r {
                t[state_a[i] as usize].add(a_snap.balance[i], 0);
            }
            t
        })
        .reduce(
            || vec![Tally::default(); n],
            |mut x, y| {
                merge_cells(&mut x, &y);
                x
            },
        );
    let mut m = from_b;
    for (s, total) in totals.iter().enumerate() {
        let matched = m.row_total(s);
        let exit = &mut m.cells[s * (n + 1) + n];
        exit.loans = total.loans - matched.loans;
        exit.balance = total.balance - matched.balance;
    }
    m
}

/// [`matrix_via_rows`] split into `groups` matrices, one per group code
/// `1..=groups` (code 0: in no group, counted nowhere). A loan's group is
/// `group_b` of its run-date row when given and not 0, else `group_a` of its
/// earlier row: with `group_b` a loan that was in a group on either date is
/// in that group's matrix (a `NEW` loan by its run-date group, a loan that
/// left by its earlier one); without, only the earlier date's group counts
/// and the `NEW` row stays empty. Used to split the tier transitions by the
/// champion / challenger arm, and the bucket transitions of the loans each
/// arm held a month ago (metrics.md v2, "Champion / challenger").
#[allow(clippy::too_many_arguments)]
pub fn matrices_by_group(
    a_snap: &Snapshot,
    state_a: &[u8],
    group_a: &[u8],
    b_snap: &Snapshot,
    state_b: &[u8],
    group_b: Option<&[u8]>,
    earlier_row: &[u32],
    n: usize,
    groups: usize,
) -> Vec<Matrix> {
    use rayon::prelude::*;
    let empty = || {
        (
            vec![Matrix::empty(n); groups],
            vec![Tally::default(); groups * n],
        )
    };
    let add = |mut x: (Vec<Matrix>, Vec<Tally>), y: (Vec<Matrix>, Vec<Tally>)| {
        for (a, b) in x.0.iter_mut().zip(&y.0) {
            merge_cells(&mut a.cells, &b.cells);
        }
        merge_cells(&mut x.1, &y.1);
        x
    };
    // The matched cells per group, and what they take from each earlier
    // group's states (the rest of those leaves: `EXIT`).
    let (mut out, taken) = super::ranges(b_snap.len())
        .into_par_iter()
        .map(|r| {
            let (mut m, mut taken) = empty();
            for j in r {
                let i = earlier_row[j];
                let today = group_b.map_or(0, |g| g[j]);
                if i == ABSENT {
                    if today != 0 {
                        m[today as usize - 1].add(n, state_b[j] as usize, b_snap.balance[j]);
                    }
                    continue;
                }
                let (i, before) = (i as usize, group_a[i as usize]);
                if before != 0 {
                    taken[(before as usize - 1) * n + state_a[i] as usize]
                        .add(a_snap.balance[i], 0);
                }
                let g = if today != 0 { today } else { before };
                if g != 0 {
                    m[g as usize - 1].add(
                        state_a[i] as usize,
                        state_b[j] as usize,
                        a_snap.balance[i],
                    );
                }
            }
            (m, taken)
        })
        .reduce(empty, add);
    let totals = super::ranges(a_snap.len())
        .into_par_iter()
        .map(|r| {
            let mut t = vec![Tally::default(); groups * n];
            for i in r {
                if group_a[i] != 0 {
                    t[(group_a[i] as usize - 1) * n + state_a[i] as usize]
                        .add(a_snap.balance[i], 0);
                }
            }
            t
        })
        .reduce(
            || vec![Tally::default(); groups * n],
            |mut x, y| {
                merge_cells(&mut x, &y);
                x
            },
        );
    for (g, m) in out.iter_mut().enumerate() {
        for s in 0..n {
            let (total, gone) = (&totals[g * n + s], &taken[g * n + s]);
            let exit = &mut m.cells[s * (n + 1) + n];
            exit.loans = total.loans - gone.loans;
            exit.balance = total.balance - gone.balance;
        }
    }
    out
}
