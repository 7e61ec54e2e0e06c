//! Column builders that every table's module shares: the money type and a
//! builder that refuses what it cannot hold, fields, batches, the run-date
//! column and dimension labels. The tables' modules import these; nothing
//! here imports a table, so the table registry (`tables::all`) can call
//! every table's builder without an import circle.

use std::sync::Arc;

use anyhow::Result;
use arrow::array::{ArrayRef, Decimal128Builder};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;

use crate::base::calendar::date32;
use crate::error::bad_input;

pub fn money_type() -> DataType {
    DataType::Decimal128(20, 2)
}

const MAX_DECIMAL_20: i128 = 10i128.pow(20) - 1;

/// A Decimal128(20, 2) column builder that refuses values it cannot hold.
pub struct Money {
    b: Decimal128Builder,
    column: &'static str,
}

impl Money {
    pub fn new(column: &'static str) -> Money {
        Money {
            b: Decimal128Builder::new().with_data_type(money_type()),
            column,
        }
    }
    pub fn push(&mut self, cents: i128) -> Result<()> {
        if cents.abs() > MAX_DECIMAL_20 {
            return Err(bad_input(format!(
                "output column '{}': total {cents} cents does not fit Decimal128(20, 2); check the input amounts",
                self.column
            )));
        }
        self.b.append_value(cents);
        Ok(())
    }
    pub fn push_null(&mut self) {
        self.b.append_null();
    }
    pub fn finish(mut self) -> ArrayRef {
        Arc::new(self.b.finish())
    }
}

pub(crate) fn field(name: &str, t: DataType, nullable: bool) -> Field {
    Field::new(name, t, nullable)
}

pub(crate) fn batch(fields: Vec<Field>, columns: Vec<ArrayRef>) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

pub(crate) fn dates(d: NaiveDate, n: usize) -> ArrayRef {
    Arc::new(arrow::array::Date32Array::from(vec![date32(d); n]))
}

pub(crate) fn label(labels: &[Option<String>], code: usize) -> Option<&str> {
    labels.get(code).and_then(|l| l.as_deref())
}
