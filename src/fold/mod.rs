//! Fold -> merge -> finish: how a partition of the book becomes figures.
//!
//! [`fold`] computes everything one loan-id partition contributes (its run
//! date rows, the same loans' rows at `prev` and `1m`, their contacts) into
//! a [`Partial`] of sums, plus the partition's loan-level results (states,
//! tiers), which the worklist writes out before the next partition is read.
//! [`Partial::merge`] adds two partials exactly: integer sums, dimension
//! codes re-coded onto the union of both sides' labels, lists in input
//! order. [`Partial::finish`] turns the merged partial into [`Figures`]:
//! ratios, rates and the reconciliation checks, which compare the merged
//! figures with the merged control totals of the raw columns.
//!
//! To add a figure: give [`Partial`] a field that sums it, fill it in
//! [`fold`], add it in [`Partial::merge`] (and re-code it in
//! [`Partial::recode`] if it is by product, region, grade or legal stage),
//! and derive what the tables show from it in [`Partial::finish`].

pub mod earlier;
mod recode;

pub use earlier::EarlierRuns;
use recode::{union, Recode};

use anyhow::Result;
use chrono::NaiveDate;

use crate::base::calendar::date32;
use crate::base::timing::{Clock, Timing};
use crate::checks::{self, Check, Controls};
use crate::figures::{ContactSummary, DimLabels, Figures, Period, TierSource};
use crate::input::contacts::Contacts;
use crate::input::partitions::{IdRange, Part};
use crate::input::snapshot::{LoanIds, OptionalColumns, Snapshot};
use crate::metrics::book::{self, BookTally, States};
use crate::metrics::channels::{self, ChannelStats};
use crate::metrics::collateral::CollateralBook;
use crate::metrics::compliance::{self, Exceptions};
use crate::metrics::drivers::{self, Segments};
use crate::metrics::experiments::{self, ArmMatrix};
use crate::metrics::movement::{self, Movement};
use crate::metrics::promises::{self, ContactFlags, PromiseDay};
use crate::metrics::recovery::{self, Recovery};
use crate::metrics::strategy::{self, LoanStrategy, Summary};
use crate::metrics::tally::Tally;
use crate::metrics::transitions::{self, Matrix};
use crate::metrics::{join, rates};
use crate::policy::tiers::TIERS;
use crate::policy::Policy;
use crate::states::{BUCKETS, CLASSES};

/// State label of the plan cohort's rates: loans in an active plan at `1m`.
pub const PLAN_COHORT: &str = "active_plan";

/// Tier transition states: the seven tiers, then `PAID` (no tier).
pub const TIER_STATES: usize = TIERS + 1;

/// The contacts of the window and, for promise keeping, `paid_amount` of
/// the loans snapshots between the promises and their dates (besides the
/// run date's and `prev`'s, which the run reads anyway): only the loans
/// that have such promises.
#[derive(Debug, Default)]
pub struct ContactInput {
    pub contacts: Option<Contacts>,
    pub paid: Vec<(NaiveDate, LoanIds, Vec<i64>)>,
}

/// One partition's inputs: its loans on every date.
pub struct Slice<'a> {
    pub cur: &'a Snapshot,
    pub prev: Option<&'a Snapshot>,
    /// May be the same snapshot as `prev` (monthly schedules).
    pub m1: Option<&'a Snapshot>,
    /// The partition's contacts, and each one's index in the whole window
    /// (the order of the compliance table).
    pub contacts: Option<(&'a Contacts, &'a [usize])>,
    /// `paid_amount` of the other snapshots in the promise windows.
    pub paid: &'a [(NaiveDate, LoanIds, Vec<i64>)],
    pub earlier: &'a EarlierRuns,
    pub part: &'a Part,
}

