//! The states a loan can be in on a business date: its contractual `status`,
//! its repayment-plan status, its delinquency bucket (the Chinese
//! M-convention) and its regulatory five-category class.
//!
//! Inside the engine every state is a small `u8`-sized enum so that hot loops
//! index arrays instead of comparing strings; the labels below are the only
//! place where the contract's spellings live.

use serde::Serialize;

/// Contractual status of a loan (`status` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Status {
    Active = 0,
    PaidOff = 1,
    ChargedOff = 2,
}

impl Status {
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "active" => Some(Status::Active),
            "paid_off" => Some(Status::PaidOff),
            "charged_off" => Some(Status::ChargedOff),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::PaidOff => "paid_off",
            Status::ChargedOff => "charged_off",
        }
    }
    pub const ACCEPTED: &'static str = "active, paid_off, charged_off";
}

/// Negotiated repayment plan (`plan_status` column); null reads as `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum PlanStatus {
    None = 0,
    Active = 1,
    Completed = 2,
    Broken = 3,
}

impl PlanStatus {
    pub fn parse(s: &str) -> Option<PlanStatus> {
        match s {
            "none" => Some(PlanStatus::None),
            "active" => Some(PlanStatus::Active),
            "completed" => Some(PlanStatus::Completed),
            "broken" => Some(PlanStatus::Broken),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            PlanStatus::None => "none",
            PlanStatus::Active => "active",
            PlanStatus::Completed => "completed",
            PlanStatus::Broken => "broken",
        }
    }
    pub const ACCEPTED: &'static str = "none, active, completed, broken (or null)";
}

/// Number of delinquency buckets, `M0` ..= `PAID`.
pub const BUCKETS: usize = 10;

/// Delinquency bucket. The discriminant is the bucket's position in every
/// table and matrix, in the order a risk manager reads them: current, the
/// delinquent buckets from mildest to worst, then the two terminal states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[repr(u8)]
pub enum Bucket {
    M0 = 0,
    M1 = 1,
    M2 = 2,
    M3 = 3,
    M4 = 4,
    M5 = 5,
    M6 = 6,
    M6Plus = 7,
    Wo = 8,
    Paid = 9,
}

impl Bucket {
    pub const ALL: [Bucket; BUCKETS] = [
        Bucket::M0,
        Bucket::M1,
        Bucket::M2,
        Bucket::M3,
        Bucket::M4,
        Bucket::M5,
        Bucket::M6,
        Bucket::M6Plus,
        Bucket::Wo,
        Bucket::Paid,
    ];
    /// The active buckets, current through `M6+`.
    pub const ACTIVE: [Bucket; 8] = [
        Bucket::M0,
        Bucket::M1,
        Bucket::M2,
        Bucket::M3,
        Bucket::M4,
        Bucket::M5,
        Bucket::M6,
        Bucket::M6Plus,
    ];

    pub fn from_index(i: usize) -> Bucket {
        Bucket::ALL[i]
    }
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn label(self) -> &'static str {
        match self {
            Bucket::M0 => "M0",
            Bucket::M1 => "M1",
            Bucket::M2 => "M2",
            Bucket::M3 => "M3",
            Bucket::M4 => "M4",
            Bucket::M5 => "M5",
            Bucket::M6 => "M6",
            Bucket::M6Plus => "M6+",
            Bucket::Wo => "WO",
            Bucket::Paid => "PAID",
        }
    }
    /// Active and at least one day past due (`M1` .. `M6+`).
    pub fn is_delinquent(self) -> bool {
        matches!(self as u8, 1..=7)
    }
    /// Severity rank used for "moving to a worse bucket": the active buckets
    /// in order, charge-off worst of all. `PAID` has no rank (it is an exit
    /// for the good).
    pub fn severity(self) -> Option<u8> {
        match self {
            Bucket::Paid => None,
            b => Some(b as u8),
        }
    }
}

/// Number of five-category classes.
pub const CLASSES: usize = 5;

/// Regulatory five-category class (五级分类). Ordered by severity so that
/// "at least special mention" is a `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[repr(u8)]
pub enum Class {
    Normal = 0,
    SpecialMention = 1,
    Substandard = 2,
    Doubtful = 3,
    Loss = 4,
}

impl Class {
    pub const ALL: [Class; CLASSES] = [
        Class::Normal,
        Class::SpecialMention,
        Class::Substandard,
        Class::Doubtful,
        Class::Loss,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Class::Normal => "normal",
            Class::SpecialMention => "special_mention",
            Class::Substandard => "substandard",
            Class::Doubtful => "doubtful",
            Class::Loss => "loss",
        }
    }
    /// Non-performing: substandard, doubtful or loss.
    pub fn is_npl(self) -> bool {
        self >= Class::Substandard
    }
}

/// Sentinel class code for loans outside the book (paid off).
pub const NO_CLASS: u8 = u8::MAX;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip() {
        for s in ["active", "paid_off", "charged_off"] {
            assert_eq!(Status::parse(s).unwrap().label(), s);
        }
        for s in ["none", "active", "completed", "broken"] {
            assert_eq!(PlanStatus::parse(s).unwrap().label(), s);
        }
        assert_eq!(Status::parse("Active"), None);
        for (i, b) in Bucket::ALL.iter().enumerate() {
            assert_eq!(b.index(), i);
        }
    }

    #[test]
    fn delinquent_buckets() {
        let d: Vec<_> = Bucket::ALL
            .iter()
            .filter(|b| b.is_delinquent())
            .map(|b| b.label())
            .collect();
        assert_eq!(d, ["M1", "M2", "M3", "M4", "M5", "M6", "M6+"]);
        assert!(Class::Substandard.is_npl() && !Class::SpecialMention.is_npl());
    }
}
