//! Why a ratio moved (metrics.md v2, "Drivers"): the change of the DPD30+
//! and NPL ratios by balance against `prev` and `1m`, split over the
//! segments of a dimension (product, region, grade) into a mix effect and a
//! rate effect with midpoint weights:
//!
//! ratio = sum_s w_s r_s (w: the segment's share of the denominator
//! balance, r: its ratio); change = sum_s (w'_s - w_s)(r_s + r'_s)/2 (mix)
//! + sum_s (w_s + w'_s)/2 (r'_s - r_s) (rate).
//!
//! The two sums add up to the change exactly in exact arithmetic, whatever
//! rate a segment is given on a date it has no balance: such a segment's
//! rate is taken from the other date, so its whole contribution is mix.
//! In floating point the reconciliation check allows 1e-12.
//!
//! Partitions add integer balances per (dimension, segment label); the
//! shares and effects are computed once, from the merged sums.

use std::collections::BTreeMap;

use crate::input::snapshot::{Dim, Snapshot};
use crate::metrics::book::States;
use crate::states::{Bucket, Class, NO_CLASS};

/// The dimensions a change is split over, in table order.
pub const DIMENSIONS: [&str; 3] = ["product", "region", "grade"];

/// The ratios explained, in table order: (metric code, label).
pub const METRICS: [&str; 2] = ["dpd30_plus", "npl"];

/// One segment's balances on one date, cents: DPD30+ (active, more than
/// 30 days past due) over active; non-performing over the book (active
/// and charged off).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sums {
    pub dpd30: i128,
    pub active: i128,
    pub npl: i128,
    pub book: i128,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.dpd30 += o.dpd30;
        self.active += o.active;
        self.npl += o.npl;
        self.book += o.book;
    }

    /// (numerator, denominator) of metric `m` ([`METRICS`] index).
    pub fn pair(&self, m: usize) -> (i128, i128) {
        match m {
            0 => (self.dpd30, self.active),
            _ => (self.npl, self.book),
        }
    }
}

/// Segment sums of one date: per dimension ([`DIMENSIONS`] index), the
/// sums by segment label (null kept as `None`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "SegmentList", from = "SegmentList")]
pub struct Segments(pub Vec<BTreeMap<Option<String>, Sums>>);

/// [`Segments`] as a shard's partial file holds it: JSON keys must be
/// strings, and a label may be null.
type SegmentList = Vec<Vec<(Option<String>, Sums)>>;

impl From<Segments> for SegmentList {
    fn from(s: Segments) -> SegmentList {
        s.0.into_iter().map(|m| m.into_iter().collect()).collect()
    }
}

impl From<SegmentList> for Segments {
    fn from(v: SegmentList) -> Segments {
        Segments(v.into_iter().map(|l| l.into_iter().collect()).collect())
    }
}

impl Segments {
    /// The sums of a snapshot's rows by product, region and grade.
    pub fn of(snap: &Snapshot, states: &States) -> Segments {
        use rayon::prelude::*;
        let dims: [&Dim; 3] = [&snap.product, &snap.region, &snap.grade];
        let empty = || -> Vec<Vec<Sums>> {
            dims.iter()
                .map(|d| vec![Sums::default(); d.cardinality()])
                .collect()
        };
        // In parallel over row ranges, added up by code: integer sums, so
        // the order does not matter.
        let by_code = crate::metrics::ranges(snap.len())
            .into_par_iter()
            .map(|rows| {
                let mut by_code = empty();
                for i in rows {
                    let class = states.class[i];
                    if class == NO_CLASS {
                        continue; // paid off: outside the book
                    }
                    let bucket = Bucket::from_index(states.bucket[i] as usize);
                    let b = snap.balance[i] as i128;
                    let mut s = Sums {
                        book: b,
                        ..Sums::default()
                    };
                    if bucket != Bucket::Wo {
                        s.active = b;
                        if bucket.index() >= Bucket::M2.index() {
                            s.dpd30 = b;
                        }
                    }
                    if Class::ALL[class as usize].is_npl() {
                        s.npl = b;
                    }
                    for (k, d) in dims.iter().enumerate() {
                        by_code[k][d.codes[i] as usize].add(&s);
                    }
                }
                by_code
            })
            .reduce(empty, |mut a, b| {
                for (x, y) in a.iter_mut().zip(&b) {
                    for (p, q) in x.iter_mut().zip(y) {
                        p.add(q);
                    }
                }
                a
            });
        Segments(
            dims.iter()
                .zip(by_code)
                .map(|(d, sums)| {
                    d.labels
                        .iter()
                        .cloned()
                        .zip(sums)
                        .filter(|(_, s)| *s != Sums::default())
                        .collect()
                })
                .collect(),
        )
    }

