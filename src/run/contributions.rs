//! Risk contributions (SPEC §6, §3.1.1): how much of the expected loss and of ES 99 each buyer
//! bears, gross and net of each policy.
//!
//! Expected-loss contributions come from per-buyer sums kept during the run (memory grows with
//! buyers, not trials). ES contributions are means over the tail set of §3.1.1, so the tail
//! trials are found from the outcome rows and **replayed** from their keys `(seed, trial)` to get
//! their per-buyer losses. Sums are exact cents; the printed contributions are rounded so that
//! they add up exactly to the reported totals ([`apportion`]).
//!
//! Each contribution carries its Monte Carlo standard error (docs/model.md, "Standard errors of
//! contributions"). The expected-loss error needs, per key of every dimension (buyer, sector,
//! country, group), the sum over trials of the square of the key's loss in the trial: a sum of
//! squares per buyer would not give a sector's (the variance of a sum is not the sum of the
//! variances), so each trial's per-key totals are formed in a small scratch ([`TrialKeys`]) and
//! their squares added to exact integer sums ([`BuyerSums::squares`]), which merge across threads
//! and shards in any order. The ES error uses the tail trials already replayed.

pub use crate::engine::buyer_sums::{BuyerSums, TrialKeys};
use crate::engine::{Outcomes, Scratch};
use crate::error::Error;
use crate::plan::Plan;
pub use crate::plan::keys::{DIMENSIONS, KeyIndex, dimension_labels};
use crate::stats::weighted::{tail_mass, weighted_tail_with};
use crate::stats::{
    Level, TAIL_LEVELS, Weights, centred_squares_of_sums, mean_std_error_of, tail_term_std_error, weighted_square,
};
use rayon::prelude::*;

/// The level of the ES contributions: 99%.
pub const CONTRIBUTION_LEVEL: Level = TAIL_LEVELS[1];

/// Per-key sums over the tail set of one alternative, for the ES contributions and their
/// errors: each tail trial enters with the part `p` of its weight in the tail (1 without tail
/// sampling), `D` the key's loss in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailSums {
    /// Per key: `Σ p·D` (ES contribution × tail mass).
    pub sum: Vec<i128>,
    /// Per key: `Σ (p·D)² / unit²` ([`weighted_square`]).
    pub sum_sq: Vec<i128>,
    /// Per key: `Σ (p² / unit)·D`.
    pub cross: Vec<i128>,
    /// Per key: `Σ p·D` over the tail trials nearest the VaR ([`near_var`]).
    pub near: Vec<i128>,
    /// `Σ p² / unit` over the tail trials.
    pub p2: i128,
    /// `Σ p` over the tail trials nearest the VaR.
    pub near_mass: u128,
}

impl TailSums {
    fn new(keys: usize) -> Self {
        TailSums {
            sum: vec![0; keys],
            sum_sq: vec![0; keys],
            cross: vec![0; keys],
            near: vec![0; keys],
            p2: 0,
            near_mass: 0,
        }
    }

    fn merge(&mut self, other: TailSums) {
        for (a, b) in [
            (&mut self.sum, other.sum),
            (&mut self.sum_sq, other.sum_sq),
            (&mut self.cross, other.cross),
            (&mut self.near, other.near),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        self.p2 += other.p2;
        self.near_mass += other.near_mass;
    }
}

/// The contributions of one alternative: "none" (gross loss) or a policy (net loss). Under tail
/// sampling every sum is weighted by the trials' likelihood ratios.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlternativeContributions {
    /// Per buyer, the sum of its losses over all trials (expected loss × `expected_divisor`).
    pub expected_sum: Vec<i128>,
    /// Per buyer, the sum of its losses over the tail set at 99% (ES 99 × `tail_divisor`).
    pub tail_sum: Vec<i128>,
    /// Trials × weight unit.
    pub expected_divisor: u64,
    /// Tail size × weight unit (the tail mass under tail sampling).
    pub tail_divisor: u64,
    /// Per key ([`KeyIndex`]), `Σ (w·loss)² / unit²` over all trials.
    pub expected_sq: Vec<i128>,
    /// Per key, the sums over the tail set.
    pub tail: TailSums,
    /// Number of trials.
    pub trials: usize,
    /// Weight unit (1, or [`crate::stats::WEIGHT_UNIT`] under tail sampling).
    pub unit: u64,
}

impl AlternativeContributions {
    /// Standard error of the expected-loss contribution of `key`, whose loss sum over all trials
    /// is `sum` (the sum of its buyers' `expected_sum`): the error of a mean of summary.csv
    /// applied to the key's per-trial loss.
    pub fn expected_std_error(&self, key: usize, sum: i128) -> f64 {
        let count = self.trials as i128 * self.unit as i128;
        mean_std_error_of(centred_squares_of_sums(sum, self.expected_sq[key], count, self.unit), self.trials)
    }

