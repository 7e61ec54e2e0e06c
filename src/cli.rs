//! The command line (clap derive) and its resolution into validated
//! configurations. Nothing past this module sees a raw argument.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use crate::base::locale::Locale;
use crate::generate::{GenConfig, IdType, MoneyType};
use crate::pipeline::RunConfig;
use crate::policy::Policy;
use crate::report;

/// Delinquency, roll-rate and collections figures for a loan book, every night.
#[derive(Debug, Parser)]
#[command(name = "arrears", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Nothing on stderr but errors, nothing on stdout: the exit code says
    /// how the run ended.
    #[arg(long, global = true)]
    pub quiet: bool,
    /// The stage lines written when stderr is not a terminal (on a
    /// terminal a progress display is shown instead).
    #[arg(long, global = true, value_enum, default_value_t = crate::progress::LogFormat::Text)]
    pub log_format: crate::progress::LogFormat,
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a date in the form YYYY-MM-DD"))?;
    if !crate::base::calendar::accepts(d) {
        return Err(format!(
            "'{s}' is outside the dates arrears accepts ({})",
            crate::base::calendar::RANGE
        ));
    }
    Ok(d)
}

/// A shard count: 1 to [`crate::shards::MAX_SHARDS`].
fn parse_shards(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=crate::shards::MAX_SHARDS).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{s}' is not a shard count between 1 and {}",
            crate::shards::MAX_SHARDS
        )),
    }
}

/// A size in bytes: a number with an optional K, M, G or T suffix
/// (powers of 1024; a trailing B or iB is allowed).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, shift) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 30),
        Some('T' | 't') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    match num.trim().parse::<u64>() {
        Ok(n) if n > 0 => n
            .checked_mul(1u64 << shift)
            .ok_or_else(|| format!("'{s}' is too large")),
        _ => Err(format!(
            "'{s}' is not a size such as 1536M or 2G (a positive whole number with K, M, G or T)"
        )),
    }
}

