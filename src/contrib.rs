//! Risk contributions (SPEC §6, §3.1.1): how much of the expected loss and of ES 99 each buyer
//! bears, gross and net of each policy.
//!
//! Expected-loss contributions come from per-buyer sums kept during the run (memory grows with
//! buyers, not trials). ES contributions are means over the tail set of §3.1.1, so the tail
//! trials are found from the outcome rows and **replayed** from their keys `(seed, trial)` to get
//! their per-buyer losses. Sums are exact cents; the printed contributions are rounded so that
//! they add up exactly to the reported totals ([`apportion`]).

use crate::engine::{Outcomes, Scratch};
use crate::error::Error;
use crate::plan::Plan;
use crate::stats::weighted::{tail_mass, weighted_tail_with};
use crate::stats::{Level, TAIL_LEVELS, Weights};
use rayon::prelude::*;

/// The level of the ES contributions: 99%.
pub const CONTRIBUTION_LEVEL: Level = TAIL_LEVELS[1];

/// Per-buyer loss sums over a set of trials: gross, and what each policy takes off it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuyerSums {
    pub n_buyers: usize,
    pub n_policies: usize,
    /// Gross loss per buyer.
    pub gross: Vec<i128>,
    /// Claims paid less the insurer's recovery share, per policy and buyer (`p · n + b`).
    pub ceded: Vec<i128>,
}

impl BuyerSums {
    pub fn new(n_buyers: usize, n_policies: usize) -> Self {
        BuyerSums { n_buyers, n_policies, gross: vec![0; n_buyers], ceded: vec![0; n_buyers * n_policies] }
    }

    /// Adds the per-buyer losses of the trial last run with `scratch`, times `weight`.
    #[inline]
    pub fn add_trial(&mut self, scratch: &Scratch, weight: u64) {
        let w = weight as i128;
        for e in scratch.events() {
            self.gross[e.buyer as usize] += (e.unpaid - e.recovery) as i128 * w;
        }
        for c in scratch.claim_log() {
            self.ceded[c.policy as usize * self.n_buyers + c.buyer as usize] += c.ceded as i128 * w;
        }
    }

    /// Adds another set of sums (over other trials).
    pub fn merge(&mut self, other: &BuyerSums) {
        for (a, b) in self.gross.iter_mut().zip(&other.gross) {
            *a += b;
        }
        for (a, b) in self.ceded.iter_mut().zip(&other.ceded) {
            *a += b;
        }
    }

    /// Loss of buyer `b` under alternative `q` (0 = no policy: gross; `p + 1`: net of policy `p`).
    pub fn loss(&self, q: usize, b: usize) -> i128 {
        match q {
            0 => self.gross[b],
            q => self.gross[b] - self.ceded[(q - 1) * self.n_buyers + b],
        }
    }

    /// Sums of alternative `q` for every buyer.
    pub fn losses(&self, q: usize) -> Vec<i128> {
        (0..self.n_buyers).map(|b| self.loss(q, b)).collect()
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
}

/// The contributions of one scenario: "none" first, then the policies in plan order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioContributions {
    pub alternatives: Vec<AlternativeContributions>,
}

/// Value of alternative `q` in an outcome row: gross loss, or net loss of policy `q − 1`.
pub fn row_loss(row: &[i64], q: usize) -> i64 {
    match q {
        0 => row[0],
        q => {
            let col = crate::engine::FIXED_COLUMNS + 2 * (q - 1);
            row[0] - row[col] + row[col + 1]
        }
    }
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

/// Computes the contributions of a scenario from its outcomes, replaying its tail trials under
/// `seed` on the current rayon pool. A replayed trial that does not reproduce its stored row (or
/// weight) is an error: the outcomes came from another build or math library.
pub fn contributions(plan: &Plan, seed: u64, out: &Outcomes) -> Result<ScenarioContributions, Error> {
    let n = out.trials;
    let alternatives = 1 + plan.n_policies();
    let weights = out.weighting();
    // Each alternative's tail set: (trial, weight in the tail), by trial.
    let mut values = vec![0i64; n];
    let mut sets = Vec::with_capacity(alternatives);
    let mut masses = Vec::with_capacity(alternatives);
    for q in 0..alternatives {
        for (i, v) in values.iter_mut().enumerate() {
            *v = row_loss(out.row(i), q);
        }
        let (set, mass) = weighted_tail_set(&values, weights, CONTRIBUTION_LEVEL);
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
    // One chunk per thread: each holds per-buyer tail sums (memory grows with buyers).
    let chunk = replay.len().div_ceil(rayon::current_num_threads()).max(1);
    let tails = replay
        .par_chunks(chunk)
        .map(|chunk| -> Result<Vec<Vec<i128>>, Error> {
            let mut scratch = Scratch::new(plan);
            let mut row = vec![0i64; plan.row_width()];
            let mut trial = BuyerSums::new(plan.n_buyers, plan.n_policies());
            let mut tails = vec![vec![0i128; plan.n_buyers]; alternatives];
            let mut touched = Vec::new();
            for &i in chunk {
                crate::engine::replay_trial(plan, seed, out, i, &mut scratch, &mut row, "the contributions")?;
                trial.add_trial(&scratch, 1);
                touched.clear();
                touched.extend(scratch.events().iter().map(|e| e.buyer));
                touched.extend(scratch.claim_log().iter().map(|c| c.buyer));
                touched.sort_unstable();
                touched.dedup();
                for (q, tail) in tails.iter_mut().enumerate() {
                    if let Some(part) = in_tail(q, i) {
                        for &b in &touched {
                            tail[b as usize] += trial.loss(q, b as usize) * part as i128;
                        }
                    }
                }
                for &b in &touched {
                    trial.gross[b as usize] = 0;
                    for p in 0..plan.n_policies() {
                        trial.ceded[p * plan.n_buyers + b as usize] = 0;
                    }
                }
            }
            Ok(tails)
        })
        .try_reduce(
            || vec![vec![0i128; plan.n_buyers]; alternatives],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    for (s, t) in x.iter_mut().zip(y) {
                        *s += t;
                    }
                }
                Ok(a)
            },
        )?;
    Ok(ScenarioContributions {
        alternatives: tails
            .into_iter()
            .enumerate()
            .map(|(q, tail_sum)| AlternativeContributions {
                expected_sum: out.buyer_sums.losses(q),
                tail_sum,
                expected_divisor: n as u64 * weights.unit(),
                tail_divisor: masses[q] as u64,
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
