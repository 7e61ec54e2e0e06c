//! Collection tiers (分级催收): the ordered rules of the policy, what one
//! rule can ask of a loan, and the load-time proof that every loan that
//! should have a tier gets one.

use crate::states::{PlanStatus, Status};

/// Collection tiers, mildest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Tier {
    T0Current = 0,
    T0Watch = 1,
    T1Reminder = 2,
    T2Phone = 3,
    T3Field = 4,
    T4Legal = 5,
    T5Recovery = 6,
}

pub const TIERS: usize = 7;

impl Tier {
    pub const ALL: [Tier; TIERS] = [
        Tier::T0Current,
        Tier::T0Watch,
        Tier::T1Reminder,
        Tier::T2Phone,
        Tier::T3Field,
        Tier::T4Legal,
        Tier::T5Recovery,
    ];
    pub const ACCEPTED: &'static str =
        "T0_current, T0_watch, T1_reminder, T2_phone, T3_field, T4_legal, T5_recovery";

    pub fn label(self) -> &'static str {
        match self {
            Tier::T0Current => "T0_current",
            Tier::T0Watch => "T0_watch",
            Tier::T1Reminder => "T1_reminder",
            Tier::T2Phone => "T2_phone",
            Tier::T3Field => "T3_field",
            Tier::T4Legal => "T4_legal",
            Tier::T5Recovery => "T5_recovery",
        }
    }
    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.iter().copied().find(|t| t.label() == s)
    }
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Second-lien recovery route of a delinquent secured loan (metrics.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Enforce,
    Negotiate,
    Unsecured,
}

impl Route {
    pub fn label(self) -> &'static str {
        match self {
            Route::Enforce => "enforce",
            Route::Negotiate => "negotiate",
            Route::Unsecured => "unsecured",
        }
    }
    pub fn parse(s: &str) -> Option<Route> {
        [Route::Enforce, Route::Negotiate, Route::Unsecured]
            .into_iter()
            .find(|r| r.label() == s)
    }
}

/// What a rule asks; a condition not given always holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conditions {
    pub status: Option<Vec<Status>>,
    pub dpd_min: Option<i32>,
    pub dpd_max: Option<i32>,
    pub grade: Option<Vec<String>>,
    pub product: Option<Vec<String>>,
    /// A null `contactable` reads as contactable (not known to be lost).
    pub contactable: Option<bool>,
    /// A null `legal_stage` reads as `none`.
    pub legal_stage: Option<Vec<String>>,
    pub legal_stage_not: Option<Vec<String>>,
    pub plan_status: Option<Vec<PlanStatus>>,
    /// Loans without a route (not secured, or current) never match a route list.
    pub route: Option<Vec<Route>>,
    pub secured: Option<bool>,
    pub refused_7d: Option<bool>,
    pub early_warning: Option<bool>,
}

/// One ordered rule: the first that matches gives the tier and its reason.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub tier: Tier,
    pub reason: String,
    pub when: Conditions,
}

/// Everything a rule can ask about one loan.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    pub status: Status,
    pub dpd: i32,
    pub grade: Option<&'a str>,
    pub product: &'a str,
    pub contactable: bool,
    pub legal_stage: &'a str,
    pub plan: PlanStatus,
    pub route: Option<Route>,
    pub secured: bool,
    pub refused_7d: bool,
    pub early_warning: bool,
}

fn listed(list: &Option<Vec<String>>, v: Option<&str>) -> bool {
    match list {
        None => true,
        Some(l) => v.is_some_and(|v| l.iter().any(|x| x == v)),
    }
}

impl Conditions {
    pub fn matches(&self, f: &Facts) -> bool {
        self.grade_ok(f.grade)
            && self.product_ok(f.product)
            && self.legal_ok(f.legal_stage)
            && self.matches_rest(f)
    }

    fn grade_ok(&self, grade: Option<&str>) -> bool {
        listed(&self.grade, grade)
    }

    fn product_ok(&self, product: &str) -> bool {
        listed(&self.product, Some(product))
    }

    fn legal_ok(&self, legal_stage: &str) -> bool {
        listed(&self.legal_stage, Some(legal_stage))
            && self
                .legal_stage_not
                .as_ref()
                .is_none_or(|l| !l.iter().any(|x| x == legal_stage))
    }

    /// Every condition but those on the text columns (grade, product,
    /// legal stage), which [`TextIndex`] answers once per distinct value.
    fn matches_rest(&self, f: &Facts) -> bool {
        self.status.as_ref().is_none_or(|s| s.contains(&f.status))
            && self.dpd_min.is_none_or(|m| f.dpd >= m)
            && self.dpd_max.is_none_or(|m| f.dpd <= m)
            && self.contactable.is_none_or(|c| c == f.contactable)
            && self
                .plan_status
                .as_ref()
                .is_none_or(|p| p.contains(&f.plan))
            && self
                .route
                .as_ref()
                .is_none_or(|r| f.route.is_some_and(|x| r.contains(&x)))
            && self.secured.is_none_or(|s| s == f.secured)
            && self.refused_7d.is_none_or(|r| r == f.refused_7d)
            && self.early_warning.is_none_or(|e| e == f.early_warning)
    }
}

