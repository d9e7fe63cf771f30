//! Running a study: compile each scenario, simulate its trials, reduce outcomes to statistics.

pub mod analytic;
pub mod contributions;
pub mod resume;
pub mod retreat;
pub mod shard;
pub mod shortfall;

use crate::calendar::Calendar;
use crate::engine::{Outcomes, run_trials};
use crate::error::Error;
use crate::model::Study;
use crate::plan::{Plan, compile};
use crate::run::contributions::{ScenarioContributions, contributions};
use crate::stats::paired;
use crate::stats::{Level, MeasureStats, PairedAmount, PairedShare, Share, Weights};

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

pub use crate::model::NO_POLICY;

/// Options of a run that may override the study file.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub trials: Option<u64>,
    pub seed: Option<u64>,
    /// Scenario names to run (empty = all).
    pub scenarios: Vec<String>,
    /// `--tail-sampling`: importance sampling of the global factor with this mean shift.
    pub tail_shift: Option<f64>,
    /// Trials per block of work (`None`: [`crate::plan::DEFAULT_TRIAL_BLOCK`]); no effect on results.
    pub trial_block: Option<usize>,
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
    /// P(net loss > bad_debt_reserve), when the company states a reserve.
    pub p_net_above_reserve: Option<Share>,
    /// P(claims − insurer's recovery share ≥ premium): the policy pays back its premium in the
    /// trial (`None` for "none").
    pub p_pays_back: Option<f64>,
    /// The cash side, when the study has a `[company]` section.
    pub cash: Option<PolicyCash>,
    /// The measures beside the losses, each when the scenario has it: `overdue_write_off`
    /// (docs/model.md, "Overdue receivables by age"), `collection_fees` (the dunning ladder's
    /// agency), `discount_cost` (early-payment discounts), `terms_lost_sales` and
    /// `terms_lost_margin` (a terms policy by grade), `dilution_loss` (disputes), all the same
    /// under every policy; then, policies only, `disputed_excluded` (claims refused for disputes).
    pub scenario_measures: Vec<(&'static str, MeasureStats)>,
    /// This policy against "none" on the same trials, each difference with the standard error of
    /// the paired difference (`None` for "none" itself).
    pub paired: Option<Paired>,
}

/// A policy's differences from "none", computed from the per-trial differences of the common
/// trials (every alternative is simulated on the same trials), so their errors are the errors
/// of the differences, far smaller than the two figures' errors combined. A difference is
/// significant when `|diff| > 2 × std_error` ([`crate::stats::SIGNIFICANCE_Z`]; one comparison at
/// a time — judging many at once, expect some to pass by chance). docs/reports.md,
/// policy_comparison.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct Paired {
    /// Expected total cost of the policy minus that of "none" (cents; the difference of the two
    /// `total_cost` means of summary.csv). Negative: the policy is cheaper on average.
    pub total_cost_vs_none: PairedAmount,
    /// ES 99 of the net loss of "none" minus the policy's (cents; the difference of the two
    /// `es_99` of summary.csv's `net_loss` rows): how much 99% tail the policy removes.
    pub es_99_net_loss_reduction: PairedAmount,
    /// P(shortfall) of the policy minus that of "none" (P(peak shortfall > 0)), when the study
    /// has a `[company]` section. Negative: the policy makes a shortfall less likely.
    pub p_shortfall_vs_none: Option<PairedShare>,
    /// The premium at which the policy's expected total cost equals that of "none".
    pub break_even: BreakEven,
}

/// Two policies of a scenario against each other on the same trials: policy `b` minus policy `a`
/// (`a` before `b` in the policies file; indices into [`ScenarioResult::policies`], so ≥ 1), each
/// difference with the standard error of the paired difference (policy_differences.csv).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyPair {
    pub a: usize,
    pub b: usize,
    /// Expected total cost of `b` minus that of `a`: negative, `b` is cheaper on average.
    pub total_cost: PairedAmount,
    /// ES 99 of the net loss of `b` minus that of `a`: negative, `b` leaves less tail.
    pub es_99_net_loss: PairedAmount,
    /// P(shortfall) of `b` minus that of `a`, with a cash side.
    pub p_shortfall: Option<PairedShare>,
}

