//! The parallel driver: fixed blocks of trials over rayon, one outcome row per trial.

use super::buyer_sums::{BuyerSums, TrialKeys};
use super::kernel::{Scratch, run_trial};
use crate::engine::rng::TrialKey;
use crate::plan::Plan;
use rayon::prelude::*;
use std::ops::Range;

/// Trials per parallel work unit by default ([`crate::plan::Plan::trial_block`] sets it per run).
pub const BLOCK: usize = crate::plan::DEFAULT_TRIAL_BLOCK;

/// Per-trial outcome rows of one scenario, in trial order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcomes {
    pub first_trial: u64,
    pub trials: usize,
    pub n_policies: usize,
    /// Values per trial ([`Plan::row_width`]).
    pub width: usize,
    /// Row-major, one row per trial.
    pub data: Vec<i64>,
    /// Per-buyer loss sums over these trials (expected-loss contributions), weighted by
    /// [`Outcomes::weights`] under tail sampling.
    pub buyer_sums: BuyerSums,
    /// Likelihood-ratio weight of each trial (units of [`crate::plan::WEIGHT_UNIT`]) under tail
    /// sampling; `None`: every trial counts once.
    pub weights: Option<Vec<u64>>,
}

impl Outcomes {
    pub fn width(&self) -> usize {
        self.width
    }
    pub fn row(&self, i: usize) -> &[i64] {
        let w = self.width();
        &self.data[i * w..(i + 1) * w]
    }

    /// How the trials are weighted.
    pub fn weighting(&self) -> super::Weights<'_> {
        super::Weights::of(self.weights.as_deref())
    }

    /// Appends the trials of `more`, which follow these.
    pub fn extend(&mut self, more: &Outcomes) {
        self.data.extend_from_slice(&more.data);
        self.trials += more.trials;
        self.buyer_sums.merge(&more.buyer_sums);
        if let (Some(w), Some(m)) = (&mut self.weights, &more.weights) {
            w.extend_from_slice(m);
        }
    }
}

/// Runs trials `range` of `plan` under `seed` on the current rayon pool. `progress` is called with
/// the number of trials finished by each block.
pub fn run_trials(plan: &Plan, seed: u64, range: Range<u64>, progress: &(dyn Fn(u64) + Sync)) -> Outcomes {
    let trials = (range.end - range.start) as usize;
    let block = plan.trial_block.max(1);
    let width = plan.row_width();
    let mut data = vec![0i64; trials * width];
    let weighted = plan.tail_sampling.is_some();
    let mut weights = vec![0u64; trials];
    // A few contiguous groups of blocks per thread, each with one scratch and one set of
    // per-buyer sums (their memory grows with buyers, so not one per block). Integer sums: the
    // same whatever the grouping and the order of the merge.
    let blocks = trials.div_ceil(block).max(1);
    let groups = (2 * rayon::current_num_threads()).clamp(1, blocks);
    let per_group = blocks.div_ceil(groups) * block;
    let empty = || BuyerSums::of_plan(plan);
    let unit = if weighted { crate::plan::WEIGHT_UNIT } else { 1 };
    let buyer_sums = data
        .par_chunks_mut(per_group * width)
        .zip(weights.par_chunks_mut(per_group))
        .enumerate()
        .map(|(group, (rows, w))| {
            let mut scratch = Scratch::new(plan);
            let mut sums = empty();
            let mut keys = TrialKeys::new(plan);
            let first = range.start + (group * per_group) as u64;
            for (k, (rows, w)) in rows.chunks_mut(block * width).zip(w.chunks_mut(block)).enumerate() {
                let first = first + (k * block) as u64;
                for (i, row) in rows.chunks_mut(width).enumerate() {
                    w[i] = run_trial(plan, &TrialKey::new(seed, first + i as u64), &mut scratch, row);
                    // Without tail sampling every trial weighs one unit of 1.
                    sums.add_trial(plan, &scratch, if weighted { w[i] } else { 1 }, unit, &mut keys);
                }
                progress((rows.len() / width) as u64);
            }
            sums
        })
        .reduce(empty, |mut a, b| {
            a.merge(&b);
            a
        });
    Outcomes {
        first_trial: range.start,
        trials,
        n_policies: plan.n_policies(),
        width,
        data,
        buyer_sums,
        weights: weighted.then_some(weights),
    }
}

/// Replays stored trial `i` of `out` from its key `(seed, first_trial + i)` into `scratch` and
/// `row`, checking that it reproduces the stored row and weight: per-buyer figures (contributions,
/// the shortfall attribution) are read off the scratch of a replay, never stored for every trial.
/// `purpose` names what the replay is for in the error.
pub fn replay_trial(
    plan: &Plan,
    seed: u64,
    out: &Outcomes,
    i: usize,
    scratch: &mut Scratch,
    row: &mut [i64],
    purpose: &str,
) -> Result<u64, crate::error::Error> {
    let key = out.first_trial + i as u64;
    let weight = run_trial(plan, &TrialKey::new(seed, key), scratch, row);
    let same_weight = match out.weighting() {
        super::Weights::Likelihood(w) => weight == w[i],
        super::Weights::Equal => true,
    };
    if row != out.row(i) || !same_weight {
        return Err(crate::error::Error::Internal(format!(
            "scenario {:?}: replaying trial {key} for {purpose} does not reproduce its stored outcome; the outcomes \
             were produced by another build or math library (rerun every shard, or the run without --resume, with \
             this binary)",
            plan.scenario
        )));
    }
    Ok(weight)
}
