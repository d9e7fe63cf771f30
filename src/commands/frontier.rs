//! `arstress frontier`: one policy of the study swept over ranges of its terms (indemnity,
//! deductible, aggregate first loss, non-qualifying loss, maximum liability, premium rate), every
//! variant settled on the same trials (common random numbers: a policy's terms change no draw), so
//! their differences are differences of cover, not of noise. Writes `frontier.csv` and a chart of
//! premium against ES 99 of the net loss and against P(shortfall), the efficient variants marked.

use crate::engine::frontier::{FrontierOutcomes, FrontierPlan};
use crate::error::{Error, Problems};
use crate::input::open::TEXT_CAP;
use crate::input::policy::load_policies;
use crate::input::source::{Source, closest};
use crate::model::Policy;
use crate::model::{Scenario, Study};
use crate::report::figures::{nice_ticks, percent_with_error, tick_amount, tick_percent, with_error};
use crate::report::html::esc;
use crate::stats::{TAIL_LEVELS, es_std_error_sorted, expected_shortfall_sorted, share_std_error, tail_size};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;
use toml::Spanned;

/// The terms a sweep may vary (keys of policies.toml).
pub const SWEPT_TERMS: [&str; 11] = [
    "indemnity",
    "indemnity_discretionary",
    "indemnity_political",
    "nql",
    "deductible",
    "aggregate_first_loss",
    "premium_rate",
    "minimum_premium",
    "max_liability",
    "max_liability_multiple",
    "named_top",
];

/// At most this many variants in one frontier (each is settled in every trial).
pub const MAX_VARIANTS: usize = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    /// The policy of the study the variants start from.
    base: Spanned<String>,
    /// Term → the values it takes.
    sweep: BTreeMap<String, Spanned<Vec<toml::Value>>>,
}

/// The variants of a sweep: each a policy named after the terms it sets, with those terms.
#[derive(Debug, Clone)]
pub struct Variants {
    pub base: String,
    /// The swept terms, in the order of their columns.
    pub terms: Vec<String>,
    pub policies: Vec<Policy>,
    /// Per variant, the value of each swept term as written in the sweep file.
    pub values: Vec<Vec<String>>,
}

/// The policies file a study names (`policies = "..."` in study.toml), read.
pub fn policies_source(study_file: &Path) -> Result<Source, Error> {
    let src = Source::read(study_file, TEXT_CAP)?;
    let table: toml::Table = src.parse_toml()?;
    let Some(name) = table.get("policies").and_then(toml::Value::as_str) else {
        return Err(Error::problem(src.file_problem(
            "policies",
            "",
            "a policies file: a frontier sweeps one of its policies",
        )));
    };
    Source::read(&study_file.parent().unwrap_or(Path::new("")).join(name), TEXT_CAP)
}

