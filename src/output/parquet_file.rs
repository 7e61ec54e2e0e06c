//! Writes one Arrow table as a Parquet file: ZSTD, column statistics and the
//! contract's key-value metadata set explicitly, so that the same batch
//! always gives the same bytes.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::error::{fail, FailureKind};

/// Key-value metadata of every output file.
pub fn properties(table: &str, as_of: &str) -> WriterProperties {
    let kv = vec![
        KeyValue::new(
            "schema_version".to_string(),
            super::SCHEMA_VERSION.to_string(),
        ),
        KeyValue::new("program".to_string(), "arrears".to_string()),
        KeyValue::new(
            "program_version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
        KeyValue::new("table".to_string(), table.to_string()),
        KeyValue::new("as_of_date".to_string(), as_of.to_string()),
    ];
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("valid zstd level"),
        ))
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_key_value_metadata(Some(kv));
    if table == "worklist" || table == "credit_repair" {
        // Loan-level tables: every loan_id is distinct, so a dictionary
        // never pays; building one (hashing every id until the dictionary
        // page overflows) only cost time.
        b = b.set_column_dictionary_enabled(ColumnPath::from("loan_id"), false);
    }
    b.build()
}

/// Writes `batches` (one schema) to `path`, flushed and synced to disk.
pub fn write(path: &Path, table: &str, as_of: &str, batches: &[RecordBatch]) -> Result<()> {
    let io = |e: std::io::Error| {
        fail(
            FailureKind::Output,
            format!("writing '{}': {e}", path.display()),
        )
    };
    let file = crate::base::owned::create_file(path)?;
    let schema = batches
        .first()
        .map(|b| b.schema())
        .context("no batch to write")?;
    let mut w = ArrowWriter::try_new(BufWriter::new(file), schema, Some(properties(table, as_of)))
        .with_context(|| format!("starting Parquet writer for '{}'", path.display()))?;
    for b in batches {
        w.write(b).map_err(|e| {
            fail(
                FailureKind::Output,
                format!("writing '{}': {e}", path.display()),
            )
        })?;
    }
    let mut inner = w.into_inner().map_err(|e| {
        fail(
            FailureKind::Output,
            format!("closing '{}': {e}", path.display()),
        )
    })?;
    inner.flush().map_err(io)?;
    inner.get_ref().sync_all().map_err(io)?;
    Ok(())
}
