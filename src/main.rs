//! The `arrears` binary: parse, dispatch, print the error chain once and
//! map it to a documented exit code (README, "Exit codes").

use std::process::ExitCode;

use anyhow::{Context, Result};
use arrears::cli::{demo_configs, load_policy, Cli, Command};
use arrears::error::exit_code_of;
use arrears::generate::{self, GenConfig};
use arrears::pipeline::{self, RunConfig, RunSummary};
use arrears::shards;
use clap::Parser;

/// mimalloc keeps freed memory for reuse instead of returning every large
/// buffer to the kernel: the job allocates and drops many column-sized
/// vectors, and with the system allocator each one was paid for again in
/// page faults (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (mimalloc.h: the 16th option).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // The run folds the book partition by partition, each allocating and
    // freeing the same column sizes: freed pages are kept for the next
    // partition instead of being returned to the kernel and zeroed again
    // (10.9 -> 10.6 s and 4.8 -> 3.1 s of system time at 10M loans;
    // memory stays bounded by the partition size: BENCHMARKS.md).
    // SAFETY: sets a mimalloc option; takes effect for later frees.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    // No transparent huge pages for this process: with them the run
    // faulted in about 23 GB of 2 MiB pages at 10M loans (11,700 faults;
    // the kernel zeroing them was 17 % of all samples) for 1.1 GiB of peak
    // memory; with 4 KiB pages each page is touched once (1.2 GB). What
    // `MIMALLOC_ALLOW_THP=0` does, which mimalloc reads only at start-up
    // (BENCHMARKS.md).
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with an integer option and no pointers; only this
    // process's memory policy changes.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    let cli = Cli::parse();
    // The commands that run the job show their stages (arrears::progress).
    if matches!(
        cli.command,
        Command::Run { .. } | Command::Shard { .. } | Command::Merge { .. } | Command::Demo { .. }
    ) {
        arrears::progress::init(cli.quiet, cli.log_format);
    }
    let result = dispatch(cli.command);
    arrears::progress::finish();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arrears: error: {e:#}");
            ExitCode::from(exit_code_of(&e))
        }
    }
}

fn print_summary(s: &RunSummary) {
    if arrears::progress::quiet() {
        return;
    }
    for d in &s.recovered.completed {
        println!("arrears: finished publishing {d}, which an earlier run had committed before it was interrupted");
    }
    if s.recovered.discarded > 0 {
        println!(
            "arrears: removed {} unfinished staging folder(s) of interrupted runs (nothing of theirs had been published)",
            s.recovered.discarded
        );
    }
    println!("arrears: published {}", s.as_of);
    for (t, p, rows) in &s.tables {
        println!("  table {t:<15} {rows:>8} rows  {}", p.display());
    }
    println!("  report   {}", s.report.display());
    println!("  manifest {}", s.manifest.display());
    if !s.unavailable.is_empty() {
        println!(
            "  periods not available (no snapshot): {}",
            s.unavailable.join(", ")
        );
    }
}

fn print_validation(v: &pipeline::validate::Validation) {
    println!("arrears: inputs for {} pass every check", v.as_of);
    for i in &v.inputs {
        let rounded = if i.dataset == "loans" {
            format!(
                "  {} money value(s) rounded to the cent",
                i.rounded_money_values
            )
        } else {
            String::new()
        };
        println!(
            "  {:<8} {:<22} {:>10} rows  {:>3} file(s){rounded}",
            i.role,
            i.as_of_date,
            i.rows,
            i.files.len(),
        );
        if !i.absent_columns.is_empty() {
            println!(
                "           absent (read as null): {}",
                i.absent_columns.join(", ")
            );
        }
        if !i.all_null_columns.is_empty() {
            println!(
                "           null in every row: {}",
                i.all_null_columns.join(", ")
            );
        }
    }
    for (d, n) in &v.paid_snapshots {
        // NaiveDate ignores width in Display: pad its text.
        let d = d.to_string();
        println!("  paid     {d:<22} {n:>10} rows  (paid_amount only, for promise keeping)");
    }
    if !v.unavailable.is_empty() {
        println!(
            "  periods not available (no snapshot): {}",
            v.unavailable.join(", ")
        );
    }
}

