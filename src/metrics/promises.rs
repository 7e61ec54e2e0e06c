//! What the contacts say about each loan of the run date, for the tier
//! rules and early warning: a refusal in the trailing 7 days, and a broken
//! promise (metrics.md, "Contacts": a promise is due when its `ptp_date` is
//! in D-6..D, and kept when `paid_amount` summed over the loans snapshots
//! dated after the promise's contact date up to and including its
//! `ptp_date` reaches 95% of `ptp_amount`).

use std::collections::HashMap;

use crate::input::columns::NULL_MONEY;
use crate::input::contacts::{Contacts, Outcome};
use crate::input::snapshot::{LoanIds, Snapshot};
use crate::metrics::join::SortedIds;

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
}

/// The run-date row of contact `c`, if its loan is in the snapshot.
pub fn row_of(cur: &Snapshot, sorted: &SortedIds, ids: &LoanIds, c: usize) -> Option<usize> {
    let k = ids.key(c);
    let start = sorted.keys.partition_point(|&x| x < k);
    sorted.keys[start..]
        .iter()
        .take_while(|&&x| x == k)
        .zip(&sorted.rows[start..])
        .map(|(_, &r)| r as usize)
        .find(|&r| cur.ids.cmp_rows(r, ids, c).is_eq())
}

/// A loan id as hashable bytes (integers as their 8 bytes).
fn id_bytes(ids: &LoanIds, row: usize) -> Vec<u8> {
    match ids {
        LoanIds::Int(v) => v[row].to_le_bytes().to_vec(),
        LoanIds::Str { .. } => ids.str_bytes(row).to_vec(),
    }
}

/// Flags for the run date `today` (days since 1970-01-01). `paid` holds,
/// per loans snapshot date in the promise window, that snapshot's ids and
/// `paid_amount` (the run date's and the others the caller read).
pub fn flags(
    cur: &Snapshot,
    sorted: &SortedIds,
    contacts: &Contacts,
    today: i32,
    paid: &[(i32, &LoanIds, &[i64])],
) -> ContactFlags {
    let n = cur.len();
    let mut f = ContactFlags {
        refused_7d: vec![false; n],
        broken_promise: vec![false; n],
        ..ContactFlags::default()
    };
    // Promises due in the window: (contact index, run-date row).
    let mut due: Vec<(usize, Option<usize>)> = Vec::new();
    for c in 0..contacts.len() {
        let row = row_of(cur, sorted, &contacts.ids, c);
        if row.is_none() && contacts.date[c] == today {
            f.orphans += 1;
        }
        if contacts.outcome[c] == Outcome::Refused && contacts.date[c] > today - 7 {
            if let Some(r) = row {
                f.refused_7d[r] = true;
            }
        }
        let pd = contacts.ptp_date[c];
        if contacts.outcome[c] == Outcome::PromiseToPay
            && contacts.ptp_amount[c] != NULL_MONEY
            && pd != i32::MIN
            && pd > today - 7
            && pd <= today
        {
            due.push((c, row));
        }
    }
    f.promises_due = due.len();
    if due.is_empty() {
        return f;
    }
    // Paid per promise: each snapshot dated after the contact, up to the
    // promised date. Only the promised loans are looked up.
    let mut by_id: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
    for (k, &(c, _)) in due.iter().enumerate() {
        by_id.entry(id_bytes(&contacts.ids, c)).or_default().push(k);
    }
    let mut paid_sum = vec![0i128; due.len()];
    for &(date, ids, amounts) in paid {
        for row in 0..ids.len() {
            // Borrowed bytes: no allocation per snapshot row.
            let int_bytes;
            let key: &[u8] = match ids {
                LoanIds::Int(v) => {
                    int_bytes = v[row].to_le_bytes();
                    &int_bytes
                }
                LoanIds::Str { .. } => ids.str_bytes(row),
            };
            let Some(ks) = by_id.get(key) else {
                continue;
            };
            for &k in ks {
                let c = due[k].0;
                if date > contacts.date[c] && date <= contacts.ptp_date[c] {
                    paid_sum[k] += amounts[row] as i128;
                }
            }
        }
    }
    for (k, &(c, row)) in due.iter().enumerate() {
        // Kept at 95%: 100 x paid >= 95 x promised, in integer cents.
        let kept = paid_sum[k] * 100 >= contacts.ptp_amount[c] as i128 * 95;
        if kept {
            f.promises_kept += 1;
        } else if let Some(r) = row {
            f.broken_promise[r] = true;
        }
    }
    f
}
