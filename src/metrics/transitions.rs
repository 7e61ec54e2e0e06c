//! Transition matrices between two dates (metrics.md, "Periods and
//! transitions"): rows are the state at the earlier date (or `NEW`), columns
//! the state at the run date (or `EXIT`). Cells hold loans and the
//! earlier-date balance (for `NEW`, the balance at the run date).
//!
//! The matrix is generic over the number of states: buckets (built during
//! the join walk, [`crate::metrics::movement`]) and collection tiers
//! ([`matrix_via_rows`], from the walk's row mapping).

use crate::input::snapshot::Snapshot;
use crate::metrics::movement::ABSENT;
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
