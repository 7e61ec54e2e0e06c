//! Recovery, contacts and compliance on the collections fixture
//! (`fixtures/collections/`, every loan and contact explained in
//! fixtures/README.md): promises kept and broken across several snapshots,
//! charge-offs today and in earlier months, cures, plans, credit repair,
//! and one contact on each side of every compliance limit in both profiles.

use std::path::{Path, PathBuf};

use crate::common::*;

const DATES: [&str; 6] = [
    "2026-10-29",
    "2026-11-25",
    "2026-11-26",
    "2026-11-27",
    "2026-11-28",
    "2026-11-29",
];
const D: &str = "2026-11-29";

fn fixture() -> PathBuf {
    repo().join("fixtures/collections")
}

/// Writes the collections fixture under `root`.
pub fn write_collections_fixture(root: &Path) {
    for d in DATES {
        let csv = read_csv(&fixture().join(format!("{d}.csv")));
        let b = contract_batch(&csv, d, Variant::default());
        write_partition(root, "loans", d, "part-00000.parquet", &b, 100);
    }
    write_contacts(root, &read_csv(&fixture().join("contacts.csv")));
}

/// Runs the fixture with the built-in policy, or with its compliance
/// profile switched to `us_reg_f`.
fn run(dir: &Path, profile: &str) -> PathBuf {
    let input = dir.join("in");
    write_collections_fixture(&input);
    let out = dir.join("out");
    let mut cmd = arrears();
    cmd.args(["run", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out);
    if profile != "cn" {
        let policy =
            default_policy().replace("profile = \"cn\"", &format!("profile = \"{profile}\""));
        let path = dir.join("policy.toml");
        std::fs::write(&path, policy).unwrap();
        cmd.arg("--policy").arg(&path);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", stderr_of(&o));
    out
}

fn default_policy() -> String {
    let o = arrears().arg("policy").output().unwrap();
    String::from_utf8(o.stdout).unwrap()
}

/// `contact_id|loan_id|rule|detail` of the compliance table.
fn exceptions(out: &Path) -> Vec<String> {
    let b = read_table(out, "compliance", D);
    rows(&b)
        .into_iter()
        .map(|r| format!("{}|{}|{}|{}", r[1], r[2], r[4], r[5]))
        .collect()
}

fn expected(name: &str) -> Vec<String> {
    let csv = read_csv(&fixture().join(name));
    csv.rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| c.clone().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

#[test]
fn compliance_cn_flags_exactly_the_worked_out_contacts() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), "cn");
    // Not flagged, on purpose: 08:00 and 21:59 (K102, K105), the sixth call
    // of a day (K106 is flagged for the hour only), the third connect
    // (K303), SMS at 23:00 (K108), a current loan's SMS (K702), and the
    // orphan's daytime call (K901).
    assert_eq!(exceptions(&out), expected("expected_compliance_cn.csv"));
    let b = read_table(&out, "compliance", D);
    let r = &rows(&b)[0];
    // profile, channel, agent and borrower-local time of the first row.
    assert_eq!(
        (&r[3][..], &r[6][..], &r[7][..], &r[8][..]),
        ("cn", "phone", "A3", "2026-11-29T07:59:00")
    );
}

#[test]
fn compliance_us_reg_f_flags_exactly_the_worked_out_contacts() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), "us_reg_f");
    // Not flagged, on purpose: 20:59 and 08:00 (K103, K102); the 7th call
    // in 7 days (K408: the 11-22 call is outside 11-23..11-29); a call 7
    // days after a conversation (K502); seven calls on one day (K2).
    assert_eq!(
        exceptions(&out),
        expected("expected_compliance_us_reg_f.csv")
    );
}

