//! Joining two snapshots on `loan_id` without a hash map of strings.
//!
//! Each snapshot's rows are sorted once by a 64-bit key (the integer id
//! itself, or a hash of the string id with ties broken by the bytes). The
//! join is then a merge walk over the two sorted orders; it runs in
//! parallel over key ranges, each range walked independently. Sorting also
//! finds duplicate ids for free: they end up side by side.
//!
//! When both snapshots already list their loans in strictly increasing id
//! order (daily snapshots of one pipeline usually do; the check is one
//! sequential pass), the walk goes over the rows as they are: no sort, and
//! every access is sequential. Strictly increasing also means no duplicates.

use std::cmp::Ordering;
use std::ops::Range;

use anyhow::Result;
use rayon::prelude::*;

use crate::error::bad_input;
use crate::input::snapshot::{LoanIds, Snapshot};

/// No row at the earlier date (a new loan): what the join gives a loan of
/// the run date that the earlier snapshot does not hold.
pub const ABSENT: u32 = u32::MAX;

/// Rows of a snapshot sorted by loan id, with the sort keys beside them.
#[derive(Clone, Debug)]
pub struct SortedIds {
    pub keys: Vec<u64>,
    pub rows: Vec<u32>,
}

/// Sorts a snapshot's rows by id and fails on the first duplicate id,
/// naming the files and rows where it occurs and how many ids repeat.
pub fn sort_ids(snap: &Snapshot) -> Result<SortedIds> {
    let n = snap.len();
    if n > u32::MAX as usize {
        return Err(bad_input(format!(
            "{n} loans in one snapshot exceed the supported 4,294,967,295"
        )));
    }
    let ids = &snap.ids;
    let pairs = key_order(ids);
    let dup = |w: &[(u64, u32)]| {
        w[0].0 == w[1].0 && ids.cmp_rows(w[0].1 as usize, ids, w[1].1 as usize) == Ordering::Equal
    };
    let dups = pairs.par_windows(2).filter(|w| dup(w)).count();
    if dups > 0 {
        let w = pairs.windows(2).find(|w| dup(w)).expect("counted above");
        let (fa, ra) = snap.locate(w[0].1 as usize);
        let (fb, rb) = snap.locate(w[1].1 as usize);
        return Err(bad_input(format!(
            "column 'loan_id': duplicate loan_id '{}' in loans partition {} ('{}' row {ra} and '{}' row {rb}); {dups} duplicate row{} in all",
            ids.display(w[0].1 as usize),
            snap.date,
            fa.display(),
            fb.display(),
            if dups == 1 { "" } else { "s" }
        )));
    }
    let (keys, rows) = pairs.into_iter().unzip();
    Ok(SortedIds { keys, rows })
}

/// (key, row) of every id, in (key, id, row) order: [`sort_ids`] without
/// its checks. Rows must fit in `u32` (checked by the caller).
pub(crate) fn key_order(ids: &LoanIds) -> Vec<(u64, u32)> {
    let mut pairs: Vec<(u64, u32)> = (0..ids.len())
        .into_par_iter()
        .map(|r| (ids.key(r), r as u32))
        .collect();
    if ids.is_int() {
        // Integer keys are the ids: no tie-break needed.
        pairs.par_sort_unstable();
    } else {
        pairs.par_sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| ids.str_bytes(a.1 as usize).cmp(ids.str_bytes(b.1 as usize)))
                .then(a.1.cmp(&b.1))
        });
    }
    pairs
}

/// Fails on a duplicate id as [`sort_ids`] does (with the same message),
/// skipping the sort when the snapshot is [`in_id_order`]. For `validate`,
/// which checks without joining.
pub fn check_unique(snap: &Snapshot) -> Result<()> {
    if in_id_order(snap) {
        return Ok(());
    }
    sort_ids(snap).map(|_| ())
}

/// Whether a snapshot lists its loans in strictly increasing id order
/// (integers by value, strings by bytes).
pub fn in_id_order(snap: &Snapshot) -> bool {
    let ids = &snap.ids;
    (1..ids.len())
        .into_par_iter()
        .with_min_len(1 << 16)
        .all(|r| ids.cmp_natural(r - 1, ids, r) == Ordering::Less)
}

/// How [`fold_join`] pairs the rows of two snapshots.
#[derive(Clone, Copy, Debug)]
pub enum Order<'a> {
    /// Both snapshots are [`in_id_order`]: a merge walk over the rows as
    /// they are.
    InputOrder,
    /// Through each snapshot's rows sorted by key (earlier, later).
    Sorted(&'a SortedIds, &'a SortedIds),
}

/// One step of a merge join: a row of the earlier snapshot, of the later,
/// or of both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pair {
    Both(u32, u32),
    OnlyEarlier(u32),
    OnlyLater(u32),
}