/// The break-even premium of a policy in a scenario: the premium at which its expected total cost
/// equals that of "none", i.e. the expected `claims − insurer's share of recoveries` (per trial,
/// as simulated: claims are held fixed, which is exact unless the maximum liability is a
/// multiple of the premium and binds). Annualised by `12/H` like the premium itself.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakEven {
    /// Break-even annual premium in cents, rounded half-to-even.
    pub annual_premium: i128,
    /// Its standard error in cents: `total_cost_vs_none.std_error × 12/H` (the break-even premium
    /// is the paired mean difference shifted by the premium).
    pub annual_premium_std_error: f64,
    /// The premium rate on insured turnover that gives that annual premium, or why there is none.
    pub rate: BreakEvenRate,
}

/// The break-even premium rate, `annual_premium / insured_turnover`.
#[derive(Debug, Clone, PartialEq)]
pub enum BreakEvenRate {
    /// The rate, rounded half-to-even to 10 decimals, with its standard error
    /// (`annual_premium_std_error / insured_turnover`).
    Rate { rate: rust_decimal::Decimal, std_error: f64 },
    /// The break-even annual premium is below the policy's `minimum_premium`: at any rate the
    /// policy costs more than "none" on average (its premium cannot go below the minimum).
    BelowMinimumPremium,
    /// No insured turnover: the premium does not depend on the rate.
    NoInsuredTurnover,
}

impl BreakEven {
    /// Decimal places of [`BreakEvenRate::Rate`].
    pub const RATE_DECIMALS: u32 = 10;

    /// From the exact sum over the trials of `claims − insurer's share` (`benefit_sum`, cents) of
    /// a policy over `trials` trials and a horizon of `months`, and the error of the per-trial
    /// mean (cents).
    fn new(
        benefit_sum: i128,
        trials: u64,
        months: u32,
        pol: &crate::plan::PolicyPlan,
        mean_std_error: f64,
    ) -> Result<Self, Error> {
        use rust_decimal::{Decimal, RoundingStrategy};
        let per_year = trials as i128 * months as i128;
        let annual_premium = crate::money::mean_cents(benefit_sum * 12, per_year.max(1) as u64);
        let annual_premium_std_error = mean_std_error * 12.0 / months.max(1) as f64;
        let rate = if pol.insured_turnover <= 0 {
            BreakEvenRate::NoInsuredTurnover
        } else if benefit_sum * 12 < pol.minimum_premium as i128 * per_year {
            BreakEvenRate::BelowMinimumPremium
        } else {
            let overflow = || Error::Internal(format!("policy {:?}: break-even rate out of range", pol.name));
            let num = Decimal::try_from_i128_with_scale(benefit_sum * 12, 0).map_err(|_| overflow())?;
            let den = Decimal::try_from_i128_with_scale(per_year * pol.insured_turnover as i128, 0)
                .map_err(|_| overflow())?;
            let rate = num
                .checked_div(den)
                .ok_or_else(overflow)?
                .round_dp_with_strategy(Self::RATE_DECIMALS, RoundingStrategy::MidpointNearestEven);
            BreakEvenRate::Rate { rate, std_error: annual_premium_std_error / pol.insured_turnover as f64 }
        };
        Ok(BreakEven { annual_premium, annual_premium_std_error, rate })
    }
}

/// Cash statistics of one policy.
#[derive(Debug, Clone)]
pub struct PolicyCash {
    /// Largest monthly shortfall of a trial.
    pub peak_shortfall: MeasureStats,
    pub months: Vec<MonthCash>,
}

