//! What earlier runs published under an output root, read back: the
//! published dates, a date's manifest, and the files of a date's table.
//! The report's history (`history`), the earlier worklists (`fold`) and the
//! shards' check that the output did not change under them (`shards`) read
//! through here, so that they work the same on a local folder and on an
//! object store.
//!
//! The two layouts differ in one point. A local root holds each table's
//! partition at `<table>/as_of_date=D/` (swapped in by the journalled
//! publication, `publish`). An object store has no rename, so a run's
//! files go to a folder of their own and the date's manifest, written last,
//! names them (`remote`): there the manifest is the only way to a date's
//! files, and a date without one is not published.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{anyhow, Context, Result};
use chrono::NaiveDate;

use crate::object;

/// The files a manifest names, by table.
pub type FilesByTable = HashMap<String, Vec<PathBuf>>;

/// An output root as earlier runs left it.
pub struct Published {
    root: PathBuf,
    remote: bool,
    /// Remote roots: each date's manifest (`None`: not published), fetched
    /// once however many of its tables are read.
    manifests: Mutex<HashMap<NaiveDate, Option<Vec<u8>>>>,
}

fn partition(date: NaiveDate) -> String {
    format!("as_of_date={date}")
}

impl Published {
    pub fn new(root: &Path) -> Published {
        Published {
            root: root.to_path_buf(),
            remote: object::is_remote(root),
            manifests: Mutex::new(HashMap::new()),
        }
    }

    /// Where a table's partition of `date` is, for messages.
    pub fn location(&self, table: &str, date: NaiveDate) -> String {
        self.root
            .join(table)
            .join(partition(date))
            .display()
            .to_string()
    }

    /// The dates published under the root, ascending: on a local root the
    /// `as_of_date=D` folders of `table`, on an object store the dates with a
    /// manifest. A root that cannot be listed has none (history is advisory;
    /// a store that fails is caught before, when the run starts).
    pub fn dates(&self, table: &str) -> Vec<NaiveDate> {
        let dir = self.root.join(if self.remote { "manifest" } else { table });
        let names: Vec<String> = if self.remote {
            object::list(&dir)
                .map(|l| l.into_iter().filter(|e| e.is_dir).map(|e| e.name).collect())
                .unwrap_or_default()
        } else {
            std::fs::read_dir(&dir)
                .map(|r| {
                    r.filter_map(|e| e.ok()?.file_name().into_string().ok())
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut dates: Vec<NaiveDate> = names
            .iter()
            .filter_map(|n| {
                let d = n.strip_prefix("as_of_date=")?;
                NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()
            })
            .collect();
        dates.sort();
        dates
    }

    /// Path of the manifest of `date` (where a reader finds it, both layouts).
    pub fn manifest_path(&self, date: NaiveDate) -> PathBuf {
        self.root
            .join("manifest")
            .join(partition(date))
            .join("manifest.json")
    }

    /// The manifest of `date`; `None` when the date is not published.
    pub fn manifest(&self, date: NaiveDate) -> Result<Option<Vec<u8>>> {
        let path = self.manifest_path(date);
        if self.remote {
            let mut cache = self.manifests.lock().expect("manifest cache");
            if let Some(m) = cache.get(&date) {
                return Ok(m.clone());
            }
            let m = object::read_all(&path)?.map(|b| b.to_vec());
            cache.insert(date, m.clone());
            return Ok(m);
        }
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read '{}'", path.display())),
        }
    }

    /// The data files of `table` for `date`, in name order (empty when that
    /// run did not write the table, or the date is not published remotely).
    pub fn files(&self, table: &str, date: NaiveDate) -> Result<Vec<PathBuf>> {
        if !self.remote {
            let dir = self.root.join(table).join(partition(date));
            if !dir.is_dir() {
                return Ok(Vec::new());
            }
            return crate::input::discovery::list_files(&dir);
        }
        let Some(bytes) = self.manifest(date)? else {
            return Ok(Vec::new());
        };
        let mut by_table = manifest_files(&bytes)
            .with_context(|| format!("'{}'", self.manifest_path(date).display()))?;
        Ok(by_table.remove(table).unwrap_or_default())
    }

    /// The single file of a one-file table (`part-0.parquet`), if published.
    pub fn file(&self, table: &str, date: NaiveDate) -> Result<Option<PathBuf>> {
        Ok(self.files(table, date)?.into_iter().next())
    }
}

/// The files a manifest names, by table, each table's in name order.
pub fn manifest_files(bytes: &[u8]) -> Result<FilesByTable> {
    let v: serde_json::Value = serde_json::from_slice(bytes).context("not valid JSON")?;
    let outputs = v
        .get("outputs")
        .and_then(|o| o.as_array())
        .ok_or_else(|| anyhow!("no 'outputs' list"))?;
    let mut by_table = FilesByTable::new();
    for o in outputs {
        let (Some(table), Some(path)) = (
            o.get("table").and_then(|t| t.as_str()),
            o.get("path").and_then(|p| p.as_str()),
        ) else {
            return Err(anyhow!("an 'outputs' entry without 'table' and 'path'"));
        };
        by_table
            .entry(table.to_string())
            .or_default()
            .push(PathBuf::from(path));
    }
    for files in by_table.values_mut() {
        files.sort();
    }
    Ok(by_table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_names_its_files_by_table_in_name_order() {
        let m = br#"{"outputs":[
            {"table":"worklist","path":"s3://b/o/_runs/r/worklist/part-00001.parquet","rows":1},
            {"table":"rates","path":"s3://b/o/_runs/r/rates/part-0.parquet","rows":9},
            {"table":"worklist","path":"s3://b/o/_runs/r/worklist/part-00000.parquet","rows":2}]}"#;
        let f = manifest_files(m).unwrap();
        assert_eq!(
            f["worklist"],
            vec![
                PathBuf::from("s3://b/o/_runs/r/worklist/part-00000.parquet"),
                PathBuf::from("s3://b/o/_runs/r/worklist/part-00001.parquet")
            ]
        );
        assert_eq!(f["rates"].len(), 1);
        assert!(manifest_files(b"{}").is_err());
    }

    #[test]
    fn a_local_root_lists_its_table_folders() {
        let t = tempfile::tempdir().unwrap();
        for d in ["2026-11-28", "2026-11-29"] {
            let dir = t.path().join("rates").join(format!("as_of_date={d}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("part-0.parquet"), "x").unwrap();
        }
        std::fs::create_dir_all(t.path().join("rates/other")).unwrap();
        let p = Published::new(t.path());
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(p.dates("rates"), vec![d("2026-11-28"), d("2026-11-29")]);
        assert_eq!(p.files("rates", d("2026-11-29")).unwrap().len(), 1);
        assert!(p.files("rates", d("2026-11-30")).unwrap().is_empty());
        assert_eq!(p.manifest(d("2026-11-29")).unwrap(), None);
    }
}
