//! shortfall_contributions.csv: the mean peak shortfall attributed to perils, buyers, sectors and
//! countries (docs/reports.md; [`crate::run::shortfall`]).

use super::csv_tables::{prob, table, units};
use crate::error::Error;
use crate::model::Study;
use crate::money::format_cents;
use crate::run::RunResult;
use crate::run::shortfall::{DIMENSIONS, entries};

/// shortfall_contributions.csv, `None` when no scenario has a cash section. Per scenario,
/// alternative and dimension, the contributions in cents that add up to summary.csv's
/// `peak_shortfall` mean, largest first.
pub fn shortfall_contributions_csv(study: &Study, r: &RunResult) -> Result<Option<Vec<u8>>, Error> {
    if r.scenarios.iter().all(|s| s.shortfall_contributions.is_none()) {
        return Ok(None);
    }
    let header = ["scenario", "policy", "dimension", "key", "name", "contribution", "contribution_std_error", "share"];
    let mut rows = Vec::new();
    for s in &r.scenarios {
        let Some(sc) = &s.shortfall_contributions else { continue };
        for (q, alt) in sc.alternatives.iter().enumerate() {
            let mean = alt.mean();
            for dim in DIMENSIONS {
                for e in entries(study, alt, dim) {
                    rows.push(vec![
                        s.name.clone(),
                        s.policies[q].name.clone(),
                        dim.to_owned(),
                        e.key,
                        e.name,
                        format_cents(e.contribution),
                        units(e.std_error),
                        if mean == 0 { String::new() } else { prob(e.share) },
                    ]);
                }
            }
        }
    }
    Ok(Some(table(&header, rows)?))
}
