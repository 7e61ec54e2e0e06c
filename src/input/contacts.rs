//! Reads the `contacts` partitions of a date window (data-contract.md): one
//! row per collection action. A missing partition means "no contacts
//! logged that day". Schemas are checked like the loans'; values that break
//! the contract (null ids, unknown outcomes) are bad input naming the file,
//! column and rows.
//!
//! Every column is decoded. `contact_ts` becomes borrower-local wall-clock
//! time: a timestamp without a zone already is; one with a zone holds a UTC
//! instant (Arrow's rule) and is converted to the policy's zone.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{
    DataType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use crate::base::zone::Zone;
use crate::error::{bad_input, first_error};
use crate::input::columns::{self, LocalDim, Offenders};
use crate::input::discovery::Catalog;
use crate::input::guard;
use crate::input::schema::{self, Accepts, ColumnSpec};
use crate::input::snapshot::LoanIds;

/// The `contacts` table of the contract.
pub const CONTACTS: &[ColumnSpec] = &[
    ColumnSpec {
        name: "contact_id",
        accepts: Accepts::Id,
        nullable: false,
        optional: false,
    },
    ColumnSpec {
        name: "loan_id",
        accepts: Accepts::Id,
        nullable: false,
        optional: false,
    },
    ColumnSpec {
        name: "contact_ts",
        accepts: Accepts::Timestamp,
        nullable: false,
        optional: false,
    },
    ColumnSpec {
        name: "channel",
        accepts: Accepts::Text,
        nullable: false,
        optional: false,
    },
    ColumnSpec {
        name: "outcome",
        accepts: Accepts::Text,
        nullable: false,
        optional: false,
    },
    ColumnSpec {
        name: "ptp_amount",
        accepts: Accepts::Money,
        nullable: true,
        optional: false,
    },
    ColumnSpec {
        name: "ptp_date",
        accepts: Accepts::Date,
        nullable: true,
        optional: false,
    },
    ColumnSpec {
        name: "agent_id",
        accepts: Accepts::Text,
        nullable: true,
        optional: false,
    },
];

const DECODED: &[&str] = &[
    "contact_id",
    "loan_id",
    "contact_ts",
    "channel",
    "outcome",
    "ptp_amount",
    "ptp_date",
    "agent_id",
];

/// How a contact was made (data-contract.md).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Channel {
    Sms,
    AppPush,
    Email,
    Letter,
    Phone,
    FieldVisit,
    Legal,
}

impl Channel {
    pub const ALL: [Channel; 7] = [
        Channel::Sms,
        Channel::AppPush,
        Channel::Email,
        Channel::Letter,
        Channel::Phone,
        Channel::FieldVisit,
        Channel::Legal,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::AppPush => "app_push",
            Channel::Email => "email",
            Channel::Letter => "letter",
            Channel::Phone => "phone",
            Channel::FieldVisit => "field_visit",
            Channel::Legal => "legal",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.label() == s)
    }
    pub fn index(self) -> usize {
        self as usize
    }
    /// metrics.md: SMS and app pushes are "sent", not attempts.
    pub fn is_attempt(self) -> bool {
        !matches!(self, Channel::Sms | Channel::AppPush)
    }
    /// Voice or field: the channels the quiet hours and `not_delinquent` cover.
    pub fn is_voice_or_field(self) -> bool {
        matches!(self, Channel::Phone | Channel::FieldVisit)
    }
}

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
    /// A right-party contact (metrics.md: the RPC numerator, and on the
    /// phone a "conversation" for Reg F).
    pub fn is_rpc(self) -> bool {
        matches!(
            self,
            Outcome::RightPartyContact | Outcome::PromiseToPay | Outcome::Refused | Outcome::Paid
        )
    }
    /// A connected call for the `cn` daily limit: someone answered.
    pub fn is_connect(self) -> bool {
        self.is_rpc() || self == Outcome::ThirdPartyContact
    }
}

/// Contacts of a window, one entry per row, in (date, file, row) order.
#[derive(Debug)]
pub struct Contacts {
    /// Partition date of each contact, days since 1970-01-01.
    pub date: Vec<i32>,
    pub contact_ids: LoanIds,
    pub ids: LoanIds,
    /// Borrower-local wall-clock time, milliseconds since 1970-01-01 00:00 local.
    pub local_ts: Vec<i64>,
    pub channel: Vec<Channel>,
    pub outcome: Vec<Outcome>,
    /// Promised amount, cents; null as `NULL_MONEY`.
    pub ptp_amount: Vec<i64>,
    /// Promised date, days; null as `i32::MIN`.
    pub ptp_date: Vec<i32>,
    /// `agent_id` codes into `agents` (one table over the whole window).
    pub agent: LocalDim,
    /// Files read with their row counts.
    pub files: Vec<(PathBuf, usize)>,
}

