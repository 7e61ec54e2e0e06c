//! One integration-test binary (faster to link than one per file).

mod cli;
mod common;
mod generated;
mod hand;
mod props;
