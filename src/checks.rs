//! Reconciliation (metrics.md): figures that must add up on every run. Each
//! check compares a total computed one way with the same total computed
//! another way, from the raw snapshot columns rather than from the result
//! being checked. A failed check fails the run and nothing is published.

use serde::Serialize;

use crate::input::snapshot::Snapshot;
use crate::metrics::book::{BookTally, States};
use crate::metrics::tally::Tally;
use crate::metrics::transitions::Matrix;
use crate::money;
use crate::states::{Bucket, Status, BUCKETS, NO_CLASS};

/// One reconciliation check and its result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub expected: String,
    pub actual: String,
}

impl Check {
    fn new(name: impl Into<String>, expected: impl ToString, actual: impl ToString) -> Check {
        let (expected, actual) = (expected.to_string(), actual.to_string());
        Check {
            name: name.into(),
            passed: expected == actual,
            expected,
            actual,
        }
    }
}

/// Plain per-bucket totals of a snapshot, straight from its columns.
pub fn bucket_totals(snap: &Snapshot, st: &States) -> [Tally; BUCKETS] {
    let mut t = [Tally::default(); BUCKETS];
    for (r, &b) in st.bucket.iter().enumerate() {
        t[b as usize].add(snap.balance[r], snap.past_due[r]);
    }
    t
}

/// Checks on the run date's book: ageing and classification against the raw columns.
pub fn book(snap: &Snapshot, st: &States, t: &BookTally) -> Vec<Check> {
    let raw_balance: i128 = snap.balance.iter().map(|&b| b as i128).sum();
    let raw_past_due: i128 = snap.past_due.iter().map(|&b| b as i128).sum();
    let ageing_total = t.ageing.iter().fold(Tally::default(), |mut a, c| {
        a.merge(c);
        a
    });
    let mut book = Tally::default();
    for (r, s) in snap.status.iter().enumerate() {
        if *s != Status::PaidOff {
            book.add(snap.balance[r], 0);
        }
    }
    let classified = t.class.iter().fold(Tally::default(), |mut a, c| {
        a.merge(c);
        a
    });
    let unclassified_active = st
        .class
        .iter()
        .zip(&snap.status)
        .filter(|(&c, &s)| c == NO_CLASS && s != Status::PaidOff)
        .count();
    vec![
        Check::new(
            "ageing.loans = snapshot rows",
            snap.len(),
            ageing_total.loans,
        ),
        Check::new(
            "ageing.principal_balance = sum of principal_balance",
            money::plain(raw_balance),
            money::plain(ageing_total.balance),
        ),
        Check::new(
            "ageing.past_due_amount = sum of past_due_amount",
            money::plain(raw_past_due),
            money::plain(ageing_total.past_due),
        ),
        Check::new(
            "classification.loans = active + charged-off loans",
            book.loans,
            classified.loans,
        ),
        Check::new(
            "classification.principal_balance = balance of active + charged-off loans",
            money::plain(book.balance),
            money::plain(classified.balance),
        ),
        Check::new(
            "every active or charged-off loan has a class",
            0,
            unclassified_active,
        ),
    ]
}

/// Checks on one transition matrix: row totals are the earlier snapshot per
/// bucket, column totals the run date's, `NEW` and `EXIT` what the joins left.
/// Checks of a tier transition matrix: column loans = the run date's loans
/// per tier, and NEW + matched = run-date loans.
pub fn tier_matrix(period: &str, m: &Matrix, earlier: &[u8], now: &[u8]) -> Vec<Check> {
    let count = |codes: &[u8]| {
        let mut c = vec![0u64; m.n];
        for &x in codes {
            c[x as usize] += 1;
        }
        c
    };
    let (e, c) = (count(earlier), count(now));
    let cols: Vec<u64> = (0..m.n).map(|j| m.col_total(j).loans).collect();
    let rows: Vec<u64> = (0..m.n).map(|i| m.row_total(i).loans).collect();
    vec![
        Check::new(
            format!("transitions[{period}, tier] column loans = run-date loans by tier"),
            format!("{c:?}"),
            format!("{cols:?}"),
        ),
        Check::new(
            format!("transitions[{period}, tier] row loans = earlier loans by tier"),
            format!("{e:?}"),
            format!("{rows:?}"),
        ),
        Check::new(
            format!("transitions[{period}, tier] NEW + matched = run-date loans"),
            now.len(),
            (0..=m.n).map(|j| m.col_total(j).loans).sum::<u64>() - m.col_total(m.n).loans,
        ),
    ]
}

