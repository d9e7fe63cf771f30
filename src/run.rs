//! Running a study: compile each scenario, simulate its trials, reduce outcomes to statistics.

use crate::engine::{Outcomes, run_trials};
use crate::error::Error;
use crate::model::Study;
use crate::plan::{Plan, compile};
use crate::stats::MeasureStats;

/// The measures reported for every scenario × policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    GrossLoss,
    Claims,
    NetLoss,
    TotalCost,
}

impl Measure {
    pub const ALL: [Measure; 4] = [Measure::GrossLoss, Measure::Claims, Measure::NetLoss, Measure::TotalCost];
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::GrossLoss => "gross_loss",
            Measure::Claims => "claims",
            Measure::NetLoss => "net_loss",
            Measure::TotalCost => "total_cost",
        }
    }
}

/// Name of the uninsured alternative, always reported first.
pub const NO_POLICY: &str = "none";

/// Options of a run that may override the study file.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub trials: Option<u64>,
    pub seed: Option<u64>,
    /// Scenario names to run (empty = all).
    pub scenarios: Vec<String>,
}

/// Statistics of one policy (or "none") in one scenario.
#[derive(Debug, Clone)]
pub struct PolicyResult {
    pub name: String,
    pub annual_premium: i64,
    pub premium: i64,
    pub max_liability: i64,
    pub insured_turnover: i64,
    /// In the order of [`Measure::ALL`].
    pub measures: [MeasureStats; 4],
}

#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub name: String,
    pub description: String,
    /// "none" first, then the policies in file order.
    pub policies: Vec<PolicyResult>,
    pub defaults: MeasureStats,
}

#[derive(Debug, Clone)]
pub struct RunResult {
    pub trials: u64,
    pub seed: u64,
    pub scenarios: Vec<ScenarioResult>,
}

/// Which scenarios a filter selects; unknown names are a usage error.
pub fn select_scenarios<'a>(study: &'a Study, names: &[String]) -> Result<Vec<&'a crate::model::Scenario>, Error> {
    for n in names {
        if !study.scenarios.iter().any(|s| &s.name == n) {
            let known: Vec<&str> = study.scenarios.iter().map(|s| s.name.as_str()).collect();
            return Err(Error::Usage(format!(
                "--scenario {n:?}: no such scenario; the study has: {}",
                known.join(", ")
            )));
        }
    }
    Ok(study.scenarios.iter().filter(|s| names.is_empty() || names.contains(&s.name)).collect())
}

/// Compiles every selected scenario (all validation happens before any trial runs).
pub fn compile_all(study: &Study, opts: &RunOptions) -> Result<Vec<(Plan, String)>, Error> {
    select_scenarios(study, &opts.scenarios)?
        .into_iter()
        .map(|s| Ok((compile(study, s)?, s.description.clone())))
        .collect()
}

/// Runs the compiled plans on the current rayon pool.
pub fn run_plans(plans: &[(Plan, String)], trials: u64, seed: u64, progress: &(dyn Fn(&str, u64) + Sync)) -> RunResult {
    let scenarios = plans
        .iter()
        .map(|(plan, description)| {
            let outcomes = run_trials(plan, seed, 0..trials, &|n| progress(&plan.scenario, n));
            summarize(plan, description, &outcomes)
        })
        .collect();
    RunResult { trials, seed, scenarios }
}

/// Reduces a scenario's outcome rows to statistics per policy and measure.
pub fn summarize(plan: &Plan, description: &str, out: &Outcomes) -> ScenarioResult {
    use rayon::prelude::*;
    let n = out.trials;
    let gross: Vec<i64> = (0..n).map(|i| out.row(i)[0]).collect();
    let defaults: Vec<i64> = (0..n).map(|i| out.row(i)[1]).collect();
    let mut policies = Vec::with_capacity(plan.n_policies() + 1);
    let gross_stats = MeasureStats::from_values(&gross);
    let zero = MeasureStats::from_values(&vec![0; n]);
    policies.push(PolicyResult {
        name: NO_POLICY.into(),
        annual_premium: 0,
        premium: 0,
        max_liability: 0,
        insured_turnover: 0,
        measures: [gross_stats.clone(), zero, gross_stats.clone(), gross_stats.clone()],
    });
    let per_policy: Vec<PolicyResult> = plan
        .policies
        .par_iter()
        .enumerate()
        .map(|(p, pol)| {
            let col = crate::engine::FIXED_COLUMNS + 2 * p;
            let claims: Vec<i64> = (0..n).map(|i| out.row(i)[col]).collect();
            let net: Vec<i64> = (0..n).map(|i| gross[i] - claims[i] + out.row(i)[col + 1]).collect();
            let total: Vec<i64> = net.iter().map(|x| x + pol.premium).collect();
            PolicyResult {
                name: pol.name.clone(),
                annual_premium: pol.annual_premium,
                premium: pol.premium,
                max_liability: pol.max_liability,
                insured_turnover: pol.insured_turnover,
                measures: [
                    gross_stats.clone(),
                    MeasureStats::from_values(&claims),
                    MeasureStats::from_values(&net),
                    MeasureStats::from_values(&total),
                ],
            }
        })
        .collect();
    policies.extend(per_policy);
    ScenarioResult {
        name: plan.scenario.clone(),
        description: description.to_owned(),
        policies,
        defaults: MeasureStats::from_values(&defaults),
    }
}
