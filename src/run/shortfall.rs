//! Shortfall attribution (issue 18 §3): which perils and buyers caused the missing cash.
//!
//! The measure is a trial's **peak shortfall** under an alternative ("none" or a policy): the
//! largest monthly `max(0, minimum_cash − cash − min(credit_line, borrowing base))`; its mean is
//! summary.csv's `peak_shortfall` mean. In each trial with a positive peak, at its worst month
//! `k*` (the first month reaching the peak), the peak is split over the buyers in proportion to
//! each buyer's **cash gap** up to `k*`: what its on-time path would have brought in by the end of
//! `k*` less what it did bring in under that alternative —
//! `Σ_{j ≤ k*} (on-time collections − collections − recoveries − claims received + insurer's
//! shares paid back + variable costs saved on the sales not made)` — positive gaps only. Each
//! buyer's gap carries its cause ([`Cause`]), so the same split gives the perils. A trial with a
//! positive peak and no positive gap (the outflows or the premium alone) goes to the residual
//! key "none of the buyers". The borrowing base is not attributed: the split is by cash gaps.
//!
//! The per-buyer paths are not kept during the run: the trials with a positive peak under any
//! alternative are **replayed** from their keys `(seed, trial)` (as [`crate::run::contributions`] does for
//! tail trials), and a replay that does not reproduce the stored row is an error. Each trial's
//! `weight × peak` is split over its buyers in exact integers (largest remainders), so the sums
//! per key add up exactly to the sum of the peaks, and [`crate::run::contributions::apportion`] turns them
//! into cents that add up to the reported mean to the cent.

use crate::engine::{Cause, Outcomes, Scratch, buyer_cash_effects};
use crate::error::Error;
use crate::money::apply_ppb;
use crate::plan::Plan;
use crate::stats::weighted_square;
use rayon::prelude::*;

/// The perils a shortfall is attributed to, in [`Cause`] order, then the residual.
pub const PERILS: [&str; 5] = ["default", "late_payment", "country_event", "limit_cut", RESIDUAL_KEY];

/// Key of the part of the shortfall no buyer's cash gap explains (outflows, premium).
pub const RESIDUAL_KEY: &str = "none_of_the_buyers";
/// Its name in the reports.
pub const RESIDUAL_NAME: &str = "none of the buyers (outflows, premium)";

/// Index of a cause in [`PERILS`].
fn peril_index(c: Cause) -> usize {
    match c {
        Cause::Default => 0,
        Cause::Late => 1,
        Cause::CountryEvent => 2,
        Cause::LimitCut => 3,
    }
}

/// The attribution of one alternative's mean peak shortfall. Every sum is over trials of
/// `weight × part of the peak` in cents × weight units; divided by `divisor` it is a contribution
/// to the mean peak shortfall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlternativeShortfall {
    /// Per buyer (plan order).
    pub buyer_sum: Vec<i128>,
    /// Per peril, in [`PERILS`] order (the last one the residual).
    pub peril_sum: [i128; 5],
    /// The part of trials with no positive cash gap (also in `peril_sum[4]`).
    pub residual_sum: i128,
    /// Trials × weight unit.
    pub divisor: u64,
    /// Per key of [`crate::run::contributions::KeyIndex`] (buyers, sectors, countries; groups unused): the
    /// sum over trials of the square of the key's part of the trial's peak, `(w·part)² / unit²`.
    pub key_sq: Vec<i128>,
    /// The same per peril.
    pub peril_sq: [i128; 5],
    /// The same for the residual.
    pub residual_sq: i128,
    /// Weight unit (1, or [`crate::stats::WEIGHT_UNIT`] under tail sampling).
    pub unit: u64,
}

impl AlternativeShortfall {
    /// Standard error of a contribution whose sum over the trials is `sum` and sum of squares
    /// `sum_sq`: the error of a mean of summary.csv applied to the per-trial contribution (0 in
    /// trials without a shortfall).
    pub fn std_error(&self, sum: i128, sum_sq: i128) -> f64 {
        let n = (self.divisor / self.unit.max(1)) as usize;
        crate::stats::mean_std_error_of(
            crate::stats::centred_squares_of_sums(sum, sum_sq, self.divisor as i128, self.unit),
            n,
        )
    }

    /// Sum over the trials of `weight × peak shortfall` (the buyers' and the residual's sums).
    pub fn total_sum(&self) -> i128 {
        self.buyer_sum.iter().sum::<i128>() + self.residual_sum
    }

