//! `report/as_of_date=D/report.xlsx` (issue 17): the report's tables as an
//! Excel workbook for the risk team's monthly packs, one sheet each,
//! numbers as numbers with number formats (money `#,##0.00`, counts
//! `#,##0`, rates `0.0000`, dates `yyyy-mm-dd`).
//!
//! Sheets: `headline` (the book's ratios with numerator and denominator);
//! `roll_rates_prev` and `roll_rates_1m` (the bucket matrices by loans, a
//! grid as the report draws them); `tiers` (loans and balance per tier
//! rule); every published table but the loan-level ones (worklist, credit
//! repair, compliance exceptions) with the table's own columns, so a sheet
//! can be checked cell by cell against its Parquet file; and
//! `compliance_summary` (exceptions per rule). Written with
//! rust_xlsxwriter; the document's creation time is the run date, so a
//! rerun writes the same bytes.

use std::path::Path;

use anyhow::{Context, Result};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Date32Type, Decimal128Type, Float64Type, Int32Type, Int64Type};
use arrow::record_batch::RecordBatch;
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use crate::figures::Figures;
use crate::output::tables::{from_label, to_label};
use crate::policy::Policy;

/// Tables left out: one row per loan or per contact, not for a pack.
const LOAN_LEVEL: [&str; 3] = ["worklist", "credit_repair", "compliance"];

struct Formats {
    head: Format,
    money: Format,
    count: Format,
    rate: Format,
    date: Format,
}

fn xl(e: XlsxError) -> anyhow::Error {
    anyhow::anyhow!("writing the workbook: {e}")
}

/// The longest text an Excel cell holds, in UTF-16 code units.
const MAX_CELL: usize = 32_767;

/// Writes `s` into a cell; a text longer than a cell holds (a region name
/// of 40,000 characters) is cut and says so, rather than failing the run:
/// the Parquet table keeps the whole value.
fn text(ws: &mut Worksheet, row: u32, col: u16, s: &str) -> Result<()> {
    if s.encode_utf16().count() <= MAX_CELL {
        ws.write_string(row, col, s).map_err(xl)?;
        return Ok(());
    }
    let note = format!(
        " … [cut: {} characters in all; the Parquet table holds the whole text]",
        s.chars().count()
    );
    let room = MAX_CELL - note.encode_utf16().count();
    let mut used = 0;
    let mut end = 0;
    for (i, ch) in s.char_indices() {
        if used + ch.len_utf16() > room {
            break;
        }
        used += ch.len_utf16();
        end = i + ch.len_utf8();
    }
    ws.write_string(row, col, format!("{}{note}", &s[..end]))
        .map_err(xl)?;
    Ok(())
}

/// Writes a date into a cell as a date, or as its ISO text where Excel's
/// calendar (1900-01-01 to 9999-12-31) cannot hold it: a forecast month
/// past 9999, say.
fn date(ws: &mut Worksheet, row: u32, col: u16, d: NaiveDate, fm: &Formats) -> Result<()> {
    match excel_date(d) {
        Some(x) => ws
            .write_datetime_with_format(row, col, &x, &fm.date)
            .map(|_| ())
            .map_err(xl),
        None => text(ws, row, col, &d.to_string()),
    }
}

fn excel_date(d: NaiveDate) -> Option<ExcelDateTime> {
    let (y, m, day) = (d.year(), d.month() as u8, d.day() as u8);
    if !(1900..=9999).contains(&y) {
        return None;
    }
    ExcelDateTime::from_ymd(y as u16, m, day).ok()
}

fn header(ws: &mut Worksheet, fm: &Formats, names: &[&str]) -> Result<()> {
    for (c, n) in names.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *n, &fm.head)
            .map_err(xl)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xl)?;
    Ok(())
}