/// Cash statistics of one month for one policy.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthCash {
    pub baseline_cash: i64,
    pub mean_cash: i128,
    /// Standard error of `mean_cash`, in cents.
    pub mean_cash_std_error: f64,
    /// 5%, 50% and 95% quantiles of the month-end cash.
    pub cash_quantiles: [i64; 3],
    /// Their standard errors in cents (the 95% order-statistic interval's width / 3.92); `None`
    /// under tail sampling, whose weighted quantiles have no such interval.
    pub cash_quantile_std_errors: Option<[f64; 3]>,
    pub p_shortfall: f64,
    pub p_shortfall_std_error: f64,
    /// Share of trials whose first shortfall falls in this month.
    pub p_first_shortfall: f64,
    pub p_first_shortfall_std_error: f64,
    pub baseline_borrowing_base: i64,
    pub mean_borrowing_base: i128,
    /// Mean facility available: `min(credit_line, borrowing base)`.
    pub mean_facility: i128,
    /// Share of trials in which the credit line, not the borrowing base, limits the facility.
    pub p_line_binds: f64,
    /// For a policy: the borrowing base and the facility it adds against no insurance (mean of
    /// the per-trial differences on the same trials, with the paired standard error, in cents).
    pub extra_borrowing_base: Option<(i128, f64)>,
    pub extra_facility: Option<(i128, f64)>,
}

/// Receivables and sales of one month (policy-independent), for DSO.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthInfo {
    pub start: time::Date,
    pub days: i32,
    pub baseline_receivables: i64,
    pub baseline_sales: i64,
    /// Sums over trials.
    pub receivables_sum: i128,
    pub sales_sum: i128,
}

#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub name: String,
    pub description: String,
    /// "none" first, then the policies in file order.
    pub policies: Vec<PolicyResult>,
    pub defaults: MeasureStats,
    /// Per month, when the study has a cash side.
    pub months: Vec<MonthInfo>,
    /// Risk contributions per buyer: "none" (gross loss), then each policy (net loss).
    pub contributions: ScenarioContributions,
    /// Which perils, buyers, sectors and countries caused the mean peak shortfall, per
    /// alternative ("none" first, then the policies), when the study has a cash section
    /// (shortfall_contributions.csv; [`crate::run::shortfall::top_entries`] gives the largest entries).
    pub shortfall_contributions: Option<crate::run::shortfall::ShortfallContributions>,
    /// What the insurer retreat changed, when the scenario cuts limits (SPEC §5.4).
    pub retreat: Option<crate::run::retreat::RetreatResult>,
    /// The company's `bad_debt_reserve` in cents, when study.toml states one.
    pub bad_debt_reserve: Option<i64>,
    /// Every two policies against each other (not "none": that is each policy's `paired`).
    pub policy_pairs: Vec<PolicyPair>,
}

#[derive(Debug, Clone)]
pub struct RunResult {
    pub trials: u64,
    pub seed: u64,
    pub scenarios: Vec<ScenarioResult>,
    /// Shift of the global factor under `--tail-sampling`.
    pub tail_shift: Option<f64>,
}

/// The tail-sampling shift of a run's plans.
fn tail_shift(plans: &[(Plan, String)]) -> Option<f64> {
    plans.iter().find_map(|(p, _)| p.tail_sampling.map(|t| t.shift))
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
        .map(|s| {
            Ok((
                compile(study, s)?.with_tail_sampling(opts.tail_shift).with_trial_block(opts.trial_block),
                s.description.clone(),
            ))
        })
        .collect()
}

/// What a run with a resume store read back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resumed {
    /// Scenarios read back from the store.
    pub reused: Vec<String>,
    /// Scenarios whose stored file did not match its checksum, with the file: recomputed.
    pub damaged: Vec<(String, std::path::PathBuf)>,
}

