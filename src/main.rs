//! The `arrears` binary: parse, dispatch, print the error chain once and
//! map it to a documented exit code (README, "Exit codes").

use std::process::ExitCode;

use anyhow::Result;
use arrears::cli::{demo_configs, Cli, Command};
use arrears::error::exit_code_of;
use arrears::generate::{self, GenConfig};
use arrears::pipeline::{self, RunConfig, RunSummary};
use arrears::policy::Policy;
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arrears: error: {e:#}");
            ExitCode::from(exit_code_of(&e))
        }
    }
}

fn print_summary(s: &RunSummary) {
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

fn dispatch(cmd: Command) -> Result<()> {
    match cmd {
        Command::Run {
            input,
            output,
            as_of,
            threads,
        } => {
            let cfg = RunConfig {
                input,
                output,
                as_of,
                threads,
                policy: Policy::default(),
            };
            print_summary(&pipeline::run(&cfg)?);
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
        Command::Demo { output } => {
            let (g, r) = demo_configs(&output);
            generate::generate(&g)?;
            println!(
                "arrears: demo portfolio of {} loans written to {}",
                g.loans,
                g.output.display()
            );
            let s = pipeline::run(&r)?;
            print_summary(&s);
            println!("\nOpen the report: {}", s.report.display());
        }
    }
    Ok(())
}
