//! The recovery and contact tables (schemas: README, "Output tables"):
//! `collections`, `recovery_cohorts`, `vintage`, `plans`, `legal_pipeline`,
//! `credit_repair`, `channels`, `promises` and `compliance`. Built from
//! [`Figures`] alone, in a fixed row order so reruns are byte-identical.

use std::sync::Arc;

use anyhow::Result;
use arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, StringArray,
    TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, TimeUnit};
use arrow::record_batch::RecordBatch;

use crate::base::calendar::date32;
use crate::figures::Figures;
use crate::input::contacts::Channel;
use crate::input::snapshot::LoanIds;
use crate::metrics::rates::wilson;
use crate::metrics::recovery::{month_label, FROM_NEW, FROM_STATES, FROM_UNKNOWN, TIER_STATES};
use crate::output::columns::{batch, dates, field, label, money_type, Money};
use crate::policy::tiers::{Tier, TIERS};
use crate::policy::Profile;
use crate::states::{Bucket, PlanStatus};

/// A table under construction: named columns in order.
#[derive(Default)]
pub(crate) struct Columns {
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
}

impl Columns {
    pub(crate) fn new(f: &Figures, rows: usize) -> Columns {
        let mut c = Columns::default();
        c.push(
            field("as_of_date", DataType::Date32, false),
            dates(f.as_of, rows),
        );
        c
    }
    /// [`Columns::new`] and then `from_date`, the `1m` date (null without
    /// one): the start of the tables that look a month back (forecast,
    /// experiments).
    pub(crate) fn new_from_1m(f: &Figures, rows: usize) -> Columns {
        let mut c = Columns::new(f, rows);
        let from_date = f
            .period("1m")
            .map(|p| crate::base::calendar::date32(p.from_date));
        c.push(
            field("from_date", DataType::Date32, true),
            Arc::new(arrow::array::Date32Array::from(vec![from_date; rows])),
        );
        c
    }
    pub(crate) fn push(&mut self, f: Field, a: ArrayRef) {
        self.fields.push(f);
        self.arrays.push(a);
    }
    /// A Utf8 column; `nullable` is part of the schema, whatever the rows.
    pub(crate) fn text<S: AsRef<str>>(&mut self, name: &str, nullable: bool, v: Vec<Option<S>>) {
        let a = StringArray::from_iter(v.iter().map(|x| x.as_ref().map(|s| s.as_ref())));
        self.push(field(name, DataType::Utf8, nullable), Arc::new(a));
    }
    pub(crate) fn count(&mut self, name: &str, v: Vec<u64>) {
        let a = Int64Array::from_iter_values(v.into_iter().map(|x| x as i64));
        self.push(field(name, DataType::Int64, false), Arc::new(a));
    }
    pub(crate) fn money(
        &mut self,
        name: &'static str,
        nullable: bool,
        v: Vec<Option<i128>>,
    ) -> Result<()> {
        let mut m = Money::new(name);
        for x in v {
            match x {
                Some(c) => m.push(c)?,
                None => m.push_null(),
            }
        }
        self.push(field(name, money_type(), nullable), m.finish());
        Ok(())
    }
    pub(crate) fn float(&mut self, name: &str, v: Vec<Option<f64>>) {
        self.push(
            field(name, DataType::Float64, true),
            Arc::new(Float64Array::from(v)),
        );
    }
    /// A count-basis rate with its Wilson interval: `name`, `name_ci_low`, `name_ci_high`.
    pub(crate) fn rate(&mut self, name: &str, pairs: &[(u64, u64)]) {
        let value = pairs
            .iter()
            .map(|&(k, n)| (n > 0).then(|| k as f64 / n as f64))
            .collect();
        let ci: Vec<Option<(f64, f64)>> = pairs.iter().map(|&(k, n)| wilson(k, n)).collect();
        self.float(name, value);
        self.float(
            &format!("{name}_ci_low"),
            ci.iter().map(|c| c.map(|x| x.0)).collect(),
        );
        self.float(
            &format!("{name}_ci_high"),
            ci.iter().map(|c| c.map(|x| x.1)).collect(),
        );
    }
    pub(crate) fn ids(&mut self, name: &str, ids: &LoanIds) {
        let a: ArrayRef = match ids {
            LoanIds::Int(v) => Arc::new(Int64Array::from(v.clone())),
            LoanIds::Str { .. } => Arc::new(StringArray::from_iter_values(
                (0..ids.len()).map(|r| String::from_utf8_lossy(ids.str_bytes(r)).into_owned()),
            )),
        };
        let t = a.data_type().clone();
        self.push(field(name, t, false), a);
    }
    pub(crate) fn finish(self) -> Result<RecordBatch> {
        batch(self.fields, self.arrays)
    }
}

