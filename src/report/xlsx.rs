//! report.xlsx (`--format xlsx`): one workbook with a sheet per CSV report, built from the CSV
//! bytes themselves so that the two cannot disagree. A cell that is a decimal number becomes that
//! number, an empty cell stays empty, anything else is text. Each column's number format comes
//! from its name through [`RULES`], the one classification table that also gives manifest.json
//! its money columns. The workbook's creation time is the study's `as_of`, so two runs of the same
//! inputs and seed write identical bytes.

use crate::error::Error;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use std::collections::BTreeMap;

/// The sheets, in their order in the workbook: each CSV report the run writes, summary first.
pub const SHEETS: [&str; 11] = [
    "summary.csv",
    "policy_comparison.csv",
    "policy_differences.csv",
    "reserve.csv",
    "cashflow.csv",
    "contributions.csv",
    "quantiles.csv",
    "distribution.csv",
    "shortfall_contributions.csv",
    "retreat.csv",
    "portfolio.csv",
];

/// What a column holds, which decides its number format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Labels and identifiers: always text, even when they look like numbers.
    Text,
    /// An amount in the study currency: `#,##0.00 "EUR"`.
    Money,
    /// A probability or share: `0.00%`.
    Percent,
    /// A premium rate: `0.0000%`.
    Rate,
    /// A whole number: `#,##0`.
    Count,
    /// A mean count or a ratio: `#,##0.0000`.
    Decimal,
    /// Days: `0.0`.
    Days,
    /// Anything else (numbers of mixed meaning): Excel's General format.
    Number,
}