/// What a comparison period adds up to over a partition.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PeriodPartial {
    #[serde(deserialize_with = "crate::base::names::one")]
    pub name: crate::base::names::Name,
    pub from_date: NaiveDate,
    /// Bucket transition matrix.
    pub buckets: Matrix,
    /// Recoveries on charged-off loans over the period, cents.
    pub recovered: i128,
    /// Tier transition matrix.
    pub tiers: Matrix,
    pub tiers_from: TierSource,
    /// Tier transitions split by experiment arm.
    pub tier_arms: Vec<ArmMatrix>,
    /// The earlier snapshot's balances by product, region and grade (drivers).
    pub segments: Segments,
    /// The earlier snapshot's totals by bucket and class (ageing side).
    pub by_bucket: [Tally; BUCKETS],
    pub by_class: [Tally; CLASSES],
    /// The earlier snapshot's control totals.
    pub controls: Controls,
}

/// Everything a partition of the book adds up to: sums that merge exactly.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Partial {
    pub as_of: NaiveDate,
    pub labels: DimLabels,
    /// Optional columns the run date's book lacks (absent; all-null in
    /// every partition).
    pub columns: OptionalColumns,
    pub book: BookTally,
    pub controls: Controls,
    pub periods: Vec<PeriodPartial>,
    #[serde(deserialize_with = "crate::base::names::many")]
    pub unavailable: Vec<&'static str>,
    pub strategy_summary: Summary,
    /// The `1m` cohorts of the experiments (`None`: not available).
    pub experiments: Option<Vec<ArmMatrix>>,
    /// The run date's balances by product, region and grade (drivers).
    pub segments: Segments,
    pub collateral: CollateralBook,
    pub contacts: ContactSummary,
    pub recovery: Recovery,
    pub credit_repair_ids: LoanIds,
    pub promises: Vec<PromiseDay>,
    pub compliance: Exceptions,
    /// Index in the contacts window of each compliance row's contact.
    pub compliance_order: Vec<usize>,
    /// Per channel, the run date's contacts of the partition's loans
    /// (distinct loans add up: partitions hold different loans).
    pub channels: Vec<ChannelStats>,
    pub steps: Vec<Timing>,
}

pub use crate::metrics::strategy::LoanLevel;

/// Tier codes of a strategy with paid-off loans as state `TIERS` (`PAID`).
fn tier_codes(s: &LoanStrategy) -> Vec<u8> {
    s.tier
        .iter()
        .map(|&t| {
            if t == strategy::NO_TIER {
                TIERS as u8
            } else {
                t
            }
        })
        .collect()
}

/// What a comparison period needs from its earlier snapshot.
#[derive(Clone)]
struct Comparison {
    movement: Movement,
    tally: BookTally,
    controls: Controls,
    tiers_from: TierSource,
    /// The earlier rows sorted by key; `None` when both dates were joined
    /// in input order.
    sorted: Option<join::SortedIds>,
    states: States,
    tiers: Vec<u8>,
    /// Arm codes of the earlier rows over `arm_names` (empty: not known).
    arms: Vec<u8>,
    arm_names: Vec<String>,
    /// The earlier snapshot's balances by product, region and grade.
    segments: Segments,
}

/// An earlier snapshot as the recovery figures look back at it.
fn earlier_view<'a>(
    snap: Option<&'a Snapshot>,
    w: &'a Option<Comparison>,
) -> Option<recovery::Earlier<'a>> {
    snap.zip(w.as_ref()).map(|(snap, w)| recovery::Earlier {
        snap,
        rows: &w.movement.earlier_row,
        buckets: &w.states.bucket,
    })
}

