//! What earlier runs under `--output` published that a run uses: the tiers
//! and arms of the comparison dates, from those runs' own worklists.

use std::path::Path;

use chrono::NaiveDate;

use crate::figures::NoWorklist;
use crate::history;
use crate::input::partitions::Part;
use crate::input::snapshot::Snapshot;
use crate::output::published::Published;

/// What earlier runs under `--output` published that this run uses: the
/// tiers of the comparison dates from their own worklists.
#[derive(Debug, Default)]
pub struct EarlierRuns {
    pub worklists: Vec<(
        NaiveDate,
        std::result::Result<history::WorklistTiers, NoWorklist>,
    )>,
}

impl EarlierRuns {
    /// Reads the worklists of the comparison dates. Never fails the run: an
    /// unreadable worklist is a reason to compute those tiers from the
    /// snapshot instead, and the report says so.
    pub fn read(output: &Path, dates: impl Iterator<Item = NaiveDate>) -> EarlierRuns {
        let published = Published::new(output);
        EarlierRuns {
            worklists: dates
                .map(|d| {
                    let w = match history::worklist_tiers(&published, d) {
                        Ok(Some(w)) => Ok(w),
                        Ok(None) => Err(NoWorklist::NoRun),
                        Err(e) => Err(NoWorklist::Unusable(format!("{e:#}"))),
                    };
                    (d, w)
                })
                .collect(),
        }
    }

    /// The earlier date's tiers and arms of every row of `snap` (the loans
    /// of `part`) from that run's worklist, or why not.
    pub(crate) fn tiers(
        &self,
        snap: &Snapshot,
        part: &Part,
    ) -> std::result::Result<history::EarlierTiers, NoWorklist> {
        match self.worklists.iter().find(|(d, _)| *d == snap.date) {
            None => Err(NoWorklist::NoRun),
            Some((_, Err(why))) => Err(why.clone()),
            Some((_, Ok(w))) => w.for_part(snap, part).map_err(|e| {
                NoWorklist::Unusable(format!(
                    "the worklist of {} does not match its snapshot: {e}",
                    snap.date
                ))
            }),
        }
    }

    /// Stops using the worklist of `date` (it did not match its snapshot
    /// in some partition), for the rerun of every partition.
    pub fn reject(&mut self, date: NaiveDate, why: NoWorklist) {
        for (d, w) in &mut self.worklists {
            if *d == date {
                *w = Err(why.clone());
            }
        }
    }

    /// Whether the worklist of `date` is in use.
    pub fn usable(&self, date: NaiveDate) -> bool {
        self.worklists.iter().any(|(d, w)| *d == date && w.is_ok())
    }
}
