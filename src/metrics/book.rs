//! The state of the book on one date: each loan's bucket and class, the
//! ageing grid (product x region x grade x bucket), the five-category grid
//! (product x class) and the headline ratios derived from them.

use std::ops::Range;

use rayon::prelude::*;

use crate::input::snapshot::Snapshot;
use crate::metrics::tally::{merge_cells, Tally};
use crate::policy::Policy;
use crate::states::{Bucket, Class, BUCKETS, CLASSES, NO_CLASS};

/// Bucket and class code of every row of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct States {
    pub bucket: Vec<u8>,
    /// Class code, or [`NO_CLASS`] for paid-off loans (outside the book).
    pub class: Vec<u8>,
}

/// Assigns buckets and classes (metrics.md, "States"), in parallel.
pub fn assign(snap: &Snapshot, policy: &Policy) -> States {
    let n = snap.len();
    let mut bucket = vec![0u8; n];
    let mut class = vec![0u8; n];
    const STEP: usize = 1 << 16;
    bucket
        .par_chunks_mut(STEP)
        .zip(class.par_chunks_mut(STEP))
        .enumerate()
        .for_each(|(k, (b, c))| {
            let base = k * STEP;
            for i in 0..b.len() {
                let r = base + i;
                let status = snap.status[r];
                b[i] = policy.bucket(status, snap.dpd[r]) as u8;
                c[i] = policy
                    .class(status, snap.dpd[r], snap.plan[r])
                    .map_or(NO_CLASS, |x| x as u8);
            }
        });
    States { bucket, class }
}

/// Ageing and classification cells, mergeable.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BookTally {
    /// Grid shape: products, regions, grades (buckets are always [`BUCKETS`]).
    pub shape: [usize; 3],
    /// `((product * regions + region) * grades + grade) * BUCKETS + bucket`.
    pub ageing: Vec<Tally>,
    /// `product * CLASSES + class`; paid-off loans are not counted.
    pub class: Vec<Tally>,
}

impl BookTally {
    pub fn empty(shape: [usize; 3]) -> BookTally {
        BookTally {
            shape,
            ageing: vec![Tally::default(); shape[0] * shape[1] * shape[2] * BUCKETS],
            class: vec![Tally::default(); shape[0] * CLASSES],
        }
    }
    pub fn merge(mut self, o: BookTally) -> BookTally {
        merge_cells(&mut self.ageing, &o.ageing);
        merge_cells(&mut self.class, &o.class);
        self
    }
    /// Re-codes the dimensions (`maps[d][old] = new`, into `shape` codes).
    pub fn recode(&self, maps: [&[u32]; 3], shape: [usize; 3]) -> BookTally {
        let mut out = BookTally::empty(shape);
        let [_, nr, ng] = self.shape;
        for (i, t) in self.ageing.iter().enumerate() {
            if *t != Tally::default() {
                let cell = i / BUCKETS;
                let (p, r, g) = (cell / (nr * ng), (cell / ng) % nr, cell % ng);
                let k = out.ageing_index(
                    maps[0][p] as usize,
                    maps[1][r] as usize,
                    maps[2][g] as usize,
                    i % BUCKETS,
                );
                out.ageing[k].merge(t);
            }
        }
        for (i, t) in self.class.iter().enumerate() {
            if *t != Tally::default() {
                out.class[maps[0][i / CLASSES] as usize * CLASSES + i % CLASSES].merge(t);
            }
        }
        out
    }
    #[inline]
    pub fn ageing_index(&self, p: usize, r: usize, g: usize, b: usize) -> usize {
        ((p * self.shape[1] + r) * self.shape[2] + g) * BUCKETS + b
    }
    /// Totals per bucket over all products, regions and grades.
    pub fn by_bucket(&self) -> [Tally; BUCKETS] {
        let mut out = [Tally::default(); BUCKETS];
        for (i, t) in self.ageing.iter().enumerate() {
            out[i % BUCKETS].merge(t);
        }
        out
    }
    /// Totals per bucket for each value of one dimension (0 = product,
    /// 1 = region, 2 = grade), indexed by that dimension's code.
    pub fn by_dim(&self, dim: usize) -> Vec<[Tally; BUCKETS]> {
        let [_, nr, ng] = self.shape;
        let mut out = vec![[Tally::default(); BUCKETS]; self.shape[dim]];
        for (i, t) in self.ageing.iter().enumerate() {
            let cell = i / BUCKETS;
            let code = match dim {
                0 => cell / (nr * ng),
                1 => (cell / ng) % nr,
                _ => cell % ng,
            };
            out[code][i % BUCKETS].merge(t);
        }
        out
    }
    /// Totals per class over all products.
    pub fn by_class(&self) -> [Tally; CLASSES] {
        let mut out = [Tally::default(); CLASSES];
        for (i, t) in self.class.iter().enumerate() {
            out[i % CLASSES].merge(t);
        }
        out
    }
}

/// Cells too many for a dense grid mean the dimensions are not dimensions
/// (an id column mapped as region, say).
const MAX_CELLS: usize = 1 << 24;