    /// Standard error of the ES 99 contribution of `key` (Hong and Liu 2009): with
    /// `z_i = (p_i / unit)·(D_i − m)` on the tail trials and 0 elsewhere, `m` the key's mean loss
    /// in the tail trials nearest the VaR (an estimate of `E[D | L = VaR]`), the error is
    /// `sd(z) / (√N·(1 − α))` ([`tail_term_std_error`]); without weights
    /// `≈ √((Var(D | tail) + α·(c − m)²) / (N·(1 − α)))`, `c` the contribution.
    pub fn es_std_error(&self, key: usize) -> f64 {
        let t = &self.tail;
        if t.p2 <= 0 || t.near_mass == 0 {
            return 0.0;
        }
        let u = self.unit as f64;
        // Σ v·(D − c′)² with v = (p/unit)², c′ = Σ v·D / Σ v: exact cancellation in integers.
        let centred = centred_squares_of_sums(t.cross[key], t.sum_sq[key], t.p2, self.unit);
        let c_v = t.cross[key] as f64 / t.p2 as f64;
        let m = t.near[key] as f64 / t.near_mass as f64;
        let sum_sq = centred + t.p2 as f64 / u * (c_v - m).powi(2);
        let sum = (t.sum[key] as f64 - m * self.tail_divisor as f64) / u;
        tail_term_std_error(self.trials, CONTRIBUTION_LEVEL, sum, sum_sq)
    }
}

/// The contributions of one scenario: "none" first, then the policies in plan order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioContributions {
    pub alternatives: Vec<AlternativeContributions>,
}

/// The tail set of §3.1.1: indices of the `k` largest values, among equal values the lower index
/// first. Returned in increasing index order.
pub fn tail_set(values: &[i64], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    if k == 0 {
        return Vec::new();
    }
    if k < idx.len() {
        let key = |&i: &usize| (std::cmp::Reverse(values[i]), i);
        idx.select_nth_unstable_by_key(k - 1, key);
        idx.truncate(k);
    }
    idx.sort_unstable();
    idx
}

/// The weighted tail set at `level`: trials from the largest value down (ties by index) until the
/// tail mass is reached, each with the weight it enters with (the last one possibly a part).
/// With equal weights, the tail set of §3.1.1 with weight 1 each. Sorted by trial index.
pub fn weighted_tail_set(values: &[i64], weights: Weights<'_>, level: Level) -> (Vec<(usize, u64)>, u128) {
    let need = tail_mass(values.len(), level, weights.unit());
    if let Weights::Equal = weights {
        let set = tail_set(values, need as usize);
        return (set.into_iter().map(|i| (i, 1)).collect(), need);
    }
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_unstable_by_key(|&i| (std::cmp::Reverse(values[i]), i));
    let mut set = Vec::new();
    let (_, mass) = weighted_tail_with(order.iter().map(|&i| (values[i], weights.weight(i))), need, |j, part| {
        set.push((order[j], part))
    });
    set.sort_unstable();
    (set, mass)
}

/// The tail trials nearest the VaR: the lowest-ranked tenth (at least one) of a tail set
/// (`set`: trial and part, by trial), ranked by value then trial index as in [`weighted_tail_set`].
/// Sorted by trial index.
pub fn near_var(values: &[i64], set: &[(usize, u64)]) -> Vec<usize> {
    if set.is_empty() {
        return Vec::new();
    }
    let mut order: Vec<usize> = set.iter().map(|e| e.0).collect();
    // Lowest rank first: the smallest value, among equal values the highest index.
    order.sort_unstable_by_key(|&i| (values[i], std::cmp::Reverse(i)));
    order.truncate(set.len().div_ceil(10).max(1));
    order.sort_unstable();
    order
}

