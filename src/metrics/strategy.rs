//! The collection strategy of each loan (metrics.md, "Collection tiers" and
//! "Second-lien"): its early-warning signals, its second-lien recovery
//! route with CLTV and expected shortfall, and its tier with the reason of
//! the first policy rule that matched. Paid-off loans get none of these.
//!
//! Money stays integer: the collateral haircut is in basis points, so the
//! equity cushion is exact to the cent (rounded half away from zero once).

use rayon::prelude::*;

use crate::input::columns::NULL_MONEY;
use crate::input::snapshot::Snapshot;
use crate::metrics::experiments::{self, Arm, NO_ARM};
use crate::policy::tiers::{Facts, Route, TextIndex};
use crate::policy::Policy;
use crate::states::{PlanStatus, Status};

/// Early-warning signals, one bit each, in reporting order.
pub const SIGNALS: [&str; 7] = [
    "re_default_risk",
    "cltv_over_100",
    "plan_broken",
    "lost_contact",
    "first_payment_risk",
    "dpd_rising",
    "broken_promise",
];

/// No tier: a paid-off loan.
pub const NO_TIER: u8 = 255;
/// Route codes: 0 = none, then [`Route`] in order.
pub const ROUTES: [Option<Route>; 4] = [
    None,
    Some(Route::Enforce),
    Some(Route::Negotiate),
    Some(Route::Unsecured),
];

/// Loan-level strategy of one snapshot, one entry per row.
#[derive(Clone, Debug, Default)]
pub struct LoanStrategy {
    /// Tier index ([`crate::policy::tiers::Tier`]) or [`NO_TIER`].
    pub tier: Vec<u8>,
    /// Index of the policy rule that gave the tier.
    pub rule: Vec<u8>,
    /// Early-warning signal bits ([`SIGNALS`]); 0 = not flagged.
    pub signals: Vec<u8>,
    /// Route code (index into [`ROUTES`]).
    pub route: Vec<u8>,
    /// CLTV, NaN where there is no collateral.
    pub cltv: Vec<f64>,
    /// Expected shortfall of routed loans, cents (0 elsewhere).
    pub shortfall: Vec<i64>,
    /// Experiment and arm ([`crate::metrics::experiments::ArmCode`]).
    pub arm: Vec<u8>,
}

/// An earlier snapshot and, per row of the snapshot being assigned, the
/// same loan's row in it (or `ABSENT`).
#[derive(Clone, Copy)]
pub struct Lookback<'a> {
    pub snap: &'a Snapshot,
    pub rows: &'a [u32],
}

impl Lookback<'_> {
    /// Days past due at the earlier date when the loan was active then, else -1.
    fn dpd(&self, i: usize) -> i32 {
        match self.rows[i] {
            crate::metrics::join::ABSENT => -1,
            r if self.snap.status[r as usize] == Status::Active => self.snap.dpd[r as usize],
            _ => -1,
        }
    }
}

/// What the strategy needs besides the snapshot itself.
pub struct Context<'a> {
    /// Run date, days since 1970-01-01 (months on book).
    pub today: i32,
    /// The `prev` snapshot (None: no `prev`, or not looked back).
    pub prev: Option<Lookback<'a>>,
    /// The `1m` snapshot.
    pub m1: Option<Lookback<'a>>,
    /// Per row: a refusal in the trailing 7 days (empty: no contacts read).
    pub refused_7d: &'a [bool],
    /// Per row: a promise due in the trailing 7 days not kept.
    pub broken_promise: &'a [bool],
}

/// Months on book: 12 x (year of D - year of origination) + month difference.
pub fn months_on_book(today: i32, origination: i32) -> i32 {
    use chrono::Datelike;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let d = |x: i32| epoch + chrono::Duration::days(x as i64);
    let (a, b) = (d(today), d(origination));
    12 * (a.year() - b.year()) + a.month() as i32 - b.month() as i32
}

/// Equity cushion in cents: collateral x (1 - haircut) - senior liens.
pub fn cushion(collateral: i64, senior: i64, haircut_bp: i64) -> i128 {
    let num = collateral as i128 * (10_000 - haircut_bp) as i128;
    // Round half away from zero to the cent (num >= 0: collateral >= 0).
    let after_haircut = (num + 5_000) / 10_000;
    after_haircut - senior as i128
}

/// What the lender still has to recover from a delinquent secured loan
/// (metrics.md v2, "Second-lien recovery route"): the principal of an
/// active loan; for a charged-off loan, whose principal was written down,
/// what is left of the charged-off amount after recoveries (nulls read as 0).
pub fn exposure(status: Status, balance: i64, charge_off_amount: i64, recovered: i64) -> i64 {
    match status {
        Status::ChargedOff => (charge_off_amount - recovered).max(0),
        _ => balance,
    }
}

