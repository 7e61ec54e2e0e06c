//! How to write the worklist's low-cardinality text columns (bucket, class,
//! tier, tier_reason, route, product, region): the Parquet writer interns
//! every value into its dictionary. One worklist file (1,048,576 loans) of
//! the seven columns, written three ways with the job's writer settings:
//!
//! - `utf8`: plain string arrays, dictionary pages (what the job writes);
//! - `dictionary`: Arrow dictionary arrays (codes + labels, what the job
//!   already holds), dictionary pages;
//! - `plain`: string arrays without dictionary pages (no interning at all).
//!
//! `cargo bench --bench worklist_text`; figures and the choice in
//! BENCHMARKS.md. Prints each variant's file size once.

use std::hint::black_box;
use std::sync::Arc;

use arrears::output::parquet_file;
use arrow::array::{ArrayRef, DictionaryArray, StringArray, UInt16Array};
use arrow::datatypes::{DataType, Field, Schema, UInt16Type};
use arrow::record_batch::RecordBatch;
use criterion::{criterion_group, criterion_main, Criterion};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

const ROWS: usize = 1 << 20;

/// (column, distinct labels): the demo book's cardinalities, about.
const COLUMNS: [(&str, usize); 7] = [
    ("bucket", 8),
    ("class", 5),
    ("tier", 6),
    ("tier_reason", 12),
    ("route", 3),
    ("product", 5),
    ("region", 31),
];

/// Codes skewed towards the first labels (most loans current, most in a
/// few regions), from a fixed linear congruential sequence.
fn codes(labels: usize, salt: u64) -> Vec<u16> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ salt;
    (0..ROWS)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (x >> 33) as usize % (labels * labels);
            (u as f64).sqrt() as u16 % labels as u16
        })
        .collect()
}

fn batches() -> (RecordBatch, RecordBatch) {
    let mut utf8: Vec<ArrayRef> = Vec::new();
    let mut dict: Vec<ArrayRef> = Vec::new();
    let mut f_utf8 = Vec::new();
    let mut f_dict = Vec::new();
    for (k, (name, n)) in COLUMNS.iter().enumerate() {
        let labels: Vec<String> = (0..*n).map(|i| format!("{name}_{i:02}")).collect();
        let c = codes(*n, k as u64);
        utf8.push(Arc::new(StringArray::from_iter_values(
            c.iter().map(|&i| labels[i as usize].as_str()),
        )));
        let values = Arc::new(StringArray::from_iter_values(labels.iter()));
        dict.push(Arc::new(
            DictionaryArray::<UInt16Type>::try_new(UInt16Array::from(c), values).unwrap(),
        ));
        f_utf8.push(Field::new(*name, DataType::Utf8, false));
        f_dict.push(Field::new(
            *name,
            DataType::Dictionary(Box::new(DataType::UInt16), Box::new(DataType::Utf8)),
            false,
        ));
    }
    (
        RecordBatch::try_new(Arc::new(Schema::new(f_utf8)), utf8).unwrap(),
        RecordBatch::try_new(Arc::new(Schema::new(f_dict)), dict).unwrap(),
    )
}

fn write(batch: &RecordBatch, props: WriterProperties) -> usize {
    let mut out = Vec::with_capacity(1 << 20);
    let mut w = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    out.len()
}

fn plain() -> WriterProperties {
    let mut b = parquet_file::properties("worklist", "2026-11-29").into_builder();
    for (name, _) in COLUMNS {
        b = b.set_column_dictionary_enabled(ColumnPath::from(name), false);
    }
    b.build()
}

fn worklist_text(c: &mut Criterion) {
    let (utf8, dict) = batches();
    let props = || parquet_file::properties("worklist", "2026-11-29");
    println!(
        "file bytes: utf8 {}, dictionary {}, plain {}",
        write(&utf8, props()),
        write(&dict, props()),
        write(&utf8, plain())
    );
    let mut g = c.benchmark_group("worklist_text_1m_rows");
    g.sample_size(10);
    g.bench_function("utf8", |b| b.iter(|| black_box(write(&utf8, props()))));
    g.bench_function("dictionary", |b| {
        b.iter(|| black_box(write(&dict, props())))
    });
    g.bench_function("plain", |b| b.iter(|| black_box(write(&utf8, plain()))));
    g.finish();
}

criterion_group!(benches, worklist_text);
criterion_main!(benches);