/// Walks the join of `a` (earlier) and `b` (later) over key ranges in
/// parallel, folding each range with `fold` into an accumulator made by
/// `init`, then merging accumulators with `merge`.
pub fn fold_join<A, I, F, M>(
    a_snap: &Snapshot,
    b_snap: &Snapshot,
    order: Order,
    init: I,
    fold: F,
    merge: M,
) -> Result<A>
where
    A: Send,
    I: Fn() -> A + Sync + Send,
    F: Fn(&mut A, Pair) + Sync + Send,
    M: Fn(A, A) -> A + Sync + Send,
{
    if a_snap.ids.is_int() != b_snap.ids.is_int() {
        return Err(bad_input(format!(
            "column 'loan_id' is {} in loans partition {} but {} in {}: one type for all dates",
            a_snap.ids.type_name(),
            a_snap.date,
            b_snap.ids.type_name(),
            b_snap.date
        )));
    }
    let (a, b) = match order {
        Order::Sorted(a, b) => (a, b),
        Order::InputOrder => return Ok(fold_in_order(a_snap, b_snap, init, fold, merge)),
    };
    let splits = key_splits(b, super::ranges(b.keys.len()).len());
    let pieces: Vec<(Range<usize>, Range<usize>)> = splits
        .windows(2)
        .map(|w| (span(a, w[0], w[1]), span(b, w[0], w[1])))
        .collect();
    Ok(pieces
        .into_par_iter()
        .map(|(ra, rb)| {
            let mut acc = init();
            walk(
                a_snap,
                &a.keys[ra.clone()],
                &a.rows[ra],
                b_snap,
                &b.keys[rb.clone()],
                &b.rows[rb],
                |p| fold(&mut acc, p),
            );
            acc
        })
        .reduce(&init, merge))
}

/// [`fold_join`] over two snapshots in id order: the later one is split
/// into row ranges and each range's earlier rows found by binary search.
fn fold_in_order<A, I, F, M>(a_snap: &Snapshot, b_snap: &Snapshot, init: I, fold: F, merge: M) -> A
where
    A: Send,
    I: Fn() -> A + Sync + Send,
    F: Fn(&mut A, Pair) + Sync + Send,
    M: Fn(A, A) -> A + Sync + Send,
{
    let (ai, bi) = (&a_snap.ids, &b_snap.ids);
    let pieces = super::ranges(b_snap.len());
    // Earlier rows with ids below that of the later row `s`.
    let a_start = |s: usize| -> usize {
        if s >= b_snap.len() {
            return a_snap.len();
        }
        let (mut lo, mut hi) = (0, a_snap.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if ai.cmp_natural(mid, bi, s) == Ordering::Less {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    };
    let mut bounds: Vec<(Range<usize>, Range<usize>)> = pieces
        .iter()
        .map(|rb| (a_start(rb.start)..a_start(rb.end), rb.clone()))
        .collect();
    // The first piece also takes the earlier rows before every later one.
    match bounds.first_mut() {
        Some(first) => first.0.start = 0,
        None => bounds.push((0..a_snap.len(), 0..0)),
    }
    bounds
        .into_par_iter()
        .map(|(ra, rb)| {
            let mut acc = init();
            let (mut i, mut j) = (ra.start, rb.start);
            while i < ra.end && j < rb.end {
                match ai.cmp_natural(i, bi, j) {
                    Ordering::Less => {
                        fold(&mut acc, Pair::OnlyEarlier(i as u32));
                        i += 1;
                    }
                    Ordering::Greater => {
                        fold(&mut acc, Pair::OnlyLater(j as u32));
                        j += 1;
                    }
                    Ordering::Equal => {
                        fold(&mut acc, Pair::Both(i as u32, j as u32));
                        i += 1;
                        j += 1;
                    }
                }
            }
            (i..ra.end).for_each(|r| fold(&mut acc, Pair::OnlyEarlier(r as u32)));
            (j..rb.end).for_each(|r| fold(&mut acc, Pair::OnlyLater(r as u32)));
            acc
        })
        .reduce(&init, merge)
}

/// Key boundaries `[Some(0), Some(k1), ..., None]`: consecutive pairs are
/// half-open key ranges, `None` meaning "to the end". Boundaries are keys,
/// so all rows with one key fall in one range.
fn key_splits(b: &SortedIds, pieces: usize) -> Vec<Option<u64>> {
    let mut s = vec![Some(0u64)];
    let n = b.keys.len();
    for k in 1..pieces {
        let key = b.keys[k * n / pieces];
        if s.last().copied().flatten().is_some_and(|last| key > last) {
            s.push(Some(key));
        }
    }
    s.push(None);
    s
}

/// Index range of keys in `[lo, hi)` (`hi = None` means to the end).
fn span(x: &SortedIds, lo: Option<u64>, hi: Option<u64>) -> Range<usize> {
    let start = x.keys.partition_point(|&k| k < lo.unwrap_or(0));
    let end = match hi {
        Some(h) => x.keys.partition_point(|&k| k < h),
        None => x.keys.len(),
    };
    start..end
}

/// Merge walk over two sorted runs. The cached keys decide almost every
/// step; the ids themselves are compared only when keys are equal (always
/// for a match, rarely for a string-hash collision).
fn walk(
    a_snap: &Snapshot,
    ak: &[u64],
    a: &[u32],
    b_snap: &Snapshot,
    bk: &[u64],
    b: &[u32],
    mut f: impl FnMut(Pair),
) {
    let (mut i, mut j) = (0, 0);
    let int = a_snap.ids.is_int();
    while i < a.len() && j < b.len() {
        let ord = match ak[i].cmp(&bk[j]) {
            Ordering::Equal if !int => a_snap
                .ids
                .str_bytes(a[i] as usize)
                .cmp(b_snap.ids.str_bytes(b[j] as usize)),
            o => o,
        };
        match ord {
            Ordering::Less => {
                f(Pair::OnlyEarlier(a[i]));
                i += 1;
            }
            Ordering::Greater => {
                f(Pair::OnlyLater(b[j]));
                j += 1;
            }
            Ordering::Equal => {
                f(Pair::Both(a[i], b[j]));
                i += 1;
                j += 1;
            }
        }
    }
    a[i..].iter().for_each(|&r| f(Pair::OnlyEarlier(r)));
    b[j..].iter().for_each(|&r| f(Pair::OnlyLater(r)));
}
