//! The end of a run (and of a merge): the figures checked, the tables,
//! report, workbook and manifest staged, and the date published.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::NaiveDate;

use crate::checks;
use crate::error::{fail, FailureKind};
use crate::figures::Figures;
use crate::history;
use crate::metrics::forecast;
use crate::money;
use crate::output::manifest::{
    Clock, HeadlineFigures, InputPartition, Manifest, MemoryUse, ObjectStoreTraffic, OutputTable,
    PeriodInfo,
};
use crate::output::publish::{self, Stage};
use crate::output::published::Published;
use crate::output::{parquet_file, tables, SCHEMA_VERSION};
use crate::policy::Policy;
use crate::report;
use crate::report::view::RunInfo;
use crate::states::BUCKETS;

use super::{peak_rss, RunSummary};

/// Folded and finished figures on their way out: checked, written to the
/// stage with the report and the manifest, published.
pub(crate) struct Publishing<'a> {
    pub engine: &'a report::Engine,
    pub policy: &'a Policy,
    pub input_root: String,
    pub output: &'a Path,
    pub figures: Figures,
    pub stage: Stage,
    pub worklist_files: Vec<usize>,
    pub inputs: Vec<InputPartition>,
    /// Its peak is filled in here.
    pub memory: MemoryUse,
    pub clock: Clock,
    pub recovered: publish::Recovered,
}

