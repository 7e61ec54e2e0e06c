//! What the contacts say about each loan of the run date, for the tier
//! rules and early warning: a refusal in the trailing 7 days, and a broken
//! promise (metrics.md, "Contacts": a promise is due when its `ptp_date` is
//! in D-6..D, and kept when `paid_amount` summed over the loans snapshots
//! dated after the promise's contact date up to and including its
//! `ptp_date` reaches 95% of `ptp_amount`).

use std::collections::HashMap;

use rayon::prelude::*;

use crate::input::columns::NULL_MONEY;
use crate::input::contacts::{Contacts, Outcome};
use crate::input::snapshot::{LoanIds, Snapshot};
use crate::metrics::join::SortedIds;

/// Whether contact `c` is a promise the run follows: a promise to pay with
/// an amount and a date, due in D-6..D or still open after D (`today` = D,
/// days since 1970-01-01).
pub fn followed(contacts: &Contacts, c: usize, today: i32) -> bool {
    let pd = contacts.ptp_date[c];
    contacts.outcome[c] == Outcome::PromiseToPay
        && contacts.ptp_amount[c] != NULL_MONEY
        && pd != i32::MIN
        && pd > today - 7
}

/// Per-row flags of the run-date snapshot.
#[derive(Clone, Debug, Default)]
pub struct ContactFlags {
    pub refused_7d: Vec<bool>,
    pub broken_promise: Vec<bool>,
    /// Contacts whose loan is not in the run date's snapshot.
    pub orphans: usize,
    /// Promises due in D-6..D, and how many were kept.
    pub promises_due: usize,
    pub promises_kept: usize,
    /// Every promise due in D-6..D or still open (due after D).
    pub promises: Vec<Promise>,
    /// The run date's contacts (indices into the window) and each one's
    /// row in the run date's snapshot (`None`: an orphan).
    pub today: Vec<(usize, Option<usize>)>,
}

/// A promise to pay and what became of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Promise {
    /// Index of the contact that recorded it.
    pub contact: usize,
    /// `ptp_date`, days since 1970-01-01.
    pub due_date: i32,
    /// `ptp_amount`, cents.
    pub amount: i64,
    /// Cash paid after the contact date up to the due date (or today, for
    /// an open promise), cents.
    pub paid: i128,
    /// Paid at least 95% of the amount (for an open promise: already).
    pub kept: bool,
    /// Due after the run date: not yet kept or broken.
    pub open: bool,
}

/// How a snapshot's rows can be searched by loan id.
#[derive(Clone, Copy, Debug)]
pub enum IdIndex<'a> {
    /// The rows are in strictly increasing id order already
    /// ([`crate::metrics::join::in_id_order`]).
    Natural,
    /// Through the rows sorted by key.
    Sorted(&'a SortedIds),
}

impl<'a> IdIndex<'a> {
    /// The index of a snapshot the run sorted by key, or `Natural` when it
    /// did not need to (the snapshot is in id order).
    pub fn of(sorted: Option<&'a SortedIds>) -> IdIndex<'a> {
        sorted.map_or(IdIndex::Natural, IdIndex::Sorted)
    }
}

/// One loans snapshot's `paid_amount` for promise keeping, with a way to
/// search its ids when the run has one (then promises are looked up, not
/// scanned).
pub struct PaidSnapshot<'a> {
    pub date: i32,
    pub ids: &'a LoanIds,
    pub paid: &'a [i64],
    pub index: Option<IdIndex<'a>>,
}

/// The rows of `wanted` contacts in a snapshot, by a merge walk of the
/// contacts (sorted the snapshot's way) against the snapshot's order:
/// sequential memory access instead of one binary search (and cache
/// misses) each.
pub fn rows_of(
    snap_ids: &LoanIds,
    index: IdIndex,
    ids: &LoanIds,
    wanted: &[usize],
) -> Vec<Option<usize>> {
    let sorted = match index {
        IdIndex::Sorted(s) => s,
        IdIndex::Natural => return rows_in_natural_order(snap_ids, ids, wanted),
    };
    let mut order: Vec<(u64, usize)> = wanted
        .par_iter()
        .enumerate()
        .map(|(k, &c)| (ids.key(c), k))
        .collect();
    order.par_sort_unstable();
    let mut out = vec![None; wanted.len()];
    let mut p = 0usize;
    for (key, k) in order {
        while p < sorted.keys.len() && sorted.keys[p] < key {
            p += 1;
        }
        out[k] = row_of(snap_ids, sorted, ids, wanted[k], p);
    }
    out
}