/// A set of rule indices (a policy has at most 255 rules).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleSet([u64; 4]);

impl RuleSet {
    fn insert(&mut self, k: usize) {
        self.0[k / 64] |= 1 << (k % 64);
    }

    fn and(self, o: RuleSet) -> RuleSet {
        RuleSet(std::array::from_fn(|w| self.0[w] & o.0[w]))
    }

    /// The indices in increasing order (rule order).
    fn iter(self) -> impl Iterator<Item = usize> {
        (0..4).flat_map(move |w| {
            let mut bits = self.0[w];
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let b = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    w * 64 + b
                })
            })
        })
    }
}

/// The rules' conditions on a snapshot's text columns, answered once per
/// distinct value (dictionary code) instead of once per loan: per code, the
/// set of rules whose grade (product, legal-stage) condition it passes. A
/// loan's candidates are the intersection of its three sets; only those
/// are checked further, in rule order. Comparing the strings on every loan
/// was the largest single cost of assigning tiers (BENCHMARKS.md).
pub struct TextIndex {
    grade: Vec<RuleSet>,
    product: Vec<RuleSet>,
    legal: Vec<RuleSet>,
}

impl TextIndex {
    /// `grades`, `products`, `legal_stages`: the labels of each code, as
    /// [`Facts`] would carry them (a null product as "", a null legal stage
    /// as "none").
    pub fn new(
        rules: &[Rule],
        grades: &[Option<&str>],
        products: &[&str],
        legal_stages: &[&str],
    ) -> TextIndex {
        fn sets<T: Copy>(
            rules: &[Rule],
            values: &[T],
            ok: impl Fn(&Conditions, T) -> bool,
        ) -> Vec<RuleSet> {
            values
                .iter()
                .map(|&v| {
                    let mut s = RuleSet::default();
                    for (k, r) in rules.iter().enumerate() {
                        if ok(&r.when, v) {
                            s.insert(k);
                        }
                    }
                    s
                })
                .collect()
        }
        TextIndex {
            grade: sets(rules, grades, |c, v| c.grade_ok(v)),
            product: sets(rules, products, |c, v| c.product_ok(v)),
            legal: sets(rules, legal_stages, |c, v| c.legal_ok(v)),
        }
    }

    /// The index of the first rule that matches a loan with these codes and
    /// facts: the same answer as [`first_match`] on the same facts.
    #[inline]
    pub fn first_match(
        &self,
        rules: &[Rule],
        grade: u32,
        product: u32,
        legal: u32,
        f: &Facts,
    ) -> Option<usize> {
        self.grade[grade as usize]
            .and(self.product[product as usize])
            .and(self.legal[legal as usize])
            .iter()
            .find(|&k| rules[k].when.matches_rest(f))
    }
}

/// The first rule that matches, with its index.
pub fn first_match<'r>(rules: &'r [Rule], f: &Facts) -> Option<(usize, &'r Rule)> {
    rules.iter().enumerate().find(|(_, r)| r.when.matches(f))
}

/// What a rule set leaves wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gap {
    /// A loan no rule catches, described for the error message.
    Uncovered(String),
    /// Rule `k` can never give a tier: every loan it asks for is caught by
    /// an earlier rule (one after a catch-all `when = {}`, say). `by` is a
    /// rule that takes such a loan first: a catch-all before it if there
    /// is one (the usual mistake), else the first to take one of them.
    NeverFires { k: usize, by: Option<usize> },
}

/// The first gap of a rule set, or `None` when every loan gets a tier and
/// every rule gives one to some loan. Rules only compare against the values
/// they name, so trying each named value, one value no rule names, and the
/// dpd edges on both sides covers every case that can differ: one walk over
/// those cases finds a loan no rule catches, and which rules are first for
/// some case (a rule first for none of them is first for no loan).
pub fn gap(rules: &[Rule]) -> Option<Gap> {
    let grid = Grid::of(rules);
    let mut first = vec![false; rules.len()];
    let uncovered = grid.find(|_, f| match first_match(rules, f) {
        Some((k, _)) => {
            first[k] = true;
            None
        }
        None => Some(describe(f)),
    });
    if let Some(example) = uncovered {
        return Some(Gap::Uncovered(example));
    }
    let k = first.iter().position(|fired| !fired)?;
    if let Some(j) = rules[..k]
        .iter()
        .position(|r| r.when == Conditions::default())
    {
        return Some(Gap::NeverFires { k, by: Some(j) });
    }
    // Only on this error path: a second walk for a loan rule `k` asks for.
    let mut by = None;
    grid.find(|_, f| {
        if rules[k].when.matches(f) {
            by = first_match(rules, f).map(|(j, _)| j);
            return by.map(|_| ());
        }
        None
    });
    Some(Gap::NeverFires { k, by })
}

