//! Test helpers: turn the fixtures' CSV into contract Parquet files in a
//! chosen type variant, and read published tables back as strings.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, DictionaryArray, Float64Array,
    Int32Array, Int64Array, StringArray,
};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, Field, Int8Type, Schema};
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

/// How to type a fixture when writing it as Parquet.
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    /// `None` = Float64, `Some(s)` = Decimal128(18 + s, s).
    pub money_scale: Option<i8>,
    pub int_ids: bool,
    pub dictionary_product: bool,
    pub dpd_int64: bool,
    /// Rows per row group.
    pub row_group: usize,
    pub with_as_of_column: bool,
}

impl Default for Variant {
    fn default() -> Self {
        Variant {
            money_scale: Some(2),
            int_ids: false,
            dictionary_product: false,
            dpd_int64: false,
            row_group: 1024,
            with_as_of_column: true,
        }
    }
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A parsed fixture CSV: header and rows of optional cells.
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

pub fn read_csv(path: &Path) -> Csv {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines
        .next()
        .expect("header")
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|c| (!c.is_empty()).then(|| c.to_string()))
                .collect()
        })
        .collect();
    Csv { header, rows }
}

fn cents(s: &str) -> i128 {
    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
    let frac = format!("{frac:0<2}");
    whole.parse::<i128>().unwrap() * 100 + frac[..2].parse::<i128>().unwrap()
}

fn date32(s: &str) -> i32 {
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
}

/// Builds a full contract batch from a fixture CSV (core columns given in
/// the CSV; the other contract columns filled with fixed values).
pub fn contract_batch(csv: &Csv, as_of: &str, v: Variant) -> RecordBatch {
    let col = |name: &str| -> Vec<Option<String>> {
        let i = csv
            .header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"));
        csv.rows
            .iter()
            .map(|r| r.get(i).cloned().flatten())
            .collect()
    };
    let has = |name: &str| csv.header.iter().any(|h| h == name);
    let n = csv.rows.len();
    let money = |vals: Vec<Option<String>>| -> (DataType, ArrayRef) {
        match v.money_scale {
            None => (
                DataType::Float64,
                Arc::new(Float64Array::from(
                    vals.iter()
                        .map(|x| x.as_ref().map(|s| s.parse::<f64>().unwrap()))
                        .collect::<Vec<_>>(),
                )),
            ),
            Some(s) => {
                let mul = 10i128.pow(s as u32);
                let t = DataType::Decimal128(18 + s as u8, s);
                let a = Decimal128Array::from(
                    vals.iter()
                        .map(|x| x.as_ref().map(|s| cents(s) * mul / 100))
                        .collect::<Vec<_>>(),
                )
                .with_data_type(t.clone());
                (t, Arc::new(a))
            }
        }
    };
    let text = |vals: Vec<Option<String>>| -> ArrayRef { Arc::new(StringArray::from(vals)) };
    let ids = col("loan_id");
    let (id_t, id_a): (DataType, ArrayRef) = if v.int_ids {
        (
            DataType::Int64,
            Arc::new(Int64Array::from(
                ids.iter()
                    .map(|s| s.as_ref().unwrap()[1..].parse::<i64>().unwrap())
                    .collect::<Vec<_>>(),
            )),
        )
    } else {
        (DataType::Utf8, text(ids))
    };
    let (prod_t, prod_a): (DataType, ArrayRef) = if v.dictionary_product {
        let d: DictionaryArray<Int8Type> = col("product").iter().map(|s| s.as_deref()).collect();
        (
            DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8)),
            Arc::new(d),
        )
    } else {
        (DataType::Utf8, text(col("product")))
    };
    let dpd: Vec<i64> = col("days_past_due")
        .iter()
        .map(|s| s.as_ref().unwrap().parse().unwrap())
        .collect();
    let (dpd_t, dpd_a): (DataType, ArrayRef) = if v.dpd_int64 {
        (DataType::Int64, Arc::new(Int64Array::from(dpd)))
    } else {
        (
            DataType::Int32,
            Arc::new(Int32Array::from(
                dpd.iter().map(|&d| d as i32).collect::<Vec<_>>(),
            )),
        )
    };
    let status = col("status");
    let (m_t, bal) = money(col("principal_balance"));
    let (_, pd) = money(col("past_due_amount"));
    let (_, paid) = money(col("paid_amount"));
    let (_, orig) = money(if has("original_principal") {
        col("original_principal")
    } else {
        vec![Some("50000.00".to_string()); n]
    });
    let (_, sched) = money(vec![Some("1000.00".to_string()); n]);
    let nulls = |t: DataType| arrow::array::new_null_array(&t, n);
    let co_date: ArrayRef = Arc::new(Date32Array::from(if has("charge_off_date") {
        col("charge_off_date")
            .iter()
            .map(|d| d.as_deref().map(date32))
            .collect::<Vec<_>>()
    } else {
        status
            .iter()
            .map(|s| (s.as_deref() == Some("charged_off")).then(|| date32("2026-06-30")))
            .collect::<Vec<_>>()
    }));
    let mut fields = vec![Field::new("loan_id", id_t, false)];
    let mut cols: Vec<ArrayRef> = vec![id_a];
    if v.with_as_of_column {
        fields.push(Field::new("as_of_date", DataType::Date32, false));
        cols.push(Arc::new(Date32Array::from(vec![date32(as_of); n])));
    }
    let mut add = |name: &str, t: DataType, a: ArrayRef| {
        fields.push(Field::new(name, t, true));
        cols.push(a);
    };
    add("product", prod_t, prod_a);
    add("region", DataType::Utf8, text(col("region")));
    add("credit_grade", DataType::Utf8, text(col("credit_grade")));
    let origination: Vec<i32> = if has("origination_date") {
        col("origination_date")
            .iter()
            .map(|d| date32(d.as_deref().unwrap()))
            .collect()
    } else {
        vec![date32("2024-05-15"); n]
    };
    add(
        "origination_date",
        DataType::Date32,
        Arc::new(Date32Array::from(origination)),
    );
    add("original_principal", m_t.clone(), orig);
    add("principal_balance", m_t.clone(), bal);
    add("scheduled_payment", m_t.clone(), sched);
    add("past_due_amount", m_t.clone(), pd);
    add("days_past_due", dpd_t, dpd_a);
    add("paid_amount", m_t.clone(), paid);
    add("status", DataType::Utf8, text(status));
    add("charge_off_date", DataType::Date32, co_date);
    let co_amount = if has("charge_off_amount") {
        money(col("charge_off_amount")).1
    } else {
        nulls(m_t.clone())
    };
    add("charge_off_amount", m_t.clone(), co_amount);
    add(
        "recovered_to_date",
        m_t.clone(),
        money(col("recovered_to_date")).1,
    );
    let optional_money = |name: &str| {
        if has(name) {
            money(col(name)).1
        } else {
            nulls(m_t.clone())
        }
    };
    add(
        "collateral_value",
        m_t.clone(),
        optional_money("collateral_value"),
    );
    add(
        "senior_lien_balance",
        m_t.clone(),
        optional_money("senior_lien_balance"),
    );
    add("plan_status", DataType::Utf8, text(col("plan_status")));
    let legal = if has("legal_stage") {
        text(col("legal_stage"))
    } else {
        nulls(DataType::Utf8)
    };
    add("legal_stage", DataType::Utf8, legal);
    let contactable: Vec<Option<bool>> = if has("contactable") {
        col("contactable")
            .iter()
            .map(|v| v.as_deref().map(|x| x == "true"))
            .collect()
    } else {
        vec![Some(true); n]
    };
    add(
        "contactable",
        DataType::Boolean,
        Arc::new(BooleanArray::from(contactable)),
    );
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
}

