//! What the money did (metrics.md, "Collections and recovery"): cash
//! collected by the loan's bucket at `prev` and its tier today, cures,
//! charge-off cohorts with today's recoveries, vintages by months on book,
//! repayment plans, the legal pipeline and the credit-repair list.
//!
//! Everything here is one parallel fold over the run date's rows. Each row
//! looks back through the join's row mapping (`Movement::earlier_row`), so
//! no second join is made.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::input::columns::NULL_DATE;
use crate::input::snapshot::Snapshot;
use crate::metrics::join::ABSENT;
use crate::metrics::strategy::NO_TIER;
use crate::metrics::tally::Tally;
use crate::policy::tiers::TIERS;
use crate::states::{Bucket, PlanStatus, Status, BUCKETS};

/// `from_bucket` codes of the collections table: the buckets, then `NEW`
/// (not in the `prev` snapshot), then "no `prev` snapshot at all".
pub const FROM_NEW: usize = BUCKETS;
pub const FROM_UNKNOWN: usize = BUCKETS + 1;
pub const FROM_STATES: usize = BUCKETS + 2;
/// Tier codes of the collections table: the tiers, then "no tier" (paid off).
pub const TIER_STATES: usize = TIERS + 1;

/// An earlier snapshot seen from the run date: its rows per run-date row
/// and its buckets.
#[derive(Clone, Copy)]
pub struct Earlier<'a> {
    pub snap: &'a Snapshot,
    /// Per run-date row, the earlier row or [`ABSENT`].
    pub rows: &'a [u32],
    pub buckets: &'a [u8],
}

impl Earlier<'_> {
    /// The loan's bucket at the earlier date, if it was there.
    fn bucket(&self, row: usize) -> Option<u8> {
        let e = self.rows[row];
        (e != ABSENT).then(|| self.buckets[e as usize])
    }
}

/// One cell of `collections`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CollectionCell {
    pub loans: u64,
    /// Loans with `paid_amount` > 0 today.
    pub paying_loans: u64,
    pub cash: i128,
    /// Delinquent at `prev`, `M0` or `PAID` today.
    pub cured_loans: u64,
    /// Their balance at `prev` (the basis of the cure rate by balance).
    pub cured_balance: i128,
}

impl CollectionCell {
    fn merge(&mut self, o: &CollectionCell) {
        self.loans += o.loans;
        self.paying_loans += o.paying_loans;
        self.cash += o.cash;
        self.cured_loans += o.cured_loans;
        self.cured_balance += o.cured_balance;
    }
}

/// One charge-off month of `recovery_cohorts`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cohort {
    pub loans: u64,
    pub charge_off_amount: i128,
    pub recovered_to_date: i128,
    /// `None` when there is no `prev` snapshot to difference against.
    pub recovered_today: Option<i128>,
}

impl Cohort {
    /// Adds another cohort's sums (today's recoveries stay unknown if
    /// either side's are).
    pub fn merge(&mut self, o: &Cohort) {
        self.loans += o.loans;
        self.charge_off_amount += o.charge_off_amount;
        self.recovered_to_date += o.recovered_to_date;
        self.recovered_today = self
            .recovered_today
            .zip(o.recovered_today)
            .map(|(a, b)| a + b);
    }
    /// An empty cohort whose recoveries today are known (zero).
    pub fn zero() -> Cohort {
        Cohort {
            recovered_today: Some(0),
            ..Cohort::default()
        }
    }
}

/// One origination month of `vintage`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vintage {
    pub months_on_book: i32,
    pub loans: u64,
    pub original_principal: i128,
    pub principal_balance: i128,
    /// Balance of active loans 31+ days past due (`M2`..`M6+`).
    pub dpd30_balance: i128,
    /// Balance of active loans 91+ days past due (`M4`..`M6+`).
    pub dpd90_balance: i128,
    pub charge_off_amount: i128,
}

/// Loans, balance, past due and cash of a group (plans, legal stages).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Group {
    pub tally: Tally,
    pub cash: i128,
}

impl Group {
    fn add(&mut self, s: &Snapshot, r: usize) {
        self.tally.add(s.balance[r], s.past_due[r]);
        self.cash += s.paid[r] as i128;
    }
    fn merge(&mut self, o: &Group) {
        self.tally.merge(&o.tally);
        self.cash += o.cash;
    }
}

/// Loans in an `active` plan at `1m` and what became of them by today.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlanCohort {
    /// All of them, at their `1m` balance.
    pub start: Tally,
    /// `M0` or `PAID` today.
    pub cured: Tally,
    /// Plan `broken` today.
    pub broken: Tally,
}

