//! `Tally`: the exact, mergeable unit every aggregate is built from.

use serde::Serialize;

/// Loans and money (cents) in one cell of an aggregate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Tally {
    pub loans: u64,
    /// Principal balance in cents (`i128`: no sum over any book can overflow).
    pub balance: i128,
    /// Past-due amount in cents.
    pub past_due: i128,
}

impl Tally {
    #[inline]
    pub fn add(&mut self, balance: i64, past_due: i64) {
        self.loans += 1;
        self.balance += balance as i128;
        self.past_due += past_due as i128;
    }
    #[inline]
    pub fn merge(&mut self, o: &Tally) {
        self.loans += o.loans;
        self.balance += o.balance;
        self.past_due += o.past_due;
    }
}

/// Adds `b` into `a` cell by cell (same shape).
pub fn merge_cells(a: &mut [Tally], b: &[Tally]) {
    debug_assert_eq!(a.len(), b.len());
    for (x, y) in a.iter_mut().zip(b) {
        x.merge(y);
    }
}