fn parse_threads(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=1024).contains(&n) => Ok(n),
        _ => Err(format!("'{s}' is not a thread count between 1 and 1024")),
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the nightly job: read the snapshots, compute, reconcile, publish.
    Run {
        #[command(flatten)]
        source: SourceArgs,
        /// Output root; tables, report and manifest go to <table>/as_of_date=D/.
        #[arg(long)]
        output: PathBuf,
        /// Memory the run may use, e.g. 1536M or 2G [default: a quarter of
        /// the machine's memory, at most 1G]. The book is folded in as many
        /// loan-id partitions as this takes (see the manifest's `memory`).
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        memory_limit: Option<u64>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Compute shard K of N of a run (the loans whose id hashes to K) into a
    /// work folder, for `merge` to publish; the same command on any machine.
    Shard {
        #[command(flatten)]
        source: SourceArgs,
        /// Output root the merge will publish to: earlier runs' worklists are
        /// read from it (read only), as `run` reads them.
        #[arg(long)]
        output: PathBuf,
        /// Work folder shared by the shards and the merge; this shard goes to
        /// <work>/as_of_date=D/shards-N/shard-K/ (replaced).
        #[arg(long)]
        work: PathBuf,
        /// Which shard: K/N with 0 <= K < N, e.g. 0/4.
        #[arg(long, value_name = "K/N")]
        shard: crate::shards::ShardSpec,
        /// Memory the shard may use [default: as `run`].
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        memory_limit: Option<u64>,
    },
    /// Merge the N shards of a run from the work folder, reconcile, render and
    /// publish exactly as `run` does.
    Merge {
        /// Work folder the shards were written to.
        #[arg(long)]
        work: PathBuf,
        /// Output root; as `run`.
        #[arg(long)]
        output: PathBuf,
        /// Business date of the shards.
        #[arg(long, value_parser = parse_date)]
        as_of: NaiveDate,
        /// Number of shards (N of K/N).
        #[arg(long, value_parser = parse_shards)]
        shards: usize,
        /// Worker threads [default: one per core].
        #[arg(long, value_parser = parse_threads)]
        threads: Option<usize>,
        /// Policy file (TOML): must say what the shards' said [default: the built-in policy].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Check a date's inputs as `run` would (every input check, same exit
    /// codes), without computing or writing anything; prints a summary.
    Validate {
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Write a deterministic synthetic portfolio that follows the data contract.
    Generate {
        /// Root to write loans/ and contacts/ partitions under (replaced).
        #[arg(long)]
        output: PathBuf,
        /// Number of loans.
        #[arg(long, default_value_t = 10_000)]
        loans: usize,
        /// Last business date.
        #[arg(long, value_parser = parse_date)]
        as_of: NaiveDate,
        /// Consecutive daily snapshots ending at --as-of (plus one a month earlier).
        #[arg(long, default_value_t = 2)]
        days: usize,
        /// Random seed: the same seed gives the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Type of loan_id and contact_id.
        #[arg(long, value_enum, default_value_t = IdType::String)]
        id_type: IdType,
        /// Type of money columns.
        #[arg(long, value_enum, default_value_t = MoneyType::Decimal)]
        money: MoneyType,
        /// Parquet files per partition.
        #[arg(long, default_value_t = 1)]
        files: usize,
        /// Loans per row group.
        #[arg(long, default_value_t = 262_144)]
        row_group: usize,
        /// Days of contacts ending at --as-of.
        #[arg(long, default_value_t = 7)]
        contact_days: usize,
        /// Also write the month-end snapshot of each of this many months before --as-of's month.
        #[arg(long, default_value_t = 0)]
        months: usize,
        /// Scatter the loan ids so that no snapshot is in id order (a book
        /// exported unsorted).
        #[arg(long)]
        shuffle: bool,
    },
    /// Generate the built-in demo portfolio and run the nightly job on it.
    Demo {
        /// Where to put the demo input and output.
        #[arg(long, default_value = "target/demo")]
        output: PathBuf,
        /// Policy file (TOML) [default: the built-in policy].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Print the built-in policy (TOML with comments): a starting point for your own.
    Policy,
}

/// What `run` and `validate` read, and how.
#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    /// Input root with loans/as_of_date=YYYY-MM-DD/ (and contacts/) partitions.
    #[arg(long)]
    pub input: PathBuf,
    /// Business date [default: the latest loans partition].
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Worker threads [default: one per core].
    #[arg(long, value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Policy file (TOML) [default: the built-in policy, see `arrears policy`].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// How the management report is rendered.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// Report language: labels, number and date formats [default: the policy's, else en].
    #[arg(long, value_enum)]
    pub locale: Option<Locale>,
    /// Folder of report templates (*.html) replacing the built-in ones of the same name.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

impl ReportArgs {
    /// The report options: `--locale` wins over the policy's locale.
    pub fn options(&self, policy: &Policy) -> report::Options {
        report::Options {
            locale: self.locale.or(policy.locale).unwrap_or_default(),
            templates: self.templates.clone(),
        }
    }
}

/// The policy of a run: the file given, or the built-in one.
pub fn load_policy(path: Option<&std::path::Path>) -> anyhow::Result<Policy> {
    let policy = match path {
        Some(p) => Policy::load(p)?,
        None => Policy::default(),
    };
    Ok(policy)
}

/// The demo portfolio: 20,000 loans with 30 daily snapshots and the
/// month-ends of the 12 months before, so the report has its trends.
pub fn demo_configs(
    root: &std::path::Path,
    policy: Policy,
    report: report::Options,
) -> (GenConfig, RunConfig) {
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 29).expect("valid date");
    let mut g = GenConfig::new(root.join("input"), 20_000, as_of);
    g.days = 30;
    g.months = 12;
    g.row_group = 4096;
    let r = RunConfig {
        input: root.join("input"),
        output: root.join("output"),
        as_of: Some(as_of),
        threads: None,
        memory_limit: None,
        policy,
        report,
    };
    (g, r)
}