/// Computes the contributions of a scenario from its outcomes, replaying its tail trials under
/// `seed` on the current rayon pool. A replayed trial that does not reproduce its stored row (or
/// weight) is an error: the outcomes came from another build or math library.
pub fn contributions(plan: &Plan, seed: u64, out: &Outcomes) -> Result<ScenarioContributions, Error> {
    let n = out.trials;
    let alternatives = 1 + plan.n_policies();
    let weights = out.weighting();
    let unit = weights.unit();
    let n_keys = plan.keys.len();
    // Each alternative's tail set: (trial, weight in the tail), by trial; and its trials nearest
    // the VaR.
    let mut values = vec![0i64; n];
    let mut sets = Vec::with_capacity(alternatives);
    let mut nears = Vec::with_capacity(alternatives);
    let mut masses = Vec::with_capacity(alternatives);
    for q in 0..alternatives {
        for (i, v) in values.iter_mut().enumerate() {
            *v = crate::engine::net_loss(out.row(i), q);
        }
        let (set, mass) = weighted_tail_set(&values, weights, CONTRIBUTION_LEVEL);
        nears.push(near_var(&values, &set));
        sets.push(set);
        masses.push(mass);
    }
    let in_tail = |q: usize, i: usize| -> Option<u64> {
        let set: &Vec<(usize, u64)> = &sets[q];
        set.binary_search_by_key(&i, |e| e.0).ok().map(|j| set[j].1)
    };
    let mut replay: Vec<usize> = sets.iter().flatten().map(|e| e.0).collect();
    replay.sort_unstable();
    replay.dedup();
    let empty = || (0..alternatives).map(|_| TailSums::new(n_keys)).collect::<Vec<_>>();
    // One chunk per thread: each holds per-key tail sums (memory grows with keys).
    let chunk = replay.len().div_ceil(rayon::current_num_threads()).max(1);
    let tails = replay
        .par_chunks(chunk)
        .map(|chunk| -> Result<Vec<TailSums>, Error> {
            let mut scratch = Scratch::new(plan);
            let mut row = vec![0i64; plan.row_width()];
            let mut keys = TrialKeys::new(plan);
            let mut tails = empty();
            // Per alternative: the trial's part in the tail, `p²/unit`, and whether it is near the VaR.
            let mut parts: Vec<Option<(i128, i128, bool)>> = vec![None; alternatives];
            for &i in chunk {
                crate::engine::replay_trial(plan, seed, out, i, &mut scratch, &mut row, "the contributions")?;
                for (q, part) in parts.iter_mut().enumerate() {
                    *part = in_tail(q, i).map(|p| {
                        let p2 = ((p as u128 * p as u128 + unit as u128 / 2) / unit as u128) as i128;
                        (p as i128, p2, nears[q].binary_search(&i).is_ok())
                    });
                    if let Some((p, p2, near)) = *part {
                        tails[q].p2 += p2;
                        if near {
                            tails[q].near_mass += p as u128;
                        }
                    }
                }
                keys.collect(plan, &scratch);
                keys.drain(|k, loss| {
                    for (q, t) in tails.iter_mut().enumerate() {
                        if let Some((p, p2, near)) = parts[q] {
                            let d = loss(q) as i128;
                            t.sum[k] += p * d;
                            t.sum_sq[k] += weighted_square(p * d, unit);
                            t.cross[k] += p2.saturating_mul(d);
                            if near {
                                t.near[k] += p * d;
                            }
                        }
                    }
                });
            }
            Ok(tails)
        })
        .try_reduce(empty, |mut a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                x.merge(y);
            }
            Ok(a)
        })?;
    Ok(ScenarioContributions {
        alternatives: tails
            .into_iter()
            .enumerate()
            .map(|(q, tail)| AlternativeContributions {
                expected_sum: out.buyer_sums.losses(q),
                // Buyers are the first keys.
                tail_sum: tail.sum[..plan.n_buyers].to_vec(),
                expected_divisor: n as u64 * unit,
                tail_divisor: masses[q] as u64,
                expected_sq: out.buyer_sums.squares[q * n_keys..(q + 1) * n_keys].to_vec(),
                tail,
                trials: n,
                unit,
            })
            .collect(),
    })
}

/// Divides each of `sums` by `divisor` in whole cents so that the parts add up exactly to the
/// total's quotient rounded half-to-even ([`crate::money::mean_cents`]): every part is rounded
/// down, then the cents still missing go to the largest remainders (ties: lower index first).
pub fn apportion(sums: &[i128], divisor: u64) -> Vec<i128> {
    if divisor == 0 {
        return vec![0; sums.len()];
    }
    let d = divisor as i128;
    let mut parts: Vec<i128> = sums.iter().map(|s| s.div_euclid(d)).collect();
    let target = crate::money::mean_cents(sums.iter().sum(), divisor);
    let missing = (target - parts.iter().sum::<i128>()) as usize;
    if missing > 0 {
        let mut order: Vec<usize> = (0..sums.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(sums[i].rem_euclid(d)), i));
        for &i in order.iter().take(missing) {
            parts[i] += 1;
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_set_prefers_lower_indices_among_ties() {
        let v = [5, 9, 7, 9, 7, 1];
        assert_eq!(tail_set(&v, 2), vec![1, 3]);
        assert_eq!(tail_set(&v, 3), vec![1, 2, 3]);
        assert_eq!(tail_set(&v, 6), vec![0, 1, 2, 3, 4, 5]);
        assert!(tail_set(&v, 0).is_empty());
    }

    #[test]
    fn apportioned_parts_add_up_to_the_rounded_total() {
        // 10/3 + 10/3 + 10/3 = 10 exactly; each part 3.33 → 3, 3, 4 (one missing cent).
        assert_eq!(apportion(&[10, 10, 10], 3), vec![4, 3, 3]);
        // Negative parts round down too: −7/2 = −3.5 → −4, 9/2 = 4.5 → 4; total 1 → the larger remainder gets it.
        assert_eq!(apportion(&[-7, 9], 2), vec![-3, 4]);
        let sums = [123_456_789i128, -5, 77, 1_000_001, 3];
        for d in [1u64, 7, 1000, 99_999] {
            let parts = apportion(&sums, d);
            assert_eq!(parts.iter().sum::<i128>(), crate::money::mean_cents(sums.iter().sum(), d));
        }
    }
}