    /// The mean peak shortfall in cents, rounded half-to-even (summary.csv's `peak_shortfall` mean).
    pub fn mean(&self) -> i128 {
        crate::money::mean_cents(self.total_sum(), self.divisor)
    }
}

/// Shortfall attribution of a scenario: "none" first, then the policies in plan order
/// (docs/model.md, "Shortfall attribution"; shortfall_contributions.csv).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortfallContributions {
    pub alternatives: Vec<AlternativeShortfall>,
}

/// Attributes every alternative's mean peak shortfall, replaying the trials with a shortfall under
/// `seed` on the current rayon pool. `None` without a cash section.
pub fn shortfall_contributions(
    plan: &Plan,
    seed: u64,
    out: &Outcomes,
) -> Result<Option<ShortfallContributions>, Error> {
    let Some(cash) = plan.cash.as_ref() else { return Ok(None) };
    let (n, h, np) = (out.trials, cash.months, plan.n_policies());
    let alternatives = 1 + np;
    let layout = plan.layout();
    let weights = out.weighting();
    // Peak shortfall and its first month, per alternative and trial.
    let peak_of = |i: usize, q: usize| -> (i64, usize) {
        let at = layout.cash(q);
        let row = &out.row(i)[at..at + 2 * h];
        let (mut peak, mut month) = (0i64, 0usize);
        for k in 0..h {
            let s = cash.shortfall(row[k], row[h + k]);
            if s > peak {
                peak = s;
                month = k;
            }
        }
        (peak, month)
    };
    let replay: Vec<usize> = (0..n).filter(|&i| (0..alternatives).any(|q| peak_of(i, q).0 > 0)).collect();
    let empty = || {
        (0..alternatives)
            .map(|_| AlternativeShortfall {
                buyer_sum: vec![0; plan.n_buyers],
                peril_sum: [0; 5],
                residual_sum: 0,
                divisor: n as u64 * weights.unit(),
                key_sq: vec![0; plan.keys.len()],
                peril_sq: [0; 5],
                residual_sq: 0,
                unit: weights.unit(),
            })
            .collect::<Vec<_>>()
    };
    let chunk = replay.len().div_ceil(rayon::current_num_threads()).max(1);
    let alts = replay
        .par_chunks(chunk)
        .map(|chunk| -> Result<Vec<AlternativeShortfall>, Error> {
            let mut acc = empty();
            let mut scratch = Scratch::traced(plan);
            let mut row = vec![0i64; plan.row_width()];
            // Per touched buyer: (buyer, cause, where its cumulative cash effect per month without
            // claims starts in `cums`): flat buffers reused over the trials.
            let mut effects: Vec<(u32, Cause, usize)> = Vec::new();
            let mut cums: Vec<i64> = Vec::new();
            let (mut weights_of_gaps, mut split_parts, mut order) = (Vec::new(), Vec::new(), Vec::new());
            let mut gaps: Vec<(u32, Cause, i128)> = Vec::new();
            // The trial's parts per key (sector and country keys of its buyers), for the squares.
            let mut parts: Vec<(u32, i128)> = Vec::new();
            let unit = weights.unit();
            for &i in chunk {
                crate::engine::replay_trial(plan, seed, out, i, &mut scratch, &mut row, "the shortfall attribution")?;
                effects.clear();
                cums.clear();
                buyer_cash_effects(plan, &mut scratch, |b, cause, d| {
                    effects.push((b, cause, cums.len()));
                    let mut c = 0i64;
                    for k in 0..h {
                        // Sales not made save their variable costs.
                        let ds = d.sales[k];
                        let saved = if ds < 0 {
                            apply_ppb(-ds, cash.variable_cost_ppb)
                        } else {
                            -apply_ppb(ds, cash.variable_cost_ppb)
                        };
                        c += d.collections[k] + d.recoveries[k] + saved;
                        cums.push(c);
                    }
                });
                effects.sort_unstable_by_key(|e| e.0);
                let w = weights.weight(i) as i128;
                for (q, alt) in acc.iter_mut().enumerate() {
                    let (peak, k) = peak_of(i, q);
                    if peak <= 0 {
                        continue;
                    }
                    gaps.clear();
                    for &(b, cause, at) in &effects {
                        gaps.push((b, cause, -(cums[at + k] as i128)));
                    }
                    if q > 0 {
                        for r in scratch.cash_log() {
                            if r.policy as usize == q - 1 && (r.month as usize) <= k {
                                match gaps.binary_search_by_key(&r.buyer, |g| g.0) {
                                    Ok(j) => gaps[j].2 -= r.amount as i128,
                                    // A claim of a buyer whose path is unchanged (none expected).
                                    Err(j) => gaps.insert(j, (r.buyer, Cause::Default, -(r.amount as i128))),
                                }
                            }
                        }
                    }
                    gaps.retain(|g| g.2 > 0);
                    let total = w * peak as i128;
                    if gaps.is_empty() {
                        let sq = weighted_square(total, unit);
                        alt.residual_sum += total;
                        alt.peril_sum[4] += total;
                        alt.residual_sq += sq;
                        alt.peril_sq[4] += sq;
                        continue;
                    }
                    weights_of_gaps.clear();
                    weights_of_gaps.extend(gaps.iter().map(|g| g.2));
                    split(total, &weights_of_gaps, &mut split_parts, &mut order);
                    let mut perils = [0i128; 5];
                    parts.clear();
                    for (&part, gap) in split_parts.iter().zip(&gaps) {
                        alt.buyer_sum[gap.0 as usize] += part;
                        alt.peril_sum[peril_index(gap.1)] += part;
                        perils[peril_index(gap.1)] += part;
                        let keys = &plan.keys.of_buyer[gap.0 as usize];
                        // One gap per buyer: the buyer's part is its per-trial total.
                        alt.key_sq[keys[0] as usize] += weighted_square(part, unit);
                        parts.extend([(keys[1], part), (keys[2], part)]);
                    }
                    parts.sort_unstable_by_key(|p| p.0);
                    for run in parts.chunk_by(|a, b| a.0 == b.0) {
                        alt.key_sq[run[0].0 as usize] += weighted_square(run.iter().map(|p| p.1).sum(), unit);
                    }
                    for (sq, p) in alt.peril_sq.iter_mut().zip(perils) {
                        *sq += weighted_square(p, unit);
                    }
                }
            }
            Ok(acc)
        })
        .try_reduce(empty, |mut a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                for (s, t) in x.buyer_sum.iter_mut().zip(y.buyer_sum) {
                    *s += t;
                }
                for (s, t) in x.peril_sum.iter_mut().zip(y.peril_sum) {
                    *s += t;
                }
                x.residual_sum += y.residual_sum;
                for (s, t) in x.key_sq.iter_mut().zip(y.key_sq) {
                    *s += t;
                }
                for (s, t) in x.peril_sq.iter_mut().zip(y.peril_sq) {
                    *s += t;
                }
                x.residual_sq += y.residual_sq;
            }
            Ok(a)
        })?;
    Ok(Some(ShortfallContributions { alternatives: alts }))
}

