//! `arstress compare OLD NEW`: the headline figures of two report folders side by side (e.g. this
//! half-year's run against the last), with each change judged against the combined Monte Carlo
//! error of the two runs.

use crate::error::{Error, Location, Problem, Problems};
use std::collections::BTreeMap;
use std::path::Path;

/// Figures compared, from `summary.csv`, with how their standard error is found: a
/// `<figure>_std_error` column when the report has one (every figure since errors were added), the binomial
/// error for probabilities, none otherwise (the change is then reported without a verdict).
pub const FIGURES: [&str; 5] = ["mean", "var_99", "es_99", "p_positive", "p_above_bad_debt_reserve"];

/// Family-wise false-alarm rate of the verdicts: a change is significant when it exceeds
/// `z* · √(se_old² + se_new²)` with `z* = max(3, Φ⁻¹(1 − 0.05/(2m)))` over the `m` figures judged
/// (Bonferroni), so two runs of the same model flag nothing in 95% of comparisons or more, however
/// many scenarios and policies they hold, while real shifts of a stress scenario stand out.
pub const FAMILY_ALPHA: f64 = 0.05;

/// The threshold `z*` for `m` judged figures.
pub fn significance_z(m: usize) -> f64 {
    crate::normal::quantile(1.0 - FAMILY_ALPHA / (2.0 * m.max(1) as f64)).max(3.0)
}

/// One compared figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub scenario: String,
    pub policy: String,
    pub measure: String,
    pub figure: String,
    /// The figures as printed in the reports (empty when a side lacks the row).
    pub old: String,
    pub new: String,
    /// `new − old`, when both exist.
    pub change: Option<f64>,
    /// `√(se_old² + se_new²)`, when both errors are known.
    pub combined_std_error: Option<f64>,
    /// `|change| > z* × combined_std_error` ([`significance_z`]), when that is known.
    pub significant: Option<bool>,
}

/// One report folder's summary: key (scenario, policy, measure) → column → text.
type Summary = BTreeMap<(String, String, String), BTreeMap<String, String>>;

fn read_summary(dir: &Path) -> Result<Summary, Error> {
    crate::atomic::check_complete(dir)?;
    let path = dir.join("summary.csv");
    let bytes = crate::input::open::read_regular(&path, crate::input::open::csv_cap())?;
    let bad = |line: usize, field: &str, value: String, expected: &str| {
        Error::problem(Problem {
            file: path.clone(),
            location: Location::Line(line),
            field: field.into(),
            value,
            expected: expected.into(),
        })
    };
    // A report written with --csv-bom starts with a byte order mark.
    let body = bytes.strip_prefix(&crate::report::UTF8_BOM[..]).unwrap_or(&bytes);
    let mut reader = csv::Reader::from_reader(body);
    let headers = reader.headers().map_err(|e| bad(1, "header", e.to_string(), "an arstress summary.csv"))?.clone();
    for required in ["scenario", "policy", "measure", "trials"] {
        if !headers.iter().any(|h| h == required) {
            return Err(bad(
                1,
                required,
                headers.iter().collect::<Vec<_>>().join(","),
                "an arstress summary.csv header",
            ));
        }
    }
    let mut out = Summary::new();
    let mut problems = Problems::default();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| bad(line, "row", e.to_string(), "a well-formed CSV row"))?;
        let row: BTreeMap<String, String> =
            headers.iter().zip(record.iter()).map(|(h, v)| (h.into(), v.into())).collect();
        // Every column but the three keys holds a figure as arstress writes it: a plain decimal.
        for (column, value) in &row {
            if !KEYS.contains(&column.as_str()) && !value.is_empty() && !is_plain_decimal(value) {
                problems.push(Problem {
                    file: path.clone(),
                    location: Location::Line(line),
                    field: column.clone(),
                    value: value.clone(),
                    expected: "a finite decimal number as arstress writes it (e.g. 1234.56), or nothing".into(),
                });
            }
        }
        let key = (row["scenario"].clone(), row["policy"].clone(), row["measure"].clone());
        out.insert(key, row);
    }
    problems.into_result()?;
    Ok(out)
}

/// The key columns of summary.csv; every other column holds a figure.
const KEYS: [&str; 3] = ["scenario", "policy", "measure"];

/// Whether `text` is a decimal as the reports print it: an optional minus, at most 40 digits, an
/// optional fraction. NaN, infinities and exponents (`1e400`) never are.
fn is_plain_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    !int.is_empty()
        && int.len() <= 40
        && frac.len() <= 40
        && all_digits(int)
        && all_digits(frac)
        && (digits.contains('.') != frac.is_empty())
}