/// A table's batch as a sheet: its columns, its rows, nulls left blank.
fn table_sheet(ws: &mut Worksheet, fm: &Formats, b: &RecordBatch) -> Result<()> {
    let schema = b.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    header(ws, fm, &names)?;
    for (c, col) in b.columns().iter().enumerate() {
        let c = c as u16;
        for r in 0..b.num_rows() {
            let row = r as u32 + 1;
            if col.is_null(r) {
                continue;
            }
            match col.data_type() {
                DataType::Utf8 => {
                    text(ws, row, c, col.as_string::<i32>().value(r))?;
                }
                DataType::Int64 => {
                    let v = col.as_primitive::<Int64Type>().value(r);
                    ws.write_number_with_format(row, c, v as f64, &fm.count)
                        .map_err(xl)?;
                }
                DataType::Int32 => {
                    let v = col.as_primitive::<Int32Type>().value(r);
                    ws.write_number_with_format(row, c, v as f64, &fm.count)
                        .map_err(xl)?;
                }
                DataType::Float64 => {
                    let v = col.as_primitive::<Float64Type>().value(r);
                    ws.write_number_with_format(row, c, v, &fm.rate)
                        .map_err(xl)?;
                }
                DataType::Decimal128(_, scale) => {
                    let v = col.as_primitive::<Decimal128Type>().value(r);
                    let x = v as f64 / 10f64.powi(*scale as i32);
                    ws.write_number_with_format(row, c, x, &fm.money)
                        .map_err(xl)?;
                }
                DataType::Date32 => {
                    let days = col.as_primitive::<Date32Type>().value(r);
                    match crate::base::calendar::EPOCH
                        .checked_add_signed(chrono::Duration::days(days as i64))
                    {
                        Some(d) => date(ws, row, c, d, fm)?,
                        None => text(ws, row, c, &format!("{days} days from 1970-01-01"))?,
                    }
                }
                DataType::Boolean => {
                    ws.write_boolean(row, c, col.as_boolean().value(r))
                        .map_err(xl)?;
                }
                other => anyhow::bail!("no sheet cell for a {other} column"),
            }
        }
    }
    ws.autofit();
    Ok(())
}

