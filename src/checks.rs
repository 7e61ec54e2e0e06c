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

/// Control totals of one snapshot, straight from its raw columns: what
/// the checks compare the figures against. Every field is a sum, so the
/// controls of a book's partitions add up to the book's.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Controls {
    pub rows: u64,
    pub balance: i128,
    pub past_due: i128,
    /// Sum of `paid_amount`.
    pub cash: i128,
    /// Active and charged-off loans (paid-off ones are outside the book).
    pub book: Tally,
    /// Active or charged-off loans without a class (must be none).
    pub unclassified: u64,
    pub charged_off: u64,
    /// Per bucket, from the states and the raw balances.
    pub buckets: [Tally; BUCKETS],
    /// Loans per tier-transition state (tiers, then `PAID`).
    pub tiers: Vec<u64>,
}

impl Controls {
    /// The controls of a snapshot with its states and tier-transition codes.
    pub fn of(snap: &Snapshot, st: &States, tiers: &[u8], tier_states: usize) -> Controls {
        let mut c = Controls {
            rows: snap.len() as u64,
            tiers: vec![0; tier_states],
            ..Controls::default()
        };
        for r in 0..snap.len() {
            let (b, p) = (snap.balance[r], snap.past_due[r]);
            c.balance += b as i128;
            c.past_due += p as i128;
            c.cash += snap.paid[r] as i128;
            let s = snap.status[r];
            if s != Status::PaidOff {
                c.book.add(b, 0);
                if st.class[r] == NO_CLASS {
                    c.unclassified += 1;
                }
            }
            if s == Status::ChargedOff {
                c.charged_off += 1;
            }
            c.buckets[st.bucket[r] as usize].add(b, p);
        }
        for &t in tiers {
            c.tiers[t as usize] += 1;
        }
        c
    }

    pub fn merge(&mut self, o: &Controls) {
        self.rows += o.rows;
        self.balance += o.balance;
        self.past_due += o.past_due;
        self.cash += o.cash;
        self.book.merge(&o.book);
        self.unclassified += o.unclassified;
        self.charged_off += o.charged_off;
        crate::metrics::tally::merge_cells(&mut self.buckets, &o.buckets);
        for (a, b) in self.tiers.iter_mut().zip(&o.tiers) {
            *a += b;
        }
    }
}

/// Checks on the run date's book: ageing and classification against the raw columns.
pub fn book(c: &Controls, t: &BookTally) -> Vec<Check> {
    let ageing_total = t.ageing.iter().fold(Tally::default(), |mut a, c| {
        a.merge(c);
        a
    });
    let classified = t.class.iter().fold(Tally::default(), |mut a, c| {
        a.merge(c);
        a
    });
    vec![
        Check::new("ageing.loans = snapshot rows", c.rows, ageing_total.loans),
        Check::new(
            "ageing.principal_balance = sum of principal_balance",
            money::plain(c.balance),
            money::plain(ageing_total.balance),
        ),
        Check::new(
            "ageing.past_due_amount = sum of past_due_amount",
            money::plain(c.past_due),
            money::plain(ageing_total.past_due),
        ),
        Check::new(
            "classification.loans = active + charged-off loans",
            c.book.loans,
            classified.loans,
        ),
        Check::new(
            "classification.principal_balance = balance of active + charged-off loans",
            money::plain(c.book.balance),
            money::plain(classified.balance),
        ),
        Check::new(
            "every active or charged-off loan has a class",
            0,
            c.unclassified,
        ),
    ]
}