impl Contacts {
    /// Appends the contacts of a later file; every file must type
    /// `contact_id` alike. Agent codes are re-coded into this table's.
    pub fn append(&mut self, other: Contacts) -> Result<()> {
        let first_file = self.files.is_empty();
        if first_file {
            self.contact_ids = if other.contact_ids.is_int() {
                LoanIds::Int(Vec::new())
            } else {
                LoanIds::empty_str()
            };
        } else if other.contact_ids.is_int() != self.contact_ids.is_int() {
            let path = other.files.first().map(|f| f.0.display().to_string());
            return Err(bad_input(format!(
                "column 'contact_id' is {} here but {} in earlier contacts files: one type for all",
                if other.contact_ids.is_int() {
                    "Int64"
                } else {
                    "a string"
                },
                self.contact_ids.type_name()
            )))
            .with_context(|| format!("contacts file '{}'", path.unwrap_or_default()));
        }
        self.date.extend(other.date);
        self.contact_ids.extend(other.contact_ids);
        self.ids.extend(other.ids);
        self.local_ts.extend(other.local_ts);
        self.channel.extend(other.channel);
        self.outcome.extend(other.outcome);
        self.ptp_amount.extend(other.ptp_amount);
        self.ptp_date.extend(other.ptp_date);
        self.agent.append(other.agent);
        self.files.extend(other.files);
        Ok(())
    }

