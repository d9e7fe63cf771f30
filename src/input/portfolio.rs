//! `buyers.csv` and `invoices.csv` (SPEC §2.1, §2.2): CSV -> validated buyers and invoices.

use super::source::{Source, closest};
use crate::calendar::Calendar;
use crate::error::{Error, Location, Problem, Problems};
use crate::model::{Buyer, Invoice, LimitType};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

/// What a semicolon-separated file (a European Excel export, with decimal commas) is told to be.
pub const SEMICOLON_ADVICE: &str = "comma-separated values with a point as decimal separator \
     (in Excel: Save As > \"CSV UTF-8 (Comma delimited)\" with a locale that uses a decimal point)";

/// A parsed CSV table: header names and rows with their physical line numbers.
struct Table<'a> {
    src: &'a Source,
    columns: BTreeMap<String, usize>,
    rows: Vec<(usize, csv::StringRecord)>,
}

impl<'a> Table<'a> {
    /// Reads the header and rows; `required` names the columns a header must have (for the empty-file message).
    fn read(src: &'a Source, required: &[&str], problems: &mut Problems) -> Result<Self, Error> {
        if src.text.trim().is_empty() {
            return Err(Error::problem(Problem {
                file: src.path.clone(),
                location: Location::File,
                field: "header".into(),
                value: if src.text.is_empty() { "empty file (0 bytes)".into() } else { "blank lines only".into() },
                expected: format!(
                    "a header line with at least the columns {} and one row per record",
                    required.join(",")
                ),
            }));
        }
        let first_line = src.text.lines().next().unwrap_or("");
        if first_line.contains(';') && !first_line.contains(',') {
            return Err(Error::problem(Problem {
                file: src.path.clone(),
                location: Location::Line(1),
                field: "delimiter".into(),
                value: ";".into(),
                expected: SEMICOLON_ADVICE.into(),
            }));
        }
        let open_quote = unclosed_quote(&src.text);
        if let Some(q) = open_quote.as_ref().filter(|q| q.line == 1) {
            return Err(Error::problem(quote_problem(src, q, "header")));
        }
        let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(src.text.as_bytes());
        let headers = reader.headers().map_err(|e| csv_problem(src, &e))?.clone();
        if let Some(q) = open_quote {
            return Err(Error::problem(quote_problem(src, &q, headers.get(q.field).map_or("row", str::trim))));
        }
        let mut columns = BTreeMap::new();
        for (i, h) in headers.iter().enumerate() {
            let name = h.trim().to_owned();
            if name.is_empty() {
                continue;
            }
            if columns.insert(name.clone(), i).is_some() {
                problems.push(line_problem(src, 1, &name, &name, "each column name once in the header"));
            }
        }
        let mut rows = Vec::new();
        let mut lines = LineCounter::new(&src.text);
        for record in reader.records() {
            let record = record.map_err(|e| csv_problem(src, &e))?;
            let line = record.position().map_or(0, |p| lines.line_at(p.byte() as usize));
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            rows.push((line, record));
        }
        Ok(Table { src, columns, rows })
    }

    fn require(&self, name: &str, problems: &mut Problems) {
        if !self.columns.contains_key(name) {
            let have: Vec<&str> = self.columns.keys().map(String::as_str).collect();
            let hint = have
                .iter()
                .find_map(|h| closest(name, &[h]).map(|c| format!(" (is `{c}` meant to be `{name}`?)")))
                .unwrap_or_default();
            problems.push(Problem {
                file: self.src.path.clone(),
                location: Location::Line(1),
                field: name.into(),
                value: have.join(","),
                expected: format!("a header with the required column `{name}`{hint}"),
            });
        }
    }

    fn get<'r>(&self, record: &'r csv::StringRecord, name: &str) -> Option<&'r str> {
        let i = *self.columns.get(name)?;
        record.get(i).map(str::trim).filter(|s| !s.is_empty())
    }
}

