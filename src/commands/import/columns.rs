//! Which ledger column holds what: header names matched case-, space- and punctuation-insensitively
//! against aliases (`Customer No.` = `customer_no` = `CUSTOMER NO`), overridden or extended by a
//! mapping file (`--map map.toml`, one line per field: `buyer_id = "Kunden-Nr"`).

use crate::error::{Error, Problem, Problems};
use crate::input::source::{Source, closest};
use std::collections::BTreeMap;
use std::path::Path;

/// An aged-balance bucket: the days past due it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bucket {
    Current,
    Days1To30,
    Days31To60,
    Days61To90,
    Days91To120,
    Over90,
    Over120,
}

impl Bucket {
    pub const ALL: [Bucket; 7] = [
        Bucket::Current,
        Bucket::Days1To30,
        Bucket::Days31To60,
        Bucket::Days61To90,
        Bucket::Days91To120,
        Bucket::Over90,
        Bucket::Over120,
    ];

    /// The representative due date of the bucket's balance, in days from `as_of` (the current
    /// bucket's is `as_of + terms / 2`: half-way through the payment terms).
    pub fn due_day(self, terms_days: u32) -> i64 {
        match self {
            Bucket::Current => i64::from(terms_days / 2),
            Bucket::Days1To30 => -15,
            Bucket::Days31To60 => -45,
            Bucket::Days61To90 => -75,
            Bucket::Days91To120 => -105,
            Bucket::Over90 => -120,
            Bucket::Over120 => -150,
        }
    }

    /// A short label, used in invoice ids (`C1001-31-60`).
    pub fn label(self) -> &'static str {
        match self {
            Bucket::Current => "current",
            Bucket::Days1To30 => "1-30",
            Bucket::Days31To60 => "31-60",
            Bucket::Days61To90 => "61-90",
            Bucket::Days91To120 => "91-120",
            Bucket::Over90 => "over-90",
            Bucket::Over120 => "over-120",
        }
    }
}

/// A field of the ledger that arstress reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    BuyerId,
    Name,
    Country,
    InvoiceId,
    IssueDate,
    DueDate,
    Amount,
    Currency,
    Terms,
    Sector,
    Rating,
    CreditLimit,
    MonthlySales,
    Bucket(Bucket),
}

/// Every field, in the order of the mapping file's keys.
pub const FIELDS: [Field; 20] = [
    Field::BuyerId,
    Field::Name,
    Field::Country,
    Field::InvoiceId,
    Field::IssueDate,
    Field::DueDate,
    Field::Amount,
    Field::Currency,
    Field::Terms,
    Field::Sector,
    Field::Rating,
    Field::CreditLimit,
    Field::MonthlySales,
    Field::Bucket(Bucket::Current),
    Field::Bucket(Bucket::Days1To30),
    Field::Bucket(Bucket::Days31To60),
    Field::Bucket(Bucket::Days61To90),
    Field::Bucket(Bucket::Days91To120),
    Field::Bucket(Bucket::Over90),
    Field::Bucket(Bucket::Over120),
];