/// A loan on the credit-repair list, with its buckets at the earlier dates
/// (`None`: absent then, or no such snapshot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Repair {
    /// The loan's row in the partition's snapshot; once folded, its
    /// position in the run date's input ([`crate::input::snapshot::Snapshot::input_row`]).
    pub row: u32,
    pub bucket: u8,
    pub prev_bucket: Option<u8>,
    pub m1_bucket: Option<u8>,
    pub product: u32,
    pub region: u32,
    pub balance: i64,
    pub paid: i64,
}

/// All recovery figures of a run date.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Recovery {
    /// `FROM_STATES x TIER_STATES` cells, from-major.
    pub collections: Vec<CollectionCell>,
    /// By charge-off month index (`None`: no `charge_off_date`).
    pub cohorts: BTreeMap<Option<i32>, Cohort>,
    /// By origination month index.
    pub vintage: BTreeMap<i32, Vintage>,
    /// By plan status code (none, active, completed, broken).
    pub plans: [Group; 4],
    /// `None` when there is no `1m` snapshot.
    pub plan_cohort: Option<PlanCohort>,
    /// By `legal_stage` code of the run-date snapshot.
    pub legal: Vec<Group>,
    pub credit_repair: Vec<Repair>,
}

impl Recovery {
    pub fn cell(&self, from: usize, tier: usize) -> &CollectionCell {
        &self.collections[from * TIER_STATES + tier]
    }

    /// Adds the figures of another partition of the book (its loans come
    /// after this one's: the credit-repair list stays in input order). Both
    /// must use the same legal-stage codes ([`Recovery::recode`]).
    pub fn merge(mut self, o: Recovery) -> Recovery {
        for (a, b) in self.collections.iter_mut().zip(&o.collections) {
            a.merge(b);
        }
        for (k, c) in o.cohorts {
            match self.cohorts.entry(k) {
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(c);
                }
                std::collections::btree_map::Entry::Occupied(mut e) => e.get_mut().merge(&c),
            }
        }
        for (k, v) in o.vintage {
            self.vintage.entry(k).or_insert(v.zeroed()).merge(&v);
        }
        for (a, b) in self.plans.iter_mut().zip(&o.plans) {
            a.merge(b);
        }
        self.plan_cohort = match (self.plan_cohort, o.plan_cohort) {
            (Some(mut a), Some(b)) => {
                a.start.merge(&b.start);
                a.cured.merge(&b.cured);
                a.broken.merge(&b.broken);
                Some(a)
            }
            (a, b) => a.or(b),
        };
        for (a, b) in self.legal.iter_mut().zip(&o.legal) {
            a.merge(b);
        }
        self.credit_repair.extend(o.credit_repair);
        self
    }

    /// Re-codes legal stages (`legal[old] = new`, into `stages` codes) and
    /// the credit-repair rows' products and regions.
    pub fn recode(&mut self, legal: &[u32], stages: usize, product: &[u32], region: &[u32]) {
        let mut out = vec![Group::default(); stages];
        for (old, g) in self.legal.iter().enumerate() {
            if *g != Group::default() {
                out[legal[old] as usize].merge(g);
            }
        }
        self.legal = out;
        for r in &mut self.credit_repair {
            r.product = product[r.product as usize];
            r.region = region[r.region as usize];
        }
    }
}

impl Vintage {
    fn zeroed(&self) -> Vintage {
        Vintage {
            months_on_book: self.months_on_book,
            ..Vintage::default()
        }
    }
    fn merge(&mut self, v: &Vintage) {
        self.months_on_book = self.months_on_book.max(v.months_on_book);
        self.loans += v.loans;
        self.original_principal += v.original_principal;
        self.principal_balance += v.principal_balance;
        self.dpd30_balance += v.dpd30_balance;
        self.dpd90_balance += v.dpd90_balance;
        self.charge_off_amount += v.charge_off_amount;
    }
}

/// Month index (year x 12 + month - 1) of each day in `lo..=hi`: a table
/// lookup per row instead of a calendar conversion per row.
struct Months {
    lo: i32,
    month: Vec<i32>,
}

impl Months {
    fn new(lo: i32, hi: i32) -> Months {
        use chrono::Datelike;
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
        let month = (lo..=hi.max(lo))
            .map(|d| {
                let date = epoch + chrono::Duration::days(d as i64);
                date.year() * 12 + date.month0() as i32
            })
            .collect();
        Months { lo, month }
    }
    fn of(&self, day: i32) -> i32 {
        self.month[(day - self.lo) as usize]
    }
}

/// The day range of the given columns' non-null values.
fn day_range(cols: &[&[i32]]) -> (i32, i32) {
    cols.par_iter()
        .flat_map(|c| c.par_iter().copied().filter(|&d| d != NULL_DATE))
        .fold(
            || (i32::MAX, i32::MIN),
            |(lo, hi), d| (lo.min(d), hi.max(d)),
        )
        .reduce(|| (i32::MAX, i32::MIN), |a, b| (a.0.min(b.0), a.1.max(b.1)))
}

