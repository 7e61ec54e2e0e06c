//! One integration-test binary (faster to link than one per file).

mod common;
mod cli;
mod generated;
mod hand;
mod props;