/// Shape of the ageing grid of a snapshot, or an error if it is absurd.
pub fn shape(snap: &Snapshot) -> anyhow::Result<[usize; 3]> {
    let s = [
        snap.product.cardinality().max(1),
        snap.region.cardinality().max(1),
        snap.grade.cardinality().max(1),
    ];
    if s[0] * s[1] * s[2] * BUCKETS > MAX_CELLS {
        return Err(crate::error::bad_input(format!(
            "too many distinct dimension values for an ageing table: {} products x {} regions x {} grades",
            s[0], s[1], s[2]
        )));
    }
    Ok(s)
}

/// Tallies rows `range` of a snapshot.
pub fn tally_range(
    snap: &Snapshot,
    st: &States,
    shape: [usize; 3],
    range: Range<usize>,
) -> BookTally {
    let mut t = BookTally::empty(shape);
    for r in range {
        let p = snap.product.codes[r] as usize;
        let b = st.bucket[r] as usize;
        let i = t.ageing_index(
            p,
            snap.region.codes[r] as usize,
            snap.grade.codes[r] as usize,
            b,
        );
        t.ageing[i].add(snap.balance[r], snap.past_due[r]);
        let c = st.class[r];
        if c != NO_CLASS {
            t.class[p * CLASSES + c as usize].add(snap.balance[r], snap.past_due[r]);
        }
    }
    t
}

/// Tallies a whole snapshot in parallel.
pub fn tally(snap: &Snapshot, st: &States) -> anyhow::Result<BookTally> {
    let shape = shape(snap)?;
    Ok(super::ranges(snap.len())
        .into_par_iter()
        .map(|r| tally_range(snap, st, shape, r))
        .reduce(|| BookTally::empty(shape), BookTally::merge))
}

/// A ratio with its parts; `value` is `None` when the denominator is zero.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ratio {
    pub numerator: i128,
    pub denominator: i128,
    pub value: Option<f64>,
}

impl Ratio {
    pub fn new(numerator: i128, denominator: i128) -> Ratio {
        Ratio {
            numerator,
            denominator,
            value: (denominator != 0).then(|| numerator as f64 / denominator as f64),
        }
    }
}

/// Headline ratios of the book, count and balance basis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Headline {
    pub loans: u64,
    pub balance: i128,
    pub active_loans: u64,
    pub active_balance: i128,
    /// `[count, balance]` each.
    pub dpd1: [Ratio; 2],
    pub dpd30: [Ratio; 2],
    pub dpd90: [Ratio; 2],
    /// NPL over the book (active + charged off; paid-off loans are outside).
    pub npl: [Ratio; 2],
    /// Cash collected on the snapshot's date: sum of `paid_amount`, cents.
    pub cash_collected: i128,
}

/// DPD1+/30+/90+ on the active book and the NPL ratio on the whole book.
pub fn headline(t: &BookTally, cash: i128) -> Headline {
    headline_of(&t.by_bucket(), &t.by_class(), cash)
}

/// [`headline`] from the per-bucket and per-class totals and the cash
/// collected (sum of `paid_amount`, cents).
pub fn headline_of(by_b: &[Tally; BUCKETS], by_c: &[Tally; CLASSES], cash: i128) -> Headline {
    let sum = |bs: &[Bucket]| -> Tally {
        let mut s = Tally::default();
        for b in bs {
            s.merge(&by_b[b.index()]);
        }
        s
    };
    let active = sum(&Bucket::ACTIVE);
    let from = |first: usize| sum(&Bucket::ACTIVE[first..]);
    let pair = |num: Tally, den: Tally| {
        [
            Ratio::new(num.loans as i128, den.loans as i128),
            Ratio::new(num.balance, den.balance),
        ]
    };
    let mut book = Tally::default();
    let mut npl = Tally::default();
    for c in Class::ALL {
        book.merge(&by_c[c as usize]);
        if c.is_npl() {
            npl.merge(&by_c[c as usize]);
        }
    }
    let all = sum(&Bucket::ALL);
    Headline {
        loans: all.loans,
        balance: all.balance,
        active_loans: active.loans,
        active_balance: active.balance,
        dpd1: pair(from(1), active),
        dpd30: pair(from(2), active),
        dpd90: pair(from(4), active),
        npl: pair(npl, book),
        cash_collected: cash,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_dim_regroups_every_cell_once() {
        // 2 products x 3 regions x 2 grades; each cell gets a distinct count.
        let mut t = BookTally::empty([2, 3, 2]);
        for (i, c) in t.ageing.iter_mut().enumerate() {
            c.add(i as i64, 0);
            c.loans = i as u64;
        }
        let whole = t.by_bucket();
        for dim in 0..3 {
            let g = t.by_dim(dim);
            assert_eq!(g.len(), t.shape[dim]);
            for b in 0..BUCKETS {
                let loans: u64 = g.iter().map(|x| x[b].loans).sum();
                assert_eq!(loans, whole[b].loans, "dim {dim} bucket {b}");
            }
        }
        // Region 1 holds cells (p, 1, g) for p in 0..2, g in 0..2.
        let want: u64 = [0, 1]
            .iter()
            .flat_map(|&p| [0, 1].map(|g| t.ageing_index(p, 1, g, 3) as u64))
            .sum();
        assert_eq!(t.by_dim(1)[1][3].loans, want);
    }
}
