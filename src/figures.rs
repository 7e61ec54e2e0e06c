//! `Figures`: everything one run computed, the single result model that the
//! Parquet tables, the manifest and the report are all built from.

use chrono::NaiveDate;

use crate::checks::Check;
use crate::input::snapshot::LoanIds;
use crate::metrics::book::{BookTally, Headline};
use crate::metrics::channels::ChannelStats;
use crate::metrics::collateral::CollateralBook;
use crate::metrics::compliance::Exceptions;
use crate::metrics::promises::PromiseDay;
use crate::metrics::rates::Rate;
use crate::metrics::recovery::Recovery;
use crate::metrics::tally::Tally;
use crate::metrics::transitions::Matrix;
use crate::states::BUCKETS;

/// A comparison period that had a snapshot.
#[derive(Clone, Debug)]
pub struct Period {
    /// `prev` or `1m`.
    pub name: &'static str,
    pub from_date: NaiveDate,
    /// Bucket transition matrix from `from_date` to the run date.
    pub buckets: Matrix,
    /// Roll-forward, cure, entry (and for `1m`, flow) rates.
    pub rates: Vec<Rate>,
    /// Headline of the earlier snapshot, for "change since".
    pub headline: Headline,
    /// Recoveries on charged-off loans over the period, cents.
    pub recovered: i128,
    /// Collection tier transition matrix (tiers, then `PAID`; `NEW`/`EXIT`).
    pub tiers: Matrix,
    /// Where the earlier date's tiers of that matrix came from.
    pub tiers_from: TierSource,
    /// The tier transitions of each experiment arm (v2): the loans in the
    /// arm on either date, sorted by experiment and arm.
    pub tier_arms: Vec<crate::metrics::experiments::ArmMatrix>,
    /// Why DPD30+ and NPL moved since `from_date` (v2), per metric and
    /// dimension.
    pub drivers: Vec<crate::metrics::drivers::Split>,
}

/// Where an earlier date's tiers come from, for the tier transitions.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TierSource {
    /// The worklist that the run of that date published: exact.
    Worklist,
    /// Computed from that date's snapshot alone (the look-back signals and
    /// the contact-based conditions not evaluated), because the earlier
    /// worklist could not be used: why.
    Snapshot(NoWorklist),
}

/// Why an earlier run's worklist was not used.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NoWorklist {
    /// No published run of that date under the output.
    NoRun,
    /// A run of that date, but its worklist is unreadable or does not
    /// match the snapshot (the detail, for data engineers).
    Unusable(String),
}

impl TierSource {
    /// `worklist` or `snapshot`, as the manifest says it.
    pub fn label(&self) -> &'static str {
        match self {
            TierSource::Worklist => "worklist",
            TierSource::Snapshot(_) => "snapshot",
        }
    }
}

/// Labels of the dimension codes used in [`BookTally`].
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DimLabels {
    pub product: Vec<Option<String>>,
    pub region: Vec<Option<String>>,
    pub grade: Vec<Option<String>>,
    pub legal: Vec<Option<String>>,
}

/// All figures of one run date.
#[derive(Clone, Debug)]
pub struct Figures {
    pub as_of: NaiveDate,
    /// Optional columns the run date's book lacks: sections that depend
    /// only on them are "not available".
    pub columns: crate::input::snapshot::OptionalColumns,
    pub labels: DimLabels,
    pub book: BookTally,
    pub by_bucket: [Tally; BUCKETS],
    pub headline: Headline,
    /// Book ratios as rates (period `current`).
    pub current_rates: Vec<Rate>,
    /// Available periods, `prev` before `1m`.
    pub periods: Vec<Period>,
    /// Periods without a snapshot ("not available").
    pub unavailable: Vec<&'static str>,
    pub checks: Vec<Check>,
    /// Tiers by rule, early warning by signal, product and region.
    pub strategy_summary: crate::metrics::strategy::Summary,
    /// The champion / challenger cohorts (v2): per experiment and arm, the
    /// bucket transitions from `1m` of the loans the `1m` run's worklist
    /// put in that arm. `None`: not available (no `1m` date, or its run
    /// published no worklist with arms).
    pub experiments: Option<Vec<crate::metrics::experiments::ArmMatrix>>,
    /// The secured book by product, CLTV band, bucket and route.
    pub collateral: CollateralBook,
    pub contacts: ContactSummary,
    /// Collections, cohorts, vintages, plans, legal pipeline, credit repair.
    pub recovery: Recovery,
    /// Loan ids of `recovery.credit_repair`, in its order.
    pub credit_repair_ids: LoanIds,
    /// Per channel (in `Channel::ALL` order), the run date's contacts.
    pub channels: Vec<ChannelStats>,
    /// Promises due in D-6..D or open, by due date.
    pub promises: Vec<PromiseDay>,
    pub compliance: Exceptions,
    /// How long each step of the computation took (manifest timings).
    pub compute_steps: Vec<crate::base::timing::Timing>,
    /// The run-off forecast of the book, per method and basis (empty
    /// without a `1m` period).
    pub forecast: Vec<crate::metrics::forecast::Projection>,
    /// What the run of the `1m` date forecast for today, against today.
    pub backtest: Option<crate::metrics::forecast::Backtest>,
}

/// What the contacts of the window amounted to.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ContactSummary {
    /// Contacts of the run date whose loan is not in its snapshot.
    pub orphans: usize,
    pub promises_due: usize,
    pub promises_kept: usize,
    /// Promises due after the run date.
    pub promises_open: usize,
    /// Contacts logged on the run date.
    pub today: usize,
}

impl Figures {
    pub fn period(&self, name: &str) -> Option<&Period> {
        self.periods.iter().find(|p| p.name == name)
    }

    /// Why the champion / challenger evaluation is not available, as a
    /// code (the manifest's `experiments.not_evaluated`; the report words
    /// it), or `None` when it is.
    pub fn experiments_unavailable(&self) -> Option<&'static str> {
        match (self.period("1m"), &self.experiments) {
            // The `1m` worklist has arm columns but no loan in any arm.
            (_, Some(v)) if v.is_empty() => Some("no_arms_in_1m_worklist"),
            (_, Some(_)) => None,
            (None, None) => Some("no_1m_date"),
            (Some(p), None) if p.tiers_from != TierSource::Worklist => Some("no_1m_worklist"),
            (Some(_), None) => Some("no_arms_in_1m_worklist"),
        }
    }

    /// The run's own `prev` night: its from date and bucket transitions
    /// without `NEW`, the last link of the month's duration chain
    /// (`History::month_chain`).
    pub fn prev_night(&self) -> Option<(NaiveDate, crate::metrics::duration::NightCounts)> {
        use crate::metrics::duration::{NightCounts, STATES};
        let p = self.period("prev")?;
        let mut n: NightCounts = [[0; STATES]; STATES];
        for (i, row) in n.iter_mut().enumerate().take(crate::states::BUCKETS) {
            for (j, c) in row.iter_mut().enumerate() {
                *c = p.buckets.cell(i, j).loans;
            }
        }
        Some((p.from_date, n))
    }
}
