//! Reading inputs: raw serde structs and CSV rows, validated into the [`crate::model`].

mod check;
pub mod country;
pub mod keys;
mod ladder;
pub mod num;
pub mod open;
pub mod policy;
pub mod portfolio;
pub mod scenario;
pub mod source;
pub mod study;

pub use keys::{KEY_TABLES, csv_columns, known_keys};
pub use study::{DEFAULT_TRIALS, load_study, study_file};
