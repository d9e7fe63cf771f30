//! summary.json (`--format json`) and `validate --format json`: the figures of summary.csv and
//! portfolio.csv for pipelines. Each CSV row becomes an object keyed by the column names; a cell
//! that is a decimal number is written as that JSON number, verbatim (so amounts keep their exact
//! cents), an empty cell as `null`, anything else as a string. The schema is in docs/reports.md.

use crate::error::Error;
use crate::model::Study;
use crate::run::RunResult;
use serde_json::Value;
use std::fmt::Write;

/// Schema names, bumped when a field changes meaning or goes away.
pub const SUMMARY_SCHEMA: &str = "arstress.summary/1";
pub const VALIDATE_SCHEMA: &str = "arstress.validate/1";

/// True for `-?digits(.digits)?` — the decimals the CSV reports write — which JSON accepts as is.
pub(crate) fn is_decimal(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = body.split_once('.').map_or((body, None), |(i, f)| (i, Some(f)));
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    digits(int) && (int == "0" || !int.starts_with('0')) && frac.is_none_or(digits)
}

/// The rows of a CSV report as a JSON array of objects, pretty-printed at `indent`.
pub fn csv_rows_json(csv: &[u8], indent: &str) -> Result<String, Error> {
    let internal = |e: csv::Error| Error::Internal(format!("re-reading a report: {e}"));
    let mut reader = csv::Reader::from_reader(csv);
    let header: Vec<String> = reader.headers().map_err(internal)?.iter().map(str::to_owned).collect();
    let mut out = String::from("[");
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(internal)?;
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        let _ = write!(out, "{indent}  {{");
        for (j, (key, cell)) in header.iter().zip(record.iter()).enumerate() {
            let value = if cell.is_empty() {
                "null".to_owned()
            } else if is_decimal(cell) {
                cell.to_owned()
            } else {
                Value::String(cell.to_owned()).to_string()
            };
            let sep = if j == 0 { "" } else { ", " };
            let _ = write!(out, "{sep}{}: {value}", Value::String(key.clone()));
        }
        out.push('}');
    }
    let _ = write!(out, "\n{indent}]");
    Ok(out)
}

/// summary.json: the run's identity and summary.csv's rows.
pub fn summary_json(study: &Study, r: &RunResult, summary_csv: &[u8]) -> Result<Vec<u8>, Error> {
    let rows = csv_rows_json(summary_csv, "  ")?;
    let text = format!(
        "{{\n  \"schema\": {},\n  \"study\": {},\n  \"as_of\": {},\n  \"currency\": {},\n  \"seed\": {},\n  \"trials\": {},\n  \"rows\": {rows}\n}}\n",
        Value::String(SUMMARY_SCHEMA.into()),
        Value::String(study.name.clone()),
        Value::String(study.calendar.as_of.to_string()),
        Value::String(study.currency.clone()),
        r.seed,
        r.trials,
    );
    Ok(text.into_bytes())
}

/// `validate --format json`: the study's identity, its warnings and portfolio.csv's rows.
pub fn validate_json(
    study: &Study,
    portfolio_csv: &[u8],
    spread: &crate::portfolio_summary::Spread,
) -> Result<Vec<u8>, Error> {
    let rows = csv_rows_json(portfolio_csv, "  ")?;
    let warnings = Value::Array(study.warnings.iter().map(|w| Value::String(w.clone())).collect());
    let text = format!(
        "{{\n  \"schema\": {},\n  \"valid\": true,\n  \"study\": {},\n  \"as_of\": {},\n  \"currency\": {},\n  \"buyers\": {},\n  \"outstanding_spread\": {{ \"buyers\": {}, \"exposure\": {} }},\n  \"warnings\": {warnings},\n  \"portfolio\": {rows}\n}}\n",
        Value::String(VALIDATE_SCHEMA.into()),
        Value::String(study.name.clone()),
        Value::String(study.calendar.as_of.to_string()),
        Value::String(study.currency.clone()),
        study.portfolio.buyers.len(),
        spread.buyers,
        crate::money::format_cents(spread.exposure as i128),
    );
    Ok(text.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_numbers_and_the_rest_strings() {
        assert!(is_decimal("1234.56") && is_decimal("-0.05") && is_decimal("0") && is_decimal("40000"));
        assert!(!is_decimal("") && !is_decimal("1e5") && !is_decimal("01") && !is_decimal("1.") && !is_decimal("NaN"));
        let json = csv_rows_json(b"name,mean,p,note\n\"a \"\"x\"\"\",12.50,0.010000,\n", "").unwrap();
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v[0]["name"], "a \"x\"");
        assert_eq!(v[0]["mean"].to_string(), "12.5");
        assert!(json.contains("\"mean\": 12.50"), "exact decimal kept: {json}");
        assert!(v[0]["note"].is_null());
    }
}