/// Runs the compiled plans on the current rayon pool. With a `store` (`run --resume`), scenarios it
/// already holds are read back and the others stored as they finish. Returns the result and what
/// was read back.
pub fn run_plans(
    plans: &[(Plan, String)],
    calendar: &Calendar,
    trials: u64,
    seed: u64,
    store: Option<&crate::run::resume::ResumeStore>,
    progress: &(dyn Fn(&str, u64) + Sync),
) -> Result<(RunResult, Resumed), Error> {
    use crate::run::resume::Stored;
    let mut scenarios = Vec::with_capacity(plans.len());
    let mut resumed = Resumed::default();
    for (plan, description) in plans {
        let stored = match store {
            Some(s) => s.load(plan, trials)?,
            None => Stored::Missing,
        };
        if let Stored::Damaged(path) = &stored {
            resumed.damaged.push((plan.scenario.clone(), path.clone()));
        }
        let outcomes = match stored {
            Stored::Found(o) => {
                resumed.reused.push(plan.scenario.clone());
                progress(&plan.scenario, trials);
                o
            }
            Stored::Missing | Stored::Damaged(_) => {
                let o = run_trials(plan, seed, 0..trials, &|n| progress(&plan.scenario, n));
                if let Some(s) = store {
                    s.save(&plan.scenario, &o)?;
                }
                o
            }
        };
        scenarios.push(summarize(plan, calendar, description, seed, &outcomes)?);
    }
    Ok((RunResult { trials, seed, scenarios, tail_shift: tail_shift(plans) }, resumed))
}

/// `run --target-rel-error`: add trials in fixed blocks until the relative standard error of
/// ES 99 of the net loss is at most `rel_error` under every alternative, or `max_trials` is reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetError {
    pub rel_error: f64,
    pub max_trials: u64,
}

/// Trials added per step of a run to a target error: fixed, so the trials run (keys 0, 1, …) and
/// hence the results depend only on the inputs, the seed and the target.
pub const TARGET_BLOCK: u64 = 10_000;

/// How a scenario's run to a target error ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetReached {
    pub scenario: String,
    pub trials: u64,
    /// The largest relative standard error of ES 99 of the net loss over the alternatives.
    pub rel_error: f64,
    pub reached: bool,
}

/// Largest relative standard error of ES 99 of the net loss over "none" and the policies.
pub fn es_99_net_rel_error(plan: &Plan, out: &Outcomes) -> f64 {
    let level = crate::stats::TAIL_LEVELS[1];
    let n = out.trials;
    let mut worst = 0.0f64;
    let mut values = vec![0i64; n];
    for p in std::iter::once(None).chain((0..plan.n_policies()).map(Some)) {
        for (i, v) in values.iter_mut().enumerate() {
            let row = out.row(i);
            *v = crate::engine::net_loss(row, p.map_or(0, |p| p + 1));
        }
        let (es, se) = match out.weighting() {
            crate::stats::Weights::Equal => {
                values.sort_unstable();
                (
                    crate::stats::expected_shortfall_sorted(&values, level) as f64,
                    crate::stats::es_std_error_sorted(&values, level),
                )
            }
            w => {
                let s = w.stats(&values);
                (s.es[1] as f64, s.es_std_error[1])
            }
        };
        let rel = if se == 0.0 {
            0.0
        } else if es == 0.0 {
            f64::INFINITY
        } else {
            se / es.abs()
        };
        worst = worst.max(rel);
    }
    worst
}