pub fn matrix(
    period: &str,
    m: &Matrix,
    earlier: &[Tally; BUCKETS],
    now: &[Tally; BUCKETS],
) -> Vec<Check> {
    let mut out = Vec::new();
    let (mut row_loans, mut row_bal, mut exp_loans, mut exp_bal) =
        (String::new(), String::new(), String::new(), String::new());
    let (mut col_loans, mut exp_col) = (String::new(), String::new());
    for b in Bucket::ALL {
        let i = b.index();
        let rt = m.row_total(i);
        row_loans += &format!("{}={} ", b.label(), rt.loans);
        row_bal += &format!("{}={} ", b.label(), money::plain(rt.balance));
        exp_loans += &format!("{}={} ", b.label(), earlier[i].loans);
        exp_bal += &format!("{}={} ", b.label(), money::plain(earlier[i].balance));
        col_loans += &format!("{}={} ", b.label(), m.col_total(i).loans);
        exp_col += &format!("{}={} ", b.label(), now[i].loans);
    }
    out.push(Check::new(
        format!("transitions[{period}] row loans = earlier snapshot by bucket"),
        exp_loans.trim_end(),
        row_loans.trim_end(),
    ));
    out.push(Check::new(
        format!("transitions[{period}] row balance = earlier snapshot by bucket"),
        exp_bal.trim_end(),
        row_bal.trim_end(),
    ));
    out.push(Check::new(
        format!("transitions[{period}] column loans = run-date snapshot by bucket"),
        exp_col.trim_end(),
        col_loans.trim_end(),
    ));
    let now_total: u64 = now.iter().map(|t| t.loans).sum();
    let earlier_total: u64 = earlier.iter().map(|t| t.loans).sum();
    let matched: u64 = (0..BUCKETS)
        .map(|i| m.row_total(i).loans - m.cell(i, BUCKETS).loans)
        .sum();
    out.push(Check::new(
        format!("transitions[{period}] NEW + matched = run-date loans"),
        now_total,
        m.row_total(BUCKETS).loans + matched,
    ));
    out.push(Check::new(
        format!("transitions[{period}] EXIT + matched = earlier loans"),
        earlier_total,
        m.col_total(BUCKETS).loans + matched,
    ));
    out
}

/// The failed checks, as one message per line.
pub fn failures(checks: &[Check]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{}: expected {}, got {}", c.name, c.expected, c.actual))
        .collect()
}

/// Checks of the recovery figures, each against a total found another way:
/// the raw columns, or the bucket transition matrix and recoveries of the
/// `prev` period (`None` when there is no `prev` snapshot).
pub fn recovery(
    snap: &Snapshot,
    r: &crate::metrics::recovery::Recovery,
    prev: Option<(&Matrix, i128)>,
) -> Vec<Check> {
    use crate::metrics::recovery::TIER_STATES;
    let raw_cash = crate::metrics::book::cash_collected(snap);
    let raw_balance: i128 = snap.balance.iter().map(|&x| x as i128).sum();
    let cells = r.collections.iter();
    let cash: i128 = cells.clone().map(|c| c.cash).sum();
    let loans: u64 = cells.map(|c| c.loans).sum();
    let vintage_loans: u64 = r.vintage.values().map(|v| v.loans).sum();
    let vintage_balance: i128 = r.vintage.values().map(|v| v.principal_balance).sum();
    let plan_loans: u64 = r.plans.iter().map(|g| g.tally.loans).sum();
    let legal_cash: i128 = r.legal.iter().map(|g| g.cash).sum();
    let charged_off = snap
        .status
        .iter()
        .filter(|&&s| s == Status::ChargedOff)
        .count();
    let cohort_loans: u64 = r.cohorts.values().map(|c| c.loans).sum();
    let mut out = vec![
        Check::new("collections.loans = snapshot rows", snap.len(), loans),
        Check::new(
            "collections.cash_collected = sum of paid_amount",
            money::plain(raw_cash),
            money::plain(cash),
        ),
        Check::new(
            "recovery_cohorts.loans = charged-off loans",
            charged_off,
            cohort_loans,
        ),
        Check::new("vintage.loans = snapshot rows", snap.len(), vintage_loans),
        Check::new(
            "vintage.principal_balance = sum of principal_balance",
            money::plain(raw_balance),
            money::plain(vintage_balance),
        ),
        Check::new("plans.loans = snapshot rows", snap.len(), plan_loans),
        Check::new(
            "legal.cash_collected = sum of paid_amount",
            money::plain(raw_cash),
            money::plain(legal_cash),
        ),
    ];
    if let Some((m, recovered)) = prev {
        let today: i128 = r.cohorts.values().filter_map(|c| c.recovered_today).sum();
        out.push(Check::new(
            "recovery_cohorts.recovered_today = recoveries since prev",
            money::plain(recovered),
            money::plain(today),
        ));
        // Cures per bucket at `prev`: the matrix cells to M0 and PAID.
        let (mut from_matrix, mut from_table) = (Vec::new(), Vec::new());
        for b in Bucket::ACTIVE.iter().filter(|b| b.is_delinquent()) {
            let i = b.index();
            let cells = m.cell(i, Bucket::M0.index()).loans + m.cell(i, Bucket::Paid.index()).loans;
            let table: u64 = (0..TIER_STATES).map(|t| r.cell(i, t).cured_loans).sum();
            from_matrix.push(format!("{} {cells}", b.label()));
            from_table.push(format!("{} {table}", b.label()));
        }
        out.push(Check::new(
            "collections.cured_loans by prev bucket = transitions prev -> M0, PAID",
            from_matrix.join(", "),
            from_table.join(", "),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A matrix that lost a loan fails its checks, and `failures` names
    /// each failed check with what was expected and found: the lines of the
    /// exit-5 message ("reconciliation failed ...; nothing was published").
    #[test]
    fn a_matrix_that_lost_a_loan_fails_with_expected_and_actual() {
        // Two tiers; one loan 0 -> 1 and one 1 -> 1, but only the first
        // was counted.
        let mut m = Matrix::empty(2);
        m.add(0, 1, 100);
        let checks = tier_matrix("prev", &m, &[0, 1], &[1, 1]);
        let failed = failures(&checks);
        assert_eq!(failed.len(), 3, "{failed:?}");
        assert_eq!(
            failed[0],
            "transitions[prev, tier] column loans = run-date loans by tier: expected [0, 2], got [0, 1]"
        );
        // The complete matrix passes.
        m.add(1, 1, 100);
        assert!(failures(&tier_matrix("prev", &m, &[0, 1], &[1, 1])).is_empty());
    }
}
