//! Reading inputs: raw serde structs and CSV rows, validated into the [`crate::model`].

mod check;
pub mod country;
pub mod num;
pub mod open;
pub mod policy;
pub mod portfolio;
pub mod scenario;
pub mod source;
pub mod study;

pub use study::{DEFAULT_TRIALS, load_study, study_file};