/// Runs each plan in blocks of [`TARGET_BLOCK`] trials until [`es_99_net_rel_error`] is at most
/// the target or `max_trials` is reached (the last block is cut to it).
pub fn run_to_target(
    plans: &[(Plan, String)],
    calendar: &Calendar,
    seed: u64,
    target: TargetError,
    progress: &(dyn Fn(&str, u64) + Sync),
) -> Result<(RunResult, Vec<TargetReached>), Error> {
    let mut scenarios = Vec::with_capacity(plans.len());
    let mut reached = Vec::with_capacity(plans.len());
    let mut most = 0;
    for (plan, description) in plans {
        let mut out: Option<Outcomes> = None;
        let (trials, rel_error) = loop {
            let done = out.as_ref().map_or(0, |o| o.trials as u64);
            let next = (done + TARGET_BLOCK).min(target.max_trials);
            let block = run_trials(plan, seed, done..next, &|n| progress(&plan.scenario, n));
            match &mut out {
                None => out = Some(block),
                Some(o) => o.extend(&block),
            }
            let o = out.as_ref().expect("set above");
            let rel = es_99_net_rel_error(plan, o);
            if rel <= target.rel_error || next >= target.max_trials {
                break (next, rel);
            }
        };
        most = most.max(trials);
        reached.push(TargetReached {
            scenario: plan.scenario.clone(),
            trials,
            rel_error,
            reached: rel_error <= target.rel_error,
        });
        scenarios.push(summarize(plan, calendar, description, seed, out.as_ref().expect("at least one block"))?);
    }
    Ok((RunResult { trials: most, seed, scenarios, tail_shift: tail_shift(plans) }, reached))
}

/// The measures of [`PolicyResult::scenario_measures`] the scenario has, from its outcome rows.
fn scenario_measures(
    plan: &Plan,
    w: crate::stats::Weights,
    column: &dyn Fn(usize) -> Vec<i64>,
) -> Vec<(&'static str, MeasureStats)> {
    let n = column(0).len();
    let mut out = Vec::new();
    if plan.collections.is_some() {
        out.push(("overdue_write_off", w.stats(&column(2))));
    }
    if plan.cash.is_some() && plan.lateness.as_ref().is_some_and(|l| l.agency.is_some()) {
        out.push(("collection_fees", w.stats(&column(3))));
    }
    if plan.cash.is_some() && plan.discount_ppb > 0 {
        out.push(("discount_cost", w.stats(&column(4))));
    }
    if let Some(lost) = plan.terms_lost_sales {
        // Planned, not drawn: the same in every trial.
        out.push(("terms_lost_sales", w.stats(&vec![lost; n])));
        if let Some(cash) = &plan.cash {
            let margin = lost - crate::money::apply_ppb(lost, cash.variable_cost_ppb);
            out.push(("terms_lost_margin", w.stats(&vec![margin; n])));
        }
    }
    if plan.disputes.is_some() {
        out.push(("dilution_loss", w.stats(&column(plan.disputes_at()))));
    }
    out
}