    /// Adds another partition's sums (labels matched by text).
    pub fn merge(mut self, o: Segments) -> Segments {
        if self.0.is_empty() {
            return o;
        }
        for (mine, theirs) in self.0.iter_mut().zip(o.0) {
            for (label, s) in theirs {
                mine.entry(label).or_default().add(&s);
            }
        }
        self
    }
}

/// One segment's part in a ratio's change.
#[derive(Clone, Debug, PartialEq)]
pub struct Driver {
    pub segment: Option<String>,
    pub weight_then: f64,
    pub weight_now: f64,
    /// `None` where the segment has no denominator balance on that date.
    pub ratio_then: Option<f64>,
    pub ratio_now: Option<f64>,
    pub mix: f64,
    pub rate: f64,
}

/// The split of one ratio's change over one dimension.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    pub metric: &'static str,
    pub dimension: &'static str,
    pub then: f64,
    pub now: f64,
    /// The ratio's (numerator, denominator) over all segments, cents: they
    /// must equal the headline's (a reconciliation check).
    pub then_sums: (i128, i128),
    pub now_sums: (i128, i128),
    pub drivers: Vec<Driver>,
}

impl Split {
    /// The change the effects must add up to.
    pub fn change(&self) -> f64 {
        self.now - self.then
    }

    /// Mix plus rate over every segment.
    pub fn explained(&self) -> f64 {
        self.drivers.iter().map(|d| d.mix + d.rate).sum()
    }
}