/// Physical line (1-based) of byte offsets into a text, taken in increasing order: the number of `\n` before
/// the offset, plus one. Used for every CSV location, so that LF and CRLF files, with or without a BOM (which
/// [`Source`] strips), give the same line numbers.
pub(crate) struct LineCounter<'t> {
    text: &'t [u8],
    offset: usize,
    line: usize,
}

impl<'t> LineCounter<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        LineCounter { text: text.as_bytes(), offset: 0, line: 1 }
    }

    /// The line of the first byte at or after `offset` that is not a line terminator: the csv crate puts a
    /// record's start before the `\n` of a `\r\n` that ended the previous record (hence its line one too small).
    pub(crate) fn line_at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        let skip = self.text[offset..].iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
        let offset = offset + skip;
        if offset < self.offset {
            *self = LineCounter { text: self.text, offset: 0, line: 1 };
        }
        self.line += self.text[self.offset..offset].iter().filter(|&&b| b == b'\n').count();
        self.offset = offset;
        self.line
    }
}

pub(crate) fn csv_problem(src: &Source, e: &csv::Error) -> Error {
    let line = e.position().map_or(1, |p| LineCounter::new(&src.text).line_at(p.byte() as usize));
    let (value, expected) = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            (format!("{len} fields"), format!("{expected_len} fields, as many as the header has"))
        }
        csv::ErrorKind::Utf8 { .. } => ("non-UTF-8 bytes".into(), "UTF-8 text".into()),
        _ => (e.to_string(), "well-formed CSV".into()),
    };
    Error::problem(line_problem(src, line, "row", &value, &expected))
}

/// A quoted field that is still open at the end of the text, or that closes and goes on with more
/// text (`"Gamma" SA`): the csv crate reads both leniently, silently merging rows.
struct OpenQuote {
    /// Line (1-based) where the quote opens.
    line: usize,
    /// Index of the field within its record.
    field: usize,
    /// Byte offset of the opening quote.
    offset: usize,
    /// Line where the quote closes before more text, if it does (`None`: open to the end).
    closes_on: Option<usize>,
}

/// Finds a quoted field left open at the end of the text, or closed and followed by more text than a
/// delimiter, scanning as the csv crate does: a `"` opens a quoted field only at the start of a field,
/// and `""` inside one is a literal quote.
fn unclosed_quote(text: &str) -> Option<OpenQuote> {
    let (mut line, mut field, mut at_start) = (1, 0, true);
    let mut open: Option<OpenQuote> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if open.is_some() {
            match c {
                '"' if chars.peek().is_some_and(|&(_, n)| n == '"') => {
                    chars.next();
                }
                '"' => match chars.peek() {
                    None | Some((_, ',' | '\n' | '\r')) => open = None,
                    Some(_) => return open.map(|q| OpenQuote { closes_on: Some(line), ..q }),
                },
                '\n' => line += 1,
                _ => {}
            }
            continue;
        }
        match c {
            '"' if at_start => {
                open = Some(OpenQuote { line, field, offset: i, closes_on: None });
                at_start = false;
            }
            ',' => {
                field += 1;
                at_start = true;
            }
            '\n' | '\r' => {
                if c == '\n' {
                    line += 1;
                }
                field = 0;
                at_start = true;
            }
            _ => at_start = false,
        }
    }
    open
}

fn quote_problem(src: &Source, q: &OpenQuote, field: &str) -> Problem {
    let rest = &src.text[q.offset..];
    let value = rest.lines().next().unwrap_or(rest).trim_end();
    let expected = match q.closes_on {
        None => "a closing `\"` for the quoted field that opens on this line (it runs to the end of the file; \
                 write `\"\"` for a quote inside a quoted field)"
            .to_owned(),
        Some(end) => format!(
            "a quoted field that ends at its closing `\"` (the quote opened on this line closes on line {end} \
             and text follows it: a stray `\"` merges rows; write `\"\"` for a quote inside a quoted field)"
        ),
    };
    line_problem(src, q.line, field, value, &expected)
}