/// Reduces a scenario's outcome rows to statistics per policy and measure, and its risk
/// contributions (replaying the tail trials under `seed`). Under tail sampling every statistic is
/// weighted by the trials' likelihood ratios.
pub fn summarize(
    plan: &Plan,
    calendar: &Calendar,
    description: &str,
    seed: u64,
    out: &Outcomes,
) -> Result<ScenarioResult, Error> {
    use rayon::prelude::*;
    let n = out.trials;
    let w = out.weighting();
    let column = |c: usize| -> Vec<i64> { (0..n).map(|i| out.row(i)[c]).collect() };
    let gross = column(0);
    let reserve = plan.cash.as_ref().and_then(|c| c.bad_debt_reserve);
    let above = |net: &[i64]| reserve.map(|r| w.share(n, |i| net[i] > r));
    let gross_stats = w.stats(&gross);
    let scenario_measures = scenario_measures(plan, w, &column);
    // The loss borne without insurance: the credit loss and the write-off.
    let (borne, borne_stats) = if plan.collections.is_some() {
        let borne: Vec<i64> = (0..n).map(|i| crate::engine::net_loss(out.row(i), 0)).collect();
        let stats = w.stats(&borne);
        (borne, stats)
    } else {
        (gross.clone(), gross_stats.clone())
    };
    let none_cash = cash_stats(plan, out, 0);
    let none = PolicyResult {
        name: NO_POLICY.into(),
        annual_premium: 0,
        premium: 0,
        max_liability: 0,
        insured_turnover: 0,
        measures: [gross_stats.clone(), w.stats(&vec![0; n]), borne_stats.clone(), borne_stats.clone()],
        p_net_above_reserve: above(&borne),
        p_pays_back: None,
        cash: none_cash.as_ref().map(|c| c.0.clone()),
        scenario_measures: scenario_measures.clone(),
        paired: None,
    };
    let months = calendar.horizon_months();
    let per_policy: Vec<PolicyTrials> = plan
        .policies
        .par_iter()
        .enumerate()
        .map(|(p, pol)| -> Result<PolicyTrials, Error> {
            let claims = column(crate::plan::RowLayout::claims(p));
            let net: Vec<i64> = (0..n).map(|i| crate::engine::net_loss(out.row(i), p + 1)).collect();
            let total: Vec<i64> = net.iter().map(|x| x + pol.premium).collect();
            let (net_stats, total_stats) = (w.stats(&net), w.stats(&total));
            let cash = cash_stats(plan, out, p + 1);
            let tail = crate::stats::TAIL_LEVELS[1];
            let total_cost_vs_none = PairedAmount {
                diff: total_stats.mean - borne_stats.mean,
                std_error: paired::mean_diff_std_error(w, n, |i| total[i] - borne[i]),
            };
            let benefit_sum = borne_stats.sum - net_stats.sum;
            let break_even = BreakEven::new(benefit_sum, n as u64, months, pol, total_cost_vs_none.std_error)?;
            let vs_none = Paired {
                total_cost_vs_none,
                es_99_net_loss_reduction: PairedAmount {
                    diff: borne_stats.es[1] - net_stats.es[1],
                    std_error: paired::es_diff_std_error(w, tail, &borne, borne_stats.var[1], &net, net_stats.var[1]),
                },
                p_shortfall_vs_none: match (&none_cash, &cash) {
                    (Some((a, a_peak)), Some((b, b_peak))) => Some(PairedShare {
                        diff: b.peak_shortfall.p_positive - a.peak_shortfall.p_positive,
                        std_error: paired::share_diff_std_error(w, n, |i| b_peak[i] > 0, |i| a_peak[i] > 0),
                    }),
                    _ => None,
                },
                break_even,
            };
            let result = PolicyResult {
                name: pol.name.clone(),
                annual_premium: pol.annual_premium,
                premium: pol.premium,
                max_liability: pol.max_liability,
                insured_turnover: pol.insured_turnover,
                measures: [gross_stats.clone(), w.stats(&claims), net_stats, total_stats],
                p_net_above_reserve: above(&net),
                p_pays_back: Some(w.share(n, |i| borne[i] - net[i] >= pol.premium).p),
                cash: None,
                scenario_measures: {
                    let mut m = scenario_measures.clone();
                    if plan.disputes.is_some() {
                        m.push(("disputed_excluded", w.stats(&column(plan.layout().refused(p)))));
                    }
                    m
                },
                paired: Some(vs_none),
            };
            let (cash, peak) = cash.map_or((None, None), |(c, peak)| (Some(c), Some(peak)));
            Ok((PolicyResult { cash, ..result }, net, peak))
        })
        .collect::<Result<_, _>>()?;
    let policy_pairs = policy_pairs(w, &per_policy);
    let months = match &plan.cash {
        None => Vec::new(),
        Some(cash) => {
            let h = cash.months;
            let (recv_at, sales_at) = (plan.layout().receivables(), plan.layout().sales());
            let starts = calendar.month_starts();
            (0..h)
                .map(|k| MonthInfo {
                    start: calendar.date(starts[k]),
                    days: starts[k + 1] - starts[k],
                    baseline_receivables: cash.baseline.receivables[k],
                    baseline_sales: cash.baseline.sales[k],
                    receivables_sum: w.sum(n, |i| out.row(i)[recv_at + k]),
                    sales_sum: w.sum(n, |i| out.row(i)[sales_at + k]),
                })
                .collect()
        }
    };
    let mut policies = vec![none];
    policies.extend(per_policy.into_iter().map(|(p, _, _)| p));
    Ok(ScenarioResult {
        name: plan.scenario.clone(),
        description: description.to_owned(),
        policies,
        defaults: w.stats(&column(1)),
        months,
        contributions: contributions(plan, seed, out)?,
        shortfall_contributions: crate::run::shortfall::shortfall_contributions(plan, seed, out)?,
        retreat: crate::run::retreat::summarize(plan, out),
        bad_debt_reserve: reserve,
        policy_pairs,
    })
}

