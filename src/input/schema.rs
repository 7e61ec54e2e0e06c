//! The input contract's columns and the Arrow types each may arrive as
//! (data-contract.md). Checked against every file's schema before any data
//! is decoded, so a wrong file fails in milliseconds, not after a full read.

use arrow::datatypes::{DataType, Schema};

/// Families of Arrow types the contract accepts for a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepts {
    /// Utf8 / LargeUtf8 / Utf8View / Int64.
    Id,
    /// Utf8 / LargeUtf8 / Utf8View, or a dictionary of those.
    Text,
    /// Date32.
    Date,
    /// Decimal (scale <= 4) or Float64.
    Money,
    /// Int32 / Int64.
    Integer,
    /// Boolean.
    Boolean,
    /// Timestamp of any unit, with or without time zone.
    Timestamp,
}

impl Accepts {
    pub fn describe(self) -> &'static str {
        match self {
            Accepts::Id => "Utf8, LargeUtf8, Utf8View or Int64",
            Accepts::Text => "Utf8, LargeUtf8, Utf8View or a dictionary of Utf8",
            Accepts::Date => "Date32",
            Accepts::Money => "Decimal128(p, s<=4) or Float64",
            Accepts::Integer => "Int32 or Int64",
            Accepts::Boolean => "Boolean",
            Accepts::Timestamp => "Timestamp",
        }
    }

    pub fn accepts(self, t: &DataType) -> bool {
        use DataType::*;
        match self {
            Accepts::Id => matches!(t, Utf8 | LargeUtf8 | Utf8View | Int64),
            Accepts::Text => match t {
                Utf8 | LargeUtf8 | Utf8View => true,
                Dictionary(k, v) => {
                    k.is_dictionary_key_type() && matches!(**v, Utf8 | LargeUtf8 | Utf8View)
                }
                _ => false,
            },
            Accepts::Date => matches!(t, Date32),
            // Parquet writers store small decimals as INT32/INT64; readers may
            // surface those as Decimal32/Decimal64. All are the same numbers.
            Accepts::Money => match t {
                Float64 => true,
                Decimal32(_, s) | Decimal64(_, s) | Decimal128(_, s) => (0..=4).contains(s),
                _ => false,
            },
            Accepts::Integer => matches!(t, Int32 | Int64),
            Accepts::Boolean => matches!(t, Boolean),
            Accepts::Timestamp => matches!(t, Timestamp(_, _)),
        }
    }
}

/// One column of the contract.
#[derive(Clone, Copy, Debug)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub accepts: Accepts,
    pub nullable: bool,
}

const fn col(name: &'static str, accepts: Accepts, nullable: bool) -> ColumnSpec {
    ColumnSpec {
        name,
        accepts,
        nullable,
    }
}

/// The `loans` table of the contract, in contract order.
pub const LOANS: &[ColumnSpec] = &[
    col("loan_id", Accepts::Id, false),
    col("product", Accepts::Text, false),
    col("region", Accepts::Text, true),
    col("credit_grade", Accepts::Text, true),
    col("origination_date", Accepts::Date, false),
    col("original_principal", Accepts::Money, false),
    col("principal_balance", Accepts::Money, false),
    col("scheduled_payment", Accepts::Money, true),
    col("past_due_amount", Accepts::Money, false),
    col("days_past_due", Accepts::Integer, false),
    col("paid_amount", Accepts::Money, false),
    col("status", Accepts::Text, false),
    col("charge_off_date", Accepts::Date, true),
    col("charge_off_amount", Accepts::Money, true),
    col("recovered_to_date", Accepts::Money, true),
    col("collateral_value", Accepts::Money, true),
    col("senior_lien_balance", Accepts::Money, true),
    col("plan_status", Accepts::Text, true),
    col("legal_stage", Accepts::Text, true),
    col("contactable", Accepts::Boolean, true),
];

/// Optional column that, when present, must agree with the partition.
pub const AS_OF_DATE: &str = "as_of_date";

/// Checks a file's schema against the contract. Returns every problem, one
/// line each, so that a data engineer fixes them in one go.
pub fn check(schema: &Schema, spec: &[ColumnSpec]) -> Vec<String> {
    let mut problems = Vec::new();
    for c in spec {
        match schema.field_with_name(c.name) {
            Err(_) => problems.push(format!("missing required column '{}'", c.name)),
            Ok(f) if !c.accepts.accepts(f.data_type()) => problems.push(format!(
                "column '{}' has type {}, expected {}",
                c.name,
                f.data_type(),
                c.accepts.describe()
            )),
            Ok(_) => {}
        }
    }
    if let Ok(f) = schema.field_with_name(AS_OF_DATE) {
        if !matches!(
            f.data_type(),
            DataType::Date32 | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            problems.push(format!(
                "column '{AS_OF_DATE}' has type {}, expected Date32 or a YYYY-MM-DD string",
                f.data_type()
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::Field;

    #[test]
    fn accepted_variants() {
        assert!(Accepts::Money.accepts(&DataType::Decimal128(18, 2)));
        assert!(Accepts::Money.accepts(&DataType::Decimal128(38, 4)));
        assert!(!Accepts::Money.accepts(&DataType::Decimal128(38, 5)));
        assert!(Accepts::Money.accepts(&DataType::Float64));
        assert!(!Accepts::Money.accepts(&DataType::Float32));
        assert!(Accepts::Text.accepts(&DataType::Dictionary(
            Box::new(DataType::Int8),
            Box::new(DataType::Utf8)
        )));
        assert!(!Accepts::Id.accepts(&DataType::Int32));
        assert!(Accepts::Integer.accepts(&DataType::Int64));
    }

    #[test]
    fn reports_every_problem() {
        let schema = Schema::new(vec![
            Field::new("loan_id", DataType::Float64, false),
            Field::new("product", DataType::Utf8, false),
        ]);
        let p = check(&schema, LOANS);
        assert!(p[0].contains("'loan_id' has type Float64"));
        assert_eq!(p.len(), LOANS.len() - 1);
    }
}