/// How a rule matches a column name.
#[derive(Debug, Clone, Copy)]
enum Name {
    Exact(&'static str),
    Prefix(&'static str),
    Suffix(&'static str),
    Contains(&'static str),
    Any,
}

/// One rule: a column of `file` (any file when `None`) whose name matches.
struct Rule {
    file: Option<&'static str>,
    name: Name,
    kind: Kind,
}

const fn rule(file: Option<&'static str>, name: Name, kind: Kind) -> Rule {
    Rule { file, name, kind }
}

/// The classification of report columns, first match wins (docs/reports.md, "Money columns"):
/// labels are text; a few named columns are counts, mean counts, ratios or days; `p_…` columns,
/// names holding `share`, and `quantiles.csv`'s `level` are probabilities; premium rates are
/// rates; every other column of the run's CSV reports is an amount in the study currency.
const RULES: &[Rule] = &[
    rule(None, Name::Exact("scenario"), Kind::Text),
    rule(None, Name::Exact("policy"), Kind::Text),
    rule(None, Name::Exact("policy_a"), Kind::Text),
    rule(None, Name::Exact("policy_b"), Kind::Text),
    rule(None, Name::Exact("measure"), Kind::Text),
    rule(None, Name::Exact("dimension"), Kind::Text),
    rule(None, Name::Exact("section"), Kind::Text),
    rule(None, Name::Exact("key"), Kind::Text),
    rule(None, Name::Exact("name"), Kind::Text),
    rule(None, Name::Exact("month_start"), Kind::Text),
    rule(None, Name::Exact("cheaper"), Kind::Text),
    rule(None, Name::Exact("break_even_note"), Kind::Text),
    rule(None, Name::Suffix("_significant"), Kind::Text),
    // portfolio.csv's metric rows mix an index, a share and a count in one column.
    rule(Some("portfolio.csv"), Name::Exact("value"), Kind::Number),
    rule(Some("quantiles.csv"), Name::Exact("level"), Kind::Percent),
    rule(None, Name::Exact("trials"), Kind::Count),
    rule(None, Name::Exact("bin"), Kind::Count),
    rule(None, Name::Exact("month"), Kind::Count),
    rule(None, Name::Exact("buyers"), Kind::Count),
    rule(None, Name::Exact("rank_by_total_cost"), Kind::Count),
    rule(None, Name::Exact("expected_defaults"), Kind::Decimal),
    rule(None, Name::Prefix("buyers_cut_"), Kind::Decimal),
    rule(None, Name::Exact("cost_per_es_99_reduction"), Kind::Decimal),
    rule(None, Name::Suffix("_dso"), Kind::Days),
    rule(None, Name::Prefix("break_even_premium_rate"), Kind::Rate),
    rule(None, Name::Prefix("p_"), Kind::Percent),
    rule(None, Name::Contains("share"), Kind::Percent),
    rule(None, Name::Any, Kind::Money),
];

/// The kind of column `column` of report `file` (a file name such as `summary.csv`).
pub fn column_kind(file: &str, column: &str) -> Kind {
    let matches = |name: Name| match name {
        Name::Exact(s) => column == s,
        Name::Prefix(s) => column.starts_with(s),
        Name::Suffix(s) => column.ends_with(s),
        Name::Contains(s) => column.contains(s),
        Name::Any => true,
    };
    RULES.iter().find(|r| r.file.is_none_or(|f| f == file) && matches(r.name)).map_or(Kind::Number, |r| r.kind)
}

/// The money columns of each CSV report among `files` (name, bytes), in column order, keyed by
/// file name: what manifest.json states beside the currency. Files outside [`SHEETS`] (those of
/// other commands) are not classified and left out.
pub fn money_columns(files: &[(String, Vec<u8>)]) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let mut out = BTreeMap::new();
    for (name, bytes) in files.iter().filter(|(name, _)| SHEETS.contains(&name.as_str())) {
        let header = header(bytes)?;
        let money = header.into_iter().filter(|c| column_kind(name, c) == Kind::Money).collect();
        out.insert(name.clone(), money);
    }
    Ok(out)
}

fn reread(e: csv::Error) -> Error {
    Error::Internal(format!("re-reading a report: {e}"))
}

fn header(csv: &[u8]) -> Result<Vec<String>, Error> {
    let mut reader = csv::Reader::from_reader(csv);
    Ok(reader.headers().map_err(reread)?.iter().map(str::to_owned).collect())
}

/// Rows a sheet holds below its header.
const MAX_ROWS: usize = 1_048_575;
/// Widest column, in characters.
const MAX_WIDTH: usize = 60;

/// The number formats of the kinds, for the study currency.
struct Formats {
    header: Format,
    money: Format,
    percent: Format,
    rate: Format,
    count: Format,
    decimal: Format,
    days: Format,
    general: Format,
}

impl Formats {
    fn new(currency: &str) -> Formats {
        // study.toml's currency is three capital letters; keep only letters so the quoted text
        // of the format cannot be broken.
        let code: String = currency.chars().filter(char::is_ascii_alphanumeric).collect();
        Formats {
            header: Format::new().set_bold(),
            money: Format::new().set_num_format(format!("#,##0.00 \"{code}\"")),
            percent: Format::new().set_num_format("0.00%"),
            rate: Format::new().set_num_format("0.0000%"),
            count: Format::new().set_num_format("#,##0"),
            decimal: Format::new().set_num_format("#,##0.0000"),
            days: Format::new().set_num_format("0.0"),
            general: Format::new(),
        }
    }

    fn of(&self, kind: Kind) -> &Format {
        match kind {
            Kind::Money => &self.money,
            Kind::Percent => &self.percent,
            Kind::Rate => &self.rate,
            Kind::Count => &self.count,
            Kind::Decimal => &self.decimal,
            Kind::Days => &self.days,
            Kind::Text | Kind::Number => &self.general,
        }
    }
}

/// Digits of `int` with thousands separators.
fn grouped(int: &str) -> usize {
    int.len() + int.len().saturating_sub(1) / 3
}

/// About how many characters Excel shows for `cell` (a decimal) in a column of `kind`.
fn shown_width(kind: Kind, cell: &str, currency: usize) -> usize {
    let negative = usize::from(cell.starts_with('-'));
    let body = cell.trim_start_matches('-');
    let int = body.split_once('.').map_or(body, |(i, _)| i);
    let percent = |decimals: usize| {
        let hundredfold = (cell.parse::<f64>().unwrap_or(0.0).abs() * 100.0).trunc();
        hundredfold.to_string().len() + 1 + decimals + 1 + negative
    };
    match kind {
        Kind::Money => negative + grouped(int) + 3 + 1 + currency,
        Kind::Percent => percent(2),
        Kind::Rate => percent(4),
        Kind::Count => negative + grouped(int),
        Kind::Decimal => negative + grouped(int) + 5,
        Kind::Days => negative + int.len() + 2,
        Kind::Text | Kind::Number => cell.chars().count(),
    }
}

fn excel(e: XlsxError) -> Error {
    Error::Internal(format!("report.xlsx: {e}"))
}

/// report.xlsx from the CSV reports among `files` (name, bytes), a sheet per report in the order
/// of [`SHEETS`]. `as_of` is the study's as of date, written as the workbook's creation time.
pub fn report_xlsx(files: &[(String, Vec<u8>)], currency: &str, as_of: time::Date) -> Result<Vec<u8>, Error> {
    let mut workbook = Workbook::new();
    let created = ExcelDateTime::from_ymd(as_of.year().clamp(1900, 9999) as u16, as_of.month().into(), as_of.day())
        .map_err(excel)?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let formats = Formats::new(currency);
    for sheet in SHEETS {
        let Some((_, csv)) = files.iter().find(|(name, _)| name == sheet) else { continue };
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(sheet.trim_end_matches(".csv")).map_err(excel)?;
        fill_sheet(worksheet, sheet, csv, &formats, currency.len())?;
    }
    workbook.save_to_buffer().map_err(excel)
}

/// Writes one CSV report into `worksheet`: bold header frozen with an autofilter, each cell as
/// number or text, columns formatted by kind and as wide as their widest cell.
fn fill_sheet(worksheet: &mut Worksheet, file: &str, csv: &[u8], f: &Formats, currency: usize) -> Result<(), Error> {
    let mut reader = csv::Reader::from_reader(csv);
    let header: Vec<String> = reader.headers().map_err(reread)?.iter().map(str::to_owned).collect();
    let kinds: Vec<Kind> = header.iter().map(|c| column_kind(file, c)).collect();
    // Bold headers are a little wider than their characters.
    let mut widths: Vec<usize> = header.iter().map(|c| c.chars().count() + 2).collect();
    for (col, name) in header.iter().enumerate() {
        worksheet.write_string_with_format(0, col as u16, name, &f.header).map_err(excel)?;
    }
    let mut rows = 0;
    for record in reader.records() {
        let record = record.map_err(reread)?;
        rows += 1;
        if rows > MAX_ROWS {
            return Err(Error::Usage(format!(
                "report.xlsx: {file} has more than {MAX_ROWS} rows, more than a sheet holds: leave xlsx out \
                 of --format"
            )));
        }
        let row = rows as u32;
        for (col, (cell, &kind)) in record.iter().zip(&kinds).enumerate() {
            if cell.is_empty() {
                continue;
            }
            let number = (kind != Kind::Text && super::json::is_decimal(cell)).then(|| cell.parse::<f64>().ok());
            match number.flatten() {
                Some(x) => {
                    worksheet.write_number_with_format(row, col as u16, x, f.of(kind)).map_err(excel)?;
                    widths[col] = widths[col].max(shown_width(kind, cell, currency));
                }
                None => {
                    worksheet.write_string(row, col as u16, cell).map_err(excel)?;
                    widths[col] = widths[col].max(cell.chars().count());
                }
            }
        }
    }
    let last_col = header.len().saturating_sub(1) as u16;
    worksheet.set_freeze_panes(1, 0).map_err(excel)?;
    worksheet.autofilter(0, 0, rows as u32, last_col).map_err(excel)?;
    for (col, width) in widths.iter().enumerate() {
        worksheet.set_column_width(col as u16, (*width + 1).min(MAX_WIDTH) as f64).map_err(excel)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_classified_by_name() {
        assert_eq!(column_kind("summary.csv", "es_99"), Kind::Money);
        assert_eq!(column_kind("summary.csv", "mean_std_error"), Kind::Money);
        assert_eq!(column_kind("summary.csv", "p_positive"), Kind::Percent);
        assert_eq!(column_kind("summary.csv", "trials"), Kind::Count);
        assert_eq!(column_kind("contributions.csv", "es_99_share"), Kind::Percent);
        assert_eq!(column_kind("policy_comparison.csv", "break_even_premium_rate"), Kind::Rate);
        assert_eq!(column_kind("policy_comparison.csv", "total_cost_vs_none_significant"), Kind::Text);
        assert_eq!(column_kind("quantiles.csv", "level"), Kind::Percent);
        assert_eq!(column_kind("quantiles.csv", "value"), Kind::Money);
        assert_eq!(column_kind("portfolio.csv", "value"), Kind::Number);
        assert_eq!(column_kind("cashflow.csv", "mean_dso"), Kind::Days);
    }

    #[test]
    fn shown_widths_count_separators_and_the_currency() {
        assert_eq!(shown_width(Kind::Money, "-1234567.89", 3), "-1,234,567.89 EUR".len());
        assert_eq!(shown_width(Kind::Percent, "0.123456", 3), "12.35%".len());
        assert_eq!(shown_width(Kind::Count, "100000", 3), "100,000".len());
    }
}