/// A policy's result with its per-trial net loss and (with a cash side) peak shortfall, kept
/// until the policies are paired.
type PolicyTrials = (PolicyResult, Vec<i64>, Option<Vec<i64>>);

/// Every policy against every later one of the file ([`PolicyPair`]), from each policy's result,
/// per-trial net loss and (with a cash side) per-trial peak shortfall.
fn policy_pairs(w: Weights<'_>, per_policy: &[PolicyTrials]) -> Vec<PolicyPair> {
    let tail = crate::stats::TAIL_LEVELS[1];
    let (cost, es) = (Measure::TotalCost as usize, Measure::NetLoss as usize);
    let mut pairs = Vec::new();
    for (a, (pa, net_a, peak_a)) in per_policy.iter().enumerate() {
        for (b, (pb, net_b, peak_b)) in per_policy.iter().enumerate().skip(a + 1) {
            let n = net_a.len();
            let premium = pb.premium - pa.premium;
            pairs.push(PolicyPair {
                a: a + 1,
                b: b + 1,
                total_cost: PairedAmount {
                    diff: pb.measures[cost].mean - pa.measures[cost].mean,
                    std_error: paired::mean_diff_std_error(w, n, |i| net_b[i] - net_a[i] + premium),
                },
                es_99_net_loss: PairedAmount {
                    diff: pb.measures[es].es[1] - pa.measures[es].es[1],
                    std_error: paired::es_diff_std_error(
                        w,
                        tail,
                        net_b,
                        pb.measures[es].var[1],
                        net_a,
                        pa.measures[es].var[1],
                    ),
                },
                p_shortfall: match (peak_a, peak_b, &pa.cash, &pb.cash) {
                    (Some(x), Some(y), Some(ca), Some(cb)) => Some(PairedShare {
                        diff: cb.peak_shortfall.p_positive - ca.peak_shortfall.p_positive,
                        std_error: paired::share_diff_std_error(w, n, |i| y[i] > 0, |i| x[i] > 0),
                    }),
                    _ => None,
                },
            });
        }
    }
    pairs
}