pub(crate) fn line_problem(src: &Source, line: usize, field: &str, value: &str, expected: &str) -> Problem {
    Problem {
        file: src.path.clone(),
        location: Location::Line(line),
        field: field.into(),
        value: value.into(),
        expected: expected.into(),
    }
}

/// Parses an amount as an exact decimal in `[0, 1e12]`.
pub fn parse_amount(s: &str) -> Result<Decimal, &'static str> {
    if s.contains(',') {
        return Err("a decimal amount with a point as decimal separator and no thousands separators");
    }
    // f64 only classifies text that is not an exact decimal, to say why; amounts never go through f64.
    let d = Decimal::from_str(s).map_err(|_| match f64::from_str(s) {
        Ok(x) if !x.is_finite() => "a finite decimal amount such as 1234.56 (not NaN or infinity)",
        Ok(x) if x < 0.0 => "an amount >= 0",
        Ok(x) if x >= 1.0 => "an amount <= 1e12 (SPEC §3.1.12)",
        Ok(_) => "a decimal amount with at most 28 decimal places",
        Err(_) => "a decimal amount such as 1234.56",
    })?;
    if d < Decimal::ZERO {
        return Err("an amount >= 0");
    }
    if d > crate::money::max_amount() {
        return Err("an amount <= 1e12 (SPEC §3.1.12)");
    }
    Ok(d)
}