/// Reads a sweep file against the study's policies file (`policies_toml`, the text of the file
/// the study names) and builds its variants. Every bad term and value is reported at its key.
pub fn load_variants(sweep_path: &Path, policies_toml: &Source) -> Result<Variants, Error> {
    let src = Source::read(sweep_path, TEXT_CAP)?;
    let raw: RawSweep = src.parse_toml()?;
    let mut problems = Problems::default();
    let policies: toml::Table = policies_toml.parse_toml()?;
    let base_name = raw.base.get_ref().trim().to_owned();
    let tables: Vec<toml::Table> = policies
        .get("policy")
        .and_then(toml::Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_table().cloned()).collect())
        .unwrap_or_default();
    let names: Vec<String> =
        tables.iter().filter_map(|t| t.get("name").and_then(toml::Value::as_str).map(str::to_owned)).collect();
    let Some(base) = tables.iter().find(|t| t.get("name").and_then(toml::Value::as_str) == Some(base_name.as_str()))
    else {
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let hint = closest(&base_name, &refs).map(|c| format!(" (did you mean {c}?)")).unwrap_or_default();
        return Err(Error::problem(src.key_problem(
            "base",
            raw.base.span(),
            base_name.clone(),
            format!("the name of a policy of the study{hint}: {}", names.join(", ")),
        )));
    };
    let mut count: usize = 1;
    for (term, values) in &raw.sweep {
        if !SWEPT_TERMS.contains(&term.as_str()) {
            let hint = closest(term, &SWEPT_TERMS).map(|c| format!(" (did you mean {c}?)")).unwrap_or_default();
            problems.push(src.key_problem(
                &format!("sweep.{term}"),
                values.span(),
                term.clone(),
                format!("a term a sweep can vary{hint}: {}", SWEPT_TERMS.join(", ")),
            ));
            continue;
        }
        if values.get_ref().is_empty() {
            problems.push(src.key_problem(&format!("sweep.{term}"), values.span(), "[]", "at least one value"));
        }
        count = count.saturating_mul(values.get_ref().len().max(1));
        // Each value alone on the base policy: its problem is reported at its place in the sweep.
        for (j, value) in values.get_ref().iter().enumerate() {
            let one = variant_table(base, &base_name, &[(term.as_str(), value)]);
            match validate(&src, std::slice::from_ref(&one)) {
                Ok(_) => {}
                Err(Error::Invalid(p)) => {
                    for q in p.0 {
                        problems.push(src.key_problem(
                            &format!("sweep.{term}[{j}]"),
                            values.span(),
                            value.to_string(),
                            q.expected,
                        ));
                    }
                }
                // A value of the wrong type (a list, a fraction of a buyer) fails to parse.
                Err(_) => problems.push(src.key_problem(
                    &format!("sweep.{term}[{j}]"),
                    values.span(),
                    value.to_string(),
                    format!("a value of the type policies.toml takes for `{term}`"),
                )),
            }
        }
    }
    if raw.sweep.is_empty() {
        problems.push(src.file_problem("sweep", "", "a [sweep] table with at least one term and its values"));
    }
    if count > MAX_VARIANTS {
        problems.push(src.file_problem(
            "sweep",
            format!("{count} variants"),
            format!("at most {MAX_VARIANTS} variants (the product of the numbers of values)"),
        ));
    }
    problems.into_result()?;

    let terms: Vec<String> = raw.sweep.keys().cloned().collect();
    let lists: Vec<&Vec<toml::Value>> = raw.sweep.values().map(|v| v.get_ref()).collect();
    let mut tables_out = Vec::with_capacity(count);
    let mut values = Vec::with_capacity(count);
    for k in 0..count {
        // Mixed radix: the last term varies fastest.
        let mut rest = k;
        let mut pick = vec![0usize; lists.len()];
        for (i, list) in lists.iter().enumerate().rev() {
            pick[i] = rest % list.len();
            rest /= list.len();
        }
        let set: Vec<(&str, &toml::Value)> =
            terms.iter().zip(&lists).zip(&pick).map(|((t, l), &j)| (t.as_str(), &l[j])).collect();
        values.push(set.iter().map(|(t, v)| shown(t, v)).collect());
        tables_out.push(variant_table(base, &base_name, &set));
    }
    let policies = validate(&src, &tables_out)?;
    Ok(Variants { base: base_name, terms, policies, values })
}

/// A swept value in its frontier.csv column: as written, `named_top` as `top 10`.
fn shown(term: &str, v: &toml::Value) -> String {
    match term {
        "named_top" => format!("top {}", plain(v)),
        _ => plain(v),
    }
}

