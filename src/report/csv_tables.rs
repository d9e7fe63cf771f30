//! The CSV reports. Column names are stable and documented in docs/reports.md.

use crate::error::Error;
use crate::money::{format_cents, mean_cents};
use crate::portfolio_summary::Summary;
use crate::run::{BreakEven, BreakEvenRate, Measure, PolicyResult, RunResult};
use crate::stats::{MeasureStats, QUANTILE_LEVELS, Z95, quantile_std_error};

pub(super) fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Result<Vec<u8>, Error> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    let fail = |e: csv::Error| Error::Internal(format!("csv encoding: {e}"));
    w.write_record(header).map_err(fail)?;
    for r in rows {
        w.write_record(&r).map_err(fail)?;
    }
    w.into_inner().map_err(|e| Error::Internal(format!("csv encoding: {e}")))
}

/// An f64 amount in cents printed in currency units with two decimals.
pub(super) fn units(x: f64) -> String {
    format!("{:.2}", x / 100.0)
}

pub(super) fn prob(x: f64) -> String {
    format!("{x:.6}")
}

/// The measures reported for a policy: the four loss measures, the write-off of overdue
/// receivables when some buyer has them, the collection agency's fees when the dunning ladder
/// has an agency step, the dilution loss and (policies only) the claims refused for disputes when
/// the scenario disputes some sales, then the peak shortfall when the study has a cash side.
fn measures(p: &PolicyResult) -> impl Iterator<Item = (&'static str, &MeasureStats)> {
    Measure::ALL
        .iter()
        .map(|m| m.as_str())
        .zip(&p.measures)
        .chain(p.overdue_write_off.as_ref().map(|s| ("overdue_write_off", s)))
        .chain(p.collection_fees.as_ref().map(|s| ("collection_fees", s)))
        .chain(p.dilution_loss.as_ref().map(|s| ("dilution_loss", s)))
        .chain(p.disputed_excluded.as_ref().map(|s| ("disputed_excluded", s)))
        .chain(p.cash.as_ref().map(|c| ("peak_shortfall", &c.peak_shortfall)))
}

/// The figure suffixes of summary.csv's tail columns, in [`TAIL_LEVELS`] order.
const TAIL_SUFFIXES: [&str; 3] = ["95", "99", "99_5"];

/// summary.csv's header: every figure followed by its error columns.
fn summary_header() -> Vec<String> {
    let mut h: Vec<String> =
        ["scenario", "policy", "measure", "trials", "mean", "mean_std_error", "mean_ci_low", "mean_ci_high", "std_dev"]
            .map(String::from)
            .into();
    for figure in ["var", "es"] {
        for suffix in TAIL_SUFFIXES {
            let name = format!("{figure}_{suffix}");
            h.extend([format!("{name}_std_error"), format!("{name}_ci_low"), format!("{name}_ci_high")]);
            h.insert(h.len() - 3, name);
        }
    }
    h.extend(
        ["p_positive", "p_positive_std_error", "p_above_bad_debt_reserve", "p_above_bad_debt_reserve_std_error"]
            .map(String::from),
    );
    h
}

