//! The secured book by product, CLTV band, bucket and recovery route
//! (metrics.md, "Second-lien"): loans, principal, senior liens, collateral
//! exposure (what is left to recover of delinquent loans: metrics.md v2)
//! and expected shortfall, all in integer cents. Bands are decided exactly:
//! CLTV <= 60% is `100 x (senior + balance) <= 60 x collateral`.

use rayon::prelude::*;

use crate::input::columns::NULL_MONEY;
use crate::input::snapshot::Snapshot;
use crate::metrics::book::States;
use crate::metrics::strategy::{LoanStrategy, ROUTES};
use crate::states::{Status, BUCKETS};

/// CLTV bands, each including its upper edge.
pub const BANDS: [&str; 5] = ["<=60%", "60-80%", "80-100%", "100-120%", ">120%"];
const EDGES: [i128; 4] = [60, 80, 100, 120];

/// Sums of one cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Secured {
    pub loans: u64,
    pub balance: i128,
    pub senior: i128,
    pub collateral: i128,
    pub shortfall: i128,
    /// What is left to recover of the routed (delinquent) loans: principal
    /// when active, charged-off amount less recoveries when charged off.
    pub exposure: i128,
}

impl Secured {
    pub fn merge(&mut self, o: &Secured) {
        self.loans += o.loans;
        self.balance += o.balance;
        self.senior += o.senior;
        self.collateral += o.collateral;
        self.shortfall += o.shortfall;
        self.exposure += o.exposure;
    }
}

/// Dense cells: `((product * BANDS + band) * BUCKETS + bucket) * ROUTES + route`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CollateralBook {
    pub products: usize,
    pub cells: Vec<Secured>,
}

impl CollateralBook {
    pub fn index(&self, product: usize, band: usize, bucket: usize, route: usize) -> usize {
        ((product * BANDS.len() + band) * BUCKETS + bucket) * ROUTES.len() + route
    }
    /// Adds another partition's cells (same product codes).
    pub fn merge(mut self, o: CollateralBook) -> CollateralBook {
        for (a, b) in self.cells.iter_mut().zip(&o.cells) {
            a.merge(b);
        }
        self
    }
    /// Re-codes products (`product[old] = new`, into `products` codes).
    pub fn recode(&mut self, product: &[u32], products: usize) {
        let per_product = BANDS.len() * BUCKETS * ROUTES.len();
        let mut out = CollateralBook::empty(products);
        for (i, c) in self.cells.iter().enumerate() {
            if *c != Secured::default() {
                let p = product[i / per_product] as usize;
                out.cells[p * per_product + i % per_product].merge(c);
            }
        }
        *self = out;
    }
    fn empty(products: usize) -> CollateralBook {
        CollateralBook {
            products,
            cells: vec![Secured::default(); products * BANDS.len() * BUCKETS * ROUTES.len()],
        }
    }
}

/// Band of a loan: (senior + balance) against collateral (> 0).
pub fn band(senior: i64, balance: i64, collateral: i64) -> usize {
    let num = (senior as i128 + balance as i128) * 100;
    EDGES
        .iter()
        .position(|&e| num <= e * collateral as i128)
        .unwrap_or(EDGES.len())
}

/// Tallies the secured loans (collateral present and positive) not paid off.
pub fn tally(snap: &Snapshot, states: &States, s: &LoanStrategy) -> CollateralBook {
    let np = snap.product.cardinality();
    crate::metrics::ranges(snap.len())
        .into_par_iter()
        .map(|r| {
            let mut b = CollateralBook::empty(np);
            for i in r {
                let coll = snap.collateral[i];
                if snap.status[i] == Status::PaidOff || coll == NULL_MONEY || coll <= 0 {
                    continue;
                }
                let senior = if snap.senior_lien[i] == NULL_MONEY {
                    0
                } else {
                    snap.senior_lien[i]
                };
                let k = b.index(
                    snap.product.codes[i] as usize,
                    band(senior, snap.balance[i], coll),
                    states.bucket[i] as usize,
                    s.route[i] as usize,
                );
                let c = &mut b.cells[k];
                c.loans += 1;
                c.balance += snap.balance[i] as i128;
                c.senior += senior as i128;
                c.collateral += coll as i128;
                c.shortfall += s.shortfall[i] as i128;
                if s.route[i] != 0 {
                    // Routed (delinquent): what is left to recover.
                    c.exposure += crate::metrics::strategy::exposure_of(snap, i) as i128;
                }
            }
            b
        })
        .reduce(
            || CollateralBook::empty(np),
            |mut a, b| {
                for (x, y) in a.cells.iter_mut().zip(&b.cells) {
                    x.merge(y);
                }
                a
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_include_their_upper_edge() {
        assert_eq!(BANDS[band(0, 60, 100)], "<=60%");
        assert_eq!(BANDS[band(0, 61, 100)], "60-80%");
        assert_eq!(BANDS[band(30, 50, 100)], "60-80%", "CLTV 0.8 is 60-80%");
        assert_eq!(BANDS[band(0, 100, 100)], "80-100%");
        assert_eq!(BANDS[band(0, 120, 100)], "100-120%");
        assert_eq!(BANDS[band(0, 121, 100)], ">120%");
    }
}