/// A value as written (`0.85`, `5000`).
fn plain(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The base policy's table with `set` applied, named after the terms set.
fn variant_table(base: &toml::Table, base_name: &str, set: &[(&str, &toml::Value)]) -> toml::Table {
    let mut t = base.clone();
    for (term, value) in set {
        // The two forms of the maximum liability exclude each other.
        match *term {
            "max_liability" => {
                t.remove("max_liability_multiple");
            }
            "max_liability_multiple" => {
                t.remove("max_liability");
            }
            _ => {}
        }
        t.insert((*term).to_owned(), (*value).clone());
    }
    let name = std::iter::once(base_name.to_owned())
        .chain(set.iter().map(|(term, value)| format!("{term}={}", plain(value))))
        .collect::<Vec<_>>()
        .join(" ");
    t.insert("name".into(), toml::Value::String(name));
    t
}

/// Validates policy tables as a policies file would be.
fn validate(src: &Source, tables: &[toml::Table]) -> Result<Vec<Policy>, Error> {
    let mut doc = toml::Table::new();
    doc.insert("policy".into(), toml::Value::Array(tables.iter().cloned().map(toml::Value::Table).collect()));
    let text = toml::to_string(&doc).map_err(|e| Error::Internal(format!("sweep variants: {e}")))?;
    load_policies(&Source::from_bytes(&src.path, text.as_bytes())?)
}

/// One alternative's figures in one scenario (no insurance or a variant).
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub premium: i64,
    /// (value, standard error) in cents, or probabilities.
    pub total_cost: (i128, f64),
    pub es_99_net: (i128, f64),
    pub p_shortfall: Option<(f64, f64)>,
}

/// A frontier's figures in one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioFrontier {
    pub name: String,
    pub none: Figures,
    /// In the order of [`Variants::policies`].
    pub variants: Vec<Figures>,
}

/// A frontier's figures, scenario by scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierResult {
    pub trials: u64,
    pub scenarios: Vec<ScenarioFrontier>,
}

/// The settlement classes of the variants: variants equal but for their premium terms
/// (`premium_rate`, `minimum_premium`) and their maximum liability share one settlement. Returns
/// one policy per class (its first member) and each variant's class.
pub fn settlement_classes(policies: &[Policy]) -> (Vec<Policy>, Vec<usize>) {
    let key = |p: &Policy| Policy {
        name: String::new(),
        premium_rate: rust_decimal::Decimal::ZERO,
        minimum_premium: rust_decimal::Decimal::ZERO,
        max_liability: crate::model::MaxLiability::Fixed(rust_decimal::Decimal::ZERO),
        ..p.clone()
    };
    let mut keys: Vec<Policy> = Vec::new();
    let mut classes = Vec::new();
    let mut class_of = Vec::with_capacity(policies.len());
    for p in policies {
        let k = key(p);
        match keys.iter().position(|x| *x == k) {
            Some(c) => class_of.push(c),
            None => {
                keys.push(k);
                classes.push(p.clone());
                class_of.push(classes.len() - 1);
            }
        }
    }
    (classes, class_of)
}

/// Runs a frontier: `study`'s policies are the variants. Per scenario the variants are compiled
/// as the study's policies (their premiums and maximum liabilities), the settlement classes as a
/// plan of their own, and the trials run with keys `0..trials` under `seed`, as `arstress run`
/// runs them.
pub fn run_frontier(
    study: &Study,
    scenarios: &[&Scenario],
    trials: u64,
    seed: u64,
    progress: &(dyn Fn(&str, u64) + Sync),
) -> Result<FrontierResult, Error> {
    let (classes, class_of) = settlement_classes(&study.policies);
    let class_study = Study { policies: classes, ..study.clone() };
    let mut out = Vec::with_capacity(scenarios.len());
    for s in scenarios {
        let variants = crate::plan::compile(study, s)?.policies;
        let fp = FrontierPlan::new(crate::plan::compile(&class_study, s)?, variants, &class_of);
        let outcomes = crate::engine::frontier::run_frontier(&fp, seed, trials, &|k| progress(&s.name, k));
        out.push(summarize(&fp, &outcomes));
    }
    Ok(FrontierResult { trials, scenarios: out })
}

/// Mean and standard error of `values` (trial order), as [`crate::stats::MeasureStats::from_values`] computes them.
fn mean_with_error(values: &[i64]) -> (i128, f64) {
    let n = values.len();
    let sum: i128 = values.iter().map(|&x| x as i128).sum();
    let mean_f = if n == 0 { 0.0 } else { sum as f64 / n as f64 };
    let ss: f64 = values.iter().map(|&x| (x as f64 - mean_f).powi(2)).sum();
    let std_dev = if n > 1 { (ss / (n - 1) as f64).sqrt() } else { 0.0 };
    (crate::money::mean_cents(sum, n as u64), if n > 0 { std_dev / (n as f64).sqrt() } else { 0.0 })
}