/// Writes the workbook of a run.
pub fn write(
    path: &Path,
    f: &Figures,
    tables: &[(&str, RecordBatch)],
    policy: &Policy,
) -> Result<()> {
    let mut wb = Workbook::new();
    // The creation time is the run date: reruns give the same bytes.
    let created = excel_date(f.as_of)
        .or_else(|| excel_date(crate::base::calendar::FIRST))
        .expect("1900-01-01 is an Excel date");
    wb.set_properties(
        &DocProperties::new()
            .set_title(format!("arrears report {}", f.as_of))
            .set_creation_datetime(&created),
    );
    let fm = Formats {
        head: Format::new().set_bold(),
        money: Format::new().set_num_format("#,##0.00"),
        count: Format::new().set_num_format("#,##0"),
        rate: Format::new().set_num_format("0.0000"),
        date: Format::new().set_num_format("yyyy-mm-dd"),
    };

    // Headline: each ratio on both bases with what it is made of.
    {
        let ws = wb.add_worksheet();
        ws.set_name("headline").map_err(xl)?;
        header(
            ws,
            &fm,
            &[
                "as_of_date",
                "metric",
                "basis",
                "value",
                "numerator",
                "denominator",
            ],
        )?;
        let h = &f.headline;
        let mut row = 1u32;
        for (name, pair) in [
            ("dpd1_plus", &h.dpd1),
            ("dpd30_plus", &h.dpd30),
            ("dpd90_plus", &h.dpd90),
            ("npl", &h.npl),
        ] {
            for (k, basis) in ["count", "balance"].iter().enumerate() {
                let r = &pair[k];
                let scale = if k == 1 { 100.0 } else { 1.0 };
                let f_num = if k == 1 { &fm.money } else { &fm.count };
                date(ws, row, 0, f.as_of, &fm)?;
                ws.write_string(row, 1, name).map_err(xl)?;
                ws.write_string(row, 2, *basis).map_err(xl)?;
                if let Some(v) = r.value {
                    ws.write_number_with_format(row, 3, v, &fm.rate)
                        .map_err(xl)?;
                }
                ws.write_number_with_format(row, 4, r.numerator as f64 / scale, f_num)
                    .map_err(xl)?;
                ws.write_number_with_format(row, 5, r.denominator as f64 / scale, f_num)
                    .map_err(xl)?;
                row += 1;
            }
        }
        for (name, v, money) in [
            ("loans", h.loans as i128, false),
            ("principal_balance", h.balance, true),
            ("cash_collected", h.cash_collected, true),
        ] {
            date(ws, row, 0, f.as_of, &fm)?;
            ws.write_string(row, 1, name).map_err(xl)?;
            if money {
                ws.write_number_with_format(row, 3, v as f64 / 100.0, &fm.money)
                    .map_err(xl)?;
            } else {
                ws.write_number_with_format(row, 3, v as f64, &fm.count)
                    .map_err(xl)?;
            }
            row += 1;
        }
        ws.autofit();
    }

    // The bucket matrices by loans, as grids.
    for p in &f.periods {
        let ws = wb.add_worksheet();
        ws.set_name(format!("roll_rates_{}", p.name)).map_err(xl)?;
        let m = &p.buckets;
        let mut names = vec!["from \\ to"];
        names.extend((0..=m.n).map(to_label));
        header(ws, &fm, &names)?;
        for i in 0..=m.n {
            ws.write_string_with_format(i as u32 + 1, 0, from_label(i), &fm.head)
                .map_err(xl)?;
            for j in 0..=m.n {
                ws.write_number_with_format(
                    i as u32 + 1,
                    j as u16 + 1,
                    m.cell(i, j).loans as f64,
                    &fm.count,
                )
                .map_err(xl)?;
            }
        }
        ws.autofit();
    }

    // Tiers by the rule that gave them.
    {
        let ws = wb.add_worksheet();
        ws.set_name("tiers").map_err(xl)?;
        header(
            ws,
            &fm,
            &["tier", "tier_reason", "experiment", "loans", "balance"],
        )?;
        let mut row = 1u32;
        for (k, r) in policy.all_rules().iter().enumerate() {
            let t = &f.strategy_summary.by_rule[k];
            if t.loans == 0 {
                continue;
            }
            ws.write_string(row, 0, r.tier.label()).map_err(xl)?;
            text(ws, row, 1, &r.reason)?;
            if let Some(x) = policy.experiment_of_rule(k) {
                text(ws, row, 2, &x.name)?;
            }
            ws.write_number_with_format(row, 3, t.loans as f64, &fm.count)
                .map_err(xl)?;
            ws.write_number_with_format(row, 4, t.balance as f64 / 100.0, &fm.money)
                .map_err(xl)?;
            row += 1;
        }
        ws.autofit();
    }

    for (name, b) in tables {
        if LOAN_LEVEL.contains(name) {
            continue;
        }
        let ws = wb.add_worksheet();
        ws.set_name(*name).map_err(xl)?;
        table_sheet(ws, &fm, b)?;
    }

    // Compliance exceptions per rule.
    {
        let ws = wb.add_worksheet();
        ws.set_name("compliance_summary").map_err(xl)?;
        header(ws, &fm, &["rule", "exceptions"])?;
        for (k, (rule, n)) in f.compliance.by_rule().into_iter().enumerate() {
            ws.write_string(k as u32 + 1, 0, rule.label()).map_err(xl)?;
            ws.write_number_with_format(k as u32 + 1, 1, n as f64, &fm.count)
                .map_err(xl)?;
        }
        ws.autofit();
    }

    let bytes = wb.save_to_buffer().map_err(xl)?;
    crate::output::publish::write_synced(path, &bytes)
        .with_context(|| format!("writing '{}'", path.display()))
}
