//! `study.toml` (SPEC §2): the entry point that reads and validates every input of a study.

use super::check::{Check, unit};
use super::num::Num;
use super::open::{TEXT_CAP, csv_cap};
use super::policy::load_policies;
use super::portfolio::{CsvContext, read_buyers, read_invoices};
use super::scenario::{ScenarioContext, read_scenario};
use super::source::Source;
use crate::calendar::Calendar;
use crate::error::{Error, Location, Problem, Problems};
use crate::model::*;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStudy {
    name: Spanned<String>,
    as_of: Spanned<toml::value::Datetime>,
    horizon_months: Spanned<i64>,
    trials: Option<Spanned<i64>>,
    seed: Option<Spanned<i64>>,
    currency: Spanned<String>,
    policies: Option<Spanned<String>>,
    scenarios: Option<Vec<Spanned<String>>>,
    portfolio: RawPortfolio,
    #[serde(default)]
    fx: BTreeMap<String, Spanned<Num>>,
    company: Option<Spanned<RawCompany>>,
    collections: Option<RawCollections>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCollections {
    days_1_30: Option<Spanned<Vec<Num>>>,
    days_31_60: Option<Spanned<Vec<Num>>>,
    days_61_90: Option<Spanned<Vec<Num>>>,
    days_91_180: Option<Spanned<Vec<Num>>>,
    over_180: Option<Spanned<Vec<Num>>>,
    ladder: Option<Spanned<Vec<Spanned<super::ladder::RawStep>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPortfolio {
    buyers: Spanned<String>,
    invoices: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCompany {
    opening_cash: Spanned<Num>,
    monthly_fixed_outflows: Option<Spanned<Num>>,
    variable_cost_ratio: Option<Spanned<Num>>,
    credit_line: Option<Spanned<Num>>,
    advance_rate_insured: Option<Spanned<Num>>,
    advance_rate_uninsured: Option<Spanned<Num>>,
    minimum_cash: Option<Spanned<Num>>,
    bad_debt_reserve: Option<Spanned<Num>>,
}

/// Bounds of `as_of`: any back-test on electronic ledgers and any forward projection fits, while a mistyped year
/// (0207, 2207, 20270) is caught, and as_of ± ten years of invoice dates plus horizon and claim lags stays far inside
/// the calendar's range.
const AS_OF_EARLIEST: time::Date = time::macros::date!(1970 - 01 - 01);
const AS_OF_LATEST: time::Date = time::macros::date!(2099 - 12 - 31);

/// Default number of trials when study.toml gives none.
pub const DEFAULT_TRIALS: u64 = 100_000;

/// Resolves a study argument: a folder means its `study.toml`.
pub fn study_file(path: &Path) -> PathBuf {
    if path.is_dir() { path.join("study.toml") } else { path.to_path_buf() }
}

/// Reads and validates a whole study. All problems of a file are reported together.
pub fn load_study(path: &Path) -> Result<Study, Error> {
    let path = study_file(path);
    let src = Source::read(&path, TEXT_CAP)?;
    let raw: RawStudy = src.parse_toml()?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut inputs = vec![InputFile { path: path.clone(), sha256: src.sha256.clone() }];
    let mut c = Check::new(&src);

    let name = raw.name.get_ref().trim().to_owned();
    if name.is_empty() {
        c.bad("name", &raw.name, "", "a non-empty study name");
    }
    let as_of = match raw.as_of.get_ref() {
        toml::value::Datetime { date: Some(d), time: None, offset: None } => time::Month::try_from(d.month)
            .ok()
            .and_then(|m| time::Date::from_calendar_date(d.year as i32, m, d.day).ok()),
        _ => None,
    };
    let as_of = match as_of {
        Some(d) if (AS_OF_EARLIEST..=AS_OF_LATEST).contains(&d) => d,
        Some(_) => {
            c.bad(
                "as_of",
                &raw.as_of,
                raw.as_of.get_ref().to_string(),
                format!("a valuation date from {AS_OF_EARLIEST} to {AS_OF_LATEST}"),
            );
            AS_OF_LATEST
        }
        None => {
            c.bad("as_of", &raw.as_of, raw.as_of.get_ref().to_string(), "a local date such as 2027-01-01");
            AS_OF_LATEST
        }
    };
    let horizon = c.int("horizon_months", &Some(raw.horizon_months.clone()), 12, 1, 60) as u32;
    let trials = c.int("trials", &raw.trials, DEFAULT_TRIALS as i64, 1, 1_000_000_000) as u64;
    let seed = c.int("seed", &raw.seed, 0, 0, i64::MAX) as u64;
    let currency = raw.currency.get_ref().clone();
    if !(currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase())) {
        c.bad("currency", &raw.currency, currency.clone(), "an ISO 4217 currency code such as EUR");
    }
    let mut fx = BTreeMap::new();
    fx.insert(currency.clone(), Decimal::ONE);
    for (cur, rate) in &raw.fx {
        let v = rate.get_ref().0;
        if !(cur.len() == 3 && cur.bytes().all(|b| b.is_ascii_uppercase())) {
            c.bad(&format!("fx.{cur}"), rate, cur.clone(), "an ISO 4217 currency code such as USD");
        }
        if v <= Decimal::ZERO || v > Decimal::from(1_000_000) {
            c.bad(
                &format!("fx.{cur}"),
                rate,
                v.to_string(),
                "a positive rate (reporting units per unit of this currency)",
            );
        }
        if *cur == currency && v != Decimal::ONE {
            c.bad(&format!("fx.{cur}"), rate, v.to_string(), "1 for the reporting currency (or leave it out)");
        }
        fx.insert(cur.clone(), v);
    }
    let company = raw.company.as_ref().map(|s| company(&mut c, s));
    let collections = raw.collections.as_ref().map_or_else(Collections::default, |r| collections(&mut c, r));
    // Every file is checked even when an earlier one has problems: all row-level problems come in one run.
    // A file that cannot be read as a whole (no header, not TOML) stops only the checks that depend on it.
    let mut all = c.problems;
    let as_of_ok = !all.0.iter().any(|p| p.field == "as_of");
    let calendar = Calendar::new(as_of, horizon);

    // Portfolio.
    let ctx = CsvContext { currency: &currency, fx: &fx, calendar: &calendar };
    let buyers_path = dir.join(raw.portfolio.buyers.get_ref());
    let buyers_src = Source::read(&buyers_path, csv_cap())?;
    inputs.push(InputFile { path: buyers_path, sha256: buyers_src.sha256.clone() });
    let mut warnings = Vec::new();
    let buyers = absorb(read_buyers(&buyers_src, &ctx), &mut all)?.map(|(b, w, p)| {
        warnings.extend(w);
        all.extend(p);
        b
    });
    let mut invoices = Vec::new();
    if let Some(p) = &raw.portfolio.invoices {
        let inv_path = dir.join(p.get_ref());
        let inv_src = Source::read(&inv_path, csv_cap())?;
        inputs.push(InputFile { path: inv_path, sha256: inv_src.sha256.clone() });
        // Invoice dates are checked against as_of, and buyer ids against the buyers: both must be known.
        if let (Some(buyers), true) = (&buyers, as_of_ok)
            && let Some((inv, w, p)) = absorb(read_invoices(&inv_src, buyers, &ctx), &mut all)?
        {
            invoices = inv;
            warnings.extend(w);
            all.extend(p);
        }
    }
    let has_invoice_file = raw.portfolio.invoices.is_some();
    let portfolio = buyers.map(|buyers| Portfolio { buyers, invoices, has_invoice_file });
    if let Some(portfolio) = &portfolio
        && let Some(p) = check_totals(&src, portfolio, &fx, &calendar)
    {
        all.push(p);
    }

    // Policies.
    let policies = match &raw.policies {
        None => Vec::new(),
        Some(p) => {
            let pol_path = dir.join(p.get_ref());
            let pol_src = Source::read(&pol_path, TEXT_CAP)?;
            inputs.push(InputFile { path: pol_path, sha256: pol_src.sha256.clone() });
            absorb(load_policies(&pol_src), &mut all)?.unwrap_or_default()
        }
    };

    // Scenarios, in the given order; globs sorted. They are checked against the portfolio's labels.
    let files = absorb(scenario_files(&src, &dir, raw.scenarios.as_deref()), &mut all)?.unwrap_or_default();
    let Some(portfolio) = portfolio else {
        all.into_result()?;
        return Err(Error::Internal("buyers missing without a problem".into()));
    };
    let currencies: BTreeSet<String> = fx.keys().cloned().collect();
    let rank = |shock: &BTreeMap<String, Decimal>| portfolio.rank_by_exposure(&fx, shock);
    let sectors = crate::model::distinct(portfolio.buyers.iter().map(|b| b.sector.as_str()));
    let countries = crate::model::distinct(portfolio.buyers.iter().map(|b| b.country.as_str()));
    let sctx = ScenarioContext {
        sectors: &sectors,
        countries: &countries,
        portfolio: &portfolio,
        currencies: &currencies,
        horizon_days: calendar.horizon_days(),
        rank_by_exposure: &rank,
    };
    let mut scenarios = Vec::new();
    for file in &files {
        let s_src = Source::read(file, TEXT_CAP)?;
        inputs.push(InputFile { path: file.clone(), sha256: s_src.sha256.clone() });
        if let Some((scenario, p)) = absorb(read_scenario(&s_src, &sctx), &mut all)? {
            scenarios.push(scenario);
            all.extend(p);
        }
    }
    if raw.scenarios.as_deref().unwrap_or_default().is_empty() {
        let baseline = Source { path: path.clone(), text: "name = \"baseline\"".into(), sha256: String::new() };
        let (scenario, p) = read_scenario(&baseline, &sctx)?;
        scenarios.push(scenario);
        all.extend(p);
    }
    let mut names = BTreeSet::new();
    let rated = crate::model::distinct(
        portfolio.buyers.iter().filter(|b| b.pd_1y.is_none()).filter_map(|b| b.rating.as_deref()),
    );
    // Buyers whose grade some scenario's rating table lacks, with those scenarios (at most MAX_PROBLEMS buyers).
    let mut missing: BTreeMap<usize, Vec<&Scenario>> = BTreeMap::new();
    for s in &scenarios {
        if !names.insert(s.name.clone()) || s.name.contains(',') {
            all.push(Problem {
                file: s.file.clone(),
                location: Location::File,
                field: "name".into(),
                value: s.name.clone(),
                expected: "a scenario name used by one scenario only, without commas".into(),
            });
        }
        // Walk the buyers only when a grade they use is missing from this scenario's table.
        if rated.iter().all(|r| s.ratings.contains_key(*r)) {
            continue;
        }
        for (i, b) in portfolio.buyers.iter().enumerate() {
            if let (Some(r), None) = (&b.rating, b.pd_1y)
                && !s.ratings.contains_key(r)
            {
                if missing.len() > crate::error::MAX_PROBLEMS && !missing.contains_key(&i) {
                    break;
                }
                missing.entry(i).or_default().push(s);
            }
        }
    }
    // One problem per buyer when the scenarios lacking its grade have the same grades, else one per scenario.
    for (i, lacking) in missing {
        let b = &portfolio.buyers[i];
        let grades = |s: &Scenario| s.ratings.keys().map(String::as_str).collect::<Vec<_>>().join(", ");
        let same = lacking.windows(2).all(|w| w[0].ratings.keys().eq(w[1].ratings.keys()));
        let expected: Vec<String> = match lacking.as_slice() {
            [s] => vec![format!("a grade of scenario {}'s rating table ({}) or a pd_1y value", s.name, grades(s))],
            [first, ..] if same => {
                let names: Vec<&str> = lacking.iter().map(|s| s.name.as_str()).collect();
                vec![format!(
                    "a grade of the rating table of scenarios {} ({}) or a pd_1y value",
                    names.join(", "),
                    grades(first)
                )]
            }
            _ => lacking
                .iter()
                .map(|s| format!("a grade of scenario {}'s rating table ({}) or a pd_1y value", s.name, grades(s)))
                .collect(),
        };
        for expected in expected {
            all.push(Problem {
                file: buyers_src.path.clone(),
                location: Location::Line(b.line),
                field: "rating".into(),
                value: b.rating.clone().unwrap_or_default(),
                expected,
            });
        }
    }
    // Problems in reading order of the files, then by line.
    let order = |p: &Problem| {
        let file = inputs.iter().position(|f| f.path == p.file).unwrap_or(usize::MAX);
        let line = match &p.location {
            Location::Line(l) | Location::Key { line: l, .. } => *l,
            Location::File => 0,
        };
        (file, line)
    };
    all.0.sort_by_key(order);
    all.into_result()?;

    Ok(Study {
        name,
        calendar,
        trials,
        seed,
        currency,
        fx,
        portfolio,
        policies,
        scenarios,
        company,
        collections,
        inputs,
        warnings,
    })
}

/// The value of a file's loading, or `None` when it has problems, which join `all`; other errors (a file that
/// cannot be read) are returned.
fn absorb<T>(result: Result<T, Error>, all: &mut Problems) -> Result<Option<T>, Error> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(Error::Invalid(p)) => {
            all.extend(p);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn scenario_files(src: &Source, dir: &Path, patterns: Option<&[Spanned<String>]>) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    let mut problems = Problems::default();
    for (i, pat) in patterns.unwrap_or_default().iter().enumerate() {
        let key = format!("scenarios[{i}]");
        let found = match glob_files(dir, pat.get_ref()) {
            Ok(found) => found,
            Err(e) => {
                problems.push(src.key_problem(
                    &key,
                    pat.span(),
                    pat.get_ref().clone(),
                    format!("a valid glob pattern ({} at character {})", e.msg, e.pos),
                ));
                continue;
            }
        };
        if found.is_empty() {
            problems.push(src.key_problem(
                &key,
                pat.span(),
                pat.get_ref().clone(),
                "a path or glob that matches at least one scenario file",
            ));
        }
        for f in found {
            if !files.contains(&f) {
                files.push(f);
            }
        }
    }
    problems.into_result()?;
    Ok(files)
}

/// The files matching the glob `pattern` relative to `dir` (an absolute pattern stands alone),
/// sorted. `**` matches any number of folders but never descends into a symbolic link to a folder
/// nor into a folder twice, so a link loop (`scenarios/a -> ..`) cannot trap it; a symbolic link
/// to a file matches like the file. `dir` itself is taken literally, whatever characters it holds.
fn glob_files(dir: &Path, pattern: &str) -> Result<Vec<PathBuf>, glob::PatternError> {
    use std::path::Component;
    glob::Pattern::new(pattern)?;
    let options = glob::MatchOptions::new();
    let mut current = vec![dir.to_path_buf()];
    for component in Path::new(pattern).components() {
        match component {
            Component::Prefix(_) | Component::RootDir => {
                current = vec![PathBuf::from(component.as_os_str())];
            }
            Component::CurDir => {}
            Component::ParentDir => current.iter_mut().for_each(|p| p.push("..")),
            Component::Normal(name) => {
                let name = name.to_string_lossy();
                if name == "**" {
                    let mut seen = BTreeSet::new();
                    let mut folders = Vec::new();
                    for d in &current {
                        folders_below(d, &mut seen, &mut folders);
                    }
                    current = folders;
                } else if name.contains(['*', '?', '[']) {
                    let wanted = glob::Pattern::new(&name)?;
                    let mut next = Vec::new();
                    for d in &current {
                        let Ok(entries) = std::fs::read_dir(d) else { continue };
                        for entry in entries.flatten() {
                            let entry_name = entry.file_name();
                            if entry_name.to_str().is_some_and(|n| wanted.matches_with(n, options)) {
                                next.push(d.join(entry_name));
                            }
                        }
                    }
                    current = next;
                } else {
                    current.iter_mut().for_each(|p| p.push(&*name));
                }
            }
        }
    }
    let mut files: Vec<PathBuf> = current.into_iter().filter(|p| p.is_file()).collect();
    files.sort();
    files.dedup();
    Ok(files)
}

/// `dir` and every folder below it, not following symbolic links and visiting a folder (device and
/// inode) once.
fn folders_below(dir: &Path, seen: &mut BTreeSet<(u64, u64)>, out: &mut Vec<PathBuf>) {
    let Ok(meta) = std::fs::metadata(dir) else { return };
    if !meta.is_dir() || file_id(&meta).is_some_and(|id| !seen.insert(id)) {
        return;
    }
    out.push(dir.to_path_buf());
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut children: Vec<PathBuf> =
        entries.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.path()).collect();
    children.sort();
    for child in children {
        folders_below(&child, seen, out);
    }
}

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    // No identity to compare: symbolic links are still not followed.
    None
}

