//! Reading a ledger export: the CSV table (any delimiter, CRLF, a UTF-8 BOM) and its values —
//! amounts with thousands separators, decimal commas or trailing minus signs, dates in ISO or a
//! `--date-format`, payment terms as days or text (`Net 30`, `2/10 Net 30`, `30 Tage`).

use crate::error::{Error, Location, Problem, Problems};
use crate::input::portfolio::{LineCounter, SEMICOLON_ADVICE, csv_problem, parse_date};
use crate::input::source::Source;
use rust_decimal::Decimal;
use std::path::Path;
use std::str::FromStr;
use time::format_description::OwnedFormatItem;

/// How the ledger's text is written.
pub struct Format {
    pub delimiter: u8,
    pub decimal_comma: bool,
    /// `--date-format`, translated; `None`: ISO `YYYY-MM-DD` only.
    pub date: Option<(String, OwnedFormatItem)>,
}

/// Translates a strftime-style `--date-format` (`%d.%m.%Y`, `%m/%d/%Y`, `%Y%m%d`) into the `time`
/// crate's format. `%d`, `%e` (day), `%m` (month), `%Y` (four-digit year), `%b` (Jan), `%B`
/// (January) and `%%`; anything else is written literally.
pub fn date_format(text: &str) -> Result<(String, OwnedFormatItem), Error> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            if c == '[' {
                out.push_str("[[");
            } else {
                out.push(c);
            }
            continue;
        }
        let item = match chars.next() {
            Some('d') => "[day]",
            Some('e') => "[day padding:none]",
            Some('m') => "[month]",
            Some('Y') => "[year]",
            Some('b') => "[month repr:short]",
            Some('B') => "[month repr:long]",
            Some('%') => "%",
            other => {
                let shown = other.map_or_else(|| "%".to_owned(), |o| format!("%{o}"));
                return Err(Error::Usage(format!(
                    "--date-format {text:?}: {shown} is not supported: use %d (day), %m (month), %Y (four-digit \
                     year), %b/%B (month name), e.g. %d.%m.%Y or %m/%d/%Y"
                )));
            }
        };
        out.push_str(item);
    }
    let has = |s: &str| out.contains(s);
    if !(has("[day") && (has("[month") && has("[year]"))) {
        return Err(Error::Usage(format!(
            "--date-format {text:?}: a date format needs a day (%d), a month (%m) and a four-digit year (%Y)"
        )));
    }
    let item = time::format_description::parse_owned::<1>(&out)
        .map_err(|e| Error::Usage(format!("--date-format {text:?}: {e}")))?;
    Ok((text.to_owned(), item))
}

/// The table: the header as written and the rows with their physical line numbers.
pub struct Table {
    pub src: Source,
    pub headers: Vec<String>,
    /// The header line as written (for messages).
    pub header_line: String,
    pub rows: Vec<(usize, csv::StringRecord)>,
}

impl Table {
    /// Reads the ledger through [`crate::input::open::read_regular`] (a regular file, UTF-8, a BOM
    /// removed, CRLF or LF). A semicolon-separated file read as comma-separated is refused with the
    /// save-as advice of `buyers.csv`, plus the flags that read it as it is.
    pub fn read(path: &Path, format: &Format) -> Result<Table, Error> {
        let src = Source::read(path, crate::input::open::csv_cap())?;
        let header_line = src.text.lines().next().unwrap_or("").trim_end().to_owned();
        if header_line.trim().is_empty() {
            return Err(Error::problem(Problem {
                file: src.path.clone(),
                location: Location::File,
                field: "header".into(),
                value: if src.text.is_empty() { "empty file (0 bytes)".into() } else { "blank first line".into() },
                expected: "a header line naming the columns, then one row per open item or customer".into(),
            }));
        }
        if format.delimiter == b',' && header_line.contains(';') && !header_line.contains(',') {
            return Err(Error::problem(Problem {
                file: src.path.clone(),
                location: Location::Line(1),
                field: "delimiter".into(),
                value: ";".into(),
                expected: format!("{SEMICOLON_ADVICE}; or read it as it is with --delimiter ';' --decimal-comma"),
            }));
        }
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(format.delimiter)
            .has_headers(true)
            .flexible(false)
            .from_reader(src.text.as_bytes());
        let headers: Vec<String> =
            reader.headers().map_err(|e| csv_problem(&src, &e))?.iter().map(|h| h.trim().to_owned()).collect();
        let mut rows = Vec::new();
        let mut lines = LineCounter::new(&src.text);
        for record in reader.records() {
            let record = record.map_err(|e| csv_problem(&src, &e))?;
            let line = record.position().map_or(0, |p| lines.line_at(p.byte() as usize));
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            rows.push((line, record));
        }
        Ok(Table { src, headers, header_line, rows })
    }

