//! Test hooks that stop a run at a chosen step of its publication (the
//! crash tests: README, "Tests"). Unset in production, they do nothing.

/// Test hook: aborts the process when called for the n-th time, n being
/// the value of the variable `var` (unset in production: does nothing).
pub fn crash_point(var: &str) {
    if let Some(n) = std::env::var_os(var) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static DONE: AtomicUsize = AtomicUsize::new(0);
        let limit: usize = n
            .to_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(usize::MAX);
        if DONE.fetch_add(1, Ordering::SeqCst) + 1 >= limit {
            std::process::abort();
        }
    }
}
