//! One integration-test binary (faster to link than one per file).

mod archive;
mod browser;
mod cli;
mod collections;
mod common;
mod experiments;
mod forecast;
mod fuzz;
mod generated;
mod hand;
mod hostile;
mod optional;
mod partitions;
mod policy;
mod progress;
mod props;
mod reliability;
mod report;
mod shards;
mod strategy;
mod structure;
mod unchanged;
