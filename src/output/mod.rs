//! Outputs: the Arrow schemas of the published tables, the Parquet writer,
//! the run manifest, and atomic publication of a run date's partitions.

pub mod columns;
pub mod drivers;
pub mod experiments;
pub mod forecast;
pub mod manifest;
pub mod parquet_file;
pub mod publish;
pub mod published;
pub mod recovery;
pub mod remote;
pub mod tables;
pub mod workbook;
pub mod worklist;

/// Version of the output schemas, written into every file's key-value
/// metadata. Bumped only when columns are added (never removed or retyped):
/// 2 added `collateral.exposure` (and the manifest's `absent_columns`,
/// `all_null_columns` and `periods[].tiers_from`); 3 added the table
/// `forecast` and the manifest's `object_store` and `report`; 4 added the
/// table `experiments`, the worklist's `experiment` and `arm` and the
/// transitions' `experiment` and `arm` (the tier transitions per arm); 5
/// added the table `drivers`.
pub const SCHEMA_VERSION: &str = "5";
