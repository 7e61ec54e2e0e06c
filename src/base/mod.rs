//! The base layer: small shared types and helpers that every other module
//! may use and that use nothing of the crate above them (only
//! [`crate::error`] and [`crate::progress`], which sit beside them): the
//! calendar and Date32 day counts, id and byte hashing, the report's
//! language, the fixed random generator, stage timings, `&'static str`
//! names read back from JSON, the run's own files under its roots, and
//! bounded reads of small operator files.
//!
//! Everything else imports downwards into here, never the other way, so a
//! type needed by two layers lives here instead of making one import the
//! other (input once took `date32` from output, policy its `Locale` from
//! report, the forecast its random numbers from the generator).

pub mod calendar;
pub mod crash;
pub mod hashing;
pub mod locale;
pub mod names;
pub mod owned;
pub mod rng;
pub mod textfile;
pub mod timing;
pub mod zone;