/// Writes a batch as `root/loans/as_of_date=D/<name>`.
pub fn write_partition(
    root: &Path,
    dataset: &str,
    as_of: &str,
    name: &str,
    batch: &RecordBatch,
    row_group: usize,
) -> PathBuf {
    let dir = root.join(dataset).join(format!("as_of_date={as_of}"));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(row_group))
        .build();
    let mut w = ArrowWriter::try_new(
        fs::File::create(&path).unwrap(),
        batch.schema(),
        Some(props),
    )
    .unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    path
}

/// The hand-checked fixture's dates: month-ago, yesterday, today.
pub const HAND_DATES: [&str; 3] = ["2026-10-29", "2026-11-28", "2026-11-29"];

/// Writes the hand-checked fixture under `root`, each date in the given variant.
pub fn write_hand_fixture(root: &Path, variants: [Variant; 3]) {
    for (d, v) in HAND_DATES.iter().zip(variants) {
        let csv = read_csv(&repo().join("fixtures/hand").join(format!("{d}.csv")));
        let b = contract_batch(&csv, d, v);
        write_partition(root, "loans", d, "part-00000.parquet", &b, v.row_group);
    }
}

/// Reads a published table for a date.
pub fn read_table(out: &Path, table: &str, as_of: &str) -> RecordBatch {
    read_parquet(
        &out.join(table)
            .join(format!("as_of_date={as_of}"))
            .join("part-0.parquet"),
    )
}

