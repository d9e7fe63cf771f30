//! contributions.csv: expected loss and ES 99 contributions per buyer, sector, country and group.

use super::csv_tables::{prob, table, units};
use crate::error::Error;
use crate::model::Study;
use crate::money::format_cents;
use crate::run::RunResult;
use crate::run::contributions::{AlternativeContributions, DIMENSIONS, KeyIndex, apportion};
use std::collections::BTreeMap;

/// One row of a dimension: key, expected loss and its error, ES 99 and its error (cents).
type Row = (String, i128, f64, i128, f64);

/// Rows of one alternative and dimension `d` (of [`DIMENSIONS`]): sums per key, rounded so they
/// add up to the totals, largest ES contribution first; keys contributing nothing are left out.
fn rows_of(alt: &AlternativeContributions, index: &KeyIndex, names: &[String], d: usize) -> Vec<Row> {
    let (first, count) = index.dims[d];
    let (mut expected, mut tail) = (vec![0i128; count], vec![0i128; count]);
    for (b, keys) in index.of_buyer.iter().enumerate() {
        let j = keys[d] as usize - first;
        expected[j] += alt.expected_sum[b];
        tail[j] += alt.tail_sum[b];
    }
    // Keys in sorted order: ties of the rounding go to the key first in sort order.
    let el = apportion(&expected, alt.expected_divisor);
    let es = apportion(&tail, alt.tail_divisor);
    let mut rows: Vec<Row> = (0..count)
        .filter(|&j| el[j] != 0 || es[j] != 0)
        .map(|j| {
            let key = first + j;
            (names[j].clone(), el[j], alt.expected_std_error(key, expected[j]), es[j], alt.es_std_error(key))
        })
        .collect();
    rows.sort_by(|a, b| b.3.cmp(&a.3).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
    rows
}

/// contributions.csv: per scenario, gross loss (policy "none") and net loss of each policy, per
/// dimension and key: the expected-loss and ES 99 contributions with their standard errors and the
/// share of ES 99. Rows are formed one dimension at a time and streamed into the CSV, so a book of
/// a million buyers needs memory for one dimension's rows, not for the whole table.
pub fn contributions_csv(study: &Study, r: &RunResult) -> Result<Vec<u8>, Error> {
    let header = [
        "scenario",
        "policy",
        "measure",
        "dimension",
        "key",
        "name",
        "expected_loss",
        "expected_loss_std_error",
        "es_99",
        "es_99_std_error",
        "es_99_share",
    ];
    let (index, labels) = KeyIndex::new(&study.portfolio);
    let (index, labels) = (&index, &labels);
    let names: BTreeMap<&str, &str> = study.portfolio.buyers.iter().map(|b| (b.id.as_str(), b.name.as_str())).collect();
    let blocks = r.scenarios.iter().flat_map(|s| {
        s.contributions.alternatives.iter().enumerate().flat_map(move |(q, alt)| (0..4).map(move |d| (s, q, alt, d)))
    });
    let rows = blocks.flat_map(|(s, q, alt, d)| {
        let policy = &s.policies[q].name;
        // Every block is a net loss: without insurance, the credit loss and the write-off.
        let measure = "net_loss";
        let es_total = crate::money::mean_cents(alt.tail_sum.iter().sum(), alt.tail_divisor);
        let names = &names;
        let dim = DIMENSIONS[d];
        rows_of(alt, index, &labels[d], d).into_iter().map(move |(key, el, el_se, es, es_se)| {
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
                units(el_se),
                format_cents(es),
                units(es_se),
                share,
            ]
        })
    });
    table(&header, rows)
}