/// What one range of rows adds up to.
struct Partial {
    collections: Vec<CollectionCell>,
    cohorts: BTreeMap<Option<i32>, Cohort>,
    /// Dense by month offset from the earliest origination month: a vector
    /// index per row instead of a tree lookup.
    vintage: Vec<Vintage>,
    plans: [Group; 4],
    plan_cohort: PlanCohort,
    legal: Vec<Group>,
    credit_repair: Vec<Repair>,
}

impl Partial {
    fn new(legal_stages: usize, vintages: usize) -> Partial {
        Partial {
            collections: vec![CollectionCell::default(); FROM_STATES * TIER_STATES],
            cohorts: BTreeMap::new(),
            vintage: vec![Vintage::default(); vintages],
            plans: [Group::default(); 4],
            plan_cohort: PlanCohort::default(),
            legal: vec![Group::default(); legal_stages],
            credit_repair: Vec::new(),
        }
    }

    fn merge(mut self, o: Partial) -> Partial {
        for (a, b) in self.collections.iter_mut().zip(&o.collections) {
            a.merge(b);
        }
        for (k, c) in o.cohorts {
            self.cohorts.entry(k).or_insert_with(Cohort::zero).merge(&c);
        }
        for (e, v) in self.vintage.iter_mut().zip(o.vintage) {
            e.merge(&v);
        }
        for (a, b) in self.plans.iter_mut().zip(&o.plans) {
            a.merge(b);
        }
        self.plan_cohort.start.merge(&o.plan_cohort.start);
        self.plan_cohort.cured.merge(&o.plan_cohort.cured);
        self.plan_cohort.broken.merge(&o.plan_cohort.broken);
        for (a, b) in self.legal.iter_mut().zip(&o.legal) {
            a.merge(b);
        }
        // Ranges arrive in order, so the list stays in row order.
        self.credit_repair.extend(o.credit_repair);
        self
    }
}