/// Computes what one partition of the book adds up to, and its loans'
/// states and tiers. Pure: no I/O.
pub fn fold(policy: &Policy, s: &Slice) -> Result<(Partial, LoanLevel)> {
    let (cur, prev, m1) = (s.cur, s.prev, s.m1);
    let mut steps = Clock::new();
    let cur_states = book::assign(cur, policy);
    let tally = book::tally(cur, &cur_states)?;
    // Snapshots that list their loans in id order are joined as they are
    // and looked up through that order. The run date is sorted by key only
    // when it is out of order or an earlier snapshot is (the sorted join
    // needs both sides sorted); sorting also finds duplicate ids, which a
    // strictly increasing order cannot have.
    let cur_in_order = join::in_id_order(cur);
    let prev_in_order = prev.map(|e| cur_in_order && join::in_id_order(e));
    let m1_in_order = match (m1, prev) {
        (Some(a), Some(b)) if std::ptr::eq(a, b) => prev_in_order,
        _ => m1.map(|e| cur_in_order && join::in_id_order(e)),
    };
    let cur_sorted = if cur_in_order && prev_in_order != Some(false) && m1_in_order != Some(false) {
        None
    } else {
        Some(join::sort_ids(cur)?)
    };
    let cur_index = promises::IdIndex::of(cur_sorted.as_ref());

    // What a period needs from its earlier snapshot. On a monthly schedule
    // (or with a single daily snapshot) `prev` and `1m` are the same
    // snapshot: it is classified, sorted and joined once.
    // An earlier date's tiers come from the worklist its own run published
    // (exact); without one, from that date's snapshot alone, where the
    // signals that look further back or at contacts are not evaluated
    // (README, "Tier transitions").
    let snapshot_tiers = |e: &Snapshot| -> earlier::EarlierTiers {
        let s = strategy::assign(
            e,
            policy,
            &strategy::Context {
                today: date32(e.date),
                prev: None,
                m1: None,
                refused_7d: &[],
                broken_promise: &[],
            },
        );
        earlier::EarlierTiers {
            tiers: tier_codes(&s),
            arms: s.arm,
            experiments: policy.experiments.iter().map(|x| x.name.clone()).collect(),
        }
    };
    let against = |e: &Snapshot, both_in_order: bool| -> Result<Comparison> {
        let states = book::assign(e, policy);
        // In id order, the earlier snapshot needs no sort (and has no
        // duplicates); otherwise sorting also finds them.
        let sorted = if both_in_order {
            None
        } else {
            Some(join::sort_ids(e)?)
        };
        let order = match (&sorted, &cur_sorted) {
            (None, _) => join::Order::InputOrder,
            (Some(s), Some(c)) => join::Order::Sorted(s, c),
            (Some(_), None) => unreachable!("the run date is sorted when an earlier date is"),
        };
        let movement = movement::walk(e, &states.bucket, cur, &cur_states.bucket, order, BUCKETS)?;
        let (t, tiers_from) = match s.earlier.tiers(e, s.part) {
            Ok(t) => (t, TierSource::Worklist),
            Err(why) => (snapshot_tiers(e), TierSource::Snapshot(why)),
        };
        Ok(Comparison {
            movement,
            tally: book::tally(e, &states)?,
            controls: Controls::of(e, &states, &t.tiers, TIER_STATES),
            tiers_from,
            sorted,
            tiers: t.tiers,
            arms: t.arms,
            arm_names: t.experiments,
            segments: Segments::of(e, &states),
            states,
        })
    };
    steps.lap("compute/book");
    let prev_work = prev
        .zip(prev_in_order)
        .map(|(e, o)| against(e, o))
        .transpose()?;
    let m1_work = match (m1, prev, &prev_work) {
        (Some(a), Some(b), Some(w)) if std::ptr::eq(a, b) => Some(w.clone()),
        _ => m1
            .zip(m1_in_order)
            .map(|(e, o)| against(e, o))
            .transpose()?,
    };
    steps.lap("compute/comparisons");

    // The strategy: contacts first (refusals, promises), then each loan's
    // signals, route and tier with the dpd it had at `prev` and `1m`.
    let today = date32(cur.date);
    let flags = match &s.contacts {
        Some((c, _)) => {
            let mut paid = vec![promises::PaidSnapshot {
                date: today,
                ids: &cur.ids,
                paid: &cur.paid,
                index: Some(cur_index),
            }];
            if let (Some(p), Some(w)) = (prev, &prev_work) {
                paid.push(promises::PaidSnapshot {
                    date: date32(p.date),
                    ids: &p.ids,
                    paid: &p.paid,
                    // Joined in input order: `prev` is in id order too.
                    index: Some(promises::IdIndex::of(w.sorted.as_ref())),
                });
            }
            for (d, ids, amounts) in s.paid {
                paid.push(promises::PaidSnapshot {
                    date: date32(*d),
                    ids,
                    paid: amounts,
                    index: None,
                });
            }
            promises::flags(cur, cur_index, c, today, &paid)
        }
        None => ContactFlags::default(),
    };
    steps.lap("compute/promises");
    let strategy = strategy::assign(
        cur,
        policy,
        &strategy::Context {
            today,
            prev: prev
                .zip(prev_work.as_ref())
                .map(|(snap, w)| strategy::Lookback {
                    snap,
                    rows: &w.movement.earlier_row,
                }),
            m1: m1
                .zip(m1_work.as_ref())
                .map(|(snap, w)| strategy::Lookback {
                    snap,
                    rows: &w.movement.earlier_row,
                }),
            refused_7d: &flags.refused_7d,
            broken_promise: &flags.broken_promise,
        },
    );
    let cur_tiers = tier_codes(&strategy);
    steps.lap("compute/strategy");
    let recovery = recovery::compute(
        cur,
        &cur_states.bucket,
        &strategy.tier,
        earlier_view(prev, &prev_work),
        earlier_view(m1, &m1_work),
    );
    steps.lap("compute/recovery");
    let credit_repair_ids = cur
        .ids
        .take(recovery.credit_repair.iter().map(|r| r.row as usize));
    // From here on a repair row's `row` is its position in the input, by
    // which the merged list is put in input order (hash partitions hold
    // loans from all over the files).
    let mut recovery = recovery;
    for r in &mut recovery.credit_repair {
        r.row = cur.input_row(r.row as usize) as u32;
    }
    let channels = match &s.contacts {
        Some((c, _)) => channels::stats(c, today),
        None => channels::stats(&Contacts::empty(cur.ids.is_int()), today),
    };
    let (compliance, compliance_order) = match &s.contacts {
        Some((c, index)) => {
            let found = compliance::check(
                c,
                &compliance::Day {
                    today,
                    contacts: &flags.today,
                    buckets: &cur_states.bucket,
                },
                &policy.compliance,
            );
            let order = found.iter().map(|e| index[e.contact]).collect();
            (
                compliance::Exceptions::collect(c, found, policy.compliance.profile),
                order,
            )
        }
        None => (
            compliance::Exceptions::empty(policy.compliance.profile),
            Vec::new(),
        ),
    };
    steps.lap("compute/compliance");
    let mut periods = Vec::new();
    let mut unavailable = Vec::new();
    let mut experiments = None;
    let policy_names: Vec<String> = policy.experiments.iter().map(|x| x.name.clone()).collect();
    for (name, earlier, work) in [("prev", prev, prev_work), ("1m", m1, m1_work)] {
        let (Some(e), Some(w)) = (earlier, work) else {
            unavailable.push(name);
            continue;
        };
        // The tier transitions per arm, over the experiments named today
        // or at the earlier date.
        let mut names: Vec<String> = policy_names.iter().chain(&w.arm_names).cloned().collect();
        names.sort();
        names.dedup();
        let recode = |codes: &[u8], from: &[String]| -> Vec<u8> {
            let to: Vec<usize> = from
                .iter()
                .map(|n| names.binary_search(n).expect("a name of the union"))
                .collect();
            codes
                .iter()
                .map(|&c| match experiments::decode(c) {
                    None => experiments::NO_ARM,
                    Some((k, arm)) => experiments::code(to[k], arm),
                })
                .collect()
        };
        let tier_arms = if names.is_empty() {
            Vec::new()
        } else {
            let before = if w.arms.is_empty() {
                vec![experiments::NO_ARM; e.len()]
            } else {
                recode(&w.arms, &w.arm_names)
            };
            experiments::named(
                &names,
                transitions::matrices_by_group(
                    e,
                    &w.tiers,
                    &before,
                    cur,
                    &cur_tiers,
                    Some(&recode(&strategy.arm, &policy_names)),
                    &w.movement.earlier_row,
                    TIER_STATES,
                    2 * names.len(),
                ),
            )
        };
        // The champion / challenger cohorts: the loans each arm held at
        // `1m`, as that date's run published them, followed to today.
        if name == "1m" && w.tiers_from == TierSource::Worklist && !w.arms.is_empty() {
            experiments = Some(if w.arm_names.is_empty() {
                Vec::new()
            } else {
                experiments::named(
                    &w.arm_names,
                    transitions::matrices_by_group(
                        e,
                        &w.states.bucket,
                        &w.arms,
                        cur,
                        &cur_states.bucket,
                        None,
                        &w.movement.earlier_row,
                        BUCKETS,
                        2 * w.arm_names.len(),
                    ),
                )
            });
        }
        let tiers = transitions::matrix_via_rows(
            e,
            &w.tiers,
            cur,
            &cur_tiers,
            &w.movement.earlier_row,
            TIER_STATES,
        );
        periods.push(PeriodPartial {
            name,
            from_date: e.date,
            buckets: w.movement.matrix,
            recovered: w.movement.recovered,
            tiers,
            tiers_from: w.tiers_from,
            tier_arms,
            segments: w.segments,
            by_bucket: w.tally.by_bucket(),
            by_class: w.tally.by_class(),
            controls: w.controls,
        });
    }
    let partial = Partial {
        as_of: cur.date,
        labels: DimLabels {
            product: cur.product.labels.clone(),
            region: cur.region.labels.clone(),
            grade: cur.grade.labels.clone(),
            legal: cur.legal.labels.clone(),
        },
        columns: cur.columns.clone(),
        controls: Controls::of(cur, &cur_states, &cur_tiers, TIER_STATES),
        book: tally,
        periods,
        unavailable,
        collateral: crate::metrics::collateral::tally(cur, &cur_states, &strategy),
        strategy_summary: strategy::summarize(cur, &strategy, policy),
        experiments,
        segments: Segments::of(cur, &cur_states),
        contacts: ContactSummary {
            orphans: flags.orphans,
            promises_due: flags.promises_due,
            promises_kept: flags.promises_kept,
            promises_open: flags.promises.iter().filter(|p| p.open).count(),
            today: flags.today.len(),
        },
        recovery,
        credit_repair_ids,
        promises: promises::by_due_date(&flags.promises),
        compliance,
        compliance_order,
        channels,
        steps: Vec::new(),
    };
    steps.lap("compute/periods");
    let partial = Partial {
        steps: steps.timings,
        ..partial
    };
    Ok((
        partial,
        LoanLevel {
            states: cur_states,
            strategy,
        },
    ))
}