/// A ratio, 0 over an empty denominator.
fn ratio(num: i128, den: i128) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Every metric's change from `then` to `now` split over every dimension,
/// segments in label order.
pub fn split(then: &Segments, now: &Segments) -> Vec<Split> {
    let mut out = Vec::new();
    for (m, metric) in METRICS.iter().enumerate() {
        for (k, dimension) in DIMENSIONS.iter().enumerate() {
            let empty = BTreeMap::new();
            let (a, b) = (
                then.0.get(k).unwrap_or(&empty),
                now.0.get(k).unwrap_or(&empty),
            );
            let total = |x: &BTreeMap<Option<String>, Sums>| {
                x.values().fold((0i128, 0i128), |acc, s| {
                    let (n, d) = s.pair(m);
                    (acc.0 + n, acc.1 + d)
                })
            };
            let ((na, da), (nb, db)) = (total(a), total(b));
            let mut labels: Vec<&Option<String>> = a.keys().chain(b.keys()).collect();
            labels.sort();
            labels.dedup();
            let drivers = labels
                .into_iter()
                .map(|label| {
                    let (n0, d0) = a.get(label).map_or((0, 0), |s| s.pair(m));
                    let (n1, d1) = b.get(label).map_or((0, 0), |s| s.pair(m));
                    let (w0, w1) = (ratio(d0, da), ratio(d1, db));
                    let (r0, r1) = (
                        (d0 != 0).then(|| ratio(n0, d0)),
                        (d1 != 0).then(|| ratio(n1, d1)),
                    );
                    // A date without balance borrows the other date's rate.
                    let (x0, x1) = (r0.or(r1).unwrap_or(0.0), r1.or(r0).unwrap_or(0.0));
                    Driver {
                        segment: label.clone(),
                        weight_then: w0,
                        weight_now: w1,
                        ratio_then: r0,
                        ratio_now: r1,
                        mix: (w1 - w0) * (x0 + x1) / 2.0,
                        rate: (w0 + w1) / 2.0 * (x1 - x0),
                    }
                })
                .collect();
            out.push(Split {
                metric,
                dimension,
                then: ratio(na, da),
                now: ratio(nb, db),
                then_sums: (na, da),
                now_sums: (nb, db),
                drivers,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(rows: &[(&str, i128, i128)]) -> Segments {
        // (label, dpd30, active); npl and book the same, to test both.
        let map: BTreeMap<Option<String>, Sums> = rows
            .iter()
            .map(|&(l, n, d)| {
                (
                    Some(l.to_string()),
                    Sums {
                        dpd30: n,
                        active: d,
                        npl: n,
                        book: d,
                    },
                )
            })
            .collect();
        Segments(vec![map.clone(), map.clone(), map])
    }

    #[test]
    fn a_hand_worked_split() {
        // Then: A 100 of 1,000 (10%), B 50 of 1,000 (5%): 7.5%.
        // Now:  A 240 of 2,000 (12%), B 50 of 1,000 (5%): 290/3,000.
        let then = segs(&[("A", 100, 1_000), ("B", 50, 1_000)]);
        let now = segs(&[("A", 240, 2_000), ("B", 50, 1_000)]);
        let s = &split(&then, &now)[0];
        assert_eq!((s.metric, s.dimension), ("dpd30_plus", "product"));
        let a = &s.drivers[0];
        // w: 1/2 -> 2/3; r: 0.10 -> 0.12.
        assert!((a.mix - (2.0 / 3.0 - 0.5) * 0.11).abs() < 1e-15);
        assert!((a.rate - (0.5 + 2.0 / 3.0) / 2.0 * 0.02).abs() < 1e-15);
        let b = &s.drivers[1];
        assert!((b.mix - (1.0 / 3.0 - 0.5) * 0.05).abs() < 1e-15);
        assert_eq!(b.rate, 0.0);
        assert!((s.change() - (290.0 / 3_000.0 - 0.075)).abs() < 1e-15);
        assert!((s.explained() - s.change()).abs() < 1e-15);
    }

    #[test]
    fn a_segment_on_one_date_only_is_all_mix() {
        let then = segs(&[("A", 10, 100)]);
        let now = segs(&[("A", 10, 100), ("C", 30, 100)]);
        for s in split(&then, &now) {
            let c = s
                .drivers
                .iter()
                .find(|d| d.segment.as_deref() == Some("C"))
                .unwrap();
            assert_eq!(c.ratio_then, None);
            assert_eq!(c.rate, 0.0);
            assert!((c.mix - 0.5 * 0.3).abs() < 1e-15);
            assert!((s.explained() - s.change()).abs() < 1e-12);
        }
    }

    #[test]
    fn effects_always_add_up_to_the_change() {
        // A few thousand random books: the identity holds to 1e-12.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        for _ in 0..3_000 {
            let k = 1 + next(8) as usize;
            let mut side = || {
                let mut rows: Vec<(String, i128, i128)> = Vec::new();
                for i in 0..k {
                    if next(4) == 0 {
                        continue;
                    }
                    let d = next(1_000_000_000) as i128;
                    let n = if d == 0 {
                        0
                    } else {
                        next(d as u64 + 1) as i128
                    };
                    rows.push((format!("s{i}"), n, d));
                }
                let r: Vec<(&str, i128, i128)> =
                    rows.iter().map(|(l, n, d)| (l.as_str(), *n, *d)).collect();
                segs(&r)
            };
            let (a, b) = (side(), side());
            for s in split(&a, &b) {
                assert!((s.explained() - s.change()).abs() <= 1e-12, "{s:?}");
            }
        }
    }
}
