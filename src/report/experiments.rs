//! The report's champion / challenger section (metrics.md v2): per
//! experiment, a verdict in words on the cure rate of the loans each arm
//! held a month ago, the cure and roll-forward rates by from-bucket with
//! their intervals and the difference, and today's tiers of each arm.

use serde::Serialize;

use crate::figures::Figures;
use crate::metrics::experiments::{self, Arm, Difference, Evaluation, Outcome, Verdict};
use crate::metrics::rates::wilson;
use crate::policy::tiers::Tier;
use crate::policy::Policy;
use crate::report::format;
use crate::report::locale::Locale;

#[derive(Serialize)]
pub struct ExperimentsView {
    /// Why no experiment is evaluated, when none is.
    pub not_evaluated: Option<String>,
    pub tests: Vec<TestView>,
}

#[derive(Serialize)]
pub struct TestView {
    pub name: String,
    /// "20% challenger; scope: dpd 1-30, grade C" when running today.
    pub setup: Option<String>,
    pub verdict: Option<String>,
    /// Cure, then roll-forward, by from-bucket (rows with loans only).
    pub tables: Vec<RateTable>,
    /// Today's tiers of each arm (running experiments).
    pub tiers: Vec<TierRow>,
}

#[derive(Serialize)]
pub struct RateTable {
    pub title: &'static str,
    pub rows: Vec<RateRow>,
}

#[derive(Serialize)]
pub struct RateRow {
    pub from: String,
    pub champion_n: String,
    pub champion: String,
    pub challenger_n: String,
    pub challenger: String,
    pub difference: String,
    pub p: String,
}

#[derive(Serialize)]
pub struct TierRow {
    pub tier: String,
    pub champion: String,
    pub challenger: String,
}

/// `31.25% (27.0% – 35.8%)`.
fn rate(k: u64, n: u64) -> String {
    match wilson(k, n) {
        Some((lo, hi)) => format!(
            "{} ({} \u{2013} {})",
            format::pct(Some(k as f64 / n as f64)),
            format::pct(Some(lo)),
            format::pct(Some(hi))
        ),
        None => "\u{2013}".into(),
    }
}

/// A difference in points: `+4.2 pt (−1.0 – +9.3)`.
fn points(d: Option<Difference>, loc: Locale) -> String {
    let pt = |x: f64| format!("{:+.1}", x * 100.0);
    match d {
        Some(d) => match d.ci {
            Some((lo, hi)) => format!(
                "{} {} ({} \u{2013} {})",
                pt(d.diff),
                loc.pp(),
                pt(lo),
                pt(hi)
            ),
            None => format!("{} {}", pt(d.diff), loc.pp()),
        },
        None => "\u{2013}".into(),
    }
}

fn p_value(d: Option<Difference>) -> String {
    match d.and_then(|d| d.p) {
        Some(p) if p < 0.001 => "< 0.001".into(),
        Some(p) => format!("{p:.3}"),
        None => "\u{2013}".into(),
    }
}

fn rows(e: &Evaluation, pick: fn(&Outcome) -> u64, roll: bool, loc: Locale) -> Vec<RateRow> {
    e.rows
        .iter()
        .filter(|r| r.arms.iter().any(|o| o.loans > 0))
        .map(|r| {
            let [a, b] = r.arms;
            RateRow {
                from: if r.from == "all" {
                    loc.t("experiments_all").to_string()
                } else {
                    r.from.to_string()
                },
                champion_n: format::int(a.loans as i128),
                champion: rate(pick(&a), a.loans),
                challenger_n: format::int(b.loans as i128),
                challenger: rate(pick(&b), b.loans),
                difference: points(if roll { r.roll } else { r.cure }, loc),
                p: p_value(if roll { r.roll } else { r.cure }),
            }
        })
        .collect()
}

fn verdict(e: &Evaluation, loc: Locale) -> String {
    let all = e.rows.last().expect("the all row");
    let [a, b] = all.arms;
    let fill = |key: &str| {
        loc.t(key)
            .replace(
                "{champion}",
                &format::pct(Some(a.cured as f64 / a.loans as f64)),
            )
            .replace(
                "{challenger}",
                &format::pct(Some(b.cured as f64 / b.loans as f64)),
            )
            .replace("{difference}", &points(all.cure, loc))
            .replace("{p}", &p_value(all.cure))
    };
    match e.verdict {
        Verdict::ChallengerCuresMore => fill("experiments_challenger_better"),
        Verdict::ChampionCuresMore => fill("experiments_champion_better"),
        Verdict::NotYet { n, needed } => loc
            .t("experiments_not_yet")
            .replace("{n}", &format::int(n as i128))
            .replace(
                "{needed}",
                &needed.map_or("\u{2013}".into(), |x| format::int(x as i128)),
            ),
        Verdict::NoLoans => loc.t("experiments_no_loans").to_string(),
    }
}

