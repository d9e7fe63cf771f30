//! contributions.csv: expected loss and ES 99 contributions per buyer, sector, country and group.

use super::csv_tables::{prob, table};
use crate::contrib::{AlternativeContributions, apportion};
use crate::error::Error;
use crate::model::Study;
use crate::money::format_cents;
use crate::run::RunResult;
use std::collections::BTreeMap;

/// The dimensions a contribution is reported by, with each buyer's key.
fn dimensions(study: &Study) -> [(&'static str, Vec<String>); 4] {
    let buyers = &study.portfolio.buyers;
    [
        ("buyer", buyers.iter().map(|b| b.id.clone()).collect()),
        ("sector", buyers.iter().map(|b| b.sector.clone()).collect()),
        ("country", buyers.iter().map(|b| b.country.clone()).collect()),
        // A buyer without a group is a group of its own (as in portfolio.csv).
        ("group", buyers.iter().map(|b| b.group_id.clone().unwrap_or_else(|| format!("buyer:{}", b.id))).collect()),
    ]
}

/// Rows of one alternative and dimension: sums per key, rounded so they add up to the totals,
/// largest ES contribution first; keys contributing nothing are left out.
fn rows_of(alt: &AlternativeContributions, keys: &[String]) -> Vec<(String, i128, i128)> {
    let mut by_key: BTreeMap<&str, (i128, i128)> = BTreeMap::new();
    for (b, key) in keys.iter().enumerate() {
        let e = by_key.entry(key.as_str()).or_default();
        e.0 += alt.expected_sum[b];
        e.1 += alt.tail_sum[b];
    }
    let expected: Vec<i128> = by_key.values().map(|v| v.0).collect();
    let tail: Vec<i128> = by_key.values().map(|v| v.1).collect();
    let el = apportion(&expected, alt.expected_divisor);
    let es = apportion(&tail, alt.tail_divisor);
    let mut rows: Vec<(String, i128, i128)> = by_key
        .keys()
        .zip(el.into_iter().zip(es))
        .filter(|(_, (el, es))| *el != 0 || *es != 0)
        .map(|(k, (el, es))| ((*k).to_owned(), el, es))
        .collect();
    rows.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
    rows
}

/// contributions.csv: per scenario, gross loss (policy "none") and net loss of each policy, per
/// dimension and key: the expected-loss and ES 99 contributions and the share of ES 99. Rows are
/// formed one dimension at a time and streamed into the CSV, so a book of a million buyers needs
/// memory for one dimension's rows, not for the whole table.
pub fn contributions_csv(study: &Study, r: &RunResult) -> Result<Vec<u8>, Error> {
    let header = ["scenario", "policy", "measure", "dimension", "key", "name", "expected_loss", "es_99", "es_99_share"];
    let dims = dimensions(study);
    let dims = &dims;
    let names: BTreeMap<&str, &str> = study.portfolio.buyers.iter().map(|b| (b.id.as_str(), b.name.as_str())).collect();
    let blocks = r.scenarios.iter().flat_map(|s| {
        s.contributions
            .alternatives
            .iter()
            .enumerate()
            .flat_map(move |(q, alt)| dims.iter().map(move |(dim, keys)| (s, q, alt, *dim, keys)))
    });
    let rows = blocks.flat_map(|(s, q, alt, dim, keys)| {
        let policy = &s.policies[q].name;
        let measure = if q == 0 { "gross_loss" } else { "net_loss" };
        let es_total = crate::money::mean_cents(alt.tail_sum.iter().sum(), alt.tail_divisor);
        let names = &names;
        rows_of(alt, keys).into_iter().map(move |(key, el, es)| {
            let name = if dim == "buyer" { names.get(key.as_str()).copied().unwrap_or("") } else { "" };
            let share = if es_total == 0 { String::new() } else { prob(es as f64 / es_total as f64) };
            vec![
                s.name.clone(),
                policy.clone(),
                measure.to_owned(),
                dim.to_owned(),
                key,
                name.to_owned(),
                format_cents(el),
                format_cents(es),
                share,
            ]
        })
    });
    table(&header, rows)
}