    /// A problem at `line` in `column` (the header as written).
    pub fn problem(&self, line: usize, column: &str, value: &str, expected: impl Into<String>) -> Problem {
        Problem {
            file: self.src.path.clone(),
            location: Location::Line(line),
            field: column.into(),
            value: value.into(),
            expected: expected.into(),
        }
    }
}

/// The trimmed, non-empty text of column `index` of a record.
pub fn cell(record: &csv::StringRecord, index: Option<usize>) -> Option<&str> {
    record.get(index?).map(str::trim).filter(|s| !s.is_empty())
}

/// An amount, negative for credit notes: `-1234.56`, `1234.56-`, `(1,234.56)`, `1,234.56`, a
/// currency sign around it; with `decimal_comma` `1.234,56`. At most 1e12 in absolute value.
pub fn parse_money(text: &str, decimal_comma: bool) -> Result<Decimal, &'static str> {
    let mut t: String =
        text.chars().filter(|c| !matches!(c, '€' | '$' | '£' | ' ' | '\u{a0}' | '\u{202f}' | '\'')).collect();
    let mut negative = false;
    if let Some(inner) = t.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        negative = true;
        t = inner.to_owned();
    }
    if let Some(rest) = t.strip_suffix('-') {
        negative = !negative;
        t = rest.to_owned();
    } else if let Some(rest) = t.strip_prefix('-') {
        negative = !negative;
        t = rest.to_owned();
    }
    let plain = if decimal_comma {
        let (int, frac) = t.split_once(',').unwrap_or((&t, ""));
        if frac.contains([',', '.']) || !thousands_ok(int, '.') {
            return Err("a decimal amount such as 1.234,56 (point for thousands, comma for decimals)");
        }
        t.replace('.', "").replace(',', ".")
    } else {
        let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
        if frac.contains([',', '.']) || !thousands_ok(int, ',') {
            return Err("a decimal amount such as 1234.56 or 1,234.56 (for 1.234,56 pass --decimal-comma)");
        }
        t.replace(',', "")
    };
    if plain.is_empty() || !plain.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(if decimal_comma {
            "a decimal amount such as 1.234,56"
        } else {
            "a decimal amount such as 1234.56"
        });
    }
    let d = Decimal::from_str(&plain).map_err(|_| "a decimal amount such as 1234.56")?;
    if d > crate::money::max_amount() {
        return Err("an amount of at most 1e12 (SPEC §3.1.12)");
    }
    Ok(if negative { -d } else { d })
}

/// Whether an integer part uses `sep` only as a thousands separator (`1,234,567`), if at all.
fn thousands_ok(int: &str, sep: char) -> bool {
    if !int.contains(sep) {
        return true;
    }
    let groups: Vec<&str> = int.split(sep).collect();
    (1..=3).contains(&groups[0].len()) && groups[1..].iter().all(|g| g.len() == 3)
}

/// A date: ISO `YYYY-MM-DD` (a time after it, `2027-01-31 00:00:00`, is ignored), or the
/// `--date-format`. The error says what was expected, with the advice for day-first or
/// month-first dates.
pub fn parse_ledger_date(text: &str, format: &Format) -> Result<time::Date, String> {
    if let Some((shown, item)) = &format.date {
        return time::Date::parse(text, item).map_err(|_| format!("a date in --date-format {shown}"));
    }
    let day = match text.char_indices().nth(10) {
        Some((i, ' ' | 'T')) => &text[..i],
        _ => text,
    };
    parse_date(day).ok_or_else(|| {
        let numeric = text.split(['.', '/', '-']).collect::<Vec<_>>();
        let local =
            numeric.len() == 3 && numeric.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if local && numeric[2].len() == 4 {
            "a date YYYY-MM-DD; for day-first or month-first dates pass --date-format, e.g. %d.%m.%Y, \
             %d/%m/%Y or %m/%d/%Y (03/04/2027 is 3 April or 4 March: arstress does not guess)"
                .to_owned()
        } else {
            "a date YYYY-MM-DD (or pass --date-format for another layout)".to_owned()
        }
    })
}

