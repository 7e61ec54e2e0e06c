//! The collection policy: every threshold a risk manager may tune, read
//! from a TOML file ([`file`]) or the built-in default (metrics.md's
//! values): bucket edges, five-category thresholds, the collateral haircut,
//! early-warning signals, the compliance profile, the report locale, column
//! names, and the ordered tier rules ([`tiers`]).

pub mod file;
mod rules;
mod source;
pub mod tiers;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use crate::base::locale::Locale;
use crate::error::{fail, FailureKind};
use crate::states::{Bucket, Class, PlanStatus, Status};
use tiers::Rule;

/// Early-warning signals (each can be off) and their parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlyWarning {
    /// Loans in `M0` and `M1` up to this dpd are looked at.
    pub max_dpd: i32,
    pub re_default_risk: bool,
    pub cltv_over_100: bool,
    pub plan_broken: bool,
    pub lost_contact: bool,
    pub first_payment_risk: bool,
    pub first_payment_max_mob: i32,
    pub dpd_rising: bool,
    pub broken_promise: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Profile {
    Cn,
    UsRegF,
}

/// Limits of the `cn` compliance profile; times are minutes after midnight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CnLimits {
    pub quiet_start: u16,
    pub quiet_end: u16,
    pub max_attempts_per_day: u32,
    pub max_connects_per_day: u32,
}

/// Limits of the `us_reg_f` compliance profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsRegFLimits {
    pub quiet_start: u16,
    pub quiet_end: u16,
    pub max_attempts_7_days: u32,
    pub quiet_days_after_conversation: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compliance {
    pub profile: Profile,
    /// Borrower-local zone: zoned `contact_ts` values are converted to it.
    pub time_zone: crate::base::zone::Zone,
    pub cn: CnLimits,
    pub us_reg_f: UsRegFLimits,
}

/// Experiments a policy may hold: a loan's experiment and arm are coded
/// in one byte (`metrics::experiments::code`).
pub const MAX_EXPERIMENTS: usize = 127;

/// The policy of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Upper dpd edge (inclusive) of `M1` .. `M6`; anything above the last is `M6+`.
    pub bucket_upper: [i32; 6],
    /// Highest dpd still `special_mention`.
    pub special_mention_max: i32,
    /// Highest dpd still `substandard`.
    pub substandard_max: i32,
    /// Highest dpd still `doubtful`; above is `loss`.
    pub doubtful_max: i32,
    /// Collateral haircut in basis points (3000 = 30%).
    pub haircut_bp: i64,
    pub early_warning: EarlyWarning,
    pub compliance: Compliance,
    /// Report language, when the policy sets one.
    pub locale: Option<Locale>,
    /// Contract column name -> the lender's column name.
    pub columns: BTreeMap<String, String>,
    /// Tier rules, first match wins; they cover every loan (checked at load).
    pub rules: Vec<Rule>,
    /// Champion / challenger tests (metrics.md v2), none by default.
    pub experiments: Vec<Experiment>,
    /// `built-in` or the file the policy was read from.
    pub source: String,
}

/// One champion / challenger test: loans in `scope` are split by
/// `metrics::experiments::arm`; the challenger's tier comes from `rules`,
/// the champion's from the main rules.
#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    /// A code, unique in the policy (the worklist's `experiment`).
    pub name: String,
    pub salt: String,
    /// The challenger's share in basis points (1..9999).
    pub share_bp: u16,
    pub scope: tiers::Conditions,
    pub rules: Vec<Rule>,
}

impl Default for Policy {
    fn default() -> Self {
        file::parse(file::DEFAULT, "built-in").expect("the built-in policy is valid")
    }
}

impl Policy {
    /// The demo's policy: the built-in one with its commented example
    /// experiment turned on, so that the demo's history assigns arms and
    /// its last report evaluates them.
    pub fn demo() -> Policy {
        let text = format!("{}\n{}\n", file::DEFAULT, file::example_experiment());
        file::parse(&text, "built-in, with the example experiment")
            .expect("the built-in policy with its example experiment is valid")
    }
}

impl Policy {
    /// Every tier rule in one index space: the main rules, then each
    /// experiment's challenger rules in policy order. A loan's rule index
    /// (`LoanStrategy::rule`) and the tier summary's rows count in it.
    pub fn all_rules(&self) -> Vec<&Rule> {
        self.rules
            .iter()
            .chain(self.experiments.iter().flat_map(|e| &e.rules))
            .collect()
    }

    /// Where experiment `e`'s rules start in [`Policy::all_rules`].
    pub fn rule_offset(&self, e: usize) -> usize {
        self.rules.len()
            + self.experiments[..e]
                .iter()
                .map(|x| x.rules.len())
                .sum::<usize>()
    }

    /// Rule `k` of [`Policy::all_rules`].
    pub fn rule(&self, k: usize) -> &Rule {
        let mut k = k;
        for list in std::iter::once(&self.rules).chain(self.experiments.iter().map(|e| &e.rules)) {
            if k < list.len() {
                return &list[k];
            }
            k -= list.len();
        }
        panic!("rule index out of range")
    }

    /// The experiment whose challenger rules hold rule `k` of
    /// [`Policy::all_rules`], if any.
    pub fn experiment_of_rule(&self, k: usize) -> Option<&Experiment> {
        (0..self.experiments.len())
            .rev()
            .find(|&e| k >= self.rule_offset(e))
            .map(|e| &self.experiments[e])
    }

