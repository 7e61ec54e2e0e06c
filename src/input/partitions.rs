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
//! own statistics ([`plan`]).
//!
//! A book whose statistics do not say so (snapshots not exported in id
//! order) is cut by a hash of the loan id instead: each snapshot is read
//! once, its rows written to one scratch file per partition, and each
//! partition read back in turn ([`Part::Hash`]; README, "How a run folds the
//! book"). Either way a partition's rows keep their input order, and the
//! loan-level outputs are put back in input order at the end.

use std::cmp::Ordering;

use crate::base::hashing::{hash_bytes, mix64};
use crate::input::snapshot::LoanIds;

/// At most this many hash partitions: each is a scratch file per snapshot,
/// open at once while a snapshot is spilled.
pub const MAX_HASH_PARTS: usize = 256;

/// The loans of one partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// The loans of an id range (the book is in id order).
    Range(IdRange),
    /// The loans whose [`bucket`] among `of` is `k`.
    Hash { k: usize, of: usize },
}

impl Part {
    /// Whether this is the whole book.
    pub fn is_all(&self) -> bool {
        match self {
            Part::Range(r) => r.is_all(),
            Part::Hash { of, .. } => *of == 1,
        }
    }
    /// Whether row `r` of `ids` is one of the partition's loans.
    #[inline]
    pub fn contains(&self, ids: &LoanIds, r: usize) -> bool {
        match self {
            Part::Range(range) => range.contains(ids, r),
            Part::Hash { k, of } => bucket(ids, r, *of) == *k,
        }
    }
}

/// The hash partition (of `of`) of row `r`'s loan: a 64-bit hash of the id
/// (the same for an id on every date and in the contacts) scaled onto
/// `0..of` by its high bits.
#[inline]
pub fn bucket(ids: &LoanIds, r: usize, of: usize) -> usize {
    let h = match ids {
        LoanIds::Int(v) => mix64(v[r] as u64),
        LoanIds::Str { .. } => hash_bytes(ids.str_bytes(r)),
    };
    ((h as u128 * of as u128) >> 64) as usize
}

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

/// How a run cuts the book: the partitions (id ranges in id order, or hash
/// partitions), and for each id range the run date's row groups (indices
/// into its non-empty groups) that hold it.
#[derive(Clone, Debug)]
pub struct Plan {
    pub parts: Vec<Part>,
    /// Per id range, the run date's groups `first..end` (every group for
    /// hash partitions, which are read back from scratch files instead).
    pub cur_groups: Vec<std::ops::Range<usize>>,
    /// The partitions this process folds: all of them for `run`; a
    /// shard's own for `shard` (src/shards.rs).
    pub folded: std::ops::Range<usize>,
    /// One partition although the book is above the memory limit: its run
    /// date cannot be cut finer than a row group (the manifest says so).
    pub over_limit: bool,
}

/// Why the snapshots cannot be cut by id ranges.
pub const NOT_IN_ID_ORDER: &str = "the snapshots' row groups are not in loan-id order";

impl Plan {
    /// One partition: the whole book.
    pub fn whole(groups: usize) -> Plan {
        Plan {
            parts: vec![Part::Range(IdRange::all())],
            cur_groups: std::iter::once(0..groups).collect(),
            folded: 0..1,
            over_limit: false,
        }
    }
    /// One partition for a book above the memory limit whose run date is
    /// no more than one row group: nothing smaller can be read.
    pub fn whole_over_limit(groups: usize) -> Plan {
        Plan {
            over_limit: true,
            ..Plan::whole(groups)
        }
    }
    /// `of` hash partitions of a book with `groups` row groups in its run
    /// date.
    pub fn hash(of: usize, groups: usize) -> Plan {
        Plan {
            parts: (0..of).map(|k| Part::Hash { k, of }).collect(),
            cur_groups: vec![0..groups; of],
            folded: 0..of,
            over_limit: false,
        }
    }
    /// Shard `k` of `n`, folded in `m` hash partitions: partitions
    /// `k * m .. (k + 1) * m` of `n * m`. They hold exactly the loans of
    /// hash partition `k` of `n`, because `bucket` scales the hash's high
    /// bits: `floor(floor(x * n * m) / m) = floor(x * n)`.
    pub fn shard(k: usize, n: usize, m: usize, groups: usize) -> Plan {
        Plan {
            folded: k * m..(k + 1) * m,
            ..Plan::hash(n * m, groups)
        }
    }
    /// Whether the partitions are hash partitions (read through scratch
    /// files).
    pub fn hashed(&self) -> bool {
        matches!(self.parts.first(), Some(Part::Hash { .. }))
    }
    /// How the book was cut, in words (the manifest's
    /// `memory.partitioned_by`).
    pub fn describe(&self) -> String {
        match self.parts.as_slice() {
            [p] if p.is_all() && self.over_limit => "whole book: above the memory limit, but its run date is one row group, the smallest piece a partition can hold (write smaller row groups to fold it in parts)".into(),
            [p] if p.is_all() => "whole book: it fits the limit".into(),
            _ if self.hashed() => format!("loan-id hash, through scratch files: {NOT_IN_ID_ORDER}"),
            _ => "loan-id ranges from the row groups' statistics".into(),
        }
    }
    /// The partition of row `r` of `ids` (a contact's loan, say).
    pub fn part_of(&self, ids: &LoanIds, r: usize) -> usize {
        match self.parts.first() {
            Some(Part::Hash { of, .. }) => bucket(ids, r, *of),
            _ => {
                // The last range whose lower bound is at or below the id.
                let k = self.parts.partition_point(|p| match p {
                    Part::Range(range) => range
                        .lo
                        .as_ref()
                        .is_none_or(|lo| lo.cmp_row(ids, r) != Ordering::Less),
                    Part::Hash { .. } => unreachable!("one kind of partition per plan"),
                });
                k.saturating_sub(1)
            }
        }
    }
}

