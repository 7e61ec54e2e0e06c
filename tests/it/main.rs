//! One integration-test binary (faster to link than one per file).

mod browser;
mod cli;
mod common;
mod generated;
mod hand;
mod props;
mod report;