fn dispatch(cmd: Command) -> Result<()> {
    match cmd {
        Command::Shard {
            source,
            output,
            work,
            shard,
            memory_limit,
        } => {
            let policy = load_policy(source.policy.as_deref())?;
            let s = shards::shard(&shards::ShardConfig {
                input: source.input,
                output,
                work,
                as_of: source.as_of,
                shard,
                threads: source.threads,
                memory_limit,
                policy,
            })?;
            println!(
                "arrears: shard {}/{} of {}: {} loans in {} partition(s)\n  {}",
                shard.k,
                shard.n,
                s.as_of,
                s.rows,
                s.partitions,
                s.dir.display()
            );
        }
        Command::Merge {
            work,
            output,
            as_of,
            shards: n,
            threads,
            policy,
            report,
        } => {
            if n == 0 || n > shards::MAX_SHARDS {
                return Err(arrears::error::fail(
                    arrears::error::FailureKind::Config,
                    format!(
                        "--shards {n}: a merge takes 1 to {} shards",
                        shards::MAX_SHARDS
                    ),
                ));
            }
            let policy = load_policy(policy.as_deref())?;
            let cfg = shards::MergeConfig {
                work,
                output,
                as_of,
                shards: n,
                threads,
                report: report.options(&policy),
                policy,
            };
            print_summary(&shards::merge(&cfg)?);
        }
        Command::Run {
            source,
            output,
            memory_limit,
            report,
        } => {
            let policy = load_policy(source.policy.as_deref())?;
            let cfg = RunConfig {
                input: source.input,
                output,
                as_of: source.as_of,
                threads: source.threads,
                memory_limit,
                report: report.options(&policy),
                policy,
            };
            print_summary(&pipeline::run(&cfg)?);
        }
        Command::Validate { source } => {
            let policy = load_policy(source.policy.as_deref())?;
            print_validation(&pipeline::validate::validate(
                &source.input,
                source.as_of,
                &policy,
                source.threads,
            )?);
        }
        Command::Generate {
            output,
            loans,
            as_of,
            days,
            seed,
            id_type,
            money,
            files,
            row_group,
            contact_days,
            months,
            shuffle,
        } => {
            let cfg = GenConfig {
                output,
                loans,
                as_of,
                days,
                seed,
                id_type,
                money,
                files,
                row_group,
                contact_days,
                months,
                shuffle,
            };
            let g = generate::generate(&cfg)?;
            for (d, n) in &g.loans_rows {
                println!("loans    {d} {n:>10} rows");
            }
            for (d, n) in &g.contact_rows {
                println!("contacts {d} {n:>10} rows");
            }
            println!("written under {}", cfg.output.display());
        }
        Command::Policy => {
            print!("{}", arrears::policy::file::DEFAULT);
        }
        Command::Demo {
            output,
            policy,
            report,
        } => {
            // Without a policy file the demo runs the built-in policy with
            // its example champion / challenger test on.
            let policy = match policy.as_deref() {
                Some(p) => load_policy(Some(p))?,
                None => arrears::policy::Policy::demo(),
            };
            let opts = report.options(&policy);
            let (g, r) = demo_configs(&output, policy, opts);
            // A clean output: the history the report reads is the demo's own.
            if r.output.exists() {
                std::fs::remove_dir_all(&r.output).with_context(|| {
                    format!("removing the previous demo output '{}'", r.output.display())
                })?;
            }
            generate::generate(&g)?;
            if !arrears::progress::quiet() {
                println!(
                    "arrears: demo portfolio of {} loans written to {}",
                    g.loans,
                    g.output.display()
                );
            }
            // Run every snapshot date in order, as the nightly schedule
            // would have, so the last report has its history.
            let dates = g.snapshot_dates();
            let (last, earlier) = dates.split_last().expect("at least one date");
            for d in earlier {
                pipeline::run(&RunConfig {
                    as_of: Some(*d),
                    ..r.clone()
                })?;
            }
            if !arrears::progress::quiet() {
                println!(
                    "arrears: ran {} earlier dates for the report's history",
                    earlier.len()
                );
            }
            let s = pipeline::run(&RunConfig {
                as_of: Some(*last),
                ..r
            })?;
            print_summary(&s);
            if !arrears::progress::quiet() {
                println!("\nOpen the report: {}", s.report.display());
            }
        }
    }
    Ok(())
}
