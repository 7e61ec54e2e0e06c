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
            Accepts::Money => "Decimal(p, s<=4) or Float64",
            Accepts::Integer => "Int32 or Int64",
            Accepts::Boolean => "Boolean",
            Accepts::Timestamp => "Timestamp",
        }
    }

    /// The type an absent optional column of this family is read as (all
    /// null): one of the accepted ones.
    pub fn null_type(self) -> DataType {
        match self {
            Accepts::Id | Accepts::Text => DataType::Utf8,
            Accepts::Date => DataType::Date32,
            Accepts::Money => DataType::Float64,
            Accepts::Integer => DataType::Int64,
            Accepts::Boolean => DataType::Boolean,
            Accepts::Timestamp => {
                DataType::Timestamp(arrow::datatypes::TimeUnit::Millisecond, None)
            }
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
            // surface those as Decimal32/Decimal64, and a precision above 38
            // as Decimal256. All are the same numbers (amounts above 10^15
            // are rejected row by row, whatever the width).
            Accepts::Money => match t {
                Float64 => true,
                Decimal32(_, s) | Decimal64(_, s) | Decimal128(_, s) | Decimal256(_, s) => {
                    (0..=4).contains(s)
                }
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
    /// May hold nulls.
    pub nullable: bool,
    /// May be absent from a file, reading as null for every row
    /// (data-contract.md v2: every loans column but the nine required ones).
    pub optional: bool,
}

const fn col(name: &'static str, accepts: Accepts, nullable: bool) -> ColumnSpec {
    ColumnSpec {
        name,
        accepts,
        nullable,
        optional: false,
    }
}

/// A nullable column that a book may leave out.
const fn optional(name: &'static str, accepts: Accepts) -> ColumnSpec {
    ColumnSpec {
        name,
        accepts,
        nullable: true,
        optional: true,
    }
}

/// The `loans` table of the contract, in contract order: nine required
/// columns, the others optional.
pub const LOANS: &[ColumnSpec] = &[
    col("loan_id", Accepts::Id, false),
    col("product", Accepts::Text, false),
    optional("region", Accepts::Text),
    optional("credit_grade", Accepts::Text),
    col("origination_date", Accepts::Date, false),
    col("original_principal", Accepts::Money, false),
    col("principal_balance", Accepts::Money, false),
    optional("scheduled_payment", Accepts::Money),
    col("past_due_amount", Accepts::Money, false),
    col("days_past_due", Accepts::Integer, false),
    col("paid_amount", Accepts::Money, false),
    col("status", Accepts::Text, false),
    optional("charge_off_date", Accepts::Date),
    optional("charge_off_amount", Accepts::Money),
    optional("recovered_to_date", Accepts::Money),
    optional("collateral_value", Accepts::Money),
    optional("senior_lien_balance", Accepts::Money),
    optional("plan_status", Accepts::Text),
    optional("legal_stage", Accepts::Text),
    optional("contactable", Accepts::Boolean),
];

/// Optional column that, when present, must agree with the partition.
pub const AS_OF_DATE: &str = "as_of_date";

/// The contract column of that name.
pub fn spec(table: &[ColumnSpec], name: &str) -> Option<ColumnSpec> {
    table.iter().find(|c| c.name == name).copied()
}

/// Checks a file's schema against the contract. Returns every problem, one
/// line each, so that a data engineer fixes them in one go.
///
/// An optional column may be absent, and may also arrive with Arrow's
/// `Null` type: what a writer produces for a column it only knows to be
/// empty (pyarrow's `pa.nulls(n)` without a type). Either reads as null for
/// every row.
pub fn check(schema: &Schema, spec: &[ColumnSpec]) -> Vec<String> {
    let mut problems = Vec::new();
    for c in spec {
        match schema.field_with_name(c.name) {
            Err(_) if c.optional => {}
            Err(_) => problems.push(format!("missing required column '{}'", c.name)),
            Ok(f) if c.optional && f.data_type() == &DataType::Null => {}
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
        let required = LOANS.iter().filter(|c| !c.optional).count();
        assert_eq!(required, 9, "data-contract.md v2: nine required columns");
        // loan_id mistyped, the seven other required ones missing; the
        // optional ones may be absent.
        assert_eq!(p.len(), required - 1, "{p:?}");
        assert!(p.iter().all(|x| !x.contains("'region'")), "{p:?}");
    }

    #[test]
    fn optional_columns_may_be_null_typed_but_required_ones_not() {
        let schema = Schema::new(vec![
            Field::new("days_past_due", DataType::Null, true),
            Field::new("collateral_value", DataType::Null, true),
        ]);
        let p = check(&schema, LOANS);
        assert!(
            p.iter()
                .any(|x| x == "column 'days_past_due' has type Null, expected Int32 or Int64"),
            "{p:?}"
        );
        assert!(p.iter().all(|x| !x.contains("collateral_value")), "{p:?}");
    }
}