    /// Reads a policy file; errors name the file, the line and the key (exit 7).
    pub fn load(path: &Path) -> Result<Policy> {
        let text = crate::base::textfile::read(path).map_err(|e| {
            fail(
                FailureKind::Config,
                format!("policy file '{}' cannot be read: {e}", path.display()),
            )
        })?;
        file::parse(&text, &path.display().to_string())
    }
}

impl Policy {
    /// Bucket of a loan (metrics.md, "States").
    #[inline]
    pub fn bucket(&self, status: Status, dpd: i32) -> Bucket {
        match status {
            Status::PaidOff => Bucket::Paid,
            Status::ChargedOff => Bucket::Wo,
            Status::Active => {
                if dpd <= 0 {
                    return Bucket::M0;
                }
                // Six comparisons beat a search for so few edges.
                let mut i = 0;
                while i < 6 && dpd > self.bucket_upper[i] {
                    i += 1;
                }
                Bucket::from_index(1 + i)
            }
        }
    }

    /// Five-category class, or `None` for loans outside the book (paid off).
    ///
    /// The class is the most severe of what the dpd and the repayment plan
    /// each say: a plan (active or completed) makes a loan at least special
    /// mention, a broken plan at least substandard.
    #[inline]
    pub fn class(&self, status: Status, dpd: i32, plan: PlanStatus) -> Option<Class> {
        let by_dpd = match status {
            Status::PaidOff => return None,
            Status::ChargedOff => Class::Loss,
            Status::Active => {
                if dpd <= 0 {
                    Class::Normal
                } else if dpd <= self.special_mention_max {
                    Class::SpecialMention
                } else if dpd <= self.substandard_max {
                    Class::Substandard
                } else if dpd <= self.doubtful_max {
                    Class::Doubtful
                } else {
                    Class::Loss
                }
            }
        };
        let by_plan = match plan {
            PlanStatus::None => Class::Normal,
            PlanStatus::Active | PlanStatus::Completed => Class::SpecialMention,
            PlanStatus::Broken => Class::Substandard,
        };
        Some(by_dpd.max(by_plan))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-code rule sets give the same first rule as checking every
    /// condition, over every case the built-in rules can tell apart.
    #[test]
    fn text_index_agrees_with_first_match() {
        let checked = tiers::index_agrees_with_first_match(&Policy::default().rules);
        assert!(checked > 10_000, "{checked}");
    }

    #[test]
    fn default_equals_metrics_md() {
        let p = Policy::default();
        assert_eq!(p.bucket_upper, [30, 60, 90, 120, 150, 180]);
        assert_eq!(
            (p.special_mention_max, p.substandard_max, p.doubtful_max),
            (90, 270, 360)
        );
        assert_eq!(p.haircut_bp, 3000);
        assert_eq!(p.early_warning.max_dpd, 7);
        assert_eq!(p.compliance.profile, Profile::Cn);
        assert_eq!(p.compliance.cn.quiet_start, 22 * 60);
        assert_eq!(p.compliance.us_reg_f.quiet_start, 21 * 60);
        assert_eq!(p.rules.len(), 12);
        assert_eq!(p.rules[0].tier, tiers::Tier::T5Recovery);
        assert_eq!(p.rules.last().unwrap().tier, tiers::Tier::T0Current);
    }

    #[test]
    fn bucket_edges() {
        let p = Policy::default();
        let cases = [
            (0, "M0"),
            (1, "M1"),
            (30, "M1"),
            (31, "M2"),
            (60, "M2"),
            (61, "M3"),
            (90, "M3"),
            (91, "M4"),
            (120, "M4"),
            (121, "M5"),
            (150, "M5"),
            (151, "M6"),
            (180, "M6"),
            (181, "M6+"),
            (5000, "M6+"),
        ];
        for (dpd, want) in cases {
            assert_eq!(p.bucket(Status::Active, dpd).label(), want, "dpd {dpd}");
        }
        assert_eq!(p.bucket(Status::ChargedOff, 0), Bucket::Wo);
        assert_eq!(p.bucket(Status::PaidOff, 40), Bucket::Paid);
    }

    #[test]
    fn class_edges() {
        let p = Policy::default();
        let c = |dpd, plan| p.class(Status::Active, dpd, plan).unwrap().label();
        assert_eq!(c(0, PlanStatus::None), "normal");
        assert_eq!(c(1, PlanStatus::None), "special_mention");
        assert_eq!(c(90, PlanStatus::None), "special_mention");
        assert_eq!(c(91, PlanStatus::None), "substandard");
        assert_eq!(c(270, PlanStatus::None), "substandard");
        assert_eq!(c(271, PlanStatus::None), "doubtful");
        assert_eq!(c(360, PlanStatus::None), "doubtful");
        assert_eq!(c(361, PlanStatus::None), "loss");
        assert_eq!(c(0, PlanStatus::Active), "special_mention");
        assert_eq!(c(0, PlanStatus::Completed), "special_mention");
        assert_eq!(c(0, PlanStatus::Broken), "substandard");
        assert_eq!(c(300, PlanStatus::Broken), "doubtful");
        assert_eq!(
            p.class(Status::ChargedOff, 0, PlanStatus::None),
            Some(Class::Loss)
        );
        assert_eq!(p.class(Status::PaidOff, 0, PlanStatus::Broken), None);
    }
}