/// [`rows_of`] for a snapshot in strictly increasing id order.
fn rows_in_natural_order(
    snap_ids: &LoanIds,
    ids: &LoanIds,
    wanted: &[usize],
) -> Vec<Option<usize>> {
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.par_sort_unstable_by(|&x, &y| ids.cmp_natural(wanted[x], ids, wanted[y]));
    let n = snap_ids.len();
    let mut out = vec![None; wanted.len()];
    let mut p = 0usize;
    for k in order {
        let c = wanted[k];
        while p < n && snap_ids.cmp_natural(p, ids, c) == std::cmp::Ordering::Less {
            p += 1;
        }
        if p < n && snap_ids.cmp_natural(p, ids, c) == std::cmp::Ordering::Equal {
            out[k] = Some(p);
        }
    }
    out
}

/// The row of contact `c` among the equal keys starting at `start`.
fn row_of(
    snap_ids: &LoanIds,
    sorted: &SortedIds,
    ids: &LoanIds,
    c: usize,
    start: usize,
) -> Option<usize> {
    let k = ids.key(c);
    sorted.keys[start..]
        .iter()
        .take_while(|&&x| x == k)
        .zip(&sorted.rows[start..])
        .map(|(_, &r)| r as usize)
        .find(|&r| match (snap_ids, ids) {
            // Keys are equal here: only the ids themselves are left to compare.
            (LoanIds::Int(a), LoanIds::Int(b)) => a[r] == b[c],
            _ => snap_ids.str_bytes(r) == ids.str_bytes(c),
        })
}

/// Flags for the run date `today` (days since 1970-01-01). `paid` holds,
/// per loans snapshot date in the promise window, that snapshot's ids and
/// `paid_amount` (the run date's and the others the caller read).
pub fn flags(
    cur: &Snapshot,
    index: IdIndex,
    contacts: &Contacts,
    today: i32,
    paid: &[PaidSnapshot],
) -> ContactFlags {
    let n = cur.len();
    let mut f = ContactFlags {
        refused_7d: vec![false; n],
        broken_promise: vec![false; n],
        ..ContactFlags::default()
    };
    // Promises due in the window: (contact index, run-date row).
    // Only the contacts that matter are looked up in the snapshot (a
    // binary search each): the run date's (for orphans), refusals of the
    // last 7 days, and promises due in D-6..D.
    let due_promise = |c: usize| followed(contacts, c, today);
    let refusal =
        |c: usize| contacts.outcome[c] == Outcome::Refused && contacts.date[c] > today - 7;
    let wanted: Vec<usize> = (0..contacts.len())
        .filter(|&c| contacts.date[c] == today || refusal(c) || due_promise(c))
        .collect();
    let rows = rows_of(&cur.ids, index, &contacts.ids, &wanted);
    let mut due: Vec<(usize, Option<usize>)> = Vec::new();
    for (&c, &row) in wanted.iter().zip(&rows) {
        if contacts.date[c] == today {
            f.today.push((c, row));
            if row.is_none() {
                f.orphans += 1;
            }
        }
        if refusal(c) {
            if let Some(r) = row {
                f.refused_7d[r] = true;
            }
        }
        if due_promise(c) {
            due.push((c, row));
        }
    }
    f.promises_due = due
        .iter()
        .filter(|&&(c, _)| contacts.ptp_date[c] <= today)
        .count();
    if due.is_empty() {
        return f;
    }
    // Paid per promise: each snapshot dated after the contact, up to the
    // promised date. Snapshot rows are screened by their 64-bit id key (a
    // cheap integer lookup, in parallel); only key hits compare the ids.
    let mut by_key: HashMap<u64, Vec<usize>> = HashMap::new();
    for (k, &(c, _)) in due.iter().enumerate() {
        by_key.entry(contacts.ids.key(c)).or_default().push(k);
    }
    let mut paid_sum = vec![0i128; due.len()];
    let due_contacts: Vec<usize> = due.iter().map(|&(c, _)| c).collect();
    for src in paid {
        let (date, ids, amounts) = (src.date, src.ids, src.paid);
        let counts = |k: usize| {
            let c = due[k].0;
            date > contacts.date[c] && date <= contacts.ptp_date[c] && date <= today
        };
        if let Some(index) = src.index {
            // Searchable ids: look the promised loans up.
            for (k, row) in rows_of(ids, index, &contacts.ids, &due_contacts)
                .into_iter()
                .enumerate()
            {
                if let Some(r) = row.filter(|_| counts(k)) {
                    paid_sum[k] += amounts[r] as i128;
                }
            }
            continue;
        }
        let hits: Vec<(usize, i128)> = crate::metrics::ranges(ids.len())
            .into_par_iter()
            .flat_map_iter(|range| {
                let mut out = Vec::new();
                for row in range {
                    let Some(ks) = by_key.get(&ids.key(row)) else {
                        continue;
                    };
                    for &k in ks {
                        let c = due[k].0;
                        let same = match (ids, &contacts.ids) {
                            (LoanIds::Int(a), LoanIds::Int(b)) => a[row] == b[c],
                            _ => ids.str_bytes(row) == contacts.ids.str_bytes(c),
                        };
                        if same && counts(k) {
                            out.push((k, amounts[row] as i128));
                        }
                    }
                }
                out
            })
            .collect();
        for (k, v) in hits {
            paid_sum[k] += v;
        }
    }
    for (k, &(c, row)) in due.iter().enumerate() {
        // Kept at 95%: 100 x paid >= 95 x promised, in integer cents.
        let kept = paid_sum[k] * 100 >= contacts.ptp_amount[c] as i128 * 95;
        let open = contacts.ptp_date[c] > today;
        f.promises.push(Promise {
            contact: c,
            due_date: contacts.ptp_date[c],
            amount: contacts.ptp_amount[c],
            paid: paid_sum[k],
            kept,
            open,
        });
        if open {
            continue;
        }
        if kept {
            f.promises_kept += 1;
        } else if let Some(r) = row {
            f.broken_promise[r] = true;
        }
    }
    f
}

