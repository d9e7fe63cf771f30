//! `arstress import LEDGER.csv --out STUDY`: an ERP open-items list or an aged-receivables report
//! turned into a runnable study folder (docs/import.md).
//!
//! [`columns`] finds which column holds what, [`ledger`] reads the table and its values, this module
//! groups rows into buyers, applies the documented defaults (one summary warning per defaulted
//! field), builds buyers.csv, invoices.csv, study.toml, policies.toml (one whole-turnover policy)
//! and the standard scenarios ([`crate::commands::generate::standard_scenarios`]), and checks the result by
//! loading it as `validate` would before anything is written.

pub mod columns;
pub mod ledger;

use crate::commands::generate::{StudyToml, WHOLE_TURNOVER_POLICY, standard_scenarios};
use crate::error::{Error, Location, Problem, Problems};
use columns::{Bucket, Columns, Field, Mapping};
use ledger::{Format, Table, cell, parse_ledger_date, parse_money, parse_terms};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// Payment terms when the ledger has none at all.
pub const DEFAULT_TERMS_DAYS: u32 = 60;
/// The sector of buyers without one.
pub const DEFAULT_SECTOR: &str = "unclassified";
/// Credit limits set by default are the exposure rounded up to a multiple of this.
pub const LIMIT_ROUNDING: i64 = 1_000;

/// What `import` reads and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub ledger: PathBuf,
    /// `--map`: field = "column" lines overriding the aliases.
    pub map: Option<PathBuf>,
    /// The valuation date; `None`: the latest document date of the ledger.
    pub as_of: Option<time::Date>,
    pub delimiter: u8,
    pub decimal_comma: bool,
    /// `--date-format` (strftime style); `None`: ISO dates only.
    pub date_format: Option<String>,
    pub default_rating: String,
    pub default_country: Option<String>,
    /// The study's reporting currency; `None`: the ledger's only currency (EUR without a column).
    pub currency: Option<String>,
    /// `--fx CUR=RATE`: reporting-currency units per unit of CUR.
    pub fx: Vec<(String, Decimal)>,
    /// The study's name; `None`: the ledger's file stem.
    pub name: Option<String>,
    pub trials: u64,
    pub seed: u64,
}

/// The two shapes of ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One row per open invoice, with a due date and an amount.
    OpenItems,
    /// One row per customer with ageing buckets.
    AgedBalance,
}

/// An imported study, checked and ready to be written.
#[derive(Debug)]
pub struct Imported {
    /// study.toml, buyers.csv, invoices.csv, policies.toml.
    pub files: Vec<(String, Vec<u8>)>,
    /// The standard scenarios, for `scenarios/`.
    pub scenarios: Vec<(String, Vec<u8>)>,
    pub shape: Shape,
    pub rows: usize,
    pub buyers: usize,
    pub invoices: usize,
    /// Exposure at as_of in reporting cents, as `validate` reports it.
    pub exposure_cents: i64,
    pub currency: String,
    pub as_of: time::Date,
    /// Summary lines for stdout (what the study holds, the defaults applied, the bucket dates).
    pub summary: Vec<String>,
    /// One warning per defaulted field or dropped amount, for stderr.
    pub warnings: Vec<String>,
}

/// One open item (or one non-zero ageing bucket) of a buyer, signed (credit notes negative).
#[derive(Debug, Clone)]
struct Item {
    line: usize,
    id: Option<String>,
    issue: Option<time::Date>,
    due: Option<time::Date>,
    bucket: Option<Bucket>,
    amount: Decimal,
}

/// Everything the rows say about one customer.
#[derive(Debug, Default)]
struct Acc {
    first_line: usize,
    name: Option<String>,
    country: Option<(String, usize)>,
    currency: Option<(String, usize)>,
    terms: Vec<u32>,
    sector: Option<String>,
    rating: Option<String>,
    limit: Option<Decimal>,
    sales: Option<Decimal>,
    items: Vec<Item>,
    /// The latest document date of the customer's rows (bad rows included).
    latest_issue: Option<time::Date>,
}

/// An open item of a buyer once its due day is known (credit notes taken off `amount`).
struct Open {
    line: usize,
    id: Option<String>,
    issue: Option<time::Date>,
    /// Days from as_of.
    due_day: i64,
    amount: Decimal,
}

/// One buyer of the study.
struct Built {
    id: String,
    name: String,
    country: String,
    sector: String,
    rating: String,
    currency: String,
    terms: u32,
    sales: Decimal,
    limit: Decimal,
    /// (invoice id, amount, issue, due day)
    invoices: Vec<(String, Decimal, Option<time::Date>, i64)>,
}