/// ES 99 and its standard error, as [`crate::stats::MeasureStats::from_values`] computes them: only the tail and
/// the value below it are put in order (the figures read nothing else of the sorted values).
fn es_99(mut values: Vec<i64>) -> (i128, f64) {
    let n = values.len();
    let level = TAIL_LEVELS[1];
    let m = (tail_size(n, level) + 1).min(n);
    if m == 0 {
        return (0, 0.0);
    }
    values.select_nth_unstable(n - m);
    values[n - m..].sort_unstable();
    (expected_shortfall_sorted(&values, level), es_std_error_sorted(&values, level))
}

/// P(a shortfall in some month) and its standard error, from the peak shortfall of each trial.
fn p_positive(values: &[i64]) -> (f64, f64) {
    let n = values.len();
    let p = if n == 0 { 0.0 } else { values.iter().filter(|&&x| x > 0).count() as f64 / n as f64 };
    (p, share_std_error(p, n as u64))
}

fn summarize(fp: &FrontierPlan, out: &FrontierOutcomes) -> ScenarioFrontier {
    use rayon::prelude::*;
    let cash = fp.plan.cash.is_some();
    let uninsured = out.column(0);
    let none = Figures {
        premium: 0,
        total_cost: mean_with_error(&uninsured),
        es_99_net: es_99(uninsured),
        p_shortfall: cash.then(|| p_positive(&out.column(1))),
    };
    let variants = fp
        .variants
        .par_iter()
        .enumerate()
        .map(|(v, variant)| {
            let net = out.column(2 + 2 * v);
            let premium = variant.terms.premium;
            // Total cost = net loss + a premium that is the same in every trial: its mean is the
            // net loss's shifted by the premium (an integer, so the rounding is the same), with
            // the same standard error.
            let (net_mean, se) = mean_with_error(&net);
            Figures {
                premium,
                total_cost: (net_mean + premium as i128, se),
                es_99_net: es_99(net),
                p_shortfall: cash.then(|| p_positive(&out.column(3 + 2 * v))),
            }
        })
        .collect();
    ScenarioFrontier { name: fp.plan.scenario.clone(), none, variants }
}

/// One variant's figures in one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub scenario: String,
    pub variant: usize,
    pub figures: Figures,
    /// No other variant has a premium and an ES 99 of the net loss at most as high, one lower.
    pub efficient: bool,
}

/// The frontier rows, the efficient variants marked scenario by scenario.
pub fn rows(r: &FrontierResult) -> Vec<Row> {
    let mut out = Vec::new();
    for s in &r.scenarios {
        let mut rows: Vec<Row> = s
            .variants
            .iter()
            .enumerate()
            .map(|(i, f)| Row { scenario: s.name.clone(), variant: i, figures: f.clone(), efficient: false })
            .collect();
        let dominated = |a: &Row| {
            let a = &a.figures;
            rows.iter().map(|b| &b.figures).any(|b| {
                b.premium <= a.premium
                    && b.es_99_net.0 <= a.es_99_net.0
                    && (b.premium < a.premium || b.es_99_net.0 < a.es_99_net.0)
            })
        };
        let flags: Vec<bool> = rows.iter().map(|a| !dominated(a)).collect();
        for (row, efficient) in rows.iter_mut().zip(flags) {
            row.efficient = efficient;
        }
        out.extend(rows);
    }
    out
}