/// A money total that is always present.
fn some(v: impl Iterator<Item = i128>) -> Vec<Option<i128>> {
    v.map(Some).collect()
}

fn bucket_label(b: u8) -> &'static str {
    Bucket::from_index(b as usize).label()
}

/// `collections`: cash and cures by bucket at `prev` x tier today,
/// non-empty cells. `from_bucket` is `NEW` for loans not in the `prev`
/// snapshot and null when there is no `prev` snapshot; `tier` is null for
/// loans paid off (they have no tier).
pub fn collections(f: &Figures) -> Result<RecordBatch> {
    let r = &f.recovery;
    let from_date = f.period("prev").map(|p| date32(p.from_date));
    let mut cells = Vec::new();
    for from in 0..FROM_STATES {
        for tier in 0..TIER_STATES {
            let c = r.cell(from, tier);
            if c.loans > 0 {
                cells.push((from, tier, *c));
            }
        }
    }
    let mut t = Columns::new(f, cells.len());
    t.push(
        field("from_date", DataType::Date32, from_date.is_none()),
        Arc::new(Date32Array::from(vec![from_date; cells.len()])),
    );
    t.text(
        "from_bucket",
        true,
        cells
            .iter()
            .map(|&(from, _, _)| match from {
                FROM_UNKNOWN => None,
                FROM_NEW => Some("NEW"),
                b => Some(Bucket::from_index(b).label()),
            })
            .collect(),
    );
    t.text(
        "tier",
        true,
        cells
            .iter()
            .map(|&(_, tier, _)| (tier < TIERS).then(|| Tier::ALL[tier].label()))
            .collect(),
    );
    t.count("loans", cells.iter().map(|c| c.2.loans).collect());
    t.count(
        "paying_loans",
        cells.iter().map(|c| c.2.paying_loans).collect(),
    );
    t.money(
        "cash_collected",
        false,
        some(cells.iter().map(|c| c.2.cash)),
    )?;
    t.count(
        "cured_loans",
        cells.iter().map(|c| c.2.cured_loans).collect(),
    );
    t.money(
        "cured_balance",
        false,
        some(cells.iter().map(|c| c.2.cured_balance)),
    )?;
    t.finish()
}

/// `recovery_cohorts`: charged-off loans by month of `charge_off_date`.
pub fn recovery_cohorts(f: &Figures) -> Result<RecordBatch> {
    let rows: Vec<_> = f.recovery.cohorts.iter().collect();
    let mut t = Columns::new(f, rows.len());
    t.text(
        "charge_off_month",
        true,
        rows.iter().map(|(m, _)| m.map(month_label)).collect(),
    );
    t.count("loans", rows.iter().map(|(_, c)| c.loans).collect());
    t.money(
        "charge_off_amount",
        false,
        some(rows.iter().map(|(_, c)| c.charge_off_amount)),
    )?;
    t.money(
        "recovered_to_date",
        false,
        some(rows.iter().map(|(_, c)| c.recovered_to_date)),
    )?;
    t.money(
        "recovered_today",
        true,
        rows.iter().map(|(_, c)| c.recovered_today).collect(),
    )?;
    t.float(
        "recovery_rate",
        rows.iter()
            .map(|(_, c)| {
                (c.charge_off_amount > 0)
                    .then(|| c.recovered_to_date as f64 / c.charge_off_amount as f64)
            })
            .collect(),
    );
    t.finish()
}