/// Reads the ledger (and the mapping file) and builds the study; every input problem of the run
/// together (exit code 2). `out` names the study's files in messages about them.
pub fn import(opts: &ImportOptions, out: &Path) -> Result<Imported, Error> {
    let format = Format {
        delimiter: opts.delimiter,
        decimal_comma: opts.decimal_comma,
        date: opts.date_format.as_deref().map(ledger::date_format).transpose()?,
    };
    let grades: BTreeSet<String> = crate::model::default_rating_table().into_keys().collect();
    let default_rating = rating_grade(&opts.default_rating, &grades).ok_or_else(|| {
        Error::Usage(format!(
            "--default-rating {:?}: expected a grade of the rating table ({})",
            opts.default_rating,
            grades.iter().cloned().collect::<Vec<_>>().join(", ")
        ))
    })?;
    if let Some(c) = &opts.default_country
        && !crate::input::country::is_country_code(c)
    {
        return Err(Error::Usage(format!(
            "--default-country {c:?}: expected {}",
            crate::input::country::expected_country(c)
        )));
    }
    for (c, rate) in &opts.fx {
        if !is_currency(c) || *rate <= Decimal::ZERO {
            return Err(Error::Usage(format!(
                "--fx {c}={rate}: expected CUR=RATE with an ISO 4217 code and a rate > 0"
            )));
        }
    }
    if let Some(c) = &opts.currency
        && !is_currency(c)
    {
        return Err(Error::Usage(format!("--currency {c:?}: expected an ISO 4217 code such as EUR")));
    }

    let mut problems = Problems::default();
    let mapping = match &opts.map {
        Some(path) => match columns::read_mapping(path) {
            Ok(m) => m,
            Err(Error::Invalid(p)) => {
                problems.extend(p);
                Mapping::default()
            }
            Err(e) => return Err(e),
        },
        None => Mapping::default(),
    };
    let table = Table::read(&opts.ledger, &format)?;
    let cols = Columns::resolve(&table.headers, &mapping, &mut problems);
    let file = table.src.path.clone();
    // A column the import reads must be named once: of two `Amount` columns, which holds the
    // amount is anyone's guess (nothing read silently from the wrong one).
    for (_, header) in cols.found.values() {
        let name = columns::normalize(header);
        let same: Vec<usize> =
            (0..table.headers.len()).filter(|&j| columns::normalize(&table.headers[j]) == name).collect();
        if same.len() > 1 {
            let at: Vec<String> = same.iter().map(|j| (j + 1).to_string()).collect();
            problems.push(Problem {
                file: file.clone(),
                location: Location::Line(1),
                field: header.clone(),
                value: table.header_line.clone(),
                expected: format!(
                    "each column named once: `{header}` names columns {} (rename one of them in the export)",
                    at.join(" and ")
                ),
            });
        }
    }
    let shape =
        if !cols.buckets().is_empty() && !cols.has(Field::DueDate) { Shape::AgedBalance } else { Shape::OpenItems };
    if !cols.has(Field::BuyerId) {
        problems.push(columns::missing_column(&file, &table.header_line, Field::BuyerId, ""));
    }
    if shape == Shape::OpenItems {
        if !cols.has(Field::Amount) {
            let buckets = "; or, for an aged-balance report, bucket columns such as Current, 1-30, 31-60";
            problems.push(columns::missing_column(&file, &table.header_line, Field::Amount, buckets));
        }
        if !cols.has(Field::DueDate) {
            problems.push(columns::missing_column(&file, &table.header_line, Field::DueDate, ""));
        }
    }
    if !cols.has(Field::Country) && opts.default_country.is_none() {
        problems.push(columns::missing_column(
            &file,
            &table.header_line,
            Field::Country,
            " (country matters for political risk), or pass --default-country XX",
        ));
    }
    // A subtotal bucket beside the buckets it sums would count the same receivables twice.
    let buckets: Vec<Bucket> = cols.buckets().into_iter().map(|(b, _)| b).collect();
    if buckets.contains(&Bucket::Over90) {
        for detail in [Bucket::Days91To120, Bucket::Over120] {
            if buckets.contains(&detail) {
                problems.push(Problem {
                    file: file.clone(),
                    location: Location::Line(1),
                    field: cols.header(Field::Bucket(Bucket::Over90)),
                    value: table.header_line.clone(),
                    expected: format!(
                        "buckets that do not overlap: `{}` holds what `{}` holds (drop the subtotal column from \
                         the export)",
                        cols.header(Field::Bucket(Bucket::Over90)),
                        cols.header(Field::Bucket(detail))
                    ),
                });
                break;
            }
        }
    }
    problems.clone().into_result()?;

    let mut accs: BTreeMap<String, Acc> = BTreeMap::new();
    let mut zero_rows = 0usize;
    for (line, rec) in &table.rows {
        let line = *line;
        if ledger::full(&problems) {
            break;
        }
        let Some(id) = cell(rec, cols.index(Field::BuyerId)) else {
            problems.push(table.problem(line, &cols.header(Field::BuyerId), "", "a customer number"));
            continue;
        };
        // A totals line of the export would be a customer holding the whole book.
        if is_totals_label(id) {
            problems.push(table.problem(
                line,
                &cols.header(Field::BuyerId),
                id,
                "a customer number, not a totals line (remove the totals line from the export)",
            ));
            continue;
        }
        let acc = accs.entry(id.to_owned()).or_insert_with(|| Acc { first_line: line, ..Acc::default() });
        read_row(&table, &cols, &format, &grades, rec, line, id, shape, acc, &mut zero_rows, &mut problems);
    }

    let as_of = match opts.as_of {
        Some(d) => d,
        None => match accs.values().filter_map(|a| a.latest_issue).max() {
            Some(d) => d,
            // The rows' problems first: the dates may be there, unreadable.
            None if !problems.is_empty() => return Err(Error::Invalid(problems)),
            None => {
                return Err(Error::Usage(format!(
                    "{}: the ledger has no document dates to take the valuation date from{}: pass --as-of \
                     YYYY-MM-DD (the date of the report)",
                    file.display(),
                    if shape == Shape::AgedBalance { " (an aged-balance report)" } else { "" }
                )));
            }
        },
    };
    check_dates(&table, &cols, &accs, as_of, &mut problems);

    // The reporting currency and the rates of the others.
    let ledger_currencies: BTreeSet<String> =
        accs.values().filter_map(|a| a.currency.as_ref().map(|c| c.0.clone())).collect();
    let mut warnings = Vec::new();
    let currency = match (&opts.currency, ledger_currencies.len()) {
        (Some(c), _) => c.clone(),
        (None, 1) => ledger_currencies.iter().next().cloned().unwrap_or_default(),
        (None, 0) => {
            warnings.push("no currency in the ledger: amounts read as EUR (--currency to change)".to_owned());
            "EUR".to_owned()
        }
        (None, _) => {
            let all: Vec<String> = ledger_currencies.iter().cloned().collect();
            problems.push(Problem {
                file: file.clone(),
                location: Location::File,
                field: cols.header(Field::Currency),
                value: all.join(", "),
                expected: "one currency, or --currency for the study's reporting currency and --fx CUR=RATE \
                           for each of the others"
                    .into(),
            });
            return Err(Error::Invalid(problems));
        }
    };
    // Customers with no currency cell while others have one: read in the reporting currency,
    // said once with the count.
    let blank = accs.values().filter(|a| a.currency.is_none()).count();
    if blank > 0 && !ledger_currencies.is_empty() {
        warnings.push(format!(
            "no currency for {blank} buyer{}: amounts read as {currency} (the reporting currency)",
            if blank == 1 { "" } else { "s" }
        ));
    }
    let fx: BTreeMap<String, Decimal> = opts.fx.iter().cloned().collect();
    let mut unpriced: BTreeMap<String, usize> = BTreeMap::new();
    for a in accs.values() {
        if let Some((c, line)) = &a.currency
            && *c != currency
            && !fx.contains_key(c)
        {
            let first = unpriced.entry(c.clone()).or_insert(*line);
            *first = (*first).min(*line);
        }
    }
    for (c, line) in &unpriced {
        problems.push(table.problem(
            *line,
            &cols.header(Field::Currency),
            c,
            format!(
                "{currency} (the study's currency) or a currency with a rate: pass --fx {c}=RATE ({currency} per 1 {c})"
            ),
        ));
    }

    // Countries: every buyer needs one.
    let mut no_country: Vec<(String, usize)> = Vec::new();
    for (id, a) in &accs {
        if a.country.is_none() && opts.default_country.is_none() {
            no_country.push((id.clone(), a.first_line));
        }
    }
    for (id, line) in &no_country {
        problems.push(table.problem(
            *line,
            &cols.header(Field::Country),
            "",
            format!(
                "a country code for customer {id} (country matters for political risk): fill it in, or pass \
                 --default-country XX"
            ),
        ));
    }
    problems.into_result()?;

    let rate = |c: &str| if c == currency { Decimal::ONE } else { fx.get(c).copied().unwrap_or(Decimal::ONE) };
    let mut defaults = Defaults::default();
    // Terms found: each buyer's (the lower median of its rows).
    let mut found_terms: Vec<u32> = Vec::new();
    let mut buyer_terms: BTreeMap<&str, u32> = BTreeMap::new();
    for (id, a) in &accs {
        if let Some(m) = median(&mut a.terms.clone()) {
            found_terms.push(m);
            buyer_terms.insert(id, m);
        }
    }
    let fallback_terms = median(&mut found_terms.clone());

    let three_months_ago = months_before(as_of, 3);
    let mut built = Vec::new();
    let mut credits = (0usize, Decimal::ZERO);
    let mut left_out: Vec<(String, Decimal)> = Vec::new();
    let mut used_ids: HashSet<String> = HashSet::new();
    let mut renamed = 0usize;
    let mut generated_ids = 0usize;
    for (id, a) in &accs {
        let cur = a.currency.as_ref().map_or(currency.as_str(), |c| c.0.as_str()).to_owned();
        let given_terms = buyer_terms.get(id.as_str()).copied();
        let terms = given_terms.or(fallback_terms).unwrap_or(DEFAULT_TERMS_DAYS);
        // Open items, due day relative to as_of; credit notes net into the oldest items.
        let mut open: Vec<Open> = Vec::new();
        let mut credit = Decimal::ZERO;
        for item in &a.items {
            let due_day = match (item.bucket, item.due) {
                (Some(b), _) => b.due_day(terms),
                (None, Some(d)) => (d - as_of).whole_days(),
                (None, None) => continue,
            };
            if item.amount < Decimal::ZERO {
                credits.0 += 1;
                credits.1 += item.amount * rate(&cur);
                credit -= item.amount;
            } else {
                let label = item.bucket.map(|b| format!("{id}-{}", b.label()));
                open.push(Open {
                    line: item.line,
                    id: item.id.clone().or(label),
                    issue: item.issue,
                    due_day,
                    amount: item.amount,
                });
            }
        }
        open.sort_by_key(|o| (o.due_day, o.line));
        for o in open.iter_mut() {
            let take = o.amount.min(credit);
            o.amount -= take;
            credit -= take;
        }
        let net: Decimal = open.iter().map(|o| o.amount).sum::<Decimal>() - credit;
        if net <= Decimal::ZERO {
            left_out.push((id.clone(), net * rate(&cur)));
            continue;
        }
        if given_terms.is_none() {
            defaults.terms += 1;
        }
        let sales = match a.sales {
            Some(s) => s,
            None => {
                let dated: Vec<&Item> = a.items.iter().filter(|i| i.issue.is_some()).collect();
                if dated.is_empty() {
                    defaults.sales_zero += 1;
                    Decimal::ZERO
                } else {
                    defaults.sales_derived += 1;
                    let recent: Decimal = dated
                        .iter()
                        .filter(|i| i.issue.is_some_and(|d| d > three_months_ago && d <= as_of))
                        .map(|i| i.amount)
                        .sum();
                    (recent / Decimal::from(3)).round_dp(2).max(Decimal::ZERO)
                }
            }
        };
        let limit = match a.limit {
            Some(l) => l,
            None => {
                defaults.limit += 1;
                let step = Decimal::from(LIMIT_ROUNDING);
                (net / step).ceil() * step
            }
        };
        let rating = match &a.rating {
            Some(r) => r.clone(),
            None => {
                defaults.rating += 1;
                default_rating.clone()
            }
        };
        let sector = match &a.sector {
            Some(s) => s.clone(),
            None => {
                defaults.sector += 1;
                DEFAULT_SECTOR.to_owned()
            }
        };
        let country = match &a.country {
            Some(c) => c.0.clone(),
            None => {
                defaults.country += 1;
                opts.default_country.clone().unwrap_or_default()
            }
        };
        let mut invoices = Vec::new();
        for Open { line, id: inv_id, issue, due_day, amount } in open {
            if amount == Decimal::ZERO {
                continue;
            }
            let base = inv_id.unwrap_or_else(|| {
                generated_ids += 1;
                format!("{id}-L{line}")
            });
            let mut unique = base.clone();
            let mut n = 1;
            while !used_ids.insert(unique.clone()) {
                n += 1;
                unique = format!("{base}-{n}");
            }
            if n > 1 {
                renamed += 1;
            }
            invoices.push((unique, amount, issue, due_day));
        }
        built.push(Built {
            id: id.clone(),
            name: a.name.clone().unwrap_or_default(),
            country,
            sector,
            rating,
            currency: cur,
            terms,
            sales,
            limit,
            invoices,
        });
    }
    if built.is_empty() {
        return Err(Error::problem(Problem {
            file: file.clone(),
            location: Location::File,
            field: "rows".into(),
            value: format!("{} rows", table.rows.len()),
            expected: "at least one customer with a positive open balance".into(),
        }));
    }

    // The summary warnings: one per defaulted field, with counts.
    let n = |k: usize| count(k, "buyer");
    if defaults.country > 0 {
        let c = opts.default_country.clone().unwrap_or_default();
        warnings.push(format!("no country for {}: {c} (--default-country)", n(defaults.country)));
    }
    if defaults.rating > 0 {
        warnings.push(format!("no rating for {}: {default_rating} (--default-rating)", n(defaults.rating)));
    }
    if defaults.terms > 0 {
        let how = match fallback_terms {
            Some(t) => format!("{t} days, the median of the terms found"),
            None => format!("{DEFAULT_TERMS_DAYS} days (no terms in the ledger)"),
        };
        warnings.push(format!("no payment terms for {}: {how}", n(defaults.terms)));
    }
    if defaults.sector > 0 {
        warnings.push(format!("no sector for {}: `{DEFAULT_SECTOR}`", n(defaults.sector)));
    }
    if defaults.limit > 0 {
        warnings.push(format!(
            "no credit limit for {}: exposure rounded up to a multiple of 1,000 (approved)",
            n(defaults.limit)
        ));
    }
    if defaults.sales_derived > 0 {
        warnings.push(format!(
            "no monthly sales for {}: a month's average of their items issued after {three_months_ago}",
            n(defaults.sales_derived)
        ));
    }
    if defaults.sales_zero > 0 {
        warnings.push(format!(
            "no monthly sales and no document dates for {}: 0 (no new sales simulated)",
            n(defaults.sales_zero)
        ));
    }
    if generated_ids > 0 {
        warnings.push(format!("no invoice number on {}: CUSTOMER-L<line> instead", count(generated_ids, "row")));
    }
    if renamed > 0 {
        warnings.push(format!("{renamed} invoice numbers used more than once: -2, -3, … appended"));
    }
    if zero_rows > 0 {
        warnings.push(format!("{} with amount 0 left out", count(zero_rows, "row")));
    }
    let money = |d: Decimal| {
        let c = (d * Decimal::from(100)).round().try_into().unwrap_or(0i64);
        crate::money::group_thousands(&crate::money::format_cents(i128::from(c)))
    };
    if credits.0 > 0 {
        warnings.push(format!(
            "{} ({} {currency}) netted into their buyers' exposure, oldest items first",
            count(credits.0, "credit note"),
            money(credits.1)
        ));
    }
    if !left_out.is_empty() {
        let total: Decimal = left_out.iter().map(|l| l.1).sum();
        let ids: Vec<&str> = left_out.iter().take(3).map(|l| l.0.as_str()).collect();
        let more = if left_out.len() > 3 { ", …" } else { "" };
        warnings.push(format!(
            "left out {} with no positive balance after credit notes (net {} {currency}): {}{more}",
            n(left_out.len()),
            money(total),
            ids.join(", ")
        ));
    }

    let (files, scenarios) = study_files(opts, &built, &currency, &fx, as_of, &rate)?;
    let study = check_study(&files, &scenarios, out)?;
    let portfolio = crate::portfolio_summary::summarize(&study);

    let mut summary = Vec::new();
    let shape_text = match shape {
        Shape::OpenItems => "open items",
        Shape::AgedBalance => "aged balance",
    };
    summary.push(format!(
        "imported {} ({shape_text}, {}): {}, {}",
        file.display(),
        count(table.rows.len(), "row"),
        count(study.portfolio.buyers.len(), "buyer"),
        count(study.portfolio.invoices.len(), "invoice")
    ));
    let exposure = crate::money::group_thousands(&crate::money::format_cents(i128::from(portfolio.total.exposure)));
    let as_of_source = if opts.as_of.is_some() { "--as-of" } else { "the latest document date" };
    summary.push(format!("exposure {exposure} {currency} as of {as_of} ({as_of_source})"));
    if shape == Shape::AgedBalance {
        let dates: Vec<String> = cols
            .buckets()
            .iter()
            .map(|(b, _)| match b {
                Bucket::Current => "current +terms/2".to_owned(),
                _ => format!("{} {}", b.label(), b.due_day(0)),
            })
            .collect();
        summary.push(format!("buckets due (days from as_of): {}", dates.join(", ")));
    }
    let mut applied = Vec::new();
    for (what, k) in [
        ("country", defaults.country),
        ("rating", defaults.rating),
        ("terms", defaults.terms),
        ("sector", defaults.sector),
        ("credit limit", defaults.limit),
        ("monthly sales", defaults.sales_derived + defaults.sales_zero),
    ] {
        if k > 0 {
            applied.push(format!("{what} ({k})"));
        }
    }
    summary.push(format!(
        "defaults applied (buyers): {}",
        if applied.is_empty() { "none".to_owned() } else { applied.join(", ") }
    ));
    Ok(Imported {
        files,
        scenarios,
        shape,
        rows: table.rows.len(),
        buyers: study.portfolio.buyers.len(),
        invoices: study.portfolio.invoices.len(),
        exposure_cents: portfolio.total.exposure,
        currency,
        as_of,
        summary,
        warnings,
    })
}