#[test]
fn zoned_timestamps_are_converted_to_the_policy_zone() {
    use arrow::array::{ArrayRef, StringArray, TimestampMillisecondArray};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_collections_fixture(&input);
    // Two calls on K8 stored in UTC: 14:30Z is 22:30 in Shanghai (quiet),
    // 00:30Z is 08:30 (fine). A second file in the run date's partition.
    let ts = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    };
    let n = 2;
    let text = |v: Vec<&str>| -> ArrayRef { Arc::new(StringArray::from(v)) };
    let schema = Schema::new(vec![
        Field::new("contact_id", DataType::Utf8, false),
        Field::new("loan_id", DataType::Utf8, false),
        Field::new(
            "contact_ts",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        Field::new("channel", DataType::Utf8, false),
        Field::new("outcome", DataType::Utf8, false),
        Field::new("ptp_amount", DataType::Decimal128(18, 2), true),
        Field::new("ptp_date", DataType::Date32, true),
        Field::new("agent_id", DataType::Utf8, true),
    ]);
    let batch = arrow::record_batch::RecordBatch::try_new(
        Arc::new(schema),
        vec![
            text(vec!["Z801", "Z802"]),
            text(vec!["K8", "K8"]),
            Arc::new(
                TimestampMillisecondArray::from(vec![
                    ts("2026-11-29T14:30:00Z"),
                    ts("2026-11-29T00:30:00Z"),
                ])
                .with_timezone("UTC"),
            ),
            text(vec!["phone", "phone"]),
            text(vec!["no_answer", "no_answer"]),
            arrow::array::new_null_array(&DataType::Decimal128(18, 2), n),
            arrow::array::new_null_array(&DataType::Date32, n),
            text(vec!["A10", "A10"]),
        ],
    )
    .unwrap();
    write_partition(&input, "contacts", D, "part-00001.parquet", &batch, 100);
    let out = dir.path().join("out");
    let o = run_arrears(&input, &out);
    assert!(o.status.success(), "{}", stderr_of(&o));
    let got = exceptions(&out);
    assert!(
        got.contains(
            &"Z801|K8|quiet_hours|phone at 2026-11-29 22:30 borrower-local; quiet hours 22:00-08:00"
                .to_string()
        ),
        "{got:#?}"
    );
    assert!(!got.iter().any(|e| e.starts_with("Z802")), "{got:#?}");
}

