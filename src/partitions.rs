//! Loan-id partitions: how a run splits the book so that its memory does
//! not grow with the book.
//!
//! A partition is a range of loan ids, `[lo, hi)`. Every snapshot of the run
//! (run date, `prev`, `1m`), the contacts and the earlier worklists are cut
//! by the same ranges, so a loan's rows on every date meet in one partition
//! and every figure of the partition is final for its loans: figures are
//! folded per partition into a [`crate::fold::Partial`], the partials are
//! merged, and the merged partial is finished into the tables.
//!
//! The ranges come from the Parquet row groups' `loan_id` statistics (the
//! footer, no data read): when every snapshot's row groups, in file order,
//! hold increasing and non-overlapping id ranges (a book exported sorted by
//! key), the run date's row groups are cut into runs of about
//! `rows_per_partition` loans, each run's first id starts a partition, and
//! the rows of the other snapshots that fall in it are found through their
//! own statistics ([`plan`]). A book whose statistics do not say so is read
//! as one partition.

use std::cmp::Ordering;

use crate::input::snapshot::LoanIds;

/// One end of a loan-id range, in the ids' natural order (integers by
/// value, strings by bytes).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum IdBound {
    Int(i64),
    Str(Vec<u8>),
}

impl IdBound {
    /// Compares row `r` of `ids` with this bound.
    #[inline]
    pub fn cmp_row(&self, ids: &LoanIds, r: usize) -> Ordering {
        match (self, ids) {
            (IdBound::Int(b), LoanIds::Int(v)) => v[r].cmp(b),
            (IdBound::Str(b), LoanIds::Str { .. }) => ids.str_bytes(r).cmp(b.as_slice()),
            // One id type per run (checked when the snapshots are read).
            (IdBound::Int(_), _) => Ordering::Greater,
            (IdBound::Str(_), _) => Ordering::Less,
        }
    }
}

/// The loan ids `lo <= id < hi`; an absent end is unbounded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdRange {
    pub lo: Option<IdBound>,
    pub hi: Option<IdBound>,
}

impl IdRange {
    /// Every id.
    pub fn all() -> IdRange {
        IdRange::default()
    }
    /// Whether the range has no bounds: the whole book.
    pub fn is_all(&self) -> bool {
        self.lo.is_none() && self.hi.is_none()
    }
    /// Whether row `r` of `ids` is in the range.
    #[inline]
    pub fn contains(&self, ids: &LoanIds, r: usize) -> bool {
        self.lo
            .as_ref()
            .is_none_or(|lo| lo.cmp_row(ids, r) != Ordering::Less)
            && self
                .hi
                .as_ref()
                .is_none_or(|hi| hi.cmp_row(ids, r) == Ordering::Less)
    }
    /// Whether a row group whose ids lie in `min..=max` may hold ids of the
    /// range.
    pub fn overlaps(&self, min: &IdBound, max: &IdBound) -> bool {
        self.lo.as_ref().is_none_or(|lo| max >= lo) && self.hi.as_ref().is_none_or(|hi| min < hi)
    }
    /// Whether every id in `min..=max` is in the range.
    pub fn covers(&self, min: &IdBound, max: &IdBound) -> bool {
        self.lo.as_ref().is_none_or(|lo| min >= lo) && self.hi.as_ref().is_none_or(|hi| max < hi)
    }
}

/// What a run knows of one snapshot's row groups before decoding them:
/// rows, and the id range from the footer's statistics (`None`: no
/// statistics).
#[derive(Clone, Debug)]
pub struct GroupStats {
    pub rows: usize,
    pub ids: Option<(IdBound, IdBound)>,
}

/// Whether a snapshot's row groups hold non-overlapping id ranges, in any
/// file order: enough for an earlier snapshot, whose rows of a range are
/// found through the statistics wherever they are.
pub fn groups_disjoint(groups: &[GroupStats]) -> bool {
    let mut ranges = Vec::with_capacity(groups.len());
    for g in groups.iter().filter(|g| g.rows > 0) {
        match &g.ids {
            Some(r) => ranges.push(r),
            None => return false,
        }
    }
    ranges.sort();
    ranges.windows(2).all(|w| w[0].1 < w[1].0) && ranges.iter().all(|(a, b)| a <= b)
}

/// Whether a snapshot's row groups hold increasing, non-overlapping id
/// ranges in file order (each row group's rows may be in any order): the
/// run date must, for the partitions to follow its input order.
pub fn groups_in_id_order(groups: &[GroupStats]) -> bool {
    let mut last: Option<&IdBound> = None;
    for g in groups.iter().filter(|g| g.rows > 0) {
        let Some((min, max)) = &g.ids else {
            return false;
        };
        if min > max || last.is_some_and(|l| l >= min) {
            return false;
        }
        last = Some(max);
    }
    true
}

