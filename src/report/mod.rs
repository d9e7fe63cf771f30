//! Reports (SPEC §8): CSV tables and the manifest, built in memory and written atomically.

pub mod analytic;
pub mod answers;

mod contributions;
mod csv_tables;
pub mod figures;
pub mod html;
pub mod json;
mod manifest;
mod retreat;
mod shortfall;
pub mod xlsx;

pub use crate::atomic::{check_writable, write_files};
pub use contributions::contributions_csv;
pub use csv_tables::{
    RESERVE_RULES_PERCENT, cashflow_csv, distribution_csv, policy_comparison_csv, policy_differences_csv,
    portfolio_csv, quantiles_csv, reserve_csv, summary_csv,
};
pub use manifest::{MoneyColumns, RunFacts, Timing, manifest_json, run_manifest_json};
pub use retreat::retreat_csv;
pub use shortfall::shortfall_contributions_csv;

use crate::error::Error;
use crate::model::Study;
use crate::portfolio_summary::Summary;
use crate::run::RunResult;
use std::collections::BTreeMap;
use std::path::Path;

/// The byte order mark `--csv-bom` puts before every CSV file.
pub const UTF8_BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Which report files a run writes besides manifest.json (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    /// The CSV tables.
    pub csv: bool,
    /// summary.json.
    pub json: bool,
    /// report.html.
    pub html: bool,
    /// report.xlsx: a sheet per CSV table.
    pub xlsx: bool,
    /// A UTF-8 byte order mark at the start of every CSV file (`--csv-bom`), for Excel.
    pub csv_bom: bool,
}

impl Default for Formats {
    /// CSV tables and the HTML page.
    fn default() -> Self {
        Formats { csv: true, json: false, html: true, xlsx: false, csv_bom: false }
    }
}

impl Formats {
    /// No report but manifest.json.
    pub const NONE: Formats = Formats { csv: false, json: false, html: false, xlsx: false, csv_bom: false };
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
    // The CSV tables, also the source of report.xlsx and of the manifest's money columns.
    let mut tables = vec![("summary.csv".to_owned(), summary)];
    if formats.csv || formats.xlsx {
        tables.push(("quantiles.csv".to_owned(), quantiles_csv(result)?));
        tables.push(("distribution.csv".to_owned(), distribution_csv(result)?));
        tables.push(("policy_comparison.csv".to_owned(), policy_comparison_csv(result)?));
        tables.push(("policy_differences.csv".to_owned(), policy_differences_csv(result)?));
        tables.push(("reserve.csv".to_owned(), reserve_csv(result, portfolio)?));
        tables.push(("contributions.csv".to_owned(), contributions_csv(study, result)?));
        tables.push(("portfolio.csv".to_owned(), portfolio_csv(portfolio)?));
        if let Some(cash) = cashflow_csv(result)? {
            tables.push(("cashflow.csv".to_owned(), cash));
        }
        if let Some(short) = shortfall_contributions_csv(study, result)? {
            tables.push(("shortfall_contributions.csv".to_owned(), short));
        }
        if let Some(retreat) = retreat_csv(result)? {
            tables.push(("retreat.csv".to_owned(), retreat));
        }
    }
    let money = if formats.csv || formats.xlsx { xlsx::money_columns(&tables)? } else { BTreeMap::new() };
    let workbook =
        if formats.xlsx { Some(xlsx::report_xlsx(&tables, &study.currency, study.calendar.as_of)?) } else { None };
    if formats.csv {
        for (name, mut bytes) in tables {
            if formats.csv_bom {
                bytes.splice(0..0, UTF8_BOM);
            }
            files.push((name, bytes));
        }
    }
    if let Some(workbook) = workbook {
        files.push(("report.xlsx".to_owned(), workbook));
    }
    if formats.html {
        files.push(("report.html".to_owned(), html::report_html(study, portfolio, result)?));
    }
    let names: Vec<String> = files.iter().map(|f| f.0.clone()).chain(["manifest.json".to_owned()]).collect();
    files.push(("manifest.json".to_owned(), manifest_json(study, result, &names, &money, timing)?));
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
