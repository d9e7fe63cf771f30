//! manifest.json: what produced the reports (version, inputs' hashes, seed, generator, crates, timing).

use crate::error::Error;
use crate::model::Study;
use crate::run::RunResult;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Fields that may differ between identical runs (SPEC §3.1.15).
#[derive(Debug, Clone, Default)]
pub struct Timing {
    pub wall_seconds: f64,
    pub threads: usize,
    /// The peak memory estimated before the run (checked against `--max-memory`), in bytes.
    pub memory_estimate: Option<u64>,
}

/// What a manifest says of the run itself.
#[derive(Debug, Clone)]
pub struct RunFacts {
    /// `monte_carlo` or `analytic`.
    pub method: &'static str,
    pub seed: Option<u64>,
    pub trials: Option<u64>,
    pub tail_shift: Option<f64>,
    pub scenarios: Vec<String>,
    pub policies: Vec<String>,
}

/// The money columns of each CSV report, by file name (`xlsx::money_columns`).
pub type MoneyColumns = BTreeMap<String, Vec<String>>;

/// The manifest of a Monte Carlo run as pretty JSON with a fixed key order.
pub fn manifest_json(
    study: &Study,
    r: &RunResult,
    reports: &[String],
    money: &MoneyColumns,
    timing: &Timing,
) -> Result<Vec<u8>, Error> {
    let facts = RunFacts {
        method: "monte_carlo",
        seed: Some(r.seed),
        trials: Some(r.trials),
        tail_shift: r.tail_shift,
        scenarios: r.scenarios.iter().map(|s| s.name.clone()).collect(),
        policies: r.scenarios.first().map(|s| s.policies.iter().map(|p| p.name.clone()).collect()).unwrap_or_default(),
    };
    run_manifest_json(study, &facts, reports, money, timing)
}

/// A manifest as pretty JSON with a fixed key order. `money` names the columns of each CSV report
/// that are amounts in `currency`.
pub fn run_manifest_json(
    study: &Study,
    r: &RunFacts,
    reports: &[String],
    money: &MoneyColumns,
    timing: &Timing,
) -> Result<Vec<u8>, Error> {
    let base = study.inputs.first().and_then(|f| f.path.parent()).map(|p| p.to_path_buf()).unwrap_or_default();
    let inputs: Vec<Value> = study
        .inputs
        .iter()
        .map(|f| {
            let rel = f.path.strip_prefix(&base).unwrap_or(&f.path);
            json!({ "file": rel.to_string_lossy(), "sha256": f.sha256 })
        })
        .collect();
    let crates: serde_json::Map<String, Value> = env!("ARSTRESS_CRATE_VERSIONS")
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect();
    let m = json!({
        "tool": "arstress",
        "version": env!("CARGO_PKG_VERSION"),
        "study": study.name,
        "as_of": study.calendar.as_of.to_string(),
        "horizon_months": study.calendar.horizon_months(),
        "currency": study.currency,
        "method": r.method,
        "seed": r.seed,
        "trials": r.trials,
        "generator": crate::engine::rng::GENERATOR,
        "tail_sampling": r.tail_shift.map(|shift| json!({ "global_factor_shift": shift, "mixture_weight": 0.5 })),
        "scenarios": r.scenarios,
        "policies": r.policies,
        "inputs": inputs,
        "crates": crates,
        "reports": reports,
        "money_columns": money,
        // The reports are built in memory before this manifest: the peak so far is the run's.
        "timing": {
            "wall_seconds": (timing.wall_seconds * 1000.0).round() / 1000.0,
            "threads": timing.threads,
            "estimated_peak_memory_bytes": timing.memory_estimate,
            "peak_memory_bytes": crate::limits::peak_resident_memory(),
        },
    });
    let mut out = serde_json::to_vec_pretty(&m).map_err(|e| Error::Internal(format!("manifest: {e}")))?;
    out.push(b'\n');
    Ok(out)
}