/// `frontier.csv`: per scenario and variant, the swept terms, premium, expected total cost, ES 99
/// of the net loss and P(shortfall) with their standard errors, and whether it is efficient;
/// the scenario's "none" figures on a row of its own.
pub fn frontier_csv(v: &Variants, r: &FrontierResult) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| Error::Internal(format!("frontier.csv: {e}"));
    let mut header: Vec<String> = vec!["scenario".into(), "variant".into()];
    header.extend(v.terms.iter().cloned());
    for c in [
        "premium",
        "expected_total_cost",
        "expected_total_cost_std_error",
        "es_99_net_loss",
        "es_99_net_loss_std_error",
        "p_shortfall",
        "p_shortfall_std_error",
        "efficient",
    ] {
        header.push(c.into());
    }
    w.write_record(&header).map_err(internal)?;
    // The figures' cells: premium, total cost and ES 99 with their errors, P(shortfall) and its.
    let cells = |f: &Figures| {
        let cents = |c: i128| crate::money::format_cents(c);
        let se = |x: f64| crate::money::format_cents(x.round() as i128);
        let prob = |i: usize| f.p_shortfall.map_or(String::new(), |p| format!("{:.6}", if i == 0 { p.0 } else { p.1 }));
        [
            cents(f.premium as i128),
            cents(f.total_cost.0),
            se(f.total_cost.1),
            cents(f.es_99_net.0),
            se(f.es_99_net.1),
            prob(0),
            prob(1),
        ]
    };
    for s in &r.scenarios {
        let mut record = vec![s.name.clone(), "none".to_owned()];
        record.extend(v.terms.iter().map(|_| String::new()));
        record.extend(cells(&s.none));
        record.push(String::new());
        w.write_record(&record).map_err(internal)?;
    }
    for row in rows(r) {
        let mut record = vec![row.scenario.clone(), v.policies[row.variant].name.clone()];
        record.extend(v.values[row.variant].iter().cloned());
        record.extend(cells(&row.figures));
        record.push(if row.efficient { "yes" } else { "no" }.to_owned());
        w.write_record(&record).map_err(internal)?;
    }
    w.into_inner().map_err(|e| Error::Internal(format!("frontier.csv: {e}")))
}

