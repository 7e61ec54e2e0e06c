//! One join walk between an earlier snapshot and the run date that yields
//! both the bucket transition matrix and the recoveries on charged-off loans
//! over the period (metrics.md, "Collections and recovery"): the join is the
//! expensive part, so everything that needs loan-by-loan pairing of the two
//! dates is folded in the same pass.

use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::Result;

use crate::input::snapshot::Snapshot;
use crate::metrics::join::{fold_join, Order, Pair, ABSENT};
use crate::metrics::transitions::Matrix;
use crate::states::Status;

/// What the walk between two dates produced.
#[derive(Clone, Debug)]
pub struct Movement {
    pub matrix: Matrix,
    /// Recoveries over the period, cents: for each loan charged off at the
    /// run date, `recovered_to_date` now minus then; a loan that was not
    /// charged off at the earlier date (or not there) counts all of it.
    pub recovered: i128,
    /// Per run-date row: the same loan's row in the earlier snapshot, or
    /// [`ABSENT`]. Whatever later looks back per loan (early-warning
    /// signals, tier transitions) reads it instead of joining again.
    pub earlier_row: Vec<u32>,
}

/// What the parallel walk folds (the per-row array is written in place).
struct Fold {
    matrix: Matrix,
    recovered: i128,
}

/// Walks `a` (earlier) against `b` (run date); states are codes `< n`.
pub fn walk(
    a_snap: &Snapshot,
    state_a: &[u8],
    b_snap: &Snapshot,
    state_b: &[u8],
    order: Order,
    n: usize,
) -> Result<Movement> {
    let recovered_now = |j: u32| -> i128 {
        let j = j as usize;
        if b_snap.status[j] == Status::ChargedOff {
            b_snap.recovered[j] as i128
        } else {
            0
        }
    };
    // Each run-date row is met once by the walk, so relaxed stores into
    // its own slot never race.
    let earlier: Vec<AtomicU32> = (0..b_snap.len()).map(|_| AtomicU32::new(ABSENT)).collect();
    let folded = fold_join(
        a_snap,
        b_snap,
        order,
        || Fold {
            matrix: Matrix::empty(n),
            recovered: 0,
        },
        |m, p| match p {
            Pair::Both(i, j) => {
                let (iu, ju) = (i as usize, j as usize);
                earlier[ju].store(i, Ordering::Relaxed);
                m.matrix.add(
                    state_a[iu] as usize,
                    state_b[ju] as usize,
                    a_snap.balance[iu],
                );
                if b_snap.status[ju] == Status::ChargedOff {
                    let before = if a_snap.status[iu] == Status::ChargedOff {
                        a_snap.recovered[iu] as i128
                    } else {
                        0
                    };
                    m.recovered += recovered_now(j) - before;
                }
            }
            Pair::OnlyEarlier(i) => {
                m.matrix
                    .add(state_a[i as usize] as usize, n, a_snap.balance[i as usize])
            }
            Pair::OnlyLater(j) => {
                m.matrix
                    .add(n, state_b[j as usize] as usize, b_snap.balance[j as usize]);
                m.recovered += recovered_now(j);
            }
        },
        |a, b| Fold {
            matrix: a.matrix.merge(b.matrix),
            recovered: a.recovered + b.recovered,
        },
    )?;
    Ok(Movement {
        matrix: folded.matrix,
        recovered: folded.recovered,
        earlier_row: earlier.into_iter().map(AtomicU32::into_inner).collect(),
    })
}
