//! `arrears validate`: every input check of a run for its date, reading
//! whole snapshots (issue 29 is to give it the run's partitioned read path,
//! so that its memory follows `--memory-limit` too).

use std::path::Path;

use anyhow::Result;
use chrono::NaiveDate;

use crate::base::calendar::date32;
use crate::fold::ContactInput;
use crate::input::contacts;
use crate::input::discovery::{self, Partition};
use crate::input::reader;
use crate::input::snapshot::Snapshot;
use crate::metrics::{join, promises};
use crate::output::manifest::{Clock, InputFile, InputPartition};
use crate::policy::Policy;

use super::{names, pool, read_promised_paid, window_info};

/// A snapshot and the partition it came from.
struct Loaded {
    role: &'static str,
    snap: Snapshot,
}

fn load(part: &Partition, role: &'static str, policy: &Policy) -> Result<Loaded> {
    Ok(Loaded {
        role,
        snap: reader::read_loans(
            part,
            &policy.columns,
            if role == "as_of" {
                reader::Extent::RunDate
            } else {
                reader::Extent::Comparison
            },
        )?,
    })
}

/// Everything a run reads, every input check passed.
struct Inputs {
    cur: Loaded,
    prev: Option<Loaded>,
    /// `None` also when `1m` is the same snapshot as `prev` (read once).
    m1: Option<Loaded>,
    contact_input: ContactInput,
}

impl Inputs {
    /// The loans snapshots read, run date first.
    fn loaded(&self) -> impl Iterator<Item = &Loaded> {
        std::iter::once(&self.cur)
            .chain(self.prev.iter())
            .chain(self.m1.iter())
    }

    /// Every partition read, as the manifest (and `validate`) lists them.
    fn describe(&self) -> Vec<InputPartition> {
        let mut inputs: Vec<InputPartition> = self.loaded().map(input_info).collect();
        inputs.extend(contacts_info(&self.contact_input, self.cur.snap.date));
        inputs
    }
}

/// Reads and checks the run date's snapshot, the comparison snapshots and
/// the contacts: the same reading, and so the same checks, for `run` and
/// `validate`.
fn read_inputs(
    catalog: &discovery::Catalog,
    dates: &discovery::RunDates,
    policy: &Policy,
    clock: &mut Clock,
) -> Result<Inputs> {
    let cur = load(&dates.as_of, "as_of", policy)?;
    let prev = dates
        .prev
        .as_ref()
        .map(|p| load(p, "prev", policy))
        .transpose()?;
    // On a monthly schedule `1m` and `prev` are the same snapshot: read it once.
    let m1 = match (&dates.month_ago, &prev) {
        (Some(p), Some(pv)) if pv.snap.date == p.date => None,
        (Some(p), _) => Some(load(p, "1m", policy)?),
        (None, _) => None,
    };
    clock.lap("read");
    let contact_input = read_contacts(
        catalog,
        cur.snap.date,
        cur.snap.ids.is_int(),
        prev.as_ref().map(|l| l.snap.date),
        policy,
    )?;
    clock.lap("read contacts");
    Ok(Inputs {
        cur,
        prev,
        m1,
        contact_input,
    })
}

/// The `1m` snapshot, which may be the `prev` one.
fn m1_snapshot<'a>(
    dates: &discovery::RunDates,
    prev: &'a Option<Loaded>,
    m1: &'a Option<Loaded>,
) -> Option<&'a Snapshot> {
    match (&dates.month_ago, prev, m1) {
        (_, _, Some(l)) => Some(&l.snap),
        (Some(_), Some(pv), None) => Some(&pv.snap),
        _ => None,
    }
}

/// What `arrears validate` found: the inputs a run of that date would read,
/// all checks passed.
#[derive(Clone, Debug)]
pub struct Validation {
    pub as_of: NaiveDate,
    pub inputs: Vec<InputPartition>,
    /// Comparison periods without a snapshot (the run reports them "not available").
    pub unavailable: Vec<&'static str>,
    /// Earlier snapshots read only for `paid_amount` (promise keeping).
    pub paid_snapshots: Vec<(NaiveDate, usize)>,
}

/// Runs every input check of `run` for a date (discovery, schemas, types,
/// values, duplicates, partition dates, contacts), without computing
/// figures or writing anything.
pub fn validate(
    input: &Path,
    as_of: Option<NaiveDate>,
    policy: &Policy,
    threads: Option<usize>,
) -> Result<Validation> {
    pool(threads)?.install(|| {
        let catalog = discovery::discover(input)?;
        let dates = discovery::resolve_dates(&catalog, as_of)?;
        let mut clock = Clock::new();
        let i = read_inputs(&catalog, &dates, policy, &mut clock)?;
        // Duplicate ids are found by the join's sort in `run`; the same
        // check here, in the same order (run date first).
        for l in i.loaded() {
            join::check_unique(&l.snap)?;
        }
        let mut unavailable = Vec::new();
        if i.prev.is_none() {
            unavailable.push("prev");
        }
        if m1_snapshot(&dates, &i.prev, &i.m1).is_none() {
            unavailable.push("1m");
        }
        Ok(Validation {
            as_of: i.cur.snap.date,
            inputs: i.describe(),
            unavailable,
            paid_snapshots: i
                .contact_input
                .paid
                .iter()
                .map(|(d, ids, _)| (*d, ids.len()))
                .collect(),
        })
    })
}

/// The contacts window as an input of the manifest (none when no file).
fn contacts_info(c: &ContactInput, as_of: NaiveDate) -> Option<InputPartition> {
    let c = c.contacts.as_ref()?;
    window_info(&c.files, as_of)
}

/// Contacts of D-13..D (promises made up to 13 days ago can fall due in
/// D-6..D) and, when promises are followed (due or open), `paid_amount` of
/// the loans snapshots after the earliest such promise that the run does
/// not read anyway (the run date's and `prev`'s), for the promised loans
/// only.
fn read_contacts(
    catalog: &discovery::Catalog,
    date: NaiveDate,
    int_ids: bool,
    prev: Option<NaiveDate>,
    policy: &Policy,
) -> Result<ContactInput> {
    let from = date - chrono::Days::new(13);
    let contacts =
        contacts::read_window(catalog, from, date, int_ids, policy.compliance.time_zone)?;
    let today = date32(date);
    let promised: Vec<usize> = (0..contacts.len())
        .filter(|&c| promises::followed(&contacts, c, today))
        .collect();
    let paid = read_promised_paid(catalog, date, prev, &contacts.take(&promised), policy)?;
    Ok(ContactInput {
        contacts: Some(contacts),
        paid,
    })
}
fn input_info(l: &Loaded) -> InputPartition {
    InputPartition {
        role: l.role.into(),
        dataset: "loans".into(),
        as_of_date: l.snap.date.to_string(),
        rows: l.snap.len(),
        files: l
            .snap
            .files
            .iter()
            .zip(&l.snap.file_rows)
            .map(|(p, &rows)| InputFile {
                path: p.display().to_string(),
                rows,
            })
            .collect(),
        rounded_money_values: l.snap.rounded_money_values,
        absent_columns: names(&l.snap.columns.absent),
        all_null_columns: names(&l.snap.columns.all_null),
    }
}