impl Field {
    /// The field's key in a mapping file.
    pub fn key(self) -> &'static str {
        match self {
            Field::BuyerId => "buyer_id",
            Field::Name => "name",
            Field::Country => "country",
            Field::InvoiceId => "invoice_id",
            Field::IssueDate => "issue_date",
            Field::DueDate => "due_date",
            Field::Amount => "amount",
            Field::Currency => "currency",
            Field::Terms => "terms",
            Field::Sector => "sector",
            Field::Rating => "rating",
            Field::CreditLimit => "credit_limit",
            Field::MonthlySales => "monthly_sales",
            Field::Bucket(Bucket::Current) => "current",
            Field::Bucket(Bucket::Days1To30) => "days_1_30",
            Field::Bucket(Bucket::Days31To60) => "days_31_60",
            Field::Bucket(Bucket::Days61To90) => "days_61_90",
            Field::Bucket(Bucket::Days91To120) => "days_91_120",
            Field::Bucket(Bucket::Over90) => "over_90",
            Field::Bucket(Bucket::Over120) => "over_120",
        }
    }

    /// Header names recognised for the field, as commonly written; the first one a ledger has wins
    /// (`Open Amount` before `Amount`, `Document Date` before `Date`). docs/import.md lists them.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::BuyerId => &[
                "Customer No.",
                "Customer ID",
                "Customer Number",
                "Customer",
                "Debtor No.",
                "Debtor",
                "Buyer ID",
                "Buyer",
                "Account No.",
                "Account",
            ],
            Field::Name => &["Customer Name", "Debtor Name", "Buyer Name", "Account Name", "Name"],
            Field::Country => &["Country Code", "Country", "Ctry"],
            Field::InvoiceId => {
                &["Document No.", "Invoice No.", "Invoice Number", "Invoice", "Doc No.", "Document Number", "Reference"]
            }
            Field::IssueDate => &["Document Date", "Invoice Date", "Issue Date", "Posting Date", "Date"],
            Field::DueDate => &["Due Date", "Net Due Date", "Due"],
            Field::Amount => &["Open Amount", "Remaining Amount", "Amount Due", "Outstanding", "Balance", "Amount"],
            Field::Currency => &["Currency Code", "Currency", "Cur", "Curr"],
            Field::Terms => &["Payment Terms", "Terms Days", "Terms"],
            Field::Sector => &["Sector", "Industry"],
            Field::Rating => &["Rating", "Credit Rating", "Grade"],
            Field::CreditLimit => &["Credit Limit", "Insured Limit", "Limit"],
            Field::MonthlySales => &["Monthly Sales", "Sales per Month", "Average Monthly Sales"],
            Field::Bucket(Bucket::Current) => &["Current", "Not Due", "Not Yet Due"],
            Field::Bucket(Bucket::Days1To30) => &["1-30", "1-30 Days", "Days 1-30", "Overdue 1-30"],
            Field::Bucket(Bucket::Days31To60) => &["31-60", "31-60 Days", "Days 31-60", "Overdue 31-60"],
            Field::Bucket(Bucket::Days61To90) => &["61-90", "61-90 Days", "Days 61-90", "Overdue 61-90"],
            Field::Bucket(Bucket::Days91To120) => &["91-120", "91-120 Days", "Days 91-120", "Overdue 91-120"],
            Field::Bucket(Bucket::Over90) => &[">90", "90+", "Over 90", "> 90 Days", "91+", "Over 90 Days"],
            Field::Bucket(Bucket::Over120) => &[">120", "120+", "Over 120", "> 120 Days", "121+", "Over 120 Days"],
        }
    }
}