/// Payment terms in days: `30`, `Net 30`, `NET30`, `2/10 Net 30` (the net days count), `30 days`,
/// `30 Tage`, `30d`. At most 720.
pub fn parse_terms(text: &str) -> Option<u32> {
    let lower = text.to_lowercase();
    // A number of days, optionally followed by a word for days (`30`, `30 days`, `30 Tage`):
    // anything else after it (`1e400`, `30 EOM`) or before it (`-30`) is not read as days.
    let days = |t: &str| -> Option<u32> {
        let t = t.trim();
        let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
        let rest = t[digits.len()..].trim().trim_end_matches('.');
        let words = ["", "d", "day", "days", "tage", "tag", "t", "jours", "j", "dias", "días", "giorni", "gg"];
        if digits.is_empty() || !words.contains(&rest) {
            return None;
        }
        digits.parse().ok()
    };
    // `Net 30`, `NET30`, `2/10 Net 30`: the days after the last "net"; else a plain number.
    let d = match lower.rfind("net") {
        Some(i) => days(&lower[i + 3..])?,
        None => days(&lower)?,
    };
    (d <= 720).then_some(d)
}

/// Problems collected while reading rows, with the cap of the input loaders.
pub fn full(problems: &Problems) -> bool {
    problems.len() > crate::error::MAX_PROBLEMS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_read_only_days() {
        for (text, want) in [
            ("30", Some(30)),
            ("Net 30", Some(30)),
            ("NET30", Some(30)),
            ("2/10 Net 30", Some(30)),
            ("net 45 days", Some(45)),
            ("30 Tage", Some(30)),
            ("Net 1e400", None),
            ("Net -30", None),
            ("Net 30 EOM", None),
            ("-30", None),
            ("Net 721", None),
            ("Net", None),
        ] {
            assert_eq!(parse_terms(text), want, "{text}");
        }
    }

    #[test]
    fn amounts_in_ledger_notations() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(parse_money("1234.56", false), Ok(d("1234.56")));
        assert_eq!(parse_money("1,234.56", false), Ok(d("1234.56")));
        assert_eq!(parse_money("-1,234.56", false), Ok(d("-1234.56")));
        assert_eq!(parse_money("1234.56-", false), Ok(d("-1234.56")));
        assert_eq!(parse_money("(1,234.56)", false), Ok(d("-1234.56")));
        assert_eq!(parse_money("€ 1,234", false), Ok(d("1234")));
        assert_eq!(parse_money("1.234,56", true), Ok(d("1234.56")));
        assert_eq!(parse_money("-0,5", true), Ok(d("-0.5")));
        assert!(parse_money("12,5", false).is_err());
        assert!(parse_money("1.234,56", false).is_err());
        assert!(parse_money("1,234.56", true).is_err());
        assert!(parse_money("1.234.567,5", true).is_ok());
        assert!(parse_money("abc", false).is_err());
        assert!(parse_money("1,2,3", true).is_err());
    }

    #[test]
    fn terms_as_days_or_text() {
        for (text, days) in [
            ("30", Some(30)),
            ("Net 30", Some(30)),
            ("NET30", Some(30)),
            ("2/10 Net 30", Some(30)),
            ("30 days", Some(30)),
            ("30 Tage", Some(30)),
            ("60d", Some(60)),
            ("net 60 days", Some(60)),
            ("cash", None),
            ("2/10", None),
            ("999", None),
        ] {
            assert_eq!(parse_terms(text), days, "{text}");
        }
    }

    #[test]
    fn dates_iso_or_as_told() {
        let iso = Format { delimiter: b',', decimal_comma: false, date: None };
        assert_eq!(parse_ledger_date("2027-01-31", &iso), Ok(time::macros::date!(2027 - 01 - 31)));
        assert_eq!(parse_ledger_date("2027-01-31 00:00:00", &iso), Ok(time::macros::date!(2027 - 01 - 31)));
        assert!(parse_ledger_date("03/04/2027", &iso).unwrap_err().contains("--date-format"));
        let de = Format { date: Some(date_format("%d.%m.%Y").unwrap()), ..iso };
        assert_eq!(parse_ledger_date("03.04.2027", &de), Ok(time::macros::date!(2027 - 04 - 03)));
        let us = Format { date: Some(date_format("%m/%d/%Y").unwrap()), ..de };
        assert_eq!(parse_ledger_date("03/04/2027", &us), Ok(time::macros::date!(2027 - 03 - 04)));
        assert!(date_format("%y-%m-%d").is_err());
        assert!(date_format("%d.%m").is_err());
    }
}
