//! retreat.csv: what the insurer retreat changed (SPEC §5.4), per scenario that cuts limits and
//! per policy. Column names are documented in docs/reports.md.

use crate::error::Error;
use crate::run::{NO_POLICY, RunResult};

fn units(x: f64) -> String {
    format!("{:.2}", x / 100.0)
}

/// retreat.csv, when some scenario of the run cuts limits (`None` otherwise, so runs without a
/// retreat write exactly the files they always did).
pub fn retreat_csv(r: &RunResult) -> Result<Option<Vec<u8>>, Error> {
    if r.scenarios.iter().all(|s| s.retreat.is_none()) {
        return Ok(None);
    }
    let header = [
        "scenario",
        "policy",
        "trials",
        "buyers_cut_mean",
        "buyers_cut_std_error",
        "cover_removed_mean",
        "cover_removed_std_error",
        "sales_lost_mean",
        "sales_lost_std_error",
    ];
    let mut rows = Vec::new();
    for s in &r.scenarios {
        let Some(ret) = &s.retreat else { continue };
        let trials = s.defaults.trials.to_string();
        for (i, p) in s.policies.iter().enumerate() {
            // "none" first (no cover to remove), then the policies in file order.
            let cover = match i.checked_sub(1) {
                None => crate::run::retreat::Figure { mean: 0.0, std_error: 0.0 },
                Some(q) => ret.cover_removed[q],
            };
            debug_assert!(i > 0 || p.name == NO_POLICY);
            rows.push(vec![
                s.name.clone(),
                p.name.clone(),
                trials.clone(),
                format!("{:.4}", ret.buyers_cut.mean),
                format!("{:.4}", ret.buyers_cut.std_error),
                units(cover.mean),
                units(cover.std_error),
                units(ret.sales_lost.mean),
                units(ret.sales_lost.std_error),
            ]);
        }
    }
    super::csv_tables::table(&header, rows).map(Some)
}