/// A whole Parquet file as one batch.
pub fn read_parquet(path: &Path) -> RecordBatch {
    let b = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(path).unwrap()).unwrap();
    let schema = b.schema().clone();
    let batches: Vec<RecordBatch> = b.build().unwrap().collect::<Result<_, _>>().unwrap();
    concat_batches(&schema, &batches).unwrap()
}

/// A batch's column names, in order.
pub fn column_names(b: &RecordBatch) -> Vec<String> {
    b.schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

/// A table as rows of display strings (null as "null").
pub fn rows(b: &RecordBatch) -> Vec<Vec<String>> {
    let opts = FormatOptions::default().with_null("null");
    let fmts: Vec<ArrayFormatter> = b
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
        .collect();
    (0..b.num_rows())
        .map(|r| fmts.iter().map(|f| f.value(r).to_string()).collect())
        .collect()
}

/// The `transitions` rows of the whole book (not split by experiment arm)
/// as [`lines`], without the `experiment` and `arm` columns.
pub fn transition_lines(out: &Path, as_of: &str) -> Vec<String> {
    rows(&read_table(out, "transitions", as_of))
        .into_iter()
        .filter(|r| r[8] == "null")
        .map(|r| r[1..8].join("|"))
        .collect()
}

/// Rows as a single string each, columns joined by `|`, without `as_of_date`.
pub fn lines(b: &RecordBatch) -> Vec<String> {
    rows(b).into_iter().map(|r| r[1..].join("|")).collect()
}

// ---- running the binary ----

use assert_cmd::Command;

pub fn arrears() -> Command {
    Command::cargo_bin("arrears").unwrap()
}

/// What a command printed on stderr besides its stage log lines (which a
/// run writes when stderr is not a terminal: `tests/it/progress.rs`).
pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.contains(" INFO stage done ") && !l.contains("\"message\":\"stage done\""))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// `arrears run --input INPUT --output OUT`.
pub fn run_arrears(input: &Path, out: &Path) -> std::process::Output {
    arrears()
        .args(["run", "--input"])
        .arg(input)
        .arg("--output")
        .arg(out)
        .output()
        .unwrap()
}

/// The hand fixture's run-date rows, to be edited into bad input.
pub fn today_csv() -> Csv {
    read_csv(&repo().join("fixtures/hand/2026-11-29.csv"))
}

/// Sets one cell of a fixture CSV.
pub fn set(csv: &mut Csv, column: &str, row: usize, value: &str) {
    let c = csv.header.iter().position(|h| h == column).unwrap();
    csv.rows[row][c] = Some(value.into());
}

/// Writes `csv` as file `name` of the run date's partition; its rows claim
/// the date `claimed` in their `as_of_date` column.
pub fn write_today(input: &Path, name: &str, csv: &Csv, claimed: &str) -> std::path::PathBuf {
    let batch = contract_batch(csv, claimed, Variant::default());
    write_partition(input, "loans", "2026-11-29", name, &batch, 100)
}

