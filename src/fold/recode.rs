//! Dimension labels of two partials brought onto one list before they
//! merge: each partition codes products, regions, grades and legal stages
//! by its own sorted labels, so merging first recodes both onto the union.

use crate::figures::DimLabels;
use crate::fold::Partial;

/// Sorted labels of both sides and each side's codes into them.
pub(super) fn union(
    a: &[Option<String>],
    b: &[Option<String>],
) -> (Vec<Option<String>>, Vec<u32>, Vec<u32>) {
    let mut all: Vec<Option<String>> = a.iter().chain(b).cloned().collect();
    all.sort();
    all.dedup();
    let codes = |side: &[Option<String>]| {
        side.iter()
            .map(|l| all.binary_search(l).expect("a label of the union") as u32)
            .collect::<Vec<u32>>()
    };
    let (ca, cb) = (codes(a), codes(b));
    (all, ca, cb)
}

/// New codes of each dimension (`map[old] = new`).
pub(super) struct Recode {
    pub(super) product: Vec<u32>,
    pub(super) region: Vec<u32>,
    pub(super) grade: Vec<u32>,
    pub(super) legal: Vec<u32>,
}

impl Partial {
    /// Moves every figure kept by product, region, grade or legal stage
    /// onto `labels` (a superset of this partial's labels).
    pub(super) fn recode(&mut self, r: &Recode, labels: &DimLabels) {
        let shape = [
            labels.product.len().max(1),
            labels.region.len().max(1),
            labels.grade.len().max(1),
        ];
        if self.labels != *labels {
            self.book = self.book.recode([&r.product, &r.region, &r.grade], shape);
            self.strategy_summary.recode(
                &r.product,
                labels.product.len(),
                &r.region,
                labels.region.len(),
            );
            self.collateral.recode(&r.product, labels.product.len());
            self.recovery
                .recode(&r.legal, labels.legal.len(), &r.product, &r.region);
            self.labels = labels.clone();
        }
    }
}
