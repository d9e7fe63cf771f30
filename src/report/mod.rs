//! Reports (SPEC §8): CSV tables and the manifest, built in memory and written atomically.

pub mod analytic;
pub mod atomic;
mod contributions;
mod csv_tables;
mod manifest;

pub use atomic::{check_writable, write_files};
pub use contributions::contributions_csv;
pub use csv_tables::{
    cashflow_csv, distribution_csv, policy_comparison_csv, portfolio_csv, quantiles_csv, summary_csv,
};
pub use manifest::{RunFacts, Timing, manifest_json, run_manifest_json};

use crate::error::Error;
use crate::model::Study;
use crate::portfolio_summary::Summary;
use crate::run::RunResult;
use std::path::Path;

/// Builds every report of a run, in memory, as (file name, bytes).
pub fn build(
    study: &Study,
    portfolio: &Summary,
    result: &RunResult,
    timing: &Timing,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut files = vec![
        ("summary.csv".to_owned(), summary_csv(result)?),
        ("quantiles.csv".to_owned(), quantiles_csv(result)?),
        ("distribution.csv".to_owned(), distribution_csv(result)?),
        ("policy_comparison.csv".to_owned(), policy_comparison_csv(result)?),
        ("contributions.csv".to_owned(), contributions_csv(study, result)?),
        ("portfolio.csv".to_owned(), portfolio_csv(portfolio)?),
    ];
    if let Some(cash) = cashflow_csv(result)? {
        files.push(("cashflow.csv".to_owned(), cash));
    }
    let names: Vec<String> = files.iter().map(|f| f.0.clone()).chain(["manifest.json".to_owned()]).collect();
    files.push(("manifest.json".to_owned(), manifest_json(study, result, &names, timing)?));
    Ok(files)
}

/// Builds and writes every report of a run into `dir`.
pub fn write(dir: &Path, study: &Study, portfolio: &Summary, result: &RunResult, timing: &Timing) -> Result<(), Error> {
    let files = build(study, portfolio, result, timing)?;
    write_files(dir, &files)
}