/// A header name reduced to its lower-case letters and digits: `Customer No.` → `customerno`.
pub fn normalize(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The mapping file: field key → the ledger's header name, as written.
#[derive(Debug, Default)]
pub struct Mapping {
    /// The mapping file, for messages.
    pub source: Option<Source>,
    pub names: BTreeMap<Field, (String, std::ops::Range<usize>)>,
}

/// Reads `--map`: string values under known keys; unknown keys are refused with a hint.
pub fn read_mapping(path: &Path) -> Result<Mapping, Error> {
    let src = Source::read(path, crate::input::open::TEXT_CAP)?;
    let raw: BTreeMap<String, toml::Spanned<String>> = src.parse_toml()?;
    let keys: Vec<&str> = FIELDS.iter().map(|f| f.key()).collect();
    let mut problems = Problems::default();
    let mut names = BTreeMap::new();
    for (key, value) in raw {
        match FIELDS.iter().find(|f| f.key() == key) {
            Some(&field) => {
                names.insert(field, (value.get_ref().clone(), value.span()));
            }
            None => {
                let hint = closest(&key, &keys).map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default();
                problems.push(src.key_problem(
                    &key,
                    value.span(),
                    key.clone(),
                    format!("a known key{hint}; valid keys: {}", keys.join(", ")),
                ));
            }
        }
    }
    problems.into_result()?;
    Ok(Mapping { source: Some(src), names })
}

/// The columns found: field → (index, header as written).
#[derive(Debug, Default)]
pub struct Columns {
    pub found: BTreeMap<Field, (usize, String)>,
}

impl Columns {
    /// Matches `headers` against the mapping, then the aliases. A mapped name that the header
    /// lacks is a problem of the mapping file.
    pub fn resolve(headers: &[String], mapping: &Mapping, problems: &mut Problems) -> Columns {
        let normalized: Vec<String> = headers.iter().map(|h| normalize(h)).collect();
        let find = |name: &str| {
            let n = normalize(name);
            normalized.iter().position(|h| !h.is_empty() && *h == n)
        };
        let mut found = BTreeMap::new();
        // Columns the mapping names are its fields' alone: no alias takes them for another field
        // (`due_date = "Date"` must not also make "Date" the issue date).
        let claimed: Vec<usize> = mapping.names.values().filter_map(|(name, _)| find(name)).collect();
        for field in FIELDS {
            if let Some((name, span)) = mapping.names.get(&field) {
                match find(name) {
                    Some(i) => {
                        found.insert(field, (i, headers[i].clone()));
                    }
                    None => {
                        if let Some(src) = &mapping.source {
                            problems.push(src.key_problem(
                                field.key(),
                                span.clone(),
                                name.clone(),
                                format!("a column of the ledger's header ({})", headers.join(",")),
                            ));
                        }
                    }
                }
                continue;
            }
            if let Some(i) = field.aliases().iter().find_map(|a| find(a).filter(|i| !claimed.contains(i))) {
                found.insert(field, (i, headers[i].clone()));
            }
        }
        Columns { found }
    }

    pub fn index(&self, field: Field) -> Option<usize> {
        self.found.get(&field).map(|f| f.0)
    }

    /// The header of `field` as the ledger writes it (or the field's key when it has none).
    pub fn header(&self, field: Field) -> String {
        self.found.get(&field).map_or_else(|| field.key().to_owned(), |f| f.1.clone())
    }

    pub fn has(&self, field: Field) -> bool {
        self.found.contains_key(&field)
    }

    pub fn buckets(&self) -> Vec<(Bucket, usize)> {
        Bucket::ALL.iter().filter_map(|&b| self.index(Field::Bucket(b)).map(|i| (b, i))).collect()
    }
}

/// The problem of a required column the header lacks: the header row as written, and the
/// aliases looked for.
pub fn missing_column(file: &Path, header_line: &str, field: Field, extra: &str) -> Problem {
    Problem {
        file: file.to_path_buf(),
        location: crate::error::Location::Line(1),
        field: field.key().into(),
        value: header_line.to_owned(),
        expected: format!(
            "a column for `{}`: one of {} (case, spaces and punctuation ignored){extra}, or a line \
             `{} = \"COLUMN\"` in --map",
            field.key(),
            field.aliases().join(", "),
            field.key()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_whatever_their_case_spaces_and_punctuation() {
        for h in ["Customer No.", "customer_no", "CUSTOMER NO", "Customer-No"] {
            let cols = Columns::resolve(&[h.to_owned()], &Mapping::default(), &mut Problems::default());
            assert_eq!(cols.index(Field::BuyerId), Some(0), "{h}");
        }
        let headers: Vec<String> = ["Amount", "Open Amount", "Date", "Document Date", "> 90 Days", "1-30 days"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let cols = Columns::resolve(&headers, &Mapping::default(), &mut Problems::default());
        assert_eq!(cols.index(Field::Amount), Some(1));
        assert_eq!(cols.index(Field::IssueDate), Some(3));
        assert_eq!(cols.index(Field::Bucket(Bucket::Over90)), Some(4));
        assert_eq!(cols.index(Field::Bucket(Bucket::Days1To30)), Some(5));
    }

    #[test]
    fn every_alias_means_one_field() {
        let mut seen = BTreeMap::new();
        for f in FIELDS {
            for a in f.aliases() {
                if let Some(other) = seen.insert(normalize(a), f)
                    && other != f
                {
                    panic!("{a} means {other:?} and {f:?}");
                }
            }
        }
    }
}