/// Splits `total ≥ 0` in proportion to the positive `weights` in exact integers into `parts`:
/// each part rounded down, the units still missing to the largest remainders (ties: lower index
/// first). One division per weight (the remainder by multiplication), and a partial selection of
/// the largest remainders instead of a sort: it runs for every alternative of every trial that
/// runs short. `order` is scratch.
fn split(total: i128, weights: &[i128], parts: &mut Vec<i128>, order: &mut Vec<(std::cmp::Reverse<i128>, usize)>) {
    parts.clear();
    let sum: i128 = weights.iter().sum();
    if sum <= 0 {
        parts.resize(weights.len(), 0);
        return;
    }
    // total × weight can exceed i128 only for absurd amounts; scale the weights down if needed.
    let shift = {
        let need = 128 - total.max(1).leading_zeros() as i32 + 128 - sum.leading_zeros() as i32;
        (need - 125).max(0) as u32
    };
    let scaled = |x: i128| x >> shift;
    let sum: i128 = weights.iter().map(|&x| scaled(x)).sum();
    if sum <= 0 {
        parts.resize(weights.len(), 0);
        parts[0] = total;
        return;
    }
    order.clear();
    for (j, &x) in weights.iter().enumerate() {
        let product = total * scaled(x);
        let q = product / sum;
        parts.push(q);
        order.push((std::cmp::Reverse(product - q * sum), j));
    }
    let missing = (total - parts.iter().sum::<i128>()) as usize;
    if missing > 0 {
        // The `missing` largest remainders (ties: lower index), in any order.
        if missing < order.len() {
            order.select_nth_unstable(missing - 1);
        }
        for &(_, j) in &order[..missing] {
            parts[j] += 1;
        }
    }
}

/// One line of the attribution of an alternative by a dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct ShortfallEntry {
    pub key: String,
    /// The buyer's name (buyer dimension), else empty.
    pub name: String,
    /// Contribution to the mean peak shortfall in cents.
    pub contribution: i128,
    /// Its Monte Carlo standard error in cents.
    pub std_error: f64,
    /// Its share of the mean peak shortfall (0 when the mean is 0).
    pub share: f64,
}