fn company(c: &mut Check, s: &Spanned<RawCompany>) -> Company {
    let r = s.get_ref();
    let amount = |c: &mut Check, k: &str, v: Option<&Spanned<Num>>| -> Decimal {
        let Some(v) = v else { return Decimal::ZERO };
        let x = v.get_ref().0;
        if x.abs() > crate::money::max_amount() || (k != "opening_cash" && x < Decimal::ZERO) {
            c.bad(&format!("company.{k}"), v, x.to_string(), "an amount between 0 and 1e12");
        }
        x
    };
    let ratio = |c: &mut Check, k: &str, v: Option<&Spanned<Num>>, d: Decimal| -> Decimal {
        let Some(v) = v else { return d };
        let x = v.get_ref().0;
        let f: f64 = x.try_into().unwrap_or(-1.0);
        if !unit(f) {
            c.bad(&format!("company.{k}"), v, x.to_string(), "a ratio in [0, 1]");
        }
        x
    };
    Company {
        opening_cash: amount(c, "opening_cash", Some(&r.opening_cash)),
        monthly_fixed_outflows: amount(c, "monthly_fixed_outflows", r.monthly_fixed_outflows.as_ref()),
        variable_cost_ratio: ratio(c, "variable_cost_ratio", r.variable_cost_ratio.as_ref(), Decimal::ZERO),
        credit_line: amount(c, "credit_line", r.credit_line.as_ref()),
        advance_rate_insured: ratio(c, "advance_rate_insured", r.advance_rate_insured.as_ref(), Decimal::ZERO),
        advance_rate_uninsured: ratio(c, "advance_rate_uninsured", r.advance_rate_uninsured.as_ref(), Decimal::ZERO),
        minimum_cash: amount(c, "minimum_cash", r.minimum_cash.as_ref()),
        bad_debt_reserve: r.bad_debt_reserve.as_ref().map(|v| amount(c, "bad_debt_reserve", Some(v))),
    }
}