/// The [`exposure`] of row `i` of a snapshot.
pub fn exposure_of(snap: &Snapshot, i: usize) -> i64 {
    exposure(
        snap.status[i],
        snap.balance[i],
        snap.charge_off_amount[i],
        snap.recovered[i],
    )
}

/// Route and expected shortfall of a delinquent secured loan with this
/// [`exposure`].
pub fn route(exposure: i64, cushion: i128) -> (Route, i64) {
    let b = exposure as i128;
    let r = if cushion >= b {
        Route::Enforce
    } else if cushion > 0 {
        Route::Negotiate
    } else {
        Route::Unsecured
    };
    (r, (b - cushion.max(0)).max(0) as i64)
}

/// Assigns every row its signals, route, experiment arm and tier.
///
/// A loan in the scope of an experiment (the first in policy order whose
/// scope it matches: a loan is in at most one test, so that each arm's
/// outcome is that experiment's alone) gets its arm from the hash of its
/// id; a challenger's tier comes from the experiment's own rules, anyone
/// else's from the main rules. The scope is asked of the same facts as
/// the rules, so it can name a bucket, a grade or a signal.
pub fn assign(snap: &Snapshot, policy: &Policy, ctx: &Context) -> LoanStrategy {
    let n = snap.len();
    let chunk = crate::metrics::ranges(n)
        .first()
        .map(|r| r.len())
        .unwrap_or(1)
        .max(1);
    // Labels once per dimension code, not per loan.
    let grade: Vec<Option<&str>> = snap.grade.labels.iter().map(|l| l.as_deref()).collect();
    let product: Vec<&str> = snap
        .product
        .labels
        .iter()
        .map(|l| l.as_deref().unwrap_or(""))
        .collect();
    let legal: Vec<&str> = snap
        .legal
        .labels
        .iter()
        .map(|l| l.as_deref().unwrap_or("none"))
        .collect();
    let text = TextIndex::new(&policy.rules, &grade, &product, &legal);
    // Each experiment's scope as a one-rule list and its challenger rules,
    // indexed on the text columns like the main rules.
    let scopes: Vec<[crate::policy::tiers::Rule; 1]> = policy
        .experiments
        .iter()
        .map(|e| {
            [crate::policy::tiers::Rule {
                tier: crate::policy::tiers::Tier::ALL[0],
                reason: String::new(),
                when: e.scope.clone(),
            }]
        })
        .collect();
    let tests: Vec<(TextIndex, TextIndex, usize)> = policy
        .experiments
        .iter()
        .enumerate()
        .map(|(e, x)| {
            (
                TextIndex::new(&scopes[e], &grade, &product, &legal),
                TextIndex::new(&x.rules, &grade, &product, &legal),
                policy.rule_offset(e),
            )
        })
        .collect();
    let all_rules = policy.all_rules();
    let ew = &policy.early_warning;
    let parts: Vec<LoanStrategy> = (0..n)
        .into_par_iter()
        .chunks(chunk)
        .map(|rows| {
            let mut out = LoanStrategy::default();
            for i in rows {
                let status = snap.status[i];
                if status == Status::PaidOff {
                    out.tier.push(NO_TIER);
                    out.rule.push(0);
                    out.signals.push(0);
                    out.route.push(0);
                    out.cltv.push(f64::NAN);
                    out.shortfall.push(0);
                    out.arm.push(NO_ARM);
                    continue;
                }
                let dpd = snap.dpd[i];
                let balance = snap.balance[i];
                let coll = snap.collateral[i];
                let senior = match snap.senior_lien[i] {
                    NULL_MONEY => 0,
                    s => s,
                };
                let secured = coll != NULL_MONEY && coll > 0;
                let cltv = if secured {
                    (senior as f64 + balance as f64) / coll as f64
                } else {
                    f64::NAN
                };
                let delinquent = status == Status::ChargedOff || dpd > 0;
                let (route, shortfall) = if secured && delinquent {
                    let e = exposure_of(snap, i);
                    let (r, s) = route(e, cushion(coll, senior, policy.haircut_bp));
                    (Some(r), s)
                } else {
                    (None, 0)
                };
                let contactable = snap.contactable[i] != 0;
                let mut bits = 0u8;
                if status == Status::Active && dpd <= ew.max_dpd {
                    let earlier = |v: Option<Lookback>| v.map(|x| x.dpd(i)).unwrap_or(-1);
                    let signal = [
                        ew.re_default_risk && dpd == 0 && earlier(ctx.m1) > 0,
                        // Under water: senior + balance above the collateral (exact).
                        ew.cltv_over_100
                            && secured
                            && senior as i128 + balance as i128 > coll as i128,
                        ew.plan_broken && snap.plan[i] == PlanStatus::Broken,
                        ew.lost_contact && snap.contactable[i] == 0,
                        ew.first_payment_risk
                            && dpd > 0
                            && months_on_book(ctx.today, snap.origination[i])
                                <= ew.first_payment_max_mob,
                        ew.dpd_rising && earlier(ctx.prev) >= 0 && dpd > earlier(ctx.prev),
                        ew.broken_promise && ctx.broken_promise.get(i).copied().unwrap_or(false),
                    ];
                    for (k, on) in signal.iter().enumerate() {
                        if *on {
                            bits |= 1 << k;
                        }
                    }
                }
                let facts = Facts {
                    status,
                    dpd,
                    grade: grade[snap.grade.codes[i] as usize],
                    product: product[snap.product.codes[i] as usize],
                    contactable,
                    legal_stage: legal[snap.legal.codes[i] as usize],
                    plan: snap.plan[i],
                    route,
                    secured,
                    refused_7d: ctx.refused_7d.get(i).copied().unwrap_or(false),
                    early_warning: bits != 0,
                };
                let (g, p, l) = (
                    snap.grade.codes[i],
                    snap.product.codes[i],
                    snap.legal.codes[i],
                );
                let mut arm = NO_ARM;
                let mut challenger_rule = None;
                for (e, (scope, rules, offset)) in tests.iter().enumerate() {
                    if scope.first_match(&scopes[e], g, p, l, &facts).is_none() {
                        continue;
                    }
                    let x = &policy.experiments[e];
                    let a = experiments::arm_of_row(&x.salt, &snap.ids, i, x.share_bp);
                    arm = experiments::code(e, a);
                    if a == Arm::Challenger {
                        let k = rules
                            .first_match(&x.rules, g, p, l, &facts)
                            .expect("challenger rules cover every loan (checked at load)");
                        challenger_rule = Some(offset + k);
                    }
                    break;
                }
                let k = match challenger_rule {
                    Some(k) => k,
                    None => text
                        .first_match(&policy.rules, g, p, l, &facts)
                        .expect("policy rules cover every loan (checked at load)"),
                };
                let rule = all_rules[k];
                out.arm.push(arm);
                out.tier.push(rule.tier as u8);
                out.rule.push(k as u8);
                out.signals.push(bits);
                out.route
                    .push(ROUTES.iter().position(|r| *r == route).unwrap_or(0) as u8);
                out.cltv.push(cltv);
                out.shortfall.push(shortfall);
            }
            out
        })
        .collect();
    let mut all = LoanStrategy::default();
    for p in parts {
        all.tier.extend(p.tier);
        all.rule.extend(p.rule);
        all.signals.extend(p.signals);
        all.route.extend(p.route);
        all.cltv.extend(p.cltv);
        all.shortfall.extend(p.shortfall);
        all.arm.extend(p.arm);
    }
    all
}