/// Parses a reported number; empty means absent.
fn number(text: Option<&String>) -> Option<f64> {
    text.filter(|t| !t.is_empty()).and_then(|t| t.parse().ok())
}

/// Standard error of `figure` in a summary row.
fn std_error(row: &BTreeMap<String, String>, figure: &str) -> Option<f64> {
    if let Some(se) = number(row.get(&format!("{figure}_std_error"))) {
        return Some(se);
    }
    if figure.starts_with("p_") {
        let p = number(row.get(figure))?;
        let n = number(row.get("trials"))?;
        return Some((p * (1.0 - p) / n).sqrt());
    }
    None
}

/// Compares the `summary.csv` of two report folders.
pub fn compare(old: &Path, new: &Path) -> Result<Vec<Row>, Error> {
    let (a, b) = (read_summary(old)?, read_summary(new)?);
    let mut keys: Vec<&(String, String, String)> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut rows = Vec::new();
    for key in keys {
        let (ra, rb) = (a.get(key), b.get(key));
        for figure in FIGURES {
            let text =
                |r: Option<&BTreeMap<String, String>>| r.and_then(|r| r.get(figure)).cloned().unwrap_or_default();
            let (old_text, new_text) = (text(ra), text(rb));
            if old_text.is_empty() && new_text.is_empty() {
                continue;
            }
            let change = match (number(Some(&old_text)), number(Some(&new_text))) {
                (Some(x), Some(y)) => Some(y - x),
                _ => None,
            };
            let combined = match (ra.and_then(|r| std_error(r, figure)), rb.and_then(|r| std_error(r, figure))) {
                (Some(x), Some(y)) => Some((x * x + y * y).sqrt()),
                _ => None,
            };
            rows.push(Row {
                scenario: key.0.clone(),
                policy: key.1.clone(),
                measure: key.2.clone(),
                figure: figure.into(),
                old: old_text,
                new: new_text,
                change,
                combined_std_error: combined,
                significant: None,
            });
        }
    }
    let judged = rows.iter().filter(|r| r.change.is_some() && r.combined_std_error.is_some()).count();
    let z = significance_z(judged);
    for r in &mut rows {
        if let (Some(d), Some(se)) = (r.change, r.combined_std_error) {
            r.significant = Some(d.abs() > z * se);
        }
    }
    Ok(rows)
}

/// `comparison.csv`.
pub fn comparison_csv(rows: &[Row]) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| Error::Internal(format!("comparison.csv: {e}"));
    w.write_record([
        "scenario",
        "policy",
        "measure",
        "figure",
        "old",
        "new",
        "change",
        "combined_std_error",
        "significant",
    ])
    .map_err(internal)?;
    for r in rows {
        w.write_record([
            r.scenario.as_str(),
            &r.policy,
            &r.measure,
            &r.figure,
            &r.old,
            &r.new,
            &r.change.map_or(String::new(), |c| format_change(&r.figure, c)),
            &r.combined_std_error.map_or(String::new(), |c| format_change(&r.figure, c)),
            r.significant.map_or("", |s| if s { "yes" } else { "no" }),
        ])
        .map_err(internal)?;
    }
    w.into_inner().map_err(|e| Error::Internal(format!("comparison.csv: {e}")))
}

/// Amounts with two decimals, probabilities with six.
fn format_change(figure: &str, x: f64) -> String {
    if figure.starts_with("p_") { format!("{x:.6}") } else { format!("{x:.2}") }
}

/// A readable table of the figures that matter most (means and ES 99), one line each, changes that
/// exceed the combined error marked with `*`.
pub fn terminal_table(rows: &[Row]) -> String {
    let shown: Vec<&Row> = rows.iter().filter(|r| r.figure == "mean" || r.figure == "es_99").collect();
    let cells: Vec<[String; 7]> = shown
        .iter()
        .map(|r| {
            [
                r.scenario.clone(),
                r.policy.clone(),
                format!("{} {}", r.measure, r.figure),
                r.old.clone(),
                r.new.clone(),
                r.change.map_or(String::new(), |c| format_change(&r.figure, c)),
                match r.significant {
                    Some(true) => "*".into(),
                    Some(false) => String::new(),
                    None => "?".into(),
                },
            ]
        })
        .collect();
    let header = ["scenario", "policy", "figure", "old", "new", "change", "sig"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&cells) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (c, w))| if (3..6).contains(&i) { format!("{c:>w$}") } else { format!("{c:<w$}") })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    let flagged = rows.iter().filter(|r| r.significant == Some(true)).count();
    let judged = rows.iter().filter(|r| r.significant.is_some()).count();
    out.push_str(&format!(
        "{flagged} of {judged} changes with a known error exceed {:.2} combined standard errors (*); \
         ? = no error reported for that figure\n",
        significance_z(judged)
    ));
    out
}