/// Checks the figures (nothing is published when one fails), writes the
/// tables, the report and the manifest to the stage, and publishes them:
/// the end of `run` and of `merge`.
pub(crate) fn publish_run(p: Publishing) -> Result<RunSummary> {
    let Publishing {
        engine,
        policy,
        input_root,
        output,
        mut figures,
        mut stage,
        worklist_files,
        inputs,
        mut memory,
        mut clock,
        recovered,
    } = p;
    clock.timings.extend(figures.compute_steps.iter().cloned());

    // The earlier runs first: the forecast's duration matrix chains their
    // nights (and the report draws its trends from them).
    let wanted: Vec<NaiveDate> = figures.periods.iter().map(|p| p.from_date).collect();
    let since = figures.period("1m").map(|p| p.from_date);
    let past = history::load(&Published::new(output), figures.as_of, &wanted, since);
    figures.forecast = forecast_of(&figures, &past);
    figures.backtest = figures.period("1m").and_then(|p| {
        let run = past.get(p.from_date)?;
        forecast::backtest(p.from_date, &run.forecast_1, &figures.by_bucket)
    });
    let forecast_checks = checks::forecast(&figures.forecast);
    figures.checks.extend(forecast_checks);
    clock.lap("read history, forecast");

    let failed = checks::failures(&figures.checks);
    if !failed.is_empty() {
        return Err(fail(
            FailureKind::Reconciliation,
            format!(
                "reconciliation failed for {}; nothing was published:\n  - {}",
                figures.as_of,
                failed.join("\n  - ")
            ),
        ));
    }
    let in_book = figures.headline.npl[0].denominator as usize;
    let worklist_rows: usize = worklist_files.iter().sum();
    if worklist_rows != in_book {
        return Err(fail(
            FailureKind::Reconciliation,
            format!(
                "reconciliation failed for {}; nothing was published:\n  - worklist rows = active + charged-off loans: expected {in_book}, got {worklist_rows}",
                figures.as_of,
            ),
        ));
    }

    let as_of = figures.as_of.to_string();
    let mut outputs = Vec::new();
    let batches = tables::all(&figures)?;
    for &(name, ref batch) in &batches {
        let path = stage.file(name, "part-0.parquet")?;
        parquet_file::write(&path, name, &as_of, std::slice::from_ref(batch))?;
        outputs.push(OutputTable {
            table: name.to_string(),
            path: stage
                .target(name)
                .join("part-0.parquet")
                .display()
                .to_string(),
            rows: batch.num_rows(),
        });
    }
    for (k, n) in worklist_files.iter().enumerate() {
        outputs.push(OutputTable {
            table: "worklist".to_string(),
            path: stage
                .target("worklist")
                .join(format!("part-{k:05}.parquet"))
                .display()
                .to_string(),
            rows: *n,
        });
    }
    let table_bytes: u64 = outputs
        .iter()
        .filter(|o| o.table != "worklist")
        .filter_map(|o| std::fs::metadata(stage.local_file(&o.table, "part-0.parquet")).ok())
        .map(|m| m.len())
        .sum();
    clock.lap_with(
        "write tables",
        Some(outputs.iter().map(|o| o.rows as u64).sum()),
        Some(table_bytes),
    );

    let html = engine.render(
        &figures,
        &past,
        &RunInfo {
            inputs: &inputs,
            input_root,
            policy,
        },
    )?;
    let report_path = stage.file("report", "report.html")?;
    let report_target = stage.target("report").join("report.html");
    publish::write_synced(&report_path, html.as_bytes())?;
    clock.lap_with("render report", None, Some(html.len() as u64));
    let workbook_path = stage.file("report", "report.xlsx")?;
    crate::output::workbook::write(&workbook_path, &figures, &batches, policy)?;
    let workbook_target = stage.target("report").join("report.xlsx");
    drop(batches);
    let workbook_bytes = std::fs::metadata(&workbook_path).map(|m| m.len()).ok();
    clock.lap_with("write workbook", None, workbook_bytes);

    let manifest = Manifest {
        program: "arrears".into(),
        program_version: env!("CARGO_PKG_VERSION").into(),
        schema_version: SCHEMA_VERSION.into(),
        as_of_date: as_of.clone(),
        threads: rayon::current_num_threads(),
        memory: {
            memory.peak_rss_bytes = peak_rss();
            memory
        },
        object_store: match crate::object::traffic() {
            (0, _) => None,
            (requests, bytes) => Some(ObjectStoreTraffic { requests, bytes }),
        },
        inputs,
        figures: HeadlineFigures {
            loans: figures.headline.loans,
            principal_balance: money::plain(figures.headline.balance),
            cash_collected: money::plain(figures.headline.cash_collected),
            recovered_prev: figures.period("prev").map(|p| money::plain(p.recovered)),
            recovered_1m: figures.period("1m").map(|p| money::plain(p.recovered)),
            contact_orphans: figures.contacts.orphans,
            promises_due: figures.contacts.promises_due,
            promises_kept: figures.contacts.promises_kept,
            promises_open: figures.contacts.promises_open,
            contacts_today: figures.contacts.today,
            compliance_profile: crate::output::recovery::profile_label(figures.compliance.profile)
                .into(),
            compliance_exceptions: figures.compliance.rows.len(),
            credit_repair_loans: figures.recovery.credit_repair.len(),
            dpd30_plus_balance: figures.headline.dpd30[1].value,
            npl_balance: figures.headline.npl[1].value,
        },
        periods: ["prev", "1m"]
            .iter()
            .map(|&name| {
                let p = figures.period(name);
                PeriodInfo {
                    period: name.into(),
                    available: p.is_some(),
                    from_date: p.map(|p| p.from_date.to_string()),
                    tiers_from: p.map(|p| p.tiers_from.label().to_string()),
                }
            })
            .collect(),
        outputs: outputs.clone(),
        report: report_target.display().to_string(),
        workbook: workbook_target.display().to_string(),
        experiments: crate::output::manifest::ExperimentsInfo {
            running: policy.experiments.iter().map(|e| e.name.clone()).collect(),
            evaluated: {
                let mut v: Vec<String> = figures
                    .experiments
                    .iter()
                    .flatten()
                    .map(|a| a.experiment.clone())
                    .collect();
                v.dedup();
                v
            },
            not_evaluated: figures.experiments_unavailable().map(String::from),
        },
        checks: figures.checks.clone(),
        timings: clock.timings.clone(),
    };
    let manifest_path = stage.file("manifest", "manifest.json")?;
    let json = serde_json::to_string_pretty(&manifest).context("serialising the manifest")?;
    publish::write_synced(&manifest_path, json.as_bytes())?;

    let manifest_target = stage.target("manifest").join("manifest.json");
    stage.publish()?;
    // The archive page, from every published date's manifest. The run is
    // published: a failure here is reported, and the next run rewrites it.
    if let Err(e) = crate::report::archive::rewrite(output, engine.locale()) {
        eprintln!("arrears: warning: the archive page was not rewritten: {e:#}");
    }
    Ok(RunSummary {
        as_of: figures.as_of,
        report: report_target,
        manifest: manifest_target,
        tables: outputs
            .into_iter()
            .map(|o| (o.table, PathBuf::from(o.path), o.rows))
            .collect(),
        unavailable: figures.unavailable.clone(),
        recovered,
    })
}

/// The run-off forecast: the cohort `1m` matrix, and the duration matrix
/// when the earlier runs chain a whole month of nights without a gap.
fn forecast_of(f: &Figures, past: &history::History) -> Vec<forecast::Projection> {
    let Some(m1) = f.period("1m") else {
        return Vec::new();
    };
    let chain = past.month_chain(m1.from_date, f.as_of, f.prev_night());
    let duration = (!chain.nights.is_empty() && chain.gaps.is_empty()).then(|| {
        let thin = std::array::from_fn(|i| i < BUCKETS && !chain.at_risk(i));
        (chain.matrix(), thin)
    });
    forecast::projections(&f.by_bucket, Some(&m1.buckets), duration)
}
