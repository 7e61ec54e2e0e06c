//! `manifest.json`: what a run read, what it wrote, every reconciliation
//! check with its result, and how long each stage took. The only output
//! that is allowed to differ between two runs on the same inputs (timings).

use serde::Serialize;

use crate::checks::Check;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InputFile {
    pub path: String,
    pub rows: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InputPartition {
    /// `as_of`, `prev` or `1m`.
    pub role: String,
    pub dataset: String,
    pub as_of_date: String,
    pub rows: usize,
    pub files: Vec<InputFile>,
    /// Money values with more than two decimals, rounded to the cent.
    pub rounded_money_values: u64,
    /// Optional loans columns the files leave out (read as null for every
    /// loan; data-contract.md v2). Empty for contacts.
    pub absent_columns: Vec<String>,
    /// Optional loans columns present but null in every row decoded.
    pub all_null_columns: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct OutputTable {
    pub table: String,
    pub path: String,
    pub rows: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct PeriodInfo {
    pub period: String,
    pub available: bool,
    pub from_date: Option<String>,
    /// Where the earlier date's tiers came from: `worklist` (that run's own
    /// worklist, exact) or `snapshot` (computed from the snapshot alone).
    pub tiers_from: Option<String>,
}

pub use crate::base::timing::{Clock, Timing};

/// Headline amounts of the run, as exact decimal strings. The report of a
/// later run reads `recovered_prev` back to show the change in recoveries.
#[derive(Clone, Debug, Serialize)]
pub struct HeadlineFigures {
    pub loans: u64,
    pub principal_balance: String,
    pub cash_collected: String,
    /// Recoveries over the `prev` period (null without a `prev` snapshot).
    pub recovered_prev: Option<String>,
    /// Recoveries over the `1m` period (null without a `1m` snapshot).
    pub recovered_1m: Option<String>,
    /// Contacts of the run date whose loan is not in its snapshot.
    pub contact_orphans: usize,
    /// Promises due in D-6..D, and how many were kept.
    pub promises_due: usize,
    pub promises_kept: usize,
    /// Promises due after the run date.
    pub promises_open: usize,
    /// Contacts logged on the run date.
    pub contacts_today: usize,
    /// Compliance profile checked and the exceptions found.
    pub compliance_profile: String,
    pub compliance_exceptions: usize,
    /// Loans eligible for credit-record repair.
    pub credit_repair_loans: usize,
    /// DPD30+ and NPL ratios by balance (null over an empty denominator),
    /// for the archive page (v2; absent in earlier manifests).
    pub dpd30_plus_balance: Option<f64>,
    pub npl_balance: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    pub program: String,
    pub program_version: String,
    pub schema_version: String,
    pub as_of_date: String,
    pub threads: usize,
    pub memory: MemoryUse,
    /// Requests made to and bytes fetched from an object store (`s3://`
    /// input); absent for local input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_store: Option<ObjectStoreTraffic>,
    pub inputs: Vec<InputPartition>,
    pub periods: Vec<PeriodInfo>,
    pub figures: HeadlineFigures,
    pub outputs: Vec<OutputTable>,
    /// Where the run's report is published (on an object store, in the
    /// run's own folder: readers find it here).
    pub report: String,
    /// Where the run's Excel workbook is published (beside the report).
    pub workbook: String,
    /// The champion / challenger tests (v2; absent in earlier manifests).
    pub experiments: ExperimentsInfo,
    pub checks: Vec<Check>,
    pub timings: Vec<Timing>,
}

/// The experiments the run's policy assigns arms for, those the
/// `experiments` table evaluates (the `1m` run's), and why not when it
/// evaluates none.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ExperimentsInfo {
    pub running: Vec<String>,
    pub evaluated: Vec<String>,
    /// `no_1m_date`, `no_1m_worklist` or `no_arms_in_1m_worklist`.
    pub not_evaluated: Option<String>,
}

/// What reading the input from an object store cost.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectStoreTraffic {
    pub requests: u64,
    pub bytes: u64,
}

/// How the run kept to its memory limit.
#[derive(Clone, Debug, Serialize)]
pub struct MemoryUse {
    /// `--memory-limit` (or its default), bytes.
    pub limit_bytes: u64,
    /// Loan-id partitions the book was folded in.
    pub partitions: usize,
    /// How the partitions were found, or why the book was read whole.
    pub partitioned_by: String,
    /// Peak resident memory of the process when the manifest was written.
    pub peak_rss_bytes: Option<u64>,
}
