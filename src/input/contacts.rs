//! Reads the `contacts` partitions of a date window (data-contract.md): one
//! row per collection action. A missing partition means "no contacts
//! logged that day". Schemas are checked like the loans'; values that break
//! the contract (null ids, unknown outcomes) are bad input naming the file,
//! column and rows.
//!
//! Only the columns the strategy needs are decoded here: the loan, the
//! outcome and the promise (amount and date).

use std::collections::BTreeSet;
use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, Result};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Date32Type};
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use crate::error::bad_input;
use crate::input::columns::{self, LocalDim, Offenders};
use crate::input::discovery::Catalog;
use crate::input::schema::{self, Accepts, ColumnSpec};
use crate::input::snapshot::LoanIds;

/// The `contacts` table of the contract.
pub const CONTACTS: &[ColumnSpec] = &[
    ColumnSpec {
        name: "contact_id",
        accepts: Accepts::Id,
        nullable: false,
    },
    ColumnSpec {
        name: "loan_id",
        accepts: Accepts::Id,
        nullable: false,
    },
    ColumnSpec {
        name: "contact_ts",
        accepts: Accepts::Timestamp,
        nullable: false,
    },
    ColumnSpec {
        name: "channel",
        accepts: Accepts::Text,
        nullable: false,
    },
    ColumnSpec {
        name: "outcome",
        accepts: Accepts::Text,
        nullable: false,
    },
    ColumnSpec {
        name: "ptp_amount",
        accepts: Accepts::Money,
        nullable: true,
    },
    ColumnSpec {
        name: "ptp_date",
        accepts: Accepts::Date,
        nullable: true,
    },
    ColumnSpec {
        name: "agent_id",
        accepts: Accepts::Text,
        nullable: true,
    },
];

const DECODED: &[&str] = &["loan_id", "outcome", "ptp_amount", "ptp_date"];

/// What a contact achieved (data-contract.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    NoAnswer,
    RightPartyContact,
    ThirdPartyContact,
    PromiseToPay,
    Refused,
    WrongNumber,
    Paid,
}

impl Outcome {
    pub const ALL: [Outcome; 8] = [
        Outcome::Sent,
        Outcome::NoAnswer,
        Outcome::RightPartyContact,
        Outcome::ThirdPartyContact,
        Outcome::PromiseToPay,
        Outcome::Refused,
        Outcome::WrongNumber,
        Outcome::Paid,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::NoAnswer => "no_answer",
            Outcome::RightPartyContact => "right_party_contact",
            Outcome::ThirdPartyContact => "third_party_contact",
            Outcome::PromiseToPay => "promise_to_pay",
            Outcome::Refused => "refused",
            Outcome::WrongNumber => "wrong_number",
            Outcome::Paid => "paid",
        }
    }
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.label() == s)
    }
}

/// Contacts of a window, one entry per row, in (date, file, row) order.
#[derive(Debug)]
pub struct Contacts {
    /// Partition date of each contact, days since 1970-01-01.
    pub date: Vec<i32>,
    pub ids: LoanIds,
    pub outcome: Vec<Outcome>,
    /// Promised amount, cents; null as `NULL_MONEY`.
    pub ptp_amount: Vec<i64>,
    /// Promised date, days; null as `i32::MIN`.
    pub ptp_date: Vec<i32>,
    /// Files read with their row counts.
    pub files: Vec<(PathBuf, usize)>,
}

impl Contacts {
    pub fn len(&self) -> usize {
        self.outcome.len()
    }
    pub fn is_empty(&self) -> bool {
        self.outcome.is_empty()
    }
}

fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// Reads every contacts partition dated `from..=to`. `int_ids` is the
/// loans' id type: contacts must use the same.
pub fn read_window(
    catalog: &Catalog,
    from: NaiveDate,
    to: NaiveDate,
    int_ids: bool,
) -> Result<Contacts> {
    let mut c = Contacts {
        date: Vec::new(),
        ids: if int_ids {
            LoanIds::Int(Vec::new())
        } else {
            LoanIds::empty_str()
        },
        outcome: Vec::new(),
        ptp_amount: Vec::new(),
        ptp_date: Vec::new(),
        files: Vec::new(),
    };
    for part in catalog
        .contacts
        .partitions
        .iter()
        .filter(|p| p.date >= from && p.date <= to)
    {
        for path in &part.files {
            let rows = read_file(path, days(part.date), &mut c)
                .with_context(|| format!("contacts file '{}'", path.display()))?;
            c.files.push((path.clone(), rows));
        }
    }
    Ok(c)
}

fn read_file(path: &PathBuf, date: i32, c: &mut Contacts) -> Result<usize> {
    let file = File::open(path).map_err(|e| bad_input(format!("cannot open: {e}")))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| bad_input(format!("not a readable Parquet file: {e}")))?;
    let problems = schema::check(builder.schema(), CONTACTS);
    if !problems.is_empty() {
        return Err(bad_input(format!(
            "does not follow the contacts contract:\n  - {}",
            problems.join("\n  - ")
        )));
    }
    let id_type = builder
        .schema()
        .field_with_name("loan_id")
        .expect("checked")
        .data_type()
        .clone();
    if (id_type == DataType::Int64) != c.ids.is_int() {
        return Err(bad_input(format!(
            "column 'loan_id' is {id_type} but the loans use {}: one type for both",
            c.ids.type_name()
        )));
    }
    let fields = builder.schema().fields().clone();
    let roots: Vec<usize> = DECODED
        .iter()
        .map(|n| fields.iter().position(|f| f.name() == n).expect("checked"))
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(|e| bad_input(format!("cannot read: {e}")))?;
    let mut base = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| bad_input(format!("cannot be decoded: {e}")))?;
        let col = |n: &str| batch.column_by_name(n).expect("projected");
        columns::push_ids(col("loan_id"), &mut c.ids, "loan_id", base)?;
        columns::require_no_nulls(col("outcome"), "outcome", base)?;
        let mut outcomes = LocalDim::default();
        outcomes.push(col("outcome"), "outcome")?;
        let parsed: Vec<Option<Outcome>> = outcomes
            .labels
            .iter()
            .map(|l| l.as_deref().and_then(Outcome::parse))
            .collect();
        let mut bad = Offenders::default();
        let mut unknown = BTreeSet::new();
        for (i, &code) in outcomes.codes.iter().enumerate() {
            match parsed[code as usize] {
                Some(o) => c.outcome.push(o),
                None => {
                    bad.push(base + i);
                    unknown.insert(format!("{:?}", outcomes.labels[code as usize]));
                }
            }
        }
        bad.check(
            "outcome",
            &format!(
                "an unknown value {} (accepted: {})",
                unknown.into_iter().take(5).collect::<Vec<_>>().join(", "),
                Outcome::ALL.map(|o| o.label()).join(", ")
            ),
        )?;
        columns::push_money_or_null(
            col("ptp_amount"),
            &mut c.ptp_amount,
            "ptp_amount",
            base,
            true,
        )?;
        let d = col("ptp_date").as_primitive::<Date32Type>();
        c.ptp_date
            .extend((0..d.len()).map(|i| if d.is_null(i) { i32::MIN } else { d.value(i) }));
        c.date.extend(std::iter::repeat_n(date, batch.num_rows()));
        base += batch.num_rows();
    }
    Ok(base)
}
