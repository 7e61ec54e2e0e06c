//! The policy file: TOML read with serde, every key known (unknown keys are
//! an error), then checked for meaning (edges rising, ranges sane, every
//! loan reaching a tier). Every error names the line and the key.
//!
//! The built-in policy is `default.toml` next to this file, embedded in the
//! binary and printed by `arrears policy`; its values are metrics.md's.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Deserialize;
use toml::Spanned;

use crate::base::locale::Locale;
use crate::error::{fail, FailureKind};
use crate::policy::rules::{check_coverage, conditions, rule, RuleSection, WhenSection};
use crate::policy::source::{clock, int, Source};
use crate::policy::Experiment;
use crate::policy::{CnLimits, Compliance, EarlyWarning, Policy, Profile, UsRegFLimits};

/// Most tier rules a policy may have (a loan's rule index is one byte).
pub const MAX_RULES: usize = 255;

/// The built-in policy text.
pub const DEFAULT: &str = include_str!("default.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    report: ReportSection,
    buckets: Buckets,
    classification: Classification,
    collateral: Collateral,
    early_warning: EarlyWarningSection,
    compliance: ComplianceSection,
    #[serde(default)]
    input: InputSection,
    tiers: Spanned<Vec<RuleSection>>,
    #[serde(default)]
    experiments: Vec<Spanned<ExperimentSection>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExperimentSection {
    name: Spanned<String>,
    salt: Spanned<String>,
    share: Spanned<f64>,
    scope: Spanned<WhenSection>,
    tiers: Spanned<Vec<RuleSection>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReportSection {
    locale: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Buckets {
    upper_dpd: Spanned<Vec<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Classification {
    special_mention_max_dpd: Spanned<i64>,
    substandard_max_dpd: Spanned<i64>,
    doubtful_max_dpd: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Collateral {
    haircut: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EarlyWarningSection {
    max_dpd: Spanned<i64>,
    re_default_risk: bool,
    cltv_over_100: bool,
    plan_broken: bool,
    lost_contact: bool,
    first_payment_risk: bool,
    first_payment_max_mob: Spanned<i64>,
    dpd_rising: bool,
    broken_promise: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ComplianceSection {
    profile: Spanned<String>,
    #[serde(default)]
    time_zone: Option<Spanned<String>>,
    cn: CnSection,
    us_reg_f: UsRegFSection,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CnSection {
    quiet_start: Spanned<String>,
    quiet_end: Spanned<String>,
    max_attempts_per_day: Spanned<i64>,
    max_connects_per_day: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsRegFSection {
    quiet_start: Spanned<String>,
    quiet_end: Spanned<String>,
    max_attempts_7_days: Spanned<i64>,
    quiet_days_after_conversation: Spanned<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct InputSection {
    #[serde(default)]
    columns: BTreeMap<String, Spanned<String>>,
}

/// The zone when the policy names none: the lender's home market.
pub const DEFAULT_ZONE: &str = "Asia/Shanghai";

/// The built-in policy's commented example experiment, uncommented: what a
/// manager appends to a copy of the policy to turn it on.
pub fn example_experiment() -> String {
    let start = DEFAULT
        .find("# [[experiments]]")
        .expect("the built-in policy has an example experiment");
    DEFAULT[start..]
        .lines()
        .map(|l| l.strip_prefix("# ").or(l.strip_prefix('#')).unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses and checks a policy text. `name` is used in error messages.
pub fn parse(text: &str, name: &str) -> Result<Policy> {
    let src = Source { name, text };
    let f: File = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| src.line(s.start));
        fail(
            FailureKind::Config,
            match line {
                Some(l) => format!("policy '{name}', line {l}: {}", e.message()),
                None => format!("policy '{name}': {}", e.message()),
            },
        )
    })?;

    // Buckets: six strictly rising positive edges.
    let edges = f.buckets.upper_dpd.get_ref();
    if edges.len() != 6 {
        return src.error(
            f.buckets.upper_dpd.span(),
            "buckets.upper_dpd",
            format!("needs 6 edges (M1..M6), found {}", edges.len()),
        );
    }
    let mut bucket_upper = [0i32; 6];
    let mut below = 0i64;
    for (k, &e) in edges.iter().enumerate() {
        if e <= below || e > 100_000 {
            return src.error(
                f.buckets.upper_dpd.span(),
                "buckets.upper_dpd",
                format!(
                    "edges must rise strictly from 1: M{} ends at {e} but the bucket before ends at {below} (overlapping buckets)",
                    k + 1
                ),
            );
        }
        bucket_upper[k] = e as i32;
        below = e;
    }

    let c = &f.classification;
    let sm: i32 = int(
        &src,
        &c.special_mention_max_dpd,
        "classification.special_mention_max_dpd",
        1,
        100_000,
    )?;
    let ss: i32 = int(
        &src,
        &c.substandard_max_dpd,
        "classification.substandard_max_dpd",
        1,
        100_000,
    )?;
    let db: i32 = int(
        &src,
        &c.doubtful_max_dpd,
        "classification.doubtful_max_dpd",
        1,
        100_000,
    )?;
    if ss <= sm {
        return src.error(
            c.substandard_max_dpd.span(),
            "classification.substandard_max_dpd",
            format!("{ss} must be above special_mention_max_dpd {sm}"),
        );
    }
    if db <= ss {
        return src.error(
            c.doubtful_max_dpd.span(),
            "classification.doubtful_max_dpd",
            format!("{db} must be above substandard_max_dpd {ss}"),
        );
    }

    // Haircut as basis points, so the cushion is exact integer arithmetic.
    let h = *f.collateral.haircut.get_ref();
    let bp = (h * 10_000.0).round();
    if !(0.0..1.0).contains(&h) || (bp - h * 10_000.0).abs() > 1e-6 {
        return src.error(
            f.collateral.haircut.span(),
            "collateral.haircut",
            format!("{h} must be a share in [0, 1) with at most 4 decimals (0.30 = 30%)"),
        );
    }

    let ew = &f.early_warning;
    let early_warning = EarlyWarning {
        max_dpd: int(
            &src,
            &ew.max_dpd,
            "early_warning.max_dpd",
            0,
            bucket_upper[0] as i64,
        )?,
        re_default_risk: ew.re_default_risk,
        cltv_over_100: ew.cltv_over_100,
        plan_broken: ew.plan_broken,
        lost_contact: ew.lost_contact,
        first_payment_risk: ew.first_payment_risk,
        first_payment_max_mob: int(
            &src,
            &ew.first_payment_max_mob,
            "early_warning.first_payment_max_mob",
            0,
            600,
        )?,
        dpd_rising: ew.dpd_rising,
        broken_promise: ew.broken_promise,
    };

    let cp = &f.compliance;
    let profile = match cp.profile.get_ref().as_str() {
        "cn" => Profile::Cn,
        "us_reg_f" => Profile::UsRegF,
        other => {
            return src.error(
                cp.profile.span(),
                "compliance.profile",
                format!("unknown profile {other:?} (accepted: cn, us_reg_f)"),
            )
        }
    };
    let time_zone = match &cp.time_zone {
        None => crate::base::zone::Zone::parse(DEFAULT_ZONE).expect("default zone"),
        Some(z) => match crate::base::zone::Zone::parse(z.get_ref()) {
            Some(zone) => zone,
            None => {
                return src.error(
                    z.span(),
                    "compliance.time_zone",
                    format!(
                        "{:?} is not a time zone (an IANA name such as \"Asia/Shanghai\", or an offset such as \"+08:00\")",
                        z.get_ref()
                    ),
                )
            }
        },
    };
    let compliance = Compliance {
        profile,
        time_zone,
        cn: CnLimits {
            quiet_start: clock(&src, &cp.cn.quiet_start, "compliance.cn.quiet_start")?,
            quiet_end: clock(&src, &cp.cn.quiet_end, "compliance.cn.quiet_end")?,
            max_attempts_per_day: int(
                &src,
                &cp.cn.max_attempts_per_day,
                "compliance.cn.max_attempts_per_day",
                0,
                1000,
            )?,
            max_connects_per_day: int(
                &src,
                &cp.cn.max_connects_per_day,
                "compliance.cn.max_connects_per_day",
                0,
                1000,
            )?,
        },
        us_reg_f: UsRegFLimits {
            quiet_start: clock(
                &src,
                &cp.us_reg_f.quiet_start,
                "compliance.us_reg_f.quiet_start",
            )?,
            quiet_end: clock(
                &src,
                &cp.us_reg_f.quiet_end,
                "compliance.us_reg_f.quiet_end",
            )?,
            max_attempts_7_days: int(
                &src,
                &cp.us_reg_f.max_attempts_7_days,
                "compliance.us_reg_f.max_attempts_7_days",
                0,
                1000,
            )?,
            quiet_days_after_conversation: int(
                &src,
                &cp.us_reg_f.quiet_days_after_conversation,
                "compliance.us_reg_f.quiet_days_after_conversation",
                0,
                365,
            )?,
        },
    };

    let locale = match f.report.locale.as_deref() {
        None => None,
        Some("en") => Some(Locale::En),
        Some("zh-CN") => Some(Locale::ZhCn),
        Some(other) => {
            return Err(fail(
                FailureKind::Config,
                format!("policy '{name}', key 'report.locale': unknown locale {other:?} (accepted: en, zh-CN)"),
            ))
        }
    };

    let mut columns = BTreeMap::new();
    for (contract, theirs) in &f.input.columns {
        if !crate::input::schema::LOANS
            .iter()
            .any(|c| c.name == contract)
        {
            return src.error(
                theirs.span(),
                &format!("input.columns.{contract}"),
                format!("{contract:?} is not a loans column of the data contract"),
            );
        }
        columns.insert(contract.clone(), theirs.get_ref().clone());
    }

    let mut rules = Vec::new();
    for r in f.tiers.get_ref() {
        rules.push(rule(&src, r, "tiers")?);
    }
    if rules.is_empty() {
        return src.error(f.tiers.span(), "tiers", "no tier rules".into());
    }
    // Each loan records its rule's index in one byte.
    if rules.len() > MAX_RULES {
        return src.error(
            f.tiers.span(),
            "tiers",
            format!("{} rules; at most {MAX_RULES} are supported", rules.len()),
        );
    }
    check_coverage(
        &src,
        &rules,
        f.tiers.get_ref(),
        f.tiers.span(),
        "tiers",
        |example| {
            format!("the rules leave a loan without a tier, for example {example}; add a rule that catches it (a last rule with `when = {{}}` catches everything)")
        },
    )?;

    let mut experiments: Vec<Experiment> = Vec::new();
    for e in &f.experiments {
        let x = experiment(&src, e)?;
        if experiments.iter().any(|o| o.name == x.name) {
            return src.error(
                e.get_ref().name.span(),
                "experiments.name",
                format!("{:?} is used by two experiments", x.name),
            );
        }
        experiments.push(x);
        // A loan records its experiment and arm in one byte, and the index
        // of its rule, over the main and every challenger's rules, in another.
        if experiments.len() > crate::policy::MAX_EXPERIMENTS {
            return src.error(
                e.get_ref().name.span(),
                "experiments",
                format!("more than {} experiments", crate::policy::MAX_EXPERIMENTS),
            );
        }
        let total = rules.len() + experiments.iter().map(|x| x.rules.len()).sum::<usize>();
        if total > MAX_RULES {
            return src.error(
                e.get_ref().tiers.span(),
                "experiments.tiers",
                format!("{total} rules in all (main and challengers'); at most {MAX_RULES} are supported"),
            );
        }
    }

    Ok(Policy {
        bucket_upper,
        special_mention_max: sm,
        substandard_max: ss,
        doubtful_max: db,
        haircut_bp: bp as i64,
        early_warning,
        compliance,
        locale,
        columns,
        rules,
        experiments,
        source: name.to_string(),
    })
}

/// One `[[experiments]]` table: a code name, a salt, a share with at most
/// 4 decimals strictly between 0 and 1, a scope, and its own tier rules,
/// which must give every loan a tier as the main rules must.
fn experiment(src: &Source, e: &Spanned<ExperimentSection>) -> Result<Experiment> {
    let x = e.get_ref();
    let name = x.name.get_ref().clone();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return src.error(
            x.name.span(),
            "experiments.name",
            format!("{name:?} must be a code of letters, digits, _ and -"),
        );
    }
    if x.salt.get_ref().is_empty() {
        return src.error(
            x.salt.span(),
            "experiments.salt",
            "the salt is empty: give each experiment its own (changing it reshuffles the arms)"
                .into(),
        );
    }
    let share = *x.share.get_ref();
    let bp = (share * 10_000.0).round();
    if !(share > 0.0 && share < 1.0) || (bp - share * 10_000.0).abs() > 1e-6 {
        return src.error(
            x.share.span(),
            "experiments.share",
            format!("{share} must be a share strictly between 0 and 1 with at most 4 decimals (0.2 = 20% challenger)"),
        );
    }
    let scope = conditions(src, &x.scope, "experiments.scope")?;
    let mut rules = Vec::new();
    for r in x.tiers.get_ref() {
        rules.push(rule(src, r, "experiments.tiers")?);
    }
    if rules.is_empty() || rules.len() > MAX_RULES {
        return src.error(
            x.tiers.span(),
            "experiments.tiers",
            format!(
                "{} rules; an experiment needs 1 to {MAX_RULES}",
                rules.len()
            ),
        );
    }
    check_coverage(
        src,
        &rules,
        x.tiers.get_ref(),
        x.tiers.span(),
        "experiments.tiers",
        |example| {
            format!("experiment {name:?}: the challenger's rules leave a loan without a tier, for example {example}; add a rule that catches it (a last rule with `when = {{}}` catches everything)")
        },
    )?;
    Ok(Experiment {
        name,
        salt: x.salt.get_ref().clone(),
        share_bp: bp as u16,
        scope,
        rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        format!("{:#}", parse(text, "p.toml").unwrap_err())
    }

    /// The built-in policy with its commented example experiment turned on,
    /// the example (only) edited by `edit`.
    fn with_experiment(edit: impl Fn(String) -> String) -> String {
        format!("{DEFAULT}\n{}\n", edit(example_experiment()))
    }

    #[test]
    fn the_example_experiment_parses() {
        let p = parse(&with_experiment(|t| t), "p.toml").unwrap();
        assert_eq!(p.experiments.len(), 1);
        let e = &p.experiments[0];
        assert_eq!(
            (e.name.as_str(), e.salt.as_str(), e.share_bp),
            ("m1_grade_c_call_early", "2026-12-m1c", 2000)
        );
        assert_eq!(e.scope.dpd_max, Some(30));
        assert_eq!(e.rules.len(), 2);
        // Off by default.
        assert!(Policy::default().experiments.is_empty());
    }

    #[test]
    fn bad_experiments_name_the_line_and_key() {
        // Rules that leave a loan without a tier: exit 7, the line named.
        let text = with_experiment(|t| {
            t.replace(
                "reason = \"outside_scope\"\nwhen = {}",
                "reason = \"outside_scope\"\nwhen = { dpd_max = 0 }",
            )
        });
        let e = parse(&text, "p.toml").unwrap_err();
        assert_eq!(crate::error::kind_of(&e), Some(FailureKind::Config));
        let e = format!("{e:#}");
        let first = text
            .lines()
            .position(|l| l == "[[experiments.tiers]]")
            .unwrap()
            + 1;
        assert!(
            e.contains("key 'experiments.tiers'") && e.contains("leave a loan without a tier"),
            "{e}"
        );
        assert!(e.contains(&format!("line {first},")), "line {first}: {e}");
        for (from, to, key) in [
            ("share = 0.2", "share = 1.0", "experiments.share"),
            ("share = 0.2", "share = 0.12345", "experiments.share"),
            ("share = 0.2", "share = 0", "experiments.share"),
            ("salt = \"2026-12-m1c\"", "salt = \"\"", "experiments.salt"),
            (
                "name = \"m1_grade_c_call_early\"",
                "name = \"has space\"",
                "experiments.name",
            ),
            (
                "dpd_min = 1, dpd_max = 30, grade = [\"C\"] }\n\n[[experiments.tiers]]",
                "dpd_min = 31, dpd_max = 30 }\n\n[[experiments.tiers]]",
                "experiments.scope.when.dpd_min",
            ),
            (
                "tier = \"T2_phone\"",
                "tier = \"T9\"",
                "experiments.tiers.tier",
            ),
        ] {
            let text = with_experiment(|t| t.replacen(from, to, 1));
            assert_ne!(text, with_experiment(|t| t), "{from} not found");
            let e = err(&text);
            assert!(e.contains(&format!("key '{key}'")), "{key}: {e}");
        }
        // Two experiments of one name.
        let twice = with_experiment(|t| format!("{t}\n{t}"));
        assert!(err(&twice).contains("used by two experiments"));
    }

    /// Line number (1-based) of the first line containing `needle` in DEFAULT.
    fn line_of(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).unwrap() + 1
    }

    #[test]
    fn default_parses_and_round_trips() {
        let p = parse(DEFAULT, "built-in").unwrap();
        assert_eq!(p, Policy::default());
        // What `arrears policy` prints is DEFAULT itself: parsing it back
        // under another name gives the same thresholds and rules.
        let again = parse(DEFAULT, "copy.toml").unwrap();
        assert_eq!(
            Policy {
                source: "built-in".into(),
                ..again
            },
            p
        );
    }

    #[test]
    fn unknown_key_names_its_line() {
        let text = DEFAULT.replace("haircut = 0.30", "haircut = 0.30\nhaircutt = 0.2");
        let e = err(&text);
        let line = line_of(&text, "haircutt");
        assert!(
            e.contains(&format!("line {line}")) && e.contains("haircutt"),
            "{e}"
        );
    }

    #[test]
    fn bad_range_names_line_and_key() {
        let text = DEFAULT.replace("haircut = 0.30", "haircut = 1.5");
        let e = err(&text);
        let line = line_of(&text, "haircut = 1.5");
        assert!(
            e.contains(&format!("line {line}, key 'collateral.haircut'")),
            "{e}"
        );
        let text = DEFAULT.replace(
            "when = { dpd_min = 1, dpd_max = 7 }",
            "when = { dpd_min = 9, dpd_max = 7 }",
        );
        let e = err(&text);
        let line = line_of(&text, "dpd_min = 9,");
        assert!(
            e.contains(&format!("line {line}")) && e.contains("dpd_min 9 is above dpd_max 7"),
            "{e}"
        );
    }

    #[test]
    fn overlapping_bucket_edges_are_rejected() {
        let text = DEFAULT.replace("[30, 60, 90, 120, 150, 180]", "[30, 60, 60, 120, 150, 180]");
        let e = err(&text);
        let line = line_of(&text, "upper_dpd = [");
        assert!(
            e.contains(&format!("line {line}, key 'buckets.upper_dpd'"))
                && e.contains("overlapping"),
            "{e}"
        );
    }

    #[test]
    fn incomplete_rules_are_rejected_at_load() {
        // Without the catch-all, a current loan without early warning has no tier.
        let cut = DEFAULT.rfind("[[tiers]]").unwrap();
        let text = &DEFAULT[..cut];
        let e = err(text);
        let line = line_of(text, "[[tiers]]");
        assert!(e.contains(&format!("line {line}, key 'tiers'")), "{e}");
        assert!(e.contains("without a tier") && e.contains("dpd 0"), "{e}");
    }

    #[test]
    fn too_many_rules_are_rejected() {
        let extra =
            "\n[[tiers]]\ntier = \"T0_current\"\nreason = \"again\"\nwhen = {}\n".repeat(MAX_RULES);
        let e = err(&format!("{DEFAULT}{extra}"));
        assert!(e.contains("at most 255"), "{e}");
    }

    #[test]
    fn unknown_values_are_named() {
        let e = err(&DEFAULT.replace("tier = \"T3_field\"", "tier = \"T3_fields\""));
        assert!(e.contains("unknown tier \"T3_fields\""), "{e}");
        let e = err(&DEFAULT.replace("profile = \"cn\"", "profile = \"eu\""));
        assert!(
            e.contains("compliance.profile") && e.contains("\"eu\""),
            "{e}"
        );
        let e = err(&DEFAULT.replace("quiet_start = \"22:00\"", "quiet_start = \"25:00\""));
        assert!(e.contains("compliance.cn.quiet_start"), "{e}");
        let e = err(&DEFAULT.replace("# Example: loan_id = \"acct_no\"", "loan_idx = \"acct_no\""));
        assert!(e.contains("input.columns.loan_idx"), "{e}");
    }
}
