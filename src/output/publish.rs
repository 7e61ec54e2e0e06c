//! Atomic publication of one run date's outputs.
//!
//! Everything is first written into a staging folder inside the output root
//! (`.arrears-staging/`, hidden from Hive-style readers, on the same file
//! system so that a rename is atomic). Only when every file is complete and
//! synced is each `<item>/as_of_date=D` folder renamed into place, the
//! manifest last. A failed run drops its staging folder and leaves the
//! published partitions as they were.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::error::{fail, FailureKind};

/// A run's staging folder.
pub struct Stage {
    out: PathBuf,
    dir: PathBuf,
    partition: String,
    items: Vec<String>,
    published: bool,
}

fn output_err(what: &str, path: &Path, e: std::io::Error) -> anyhow::Error {
    fail(
        FailureKind::Output,
        format!("{what} '{}': {e}", path.display()),
    )
}

fn sync_dir(path: &Path) -> Result<()> {
    // Makes the renames themselves durable, not only the files' contents.
    let d = fs::File::open(path).map_err(|e| output_err("opening", path, e))?;
    d.sync_all().map_err(|e| output_err("syncing", path, e))
}

impl Stage {
    /// Creates the output root if needed and a fresh staging folder in it.
    pub fn new(out: &Path, as_of: &str) -> Result<Stage> {
        fs::create_dir_all(out)
            .map_err(|e| output_err("cannot create output directory", out, e))?;
        let dir = out
            .join(".arrears-staging")
            .join(format!("{as_of}-{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| output_err("cannot clear", &dir, e))?;
        }
        fs::create_dir_all(&dir)
            .map_err(|e| output_err("cannot write to output directory", &dir, e))?;
        Ok(Stage {
            out: out.to_path_buf(),
            dir,
            partition: format!("as_of_date={as_of}"),
            items: Vec::new(),
            published: false,
        })
    }

    /// Path of `file` inside the staged folder of `item` (created on first use).
    pub fn file(&mut self, item: &str, file: &str) -> Result<PathBuf> {
        let d = self.dir.join(item);
        if !self.items.iter().any(|i| i == item) {
            fs::create_dir_all(&d).map_err(|e| output_err("cannot create", &d, e))?;
            self.items.push(item.to_string());
        }
        Ok(d.join(file))
    }

    /// Where `item` will be published.
    pub fn target(&self, item: &str) -> PathBuf {
        self.out.join(item).join(&self.partition)
    }

    /// Renames every staged item into place, in the order they were staged.
    /// An existing partition of the same date is replaced.
    pub fn publish(mut self) -> Result<Vec<PathBuf>> {
        let mut done = Vec::new();
        for item in &self.items {
            let staged = self.dir.join(item);
            sync_dir(&staged)?;
            let parent = self.out.join(item);
            fs::create_dir_all(&parent).map_err(|e| output_err("cannot create", &parent, e))?;
            let target = parent.join(&self.partition);
            let aside = parent.join(format!(".{}.old-{}", self.partition, std::process::id()));
            let had_old = target.exists();
            if had_old {
                fs::rename(&target, &aside)
                    .map_err(|e| output_err("cannot move aside", &target, e))?;
            }
            if let Err(e) = fs::rename(&staged, &target) {
                if had_old {
                    // Put yesterday's answer back rather than leave a hole.
                    let _ = fs::rename(&aside, &target);
                }
                return Err(output_err("cannot publish", &target, e));
            }
            if had_old {
                fs::remove_dir_all(&aside).map_err(|e| output_err("cannot remove", &aside, e))?;
            }
            sync_dir(&parent)?;
            done.push(target);
        }
        self.published = true;
        let _ = fs::remove_dir(&self.dir);
        let _ = fs::remove_dir(self.out.join(".arrears-staging"));
        Ok(done)
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_dir_all(&self.dir);
            let _ = fs::remove_dir(self.out.join(".arrears-staging"));
        }
    }
}