/// Longest collection curve, in months after `as_of`.
pub const COLLECTION_MONTHS_MAX: usize = 24;

/// `[collections]`: each given curve replaces the default of its ageing bucket; the dunning ladder.
fn collections(c: &mut Check, r: &RawCollections) -> Collections {
    let mut out = Collections::default();
    let given = [&r.days_1_30, &r.days_31_60, &r.days_61_90, &r.days_91_180, &r.over_180];
    for ((curve, key), v) in out.curves.iter_mut().zip(AGEING_BUCKETS).zip(given) {
        let Some(v) = v else { continue };
        let shares: Vec<Decimal> = v.get_ref().iter().map(|n| n.0).collect();
        let sum: Decimal = shares.iter().sum();
        let shown = format!("[{}]", v.get_ref().iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", "));
        if shares.is_empty()
            || shares.len() > COLLECTION_MONTHS_MAX
            || shares.iter().any(|&x| x < Decimal::ZERO || x > Decimal::ONE)
            || sum > Decimal::ONE
        {
            c.bad(
                &format!("collections.{key}"),
                v,
                shown,
                format!(
                    "1 to {COLLECTION_MONTHS_MAX} monthly shares in [0, 1] adding up to at most 1 (the rest is never \
                     collected)"
                ),
            );
            continue;
        }
        *curve = shares;
    }
    if let Some(l) = &r.ladder {
        out.ladder = super::ladder::ladder(c, "collections.ladder", l);
    }
    out
}

/// SPEC §3.1.12: open invoices (buyers without rows in invoices.csv with their spread `outstanding`) plus
/// planned sales over the horizon must stay below 1e14; the problem when they do not.
fn check_totals(
    src: &Source,
    portfolio: &Portfolio,
    fx: &BTreeMap<String, Decimal>,
    cal: &Calendar,
) -> Option<Problem> {
    let none = BTreeMap::new();
    let limit: i128 = 100_000_000_000_000 * 100;
    let open = portfolio.open_invoices_cents(fx, &none);
    let mut total: i128 = open.iter().flatten().flatten().map(|x| x.1 as i128).sum();
    for b in &portfolio.buyers {
        let m = crate::money::to_cents(b.monthly_sales, Portfolio::rate(fx, &none, &b.currency)).unwrap_or(i64::MAX);
        total += m as i128 * cal.horizon_months() as i128;
    }
    if open.is_none() || total > limit {
        return Some(src.file_problem(
            "portfolio",
            format!("{} open and planned", crate::money::format_cents(total)),
            "open invoices plus planned sales over the horizon of at most 1e14 in the reporting currency (SPEC §3.1.12)",
        ));
    }
    None
}