/// A strict ISO 8601 calendar date `YYYY-MM-DD`: four-digit year without a sign, two-digit month and day.
/// (The `time` crate's `[year]` also takes a leading `+` or `-` and more digits.)
pub fn parse_date(text: &str) -> Option<time::Date> {
    let b = text.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// `date` moved by whole calendar years (29 February becomes 28 February); saturates at the calendar's ends.
fn years_from(date: time::Date, years: i32) -> time::Date {
    let year = date.year() + years;
    date.replace_year(year)
        .or_else(|_| date.replace_day(28).and_then(|d| d.replace_year(year)))
        .unwrap_or(if years < 0 { time::Date::MIN } else { time::Date::MAX })
}

fn is_currency(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// What the CSV loaders need from the study.
pub struct CsvContext<'a> {
    pub currency: &'a str,
    pub fx: &'a BTreeMap<String, Decimal>,
    pub calendar: &'a Calendar,
}

/// The columns of buyers.csv (SPEC §2.1).
pub const BUYER_COLUMNS: [&str; 14] = [
    "buyer_id",
    "name",
    "country",
    "sector",
    "rating",
    "pd_1y",
    "currency",
    "outstanding",
    "terms_days",
    "monthly_sales",
    "credit_limit",
    "limit_type",
    "group_id",
    "grade",
];

/// The columns of invoices.csv (SPEC §2.2).
pub const INVOICE_COLUMNS: [&str; 6] = ["invoice_id", "buyer_id", "amount", "currency", "issue_date", "due_date"];

/// Loads buyers, sorted by `buyer_id`. Returns warnings for unknown columns.
pub fn load_buyers(src: &Source, ctx: &CsvContext) -> Result<(Vec<Buyer>, Vec<String>), Error> {
    let (buyers, warnings, problems) = read_buyers(src, ctx)?;
    problems.into_result()?;
    Ok((buyers, warnings))
}

/// Buyers sorted by `buyer_id`, warnings, and the problems of the rows (a bad field takes a neutral value, so
/// that the other files can still be checked against the buyers). `Err` when the table cannot be read at all.
pub fn read_buyers(src: &Source, ctx: &CsvContext) -> Result<(Vec<Buyer>, Vec<String>, Problems), Error> {
    let mut problems = Problems::default();
    let table = Table::read(src, &["buyer_id", "country", "sector", "rating", "terms_days"], &mut problems)?;
    for col in ["buyer_id", "country", "sector", "terms_days"] {
        table.require(col, &mut problems);
    }
    if !table.columns.contains_key("rating") && !table.columns.contains_key("pd_1y") {
        table.require("rating", &mut problems);
    }
    problems.clone().into_result()?;
    let mut warnings = Vec::new();
    let unknown: Vec<&str> = table.columns.keys().map(String::as_str).filter(|c| !BUYER_COLUMNS.contains(c)).collect();
    if !unknown.is_empty() {
        warnings.push(format!("{}: ignoring unknown columns: {}", src.path.display(), unknown.join(", ")));
    }

    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(table.rows.len());
    let mut buyers = Vec::new();
    for (line, rec) in &table.rows {
        let line = *line;
        let mut bad =
            |field: &str, value: &str, expected: &str| problems.push(line_problem(src, line, field, value, expected));
        let id_text = table.get(rec, "buyer_id").unwrap_or("");
        let id = id_text.to_owned();
        if id.is_empty() {
            bad("buyer_id", "", "a non-empty buyer id");
        } else if let Some(&first) = seen.get(id_text) {
            bad("buyer_id", &id, &format!("a unique buyer id (already used on line {first})"));
        } else {
            seen.insert(id_text, line);
        }
        let country = table.get(rec, "country").unwrap_or("").to_owned();
        if !super::country::is_country_code(&country) {
            bad("country", &country, &super::country::expected_country(&country));
        }
        let sector = table.get(rec, "sector").unwrap_or("").to_owned();
        if sector.is_empty() {
            bad("sector", "", "a non-empty sector label");
        }
        let rating = table.get(rec, "rating").map(str::to_owned);
        let pd_1y = match table.get(rec, "pd_1y") {
            None => None,
            Some(s) => match f64::from_str(s) {
                Ok(p) if p.is_finite() && (0.0..1.0).contains(&p) => Some(p),
                _ => {
                    bad("pd_1y", s, "an annual probability of default 0 <= p < 1");
                    None
                }
            },
        };
        if rating.is_none() && pd_1y.is_none() && table.get(rec, "pd_1y").is_none() {
            bad("rating", "", "a rating grade or a pd_1y value");
        }
        let currency = table.get(rec, "currency").unwrap_or(ctx.currency).to_owned();
        if !is_currency(&currency) {
            bad("currency", &currency, "an ISO 4217 currency code such as EUR");
        } else if !ctx.fx.contains_key(&currency) {
            bad("currency", &currency, "a currency with a rate in the study's [fx] table");
        }
        let mut amount = |field: &str| -> Decimal {
            match table.get(rec, field) {
                None => Decimal::ZERO,
                Some(s) => match parse_amount(s) {
                    Ok(d) => {
                        if let Some(rate) = ctx.fx.get(&currency)
                            && d * rate > crate::money::max_amount()
                        {
                            problems.push(line_problem(
                                src,
                                line,
                                field,
                                s,
                                "an amount <= 1e12 after conversion to the reporting currency",
                            ));
                        }
                        d
                    }
                    Err(expected) => {
                        problems.push(line_problem(src, line, field, s, expected));
                        Decimal::ZERO
                    }
                },
            }
        };
        let outstanding = amount("outstanding");
        let monthly_sales = amount("monthly_sales");
        let credit_limit = table.get(rec, "credit_limit").map(|_| amount("credit_limit"));
        let mut bad =
            |field: &str, value: &str, expected: &str| problems.push(line_problem(src, line, field, value, expected));
        let terms_days = match table.get(rec, "terms_days") {
            None => {
                bad("terms_days", "", "payment terms in days, a whole number 0..=720");
                0
            }
            Some(s) => match u32::from_str(s) {
                Ok(t) if t <= 720 => t,
                _ => {
                    bad("terms_days", s, "payment terms in days, a whole number 0..=720");
                    0
                }
            },
        };
        let limit_type = match table.get(rec, "limit_type") {
            None if credit_limit.is_some() => LimitType::Approved,
            None => LimitType::None,
            Some("approved") => LimitType::Approved,
            Some("discretionary") => LimitType::Discretionary,
            Some("none") => LimitType::None,
            Some(other) => {
                bad("limit_type", other, "one of approved, discretionary, none");
                LimitType::None
            }
        };
        let grade_given = match table.get(rec, "grade") {
            None => None,
            Some(g) => {
                let grade = crate::model::Grade::parse(g);
                if grade.is_none() {
                    bad("grade", g, "a credit grade A, B or C (empty: from the rating or pd_1y)");
                }
                grade
            }
        };
        buyers.push(Buyer {
            id,
            name: table.get(rec, "name").unwrap_or("").to_owned(),
            country,
            sector,
            rating,
            pd_1y,
            currency,
            outstanding,
            terms_days,
            monthly_sales,
            credit_limit,
            limit_type,
            group_id: table.get(rec, "group_id").map(str::to_owned),
            grade_given,
            line,
        });
        if problems.len() > crate::error::MAX_PROBLEMS {
            break;
        }
    }
    if buyers.is_empty() && problems.is_empty() {
        problems.push(Problem {
            file: src.path.clone(),
            location: Location::File,
            field: "buyers".into(),
            value: "0 rows".into(),
            expected: "at least one buyer (an empty portfolio cannot be stress-tested)".into(),
        });
    }
    buyers.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((buyers, warnings, problems))
}

/// Loads open invoices against the (sorted) buyers.
pub fn load_invoices(src: &Source, buyers: &[Buyer], ctx: &CsvContext) -> Result<(Vec<Invoice>, Vec<String>), Error> {
    let (invoices, warnings, problems) = read_invoices(src, buyers, ctx)?;
    problems.into_result()?;
    Ok((invoices, warnings))
}

/// Open invoices, warnings and the problems of the rows, as [`read_buyers`].
pub fn read_invoices(
    src: &Source,
    buyers: &[Buyer],
    ctx: &CsvContext,
) -> Result<(Vec<Invoice>, Vec<String>, Problems), Error> {
    let mut problems = Problems::default();
    let required = ["invoice_id", "buyer_id", "amount", "due_date"];
    let table = Table::read(src, &required, &mut problems)?;
    for col in required {
        table.require(col, &mut problems);
    }
    problems.clone().into_result()?;
    let mut warnings = Vec::new();
    let unknown: Vec<&str> =
        table.columns.keys().map(String::as_str).filter(|c| !INVOICE_COLUMNS.contains(c)).collect();
    if !unknown.is_empty() {
        warnings.push(format!("{}: ignoring unknown columns: {}", src.path.display(), unknown.join(", ")));
    }
    // "Did you mean" hints search every buyer_id: only for the first few unknown buyers.
    const HINTS: usize = 10;
    let mut hints = 0;
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(table.rows.len());
    let as_of = ctx.calendar.as_of;
    // Open invoices of a live ledger: issued at most ten years before as_of (older ones are written off, or a
    // defaulted date cell such as Excel's 1899-12-30), due at most ten years after it (payment terms are at most
    // 720 days; ten years leaves room for instalment schedules).
    let (earliest, latest) = (years_from(as_of, -10), years_from(as_of, 10));
    let mut invoices = Vec::new();
    for (line, rec) in &table.rows {
        let line = *line;
        let mut bad =
            |field: &str, value: &str, expected: &str| problems.push(line_problem(src, line, field, value, expected));
        let id_text = table.get(rec, "invoice_id").unwrap_or("");
        let id = id_text.to_owned();
        if id.is_empty() {
            bad("invoice_id", "", "a non-empty invoice id");
        } else if let Some(&first) = seen.get(id_text) {
            bad("invoice_id", &id, &format!("a unique invoice id (already used on line {first})"));
        } else {
            seen.insert(id_text, line);
        }
        let buyer_id = table.get(rec, "buyer_id").unwrap_or("");
        let buyer = crate::model::buyer_position(buyers, buyer_id);
        if buyer.is_none() {
            hints += 1;
            let hint = (hints <= HINTS)
                .then(|| closest(buyer_id, &buyers.iter().map(|b| b.id.as_str()).collect::<Vec<_>>()))
                .flatten()
                .map(|h| format!(" (did you mean `{h}`?)"))
                .unwrap_or_default();
            bad("buyer_id", buyer_id, &format!("a buyer_id of buyers.csv{hint}"));
        }
        let currency = table
            .get(rec, "currency")
            .map(str::to_owned)
            .or_else(|| buyer.map(|b| buyers[b].currency.clone()))
            .unwrap_or_else(|| ctx.currency.to_owned());
        if !ctx.fx.contains_key(&currency) {
            bad("currency", &currency, "a currency with a rate in the study's [fx] table");
        }
        let amount_text = table.get(rec, "amount").unwrap_or("");
        let amount = match parse_amount(amount_text) {
            Ok(d) => d,
            Err(expected) => {
                bad("amount", amount_text, expected);
                Decimal::ZERO
            }
        };
        let mut date = |field: &str| -> Option<(time::Date, i64)> {
            let text = table.get(rec, field)?;
            match parse_date(text) {
                Some(d) => Some((d, (d - as_of).whole_days())),
                None => {
                    problems.push(line_problem(src, line, field, text, "a date YYYY-MM-DD"));
                    None
                }
            }
        };
        let due = date("due_date");
        let issue = date("issue_date");
        let mut bad =
            |field: &str, value: &str, expected: &str| problems.push(line_problem(src, line, field, value, expected));
        if let Some((d, _)) = issue
            && !(earliest..=as_of).contains(&d)
        {
            let text = table.get(rec, "issue_date").unwrap_or("");
            bad(
                "issue_date",
                text,
                &format!("a date from {earliest} to {as_of} (on or before as_of, at most ten years before it)"),
            );
        }
        if let Some((d, _)) = due
            && !(earliest..=latest).contains(&d)
        {
            let text = table.get(rec, "due_date").unwrap_or("");
            bad("due_date", text, &format!("a date from {earliest} to {latest} (within ten years of as_of)"));
        }
        let (issue, due) = (issue.map(|(_, i)| i), due.map(|(_, d)| d));
        if let (Some(i), Some(d)) = (issue, due)
            && d < i
        {
            let text = table.get(rec, "due_date").unwrap_or("");
            bad("due_date", text, "a due date on or after the issue date");
        }
        if table.get(rec, "due_date").is_none() {
            bad("due_date", "", "a due date YYYY-MM-DD");
        }
        if let (Some(b), Some(due_day)) = (buyer, due) {
            invoices.push(Invoice {
                id,
                buyer: b,
                amount,
                currency,
                issue_day: issue.unwrap_or(due_day.min(0) - buyers[b].terms_days as i64).min(0),
                due_day,
            });
        }
        if problems.len() > crate::error::MAX_PROBLEMS {
            break;
        }
    }
    Ok((invoices, warnings, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict_iso() {
        assert_eq!(parse_date("2027-01-31"), Some(time::macros::date!(2027 - 01 - 31)));
        for bad in
            ["+2027-01-31", "-2027-01-31", "02027-01-31", "2027-1-31", "2027-01-1", "2027-02-30", "2027/01/31", ""]
        {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn line_numbers_skip_terminators_before_a_record() {
        let text = "h\r\na\r\nb\r\n";
        let mut lines = LineCounter::new(text);
        // The csv crate's record start for `b` can sit on the `\n` of the previous `\r\n`.
        assert_eq!(lines.line_at(3), 2);
        assert_eq!(lines.line_at(5), 3);
        assert_eq!(lines.line_at(6), 3);
        assert_eq!(LineCounter::new(text).line_at(0), 1);
    }
}