/// The dimensions of shortfall_contributions.csv.
pub const DIMENSIONS: [&str; 4] = ["peril", "buyer", "sector", "country"];

/// The entries of an alternative by `dimension` (`peril`, `buyer`, `sector`, `country`), rounded
/// so that they add up to the mean peak shortfall to the cent, largest first (ties by key). Every
/// peril is listed; other dimensions leave out keys contributing nothing. The residual ("none of
/// the buyers") is a key of every dimension. For the HTML page: take the first few.
pub fn entries(study: &crate::model::Study, alt: &AlternativeShortfall, dimension: &str) -> Vec<ShortfallEntry> {
    use std::collections::BTreeMap;
    let buyers = &study.portfolio.buyers;
    // Per key: (sum, sum of squares).
    let (keys, sums): (Vec<String>, Vec<(i128, i128)>) = if dimension == "peril" {
        (PERILS.iter().map(|p| (*p).to_owned()).collect(), alt.peril_sum.into_iter().zip(alt.peril_sq).collect())
    } else {
        let d = match dimension {
            "sector" => 1,
            "country" => 2,
            _ => 0,
        };
        let (index, names) = crate::run::contributions::KeyIndex::new(&study.portfolio);
        let (first, count) = index.dims[d];
        let mut key_sums = vec![0i128; count];
        for (b, s) in alt.buyer_sum.iter().enumerate() {
            key_sums[index.of_buyer[b][d] as usize - first] += s;
        }
        let mut by_key: BTreeMap<String, (i128, i128)> = names[d]
            .iter()
            .zip(key_sums)
            .enumerate()
            .map(|(j, (name, s))| (name.clone(), (s, alt.key_sq.get(first + j).copied().unwrap_or(0))))
            .collect();
        let r = by_key.entry(RESIDUAL_KEY.to_owned()).or_default();
        r.0 += alt.residual_sum;
        r.1 += alt.residual_sq;
        by_key.into_iter().unzip()
    };
    let parts = crate::run::contributions::apportion(&sums.iter().map(|s| s.0).collect::<Vec<_>>(), alt.divisor);
    let mean = alt.mean();
    let names: BTreeMap<&str, &str> = buyers.iter().map(|b| (b.id.as_str(), b.name.as_str())).collect();
    let mut rows: Vec<ShortfallEntry> = keys
        .into_iter()
        .zip(parts.into_iter().zip(sums))
        .filter(|(_, (c, _))| dimension == "peril" || *c != 0)
        .map(|(key, (contribution, (sum, sum_sq)))| {
            let name = if key == RESIDUAL_KEY {
                RESIDUAL_NAME.to_owned()
            } else if dimension == "buyer" {
                names.get(key.as_str()).copied().unwrap_or("").to_owned()
            } else {
                String::new()
            };
            let share = if mean == 0 { 0.0 } else { contribution as f64 / mean as f64 };
            ShortfallEntry { key, name, contribution, std_error: alt.std_error(sum, sum_sq), share }
        })
        .collect();
    rows.sort_by(|a, b| b.contribution.cmp(&a.contribution).then(a.key.cmp(&b.key)));
    rows
}

/// The `top` largest entries of an alternative by `dimension` (see [`entries`]).
pub fn top_entries(
    study: &crate::model::Study,
    alt: &AlternativeShortfall,
    dimension: &str,
    top: usize,
) -> Vec<ShortfallEntry> {
    let mut e = entries(study, alt, dimension);
    e.truncate(top);
    e
}

#[cfg(test)]
mod tests {
    #[test]
    fn split_adds_up_exactly() {
        let split = |total: i128, weights: &[i128]| {
            let (mut parts, mut order) = (Vec::new(), Vec::new());
            super::split(total, weights, &mut parts, &mut order);
            parts
        };
        assert_eq!(split(10, &[1, 1, 1]), vec![4, 3, 3]);
        assert_eq!(split(7, &[5]), vec![7]);
        assert_eq!(split(11, &[1, 1, 1, 1, 1, 1]), vec![2, 2, 2, 2, 2, 1]);
        assert_eq!(split(5, &[2, 1, 1]), vec![3, 1, 1]);
        let parts = split(1_000_003, &[3, 999, 17, 1]);
        assert_eq!(parts.iter().sum::<i128>(), 1_000_003);
        let big = split(i64::MAX as i128 * (1 << 32), &[i64::MAX as i128, 3, i64::MAX as i128 / 7]);
        assert_eq!(big.iter().sum::<i128>(), i64::MAX as i128 * (1 << 32));
    }
}