/// `vintage`: every loan of the run date by origination month, at its
/// months on book.
pub fn vintage(f: &Figures) -> Result<RecordBatch> {
    let rows: Vec<_> = f.recovery.vintage.iter().collect();
    let mut t = Columns::new(f, rows.len());
    t.text(
        "origination_month",
        false,
        rows.iter().map(|(&m, _)| Some(month_label(m))).collect(),
    );
    t.push(
        field("months_on_book", DataType::Int32, false),
        Arc::new(Int32Array::from_iter_values(
            rows.iter().map(|(_, v)| v.months_on_book),
        )),
    );
    t.count("loans", rows.iter().map(|(_, v)| v.loans).collect());
    t.money(
        "original_principal",
        false,
        some(rows.iter().map(|(_, v)| v.original_principal)),
    )?;
    t.money(
        "principal_balance",
        false,
        some(rows.iter().map(|(_, v)| v.principal_balance)),
    )?;
    t.money(
        "dpd30_balance",
        false,
        some(rows.iter().map(|(_, v)| v.dpd30_balance)),
    )?;
    t.money(
        "dpd90_balance",
        false,
        some(rows.iter().map(|(_, v)| v.dpd90_balance)),
    )?;
    t.money(
        "charge_off_amount",
        false,
        some(rows.iter().map(|(_, v)| v.charge_off_amount)),
    )?;
    t.finish()
}

const PLAN_STATUSES: [PlanStatus; 4] = [
    PlanStatus::None,
    PlanStatus::Active,
    PlanStatus::Completed,
    PlanStatus::Broken,
];

/// `plans`: every loan of the run date by `plan_status` (null read as
/// `none`), all four statuses listed. Plan cure and broken-plan rates are
/// in `rates` (period `1m`, state `active_plan`).
pub fn plans(f: &Figures) -> Result<RecordBatch> {
    let g = &f.recovery.plans;
    let mut t = Columns::new(f, PLAN_STATUSES.len());
    t.text(
        "plan_status",
        false,
        PLAN_STATUSES.iter().map(|p| Some(p.label())).collect(),
    );
    t.count("loans", g.iter().map(|x| x.tally.loans).collect());
    t.money(
        "principal_balance",
        false,
        some(g.iter().map(|x| x.tally.balance)),
    )?;
    t.money(
        "past_due_amount",
        false,
        some(g.iter().map(|x| x.tally.past_due)),
    )?;
    t.money("cash_collected", false, some(g.iter().map(|x| x.cash)))?;
    t.finish()
}

/// `legal_pipeline`: every loan of the run date by `legal_stage` (null kept).
pub fn legal_pipeline(f: &Figures) -> Result<RecordBatch> {
    let rows: Vec<(usize, _)> = f
        .recovery
        .legal
        .iter()
        .enumerate()
        .filter(|(_, g)| g.tally.loans > 0)
        .collect();
    let mut t = Columns::new(f, rows.len());
    t.text(
        "legal_stage",
        true,
        rows.iter()
            .map(|&(k, _)| label(&f.labels.legal, k))
            .collect(),
    );
    t.count("loans", rows.iter().map(|(_, g)| g.tally.loans).collect());
    t.money(
        "principal_balance",
        false,
        some(rows.iter().map(|(_, g)| g.tally.balance)),
    )?;
    t.money(
        "past_due_amount",
        false,
        some(rows.iter().map(|(_, g)| g.tally.past_due)),
    )?;
    t.money(
        "cash_collected",
        false,
        some(rows.iter().map(|(_, g)| g.cash)),
    )?;
    t.finish()
}

/// `credit_repair`: loans delinquent at `prev` or `1m` that are now `M0` or
/// `PAID` with nothing past due, in snapshot row order.
pub fn credit_repair(f: &Figures) -> Result<RecordBatch> {
    let rows = &f.recovery.credit_repair;
    let mut t = Columns::new(f, rows.len());
    t.ids("loan_id", &f.credit_repair_ids);
    t.text(
        "bucket",
        false,
        rows.iter().map(|r| Some(bucket_label(r.bucket))).collect(),
    );
    t.text(
        "prev_bucket",
        true,
        rows.iter()
            .map(|r| r.prev_bucket.map(bucket_label))
            .collect(),
    );
    t.text(
        "m1_bucket",
        true,
        rows.iter().map(|r| r.m1_bucket.map(bucket_label)).collect(),
    );
    t.text(
        "product",
        false,
        rows.iter()
            .map(|r| label(&f.labels.product, r.product as usize))
            .collect(),
    );
    t.text(
        "region",
        true,
        rows.iter()
            .map(|r| label(&f.labels.region, r.region as usize))
            .collect(),
    );
    t.money(
        "principal_balance",
        false,
        some(rows.iter().map(|r| r.balance as i128)),
    )?;
    t.money(
        "paid_amount",
        false,
        some(rows.iter().map(|r| r.paid as i128)),
    )?;
    t.finish()
}