/// `frontier.html`: per scenario, premium against ES 99 of the net loss and against P(shortfall),
/// a dot per variant (efficient ones filled and joined), "none" at zero premium; a hover title
/// per dot names the variant and its figures.
pub fn frontier_html(study_name: &str, currency: &str, v: &Variants, r: &FrontierResult) -> Vec<u8> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>arstress frontier — {}</title>\n\
         <style>body{{font-family:system-ui,sans-serif;margin:24px;color:#1d232b}}figure{{display:inline-block;margin:0 12px 12px 0;\
         border:1px solid #d9dee5;padding:6px}}figcaption{{font-size:13px;font-weight:600}}svg text{{font-size:11px;fill:#39424e}}\
         .desc{{color:#4a5562;font-size:13px}}</style>\n</head>\n<body>\n<h1>Policy frontier: {}</h1>\n\
         <p class=\"desc\">{} variants of {} settled on the same {} trials. Filled dots: efficient variants (no other has a premium \
         and an ES 99 of the net loss at most as high). The square at zero premium is no insurance. Amounts in {}.</p>\n",
        esc(study_name),
        esc(study_name),
        v.policies.len(),
        esc(&v.base),
        crate::money::group_thousands(&r.trials.to_string()),
        esc(currency)
    );
    let rows = rows(r);
    for s in &r.scenarios {
        let _ = writeln!(h, "<h2>{}</h2>", esc(&s.name));
        let mine: Vec<&Row> = rows.iter().filter(|x| x.scenario == s.name).collect();
        let es = |x: &Row| (x.figures.es_99_net.0 as f64 / 100.0, x.figures.es_99_net.1 / 100.0);
        scatter(&mut h, s, v, &mine, "ES 99 of the net loss", &es, false, currency);
        if s.none.p_shortfall.is_some() {
            let p = |x: &Row| x.figures.p_shortfall.unwrap_or((0.0, 0.0));
            scatter(&mut h, s, v, &mine, "P(shortfall)", &p, true, currency);
        }
    }
    h.push_str("</body>\n</html>\n");
    h.into_bytes()
}

#[allow(clippy::too_many_arguments)]
fn scatter(
    h: &mut String,
    s: &ScenarioFrontier,
    v: &Variants,
    rows: &[&Row],
    what: &str,
    figure: &dyn Fn(&Row) -> (f64, f64),
    probability: bool,
    currency: &str,
) {
    let (w, ht, left, right, top, bottom) = (560.0, 360.0, 70.0, 16.0, 12.0, 44.0);
    let none_y = if probability { s.none.p_shortfall.map_or(0.0, |p| p.0) } else { s.none.es_99_net.0 as f64 / 100.0 };
    let xs: Vec<f64> = rows.iter().map(|r| r.figures.premium as f64 / 100.0).chain([0.0]).collect();
    let ys: Vec<f64> = rows.iter().map(|r| figure(r).0).chain([none_y, 0.0]).collect();
    let fold = |v: &[f64]| v.iter().fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    let (x_ticks, y_ticks) = (nice_ticks(fold(&xs).0, fold(&xs).1, 6), nice_ticks(fold(&ys).0, fold(&ys).1, 6));
    let span = |t: &[f64]| (t[0], t[t.len() - 1], if t.len() > 1 { t[1] - t[0] } else { 1.0 });
    let ((x0, x1, xs_step), (y0, y1, ys_step)) = (span(&x_ticks), span(&y_ticks));
    let x = |v: f64| left + (v - x0) / (x1 - x0).max(1e-12) * (w - left - right);
    let y = |v: f64| ht - bottom - (v - y0) / (y1 - y0).max(1e-12) * (ht - top - bottom);
    let _ = write!(
        h,
        "<figure><figcaption>Premium against {}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{ht}\" \
         viewBox=\"0 0 {w} {ht}\" role=\"img\" aria-label=\"premium against {}\">",
        esc(what),
        esc(what)
    );
    for &t in &x_ticks {
        let _ = write!(
            h,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{1:.1}\" stroke=\"#eef1f5\"/><text x=\"{0:.1}\" y=\"{2:.1}\" \
             text-anchor=\"middle\">{3}</text>",
            x(t),
            ht - bottom,
            ht - bottom + 14.0,
            tick_amount(t, xs_step)
        );
    }
    for &t in &y_ticks {
        let label = if probability { tick_percent(t, ys_step) } else { tick_amount(t, ys_step) };
        let _ = write!(
            h,
            "<line x1=\"{left}\" x2=\"{0:.1}\" y1=\"{1:.1}\" y2=\"{1:.1}\" stroke=\"#eef1f5\"/><text x=\"{2:.1}\" y=\"{3:.1}\" \
             text-anchor=\"end\">{label}</text>",
            w - right,
            y(t),
            left - 4.0,
            y(t) + 4.0
        );
    }
    let _ = write!(
        h,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">premium over the horizon ({}); y: {}</text>",
        (left + w - right) / 2.0,
        ht - 8.0,
        esc(currency),
        esc(what)
    );
    // The efficient variants joined in order of premium.
    let mut efficient: Vec<&&Row> = rows.iter().filter(|r| r.efficient).collect();
    efficient.sort_by_key(|r| (r.figures.premium, r.variant));
    let line: Vec<String> =
        efficient.iter().map(|r| format!("{:.1},{:.1}", x(r.figures.premium as f64 / 100.0), y(figure(r).0))).collect();
    let _ =
        write!(h, "<polyline fill=\"none\" stroke=\"#1f3a5f\" stroke-width=\"1.2\" points=\"{}\"/>", line.join(" "));
    let shown = |value: f64, se: f64| {
        if probability {
            let (a, b) = percent_with_error(value, se);
            format!("{a} ± {b}")
        } else {
            let (a, b) = with_error(value, se);
            format!("{a} ± {b}")
        }
    };
    for r in rows {
        let (value, se) = figure(r);
        let fill = if r.efficient { "#1f3a5f" } else { "#fff" };
        let _ = write!(
            h,
            "<g class=\"variant\"><title>{}: premium {}, {}</title><circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{fill}\" \
             stroke=\"#1f3a5f\"/></g>",
            esc(&v.policies[r.variant].name),
            crate::money::group_thousands(&format!("{:.0}", r.figures.premium as f64 / 100.0)),
            shown(value, se),
            x(r.figures.premium as f64 / 100.0),
            y(value)
        );
    }
    let _ = write!(
        h,
        "<g><title>no insurance</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" fill=\"#e07b00\"/></g>",
        x(0.0) - 4.0,
        y(none_y) - 4.0
    );
    h.push_str("</svg></figure>\n");
}