    /// No contacts (the loans' id type given).
    pub fn empty(int_ids: bool) -> Contacts {
        Contacts {
            date: Vec::new(),
            contact_ids: LoanIds::empty_str(),
            ids: if int_ids {
                LoanIds::Int(Vec::new())
            } else {
                LoanIds::empty_str()
            },
            local_ts: Vec::new(),
            channel: Vec::new(),
            outcome: Vec::new(),
            ptp_amount: Vec::new(),
            ptp_date: Vec::new(),
            agent: LocalDim::default(),
            files: Vec::new(),
        }
    }
    pub fn len(&self) -> usize {
        self.outcome.len()
    }
    /// The given contacts (increasing indices), as contacts of their own
    /// (the same files listed, so that they append like the file they
    /// came from).
    pub fn take(&self, rows: &[usize]) -> Contacts {
        fn pick<T: Copy>(v: &[T], rows: &[usize]) -> Vec<T> {
            rows.iter().map(|&r| v[r]).collect()
        }
        Contacts {
            date: pick(&self.date, rows),
            contact_ids: self.contact_ids.take(rows.iter().copied()),
            ids: self.ids.take(rows.iter().copied()),
            local_ts: pick(&self.local_ts, rows),
            channel: pick(&self.channel, rows),
            outcome: pick(&self.outcome, rows),
            ptp_amount: pick(&self.ptp_amount, rows),
            ptp_date: pick(&self.ptp_date, rows),
            agent: self
                .agent
                .select(&rows.iter().map(|&r| r as u32).collect::<Vec<_>>()),
            files: self.files.clone(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.outcome.is_empty()
    }
}

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

impl Contacts {
    /// Local calendar day of contact `c`, days since 1970-01-01.
    pub fn local_day(&self, c: usize) -> i32 {
        self.local_ts[c].div_euclid(DAY_MS) as i32
    }
    /// Local minute of the day of contact `c`.
    pub fn local_minute(&self, c: usize) -> u16 {
        (self.local_ts[c].rem_euclid(DAY_MS) / 60_000) as u16
    }
    pub fn agent_label(&self, c: usize) -> Option<&str> {
        self.agent.labels[self.agent.codes[c] as usize].as_deref()
    }
}

/// The contacts files dated `from..=to`, in date and file order.
fn window_files(
    catalog: &Catalog,
    from: NaiveDate,
    to: NaiveDate,
) -> impl Iterator<Item = (NaiveDate, &PathBuf)> {
    catalog
        .contacts
        .partitions
        .iter()
        .filter(move |p| p.date >= from && p.date <= to)
        .flat_map(|p| p.files.iter().map(move |f| (p.date, f)))
}

/// Reads every contacts partition dated `from..=to`. `int_ids` is the
/// loans' id type: contacts must use the same. `zone` is the borrower-local
/// zone that zoned timestamps are converted to.
pub fn read_window(
    catalog: &Catalog,
    from: NaiveDate,
    to: NaiveDate,
    int_ids: bool,
    zone: Zone,
) -> Result<Contacts> {
    let mut c = Contacts::empty(int_ids);
    read_window_each(catalog, from, to, int_ids, zone, |part| c.append(part))?;
    Ok(c)
}

/// Reads the contacts files dated `from..=to` a few at a time (one task
/// per file) and hands each file's contacts to `each` in date and file
/// order, so that the caller need not hold the whole window. Every file
/// must type `contact_id` as the first does; the first error in file order
/// is the one reported.
pub fn read_window_each(
    catalog: &Catalog,
    from: NaiveDate,
    to: NaiveDate,
    int_ids: bool,
    zone: Zone,
    mut each: impl FnMut(Contacts) -> Result<()>,
) -> Result<()> {
    use rayon::prelude::*;
    let files: Vec<(NaiveDate, &PathBuf)> = window_files(catalog, from, to).collect();
    let wave = rayon::current_num_threads().max(1);
    let mut first_int: Option<bool> = None;
    for group in files.chunks(wave) {
        let parts = group
            .par_iter()
            .map(|&(date, path)| {
                let mut part = Contacts::empty(int_ids);
                let rows = guard::decoding("the file", || {
                    read_file(path, crate::base::calendar::date32(date), zone, &mut part)
                })
                .with_context(|| format!("contacts file '{}'", path.display()))?;
                part.files.push((path.clone(), rows));
                Ok(part)
            })
            .collect::<Vec<_>>();
        for part in first_error(parts)? {
            let is_int = part.contact_ids.is_int();
            if *first_int.get_or_insert(is_int) != is_int {
                let path = part.files.first().map(|f| f.0.display().to_string());
                return Err(bad_input(format!(
                    "column 'contact_id' is {} here but {} in earlier contacts files: one type for all",
                    if is_int { "Int64" } else { "a string" },
                    if is_int { "string" } else { "Int64" },
                )))
                .with_context(|| format!("contacts file '{}'", path.unwrap_or_default()));
            }
            each(part)?;
        }
    }
    Ok(())
}

fn read_file(path: &Path, date: i32, zone: Zone, c: &mut Contacts) -> Result<usize> {
    let file = guard::StrictFile::open(path)?;
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
    let contact_id_int = builder
        .schema()
        .field_with_name("contact_id")
        .expect("checked")
        .data_type()
        == &DataType::Int64;
    if contact_id_int {
        c.contact_ids = LoanIds::Int(Vec::new());
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
        columns::push_ids(col("contact_id"), &mut c.contact_ids, "contact_id", base)?;
        columns::push_ids(col("loan_id"), &mut c.ids, "loan_id", base)?;
        push_local_ts(col("contact_ts"), zone, &mut c.local_ts, base)?;
        push_enum(
            col("channel"),
            "channel",
            base,
            Channel::parse,
            &Channel::ALL.map(Channel::label),
            &mut c.channel,
        )?;
        c.agent.push(col("agent_id"), "agent_id")?;
        push_enum(
            col("outcome"),
            "outcome",
            base,
            Outcome::parse,
            &Outcome::ALL.map(Outcome::label),
            &mut c.outcome,
        )?;
        columns::push_money_or_null(
            col("ptp_amount"),
            &mut c.ptp_amount,
            "ptp_amount",
            base,
            true,
        )?;
        columns::push_dates_or_null(col("ptp_date"), &mut c.ptp_date, "ptp_date", base)?;
        c.date.extend(std::iter::repeat_n(date, batch.num_rows()));
        base += batch.num_rows();
    }
    Ok(base)
}

/// Appends `contact_ts` as borrower-local milliseconds. Sub-millisecond
/// parts are floored (no rule looks finer than a minute).
fn push_local_ts(
    a: &arrow::array::ArrayRef,
    zone: Zone,
    out: &mut Vec<i64>,
    base: usize,
) -> Result<()> {
    columns::require_no_nulls(a, "contact_ts", base)?;
    let DataType::Timestamp(unit, tz) = a.data_type() else {
        return Err(bad_input(format!(
            "column 'contact_ts' has type {}, expected a Timestamp",
            a.data_type()
        )));
    };
    let millis: Vec<i64> = match unit {
        TimeUnit::Second => a
            .as_primitive::<TimestampSecondType>()
            .values()
            .iter()
            .map(|v| v.saturating_mul(1000))
            .collect(),
        TimeUnit::Millisecond => a
            .as_primitive::<TimestampMillisecondType>()
            .values()
            .to_vec(),
        TimeUnit::Microsecond => a
            .as_primitive::<TimestampMicrosecondType>()
            .values()
            .iter()
            .map(|v| v.div_euclid(1000))
            .collect(),
        TimeUnit::Nanosecond => a
            .as_primitive::<TimestampNanosecondType>()
            .values()
            .iter()
            .map(|v| v.div_euclid(1_000_000))
            .collect(),
    };
    // Zone-less times are already borrower-local; zoned ones are instants,
    // converted. Either way a time no calendar can show is bad input here,
    // not a panic later when a rule prints its date (the fuzzer found one
    // once `run` was fuzzed, not only `validate`).
    let mut bad = Offenders::default();
    for (i, ms) in millis.into_iter().enumerate() {
        let local = if tz.is_none() {
            chrono::DateTime::from_timestamp_millis(ms).map(|t| t.naive_utc())
        } else {
            zone.local(ms)
        };
        match local.filter(|t| crate::base::calendar::accepts(t.date())) {
            Some(t) => out.push(t.and_utc().timestamp_millis()),
            None => {
                bad.push(base + i);
                out.push(0);
            }
        }
    }
    bad.check(
        "contact_ts",
        &format!("a timestamp outside {}", crate::base::calendar::RANGE),
    )
}

/// Sorts contact indices by (`prefix`, loan, local time, index) and returns
/// the runs that share a prefix and a loan. Loans are compared through their
/// 64-bit key, computed once per contact rather than once per comparison;
/// for string ids, a run whose keys collide is split by the ids themselves.
pub fn group_by_loan(
    c: &Contacts,
    idx: &mut Vec<usize>,
    prefix: impl Fn(usize) -> u8 + Sync,
) -> Vec<std::ops::Range<usize>> {
    use rayon::prelude::*;
    let mut keyed: Vec<(u8, u64, i64, usize)> = idx
        .par_iter()
        .map(|&i| (prefix(i), c.ids.key(i), c.local_ts[i], i))
        .collect();
    keyed.par_sort_unstable();
    *idx = keyed.iter().map(|k| k.3).collect();
    let mut runs = Vec::new();
    let mut start = 0;
    while start < keyed.len() {
        let mut end = start + 1;
        while end < keyed.len() && keyed[end].0 == keyed[start].0 && keyed[end].1 == keyed[start].1
        {
            end += 1;
        }
        let same = |a: usize, b: usize| c.ids.cmp_rows(a, &c.ids, b).is_eq();
        if c.ids.is_int() || idx[start..end].iter().all(|&i| same(i, idx[start])) {
            runs.push(start..end);
        } else {
            // Two loans share a hash: order the run by id (stable, so time
            // order holds within each loan) and split it.
            idx[start..end].sort_by(|&a, &b| c.ids.str_bytes(a).cmp(c.ids.str_bytes(b)));
            let mut s = start;
            for k in start + 1..=end {
                if k == end || !same(idx[k], idx[s]) {
                    runs.push(s..k);
                    s = k;
                }
            }
        }
        start = end;
    }
    runs
}

/// Appends a non-null text column as an enum; unknown values are bad input
/// naming the column, the values and the rows. Each distinct value is
/// parsed once.
fn push_enum<T: Copy>(
    a: &arrow::array::ArrayRef,
    column: &str,
    base: usize,
    parse: fn(&str) -> Option<T>,
    accepted: &[&str],
    out: &mut Vec<T>,
) -> Result<()> {
    columns::require_no_nulls(a, column, base)?;
    let mut dim = LocalDim::default();
    dim.push(a, column)?;
    out.extend(columns::map_enum(
        &dim,
        column,
        base,
        &accepted.join(", "),
        |l| l.and_then(parse),
    )?);
    Ok(())
}

/// The decode floor of the contacts window (BENCHMARKS.md): the same files
/// and projection as [`read_window`], batches dropped. Returns the rows.
pub fn decode_floor(catalog: &Catalog, from: NaiveDate, to: NaiveDate) -> Result<usize> {
    let mut rows = 0;
    for (_, path) in window_files(catalog, from, to) {
        let file = guard::StrictFile::open(path)?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| bad_input(format!("not a readable Parquet file: {e}")))?;
        let fields = builder.schema().fields().clone();
        let roots: Vec<usize> = DECODED
            .iter()
            .filter_map(|n| fields.iter().position(|f| f.name() == n))
            .collect();
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        for batch in builder.with_projection(mask).build()? {
            rows += std::hint::black_box(batch?).num_rows();
        }
    }
    Ok(rows)
}