/// How a run cuts the book: the ranges in id order, and for each, the run
/// date's row groups (indices into its non-empty groups) that hold it.
#[derive(Clone, Debug)]
pub struct Plan {
    pub ranges: Vec<IdRange>,
    /// Per range, the run date's groups `first..end`.
    pub cur_groups: Vec<std::ops::Range<usize>>,
    /// Why the book was not cut (`None` when it was, or needed no cut).
    pub whole_because: Option<&'static str>,
}

impl Plan {
    /// One partition: the whole book.
    pub fn whole(groups: usize, because: Option<&'static str>) -> Plan {
        Plan {
            ranges: vec![IdRange::all()],
            cur_groups: std::iter::once(0..groups).collect(),
            whole_because: because,
        }
    }
}

/// Cuts the run date's row groups into runs of about `rows_per_partition`
/// loans (at least one group each) when its row groups are in id order
/// ([`groups_in_id_order`]) and the earlier snapshots' do not overlap
/// ([`groups_disjoint`]); otherwise one partition. `cur` and
/// each of `earlier` list their non-empty row groups in file order.
pub fn plan(cur: &[GroupStats], earlier: &[&[GroupStats]], rows_per_partition: usize) -> Plan {
    let total: usize = cur.iter().map(|g| g.rows).sum();
    if total <= rows_per_partition || cur.len() < 2 {
        return Plan::whole(cur.len(), None);
    }
    if !groups_in_id_order(cur) || !earlier.iter().all(|e| groups_disjoint(e)) {
        return Plan::whole(
            cur.len(),
            Some("the snapshots' row groups are not in loan-id order"),
        );
    }
    let mut starts = vec![0usize];
    let mut rows = 0usize;
    for (k, g) in cur.iter().enumerate() {
        if rows > 0 && rows + g.rows > rows_per_partition {
            starts.push(k);
            rows = 0;
        }
        rows += g.rows;
    }
    let lo_of = |k: usize| cur[k].ids.as_ref().map(|(min, _)| min.clone());
    let mut ranges = Vec::with_capacity(starts.len());
    let mut cur_groups = Vec::with_capacity(starts.len());
    for (p, &s) in starts.iter().enumerate() {
        let end = starts.get(p + 1).copied().unwrap_or(cur.len());
        ranges.push(IdRange {
            lo: if p == 0 { None } else { lo_of(s) },
            hi: starts.get(p + 1).and_then(|&n| lo_of(n)),
        });
        cur_groups.push(s..end);
    }
    Plan {
        ranges,
        cur_groups,
        whole_because: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(rows: usize, min: i64, max: i64) -> GroupStats {
        GroupStats {
            rows,
            ids: Some((IdBound::Int(min), IdBound::Int(max))),
        }
    }

    #[test]
    fn ordered_groups_are_cut_at_group_starts() {
        let cur = [g(4, 0, 9), g(4, 10, 19), g(4, 20, 29), g(4, 30, 39)];
        let prev = [g(7, 0, 14), g(7, 15, 40)];
        let p = plan(&cur, &[&prev], 8);
        assert_eq!(p.cur_groups, vec![0..2, 2..4]);
        assert_eq!(p.ranges[0].lo, None);
        assert_eq!(p.ranges[0].hi, Some(IdBound::Int(20)));
        assert_eq!(p.ranges[1].lo, Some(IdBound::Int(20)));
        assert_eq!(p.ranges[1].hi, None);
        // The earlier snapshot's second group straddles the cut.
        assert!(p.ranges[0].overlaps(&IdBound::Int(15), &IdBound::Int(40)));
        assert!(p.ranges[1].overlaps(&IdBound::Int(15), &IdBound::Int(40)));
        assert!(!p.ranges[1].covers(&IdBound::Int(15), &IdBound::Int(40)));
        let ids = LoanIds::Int(vec![19, 20]);
        assert!(p.ranges[0].contains(&ids, 0) && !p.ranges[0].contains(&ids, 1));
        assert!(p.ranges[1].contains(&ids, 1));
    }

    #[test]
    fn overlapping_or_missing_statistics_read_the_book_whole() {
        let cur = [g(4, 0, 9), g(4, 5, 19), g(4, 20, 29)];
        let p = plan(&cur, &[], 4);
        assert_eq!(p.ranges, vec![IdRange::all()]);
        assert!(p.whole_because.is_some());
        let no_stats = [g(4, 0, 9), GroupStats { rows: 4, ids: None }];
        assert!(!groups_in_id_order(&no_stats));
        let cur = [g(4, 0, 9), g(4, 10, 19)];
        assert_eq!(plan(&cur, &[&no_stats], 4).ranges.len(), 1);
        // An earlier snapshot's groups may come in any file order.
        let swapped = [g(4, 10, 19), g(4, 0, 9)];
        assert!(!groups_in_id_order(&swapped) && groups_disjoint(&swapped));
        assert_eq!(plan(&cur, &[&swapped], 4).ranges.len(), 2);
        // Small books are one partition whatever their order.
        assert_eq!(plan(&cur, &[], 100).whole_because, None);
    }
}