impl Partial {
    /// Adds the partial of the next partition (its loans come after this
    /// one's in input order).
    pub fn merge(mut self, mut o: Partial) -> Partial {
        let mut maps = Vec::new();
        let mut labels = DimLabels::default();
        for (mine, theirs, out) in [
            (&self.labels.product, &o.labels.product, &mut labels.product),
            (&self.labels.region, &o.labels.region, &mut labels.region),
            (&self.labels.grade, &o.labels.grade, &mut labels.grade),
            (&self.labels.legal, &o.labels.legal, &mut labels.legal),
        ] {
            let (all, a, b) = union(mine, theirs);
            *out = all;
            maps.push((a, b));
        }
        let mut it = maps.into_iter();
        let (p, r, g, l) = (
            it.next().expect("product"),
            it.next().expect("region"),
            it.next().expect("grade"),
            it.next().expect("legal"),
        );
        self.recode(
            &Recode {
                product: p.0,
                region: r.0,
                grade: g.0,
                legal: l.0,
            },
            &labels,
        );
        o.recode(
            &Recode {
                product: p.1,
                region: r.1,
                grade: g.1,
                legal: l.1,
            },
            &labels,
        );
        self.columns
            .all_null
            .retain(|c| o.columns.all_null.contains(c));
        self.book = self.book.merge(o.book);
        self.controls.merge(&o.controls);
        for (a, b) in self.periods.iter_mut().zip(o.periods) {
            debug_assert_eq!(a.name, b.name);
            a.buckets = std::mem::replace(&mut a.buckets, Matrix::empty(0)).merge(b.buckets);
            a.tiers = std::mem::replace(&mut a.tiers, Matrix::empty(0)).merge(b.tiers);
            a.tier_arms = experiments::merge_arms(std::mem::take(&mut a.tier_arms), b.tier_arms);
            a.segments = std::mem::take(&mut a.segments).merge(b.segments);
            a.recovered += b.recovered;
            crate::metrics::tally::merge_cells(&mut a.by_bucket, &b.by_bucket);
            crate::metrics::tally::merge_cells(&mut a.by_class, &b.by_class);
            a.controls.merge(&b.controls);
            // A partition whose earlier worklist did not match says so; the
            // run then reads every partition again without it.
            if a.tiers_from == TierSource::Worklist {
                a.tiers_from = b.tiers_from;
            }
        }
        self.strategy_summary = self.strategy_summary.merge(o.strategy_summary);
        self.segments = std::mem::take(&mut self.segments).merge(o.segments);
        // Available when every partition had the `1m` worklist's arms.
        self.experiments = match (self.experiments.take(), o.experiments) {
            (Some(a), Some(b)) => Some(experiments::merge_arms(a, b)),
            _ => None,
        };
        self.collateral = self.collateral.merge(o.collateral);
        let c = &mut self.contacts;
        c.orphans += o.contacts.orphans;
        c.promises_due += o.contacts.promises_due;
        c.promises_kept += o.contacts.promises_kept;
        c.promises_open += o.contacts.promises_open;
        c.today += o.contacts.today;
        self.recovery = self.recovery.merge(o.recovery);
        self.credit_repair_ids.extend(o.credit_repair_ids);
        self.promises = promises::merge_days(self.promises, o.promises);
        self.compliance.contact_ids.extend(o.compliance.contact_ids);
        self.compliance.loan_ids.extend(o.compliance.loan_ids);
        self.compliance.rows.extend(o.compliance.rows);
        self.compliance_order.extend(o.compliance_order);
        for (a, b) in self.channels.iter_mut().zip(&o.channels) {
            a.merge(b);
        }
        for t in o.steps {
            match self.steps.iter_mut().find(|x| x.stage == t.stage) {
                Some(x) => x.millis += t.millis,
                None => self.steps.push(t),
            }
        }
        self
    }

