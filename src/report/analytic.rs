//! Reports of `run --method analytic`: analytic.csv and analytic_distribution.csv.

use super::csv_tables::{prob, table};
use crate::error::Error;
use crate::money::format_cents;
use crate::run::analytic::{AnalyticScenario, LossDistribution};
use crate::stats::{HISTOGRAM_BINS, nice_width};

/// An f64 amount in cents printed in currency units with two decimals.
fn units(x: f64) -> String {
    format!("{:.2}", x / 100.0)
}

/// analytic.csv: one row per scenario × policy × measure with the figures of summary.csv and
/// quantiles.csv (no Monte Carlo error: the method has none).
pub fn analytic_csv(scenarios: &[AnalyticScenario]) -> Result<Vec<u8>, Error> {
    let header = [
        "scenario",
        "policy",
        "measure",
        "lattice_unit",
        "exact_lattice",
        "mean",
        "std_dev",
        "q_0.5",
        "q_0.9",
        "q_0.95",
        "q_0.99",
        "q_0.995",
        "q_0.999",
        "var_95",
        "var_99",
        "var_99_5",
        "es_95",
        "es_99",
        "es_99_5",
        "p_positive",
        "notes",
    ];
    let mut rows = Vec::new();
    for s in scenarios {
        for m in &s.measures {
            let d = &m.dist;
            let (quantiles, var, es) = d.figures();
            let mut row = vec![
                s.name.clone(),
                m.policy.clone(),
                m.measure.to_owned(),
                format_cents(d.unit as i128),
                d.exact_lattice.to_string(),
                units(d.mean()),
                units(d.std_dev()),
            ];
            row.extend(quantiles.iter().chain(&var).map(|&q| format_cents(q as i128)));
            row.extend(es.iter().map(|&e| units(e)));
            row.push(prob(d.p_positive()));
            row.push(s.notes.join("; "));
            rows.push(row);
        }
    }
    table(&header, rows)
}

/// The binning of distribution.csv applied to a distribution's support (values with a
/// probability above 1e-15).
fn bins(d: &LossDistribution) -> Vec<(i64, i64, f64, f64)> {
    let support: Vec<(i64, f64)> =
        d.values.iter().copied().zip(d.probs.iter().copied()).filter(|e| e.1 > 1e-15).collect();
    let (Some(&(min, _)), Some(&(max, _))) = (support.first(), support.last()) else { return Vec::new() };
    let span = (max as i128 - min as i128 + 1).max(1) as u128;
    let width = nice_width(span.div_ceil(HISTOGRAM_BINS as u128).min(i64::MAX as u128) as i64);
    let total: f64 = support.iter().map(|e| e.1).sum();
    let mut out = Vec::new();
    let (mut from, mut j, mut below) = (min.div_euclid(width) * width, 0usize, 0.0f64);
    while j < support.len() {
        let to = from.saturating_add(width);
        let mut share = 0.0;
        while j < support.len() && support[j].0 < to {
            share += support[j].1;
            j += 1;
        }
        below += share;
        out.push((from, to, share / total, ((total - below) / total).max(0.0)));
        from = to;
    }
    out
}

/// analytic_distribution.csv: the histogram and exceedance curve of each analytic distribution,
/// binned as distribution.csv.
pub fn analytic_distribution_csv(scenarios: &[AnalyticScenario]) -> Result<Vec<u8>, Error> {
    let mut rows = Vec::new();
    for s in scenarios {
        for m in &s.measures {
            for (i, (from, to, share, above)) in bins(&m.dist).into_iter().enumerate() {
                rows.push(vec![
                    s.name.clone(),
                    m.policy.clone(),
                    m.measure.to_owned(),
                    (i + 1).to_string(),
                    format_cents(from as i128),
                    format_cents(to as i128),
                    format!("{share:.9}"),
                    format!("{above:.9}"),
                ]);
            }
        }
    }
    table(&["scenario", "policy", "measure", "bin", "from", "to", "share", "p_at_or_above_to"], rows)
}