/// Cuts the run date's row groups into runs of about `rows_per_partition`
/// loans (at least one group each) when its row groups are in id order
/// ([`groups_in_id_order`]) and the earlier snapshots' do not overlap
/// ([`groups_disjoint`]); otherwise into hash partitions of about as many
/// loans (at least a row group's worth each, at most [`MAX_HASH_PARTS`]).
/// `cur` and each of `earlier` list their non-empty row groups in file
/// order.
pub fn plan(cur: &[GroupStats], earlier: &[&[GroupStats]], rows_per_partition: usize) -> Plan {
    let total: usize = cur.iter().map(|g| g.rows).sum();
    if total <= rows_per_partition {
        return Plan::whole(cur.len());
    }
    if cur.len() < 2 {
        return Plan::whole_over_limit(cur.len());
    }
    if !groups_in_id_order(cur) || !earlier.iter().all(|e| groups_disjoint(e)) {
        let group = cur.iter().map(|g| g.rows).max().unwrap_or(1);
        let per = rows_per_partition.max(group).max(1);
        let of = total.div_ceil(per).clamp(1, MAX_HASH_PARTS);
        if of == 1 {
            return Plan::whole_over_limit(cur.len());
        }
        return Plan::hash(of, cur.len());
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
    let mut parts = Vec::with_capacity(starts.len());
    let mut cur_groups = Vec::with_capacity(starts.len());
    for (p, &s) in starts.iter().enumerate() {
        let end = starts.get(p + 1).copied().unwrap_or(cur.len());
        parts.push(Part::Range(IdRange {
            lo: if p == 0 { None } else { lo_of(s) },
            hi: starts.get(p + 1).and_then(|&n| lo_of(n)),
        }));
        cur_groups.push(s..end);
    }
    let folded = 0..parts.len();
    Plan {
        parts,
        cur_groups,
        folded,
        over_limit: false,
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
        let ranges: Vec<&IdRange> = p
            .parts
            .iter()
            .map(|x| match x {
                Part::Range(r) => r,
                Part::Hash { .. } => panic!("{x:?}"),
            })
            .collect();
        assert_eq!(ranges[0].lo, None);
        assert_eq!(ranges[0].hi, Some(IdBound::Int(20)));
        assert_eq!(ranges[1].lo, Some(IdBound::Int(20)));
        assert_eq!(ranges[1].hi, None);
        // The earlier snapshot's second group straddles the cut.
        assert!(ranges[0].overlaps(&IdBound::Int(15), &IdBound::Int(40)));
        assert!(ranges[1].overlaps(&IdBound::Int(15), &IdBound::Int(40)));
        assert!(!ranges[1].covers(&IdBound::Int(15), &IdBound::Int(40)));
        let ids = LoanIds::Int(vec![19, 20]);
        assert!(p.parts[0].contains(&ids, 0) && !p.parts[0].contains(&ids, 1));
        assert!(p.parts[1].contains(&ids, 1));
        assert_eq!((p.part_of(&ids, 0), p.part_of(&ids, 1)), (0, 1));
    }

    #[test]
    fn overlapping_or_missing_statistics_cut_the_book_by_hash() {
        let cur = [g(4, 0, 9), g(4, 5, 19), g(4, 20, 29)];
        let p = plan(&cur, &[], 4);
        assert!(p.hashed());
        assert_eq!(p.parts[1], Part::Hash { k: 1, of: 3 });
        assert!(p.describe().contains(NOT_IN_ID_ORDER));
        let no_stats = [g(4, 0, 9), GroupStats { rows: 4, ids: None }];
        assert!(!groups_in_id_order(&no_stats));
        let cur = [g(4, 0, 9), g(4, 10, 19)];
        assert!(plan(&cur, &[&no_stats], 4).hashed());
        // An earlier snapshot's groups may come in any file order.
        let swapped = [g(4, 10, 19), g(4, 0, 9)];
        assert!(!groups_in_id_order(&swapped) && groups_disjoint(&swapped));
        let p = plan(&cur, &[&swapped], 4);
        assert!(!p.hashed() && p.parts.len() == 2);
        // Small books are one partition whatever their order; hash
        // partitions hold at least a row group's worth of loans.
        assert!(plan(&cur, &[&no_stats], 100).parts[0].is_all());
        assert_eq!(plan(&cur, &[&no_stats], 1).parts.len(), 2);
        let many: Vec<GroupStats> = (0..1000).map(|k| g(1, 1000 - k, 1000 - k)).collect();
        assert_eq!(plan(&many, &[], 1).parts.len(), MAX_HASH_PARTS);
    }

    #[test]
    fn hash_buckets_spread_ids_and_agree_across_columns() {
        let n = 7;
        let ints = LoanIds::Int((0..70_000).collect());
        let mut counts = vec![0usize; n];
        for r in 0..ints.len() {
            counts[bucket(&ints, r, n)] += 1;
        }
        // Consecutive integers spread evenly (10,000 expected each).
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
        // An id falls in the same bucket wherever it is read.
        let a = LoanIds::Str {
            offsets: vec![0, 3, 6],
            bytes: b"L01L02".to_vec(),
        };
        let b = a.take([1, 0].into_iter());
        assert_eq!(bucket(&a, 0, n), bucket(&b, 1, n));
        assert_eq!(bucket(&a, 1, n), bucket(&b, 0, n));
        let p = Plan::hash(n, 1);
        assert!(p.parts[p.part_of(&a, 1)].contains(&a, 1));
    }

    /// The shard of an id is documented (README, "Running on a cluster")
    /// and other programs may compute it: these values come from an
    /// independent Python implementation of that text.
    #[test]
    fn the_documented_hash_is_pinned() {
        let ints = LoanIds::Int(vec![0, 1, -1, 123_456_789]);
        let expected = [
            (0u64, [0, 0, 0]),
            (0xb456bcfc34c2cb2c, [2, 4, 180]),
            (0x64b5720b4b825f21, [1, 2, 100]),
            (0x8f7c29206384f886, [1, 3, 143]),
        ];
        for (r, (h, shards)) in expected.iter().enumerate() {
            assert_eq!(
                mix64(match &ints {
                    LoanIds::Int(v) => v[r] as u64,
                    _ => 0,
                }),
                *h
            );
            for (n, k) in [3, 7, 256].iter().zip(shards) {
                assert_eq!(bucket(&ints, r, *n), *k, "int row {r} of {n}");
            }
        }
        let words = ["L0000001", "LN-2026-00012345", "贷款42", ""];
        let strs = LoanIds::Str {
            offsets: std::iter::once(0)
                .chain(words.iter().scan(0, |at, w| {
                    *at += w.len();
                    Some(*at)
                }))
                .collect(),
            bytes: words.concat().into_bytes(),
        };
        let expected = [
            (0x3fc400805ac18ef6u64, [0, 1, 63]),
            (0x828431be7da96010, [1, 3, 130]),
            (0x748668ddc1d521ae, [1, 3, 116]),
            (0, [0, 0, 0]),
        ];
        for (r, (h, shards)) in expected.iter().enumerate() {
            assert_eq!(hash_bytes(strs.str_bytes(r)), *h, "{}", words[r]);
            for (n, k) in [3, 7, 256].iter().zip(shards) {
                assert_eq!(bucket(&strs, r, *n), *k, "{} of {n}", words[r]);
            }
        }
    }

    #[test]
    fn a_shards_partitions_hold_exactly_its_loans() {
        let ints = LoanIds::Int((0..50_000).map(|i| i * 7919 - 20_000).collect());
        let strs = LoanIds::Str {
            offsets: (0..=2_000).map(|i| i * 6).collect(),
            bytes: (0..2_000)
                .flat_map(|i| format!("L{i:05}").into_bytes())
                .collect(),
        };
        for ids in [&ints, &strs] {
            for (n, m) in [(1, 1), (3, 1), (3, 4), (7, 5), (16, 256)] {
                for k in [0, n / 2, n - 1] {
                    let p = Plan::shard(k, n, m, 1);
                    assert_eq!(p.folded.len(), m);
                    for r in 0..ids.len() {
                        let own = bucket(ids, r, n) == k;
                        let folded = p.folded.contains(&p.part_of(ids, r));
                        assert_eq!(own, folded, "row {r}, shard {k}/{n} in {m}");
                    }
                }
            }
        }
    }
}