    /// The figures of the whole book: ratios, rates and reconciliation
    /// checks from the merged sums.
    /// window (they do not depend on the loans).
    pub fn finish(self) -> Figures {
        let Partial {
            as_of,
            labels,
            columns,
            book: tally,
            controls,
            periods: parts,
            unavailable,
            strategy_summary,
            experiments,
            segments,
            collateral,
            contacts,
            mut recovery,
            mut credit_repair_ids,
            promises,
            mut compliance,
            compliance_order,
            channels,
            steps,
        } = self;
        // The credit-repair list in input order: partitions by id range
        // already give it, hash partitions do not.
        let repair = &recovery.credit_repair;
        if repair.windows(2).any(|w| w[0].row > w[1].row) {
            let mut order: Vec<usize> = (0..repair.len()).collect();
            order.sort_unstable_by_key(|&k| repair[k].row);
            credit_repair_ids = credit_repair_ids.take(order.iter().copied());
            recovery.credit_repair = order.iter().map(|&k| repair[k]).collect();
        }
        let headline = book::headline(&tally, controls.cash);
        let by_bucket = tally.by_bucket();
        let mut checks: Vec<Check> = checks::book(&controls, &tally);
        let mut periods = Vec::new();
        for p in parts {
            checks.extend(checks::tier_matrix(
                p.name,
                &p.tiers,
                &p.controls.tiers,
                &controls.tiers,
            ));
            checks.extend(checks::matrix(
                p.name,
                &p.buckets,
                &p.controls.buckets,
                &controls.buckets,
            ));
            let mut r = rates::from_matrix(&p.buckets);
            if p.name == "1m" {
                r.extend(rates::flow(&p.by_bucket, &by_bucket));
                if let Some(pc) = &recovery.plan_cohort {
                    rates::rate_pair("plan_cure", PLAN_COHORT, pc.cured, pc.start, &mut r);
                    rates::rate_pair("plan_broken", PLAN_COHORT, pc.broken, pc.start, &mut r);
                }
            }
            let then = book::headline_of(&p.by_bucket, &p.by_class, p.controls.cash);
            let drivers = drivers::split(&p.segments, &segments);
            checks.extend(checks::drivers(p.name, &drivers, &then, &headline));
            periods.push(Period {
                name: p.name,
                from_date: p.from_date,
                headline: then,
                drivers,
                buckets: p.buckets,
                rates: r,
                recovered: p.recovered,
                tiers: p.tiers,
                tiers_from: p.tiers_from,
                tier_arms: p.tier_arms,
            });
        }
        checks.extend(checks::recovery(
            &controls,
            &recovery,
            periods
                .iter()
                .find(|p| p.name == "prev")
                .map(|p| (&p.buckets, p.recovered)),
        ));
        // The compliance table lists exceptions in contact order (then
        // rule, as each partition sorted its own).
        let mut order: Vec<usize> = (0..compliance.rows.len()).collect();
        order.sort_by_key(|&k| compliance_order[k]);
        if order.windows(2).any(|w| w[0] > w[1]) {
            compliance.contact_ids = compliance.contact_ids.take(order.iter().copied());
            compliance.loan_ids = compliance.loan_ids.take(order.iter().copied());
            let mut rows: Vec<Option<compliance::ExceptionRow>> =
                compliance.rows.into_iter().map(Some).collect();
            compliance.rows = order
                .iter()
                .map(|&k| rows[k].take().expect("each row once"))
                .collect();
        }
        Figures {
            compute_steps: steps,
            // Needs the earlier runs' outputs: filled in at publication.
            forecast: Vec::new(),
            backtest: None,
            as_of,
            labels,
            columns,
            book: tally,
            by_bucket,
            headline,
            current_rates: rates::from_headline(&headline),
            periods,
            unavailable,
            checks,
            collateral,
            strategy_summary,
            experiments,
            contacts,
            recovery,
            credit_repair_ids,
            channels,
            promises,
            compliance,
        }
    }
}

/// Every figure of a run date from whole snapshots: one partition, folded
/// and finished. (The nightly run folds partition by partition; this is
/// the same computation on a book held whole, for tests and benchmarks.)
pub fn compute(
    policy: &Policy,
    cur: &Snapshot,
    prev: Option<&Snapshot>,
    m1: Option<&Snapshot>,
    contact_input: &ContactInput,
    earlier: &EarlierRuns,
) -> Result<Figures> {
    let all = Part::Range(IdRange::all());
    let index: Vec<usize> = (0..contact_input.contacts.as_ref().map_or(0, Contacts::len)).collect();
    let (partial, _) = fold(
        policy,
        &Slice {
            cur,
            prev,
            m1,
            contacts: contact_input
                .contacts
                .as_ref()
                .map(|c| (c, index.as_slice())),
            paid: &contact_input.paid,
            earlier,
            part: &all,
        },
    )?;
    Ok(partial.finish())
}