/// Writes a contacts CSV (with a `contact_date` column naming the
/// partition) as `root/contacts/as_of_date=D/part-00000.parquet`.
pub fn write_contacts(root: &Path, csv: &Csv) {
    use arrow::array::TimestampSecondArray;
    let col = |name: &str| -> Vec<Option<String>> {
        let i = csv.header.iter().position(|h| h == name).unwrap();
        csv.rows
            .iter()
            .map(|r| r.get(i).cloned().flatten())
            .collect()
    };
    let dates: std::collections::BTreeSet<String> =
        col("contact_date").into_iter().flatten().collect();
    for d in dates {
        let keep: Vec<usize> = col("contact_date")
            .iter()
            .enumerate()
            .filter(|(_, x)| x.as_deref() == Some(d.as_str()))
            .map(|(i, _)| i)
            .collect();
        let pick = |name: &str| -> Vec<Option<String>> {
            let c = col(name);
            keep.iter().map(|&i| c[i].clone()).collect()
        };
        let text = |name: &str| -> ArrayRef { Arc::new(StringArray::from(pick(name))) };
        let ts: Vec<i64> = pick("contact_ts")
            .iter()
            .map(|t| {
                chrono::NaiveDateTime::parse_from_str(t.as_deref().unwrap(), "%Y-%m-%d %H:%M:%S")
                    .unwrap()
                    .and_utc()
                    .timestamp()
            })
            .collect();
        let amount = Decimal128Array::from(
            pick("ptp_amount")
                .iter()
                .map(|x| x.as_deref().map(cents))
                .collect::<Vec<_>>(),
        )
        .with_data_type(DataType::Decimal128(18, 2));
        let ptp_date = Date32Array::from(
            pick("ptp_date")
                .iter()
                .map(|x| x.as_deref().map(date32))
                .collect::<Vec<_>>(),
        );
        let schema = Schema::new(vec![
            Field::new("contact_id", DataType::Utf8, false),
            Field::new("loan_id", DataType::Utf8, false),
            Field::new(
                "contact_ts",
                DataType::Timestamp(arrow::datatypes::TimeUnit::Second, None),
                false,
            ),
            Field::new("channel", DataType::Utf8, false),
            Field::new("outcome", DataType::Utf8, false),
            Field::new("ptp_amount", DataType::Decimal128(18, 2), true),
            Field::new("ptp_date", DataType::Date32, true),
            Field::new("agent_id", DataType::Utf8, true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                text("contact_id"),
                text("loan_id"),
                Arc::new(TimestampSecondArray::from(ts)),
                text("channel"),
                text("outcome"),
                Arc::new(amount),
                Arc::new(ptp_date),
                text("agent_id"),
            ],
        )
        .unwrap();
        write_partition(root, "contacts", &d, "part-00000.parquet", &batch, 1000);
    }
}

/// Every Arrow type the contract accepts for an optional loans column, and
/// Arrow's `Null` type (what a writer gives a column it only knows to be
/// empty): the types an all-null optional column may arrive as.
pub fn accepted_types(column: &str) -> Vec<DataType> {
    use arrears::input::schema::{Accepts, LOANS};
    let spec = LOANS
        .iter()
        .find(|c| c.name == column)
        .expect("a loans column");
    let dict = |k: DataType, v: DataType| DataType::Dictionary(Box::new(k), Box::new(v));
    let mut types = match spec.accepts {
        Accepts::Text => vec![
            DataType::Utf8,
            DataType::LargeUtf8,
            DataType::Utf8View,
            dict(DataType::Int8, DataType::Utf8),
            dict(DataType::Int32, DataType::LargeUtf8),
        ],
        Accepts::Money => vec![
            DataType::Float64,
            DataType::Decimal32(9, 2),
            DataType::Decimal64(18, 3),
            DataType::Decimal128(20, 2),
            DataType::Decimal128(38, 4),
            DataType::Decimal256(40, 2),
        ],
        Accepts::Date => vec![DataType::Date32],
        Accepts::Boolean => vec![DataType::Boolean],
        Accepts::Integer => vec![DataType::Int32, DataType::Int64],
        other => panic!("no optional column is {other:?}"),
    };
    types.push(DataType::Null);
    types
}

/// The optional loans columns of the contract.
pub fn optional_columns() -> Vec<&'static str> {
    arrears::input::schema::LOANS
        .iter()
        .filter(|c| c.optional)
        .map(|c| c.name)
        .collect()
}

/// `b` with column `name` replaced by an all-null column of type `t`
/// (added if absent).
pub fn with_null_column(b: &RecordBatch, name: &str, t: &DataType) -> RecordBatch {
    with_column(b, name, arrow::array::new_null_array(t, b.num_rows()))
}

/// `b` with column `name` replaced by `a`, nullable, in `a`'s type (added
/// if absent).
pub fn with_column(b: &RecordBatch, name: &str, a: ArrayRef) -> RecordBatch {
    let mut fields: Vec<Field> = b.schema().fields().iter().map(|f| (**f).clone()).collect();
    let mut cols = b.columns().to_vec();
    let f = Field::new(name, a.data_type().clone(), true);
    match b.schema().index_of(name) {
        Ok(i) => {
            fields[i] = f;
            cols[i] = a;
        }
        Err(_) => {
            fields.push(f);
            cols.push(a);
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
}

/// `b` without the columns named.
pub fn without_columns(b: &RecordBatch, names: &[&str]) -> RecordBatch {
    let keep: Vec<usize> = (0..b.num_columns())
        .filter(|&i| !names.contains(&b.schema().field(i).name().as_str()))
        .collect();
    b.project(&keep).unwrap()
}

/// Every file under `root` (relative path -> bytes), for comparing output
/// trees; the lock file is left out.
/// Every file under `root` (relative path -> bytes), without the lock and
/// the archive page, which each run rewrites after its publication from
/// all the dates' manifests (`tests/it/archive.rs` checks it).
pub fn tree(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| {
                n != ".arrears.lock" && n != "index.html" && n != ".index.html.tmp"
            }) {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The manifest a run published for date `d` under `out`.
pub fn manifest_of(out: &Path, d: &str) -> serde_json::Value {
    let path = out.join(format!("manifest/as_of_date={d}/manifest.json"));
    serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap()
}
