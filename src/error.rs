//! Failure kinds that the scheduler must tell apart by exit code.
//!
//! Errors travel as `anyhow::Error` with context naming the file, column and
//! rows. Where the exit code matters, the root of the chain is a [`Failure`]
//! carrying its [`FailureKind`]; `main` finds it anywhere in the chain.

use std::fmt;

/// Why a run failed, one exit code each (documented in the README).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The input directory, or the loans partition for the run date, is missing.
    InputMissing,
    /// The input exists but breaks the data contract (schema or values).
    BadInput,
    /// A reconciliation check failed: the figures do not add up, nothing is published.
    Reconciliation,
    /// The output directory cannot be written, or publishing failed.
    Output,
    /// The run's configuration is unusable: report templates that do not
    /// load or render, or the policy file.
    Config,
    /// Another run holds the output root's lock.
    Locked,
    /// `arrears merge`: the shards do not make one run (one missing, one
    /// twice, or shards of different inputs, policy or program).
    Shards,
    /// An object store (`s3://`) refused the credentials, could not be
    /// reached, or kept failing after its retries.
    Storage,
}

impl FailureKind {
    /// Exit code for this kind. 1 is any other (internal) error, 2 is a usage
    /// error reported by the argument parser.
    pub fn exit_code(self) -> u8 {
        match self {
            FailureKind::InputMissing => 3,
            FailureKind::BadInput => 4,
            FailureKind::Reconciliation => 5,
            FailureKind::Output => 6,
            FailureKind::Config => 7,
            FailureKind::Locked => 8,
            FailureKind::Shards => 9,
            FailureKind::Storage => 11,
        }
    }
}

/// A failure of a known kind with its message.
#[derive(Debug)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Builds an error of the given kind.
pub fn fail(kind: FailureKind, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Failure {
        kind,
        message: message.into(),
    })
}

/// Shorthand for a data-contract violation.
pub fn bad_input(message: impl Into<String>) -> anyhow::Error {
    fail(FailureKind::BadInput, message)
}

/// The kind of an error, looking through its whole context chain.
pub fn kind_of(err: &anyhow::Error) -> Option<FailureKind> {
    err.chain()
        .find_map(|e| e.downcast_ref::<Failure>())
        .map(|f| f.kind)
}

/// The results of parallel tasks, in task order, failing with the first
/// error in that order. Collecting a rayon iterator into a `Result` returns
/// whichever task failed first in time, so one bad input could give a
/// different message from run to run; collect into a `Vec` of results and
/// pass it here instead.
pub fn first_error<T>(results: Vec<anyhow::Result<T>>) -> anyhow::Result<Vec<T>> {
    results.into_iter().collect()
}

/// Exit code for an error: its kind's code, or 1 for anything unexpected.
pub fn exit_code_of(err: &anyhow::Error) -> u8 {
    kind_of(err).map(FailureKind::exit_code).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn kind_survives_context() {
        let e: anyhow::Result<()> = Err(bad_input("column x"));
        let e = e.context("reading file f").unwrap_err();
        assert_eq!(exit_code_of(&e), 4);
        assert_eq!(exit_code_of(&anyhow::anyhow!("boom")), 1);
        assert_eq!(format!("{e:#}"), "reading file f: column x");
    }
}