/// Computes the recovery figures of `cur` (buckets `buckets`, tiers
/// `tiers` with [`NO_TIER`] for paid-off loans) against the `prev` and `1m`
/// snapshots that exist.
pub fn compute(
    cur: &Snapshot,
    buckets: &[u8],
    tiers: &[u8],
    prev: Option<Earlier>,
    m1: Option<Earlier>,
) -> Recovery {
    let today = crate::base::calendar::date32(cur.date);
    let (lo, hi) = day_range(&[&cur.origination, &cur.charge_off_date]);
    let months = Months::new(lo.min(today), hi.max(today));
    let month_today = months.of(today);
    let legal_stages = cur.legal.labels.len();
    // Origination months span the earliest date seen to the latest (the run
    // date, or a later date in bad-but-tolerated data).
    let first_month = months.of(lo.min(today));
    let vintages = (months.of(hi.max(today)) - first_month + 1) as usize;
    let active = PlanStatus::Active;

    // An earlier bucket (absent: `None`) that is M1..M6+.
    let delinquent =
        |b: Option<u8>| b.is_some_and(|b| Bucket::from_index(b as usize).is_delinquent());

    let partial = crate::metrics::ranges(cur.len())
        .into_par_iter()
        .map(|range| {
            let mut p = Partial::new(legal_stages, vintages);
            for r in range {
                let bucket = Bucket::from_index(buckets[r] as usize);
                let (balance, paid) = (cur.balance[r], cur.paid[r] as i128);
                let prev_bucket = prev.as_ref().and_then(|e| e.bucket(r));

                // Collections: by bucket at `prev` and tier today.
                let from = match (&prev, prev_bucket) {
                    (None, _) => FROM_UNKNOWN,
                    (Some(_), None) => FROM_NEW,
                    (Some(_), Some(b)) => b as usize,
                };
                let tier = if tiers[r] == NO_TIER {
                    TIERS
                } else {
                    tiers[r] as usize
                };
                let cell = &mut p.collections[from * TIER_STATES + tier];
                cell.loans += 1;
                cell.cash += paid;
                cell.paying_loans += (paid > 0) as u64;
                let cured_now = matches!(bucket, Bucket::M0 | Bucket::Paid);
                if let Some(e) = prev
                    .as_ref()
                    .filter(|_| cured_now && delinquent(prev_bucket))
                {
                    cell.cured_loans += 1;
                    cell.cured_balance += e.snap.balance[e.rows[r] as usize] as i128;
                }

                // Charge-off cohorts and today's recoveries.
                if cur.status[r] == Status::ChargedOff {
                    let cod = cur.charge_off_date[r];
                    let key = (cod != NULL_DATE).then(|| months.of(cod));
                    let now = cur.recovered[r] as i128;
                    let today_part = prev.as_ref().map(|e| {
                        let er = e.rows[r];
                        // A loan charged off since `prev` (or new) counts all of it.
                        if er != ABSENT && e.snap.status[er as usize] == Status::ChargedOff {
                            now - e.snap.recovered[er as usize] as i128
                        } else {
                            now
                        }
                    });
                    p.cohorts
                        .entry(key)
                        .or_insert_with(Cohort::zero)
                        .merge(&Cohort {
                            loans: 1,
                            charge_off_amount: cur.charge_off_amount[r] as i128,
                            recovered_to_date: now,
                            recovered_today: today_part,
                        });
                }

                // Vintage: every loan of the snapshot by origination month.
                let vm = months.of(cur.origination[r]);
                let v = &mut p.vintage[(vm - first_month) as usize];
                v.months_on_book = month_today - vm;
                v.loans += 1;
                v.original_principal += cur.original[r] as i128;
                v.principal_balance += balance as i128;
                if cur.status[r] == Status::Active {
                    if bucket >= Bucket::M2 {
                        v.dpd30_balance += balance as i128;
                    }
                    if bucket >= Bucket::M4 {
                        v.dpd90_balance += balance as i128;
                    }
                }
                if cur.status[r] == Status::ChargedOff {
                    v.charge_off_amount += cur.charge_off_amount[r] as i128;
                }

                // Plans and the legal pipeline today.
                p.plans[cur.plan[r] as usize].add(cur, r);
                p.legal[cur.legal.codes[r] as usize].add(cur, r);

                // Plan cohort: in an active plan at `1m`.
                if let Some(e) = &m1 {
                    let er = e.rows[r];
                    if er != ABSENT && e.snap.plan[er as usize] == active {
                        let b1m = e.snap.balance[er as usize];
                        if matches!(bucket, Bucket::M0 | Bucket::Paid) {
                            p.plan_cohort.cured.add(b1m, 0);
                        }
                        if cur.plan[r] == PlanStatus::Broken {
                            p.plan_cohort.broken.add(b1m, 0);
                        }
                    }
                }

                // Credit repair: delinquent then, clean now.
                let m1_bucket = m1.as_ref().and_then(|e| e.bucket(r));
                if cured_now
                    && cur.past_due[r] == 0
                    && (delinquent(prev_bucket) || delinquent(m1_bucket))
                {
                    p.credit_repair.push(Repair {
                        row: r as u32,
                        bucket: buckets[r],
                        prev_bucket,
                        m1_bucket,
                        product: cur.product.codes[r],
                        region: cur.region.codes[r],
                        balance,
                        paid: cur.paid[r],
                    });
                }
            }
            p
        })
        .reduce(|| Partial::new(legal_stages, vintages), Partial::merge);

    // The plan cohort's starting stock is counted on the `1m` snapshot
    // itself, so loans that left the book since still count against it.
    let plan_cohort = m1.map(|e| {
        let start = crate::metrics::ranges(e.snap.len())
            .into_par_iter()
            .map(|range| {
                let mut t = Tally::default();
                for r in range {
                    if e.snap.plan[r] == active {
                        t.add(e.snap.balance[r], 0);
                    }
                }
                t
            })
            .reduce(Tally::default, |mut a, b| {
                a.merge(&b);
                a
            });
        PlanCohort {
            start,
            ..partial.plan_cohort
        }
    });
    let mut cohorts = partial.cohorts;
    if prev.is_none() {
        for c in cohorts.values_mut() {
            c.recovered_today = None;
        }
    }
    Recovery {
        collections: partial.collections,
        cohorts,
        vintage: partial
            .vintage
            .into_iter()
            .enumerate()
            .filter(|(_, v)| v.loans > 0)
            .map(|(k, v)| (first_month + k as i32, v))
            .collect(),
        plans: partial.plans,
        plan_cohort,
        legal: partial.legal,
        credit_repair: partial.credit_repair,
    }
}

/// `YYYY-MM` of a month index.
pub fn month_label(m: i32) -> String {
    format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_labels_and_table() {
        assert_eq!(month_label(2026 * 12 + 10), "2026-11");
        assert_eq!(month_label(2026 * 12), "2026-01");
        let m = Months::new(20_000, 20_100);
        // 2024-10-04 is day 20000 since 1970-01-01.
        assert_eq!(month_label(m.of(20_000)), "2024-10");
        assert_eq!(month_label(m.of(20_027)), "2024-10");
        assert_eq!(month_label(m.of(20_028)), "2024-11");
    }
}
