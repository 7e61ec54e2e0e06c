//! The collection policy: every threshold a risk manager may tune. This
//! first version carries the bucket edges and the five-category thresholds
//! with the defaults of `metrics.md`; loading a TOML policy file, tier rules
//! and early-warning signals come with the strategy work.

use crate::states::{Bucket, Class, PlanStatus, Status};

/// Thresholds that turn a loan's status, dpd and plan into a bucket and a class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Upper dpd edge (inclusive) of `M1` .. `M6`; anything above the last is `M6+`.
    pub bucket_upper: [i32; 6],
    /// Highest dpd still `special_mention`.
    pub special_mention_max: i32,
    /// Highest dpd still `substandard`.
    pub substandard_max: i32,
    /// Highest dpd still `doubtful`; above is `loss`.
    pub doubtful_max: i32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            bucket_upper: [30, 60, 90, 120, 150, 180],
            special_mention_max: 90,
            substandard_max: 270,
            doubtful_max: 360,
        }
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
