//! The figures of `metrics.md`, each computed from in-memory snapshots.
//!
//! Every metric is a pure function of snapshots and the policy. Counts and
//! money are integers; each parallel computation folds row ranges into
//! partial results with an exact `merge`, so the answer does not depend on
//! how rows were split or on the thread count.

pub mod book;
pub mod channels;
pub mod collateral;
pub mod compliance;
pub mod drivers;
pub mod duration;
pub mod experiments;
pub mod forecast;
pub mod join;
pub mod movement;
pub mod promises;
pub mod rates;
pub mod recovery;
pub mod strategy;
pub mod tally;
pub mod transitions;

use std::ops::Range;

/// Splits `0..n` into about `4 x threads` ranges for a parallel fold. More
/// pieces than threads keep both cores busy when pieces cost unevenly.
pub fn ranges(n: usize) -> Vec<Range<usize>> {
    let pieces = (rayon::current_num_threads() * 4).max(1);
    let step = n.div_ceil(pieces).max(1 << 14);
    (0..n).step_by(step).map(|s| s..(s + step).min(n)).collect()
}
