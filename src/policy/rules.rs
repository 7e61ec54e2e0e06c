//! The policy's tier rules as written (`[[tiers]]`, and an experiment's
//! `[[experiments.tiers]]`): each rule's tier, reason and `when`, checked
//! value by value, and the refusal of a rule that can never give a tier.

use anyhow::Result;
use serde::Deserialize;
use toml::Spanned;

use crate::policy::source::Source;
use crate::policy::tiers::{Conditions, Gap, Route, Rule, Tier};
use crate::states::{PlanStatus, Status};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSection {
    pub(crate) tier: Spanned<String>,
    pub(crate) reason: Spanned<String>,
    pub(crate) when: Spanned<WhenSection>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct WhenSection {
    status: Option<Vec<String>>,
    dpd_min: Option<i64>,
    dpd_max: Option<i64>,
    grade: Option<Vec<String>>,
    product: Option<Vec<String>>,
    contactable: Option<bool>,
    legal_stage: Option<Vec<String>>,
    legal_stage_not: Option<Vec<String>>,
    plan_status: Option<Vec<String>>,
    route: Option<Vec<String>>,
    secured: Option<bool>,
    refused_7d: Option<bool>,
    early_warning: Option<bool>,
}

/// Checks that `rules` give every loan a tier (`uncovered` says so in
/// words, from an example loan) and that every rule gives a tier to some
/// loan: a rule whose loans earlier rules all take (a rule after the
/// catch-all, say) is almost always one put in the wrong place, and would
/// silently do nothing. Errors name the line of `sections` (or of `span`,
/// the rule list) and `key`.
pub(crate) fn check_coverage(
    src: &Source,
    rules: &[Rule],
    sections: &[RuleSection],
    span: std::ops::Range<usize>,
    key: &str,
    uncovered: impl Fn(&str) -> String,
) -> Result<()> {
    let (k, by) = match crate::policy::tiers::gap(rules) {
        None => return Ok(()),
        Some(Gap::Uncovered(example)) => return src.error(span, key, uncovered(&example)),
        Some(Gap::NeverFires { k, by }) => (k, by),
    };
    let why = match by {
        Some(j) if rules[j].when == Conditions::default() => format!(
            "rule {} ({} by {}) catches every loan before it",
            j + 1,
            rules[j].tier.label(),
            rules[j].reason
        ),
        Some(j) => format!(
            "earlier rules (rule {}, {} by {}, among them) catch every loan it asks for",
            j + 1,
            rules[j].tier.label(),
            rules[j].reason
        ),
        None => "no loan that gets a tier matches it".into(),
    };
    src.error(
        sections[k].tier.span(),
        &format!("{key}.tier"),
        format!(
            "rule {} ({} by {}) can never give a tier: {why}; move it before the rule that takes its loans, or remove it",
            k + 1,
            rules[k].tier.label(),
            rules[k].reason
        ),
    )
}

pub(crate) fn rule(src: &Source, r: &RuleSection, prefix: &str) -> Result<Rule> {
    let tier = match Tier::parse(r.tier.get_ref()) {
        Some(t) => t,
        None => {
            return src.error(
                r.tier.span(),
                &format!("{prefix}.tier"),
                format!(
                    "unknown tier {:?} (accepted: {})",
                    r.tier.get_ref(),
                    Tier::ACCEPTED
                ),
            )
        }
    };
    let reason = r.reason.get_ref().clone();
    if reason.is_empty()
        || !reason
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return src.error(
            r.reason.span(),
            &format!("{prefix}.reason"),
            format!("{reason:?} must be a code of letters, digits and _"),
        );
    }
    Ok(Rule {
        tier,
        reason,
        when: conditions(src, &r.when, prefix)?,
    })
}

/// The `when = { ... }` of a tier rule or an experiment's scope; keys in
/// messages are `{prefix}.when.<key>`.
pub(crate) fn conditions(
    src: &Source,
    when: &Spanned<WhenSection>,
    prefix: &str,
) -> Result<Conditions> {
    let w = when.get_ref();
    let span = when.span();
    let bad = |key: &str, msg: String| -> Result<Conditions> {
        src.error(span.clone(), &format!("{prefix}.when.{key}"), msg)
    };
    let dpd = |v: Option<i64>, key: &str| -> Result<Option<i32>> {
        match v {
            Some(x) if !(0..=100_000).contains(&x) => src.error(
                span.clone(),
                &format!("{prefix}.when.{key}"),
                format!("{x} is out of range 0..=100000"),
            ),
            x => Ok(x.map(|x| x as i32)),
        }
    };
    let (dpd_min, dpd_max) = (dpd(w.dpd_min, "dpd_min")?, dpd(w.dpd_max, "dpd_max")?);
    if let (Some(a), Some(b)) = (dpd_min, dpd_max) {
        if a > b {
            return bad(
                "dpd_min",
                format!("dpd_min {a} is above dpd_max {b}: the rule can never match"),
            );
        }
    }
    let status = match &w.status {
        None => None,
        Some(v) => {
            let mut out = Vec::new();
            for s in v {
                match Status::parse(s) {
                    Some(Status::PaidOff) | None => {
                        return bad("status", format!("{s:?} is not a status that gets a tier (accepted: active, charged_off)"))
                    }
                    Some(x) => out.push(x),
                }
            }
            Some(out)
        }
    };
    let plan_status = match &w.plan_status {
        None => None,
        Some(v) => {
            let mut out = Vec::new();
            for s in v {
                match PlanStatus::parse(s) {
                    Some(x) => out.push(x),
                    None => {
                        return bad(
                            "plan_status",
                            format!(
                                "{s:?} is not a plan status (accepted: {})",
                                PlanStatus::ACCEPTED
                            ),
                        )
                    }
                }
            }
            Some(out)
        }
    };
    let route = match &w.route {
        None => None,
        Some(v) => {
            let mut out = Vec::new();
            for s in v {
                match Route::parse(s) {
                    Some(x) => out.push(x),
                    None => {
                        return bad(
                            "route",
                            format!(
                                "{s:?} is not a route (accepted: enforce, negotiate, unsecured)"
                            ),
                        )
                    }
                }
            }
            Some(out)
        }
    };
    Ok(Conditions {
        status,
        dpd_min,
        dpd_max,
        grade: w.grade.clone(),
        product: w.product.clone(),
        contactable: w.contactable,
        legal_stage: w.legal_stage.clone(),
        legal_stage_not: w.legal_stage_not.clone(),
        plan_status,
        route,
        secured: w.secured,
        refused_7d: w.refused_7d,
        early_warning: w.early_warning,
    })
}