/// Every case the rules can tell apart: each value they name, one value no
/// rule names ("\u{0}other"), and the dpd edges on both sides, crossed with
/// every status that has a tier, plan status, route and flag.
struct Grid {
    dpds: Vec<i32>,
    grades: Vec<Option<String>>,
    products: Vec<String>,
    stages: Vec<String>,
}

impl Grid {
    fn of(rules: &[Rule]) -> Grid {
        let mut g = Grid {
            dpds: vec![0, 1, 100_000],
            grades: vec![None, Some("\u{0}other".into())],
            products: vec!["\u{0}other".into()],
            stages: vec!["none".into(), "\u{0}other".into()],
        };
        for r in rules {
            let w = &r.when;
            for d in [w.dpd_min, w.dpd_max].into_iter().flatten() {
                g.dpds
                    .extend([d - 1, d, d + 1].into_iter().filter(|&x| x >= 0));
            }
            g.grades
                .extend(w.grade.iter().flatten().map(|x| Some(x.clone())));
            g.products.extend(w.product.iter().flatten().cloned());
            g.stages.extend(w.legal_stage.iter().flatten().cloned());
            g.stages.extend(w.legal_stage_not.iter().flatten().cloned());
        }
        g.dpds.sort();
        g.dpds.dedup();
        g.grades.sort();
        g.grades.dedup();
        g.products.sort();
        g.products.dedup();
        g.stages.sort();
        g.stages.dedup();
        g
    }

    /// Calls `f` with each case (and the indices of its grade, product and
    /// legal stage in the grid's lists) until it returns something.
    fn find<T>(&self, mut f: impl FnMut([usize; 3], &Facts) -> Option<T>) -> Option<T> {
        let plans = [
            PlanStatus::None,
            PlanStatus::Active,
            PlanStatus::Completed,
            PlanStatus::Broken,
        ];
        let routes = [
            None,
            Some(Route::Enforce),
            Some(Route::Negotiate),
            Some(Route::Unsecured),
        ];
        for status in [Status::Active, Status::ChargedOff] {
            for &dpd in &self.dpds {
                for (gi, grade) in self.grades.iter().enumerate() {
                    for (pi, product) in self.products.iter().enumerate() {
                        for (si, stage) in self.stages.iter().enumerate() {
                            for plan in plans {
                                for route in routes {
                                    for bits in 0..16u8 {
                                        let facts = Facts {
                                            status,
                                            dpd,
                                            grade: grade.as_deref(),
                                            product,
                                            contactable: bits & 1 == 0,
                                            legal_stage: stage,
                                            plan,
                                            route,
                                            secured: bits & 2 != 0,
                                            refused_7d: bits & 4 != 0,
                                            early_warning: bits & 8 != 0,
                                        };
                                        if let Some(t) = f([gi, pi, si], &facts) {
                                            return Some(t);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        None
    }
}

fn describe(f: &Facts) -> String {
    let other = |s: &str| {
        if s.starts_with('\u{0}') {
            "any other".to_string()
        } else {
            format!("{s:?}")
        }
    };
    format!(
        "an {} loan with dpd {}, grade {}, product {}, legal stage {}, plan {}, route {}, {}contactable, {}secured, {}refused in 7 days, {}early warning",
        f.status.label(),
        f.dpd,
        f.grade.map(other).unwrap_or_else(|| "null".into()),
        other(f.product),
        other(f.legal_stage),
        f.plan.label(),
        f.route.map(|r| r.label()).unwrap_or("none"),
        if f.contactable { "" } else { "not " },
        if f.secured { "" } else { "not " },
        if f.refused_7d { "" } else { "not " },
        if f.early_warning { "" } else { "no " },
    )
}

/// Test support: checks that the per-code rule sets give the same first
/// rule as checking every condition, over every case `rules` can tell
/// apart; returns how many cases were checked. (The built-in rules are
/// checked from `policy`'s tests, which hold the built-in policy: this
/// module stays below the policy file.)
#[cfg(test)]
pub(crate) fn index_agrees_with_first_match(rules: &[Rule]) -> usize {
    let g = Grid::of(rules);
    let grades: Vec<Option<&str>> = g.grades.iter().map(|x| x.as_deref()).collect();
    let products: Vec<&str> = g.products.iter().map(String::as_str).collect();
    let stages: Vec<&str> = g.stages.iter().map(String::as_str).collect();
    let index = TextIndex::new(rules, &grades, &products, &stages);
    let mut checked = 0;
    g.find(|[gi, pi, si], f| {
        let want = first_match(rules, f).map(|(k, _)| k);
        let got = index.first_match(rules, gi as u32, pi as u32, si as u32, f);
        assert_eq!(got, want, "{f:?}");
        checked += 1;
        None::<()>
    });
    checked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_sets_iterate_in_rule_order_across_words() {
        let mut s = RuleSet::default();
        for k in [200, 3, 64, 63, 0] {
            s.insert(k);
        }
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![0, 3, 63, 64, 200]);
        let mut t = RuleSet::default();
        t.insert(64);
        t.insert(5);
        assert_eq!(s.and(t).iter().collect::<Vec<_>>(), vec![64]);
    }
}