/// Counts of buyers given a default, per field.
#[derive(Debug, Default)]
struct Defaults {
    country: usize,
    rating: usize,
    terms: usize,
    sector: usize,
    limit: usize,
    sales_derived: usize,
    sales_zero: usize,
}

/// Reads one row into its customer's record: buyer fields (which must agree across the
/// customer's rows for country and currency) and the open item or the non-zero buckets.
#[allow(clippy::too_many_arguments)]
fn read_row(
    table: &Table,
    cols: &Columns,
    format: &Format,
    grades: &BTreeSet<String>,
    rec: &csv::StringRecord,
    line: usize,
    id: &str,
    shape: Shape,
    acc: &mut Acc,
    zero_rows: &mut usize,
    problems: &mut Problems,
) {
    let get = |f: Field| cell(rec, cols.index(f));
    let bad = |problems: &mut Problems, f: Field, value: &str, expected: String| {
        problems.push(table.problem(line, &cols.header(f), value, expected));
    };
    if acc.name.is_none() {
        acc.name = get(Field::Name).map(str::to_owned);
    }
    if let Some(text) = get(Field::Country) {
        let code = text.to_ascii_uppercase();
        if !crate::input::country::is_country_code(&code) {
            bad(problems, Field::Country, text, crate::input::country::expected_country(text));
        } else {
            match &acc.country {
                Some((first, at)) if *first != code => bad(
                    problems,
                    Field::Country,
                    text,
                    format!("{first}, as on line {at}: customer {id} appears with two countries"),
                ),
                Some(_) => {}
                None => acc.country = Some((code, line)),
            }
        }
    }
    if let Some(text) = get(Field::Currency) {
        let code = text.to_ascii_uppercase();
        if !is_currency(&code) {
            bad(problems, Field::Currency, text, "an ISO 4217 currency code such as EUR".into());
        } else {
            match &acc.currency {
                Some((first, at)) if *first != code => bad(
                    problems,
                    Field::Currency,
                    text,
                    format!("{first}, as on line {at}: customer {id} appears with two currencies"),
                ),
                Some(_) => {}
                None => acc.currency = Some((code, line)),
            }
        }
    }
    if let Some(text) = get(Field::Terms) {
        match parse_terms(text) {
            Some(t) => acc.terms.push(t),
            None => bad(
                problems,
                Field::Terms,
                text,
                "payment terms in days: 30, Net 30, 2/10 Net 30, 30 days (at most 720)".into(),
            ),
        }
    }
    if acc.sector.is_none() {
        acc.sector = get(Field::Sector).map(str::to_owned);
    }
    if let Some(text) = get(Field::Rating) {
        match rating_grade(text, grades) {
            Some(g) => acc.rating = acc.rating.take().or(Some(g)),
            None => bad(
                problems,
                Field::Rating,
                text,
                format!(
                    "a grade of the rating table ({}; + and - are dropped)",
                    grades.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            ),
        }
    }
    let amount = |problems: &mut Problems, f: Field, text: &str| -> Option<Decimal> {
        // In a semicolon export read without --decimal-comma, `12,500` may be 12.50 written the
        // European way or 12,500 with a thousands separator: which one is not a guess.
        if format.delimiter == b';' && !format.decimal_comma && text.contains(',') && !text.contains('.') {
            let expected = "an amount without a comma, or pass --decimal-comma (a semicolon export: is `,` the \
                            decimal or the thousands separator?)";
            problems.push(table.problem(line, &cols.header(f), text, expected));
            return None;
        }
        match parse_money(text, format.decimal_comma) {
            Ok(d) => Some(d),
            Err(expected) => {
                problems.push(table.problem(line, &cols.header(f), text, expected));
                None
            }
        }
    };
    for (f, slot) in [(Field::CreditLimit, &mut acc.limit), (Field::MonthlySales, &mut acc.sales)] {
        if let Some(text) = get(f)
            && let Some(d) = amount(problems, f, text)
        {
            if d < Decimal::ZERO {
                bad(problems, f, text, "an amount >= 0".into());
            } else {
                *slot = Some(slot.map_or(d, |s| s.max(d)));
            }
        }
    }
    let date = |problems: &mut Problems, f: Field| -> Option<time::Date> {
        let text = get(f)?;
        match parse_ledger_date(text, format) {
            Ok(d) => Some(d),
            Err(expected) => {
                problems.push(table.problem(line, &cols.header(f), text, expected));
                None
            }
        }
    };
    match shape {
        Shape::OpenItems => {
            let issue = date(problems, Field::IssueDate);
            acc.latest_issue = acc.latest_issue.max(issue);
            let due = date(problems, Field::DueDate);
            if get(Field::DueDate).is_none() {
                bad(problems, Field::DueDate, "", "a due date".into());
            }
            let Some(text) = get(Field::Amount) else {
                bad(problems, Field::Amount, "", "an amount".into());
                return;
            };
            let Some(value) = amount(problems, Field::Amount, text) else { return };
            if value == Decimal::ZERO {
                *zero_rows += 1;
                return;
            }
            if due.is_some() {
                let id = get(Field::InvoiceId).map(str::to_owned);
                acc.items.push(Item { line, id, issue, due, bucket: None, amount: value });
            }
        }
        Shape::AgedBalance => {
            let mut sum = Decimal::ZERO;
            for (bucket, index) in cols.buckets() {
                let Some(text) = cell(rec, Some(index)) else { continue };
                let Some(value) = amount(problems, Field::Bucket(bucket), text) else { continue };
                sum += value;
                if value != Decimal::ZERO {
                    acc.items.push(Item {
                        line,
                        id: None,
                        issue: None,
                        due: None,
                        bucket: Some(bucket),
                        amount: value,
                    });
                }
            }
            if let Some(text) = get(Field::Amount)
                && let Some(total) = amount(problems, Field::Amount, text)
                && total != sum
            {
                bad(
                    problems,
                    Field::Amount,
                    text,
                    format!("the sum of the row's ageing buckets, {sum} (buckets overlap or one is missing?)"),
                );
            }
        }
    }
}

/// Document dates after as_of, and dates more than ten years from it (which the study refuses).
fn check_dates(
    table: &Table,
    cols: &Columns,
    accs: &BTreeMap<String, Acc>,
    as_of: time::Date,
    problems: &mut Problems,
) {
    let (earliest, latest) = (years_from(as_of, -10), years_from(as_of, 10));
    for item in accs.values().flat_map(|a| a.items.iter()) {
        if let Some(d) = item.issue
            && !(earliest..=as_of).contains(&d)
        {
            problems.push(table.problem(
                item.line,
                &cols.header(Field::IssueDate),
                &d.to_string(),
                format!("a document date from {earliest} to {as_of} (on or before as_of, at most ten years before)"),
            ));
        }
        if let Some(d) = item.due
            && !(earliest..=latest).contains(&d)
        {
            problems.push(table.problem(
                item.line,
                &cols.header(Field::DueDate),
                &d.to_string(),
                format!("a due date from {earliest} to {latest} (within ten years of as_of)"),
            ));
        }
    }
}

/// The study's files: `(name, bytes)` for the folder and for `scenarios/`.
type Files = Vec<(String, Vec<u8>)>;

fn study_files(
    opts: &ImportOptions,
    built: &[Built],
    currency: &str,
    fx: &BTreeMap<String, Decimal>,
    as_of: time::Date,
    rate: &dyn Fn(&str) -> Decimal,
) -> Result<(Files, Files), Error> {
    let buyer_header = [
        "buyer_id",
        "name",
        "country",
        "sector",
        "rating",
        "currency",
        "outstanding",
        "terms_days",
        "monthly_sales",
        "credit_limit",
        "limit_type",
    ];
    let mut buyers = vec![buyer_header.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    let mut invoices = vec![
        ["invoice_id", "buyer_id", "amount", "currency", "issue_date", "due_date"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    ];
    let mut sector_weight: BTreeMap<&str, f64> = BTreeMap::new();
    let mut country_weight: BTreeMap<&str, f64> = BTreeMap::new();
    for b in built {
        let outstanding: Decimal = b.invoices.iter().map(|i| i.1).sum();
        let weight = f64::try_from(outstanding * rate(&b.currency)).unwrap_or(0.0);
        *sector_weight.entry(&b.sector).or_default() += weight;
        *country_weight.entry(&b.country).or_default() += weight;
        buyers.push(vec![
            b.id.clone(),
            b.name.clone(),
            b.country.clone(),
            b.sector.clone(),
            b.rating.clone(),
            b.currency.clone(),
            amount_text(outstanding),
            b.terms.to_string(),
            amount_text(b.sales),
            amount_text(b.limit),
            "approved".to_owned(),
        ]);
        for (id, amount, issue, due_day) in &b.invoices {
            invoices.push(vec![
                id.clone(),
                b.id.clone(),
                amount_text(*amount),
                b.currency.clone(),
                issue.map(|d| d.to_string()).unwrap_or_default(),
                (as_of + time::Duration::days(*due_day)).to_string(),
            ]);
        }
    }
    let used: BTreeSet<&str> = built.iter().map(|b| b.currency.as_str()).filter(|c| *c != currency).collect();
    let fx_lines: Vec<(String, String)> = used
        .iter()
        .map(|c| (c.to_string(), fx.get(*c).map(|r| r.normalize().to_string()).unwrap_or_default()))
        .collect();
    let scenarios = standard_scenarios(built.len(), &sector_weight, &country_weight);
    let scenario_paths: Vec<String> = scenarios.iter().map(|(f, _)| format!("scenarios/{f}")).collect();
    let stem = opts.ledger.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = opts.name.clone().unwrap_or_else(|| if stem.is_empty() { "Imported ledger".into() } else { stem });
    let comment = format!(
        "Imported by `arstress import` from {} (defaults: docs/import.md).",
        opts.ledger.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
    );
    let study = StudyToml {
        comment: &crate::terminal::printable(&comment),
        name: &name,
        as_of,
        trials: opts.trials,
        seed: opts.seed,
        currency,
        scenarios: Some(&scenario_paths),
        invoices: true,
        fx: &fx_lines,
        company: None,
    }
    .render();
    let policies = format!(
        "# One typical whole-turnover policy to start from: edit its terms to your offer, or add\n\
         # others as [[policy]] tables (SPEC §5); `none` is always reported.\n\n{WHOLE_TURNOVER_POLICY}"
    );
    let files = vec![
        ("buyers.csv".to_owned(), crate::commands::generate::csv_bytes(Path::new("buyers.csv"), &buyers)?),
        ("invoices.csv".to_owned(), crate::commands::generate::csv_bytes(Path::new("invoices.csv"), &invoices)?),
        ("policies.toml".to_owned(), policies.into_bytes()),
        ("study.toml".to_owned(), study.into_bytes()),
    ];
    Ok((files, scenarios.into_iter().map(|(f, t)| (f, t.into_bytes())).collect()))
}

/// Loads the study from a temporary copy, as `validate` would: the imported study is known to be
/// valid before it is written. Problems name the files as they will be in `out`.
fn check_study(files: &Files, scenarios: &Files, out: &Path) -> Result<crate::model::Study, Error> {
    let tmp = tempfile::tempdir().map_err(|source| Error::Write { path: std::env::temp_dir(), source })?;
    let write = |dir: &Path, files: &Files| -> Result<(), Error> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
        for (name, bytes) in files {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(|source| Error::Write { path, source })?;
        }
        Ok(())
    };
    write(tmp.path(), files)?;
    write(&tmp.path().join("scenarios"), scenarios)?;
    crate::input::load_study(tmp.path()).map_err(|e| match e {
        Error::Invalid(Problems(list)) => Error::Invalid(Problems(
            list.into_iter()
                .map(|mut p| {
                    if let Ok(rel) = p.file.strip_prefix(tmp.path()) {
                        p.file = out.join(rel);
                    }
                    p
                })
                .collect(),
        )),
        other => other,
    })
}

/// Writes the imported study into `dir` (created if missing): the scenarios, then the study's
/// files, each set atomically ([`crate::atomic::write_files`]).
pub fn write(dir: &Path, imported: &Imported) -> Result<(), Error> {
    crate::atomic::write_files(&dir.join("scenarios"), &imported.scenarios)?;
    crate::atomic::write_files(dir, &imported.files)
}

/// A grade of the rating table, from `BB+`, `bb`, `BB-`.
fn rating_grade(text: &str, grades: &BTreeSet<String>) -> Option<String> {
    let g = text.trim().trim_end_matches(['+', '-']).to_ascii_uppercase();
    grades.contains(&g).then_some(g)
}

fn is_currency(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// `1 buyer`, `2 buyers`.
fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// The lower median.
fn median(values: &mut [u32]) -> Option<u32> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[(values.len() - 1) / 2])
}

/// An amount with at least two decimals (`1200.00`, `0.125`).
fn amount_text(d: Decimal) -> String {
    let mut d = d.normalize();
    if d.scale() < 2 {
        d.rescale(2);
    }
    d.to_string()
}

fn years_from(date: time::Date, years: i32) -> time::Date {
    let year = date.year() + years;
    date.replace_year(year)
        .or_else(|_| date.replace_day(28).and_then(|d| d.replace_year(year)))
        .unwrap_or(if years < 0 { time::Date::MIN } else { time::Date::MAX })
}

/// `date` moved back by whole calendar months (the day clamped to the month's length).
fn months_before(date: time::Date, months: u32) -> time::Date {
    let total = date.year() * 12 + i32::from(u8::from(date.month())) - 1 - months as i32;
    let (year, month) = (total.div_euclid(12), total.rem_euclid(12) as u8 + 1);
    let month = time::Month::try_from(month).unwrap_or(time::Month::January);
    let day = date.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day).unwrap_or(date)
}

/// Whether a customer cell is the label of a totals line (`Total`, `Grand total`, `Sum`, `Summe`,
/// `Gesamt`, `Subtotal`: case, spaces and punctuation ignored).
fn is_totals_label(id: &str) -> bool {
    matches!(
        columns::normalize(id).as_str(),
        "total" | "totals" | "grandtotal" | "subtotal" | "sum" | "summe" | "gesamt" | "gesamtsumme" | "totaal"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_before_clamps_the_day() {
        assert_eq!(months_before(time::macros::date!(2027 - 05 - 31), 3), time::macros::date!(2027 - 02 - 28));
        assert_eq!(months_before(time::macros::date!(2027 - 01 - 15), 3), time::macros::date!(2026 - 10 - 15));
    }
}
