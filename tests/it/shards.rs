//! `arrears shard` + `arrears merge` publish the bytes of `arrears run`:
//! N = 1, 3 and 7 shards, string and integer ids, with earlier runs'
//! worklists and contacts in play; a shard run twice writes the same
//! bytes; a merge with a shard missing, a shard twice or shards of
//! different inputs or policy publishes nothing and exits 9.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrears::generate::{generate, GenConfig, IdType};
use arrears::pipeline::{run, RunConfig};
use arrears::policy::Policy;
use arrears::shards::{merge, shard, shards_dir, MergeConfig, ShardConfig, ShardSpec};
use chrono::NaiveDate;

use crate::common::*;

fn book(dir: &Path, ids: IdType, shuffle: bool) -> (PathBuf, Vec<NaiveDate>) {
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let mut g = GenConfig::new(dir.join("in"), 4_000, as_of);
    g.id_type = ids;
    g.row_group = 500;
    g.days = 2;
    g.contact_days = 14;
    g.shuffle = shuffle;
    generate(&g).unwrap();
    (dir.join("in"), g.snapshot_dates())
}

fn run_cfg(input: &Path, out: &Path, d: NaiveDate) -> RunConfig {
    RunConfig {
        input: input.to_path_buf(),
        output: out.to_path_buf(),
        as_of: Some(d),
        threads: Some(2),
        memory_limit: None,
        policy: Policy::default(),
        report: Default::default(),
    }
}

fn shard_cfg(
    input: &Path,
    out: &Path,
    work: &Path,
    d: NaiveDate,
    k: usize,
    n: usize,
) -> ShardConfig {
    ShardConfig {
        input: input.to_path_buf(),
        output: out.to_path_buf(),
        work: work.to_path_buf(),
        as_of: Some(d),
        shard: ShardSpec { k, n },
        threads: Some(2),
        memory_limit: None,
        policy: Policy::default(),
    }
}

fn merge_cfg(out: &Path, work: &Path, d: NaiveDate, n: usize) -> MergeConfig {
    MergeConfig {
        work: work.to_path_buf(),
        output: out.to_path_buf(),
        as_of: d,
        shards: n,
        threads: Some(2),
        policy: Policy::default(),
        report: Default::default(),
    }
}

/// The published files of an output root, without manifests and
/// staging.
fn published(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = tree(out);
    files.retain(|rel, _| !rel.starts_with(".arrears") && !rel.ends_with("manifest.json"));
    files
}

/// Every date run in order by `run` (earlier dates first, so the last run
/// reads their worklists).
fn by_run(input: &Path, out: &Path, dates: &[NaiveDate]) {
    for d in dates {
        run(&run_cfg(input, out, *d)).unwrap();
    }
}

/// The same dates, each computed in `n` shards and merged.
fn by_shards(input: &Path, out: &Path, work: &Path, dates: &[NaiveDate], n: usize) {
    for d in dates {
        for k in (0..n).rev() {
            shard(&shard_cfg(input, out, work, *d, k, n)).unwrap();
        }
        merge(&merge_cfg(out, work, *d, n)).unwrap();
    }
}

fn assert_same(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>, what: &str) {
    assert!(a.keys().any(|k| k.contains("worklist/")));
    assert!(a.keys().any(|k| k.ends_with("report.html")));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}"
    );
    for (rel, bytes) in a {
        assert!(&b[rel] == bytes, "{rel} differs: {what}");
    }
}

#[test]
fn one_three_and_seven_shards_publish_the_bytes_of_run() {
    for (ids, shuffle) in [(IdType::String, false), (IdType::Int, true)] {
        let d = tempfile::tempdir().unwrap();
        let (input, dates) = book(d.path(), ids, shuffle);
        let whole = d.path().join("run");
        by_run(&input, &whole, &dates);
        let expected = published(&whole);
        for n in [1, 3, 7] {
            let out = d.path().join(format!("out-{n}"));
            let work = d.path().join(format!("work-{n}"));
            by_shards(&input, &out, &work, &dates, n);
            assert_same(&expected, &published(&out), &format!("{n} shards, {ids:?}"));
            let m = manifest_of(&out, &dates.last().unwrap().to_string());
            assert_eq!(
                m["memory"]["partitioned_by"],
                format!("loan-id hash: {n} shards merged")
            );
            // The earlier dates' worklists were used, as by `run`.
            assert_eq!(m["periods"][0]["tiers_from"], "worklist");
        }
    }
}

#[test]
fn a_shard_run_twice_writes_the_same_bytes_and_memory_only_cuts_it_finer() {
    let d = tempfile::tempdir().unwrap();
    let (input, dates) = book(d.path(), IdType::String, false);
    let out = d.path().join("out");
    let as_of = *dates.last().unwrap();
    let work = d.path().join("work");
    let dir = shards_dir(&work, as_of, 3).join("shard-1");
    shard(&shard_cfg(&input, &out, &work, as_of, 1, 3)).unwrap();
    let first = tree(&dir);
    assert!(first.contains_key("partial.json"), "{:?}", first.keys());
    // A retry (a task the engine ran again) replaces it with the same bytes.
    shard(&shard_cfg(&input, &out, &work, as_of, 1, 3)).unwrap();
    assert!(first == tree(&dir), "a rerun of a shard changed its files");
    // Other thread counts give the same bytes.
    let mut one = shard_cfg(&input, &out, &work, as_of, 1, 3);
    one.threads = Some(1);
    shard(&one).unwrap();
    assert!(first == tree(&dir), "one thread changed the shard's files");
    // Nothing but the shard folders is left in the work folder.
    let names: Vec<String> = std::fs::read_dir(dir.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, vec!["shard-1".to_string()]);

    // A tiny memory limit folds each shard in many partitions: the merge
    // still publishes the bytes of `run`.
    let whole = d.path().join("run");
    run(&run_cfg(&input, &whole, as_of)).unwrap();
    let fine = d.path().join("fine");
    let fine_work = d.path().join("fine-work");
    for k in 0..3 {
        let mut c = shard_cfg(&input, &fine, &fine_work, as_of, k, 3);
        c.memory_limit = Some(1);
        shard(&c).unwrap();
    }
    merge(&merge_cfg(&fine, &fine_work, as_of, 3)).unwrap();
    let m = manifest_of(&fine, &as_of.to_string());
    assert!(
        m["memory"]["partitions"].as_u64().unwrap() > 3,
        "{}",
        m["memory"]
    );
    assert_same(&published(&whole), &published(&fine), "shards cut finer");
}