/// A partition's loan-level results, in its run-date rows' order: what the
/// worklist writes.
pub struct LoanLevel {
    pub states: crate::metrics::book::States,
    pub strategy: LoanStrategy,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cushion_and_route_edges() {
        // 1,000,000.00 collateral, 30% haircut, 500,000.00 senior: cushion 200,000.00.
        let c = cushion(100_000_000, 50_000_000, 3_000);
        assert_eq!(c, 20_000_000);
        assert_eq!(
            route(20_000_000, c),
            (Route::Enforce, 0),
            "cushion = balance"
        );
        assert_eq!(route(20_000_001, c), (Route::Negotiate, 1));
        assert_eq!(route(5, 0), (Route::Unsecured, 5), "cushion 0 is unsecured");
        assert_eq!(route(5, -10), (Route::Unsecured, 5));
        // Half a cent rounds away from zero: 0.05 x 0.7 = 0.035 -> 0.04.
        assert_eq!(cushion(5, 0, 3_000), 4);
    }

    #[test]
    fn a_charged_off_loan_is_routed_on_what_is_left_to_recover() {
        // Written down to zero principal, 80,000.00 charged off, 30,000.00
        // recovered: 50,000.00 left, against a 200,000.00 cushion.
        let e = exposure(Status::ChargedOff, 0, 8_000_000, 3_000_000);
        assert_eq!(e, 5_000_000);
        assert_eq!(route(e, 20_000_000), (Route::Enforce, 0));
        assert_eq!(route(e, 2_000_000), (Route::Negotiate, 3_000_000));
        // Recovered more than was charged off: nothing left, never negative.
        assert_eq!(exposure(Status::ChargedOff, 0, 100, 250), 0);
        // Active loans: the principal, whatever the charge-off columns say.
        assert_eq!(exposure(Status::Active, 700, 0, 0), 700);
    }