/// Cash statistics of alternative `q` (0 = "none", then the policies), with each trial's peak
/// shortfall.
fn cash_stats(plan: &Plan, out: &Outcomes, q: usize) -> Option<(PolicyCash, Vec<i64>)> {
    let cash = plan.cash.as_ref()?;
    let (n, h) = (out.trials, cash.months);
    let w = out.weighting();
    let at = plan.layout().cash(q);
    // The borrowing base of "none" in the same trial, for the paired differences.
    let none_at = plan.layout().cash(0);
    let mut peak = vec![0i64; n];
    // First month with a shortfall per trial (h: none).
    let mut first = vec![h; n];
    for (i, peak) in peak.iter_mut().enumerate() {
        let row = &out.row(i)[at..at + 2 * h];
        for k in 0..h {
            let s = cash.shortfall(row[k], row[h + k]);
            if s > 0 && first[i] == h {
                first[i] = k;
            }
            *peak = (*peak).max(s);
        }
    }
    let mut baseline_cash = vec![0; h];
    let mut baseline_base = vec![0; h];
    cash.path(&cash.baseline, q.checked_sub(1), &mut baseline_cash, &mut baseline_base);
    let months = (0..h)
        .map(|k| {
            let values: Vec<i64> = (0..n).map(|i| out.row(i)[at + k]).collect();
            let short = |i: usize| cash.shortfall(values[i], out.row(i)[at + h + k]) > 0;
            let facility = |i: usize, from: usize| cash.credit_line.min(out.row(i)[from + h + k]);
            let (shortfall, first_shortfall) = (w.share(n, short), w.share(n, |i| first[i] == k));
            // One sort gives the quantiles and their order-statistic intervals (unweighted); the
            // weighted quantiles have no such interval.
            let (quantiles, quantile_errors) = match w {
                crate::stats::weighted::Weights::Equal => {
                    let mut sorted = values.clone();
                    sorted.sort_unstable();
                    let ci = |l| crate::stats::quantile_std_error(crate::stats::quantile_ci_sorted(&sorted, l));
                    (CASH_LEVELS.map(|l| crate::stats::quantile_sorted(&sorted, l)), Some(CASH_LEVELS.map(ci)))
                }
                crate::stats::weighted::Weights::Likelihood(_) => (w.quantiles(&values, CASH_LEVELS), None),
            };
            MonthCash {
                baseline_cash: baseline_cash[k],
                mean_cash: w.mean(n, |i| values[i]),
                mean_cash_std_error: mean_std_error(&w, &values),
                cash_quantiles: quantiles,
                cash_quantile_std_errors: quantile_errors,
                p_shortfall: shortfall.p,
                p_shortfall_std_error: shortfall.std_error,
                p_first_shortfall: first_shortfall.p,
                p_first_shortfall_std_error: first_shortfall.std_error,
                baseline_borrowing_base: baseline_base[k],
                mean_borrowing_base: w.mean(n, |i| out.row(i)[at + h + k]),
                mean_facility: w.mean(n, |i| facility(i, at)),
                p_line_binds: w.share(n, |i| out.row(i)[at + h + k] >= cash.credit_line).p,
                extra_borrowing_base: (q > 0)
                    .then(|| paired_mean(&w, n, |i| out.row(i)[at + h + k] - out.row(i)[none_at + h + k])),
                extra_facility: (q > 0).then(|| paired_mean(&w, n, |i| facility(i, at) - facility(i, none_at))),
            }
        })
        .collect();
    Some((PolicyCash { peak_shortfall: w.stats(&peak), months }, peak))
}

/// Standard error of the (weighted) mean of `values`: the standard deviation of the per-trial
/// terms `wᵢ·vᵢ` (weights in units of one trial) over √N, the estimator being their plain mean.
fn mean_std_error(w: &crate::stats::weighted::Weights, values: &[i64]) -> f64 {
    std_error_of(w, values.len(), |i| values[i])
}

/// The (weighted) mean of a per-trial difference, with its standard error: the paired estimate.
fn paired_mean(w: &crate::stats::weighted::Weights, n: usize, difference: impl Fn(usize) -> i64) -> (i128, f64) {
    (w.mean(n, &difference), std_error_of(w, n, difference))
}

/// Standard error of the (weighted) mean of `value(i)` over `n` trials.
fn std_error_of(w: &crate::stats::weighted::Weights, n: usize, value: impl Fn(usize) -> i64) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let u = w.unit() as f64;
    let term = |i: usize| w.weight(i) as f64 / u * value(i) as f64;
    let mean = (0..n).map(term).sum::<f64>() / n as f64;
    let var = (0..n).map(|i| (term(i) - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (var / n as f64).sqrt()
}

/// Levels of the month-end cash fan: 5%, 50%, 95%.
pub const CASH_LEVELS: [Level; 3] = [
    Level { num: 5, den: 100, label: "0.05" },
    Level { num: 50, den: 100, label: "0.5" },
    Level { num: 95, den: 100, label: "0.95" },
];