#[test]
fn channels_promises_and_recovery_as_worked_out() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), "cn");

    // Channels of the run date: 24 phone calls on 8 loans (Z99 is an
    // orphan but was still called); right-party outcomes only on K3.
    let ch = lines(&read_table(&out, "channels", D));
    assert_eq!(
        ch[0], "sms|2|0|2|0|0|0|0.00|null|null|null|null|null|null",
        "{ch:#?}"
    );
    let phone = ch.iter().find(|l| l.starts_with("phone|")).unwrap();
    assert!(
        phone.starts_with("phone|24|24|8|1|3|0|0.00|0.125|"),
        "{phone}"
    );
    let field = ch.iter().find(|l| l.starts_with("field_visit|")).unwrap();
    assert!(
        field.starts_with("field_visit|1|1|1|0|0|0|0.00|0.0|"),
        "{field}"
    );

    // Promises: P1 kept at exactly 95% (500 + 450 over three snapshots),
    // P2 broken at 94% (500 + 440), P3 open (due 2 Dec, 300 paid so far);
    // P5's promise fell due before the window and is not listed.
    let p = lines(&read_table(&out, "promises", D));
    assert_eq!(
        p,
        vec![
            "2026-11-27|1|1|1|0|0|1000.00|1000.00|950.00|1.0|0.20654931437723745|1.0",
            "2026-11-28|1|1|0|1|0|1000.00|0.00|940.00|0.0|0.0|0.7934506856227626",
            "2026-12-02|1|0|0|0|1|1000.00|0.00|300.00|null|null|null",
        ]
    );

    // Charge-off cohorts: R1 charged off today (all of its 100 recovered
    // counts today), R2 recovered 300 today, R3 nothing; R4 in 2025-12.
    let c = lines(&read_table(&out, "recovery_cohorts", D));
    assert_eq!(
        c,
        vec![
            "2025-12|1|4000.00|0.00|0.00|0.0",
            "2026-09|2|8000.00|1700.00|300.00|0.2125",
            "2026-11|1|8000.00|100.00|100.00|0.0125",
        ]
    );

    // Collections: cash and cures by bucket at prev and tier today.
    let col = lines(&read_table(&out, "collections", D));
    for want in [
        // C1: M2 yesterday, current today, paid 700; cured at its 6,000 balance.
        "2026-11-28|M2|T0_current|1|1|700.00|1|6000.00",
        // C2: M1 yesterday, paid off today: no tier.
        "2026-11-28|M1|null|1|1|2000.00|1|2000.00",
        // R2: charged off throughout, 300 cash.
        "2026-11-28|WO|T5_recovery|3|1|300.00|0|0.00",
        // R1: M6 yesterday, charged off today.
        "2026-11-28|M6|T5_recovery|1|0|0.00|0|0.00",
    ] {
        assert!(col.contains(&want.to_string()), "{want} not in {col:#?}");
    }

    // Plans: PL1..PL3 were in an active plan a month ago; PL1 is current
    // now (plan cure 1/3), PL2 broke its plan (1/3).
    let rates = lines(&read_table(&out, "rates", D));
    let rate = |metric: &str| {
        rates
            .iter()
            .find(|l| l.contains(&format!("|{metric}|active_plan|count|")))
            .unwrap_or_else(|| panic!("{metric} missing"))
            .clone()
    };
    assert!(
        rate("plan_cure").contains("|0.3333333333333333|1.00|3.00|"),
        "{}",
        rate("plan_cure")
    );
    assert!(rate("plan_broken").contains("|0.3333333333333333|1.00|3.00|"));
    let plans = lines(&read_table(&out, "plans", D));
    assert_eq!(plans[3], "broken|1|8000.00|900.00|0.00");

    // Credit repair: C1 (M2 yesterday), C2 (M1 yesterday, paid off), C3
    // (M1 a month ago only), PL1 (M1 a month ago); not C4 (50.00 still past due).
    let cr: Vec<String> = rows(&read_table(&out, "credit_repair", D))
        .into_iter()
        .map(|r| format!("{}|{}|{}|{}", r[1], r[2], r[3], r[4]))
        .collect();
    assert_eq!(
        cr,
        vec![
            "C1|M0|M2|M0",
            "C2|PAID|M1|M1",
            "C3|M0|M0|M1",
            "PL1|M0|M0|M1",
        ]
    );

    // Vintage: K8 is the only September 2026 origination, two months on book,
    // M2 (35 dpd): all of its balance is 30+ but not 90+.
    let v = lines(&read_table(&out, "vintage", D));
    assert!(
        v.contains(&"2026-09|2|1|5000.00|5000.00|5000.00|0.00|0.00".to_string()),
        "{v:#?}"
    );

    // Legal pipeline: the three stages the fixture names, and `none`.
    let legal = lines(&read_table(&out, "legal_pipeline", D));
    assert!(
        legal.contains(&"judgment|2|8000.00|1600.00|300.00".to_string()),
        "{legal:#?}"
    );

    let m = manifest_of(&out, "2026-11-29");
    let f = &m["figures"];
    assert_eq!(
        (
            f["contact_orphans"].as_u64(),
            f["promises_due"].as_u64(),
            f["promises_kept"].as_u64()
        ),
        (Some(1), Some(2), Some(1))
    );
    assert_eq!(
        (
            f["promises_open"].as_u64(),
            f["contacts_today"].as_u64(),
            f["compliance_exceptions"].as_u64(),
            f["credit_repair_loans"].as_u64()
        ),
        (Some(1), Some(27), Some(7), Some(4))
    );
    assert_eq!(f["compliance_profile"], "cn");
}