/// What the policy's experiment says of itself: share and scope.
fn setup(x: &crate::policy::Experiment, loc: Locale) -> String {
    let c = &x.scope;
    let mut scope = Vec::new();
    let dpd = loc.t("scope_dpd");
    match (c.dpd_min, c.dpd_max) {
        (Some(a), Some(b)) => scope.push(format!("{dpd} {a}\u{2013}{b}")),
        (Some(a), None) => scope.push(format!("{dpd} \u{2265} {a}")),
        (None, Some(b)) => scope.push(format!("{dpd} \u{2264} {b}")),
        (None, None) => {}
    }
    for (key, list) in [
        ("scope_grade", &c.grade),
        ("scope_product", &c.product),
        ("legal_stage", &c.legal_stage),
    ] {
        if let Some(l) = list {
            scope.push(format!("{} {}", loc.t(key), l.join("/")));
        }
    }
    // The other conditions are named by their policy keys.
    for (key, set) in [
        ("status", c.status.is_some()),
        ("contactable", c.contactable.is_some()),
        ("plan_status", c.plan_status.is_some()),
        ("route", c.route.is_some()),
        ("secured", c.secured.is_some()),
        ("refused_7d", c.refused_7d.is_some()),
        ("early_warning", c.early_warning.is_some()),
    ] {
        if set {
            scope.push(format!("{key} ({})", loc.t("scope_see_policy")));
        }
    }
    if scope.is_empty() {
        scope.push(loc.t("experiments_whole_book").to_string());
    }
    loc.t("experiments_setup")
        .replace("{share}", &format::pct_short(x.share_bp as f64 / 10_000.0))
        .replace("{scope}", &scope.join(loc.t("list_sep")))
}

pub fn experiments_view(f: &Figures, policy: &Policy, loc: Locale) -> Option<ExperimentsView> {
    let evaluations = f
        .experiments
        .as_deref()
        .map(experiments::evaluate)
        .unwrap_or_default();
    if policy.experiments.is_empty() && evaluations.is_empty() {
        return None;
    }
    let mut names: Vec<&str> = policy
        .experiments
        .iter()
        .map(|x| x.name.as_str())
        .chain(evaluations.iter().map(|e| e.experiment.as_str()))
        .collect();
    names.sort();
    names.dedup();
    let tests = names
        .into_iter()
        .map(|name| {
            let running = policy.experiments.iter().position(|x| x.name == name);
            let e = evaluations.iter().find(|e| e.experiment == name);
            let tiers = running
                .map(|k| {
                    let by = |arm: Arm| {
                        &f.strategy_summary.by_arm[experiments::code(k, arm) as usize - 1]
                    };
                    let (a, b) = (by(Arm::Champion), by(Arm::Challenger));
                    Tier::ALL
                        .iter()
                        .rev()
                        .filter(|t| a[t.index()].loans + b[t.index()].loans > 0)
                        .map(|t| TierRow {
                            tier: t.label().to_string(),
                            champion: format::int(a[t.index()].loans as i128),
                            challenger: format::int(b[t.index()].loans as i128),
                        })
                        .collect()
                })
                .unwrap_or_default();
            TestView {
                name: name.to_string(),
                setup: running.map(|k| setup(&policy.experiments[k], loc)),
                verdict: e.map(|e| verdict(e, loc)),
                tables: e
                    .map(|e| {
                        vec![
                            RateTable {
                                title: loc.t("experiments_cure"),
                                rows: rows(e, |o| o.cured, false, loc),
                            },
                            RateTable {
                                title: loc.t("experiments_roll"),
                                rows: rows(e, |o| o.rolled, true, loc),
                            },
                        ]
                    })
                    .unwrap_or_default(),
                tiers,
            }
        })
        .collect();
    Some(ExperimentsView {
        not_evaluated: f.experiments_unavailable().map(|code| {
            loc.t(match code {
                "no_1m_date" => "experiments_na_no_1m",
                "no_1m_worklist" => "experiments_na_no_worklist",
                _ => "experiments_na_no_arms",
            })
            .to_string()
        }),
        tests,
    })
}