/// Checks on one transition matrix: row totals are the earlier snapshot per
/// bucket, column totals the run date's, `NEW` and `EXIT` what the joins left.
/// Checks of a tier transition matrix: column loans = the run date's loans
/// per tier, and NEW + matched = run-date loans.
pub fn tier_matrix(period: &str, m: &Matrix, earlier: &[u64], now: &[u64]) -> Vec<Check> {
    let (e, c) = (earlier, now);
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
            now.iter().sum::<u64>(),
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
/// The forecast's reconciliation: at every horizon of every projection the
/// states sum to the book it started from (no loan or amount appears or
/// vanishes), to a relative 1e-9.
pub fn forecast(projections: &[crate::metrics::forecast::Projection]) -> Vec<Check> {
    projections
        .iter()
        .map(|p| {
            let total: f64 = p.start.iter().sum();
            let actual = match p.path.iter().position(|s| {
                !crate::metrics::forecast::conserved(&p.start, std::slice::from_ref(s))
            }) {
                None => format!("{total:.2}"),
                Some(h) => format!("{:.2} at month {}", p.path[h].iter().sum::<f64>(), h + 1),
            };
            Check::new(
                format!(
                    "forecast {} {}: states sum to the book at every horizon",
                    p.method, p.basis
                ),
                format!("{total:.2}"),
                actual,
            )
        })
        .collect()
}

/// The drivers of a period (metrics.md v2): over every dimension, the
/// segments' sums are the headline's numerator and denominator on both
/// dates, and mix plus rate is the ratio's change to 1e-12.
pub fn drivers(
    period: &str,
    splits: &[crate::metrics::drivers::Split],
    then: &crate::metrics::book::Headline,
    now: &crate::metrics::book::Headline,
) -> Vec<Check> {
    let mut out = Vec::new();
    for s in splits {
        let headline = |h: &crate::metrics::book::Headline| {
            let r = if s.metric == "npl" {
                &h.npl[1]
            } else {
                &h.dpd30[1]
            };
            format!("{} / {}", r.numerator, r.denominator)
        };
        let sums = |p: (i128, i128)| format!("{} / {}", p.0, p.1);
        out.push(Check::new(
            format!(
                "drivers {period} {} by {}: segments add up to the ratio on both dates",
                s.metric, s.dimension
            ),
            format!("{}; {}", headline(then), headline(now)),
            format!("{}; {}", sums(s.then_sums), sums(s.now_sums)),
        ));
        let off = (s.explained() - s.change()).abs();
        out.push(Check::new(
            format!(
                "drivers {period} {} by {}: mix + rate = the change",
                s.metric, s.dimension
            ),
            "within 1e-12",
            if off <= 1e-12 {
                "within 1e-12".to_string()
            } else {
                format!("off by {off:e}")
            },
        ));
    }
    out
}

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
    c: &Controls,
    r: &crate::metrics::recovery::Recovery,
    prev: Option<(&Matrix, i128)>,
) -> Vec<Check> {
    use crate::metrics::recovery::TIER_STATES;
    let (raw_cash, raw_balance) = (c.cash, c.balance);
    let cells = r.collections.iter();
    let cash: i128 = cells.clone().map(|c| c.cash).sum();
    let loans: u64 = cells.map(|c| c.loans).sum();
    let vintage_loans: u64 = r.vintage.values().map(|v| v.loans).sum();
    let vintage_balance: i128 = r.vintage.values().map(|v| v.principal_balance).sum();
    let plan_loans: u64 = r.plans.iter().map(|g| g.tally.loans).sum();
    let legal_cash: i128 = r.legal.iter().map(|g| g.cash).sum();
    let charged_off = c.charged_off;
    let cohort_loans: u64 = r.cohorts.values().map(|c| c.loans).sum();
    let mut out = vec![
        Check::new("collections.loans = snapshot rows", c.rows, loans),
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
        Check::new("vintage.loans = snapshot rows", c.rows, vintage_loans),
        Check::new(
            "vintage.principal_balance = sum of principal_balance",
            money::plain(raw_balance),
            money::plain(vintage_balance),
        ),
        Check::new("plans.loans = snapshot rows", c.rows, plan_loans),
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
        let checks = tier_matrix("prev", &m, &[1, 1], &[0, 2]);
        let failed = failures(&checks);
        assert_eq!(failed.len(), 3, "{failed:?}");
        assert_eq!(
            failed[0],
            "transitions[prev, tier] column loans = run-date loans by tier: expected [0, 2], got [0, 1]"
        );
        // The complete matrix passes.
        m.add(1, 1, 100);
        assert!(failures(&tier_matrix("prev", &m, &[1, 1], &[0, 2])).is_empty());
    }
}