/// summary.csv: one row per scenario × policy × measure.
pub fn summary_csv(r: &RunResult) -> Result<Vec<u8>, Error> {
    let header = summary_header();
    let mut rows = Vec::new();
    for s in &r.scenarios {
        for p in &s.policies {
            for (m, st) in measures(p) {
                let mut row = vec![s.name.clone(), p.name.clone(), m.to_owned(), st.trials.to_string()];
                let mean = st.sum as f64 / st.trials.max(1) as f64;
                row.push(format_cents(st.mean));
                row.push(units(st.mean_std_error));
                row.push(units(mean - Z95 * st.mean_std_error));
                row.push(units(mean + Z95 * st.mean_std_error));
                row.push(units(st.std_dev));
                for (&v, &ci) in st.var.iter().zip(&st.var_ci) {
                    row.push(format_cents(v as i128));
                    row.push(units(quantile_std_error(ci)));
                    row.push(format_cents(ci.0 as i128));
                    row.push(format_cents(ci.1 as i128));
                }
                for (&es, &se) in st.es.iter().zip(&st.es_std_error) {
                    row.push(format_cents(es));
                    row.push(units(se));
                    row.push(units(es as f64 - Z95 * se));
                    row.push(units(es as f64 + Z95 * se));
                }
                row.push(prob(st.p_positive));
                row.push(prob(st.p_positive_std_error));
                match (m, p.p_net_above_reserve) {
                    ("net_loss", Some(x)) => {
                        row.push(prob(x.p));
                        row.push(prob(x.std_error));
                    }
                    _ => row.extend([String::new(), String::new()]),
                }
                rows.push(row);
            }
        }
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    table(&header, rows)
}

/// quantiles.csv: one row per scenario × policy × measure × level, with the standard error and the
/// distribution-free 95% interval.
pub fn quantiles_csv(r: &RunResult) -> Result<Vec<u8>, Error> {
    let mut rows = Vec::new();
    for s in &r.scenarios {
        for p in &s.policies {
            for (m, st) in measures(p) {
                for ((l, q), ci) in QUANTILE_LEVELS.iter().zip(st.quantiles).zip(st.quantile_ci) {
                    rows.push(vec![
                        s.name.clone(),
                        p.name.clone(),
                        m.to_owned(),
                        l.label.to_owned(),
                        format_cents(q as i128),
                        units(quantile_std_error(ci)),
                        format_cents(ci.0 as i128),
                        format_cents(ci.1 as i128),
                    ]);
                }
            }
        }
    }
    table(&["scenario", "policy", "measure", "level", "value", "std_error", "ci_low", "ci_high"], rows)
}

/// distribution.csv: per scenario × policy × measure, the histogram of the trial values and the
/// exceedance curve at the bins' upper edges.
pub fn distribution_csv(r: &RunResult) -> Result<Vec<u8>, Error> {
    let mut rows = Vec::new();
    for s in &r.scenarios {
        for p in &s.policies {
            for (m, st) in measures(p) {
                for (i, b) in st.histogram.iter().enumerate() {
                    rows.push(vec![
                        s.name.clone(),
                        p.name.clone(),
                        m.to_owned(),
                        (i + 1).to_string(),
                        format_cents(b.from as i128),
                        format_cents(b.to as i128),
                        b.trials.to_string(),
                        prob(b.share),
                        prob(b.p_at_or_above_to),
                    ]);
                }
            }
        }
    }
    table(&["scenario", "policy", "measure", "bin", "from", "to", "trials", "share", "p_at_or_above_to"], rows)
}

/// policy_comparison.csv: per scenario, every policy (and "none") against "none", ranked by
/// expected total cost.
pub fn policy_comparison_csv(r: &RunResult) -> Result<Vec<u8>, Error> {
    let header = [
        "scenario",
        "policy",
        "rank_by_total_cost",
        "annual_premium",
        "premium",
        "max_liability",
        "insured_turnover",
        "expected_defaults",
        "expected_gross_loss",
        "expected_claims",
        "expected_net_loss",
        "expected_total_cost",
        "total_cost_vs_none",
        "var_99_net_loss",
        "es_99_net_loss",
        "var_99_net_loss_reduction",
        "es_99_net_loss_reduction",
        "cost_per_es_99_reduction",
        "p_pays_back_premium",
        "expected_peak_shortfall",
        "p_shortfall",
        "var_99_peak_shortfall_reduction",
        "es_99_peak_shortfall_reduction",
        "total_cost_vs_none_std_error",
        "total_cost_vs_none_significant",
        "es_99_net_loss_reduction_std_error",
        "es_99_net_loss_reduction_significant",
        "p_shortfall_vs_none",
        "p_shortfall_vs_none_std_error",
        "p_shortfall_vs_none_significant",
        "break_even_premium_rate",
        "break_even_premium_rate_std_error",
        "break_even_annual_premium",
        "break_even_annual_premium_std_error",
        "break_even_note",
    ];
    let (net, total, claims) = (2, 3, 1);
    let mut rows = Vec::new();
    for s in &r.scenarios {
        let none = &s.policies[0];
        let mut order: Vec<usize> = (0..s.policies.len()).collect();
        order.sort_by_key(|&i| (s.policies[i].measures[total].sum, i));
        for (i, p) in s.policies.iter().enumerate() {
            let rank = order.iter().position(|&j| j == i).unwrap_or(0) + 1;
            let shortfall_reduction = |f: fn(&crate::run::PolicyCash) -> i128| match (&none.cash, &p.cash) {
                (Some(a), Some(b)) => format_cents(f(a) - f(b)),
                _ => String::new(),
            };
            let mut row = vec![
                s.name.clone(),
                p.name.clone(),
                rank.to_string(),
                format_cents(p.annual_premium as i128),
                format_cents(p.premium as i128),
                format_cents(p.max_liability as i128),
                format_cents(p.insured_turnover as i128),
                format!("{:.4}", s.defaults.sum as f64 / s.defaults.trials.max(1) as f64),
                format_cents(p.measures[0].mean),
                format_cents(p.measures[claims].mean),
                format_cents(p.measures[net].mean),
                format_cents(p.measures[total].mean),
                format_cents(p.measures[total].mean - none.measures[total].mean),
                format_cents(p.measures[net].var[1] as i128),
                format_cents(p.measures[net].es[1]),
                format_cents((none.measures[net].var[1] - p.measures[net].var[1]) as i128),
                format_cents(none.measures[net].es[1] - p.measures[net].es[1]),
                cost_per_reduction(
                    p.measures[total].mean - none.measures[total].mean,
                    none.measures[net].es[1] - p.measures[net].es[1],
                ),
                p.p_pays_back.map_or(String::new(), prob),
                p.cash.as_ref().map_or(String::new(), |c| format_cents(c.peak_shortfall.mean)),
                p.cash.as_ref().map_or(String::new(), |c| prob(c.peak_shortfall.p_positive)),
                shortfall_reduction(|c| c.peak_shortfall.var[1] as i128),
                shortfall_reduction(|c| c.peak_shortfall.es[1]),
            ];
            row.extend(paired_columns(p, none.cash.is_some()));
            rows.push(row);
        }
    }
    table(&header, rows)
}

/// policy_differences.csv: per scenario, every policy against every later policy of the file on
/// the same trials (`policy_b − policy_a`), each difference with the standard error of the paired
/// difference and whether it is significant. A study with fewer than two policies has a header only.
pub fn policy_differences_csv(r: &RunResult) -> Result<Vec<u8>, Error> {
    let header = [
        "scenario",
        "policy_a",
        "policy_b",
        "total_cost_difference",
        "total_cost_difference_std_error",
        "total_cost_difference_significant",
        "es_99_net_loss_difference",
        "es_99_net_loss_difference_std_error",
        "es_99_net_loss_difference_significant",
        "p_shortfall_difference",
        "p_shortfall_difference_std_error",
        "p_shortfall_difference_significant",
        "cheaper",
    ];
    let mut rows = Vec::new();
    for s in &r.scenarios {
        for d in &s.policy_pairs {
            let (a, b) = (&s.policies[d.a].name, &s.policies[d.b].name);
            let cheaper = match (d.total_cost.significant(), d.total_cost.diff < 0) {
                (false, _) => "neither",
                (true, true) => b.as_str(),
                (true, false) => a.as_str(),
            };
            let mut row = vec![
                s.name.clone(),
                a.clone(),
                b.clone(),
                format_cents(d.total_cost.diff),
                units(d.total_cost.std_error),
                yes_no(d.total_cost.significant()),
                format_cents(d.es_99_net_loss.diff),
                units(d.es_99_net_loss.std_error),
                yes_no(d.es_99_net_loss.significant()),
            ];
            match &d.p_shortfall {
                Some(x) => row.extend([prob(x.diff), prob(x.std_error), yes_no(x.significant())]),
                None => row.extend([String::new(), String::new(), String::new()]),
            }
            row.push(cheaper.to_owned());
            rows.push(row);
        }
    }
    table(&header, rows)
}

/// "yes" / "no" for a significance flag.
fn yes_no(significant: bool) -> String {
    if significant { "yes" } else { "no" }.to_owned()
}

/// policy_comparison.csv's paired columns of one alternative: each difference from "none" with
/// the standard error of the paired difference and whether it is significant. The "none" row has
/// no difference: empty errors and flags (and a zero P(shortfall) difference with a cash side).
fn paired_columns(p: &PolicyResult, with_cash: bool) -> Vec<String> {
    let Some(d) = &p.paired else {
        let p_shortfall = if with_cash { prob(0.0) } else { String::new() };
        // The paired columns (7) and the break-even columns (5): no difference from itself.
        let mut row = vec![String::new(); 12];
        row[4] = p_shortfall;
        return row;
    };
    let mut row = vec![
        units(d.total_cost_vs_none.std_error),
        yes_no(d.total_cost_vs_none.significant()),
        units(d.es_99_net_loss_reduction.std_error),
        yes_no(d.es_99_net_loss_reduction.significant()),
    ];
    match &d.p_shortfall_vs_none {
        Some(x) => row.extend([prob(x.diff), prob(x.std_error), yes_no(x.significant())]),
        None => row.extend([String::new(), String::new(), String::new()]),
    }
    let b = &d.break_even;
    let (rate, rate_se, note) = match &b.rate {
        BreakEvenRate::Rate { rate, std_error } => {
            let prec = BreakEven::RATE_DECIMALS as usize;
            (format!("{rate:.prec$}"), format!("{std_error:.prec$}"), "")
        }
        BreakEvenRate::BelowMinimumPremium => (String::new(), String::new(), "below_minimum_premium"),
        BreakEvenRate::NoInsuredTurnover => (String::new(), String::new(), "no_insured_turnover"),
    };
    row.extend([rate, rate_se, format_cents(b.annual_premium), units(b.annual_premium_std_error), note.to_owned()]);
    row
}

/// Extra expected total cost per unit of ES 99 reduction, 4 decimals (empty without a reduction).
fn cost_per_reduction(extra_cost: i128, reduction: i128) -> String {
    if reduction <= 0 { String::new() } else { format!("{:.4}", extra_cost as f64 / reduction as f64) }
}

/// The rules of thumb of reserve.csv: a reserve of this many percent of the receivables.
pub const RESERVE_RULES_PERCENT: [i64; 2] = [3, 5];

/// reserve.csv: per scenario × alternative, the bad-debt reserve that covers the net loss with
/// 95 / 99 / 99.5% confidence (the VaR of the net loss, with its order-statistic interval as in
/// summary.csv), beside the study's `bad_debt_reserve` with P(net loss > it), and beside the
/// 3% / 5% of receivables rules of thumb (receivables: the portfolio's exposure at `as_of`, as
/// `validate` and portfolio.csv give it).
pub fn reserve_csv(r: &RunResult, portfolio: &Summary) -> Result<Vec<u8>, Error> {
    let mut header: Vec<String> = vec!["scenario".into(), "policy".into()];
    for suffix in TAIL_SUFFIXES {
        let name = format!("reserve_{suffix}");
        header.extend([format!("{name}_std_error"), format!("{name}_ci_low"), format!("{name}_ci_high")]);
        header.insert(header.len() - 3, name);
    }
    header.extend(
        [
            "bad_debt_reserve",
            "p_net_loss_above_bad_debt_reserve",
            "p_net_loss_above_bad_debt_reserve_std_error",
            "receivables",
        ]
        .map(String::from),
    );
    header.extend(RESERVE_RULES_PERCENT.map(|p| format!("rule_of_thumb_{p}pct")));
    let receivables = portfolio.total.exposure as i128;
    let net = Measure::ALL.iter().position(|&m| m == Measure::NetLoss).unwrap_or(2);
    let mut rows = Vec::new();
    for s in &r.scenarios {
        for p in &s.policies {
            let st = &p.measures[net];
            let mut row = vec![s.name.clone(), p.name.clone()];
            for (&v, &ci) in st.var.iter().zip(&st.var_ci) {
                row.push(format_cents(v as i128));
                row.push(units(quantile_std_error(ci)));
                row.push(format_cents(ci.0 as i128));
                row.push(format_cents(ci.1 as i128));
            }
            row.push(s.bad_debt_reserve.map_or(String::new(), |x| format_cents(x as i128)));
            match p.p_net_above_reserve {
                Some(x) => row.extend([prob(x.p), prob(x.std_error)]),
                None => row.extend([String::new(), String::new()]),
            }
            row.push(format_cents(receivables));
            row.extend(RESERVE_RULES_PERCENT.map(|pct| format_cents(mean_cents(receivables * pct as i128, 100))));
            rows.push(row);
        }
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    table(&header, rows)
}

/// portfolio.csv: the `validate` summary.
pub fn portfolio_csv(s: &Summary) -> Result<Vec<u8>, Error> {
    let header = [
        "section",
        "key",
        "buyers",
        "exposure",
        "share_of_exposure",
        "insured_exposure",
        "above_limit",
        "monthly_sales",
        "value",
    ];
    let total = s.total.exposure.max(1) as f64;
    let mut rows: Vec<Vec<String>> = s
        .rows
        .iter()
        .map(|r| {
            vec![
                r.section.to_owned(),
                r.key.clone(),
                r.slice.buyers.to_string(),
                format_cents(r.slice.exposure as i128),
                prob(r.slice.exposure as f64 / total),
                format_cents(r.slice.insured_exposure as i128),
                format_cents(r.slice.above_limit as i128),
                format_cents(r.slice.monthly_sales as i128),
                String::new(),
            ]
        })
        .collect();
    for (key, value) in [
        ("hhi_buyers", s.hhi_buyers),
        ("hhi_groups", s.hhi_groups),
        ("insured_share", s.insured_share()),
        ("insured_buyers", s.insured_buyers as f64),
    ] {
        let mut row = vec![String::new(); header.len()];
        row[0] = "metric".into();
        row[1] = key.into();
        row[8] = if key == "insured_buyers" { format!("{value}") } else { prob(value) };
        rows.push(row);
    }
    table(&header, rows)
}

/// cashflow.csv: per scenario × policy × month, the cash fan against the baseline path, the
/// probability of a shortfall, the borrowing base and DSO. `None` when the study has no cash side.
pub fn cashflow_csv(r: &RunResult) -> Result<Option<Vec<u8>>, Error> {
    if r.scenarios.iter().all(|s| s.months.is_empty()) {
        return Ok(None);
    }
    let header = [
        "scenario",
        "policy",
        "month",
        "month_start",
        "baseline_cash",
        "mean_cash",
        "mean_cash_std_error",
        "cash_p5",
        "cash_p5_std_error",
        "cash_p50",
        "cash_p50_std_error",
        "cash_p95",
        "cash_p95_std_error",
        "p_shortfall",
        "p_shortfall_std_error",
        "p_first_shortfall",
        "p_first_shortfall_std_error",
        "baseline_borrowing_base",
        "mean_borrowing_base",
        "mean_facility",
        "p_line_binds",
        "extra_borrowing_base_vs_none",
        "extra_borrowing_base_vs_none_std_error",
        "extra_facility_vs_none",
        "extra_facility_vs_none_std_error",
        "baseline_dso",
        "mean_dso",
    ];
    let n = r.trials.max(1) as f64;
    let dso = |recv: f64, sales: f64, days: i32| {
        if sales > 0.0 { format!("{:.1}", recv / sales * days as f64) } else { String::new() }
    };
    let mut rows = Vec::new();
    for s in &r.scenarios {
        for p in &s.policies {
            let Some(cash) = &p.cash else { continue };
            for (k, (m, info)) in cash.months.iter().zip(&s.months).enumerate() {
                let se = |x: f64| format_cents(x.round() as i128);
                let quantile_se = |j: usize| m.cash_quantile_std_errors.map_or(String::new(), |e| se(e[j]));
                rows.push(vec![
                    s.name.clone(),
                    p.name.clone(),
                    (k + 1).to_string(),
                    info.start.to_string(),
                    format_cents(m.baseline_cash as i128),
                    format_cents(m.mean_cash),
                    se(m.mean_cash_std_error),
                    format_cents(m.cash_quantiles[0] as i128),
                    quantile_se(0),
                    format_cents(m.cash_quantiles[1] as i128),
                    quantile_se(1),
                    format_cents(m.cash_quantiles[2] as i128),
                    quantile_se(2),
                    prob(m.p_shortfall),
                    prob(m.p_shortfall_std_error),
                    prob(m.p_first_shortfall),
                    prob(m.p_first_shortfall_std_error),
                    format_cents(m.baseline_borrowing_base as i128),
                    format_cents(m.mean_borrowing_base),
                    format_cents(m.mean_facility),
                    prob(m.p_line_binds),
                    m.extra_borrowing_base.map_or(String::new(), |e| format_cents(e.0)),
                    m.extra_borrowing_base.map_or(String::new(), |e| se(e.1)),
                    m.extra_facility.map_or(String::new(), |e| format_cents(e.0)),
                    m.extra_facility.map_or(String::new(), |e| se(e.1)),
                    dso(info.baseline_receivables as f64, info.baseline_sales as f64, info.days),
                    dso(info.receivables_sum as f64 / n, info.sales_sum as f64 / n, info.days),
                ]);
            }
        }
    }
    table(&header, rows).map(Some)
}
