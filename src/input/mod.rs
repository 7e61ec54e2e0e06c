//! Input: partition discovery, the schema contract, and the reader that
//! turns Parquet files into typed [`snapshot::Snapshot`]s.

pub mod chunk;
pub mod columns;
pub mod contacts;
pub mod discovery;
pub mod guard;
pub mod partitions;
pub mod reader;
pub mod schema;
pub mod snapshot;
pub mod spill;