/// Promises by due date: the `promises` table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PromiseDay {
    /// Days since 1970-01-01.
    pub due_date: i32,
    pub promises: u64,
    /// Promises due by the run date (all of them, for a date up to D).
    pub due: u64,
    pub kept: u64,
    pub broken: u64,
    /// Due after the run date.
    pub open: u64,
    pub promised_amount: i128,
    /// Promised amount of the kept promises.
    pub kept_amount: i128,
    /// Cash paid towards the day's promises within their windows.
    pub paid_amount: i128,
}

/// Adds two partitions' promise days (each in date order) by due date.
pub fn merge_days(a: Vec<PromiseDay>, b: Vec<PromiseDay>) -> Vec<PromiseDay> {
    let mut days: std::collections::BTreeMap<i32, PromiseDay> =
        a.into_iter().map(|d| (d.due_date, d)).collect();
    for d in b {
        let e = days.entry(d.due_date).or_insert(PromiseDay {
            due_date: d.due_date,
            ..PromiseDay::default()
        });
        e.promises += d.promises;
        e.due += d.due;
        e.kept += d.kept;
        e.broken += d.broken;
        e.open += d.open;
        e.promised_amount += d.promised_amount;
        e.kept_amount += d.kept_amount;
        e.paid_amount += d.paid_amount;
    }
    days.into_values().collect()
}

/// Groups promises by due date, in date order.
pub fn by_due_date(promises: &[Promise]) -> Vec<PromiseDay> {
    let mut days: std::collections::BTreeMap<i32, PromiseDay> = Default::default();
    for p in promises {
        let d = days.entry(p.due_date).or_insert(PromiseDay {
            due_date: p.due_date,
            ..PromiseDay::default()
        });
        d.promises += 1;
        d.promised_amount += p.amount as i128;
        d.paid_amount += p.paid;
        if p.open {
            d.open += 1;
            continue;
        }
        d.due += 1;
        if p.kept {
            d.kept += 1;
            d.kept_amount += p.amount as i128;
        } else {
            d.broken += 1;
        }
    }
    days.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn str_ids(v: &[String]) -> LoanIds {
        let mut ids = LoanIds::empty_str();
        for s in v {
            ids.extend(LoanIds::Str {
                offsets: vec![0, s.len()],
                bytes: s.as_bytes().to_vec(),
            });
        }
        ids
    }

    fn sorted_by_key(ids: &LoanIds) -> SortedIds {
        let (keys, rows) = crate::metrics::join::key_order(ids).into_iter().unzip();
        SortedIds { keys, rows }
    }

    /// Both ways of searching a snapshot in id order find the same rows:
    /// present, absent, repeated, below the first and above the last id.
    #[test]
    fn natural_and_sorted_lookups_agree() {
        let snap: Vec<i64> = (10..3000).step_by(3).collect();
        let wanted_ids: Vec<i64> = (0..4000).map(|i| (i * 7919) % 3100).collect();
        for int_ids in [true, false] {
            let name = |x: i64| format!("L{x:05}");
            let (s, c) = if int_ids {
                (LoanIds::Int(snap.clone()), LoanIds::Int(wanted_ids.clone()))
            } else {
                (
                    str_ids(&snap.iter().map(|&x| name(x)).collect::<Vec<_>>()),
                    str_ids(&wanted_ids.iter().map(|&x| name(x)).collect::<Vec<_>>()),
                )
            };
            let wanted: Vec<usize> = (0..c.len()).rev().collect();
            let sorted = sorted_by_key(&s);
            let natural = rows_of(&s, IdIndex::Natural, &c, &wanted);
            let by_key = rows_of(&s, IdIndex::Sorted(&sorted), &c, &wanted);
            assert_eq!(natural, by_key, "int ids: {int_ids}");
            let found = natural.iter().flatten().count();
            assert!(found > 1000 && found < wanted.len(), "{found}");
        }
    }
}
