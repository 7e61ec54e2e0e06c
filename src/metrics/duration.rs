//! The duration-based monthly transition matrix (Aalen-Johansen estimator,
//! metrics.md "Statistical honesty"): the product over the nights of the
//! month of (I + dA(u)), with dA_ij(u) = N_ij(u) / Y_i(u) for i != j and
//! dA_ii(u) = -sum_{j != i} dA_ij(u), from each night's `prev` bucket
//! transitions. I + dA(u) is the night's row-share matrix, so the product
//! is a chain of one-night matrices: unlike the cohort `1m` matrix, which
//! only compares two snapshots, it sees the moves inside the month (a loan
//! that went M1 -> M2 -> M1 counts both moves).
//!
//! States are the buckets plus `EXIT` (absorbing: a loan that left the
//! book stays out). `NEW` rows are not at risk at the start of a night and
//! are left out. A state nobody was in on a night keeps its row (identity).

use crate::states::BUCKETS;

/// States of the product: the buckets, then `EXIT`.
pub const STATES: usize = BUCKETS + 1;

/// One night's bucket transition counts: `loans[from][to]` over buckets
/// and `EXIT` (index `BUCKETS`); the `NEW` row is not included.
pub type NightCounts = [[u64; STATES]; STATES];

/// A row-stochastic matrix over [`STATES`].
pub type Probabilities = [[f64; STATES]; STATES];

pub fn identity() -> Probabilities {
    let mut m = [[0.0; STATES]; STATES];
    for (i, row) in m.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    m
}

/// I + dA(u) for one night: row shares where the row had loans, identity
/// rows elsewhere; `EXIT` is absorbing.
pub fn night_step(n: &NightCounts) -> Probabilities {
    let mut p = identity();
    for i in 0..BUCKETS {
        let at_risk: u64 = n[i].iter().sum();
        if at_risk == 0 {
            continue;
        }
        for j in 0..STATES {
            p[i][j] = n[i][j] as f64 / at_risk as f64;
        }
    }
    p
}

/// `a x b`.
pub fn multiply(a: &Probabilities, b: &Probabilities) -> Probabilities {
    let mut c = [[0.0; STATES]; STATES];
    for i in 0..STATES {
        for k in 0..STATES {
            if a[i][k] == 0.0 {
                continue;
            }
            for j in 0..STATES {
                c[i][j] += a[i][k] * b[k][j];
            }
        }
    }
    c
}

/// The product of the nights' steps, in date order.
pub fn product<'a>(nights: impl IntoIterator<Item = &'a NightCounts>) -> Probabilities {
    nights
        .into_iter()
        .fold(identity(), |acc, n| multiply(&acc, &night_step(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const M0: usize = 0;
    const M1: usize = 1;
    const M2: usize = 2;
    const EXIT: usize = BUCKETS;

    #[test]
    fn one_night_is_its_row_shares() {
        let mut n = [[0u64; STATES]; STATES];
        n[M0][M0] = 3;
        n[M0][M1] = 1;
        let p = product([&n]);
        assert_eq!(p[M0][M0], 0.75);
        assert_eq!(p[M0][M1], 0.25);
        // Empty rows and EXIT stay where they are.
        assert_eq!(p[M2][M2], 1.0);
        assert_eq!(p[EXIT][EXIT], 1.0);
    }

    #[test]
    fn two_nights_chain_through_the_middle_state() {
        // Night 1: of 4 in M0, 2 roll to M1. Night 2: of the M1 loans, half
        // cure and half roll to M2; M0 loans stay.
        let mut a = [[0u64; STATES]; STATES];
        a[M0][M0] = 2;
        a[M0][M1] = 2;
        let mut b = [[0u64; STATES]; STATES];
        b[M0][M0] = 2;
        b[M1][M0] = 1;
        b[M1][M2] = 1;
        let p = product([&a, &b]);
        // M0 -> M0: 0.5 stayed + 0.5 x 0.5 rolled and cured = 0.75.
        assert!((p[M0][M0] - 0.75).abs() < 1e-12);
        assert!((p[M0][M2] - 0.25).abs() < 1e-12);
        assert_eq!(p[M0][M1], 0.0);
        // Rows stay stochastic.
        for row in &p {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn exit_is_absorbing() {
        let mut a = [[0u64; STATES]; STATES];
        a[M1][EXIT] = 1;
        a[M1][M1] = 1;
        let p = product([&a, &a]);
        assert!((p[M1][EXIT] - 0.75).abs() < 1e-12);
        assert!((p[M1][M1] - 0.25).abs() < 1e-12);
    }
}
