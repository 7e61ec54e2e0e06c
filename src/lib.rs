//! `arrears`: the nightly collections figures of a consumer-finance loan book.
//!
//! Data flows one way (see `../shared/design.md` and the README):
//! [`input`] discovers partitions and reads typed [`input::snapshot::Snapshot`]s,
//! [`metrics`] computes exact figures into a [`figures::Figures`] model,
//! [`checks`] reconciles them, [`output`] writes Parquet tables and the
//! manifest and publishes atomically, and [`report`] renders the HTML page.
//! [`pipeline`] strings these together; [`cli`] and `main` are thin.

pub mod base;
pub mod checks;
pub mod cli;
pub mod error;
pub mod figures;
pub mod fold;
pub mod generate;
pub mod history;
pub mod input;
pub mod metrics;
pub mod money;
pub mod object;
pub mod output;
pub mod pipeline;
pub mod policy;
pub mod progress;
pub mod report;
pub mod shards;
pub mod states;
