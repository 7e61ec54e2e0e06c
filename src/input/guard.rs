//! Damaged Parquet files must give a bad-input error, never a crash.
//!
//! The Parquet and Arrow decoders check most of what they read, but not
//! all: the fuzzer (`tests/it/fuzz.rs`) found a flipped bit in a page's
//! definition levels that made `arrow-buffer` panic ("offset + len out of
//! bounds") instead of returning an error. So every piece of decoding runs
//! inside [`decoding`], which turns a panic into a bad-input error (exit 4)
//! naming the file, and keeps the panic's own report off stderr: the
//! scheduler's log gets one clear message, not a backtrace.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use anyhow::Result;

use crate::error::bad_input;

thread_local! {
    /// Set while this thread decodes: a panic here is reported as an error.
    static DECODING: Cell<bool> = const { Cell::new(false) };
}

static HOOK: Once = Once::new();

/// Wraps the process's panic hook once, so that it stays silent for panics
/// that [`decoding`] turns into errors, and speaks for every other panic.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !DECODING.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

fn message(p: &(dyn Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

/// Runs `f`, which decodes `what` (for the message), turning a panic into
/// a bad-input error. Runs on the calling thread: call it inside each
/// parallel task, where the decoding happens.
pub fn decoding<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    install_hook();
    let was = DECODING.with(|d| d.replace(true));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    DECODING.with(|d| d.set(was));
    match r {
        Ok(r) => r,
        Err(p) => Err(bad_input(format!(
            "{what} cannot be decoded: the Parquet decoder failed on damaged data ({})",
            message(p.as_ref())
        ))),
    }
}

/// An input Parquet file whose readers fail on reading past its end,
/// instead of reading nothing.
///
/// The Parquet decoder skips unknown Thrift fields of a page header by
/// reading and discarding their bytes without checking how many it got: at
/// the end of the file every read returns nothing, and a damaged header
/// that declares a list of two billion doubles then spins for minutes (the
/// fuzzer found one once `run` was fuzzed). A valid file never needs a read
/// past its end, so refusing one turns that spin into an error at once.
///
/// An input on an object store (`s3://`) is read by column chunk with the
/// same rule (`object::RemoteFile`).
pub enum StrictFile {
    Local(std::fs::File),
    Remote(crate::object::RemoteFile),
}

impl StrictFile {
    /// Opens an input file (a bad-input error if it cannot be opened; an
    /// object store's errors keep their own kinds).
    pub fn open(path: &std::path::Path) -> Result<StrictFile> {
        if crate::object::is_remote(path) {
            return crate::object::RemoteFile::open(path).map(StrictFile::Remote);
        }
        std::fs::File::open(path)
            .map(StrictFile::Local)
            .map_err(|e| bad_input(format!("cannot open: {e}")))
    }
}

impl parquet::file::reader::Length for StrictFile {
    fn len(&self) -> u64 {
        match self {
            StrictFile::Local(f) => f.len(),
            StrictFile::Remote(r) => parquet::file::reader::Length::len(r),
        }
    }
}

/// A reader of a [`StrictFile`] from some offset.
pub enum StrictRead {
    Local(std::io::BufReader<NoReadPastEnd>),
    Remote(crate::object::StrictSlice),
}

impl std::io::Read for StrictRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            StrictRead::Local(r) => r.read(buf),
            StrictRead::Remote(r) => r.read(buf),
        }
    }
}

impl parquet::file::reader::ChunkReader for StrictFile {
    type T = StrictRead;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        use std::io::Seek;
        match self {
            StrictFile::Local(file) => {
                let mut f = file.try_clone()?;
                f.seek(std::io::SeekFrom::Start(start))?;
                Ok(StrictRead::Local(std::io::BufReader::new(NoReadPastEnd(f))))
            }
            StrictFile::Remote(r) => r.get_read(start).map(StrictRead::Remote),
        }
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        match self {
            // Reads exactly `length` bytes or fails: already strict.
            StrictFile::Local(f) => f.get_bytes(start, length),
            StrictFile::Remote(r) => r.get_bytes(start, length),
        }
    }
}

/// A file read that is an error, not an empty read, at the end of the file.
pub struct NoReadPastEnd(std::fs::File);

impl std::io::Read for NoReadPastEnd {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match self.0.read(buf)? {
            0 => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "read past the end of the file (damaged Parquet metadata)",
            )),
            n => Ok(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_decoding_is_a_bad_input_error() {
        let e = decoding("row group 3", || -> Result<()> {
            panic!("offset + len out of bounds")
        })
        .unwrap_err();
        assert_eq!(crate::error::exit_code_of(&e), 4);
        assert_eq!(
            e.to_string(),
            "row group 3 cannot be decoded: the Parquet decoder failed on damaged data (offset + len out of bounds)"
        );
        assert!(decoding("x", || Ok(1)).unwrap() == 1);
        assert!(!DECODING.with(Cell::get), "flag restored");
    }
}