    #[test]
    fn months_on_book_by_calendar_month() {
        let d = |s: &str| {
            (chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
                - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
            .num_days() as i32
        };
        assert_eq!(months_on_book(d("2026-11-29"), d("2026-11-01")), 0);
        assert_eq!(months_on_book(d("2026-11-01"), d("2026-10-31")), 1);
        assert_eq!(months_on_book(d("2026-11-29"), d("2025-12-15")), 11);
    }
}

/// The strategy in aggregate, for the report: tiers by rule, early
/// warning by signal, product and region.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Loans and balance per policy rule (the rule gives tier and reason).
    pub by_rule: Vec<crate::metrics::tally::Tally>,
    /// Flagged loans per signal ([`SIGNALS`] order).
    pub by_signal: [u64; SIGNALS.len()],
    /// Flagged loans per product code and per region code.
    pub flagged_by_product: Vec<u64>,
    pub flagged_by_region: Vec<u64>,
    /// Loans with at least one signal.
    pub flagged: u64,
    /// Loans and balance per tier of each experiment's arm (index
    /// `ArmCode - 1`: experiment `e`'s champion at `2e`, challenger at
    /// `2e + 1`), the tier summary split by arm.
    pub by_arm: Vec<[crate::metrics::tally::Tally; crate::policy::tiers::TIERS]>,
}

impl Summary {
    fn empty(rules: usize, experiments: usize, products: usize, regions: usize) -> Summary {
        Summary {
            by_arm: vec![Default::default(); 2 * experiments],
            by_rule: vec![Default::default(); rules],
            by_signal: [0; SIGNALS.len()],
            flagged_by_product: vec![0; products],
            flagged_by_region: vec![0; regions],
            flagged: 0,
        }
    }
    /// Adds another partition's summary (same product and region codes).
    pub fn merge(mut self, o: Summary) -> Summary {
        crate::metrics::tally::merge_cells(&mut self.by_rule, &o.by_rule);
        for (a, b) in self.by_signal.iter_mut().zip(o.by_signal) {
            *a += b;
        }
        for (a, b) in self
            .flagged_by_product
            .iter_mut()
            .zip(&o.flagged_by_product)
        {
            *a += b;
        }
        for (a, b) in self.flagged_by_region.iter_mut().zip(&o.flagged_by_region) {
            *a += b;
        }
        self.flagged += o.flagged;
        for (a, b) in self.by_arm.iter_mut().zip(&o.by_arm) {
            crate::metrics::tally::merge_cells(a, b);
        }
        self
    }
}

impl Summary {
    /// Re-codes products and regions (`product[old] = new`).
    pub fn recode(&mut self, product: &[u32], products: usize, region: &[u32], regions: usize) {
        self.flagged_by_product = recode_counts(&self.flagged_by_product, product, products);
        self.flagged_by_region = recode_counts(&self.flagged_by_region, region, regions);
    }
}

/// Counts by code, moved to new codes.
fn recode_counts(v: &[u64], map: &[u32], n: usize) -> Vec<u64> {
    let mut out = vec![0; n];
    for (old, &c) in v.iter().enumerate() {
        if c != 0 {
            out[map[old] as usize] += c;
        }
    }
    out
}

/// Aggregates a snapshot's strategy under `policy`.
pub fn summarize(snap: &Snapshot, s: &LoanStrategy, policy: &Policy) -> Summary {
    let rules = policy.all_rules().len();
    let tests = policy.experiments.len();
    let (np, nr) = (snap.product.cardinality(), snap.region.cardinality());
    crate::metrics::ranges(snap.len())
        .into_par_iter()
        .map(|r| {
            let mut out = Summary::empty(rules, tests, np, nr);
            for i in r {
                if s.tier[i] == NO_TIER {
                    continue;
                }
                out.by_rule[s.rule[i] as usize].add(snap.balance[i], 0);
                if s.arm[i] != NO_ARM {
                    out.by_arm[s.arm[i] as usize - 1][s.tier[i] as usize].add(snap.balance[i], 0);
                }
                let bits = s.signals[i];
                if bits != 0 {
                    out.flagged += 1;
                    out.flagged_by_product[snap.product.codes[i] as usize] += 1;
                    out.flagged_by_region[snap.region.codes[i] as usize] += 1;
                    for (k, c) in out.by_signal.iter_mut().enumerate() {
                        if bits & (1 << k) != 0 {
                            *c += 1;
                        }
                    }
                }
            }
            out
        })
        .reduce(|| Summary::empty(rules, tests, np, nr), Summary::merge)
}
