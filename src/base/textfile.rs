//! Small text files the operator hands a run (the policy, report
//! templates): read whole, but never past a bound, so that a path naming
//! `/dev/zero`, a pipe that never ends or a log file by mistake fails at
//! once with a clear message instead of growing the run's memory without
//! end.

use std::io::Read;
use std::path::Path;

/// The largest policy file or template read: the built-in policy is
/// about 12 KiB, the largest template about 20 KiB.
pub const MAX_BYTES: u64 = 1 << 20;

/// The text of `path`, at most [`MAX_BYTES`]; the error says why in words
/// (the caller names the file and the exit code).
pub fn read(path: &Path) -> Result<String, String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    f.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(format!(
            "it is larger than {} KiB, which no policy or template is (is it the file you meant?)",
            MAX_BYTES >> 10
        ));
    }
    String::from_utf8(bytes).map_err(|e| format!("it is not UTF-8 text ({e})"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_endless_file_is_refused_at_the_bound() {
        let e = super::read(std::path::Path::new("/dev/zero")).unwrap_err();
        assert!(e.contains("larger than 1024 KiB"), "{e}");
        let t = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(t.path(), "a = 1\n").unwrap();
        assert_eq!(super::read(t.path()).unwrap(), "a = 1\n");
    }
}
