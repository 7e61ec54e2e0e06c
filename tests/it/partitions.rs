//! The book folded in many loan-id partitions publishes the same bytes as
//! the book folded whole: tables, worklist files and report, for string and
//! integer ids, with earlier runs' worklists and contacts in play; by id
//! range when the snapshots are in id order, by hash through scratch files
//! when they are not.

use std::collections::BTreeMap;
use std::path::Path;

use arrears::generate::{generate, GenConfig, IdType};
use arrears::pipeline::{run, RunConfig};
use arrears::policy::Policy;
use chrono::NaiveDate;

use crate::common::*;

/// Runs the three snapshot dates in order (so the last run reads the
/// earlier runs' worklists) under a memory limit; returns the published
/// files without the manifests, and the manifest of the last date.
fn run_dates(
    input: &Path,
    out: &Path,
    dates: &[NaiveDate],
    limit: u64,
) -> (BTreeMap<String, Vec<u8>>, serde_json::Value) {
    for d in dates {
        run(&RunConfig {
            input: input.to_path_buf(),
            output: out.to_path_buf(),
            as_of: Some(*d),
            threads: Some(2),
            memory_limit: Some(limit),
            // With the demo's champion / challenger test: arms, challenger
            // tiers and the per-arm tables are partition-proof too.
            policy: Policy::demo(),
            report: Default::default(),
        })
        .unwrap();
    }
    let mut files = tree(out);
    files.retain(|rel, _| !rel.starts_with(".arrears") && !rel.ends_with("manifest.json"));
    let last = dates.last().unwrap().to_string();
    (files, manifest_of(out, &last))
}

fn book(dir: &Path, ids: IdType, shuffle: bool) -> (std::path::PathBuf, Vec<NaiveDate>) {
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let mut g = GenConfig::new(dir.join("in"), 6_000, as_of);
    g.id_type = ids;
    g.row_group = 250;
    g.days = 2;
    g.contact_days = 14;
    g.shuffle = shuffle;
    generate(&g).unwrap();
    (dir.join("in"), g.snapshot_dates())
}

#[test]
fn many_partitions_publish_the_bytes_of_one() {
    for ids in [IdType::String, IdType::Int] {
        let d = tempfile::tempdir().unwrap();
        let (input, dates) = book(d.path(), ids, false);
        let (whole, m_whole) = run_dates(&input, &d.path().join("whole"), &dates, 1 << 40);
        assert_eq!(m_whole["memory"]["partitions"], 1);
        // A limit of one byte: one row group (250 loans) per partition.
        let (parts, m_parts) = run_dates(&input, &d.path().join("parts"), &dates, 1);
        let n = m_parts["memory"]["partitions"].as_u64().unwrap();
        assert!(n >= 20, "{n} partitions");
        // A limit between: a few row groups per partition.
        let (some, m_some) = run_dates(&input, &d.path().join("some"), &dates, 3_000_000);
        let k = m_some["memory"]["partitions"].as_u64().unwrap();
        assert!(k > 1 && k < n, "{k} partitions");
        assert!(whole.keys().any(|k| k.contains("worklist/")));
        assert_eq!(
            whole.keys().collect::<Vec<_>>(),
            parts.keys().collect::<Vec<_>>()
        );
        for (rel, bytes) in &whole {
            assert!(
                &parts[rel] == bytes,
                "{rel} differs with {n} partitions ({ids:?})"
            );
            assert!(
                &some[rel] == bytes,
                "{rel} differs with {k} partitions ({ids:?})"
            );
        }
        // The earlier dates' tiers came from their worklists every time.
        for m in [&m_whole, &m_parts, &m_some] {
            assert_eq!(m["periods"][0]["tiers_from"], "worklist", "{m}");
            assert_eq!(m["inputs"], m_whole["inputs"]);
        }
    }
}

#[test]
fn a_book_not_in_id_order_is_cut_by_hash_and_publishes_the_bytes_of_one() {
    for ids in [IdType::Int, IdType::String] {
        let d = tempfile::tempdir().unwrap();
        let (input, dates) = book(d.path(), ids, true);
        let (whole, m_whole) = run_dates(&input, &d.path().join("whole"), &dates, 1 << 40);
        assert_eq!(m_whole["memory"]["partitions"], 1);
        // One row group's worth (250 loans) per partition, and a few.
        let (tight, m_tight) = run_dates(&input, &d.path().join("tight"), &dates, 1);
        let n = m_tight["memory"]["partitions"].as_u64().unwrap();
        assert!(n >= 20, "{n} partitions");
        let why = m_tight["memory"]["partitioned_by"].as_str().unwrap();
        assert!(
            why.contains("hash") && why.contains("not in loan-id order"),
            "{why}"
        );
        let (some, m_some) = run_dates(&input, &d.path().join("some"), &dates, 3_000_000);
        let k = m_some["memory"]["partitions"].as_u64().unwrap();
        assert!(k > 1 && k < n, "{k} partitions");
        assert_eq!(
            whole.keys().collect::<Vec<_>>(),
            tight.keys().collect::<Vec<_>>()
        );
        for (rel, bytes) in &whole {
            assert!(
                &tight[rel] == bytes,
                "{rel} differs with {n} hash partitions ({ids:?})"
            );
            assert!(
                &some[rel] == bytes,
                "{rel} differs with {k} hash partitions ({ids:?})"
            );
        }
        for m in [&m_whole, &m_tight, &m_some] {
            assert_eq!(m["periods"][0]["tiers_from"], "worklist", "{m}");
            assert_eq!(m["inputs"], m_whole["inputs"]);
        }
        // Nothing of the scratch files is left behind.
        assert!(!d.path().join("tight/.arrears-staging").exists());
    }
}