/// `channels`: the run date's contacts per channel, every channel listed.
pub fn channels(f: &Figures) -> Result<RecordBatch> {
    let s = &f.channels;
    let mut t = Columns::new(f, s.len());
    t.text(
        "channel",
        false,
        Channel::ALL.iter().map(|c| Some(c.label())).collect(),
    );
    t.count("contacts", s.iter().map(|x| x.contacts).collect());
    t.count("attempts", s.iter().map(|x| x.attempts).collect());
    t.count(
        "loans_contacted",
        s.iter().map(|x| x.loans_contacted).collect(),
    );
    t.count("loans_reached", s.iter().map(|x| x.loans_reached).collect());
    t.count("rpc", s.iter().map(|x| x.rpc).collect());
    t.count("ptp", s.iter().map(|x| x.ptp).collect());
    t.money("ptp_amount", false, some(s.iter().map(|x| x.ptp_amount)))?;
    t.rate(
        "rpc_rate",
        &s.iter().map(|x| x.rpc_rate()).collect::<Vec<_>>(),
    );
    t.rate(
        "ptp_rate",
        &s.iter().map(|x| x.ptp_rate()).collect::<Vec<_>>(),
    );
    t.finish()
}

/// `promises`: promises due in D-6..D and open ones (due after D), by due date.
pub fn promises(f: &Figures) -> Result<RecordBatch> {
    let p = &f.promises;
    let mut t = Columns::new(f, p.len());
    t.push(
        field("due_date", DataType::Date32, false),
        Arc::new(Date32Array::from_iter_values(p.iter().map(|d| d.due_date))),
    );
    t.count("promises", p.iter().map(|d| d.promises).collect());
    t.count("due", p.iter().map(|d| d.due).collect());
    t.count("kept", p.iter().map(|d| d.kept).collect());
    t.count("broken", p.iter().map(|d| d.broken).collect());
    t.count("open", p.iter().map(|d| d.open).collect());
    t.money(
        "promised_amount",
        false,
        some(p.iter().map(|d| d.promised_amount)),
    )?;
    t.money("kept_amount", false, some(p.iter().map(|d| d.kept_amount)))?;
    t.money("paid_amount", false, some(p.iter().map(|d| d.paid_amount)))?;
    t.rate(
        "kept_rate",
        &p.iter().map(|d| (d.kept, d.due)).collect::<Vec<_>>(),
    );
    t.finish()
}

pub fn profile_label(p: Profile) -> &'static str {
    match p {
        Profile::Cn => "cn",
        Profile::UsRegF => "us_reg_f",
    }
}

/// `compliance`: one row per exception of the run date's contacts.
pub fn compliance(f: &Figures) -> Result<RecordBatch> {
    let x = &f.compliance;
    let n = x.rows.len();
    let mut t = Columns::new(f, n);
    t.ids("contact_id", &x.contact_ids);
    t.ids("loan_id", &x.loan_ids);
    t.text("profile", false, vec![Some(profile_label(x.profile)); n]);
    t.text(
        "rule",
        false,
        x.rows.iter().map(|r| Some(r.rule.label())).collect(),
    );
    t.text(
        "detail",
        false,
        x.rows.iter().map(|r| Some(r.detail.as_str())).collect(),
    );
    t.text(
        "channel",
        false,
        x.rows.iter().map(|r| Some(r.channel.label())).collect(),
    );
    let agents: Vec<Option<&str>> = x.rows.iter().map(|r| r.agent.as_deref()).collect();
    // agent_id is nullable in the contract: keep the column nullable always.
    t.push(
        field("agent_id", DataType::Utf8, true),
        Arc::new(StringArray::from(agents)),
    );
    t.push(
        // Borrower-local wall-clock time: no zone, as the contract's own
        // zone-less timestamps.
        Field::new(
            "contact_ts_local",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        ),
        Arc::new(TimestampMillisecondArray::from_iter_values(
            x.rows.iter().map(|r| r.local_ts),
        )),
    );
    t.finish()
}