/// Runs `arrears merge` on the command line; returns its exit code and
/// stderr.
fn merge_cli(out: &Path, work: &Path, as_of: NaiveDate, n: usize) -> (i32, String) {
    let o = arrears()
        .args(["merge", "--work"])
        .arg(work)
        .arg("--output")
        .arg(out)
        .args(["--as-of", &as_of.to_string(), "--shards", &n.to_string()])
        .output()
        .unwrap();
    (o.status.code().unwrap(), stderr_of(&o))
}

fn nothing_published(out: &Path) {
    let left: Vec<String> = tree(out)
        .into_keys()
        .filter(|k| !k.starts_with(".arrears.lock"))
        .collect();
    assert!(left.is_empty(), "published or left behind: {left:?}");
}

#[test]
fn a_merge_refuses_a_missing_a_doubled_or_a_foreign_shard() {
    let d = tempfile::tempdir().unwrap();
    let (input, dates) = book(d.path(), IdType::String, false);
    let as_of = *dates.last().unwrap();
    let out = d.path().join("out");
    let work = d.path().join("work");
    let cli_shard = |input: &Path, k: usize, extra: &[&str]| {
        let o = arrears()
            .args(["shard", "--input"])
            .arg(input)
            .arg("--output")
            .arg(&out)
            .arg("--work")
            .arg(&work)
            .args(["--as-of", &as_of.to_string(), "--shard", &format!("{k}/3")])
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr_of(&o));
    };
    cli_shard(&input, 0, &[]);
    cli_shard(&input, 2, &[]);
    // Shard 1 missing.
    let (code, err) = merge_cli(&out, &work, as_of, 3);
    assert_eq!(code, 9, "{err}");
    assert!(err.contains("shard(s) 1 of 3 missing"), "{err}");
    nothing_published(&out);

    // Shard 2 copied into the place of shard 1: shard 2 twice.
    let root = shards_dir(&work, as_of, 3);
    copy_dir(&root.join("shard-2"), &root.join("shard-1"));
    let (code, err) = merge_cli(&out, &work, as_of, 3);
    assert_eq!(code, 9, "{err}");
    assert!(
        err.contains("is shard 2/3 but sits in the place of shard 1/3"),
        "{err}"
    );
    nothing_published(&out);

    // Shard 1 of another book (one snapshot file changed).
    std::fs::remove_dir_all(root.join("shard-1")).unwrap();
    let other = d.path().join("other");
    copy_dir(&input, &other);
    let today = other.join(format!("loans/as_of_date={as_of}"));
    let file = std::fs::read_dir(&today)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut g = GenConfig::new(d.path().join("gen2"), 4_000, as_of);
    g.row_group = 250;
    g.days = 2;
    g.contact_days = 14;
    g.seed = 7;
    generate(&g).unwrap();
    let replacement = std::fs::read_dir(d.path().join(format!("gen2/loans/as_of_date={as_of}")))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::copy(&replacement, &file).unwrap();
    // The other book lives elsewhere: give it the same root name so that
    // only the files differ.
    let moved = d.path().join("elsewhere");
    std::fs::create_dir_all(&moved).unwrap();
    let same_name = moved.join("in");
    std::fs::rename(&other, &same_name).unwrap();
    cli_shard(&same_name, 1, &[]);
    let (code, err) = merge_cli(&out, &work, as_of, 3);
    assert_eq!(code, 9, "{err}");
    assert!(err.contains("not of the same run as shard 0"), "{err}");
    nothing_published(&out);

    // Shard 1 again from the right book, but under another policy.
    let policy = d.path().join("policy.toml");
    let text = String::from_utf8(arrears().arg("policy").output().unwrap().stdout).unwrap();
    std::fs::write(&policy, text.replace("haircut = 0.30", "haircut = 0.25")).unwrap();
    assert!(std::fs::read_to_string(&policy)
        .unwrap()
        .contains("haircut = 0.25"));
    cli_shard(&input, 1, &["--policy", policy.to_str().unwrap()]);
    let (code, err) = merge_cli(&out, &work, as_of, 3);
    assert_eq!(code, 9, "{err}");
    assert!(err.contains("a different policy"), "{err}");
    nothing_published(&out);

    // All three of one run: published, and equal to `run`.
    cli_shard(&input, 1, &[]);
    let (code, err) = merge_cli(&out, &work, as_of, 3);
    assert_eq!(code, 0, "{err}");
    let whole = d.path().join("run");
    run(&run_cfg(&input, &whole, as_of)).unwrap();
    assert_same(&published(&whole), &published(&out), "after the refusals");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
