//! Reports (SPEC §8): CSV tables and the manifest, built in memory and written atomically.

pub mod analytic;
pub mod answers;
pub mod atomic;
mod contributions;
mod csv_tables;
pub mod figures;
pub mod html;
pub mod json;
mod manifest;
mod retreat;
mod shortfall;

pub use atomic::{check_writable, write_files};
pub use contributions::contributions_csv;
pub use csv_tables::{
    RESERVE_RULES_PERCENT, cashflow_csv, distribution_csv, policy_comparison_csv, policy_differences_csv,
    portfolio_csv, quantiles_csv, reserve_csv, summary_csv,
};
pub use manifest::{RunFacts, Timing, manifest_json, run_manifest_json};
pub use retreat::retreat_csv;
pub use shortfall::shortfall_contributions_csv;

use crate::error::Error;
use crate::model::Study;
use crate::portfolio_summary::Summary;
use crate::run::RunResult;
use std::path::Path;

/// Which report files a run writes besides manifest.json (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    /// The CSV tables.
    pub csv: bool,
    /// summary.json.
    pub json: bool,
    /// report.html.
    pub html: bool,
}

impl Default for Formats {
    /// CSV tables and the HTML page.
    fn default() -> Self {
        Formats { csv: true, json: false, html: true }
    }
}

impl Formats {
    /// Parses `--format` values (`csv`, `json`, `html`).
    pub fn parse(values: &[String]) -> Result<Formats, Error> {
        let mut f = Formats { csv: false, json: false, html: false };
        for v in values {
            match v.trim() {
                "csv" => f.csv = true,
                "json" => f.json = true,
                "html" => f.html = true,
                other => {
                    return Err(Error::Usage(format!(
                        "--format {other:?}: expected csv, json or html (comma-separated)"
                    )));
                }
            }
        }
        Ok(f)
    }
}

/// Builds the reports of a run, in memory, as (file name, bytes).
pub fn build(
    study: &Study,
    portfolio: &Summary,
    result: &RunResult,
    timing: &Timing,
    formats: Formats,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut files = Vec::new();
    let summary = summary_csv(result)?;
    if formats.json {
        files.push(("summary.json".to_owned(), json::summary_json(study, result, &summary)?));
    }
    if formats.csv {
        files.push(("summary.csv".to_owned(), summary));
        files.push(("quantiles.csv".to_owned(), quantiles_csv(result)?));
        files.push(("distribution.csv".to_owned(), distribution_csv(result)?));
        files.push(("policy_comparison.csv".to_owned(), policy_comparison_csv(result)?));
        files.push(("policy_differences.csv".to_owned(), policy_differences_csv(result)?));
        files.push(("reserve.csv".to_owned(), reserve_csv(result, portfolio)?));
        files.push(("contributions.csv".to_owned(), contributions_csv(study, result)?));
        files.push(("portfolio.csv".to_owned(), portfolio_csv(portfolio)?));
        if let Some(cash) = cashflow_csv(result)? {
            files.push(("cashflow.csv".to_owned(), cash));
        }
        if let Some(short) = shortfall_contributions_csv(study, result)? {
            files.push(("shortfall_contributions.csv".to_owned(), short));
        }
        if let Some(retreat) = retreat_csv(result)? {
            files.push(("retreat.csv".to_owned(), retreat));
        }
    }
    if formats.html {
        files.push(("report.html".to_owned(), html::report_html(study, portfolio, result)?));
    }
    let names: Vec<String> = files.iter().map(|f| f.0.clone()).chain(["manifest.json".to_owned()]).collect();
    files.push(("manifest.json".to_owned(), manifest_json(study, result, &names, timing)?));
    Ok(files)
}

/// Builds and writes every report of a run into `dir`.
pub fn write(
    dir: &Path,
    study: &Study,
    portfolio: &Summary,
    result: &RunResult,
    timing: &Timing,
    formats: Formats,
) -> Result<(), Error> {
    let files = build(study, portfolio, result, timing, formats)?;
    write_files(dir, &files)
}
